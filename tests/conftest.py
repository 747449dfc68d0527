"""Shared helpers: fixture repositories written from dicts, and the shared corpus."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from gitlint_flux.engine import Options, load, run

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
CORPUS = SHARED / "corpus"
FIXTURES = HERE / "fixtures"

needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the shared corpus is absent ({CORPUS}); integration tests need ../shared/corpus"
)


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (path -> text, dedented, or bytes) under ``root``."""
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def git_init(root: Path) -> Path:
    """Make ``root`` a git checkout (untracked files are linted too)."""
    import subprocess
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.fixture
def repo(tmp_path):
    """``repo({...})`` writes a tree and returns its root."""
    made = []

    def make(files: dict[str, str | bytes]) -> Path:
        """Each call makes a new tree (repo, repo2, ...)."""
        made.append(1)
        root = tmp_path / ("repo" if len(made) == 1 else f"repo{len(made)}")
        root.mkdir()
        return write_tree(root, files)
    return make


def lint(root: Path | str, *paths: str, config: str | None = None):
    opts = Options(paths=[str(p) for p in paths] or [str(root)], root=str(root), config=config)
    report, internal = run(opts)
    assert not internal, [f.message for f in report.findings if f.rule == "FLX000"]
    return report


def graph_of(root: Path | str):
    return load([str(root)], str(root), None).graph


def found(report, rule: str | None = None) -> list[tuple]:
    """Findings as (rule, path, line, column) tuples."""
    return [(f.rule, f.path, f.line, f.column) for f in report.findings if rule is None or f.rule == rule]


GOTK_SYNC = """
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: ssh://git@github.com/example/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./{path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def gotk_sync(path: str) -> str:
    return GOTK_SYNC.replace("{path}", path)


def flux_ks(name: str, path: str, namespace: str | None = "flux-system", source: str = "flux-system",
            extra: str = "") -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return (
        f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}{ns}\n"
        f"spec:\n  interval: 10m\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n"
        f"    name: {source}\n{extra}"
    )


def widget_crd(*properties: str) -> str:
    """A namespaced `example.com/v1` Widget CRD; each of ``properties`` is one line under
    its `spec.properties` (e.g. ``"size: {type: integer}"``)."""
    return (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        "  name: widgets.example.com\nspec:\n  group: example.com\n  names:\n    kind: Widget\n"
        "    plural: widgets\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n"
        "      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n"
        "          properties:\n            spec:\n              type: object\n              properties:\n"
        + "".join(f"                {p}\n" for p in properties)
    )


__all__ = ["git_init", "CORPUS", "SHARED", "needs_corpus", "write_tree", "lint", "graph_of", "found", "gotk_sync", "flux_ks",
           "widget_crd", "os"]
