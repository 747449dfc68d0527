"""ResourceSets in the graph: what flux-operator renders is applied, validated and judged
at the template it comes from, and can be the cluster's root."""

from conftest import flux_ks, gotk_sync, graph_of, lint

ROOT = {"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod")}

TENANTS = """\
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: tenants
  namespace: flux-system
spec:
  inputs:
    - tenant: team1
    - tenant: team2
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: << inputs.tenant >>
    - apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      metadata:
        name: podinfo
        namespace: << inputs.tenant >>
      spec:
        interval: 1h
        chart:
          spec:
            chart: podinfo
            version: 6.9.2
            sourceRef:
              kind: HelmRepository
              name: podinfo
              namespace: flux-system
        intervall: 5m
"""

REPO = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 1h
  url: https://stefanprodan.github.io/podinfo
"""


def applied(g, kind):
    return sorted((a.namespace, a.name) for a in g.applied_objects() if a.doc.kind == kind)


def test_rendered_objects_are_applied_and_a_typo_is_found_at_the_template_line(repo):
    root = repo({**ROOT, "clusters/prod/tenants.yaml": TENANTS, "clusters/prod/repo.yaml": REPO})
    g = graph_of(root)
    assert applied(g, "Namespace") == [("", "team1"), ("", "team2")]
    assert applied(g, "HelmRelease") == [("team1", "podinfo"), ("team2", "podinfo")]
    report = lint(root)
    typos = [(f.rule, f.severity, f.path, f.line, f.column) for f in report.findings if f.rule == "FLX201"]
    assert typos[0] == ("FLX201", "error", "clusters/prod/tenants.yaml", 30, 9)
    msg = next(f.message for f in report.findings if f.rule == "FLX201")
    assert "rendered by ResourceSet `tenants`" in msg and "spec.intervall" in msg
    # the references the rendered HelmReleases make resolve
    assert [f for f in report.findings if f.rule == "FLX401"] == []


def test_a_template_error_is_found_at_its_line(repo):
    bad = TENANTS.replace("name: << inputs.tenant >>\n    - apiVersion", "name: << inputs.tennant >>\n    - apiVersion")
    root = repo({**ROOT, "clusters/prod/tenants.yaml": bad, "clusters/prod/repo.yaml": REPO})
    report = lint(root)
    got = [(f.rule, f.severity, f.path, f.line) for f in report.findings if f.rule == "FLX112"]
    assert got == [("FLX112", "error", "clusters/prod/tenants.yaml", 14)]


def test_a_resourceset_holding_the_flux_instance_chart_is_the_root(repo):
    root = repo({"bootstrap/flux.yaml": """\
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: flux
  namespace: flux-system
spec:
  inputs:
    - version: "2.x"
  resources:
    - apiVersion: source.toolkit.fluxcd.io/v1
      kind: OCIRepository
      metadata:
        name: flux-instance
        namespace: flux-system
      spec:
        interval: 1h
        url: oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance
        ref: {tag: 0.30.0}
    - apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      metadata:
        name: flux-instance
        namespace: flux-system
      spec:
        interval: 1h
        chartRef: {kind: OCIRepository, name: flux-instance}
        values:
          instance:
            distribution: {version: "<< inputs.version >>"}
            sync:
              kind: GitRepository
              url: https://github.com/example/fleet.git
              ref: refs/heads/main
              path: clusters/prod
""", "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: default\n"})
    g = graph_of(root)
    assert [(r.kind, r.path) for r in g.roots] == [("flux-instance-chart", "clusters/prod")]
    assert applied(g, "ConfigMap") == [("default", "app")]


def test_graph_shows_rendered_objects_grouped_under_their_resourceset(repo):
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = repo({**ROOT, "clusters/prod/tenants.yaml": TENANTS.replace(
        "kind: HelmRelease", "kind: HelmRelease").replace("    - apiVersion: v1\n      kind: Namespace", """\
    - apiVersion: kustomize.toolkit.fluxcd.io/v1
      kind: Kustomization
      metadata:
        name: << inputs.tenant >>-apps
        namespace: flux-system
      spec:
        interval: 10m
        path: ./tenants/<< inputs.tenant >>
        prune: true
        sourceRef: {kind: GitRepository, name: flux-system}
    - apiVersion: v1
      kind: Namespace"""), "clusters/prod/repo.yaml": REPO,
        "tenants/team1/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t1\n  namespace: team1\n",
        "tenants/team2/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t2\n  namespace: team2\n"})
    cwd = Path(__file__).resolve().parent.parent
    run = lambda *a: subprocess.run([sys.executable, "-m", "gitlint_flux", "graph", "--root", str(root), str(root), *a],
                                    capture_output=True, text=True, cwd=cwd, timeout=120)
    data = json.loads(run("--format", "json").stdout)
    rendered = [n for n in data["nodes"] if n["rendered_by"]]
    assert sorted(n["name"] for n in rendered) == ["team1-apps", "team2-apps"]
    rs = next(n["id"] for n in data["nodes"] if n["kind"] == "ResourceSet")
    assert {e["to"] for e in data["edges"] if e["kind"] == "applies" and e["from"] == rs} == {n["id"] for n in rendered}
    text = run().stdout
    assert 'subgraph' in text and "rendered by ResourceSet flux-system/tenants" in text
    # the rendered Kustomizations apply their tenants' directories
    g = graph_of(root)
    assert applied(g, "ConfigMap") == [("team1", "t1"), ("team2", "t2")]
