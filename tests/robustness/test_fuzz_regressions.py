"""Inputs found by the fuzzer (and by the property tests), minimised by hand and replayed
through the fuzzer's own worker (fuzz/worker.py), plus a short fuzz campaign.

Crashers are written here in the packed form of fuzz/codec.py; none is a copy of a corpus
file (the fuzzer's raw crashers under --out may contain corpus text and stay out of the
project)."""

from __future__ import annotations

import json
import sys

import pytest

from fuzz.codec import pack
from fuzz.known import known_bug
from fuzz.worker import Worker

from .harness import GOTK_SYNC, KUSTOMIZATION, PROJECT, run

ROOT_SYNC = {"clusters/prod/flux-system/gotk-sync.yaml": GOTK_SYNC.replace("{path}", "clusters/prod")}

CRASHERS = {
    # libyaml marks the end of a document without a final newline one line past the end
    "eof-error-without-newline": ("BUG-01", {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nb"}),
    "eof-end-mark-without-newline": ("BUG-01", {"kustomization.yaml": KUSTOMIZATION + "resources:\n  - a: b"}),
    # a `roots:` entry that does not exist: the finding names the missing directory
    "config-root-missing": ("BUG-17", {".gitlint-flux.yaml": "roots:\n  - kubernetes/flux/cluster\n",
                                       "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"}),
    # `[e-d]` in a .sourceignore pattern
    "sourceignore-bad-range": ("BUG-12", {**ROOT_SYNC, ".sourceignore": "/apps/[e-d]\n"}),
    # a kubeConfig Kustomization applying its own directory (BUG-18, fixed)
    "kubeconfig-self-apply": ("", {**ROOT_SYNC, "clusters/prod/remote.yaml": (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: remote\n"
        "  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/prod\n  prune: true\n"
        "  kubeConfig:\n    secretRef:\n      name: k\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n")}),
    # a collection key: its end column is computed from its Python repr
    "collection-key-end-column": ("BUG-19", {"ks.yaml": (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: k\n"
        "  namespace: flux-system\nspec:\n  ? {name: flux-system}\n  : x\n")}),
    "depends-on-int": ("BUG-15", {**ROOT_SYNC, "clusters/prod/a.yaml": (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\n"
        "  namespace: flux-system\nspec:\n  path: ./clusters/prod\n  dependsOn: 5\n  sourceRef:\n"
        "    kind: GitRepository\n    name: flux-system\n")}),
}


# bugs still open (their regression tests are expected to fail); fixed ones are removed
OPEN_BUGS: set[str] = set()


@pytest.fixture(scope="module")
def worker():
    with Worker(timeout=10.0, mem_mb=768, env={"GLF_FUZZ_FULL": "1"}) as w:
        yield w


@pytest.mark.parametrize("name", sorted(CRASHERS))
def test_crasher(worker, name, request):
    bug, files = CRASHERS[name]
    if bug in OPEN_BUGS:
        request.applymarker(pytest.mark.xfail(reason=f"{bug} (docs/robustness.md)", strict=True))
    res = worker.run(pack(files))
    assert res.ok, f"{res.status} {res.signature}\n{res.detail[-2000:]}"


def test_crashers_are_classified_as_their_known_bug(worker):
    """The signatures the fuzzer gives these inputs map to the bug they were filed as
    (so that a campaign reports only new failures)."""
    for name, (bug, files) in CRASHERS.items():
        res = worker.run(pack(files))
        if not res.ok:
            assert known_bug(res.signature) and bug in known_bug(res.signature), (name, res.signature)


def test_short_fuzz_campaign(tmp_path):
    """What CI runs: a few hundred mutated inputs from the built-in seeds and the corpus
    (when present); only known bugs may show up."""
    out = tmp_path / "fuzz"
    res = run([sys.executable, "-m", "fuzz.pipeline", "--engine", "random", "--runs", "250", "--seconds", "25",
               "--timeout", "15", "--mem-mb", "768", "--seed", "3", "--out", str(out)], timeout=120, cpu=120,
              mem=2048 * 1024 * 1024, cwd=PROJECT)
    assert not res.timed_out and "Traceback" not in res.stderr, res.describe()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"] > 0
    unknown = [s for s in summary["signatures"] if not known_bug(s)]
    assert unknown == [], res.describe()
