"""Integration over the shared corpus of real Flux repositories (skipped without it).

The counts below were verified by reading the repositories' files."""

import collections
import json
import os
import subprocess
import sys

import pytest
from conftest import CORPUS, needs_corpus

from gitlint_flux.engine import load
from gitlint_flux.graph import NOT_APPLIED, layer_of
from gitlint_flux.load import is_yaml_candidate
from gitlint_flux.model import RESOLVED

pytestmark = needs_corpus

REPOS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []


def graph(name):
    return load([str(CORPUS / name)], None, None).graph


@pytest.mark.parametrize("name", REPOS)
def test_every_repository_lints_cleanly(name):
    r = subprocess.run([sys.executable, "-m", "gitlint_flux", "lint", "--format", "json", str(CORPUS / name)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stderr
    data = json.loads(r.stdout)
    assert not [f for f in data["findings"] if f["rule"] == "FLX000"]
    # every file is accounted for: linted or skipped with a reason
    on_disk = set()
    for d, dirs, files in os.walk(CORPUS / name):
        dirs[:] = [x for x in dirs if x != ".git"]
        for f in files:
            if is_yaml_candidate(f):
                on_disk.add(os.path.relpath(os.path.join(d, f), CORPUS / name).replace(os.sep, "/"))
    skipped = {s["path"] for s in data["skipped"]}
    assert all(s["reason"] for s in data["skipped"])
    assert data["summary"]["files"] + len(skipped) == len(on_disk)
    assert skipped <= on_disk
    for f in data["findings"]:
        assert f["line"] >= 1 and f["column"] >= 1 and not f["path"].startswith("/")


def test_homelab_layers_root_and_dependencies():
    g = graph("Apocrathia+homelab")
    assert [(r.kind, r.path) for r in g.roots] == [("gotk-sync", "flux/manifests/01-bootstrap")]
    scope = g.scopes["flux/manifests/01-bootstrap"]
    ks = [a for a in scope.applied if a.doc.kind == "Kustomization"]
    names = {a.name for a in ks}
    # flux-system, manifests (01-bootstrap/flux-system/manifests.yaml) and the 28
    # flux-kustomization.yaml files that flux/manifests/kustomization.yaml lists
    assert len(ks) == 30 and {"flux-system", "manifests", "services-authentik"} <= names
    assert "services-flyte" not in names and "services-kong" not in names  # commented out upstream
    layers = collections.Counter(layer_of(a.doc.path).name for a in ks if a.doc.path.endswith("flux-kustomization.yaml"))
    assert layers == {"01-bootstrap": 3, "02-infrastructure": 6, "03-services": 14, "04-apps": 5}
    assert all(layer_of(a.doc.path).order == int(layer_of(a.doc.path).name[:2]) for a in ks
               if a.doc.path.endswith("flux-kustomization.yaml"))
    deps = [e for e in g.edges if e.kind == "dependsOn" and e.source.scope == scope.name]
    assert len([e for e in deps if e.source.doc.kind == "Kustomization"]) == 61
    assert all(e.state == RESOLVED for e in deps)
    # the `homelab` GitRepository has the bootstrap repository's URL and ref
    assert ("GitRepository", "flux-system", "homelab") in g.local_sources


def test_home_ops_namespaces_from_parent_kustomizations():
    g = graph("onedr0p+home-ops")
    assert [(r.kind, r.path) for r in g.roots] == [("flux-instance-chart", "kubernetes/flux/cluster")]
    scope = g.scopes["kubernetes/flux/cluster"]
    ks = [a for a in scope.applied if a.doc.kind == "Kustomization" and a.doc.origin != "synthetic"]
    assert len(ks) == 78
    apps = [a for a in ks if a.doc.path.startswith("kubernetes/apps/")]
    assert len(apps) == 77
    assert all(a.namespace == a.doc.path.split("/")[2] for a in apps)
    deps = [e for e in g.edges if e.kind == "dependsOn" and e.source.scope == scope.name]
    assert len(deps) == 19 and all(e.state == RESOLVED for e in deps)
    multus = [e for e in deps if e.target.name == "multus-networks"]
    assert len(multus) == 3 and {e.target.namespace for e in multus} == {"kube-system"}


def test_kustomize_helm_example_two_clusters_no_duplicates():
    g = graph("fluxcd+flux2-kustomize-helm-example")
    assert sorted((r.kind, r.path) for r in g.roots) == [
        ("bootstrap-dir", "clusters/production"), ("bootstrap-dir", "clusters/staging")]
    for name in ("clusters/production", "clusters/staging"):
        scope = g.scopes[name]
        keys = collections.Counter((a.doc.kind, a.namespace, a.name) for a in scope.applied)
        assert max(keys.values()) == 1
        # the bootstrap Kustomization (synthetic: the gotk files are placeholders) and the three it applies
        assert {k[2] for k in keys if k[0] == "Kustomization"} == {"flux-system", "infra-controllers", "infra-configs", "apps"}
    # ExternalArtifact paths resolve through the ArtifactGenerator's copy operations
    assert g.external_paths == []
    for name in ("clusters/production", "clusters/staging"):
        assert {a.name for a in g.scopes[name].applied if a.doc.kind == "HelmRelease"} >= {"podinfo"}
    src = [e for e in g.edges if e.kind == "sourceRef" and e.source.scope != NOT_APPLIED]
    assert src and all(e.state == RESOLVED for e in src)


def test_homeops_missing_references_exact():
    g = graph("Apocrathia+homeops")
    missing = sorted((p.path, p.line, p.column) for p in g.problems if p.kind == "missing-reference")
    assert missing == [
        ("cluster/apps/kube-system/kube-vip/kustomization.yaml", 6, 5),
        ("cluster/apps/networking/cloudflare-ddns/kustomization.yaml", 6, 5),
        ("cluster/apps/observability/kustomization.yaml", 7, 5),
        ("cluster/config/kustomization.yaml", 4, 5),
        ("cluster/config/kustomization.yaml", 5, 5),
        ("cluster/core/cluster-issuers/kustomization.yaml", 6, 5),
        ("cluster/flux/flux-system/kustomization.yaml", 6, 5),
    ]


def test_flux_examples_have_no_errors():
    for name in REPOS:
        if not name.startswith("fluxcd+"):
            continue
        r = subprocess.run([sys.executable, "-m", "gitlint_flux", "lint", "--format", "json", str(CORPUS / name)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode in (0, 1), (name, r.stderr)
        # FLX207: hub-spoke and multi-tenancy still use helm v2beta2 / source v1beta2, removed in
        # Flux 2.8 (each pinned in test_schema_corpus.py); nothing else is an error
        errors = [f for f in json.loads(r.stdout)["findings"] if f["severity"] == "error" and f["rule"] != "FLX207"]
        assert errors == [], (name, errors)


def test_cluster_template_jinja_is_skipped():
    r = subprocess.run([sys.executable, "-m", "gitlint_flux", "lint", "--format", "json",
                        str(CORPUS / "onedr0p+cluster-template")], capture_output=True, text=True, timeout=120)
    data = json.loads(r.stdout)
    assert r.returncode == 0 and data["findings"] == []
    assert any("Jinja" in s["reason"] for s in data["skipped"])


def _shape(value, out: list) -> None:
    """Every mapping's keys in order and every sequence's length, depth first."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            out.append(tuple(v))
            stack.extend(v.values())
        elif isinstance(v, list):
            out.append(len(v))
            stack.extend(v)


@pytest.mark.parametrize("name", REPOS)
def test_checks_never_change_a_parsed_document_in_place(name, monkeypatch):
    """Positions are packed in the order of a mapping's keys, so parsed values must stay
    as parsed: the graph, patches, substitution and every rule work on copies."""
    from gitlint_flux import engine
    from gitlint_flux.graph import Graph

    def shapes(files):
        out: list = []
        for sf in files.values():
            for d in sf.documents:
                _shape(d.value, out)
        return out

    real_build, real_check = Graph.build, engine.check
    seen = {}

    def build(self):
        seen["before"] = shapes(self.files)
        return real_build(self)

    def check(loaded, opts, paths, stats=None):
        report = real_check(loaded, opts, paths, stats)
        seen["after"] = shapes(loaded.files)
        return report

    monkeypatch.setattr(Graph, "build", build)
    monkeypatch.setattr(engine, "check", check)
    root = str(CORPUS / name)
    engine.run(engine.Options(paths=[root], root=root))
    assert "before" in seen and seen["before"] == seen["after"]
