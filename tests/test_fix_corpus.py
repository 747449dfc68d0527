"""`--fix` on copies of real repositories from ../shared/corpus: what it fixes is gone
afterwards, the diff touches only the fixed lines, the built objects validate; a repository
that commits an old Flux gets "upgrade Flux first" and no change."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest

from conftest import CORPUS, needs_corpus
from gitlint_flux.cli import main

pytestmark = needs_corpus

#: schema findings: after the fixes the objects they changed must have none
INVALID = {"FLX201", "FLX202", "FLX203", "FLX204", "FLX205", "FLX206", "FLX207"}


def copy_repo(name: str, tmp_path: Path) -> Path:
    src = CORPUS / name
    if not src.is_dir():
        pytest.skip(f"{name} is not in the corpus ({CORPUS})")
    dest = tmp_path / name
    shutil.copytree(src, dest, symlinks=True)
    for p in dest.rglob("*"):  # the corpus is read-only
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o200)
    return dest


def findings(root: Path, capsys) -> list[dict]:
    capsys.readouterr()
    main(["lint", str(root), "--root", str(root), "--no-cache", "--format", "json", "--fail-on", "never"])
    return json.loads(capsys.readouterr().out)["findings"]


def texts(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink() and ".git" not in p.parts}


@pytest.mark.parametrize("name", ["fluxcd+flux2-hub-spoke-example", "fluxcd+flux2-multi-tenancy"])
def test_fix_on_a_corpus_copy(name, tmp_path, capsys):
    root = copy_repo(name, tmp_path)
    before = findings(root, capsys)
    fixable = [f for f in before if f["rule"] in ("FLX207", "FLX208", "FLX211")]
    assert fixable, "the corpus repository has no finding to fix"
    old = texts(root)
    capsys.readouterr()
    main(["lint", str(root), "--root", str(root), "--no-cache", "--fix"])
    err = capsys.readouterr().err
    new = texts(root)
    after = findings(root, capsys)
    # none of the fixed findings is reported again, and nothing new appears
    key = lambda f: (f["rule"], f["path"], f["message"])  # noqa: E731
    assert not {key(f) for f in fixable} & {key(f) for f in after}, err
    assert {key(f) for f in after} <= {key(f) for f in before}
    # the objects as built validate: no schema finding at all in the changed files
    changed = {p for p in new if new[p] != old[p]}
    assert changed and not [f for f in after if f["path"] in changed and f["rule"] in INVALID]
    # the diff touches only the fixed lines: each changed line is an apiVersion line whose
    # version moved, nothing else
    for path in sorted(changed):
        a, b = old[path].decode().splitlines(), new[path].decode().splitlines()
        assert len(a) == len(b), path
        for x, y in zip(a, b):
            if x != y:
                assert x.strip().startswith("apiVersion:") and y.strip().startswith("apiVersion:"), (path, x, y)
                assert x.rsplit("/", 1)[0] == y.rsplit("/", 1)[0], (path, x, y)
        diff = list(difflib.unified_diff(a, b, lineterm="", n=0))
        assert all(d.startswith(("---", "+++", "@@", "-", "+")) for d in diff)
    # a second run has nothing left to do
    capsys.readouterr()
    assert main(["lint", str(root), "--root", str(root), "--no-cache", "--diff"]) == 0


def test_old_flux_in_the_tree_means_upgrade_first(tmp_path, capsys):
    # Apocrathia+homeops commits the gotk-components.yaml of Flux v0.31.3: none of the newer
    # versions is served there (HelmRelease v2 from Flux 2.3, kustomize v1 from Flux 2.0)
    root = copy_repo("Apocrathia+homeops", tmp_path)
    old = texts(root)
    capsys.readouterr()
    main(["lint", str(root), "--root", str(root), "--no-cache", "--fix", "--format", "json"])
    cap = capsys.readouterr()
    assert texts(root) == old
    report = json.loads(cap.out)
    removed = [f for f in report["findings"] if f["rule"] in ("FLX207", "FLX208")
               and ".toolkit.fluxcd.io/" in f["message"]]
    assert removed
    assert all("Not fixed automatically: upgrade Flux first" in f["hint"] for f in removed), \
        [f["hint"] for f in removed if "upgrade Flux first" not in f["hint"]][:3]
    assert "Flux v0.31.3" in cap.err
