"""Read-only guarantee: after a run (cold and warm cache, git checkout or not, from the
repository's own directory) every file and directory of the repository has the same
type, size, mode and modification time, and nothing was added or removed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .harness import KUSTOMIZATION, assert_ran, bootstrap, cm, flux_ks, lint, run, snapshot

FILES = {
    **bootstrap(),
    "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
    "apps/kustomization.yaml": KUSTOMIZATION + "resources:\n  - cm.yaml\n  - missing.yaml\n",
    "apps/cm.yaml": cm("x", "  dup: 1\n  dup: 2\n"),
    "bad.yaml": "a: [\n",
    "latin.yaml": b"a: caf\xe9\n",
    "bomb.yaml": "a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n",
    ".sourceignore": "*.md\n",
}


def _cache_opts() -> list[str]:
    help_text = run([sys.executable, "-m", "gitlint_flux", "lint", "--help"]).stdout
    return ["--cache-dir"] if "--cache-dir" in help_text else []


@pytest.mark.parametrize("mode", ["walk", "git"])
def test_repository_unchanged_after_runs_with_cache(tree, tmp_path, mode):
    root = tree(FILES)
    if mode == "git":
        subprocess.run(["git", "init", "-q", str(root)], check=True, capture_output=True)
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, capture_output=True)
        subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
                       check=True, capture_output=True)
    cache_home = tmp_path / "xdg-cache"
    env = {"XDG_CACHE_HOME": str(cache_home), "HOME": str(tmp_path / "home")}
    before = snapshot(root)
    outputs = []
    # cold and warm runs with the default (user) cache, run from inside the repository
    for _ in range(2):
        res = assert_ran(lint(root, env=env, cwd=root), 1)
        outputs.append(res.stdout)
    # an explicit cache directory, when the option exists
    if _cache_opts():
        for _ in range(2):
            res = assert_ran(lint(root, "--cache-dir", str(tmp_path / "cache"), env=env, cwd=root), 1)
            outputs.append(res.stdout)
    # every report format, a sub-directory and a single file named on the command line
    for fmt in ("text", "sarif", "junit", "codequality", "github"):
        lint(root, fmt=fmt, env=env, cwd=root)
    assert_ran(lint(root, paths=[str(root / "apps")], env=env, cwd=root), 1)
    assert_ran(lint(root, paths=[str(root / "apps" / "cm.yaml")], env=env, cwd=root), 1)
    assert snapshot(root) == before
    # the same report every time, cache or not
    assert len(set(outputs)) == 1
    if mode == "git":
        st = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True)
        assert st.stdout == ""
