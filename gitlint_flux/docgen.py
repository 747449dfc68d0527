"""Generate docs/rules.md from the rules' docstrings: ``python -m gitlint_flux.docgen``."""

from __future__ import annotations

import sys

from .rules import all_rules


def rules_markdown() -> str:
    rules = all_rules()
    out = [
        "# Rules",
        "",
        "Generated from the rules' docstrings by `python -m gitlint_flux.docgen > docs/rules.md`;",
        "a test fails when this file is stale. `gitlint-flux explain CODE` prints the same text.",
        "",
        "| code | slug | default severity | summary |",
        "|---|---|---|---|",
    ]
    for r in rules.values():
        out.append(f"| [{r.code}](#{r.code.lower()}-{r.slug}) | `{r.slug}` | {r.severity} | {r.summary()} |")
    for r in rules.values():
        out += ["", f"## {r.code} {r.slug}", "", f"Default severity: **{r.severity}**.", "", r.summary(), ""]
        desc = r.description()
        if desc:
            out += [desc, ""]
        if r.options:
            out += ["Options:", ""]
            out += [f"- `{k}`: default `{v!r}`" for k, v in r.options.items()]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(rules_markdown())
