"""Generate docs/rules.md from the rules' docstrings: ``python -m gitlint_flux.docgen > docs/rules.md``.

Each docstring is parsed by ``gitlint_flux.ruledocs``: the summary goes into the table
and under the rule's heading, then the explanation and the fix, the options, and the
examples, each file of an example under its path.
"""

from __future__ import annotations

import sys

from . import ruledocs
from .rules import all_rules

INTRO = [
    "# Rules",
    "",
    "Generated from the rules' docstrings by `python -m gitlint_flux.docgen > docs/rules.md`;",
    "a test fails when this file is stale. `gitlint-flux explain CODE` prints the same text.",
    "",
    "Every example is a complete repository, and a test lints each one: a failing example",
    "gives a finding of its rule, a passing example gives none (and no error). Rules about",
    "what Flux applies only judge objects that a Flux root applies, so those examples",
    "include the same root, the `clusters/prod/flux-system/gotk-sync.yaml` that",
    "`flux bootstrap --path=clusters/prod` writes (shortened to its two objects): a",
    "GitRepository `flux-system` for this repository, and a Kustomization `flux-system` that",
    "applies `./clusters/prod`, every manifest under that directory included. An example's",
    "`.gitlint-flux.yaml`, when it has one, enables a rule of the strict profile or sets an",
    "option. The root, given in full in each docstring, is shown once here:",
    "",
    f"`{ruledocs.ROOT_PATH}`:",
    "",
    "```yaml",
    ruledocs.ROOT_TEXT.rstrip("\n"),
    "```",
    "",
]

SHARED_ROOT = "the [shared root](#rules)."


def _rule_section(r) -> list[str]:
    doc = ruledocs.parse(r.doc())
    out = ["", f"## {r.code} {r.slug}", "", f"Default severity: **{r.severity}**.", "", doc.summary, ""]
    if doc.why:
        out += [doc.why, ""]
    if doc.fix:
        sep = "\n" if doc.fix.startswith("```") else " "
        out += [f"{ruledocs.FIX}{sep}{doc.fix}", ""]
    if r.options:
        out += ["Options:", ""]
        out += [f"- `{k}` ({o.type}, default `{o.default!r}`): {o.doc}" for k, o in r.options.items()]
        out.append("")
    if doc.examples or doc.no_example is not None:
        out += [doc.examples_markdown(shared_root=SHARED_ROOT), ""]
    return out


def rules_markdown() -> str:
    rules = all_rules()
    out = list(INTRO) + [
        "| code | slug | default severity | summary |",
        "|---|---|---|---|",
    ]
    for r in rules.values():
        summary = ruledocs.parse(r.doc()).summary.replace("|", "\\|")
        out.append(f"| [{r.code}](#{r.code.lower()}-{r.slug}) | `{r.slug}` | {r.severity} | {summary} |")
    for r in rules.values():
        out += _rule_section(r)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(rules_markdown())
