"""Every repository of ../shared/corpus (skipped without it), complementing
tests/test_corpus.py: exit code 0 or 1 with no traceback and no internal error, every
finding and related location inside the root with a position inside its file, linted and
skipped files disjoint, every report format valid, two runs identical."""

from __future__ import annotations

import pytest

from fuzz.invariants import check_location, check_tree

from .harness import CORPUS, assert_ran, lint

REPOS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
pytestmark = pytest.mark.skipif(not REPOS, reason=f"the shared corpus is absent ({CORPUS})")


@pytest.mark.parametrize("name", REPOS)
def test_corpus_repository_findings_stay_inside_the_root(name):
    root = CORPUS / name
    res = assert_ran(lint(root, timeout=120))
    data = res.data
    assert res.rc == (1 if data["summary"]["errors"] else 0)
    cache: dict = {}
    for f in data["findings"]:
        check_location(str(root), f["path"], f["line"], f["column"], f["end_line"], f["end_column"],
                       what=f"{f['rule']} {f['message'][:60]!r}", lines_cache=cache)
        for r in f["related"]:
            check_location(str(root), r["path"], r["line"], r["column"], what=f"related of {f['rule']}",
                           lines_cache=cache)
    skipped = {s["path"] for s in data["skipped"]}
    assert all(s["reason"].strip() for s in data["skipped"])
    for s in skipped:
        check_location(str(root), s, 1, 1, what="skipped file")


@pytest.mark.parametrize("name", REPOS)
def test_corpus_repository_every_format_and_determinism(name):
    check_tree(str(CORPUS / name), twice=True, validate="all")
