"""A run over some paths (``lint FILE``, an editor's ``--stdin-filename``) reports, for
those paths, exactly what a run over the whole repository reports for them; the schema
stage judges only the selected files' documents to get there."""

from __future__ import annotations

import os
import random

import pytest

from gitlint_flux.engine import Options, Stats, run

from conftest import CORPUS, needs_corpus

ROOT_SYNC = """
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1m
  url: https://example.com/repo.git
  ref: {branch: main}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
"""

TREE = {
    "clusters/prod/flux-system/gotk-sync.yaml": ROOT_SYNC,
    "apps/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources: [a.yaml, b.yaml, c.yaml, d.yaml, e.yaml]
        patchesStrategicMerge: [p.yaml]
        resource: [oops.yaml]
    """,
    "apps/a.yaml": """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: HelmRepository
        metadata: {name: a, namespace: flux-system}
        spec:
          intervall: 5m
          url: https://charts.example.com
    """,
    "apps/b.yaml": """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: HelmRepository
        metadata: {name: b, namespace: flux-system}
        spec:
          interval: true
          url: https://charts.example.com
    """,
    # two documents of a kind no schema knows: one finding, at the first of them
    "apps/c.yaml": """
        apiVersion: example.com/v1
        kind: Widget
        metadata: {name: c, namespace: default}
    """,
    "apps/d.yaml": """
        apiVersion: example.com/v1
        kind: Widget
        metadata: {name: d, namespace: default}
    """,
    "apps/e.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: e, namespace: default, labels: {"bad label!": x}}
    """,
    "apps/p.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: e, namespace: default}
        dataa: {x: y}
    """,
}


def _key(f) -> tuple:
    return (f.rule, f.severity, f.path, f.line, f.column, f.end_line, f.end_column, f.message, f.hint)


def _run(root, paths=None, stdin=None) -> tuple[list[tuple], Stats]:
    stats = Stats()
    opts = Options(paths=[str(p) for p in paths] if paths else [str(root)], root=str(root), use_cache=False)
    if stdin is not None:
        opts.stdin_filename, opts.stdin_text = stdin
    report, internal = run(opts, stats)
    assert not internal, [f.message for f in report.findings if f.rule == "FLX000"]
    return sorted(_key(f) for f in report.findings), stats


def test_a_selected_file_gets_what_the_whole_run_reports_for_it(repo):
    root = repo(TREE)
    full, full_stats = _run(root)
    codes = {(k[0], k[2]) for k in full}
    # the fixture shows every kind of schema finding the selection must keep
    assert {("FLX201", "apps/a.yaml"), ("FLX202", "apps/b.yaml"), ("FLX209", "apps/c.yaml"),
            ("FLX206", "apps/e.yaml"), ("FLX210", "apps/kustomization.yaml")} <= codes, sorted(codes)
    no_schema = [k for k in full if k[0] == "FLX209"]
    assert len(no_schema) == 1 and "2 documents in 2 files" in no_schema[0][7]
    for rel in sorted(TREE):
        mine, stats = _run(root, [root / rel])
        assert [k for k in mine if k[2] == rel] == [k for k in full if k[2] == rel], rel
        assert set(mine) <= set(full), rel  # the others: findings pointing at the file
        # only the selected file's documents are judged (and no other file's)
        assert stats.validated <= len([d for d in TREE[rel].split("\n---") if "kind:" in d]), (rel, stats.validated)
        text = (root / rel).read_text()
        assert _run(root, stdin=(str(root / rel), text))[0] == [k for k in full if k[2] == rel], rel
    assert full_stats.validated >= 7


def test_the_no_schema_finding_stays_where_the_whole_run_puts_it(repo):
    """Selecting the second document's file does not move the finding there."""
    root = repo(TREE)
    assert [k[0] for k in _run(root, [root / "apps/d.yaml"])[0]] == []
    (here,) = [k for k in _run(root, [root / "apps/c.yaml"])[0] if k[0] == "FLX209"]
    assert here[2] == "apps/c.yaml" and "2 documents in 2 files" in here[7]


def test_an_edited_buffer_is_judged_and_the_rest_as_on_disk(repo):
    root = repo(TREE)
    target = root / "apps/d.yaml"
    buf = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: default}\ndataa: {}\n"
    mine, _ = _run(root, stdin=(str(target), buf))
    assert [(k[0], k[2], k[3]) for k in mine] == [("FLX201", "apps/d.yaml", 4)]
    # the Widget of c.yaml is now the only one without a schema
    (c,) = [k for k in _run(root, [root / "apps/c.yaml"])[0] if k[0] == "FLX209"]
    assert "2 documents" in c[7]  # on disk d.yaml is still a Widget
    target.write_text(buf)
    (c,) = [k for k in _run(root, [root / "apps/c.yaml"])[0] if k[0] == "FLX209"]
    assert "1 document" in c[7]


def _corpus_names() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(n for n in os.listdir(CORPUS) if (CORPUS / n).is_dir())


@needs_corpus
@pytest.mark.parametrize("name", _corpus_names())
def test_corpus_files_get_what_the_whole_run_reports_for_them(name):
    root = CORPUS / name
    full, _ = _run(root)
    by_path: dict[str, int] = {}
    for k in full:
        by_path[k[2]] = by_path.get(k[2], 0) + 1
    yaml_files = sorted(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
                        for d, _dirs, fs in os.walk(root) for f in fs if f.endswith((".yaml", ".yml")))
    picks = sorted(by_path, key=lambda p: (-by_path[p], p))[:2]
    picks += [p for p in yaml_files if p.endswith("kustomization.yaml")][:1]
    picks += random.Random(name).sample(yaml_files, min(2, len(yaml_files)))
    for rel in dict.fromkeys(picks):
        if not (root / rel).is_file():
            continue
        mine, _ = _run(root, [root / rel])
        assert [k for k in mine if k[2] == rel] == [k for k in full if k[2] == rel], rel
        assert set(mine) <= set(full), rel


@needs_corpus
@pytest.mark.parametrize("name", ["mirceanton+home-ops", "Apocrathia+homelab"])
def test_has_a_schema_answers_as_the_lookup(name):
    """``Catalog.has`` (documents outside the selection: no schema compiled) says what
    ``bool(Catalog.lookup)`` says, for every kind of the repository in every cluster, with
    and without flux-operator, and for kinds that no source knows."""
    from gitlint_flux.graph.vocab import NOT_APPLIED
    from gitlint_flux.schema.catalog import Catalog
    from conftest import graph_of

    root = os.path.join(CORPUS, name)
    graph = graph_of(root)
    gvks = {(d.api_version.rpartition("/")[0], d.api_version.rpartition("/")[2], d.kind)
            for f in graph.files.values() for d in f.documents if d.is_object}
    gvks |= {("apps", "v1", "Deploymentt"), ("example.com", "v1", "Widget"), ("helm.toolkit.fluxcd.io", "v1beta9", "HelmRelease")}
    scopes = [{s} for s in graph.scopes] + [{NOT_APPLIED}]
    quick, full = Catalog(graph, graph.files), Catalog(graph, graph.files)
    answers = {(gvk, frozenset(sc), op): (quick.has(*gvk, sc, operator=op), bool(full.lookup(*gvk, sc, operator=op)))
               for gvk in sorted(gvks) for sc in scopes for op in (False, True)}
    assert {k: v for k, v in answers.items() if v[0] != v[1]} == {}
    assert any(v[1] for v in answers.values()) and not all(v[1] for v in answers.values())
