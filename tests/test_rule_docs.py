"""Every rule's docstring follows the structure of ``gitlint_flux.ruledocs``, and its
examples are true: each failing example, linted, gives a finding of that rule; each
passing example gives none (and no error at all).

The upstream behaviour an example encodes is the one its rule's explanation states (and
sources); a failing example here means the linter and its documentation disagree: the
example is fixed when the doc was wrong, or listed in XFAIL with the upstream evidence
when the linter is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitlint_flux import ruledocs
from gitlint_flux.model import ERROR
from gitlint_flux.rules import all_rules

from conftest import lint

RULES = all_rules()

#: rules whose defect cannot be written as a text fixture; each declares
#: `Example: none (reason)` in its docstring
NO_EXAMPLE = {
    "FLX000": "a bug in a rule, not a property of a file",
    "FLX004": "binary or non-UTF-8 bytes cannot be written in a text docstring",
    "FLX006": "permissions are not part of a file's text",
}

#: (code, kind, index) -> why the linter disagrees with its documentation there
XFAIL: dict[tuple[str, str, int], str] = {}

#: (code, kind, index) -> the error findings a passing example is allowed to have, and why
PASSING_ERRORS: dict[tuple[str, str, int], tuple[set[str], str]] = {}


def _cases():
    for code, rule in RULES.items():
        try:
            doc = ruledocs.parse(rule.doc())
        except ruledocs.DocError:
            continue  # test_docstring_structure reports it
        for kind in ("failing", "passing"):
            for n, ex in enumerate(doc.of_kind(kind), 1):
                marks = []
                if (code, kind, n) in XFAIL:
                    marks.append(pytest.mark.xfail(reason=XFAIL[(code, kind, n)], strict=True))
                yield pytest.param(code, kind, n, ex, id=f"{code}-{kind}-{n}", marks=marks)


def write_example(root: Path, ex: ruledocs.Example) -> Path:
    for rel, text in ex.files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    if ex.config is not None:
        (root / ruledocs.CONFIG_FILE).write_text(ex.config, encoding="utf-8")
    return root


# ---------------------------------------------------------------- the parser


def test_parse_structure():
    doc = ruledocs.parse('''A summary that
    wraps over two lines.

    Why it matters.

    **Fix:** do this,
    then that.

    Failing:
    ```yaml
    a: 1
    ```
    Passing:
    ```yaml
    # file: k/kustomization.yaml
    resources: [a.yaml]
    # file: k/a.yaml
    b: 2

    # file: .gitlint-flux.yaml
    extends: strict
    ```
    ''')
    assert doc.summary == "A summary that wraps over two lines."
    assert doc.why == "Why it matters."
    assert doc.fix == "do this,\nthen that."
    assert doc.body.startswith("Why it matters.") and doc.body.endswith("then that.")
    assert [e.kind for e in doc.examples] == ["failing", "passing"]
    assert doc.examples[0].files == {"example.yaml": "a: 1\n"} and doc.examples[0].config is None
    assert doc.examples[1].files == {"k/kustomization.yaml": "resources: [a.yaml]\n", "k/a.yaml": "b: 2\n"}
    assert doc.examples[1].config == "extends: strict\n"
    assert doc.no_example is None


def test_parse_single_named_file_and_fence_in_fix():
    doc = ruledocs.parse('''Summary.

    Why.

    **Fix:**
    ```yaml
    Failing:
    ```

    Failing:
    ```yaml
    # file: apps/x.yaml
    x: 1
    ```
    ''')
    assert doc.fix == "```yaml\nFailing:\n```"  # a marker inside the fix's code block is text
    assert doc.examples[0].files == {"apps/x.yaml": "x: 1\n"}


def test_parse_example_none():
    doc = ruledocs.parse("Summary.\n\nWhy.\n\n**Fix:** fix.\n\nExample: none (it cannot\nbe written).\n")
    assert doc.no_example == "it cannot be written" and doc.examples == []
    assert doc.description().endswith("Example: none (it cannot be written).")


@pytest.mark.parametrize("text, error", [
    ("S.\n\nFailing:\nnot a block\n", "fenced"),
    ("S.\n\nFailing:\n```yaml\na: 1\n", "not closed"),
    ("S.\n\nFailing:\n```yaml\na: 1\n# file: b.yaml\nb: 2\n```\n", "must start with"),
    ("S.\n\nFailing:\n```yaml\n# file: ../b.yaml\nb: 2\n```\n", "relative path"),
    ("S.\n\nFailing:\n```yaml\n# file: b.yaml\nb: 1\n# file: b.yaml\nb: 2\n```\n", "twice"),
    ("S.\n\nFailing:\n```yaml\n# file: .gitlint-flux.yaml\nroots: [.]\n```\n", "no file besides"),
    ("S.\n\nExample: none (x).\n\nFailing:\n```yaml\na: 1\n```\n", "cannot give examples"),
    ("S.\n\nExample: none.\n", "Example: none (reason)"),
    ("S.\n\nFailing:\n```yaml\na: 1\n```\nMore prose.\n", "only `Failing:`"),
])
def test_parse_errors(text, error):
    with pytest.raises(ruledocs.DocError, match=error.replace("(", r"\(").replace(")", r"\)")):
        ruledocs.parse(text)


# ---------------------------------------------------------------- every rule's docstring


@pytest.mark.parametrize("code", sorted(RULES))
def test_docstring_structure(code):
    rule = RULES[code]
    doc = ruledocs.parse(rule.doc())
    assert doc.summary and doc.summary.endswith("."), doc.summary
    assert "\n" not in doc.summary
    # the summary is one sentence-sized paragraph: the `rules` table shows it whole
    assert len(doc.summary) <= 130, len(doc.summary)
    assert doc.why, f"{code}: no explanation between the summary and **Fix:**"
    assert doc.fix, f"{code}: no **Fix:** paragraph"
    if code in NO_EXAMPLE:
        assert doc.no_example, f"{code} is listed as having no example but its docstring gives some"
        assert not doc.examples
        return
    assert doc.no_example is None, f"{code} declares no example but is not in NO_EXAMPLE"
    assert doc.of_kind("failing"), f"{code}: no failing example"
    assert doc.of_kind("passing"), f"{code}: no passing example"


def test_no_example_list_is_exact():
    declared = {c for c, r in RULES.items() if ruledocs.parse(r.doc()).no_example is not None}
    assert declared == set(NO_EXAMPLE)


@pytest.mark.parametrize("code, kind, n, ex", list(_cases()))
def test_example(code, kind, n, ex, tmp_path):
    root = write_example(tmp_path / "repo", ex)
    report = lint(root)
    mine = [f for f in report.findings if f.rule == code]
    shown = [(f.rule, f.path, f.line, f.message) for f in report.findings]
    if kind == "failing":
        assert mine, f"{code} failing example {n} gives no {code} finding: {shown}"
        return
    assert not mine, f"{code} passing example {n} gives {code} findings: {shown}"
    allowed, _why = PASSING_ERRORS.get((code, kind, n), (set(), ""))
    errors = [f for f in report.findings if f.severity == ERROR and f.rule not in allowed]
    assert not errors, f"{code} passing example {n} has errors: {shown}"


#: examples whose root differs from the shared one, and why
ROOT_VARIANTS = {
    ("FLX606", "failing", 1): "the rule judges the root's Kustomization too: it waits",
    ("FLX606", "passing", 1): "the rule judges the root's Kustomization too: it waits",
}


def test_examples_share_one_root():
    """Examples that need a Flux root use the same one (ruledocs.ROOT_TEXT), so a reader
    learns it once; the docs print it once."""
    seen = set()
    for code, _kind, n, ex in (p.values for p in _cases()):
        text = ex.files.get(ruledocs.ROOT_PATH)
        if text is None:
            continue
        key = (code, _kind, n)
        if key in ROOT_VARIANTS:
            assert text != ruledocs.ROOT_TEXT, f"{key} is listed as a variant but uses the shared root"
            seen.add(key)
        else:
            assert text == ruledocs.ROOT_TEXT, f"{key}: a root that is not the shared one"
    assert seen == set(ROOT_VARIANTS)


def test_rules_markdown_renders_every_example():
    from gitlint_flux.docgen import rules_markdown

    md = rules_markdown()
    sections = md.split("\n## ")[1:]
    by_code = {s.split(" ", 1)[0]: s for s in sections}
    assert set(by_code) == set(RULES)
    for code, rule in RULES.items():
        doc = ruledocs.parse(rule.doc())
        s = by_code[code]
        assert doc.summary in s and doc.fix.split("\n")[0] in s
        for ex in doc.examples:
            for path, text in ex.files.items():
                assert f"`{path}`" in s
                if path != ruledocs.ROOT_PATH or text != ruledocs.ROOT_TEXT:
                    assert text.rstrip("\n") in s, (code, path)
            if ex.config is not None:
                assert ex.config.rstrip("\n") in s
        if doc.no_example:
            assert f"Example: none ({doc.no_example})" in s


def test_description_holds_body_and_examples():
    doc = ruledocs.parse(RULES["FLX601"].doc())
    d = doc.description()
    assert d.startswith(doc.why.split("\n")[0]) and "**Failing:**" in d and "**Passing:**" in d
    assert ruledocs.ROOT_TEXT.rstrip("\n") in d  # explain and SARIF show the example in full
