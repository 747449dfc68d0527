"""What no root applies: capped, grouped and explained; the fallback cluster; and
`gitlint-flux roots`."""

import json
import subprocess
import sys
from pathlib import Path

from conftest import flux_ks, gotk_sync, lint

ROOT = {"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps")}
HERE = Path(__file__).resolve().parent


def findings(report, *rules):
    return [(f.rule, f.severity, f.path, f.line) for f in report.findings if not rules or f.rule in rules]


def severities(report):
    return sorted({f.severity for f in report.findings})


ARCHIVE = {
    "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: live\n  namespace: default\n",
    # an archived app: removed API versions, a dangling reference, a syntax error
    ".archive/old-app/helmrelease.yaml": """\
        apiVersion: helm.toolkit.fluxcd.io/v2beta1
        kind: HelmRelease
        metadata:
          name: old
          namespace: default
        spec:
          interval: 5m
          chart:
            spec:
              chart: old
              sourceRef:
                kind: HelmRepository
                name: gone
    """,
    # its path is the one it had before it was archived
    ".archive/old-app/ks.yaml": flux_ks("old", "./apps/old-app", extra="  dependsOn:\n    - name: nowhere\n"),
    ".archive/old-app/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
    ".archive/old-app/kustomization.yaml": "resources: [helmrelease.yaml, missing.yaml]\n",
}


def test_an_archived_tree_is_capped_grouped_and_never_an_error(repo):
    report = lint(repo({**ROOT, **ARCHIVE}))
    assert "error" not in severities(report)
    got = {f.rule for f in report.findings}
    # what does not need a cluster is still said, capped at warning
    assert {"FLX001", "FLX207", "FLX101"} <= got
    # what needs the cluster is not: dangling sourceRef and dependsOn
    assert not got & {"FLX401", "FLX402"}
    # one "not applied" finding for the whole tree, at its first file
    assert findings(report, "FLX107") == [("FLX107", "info", ".archive/old-app/helmrelease.yaml", 1)]
    msg = next(f.message for f in report.findings if f.rule == "FLX107")
    assert "the 1 file under `.archive/`" in msg


def test_unapplied_error_restores_judging_them_as_applied(repo):
    files = {**ROOT, **ARCHIVE, ".gitlint-flux.yaml": "unapplied: error\n"}
    report = lint(repo(files))
    assert ("FLX207", "error", ".archive/old-app/helmrelease.yaml", 1) in findings(report, "FLX207")
    assert ("FLX001", "error", ".archive/old-app/broken.yaml", 5) in findings(report, "FLX001")


def test_unapplied_off_and_info(repo):
    report = lint(repo({**ROOT, **ARCHIVE, ".gitlint-flux.yaml": "unapplied: 'off'\n"}))
    assert [f for f in report.findings if f.path.startswith(".archive/") and f.rule != "FLX107"] == []
    report = lint(repo({**ROOT, **ARCHIVE, ".gitlint-flux.yaml": "unapplied: info\n"}))
    assert {f.severity for f in report.findings if f.path.startswith(".archive/")} == {"info"}


def test_an_unwired_new_app_is_still_judged_at_warning(repo):
    report = lint(repo({**ROOT,
                        "apps/cm.yaml": ARCHIVE["apps/cm.yaml"],
                        "new-app/deployment.yaml": """\
                            apiVersion: apps/v1
                            kind: Deployment
                            metadata: {name: new, namespace: default}
                            spec:
                              selector: {matchLabels: {app: new}}
                              template:
                                metadata: {labels: {app: new}}
                                spec:
                                  containers: [{name: new, image: "nginx:latest"}]
                        """}))
    assert findings(report, "FLX303") == [("FLX303", "warning", "new-app/deployment.yaml", 9)]
    f = next(f for f in report.findings if f.rule == "FLX303")
    assert ("warning", "no Flux root applies this file") in [tuple(c) for c in f.caps]


FALLBACK = {
    "deploy/apps.yaml": flux_ks("apps", "./apps", source="fleet", extra="  dependsOn:\n    - name: infra\n"),
    "deploy/infra.yaml": flux_ks("infra", "./infra", source="fleet", extra="  dependsOn:\n    - name: missing\n"),
    "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: default\n",
    "infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: infra\n  namespace: default\n",
}


def test_no_root_is_one_fallback_cluster_with_the_configuration_that_makes_it_exact(repo):
    root = repo(FALLBACK)
    report = lint(root)
    # references between the Kustomizations resolve in the one cluster; what cannot be
    # settled is at most a warning
    assert findings(report, "FLX402") == [("FLX402", "warning", "deploy/infra.yaml", 14)]
    assert findings(report, "FLX401") == []
    no_root = next(f for f in report.findings if f.rule == "FLX106")
    assert "roots:\n  - deploy" in no_root.hint and "GitRepository/flux-system/fleet: ." in no_root.hint
    # the proposed configuration, applied, makes the run exact: the dangling dependsOn is an error
    root2 = repo({**FALLBACK, ".gitlint-flux.yaml": "roots:\n  - deploy\nsources:\n  GitRepository/flux-system/fleet: .\n"})
    report2 = lint(root2)
    assert findings(report2, "FLX402") == [("FLX402", "error", "deploy/infra.yaml", 14)]
    assert findings(report2, "FLX106", "FLX401") == []


def roots_cli(root, *extra):
    r = subprocess.run([sys.executable, "-m", "gitlint_flux", "roots", "--root", str(root), str(root), *extra],
                       capture_output=True, text=True, cwd=HERE.parent, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_roots_command_explains_each_root_form(repo):
    root = repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/lab/cluster.yaml": flux_ks("cluster", "./clusters/lab"),
        "clusters/lab/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lab\n  namespace: default\n",
        "clusters/edge/instance.yaml": """\
            apiVersion: fluxcd.controlplane.io/v1
            kind: FluxInstance
            metadata: {name: flux, namespace: flux-system}
            spec:
              distribution: {version: "2.7.x", registry: ghcr.io/fluxcd}
              sync: {kind: OCIRepository, url: "oci://ghcr.io/example/fleet", ref: latest, path: ./clusters/edge}
        """,
        "old/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n  namespace: default\n",
    })
    data = json.loads(roots_cli(root, "--format", "json"))
    assert data["version"] == 1 and data["fallback"] is False
    kinds = {r["kind"]: r for r in data["roots"]}
    assert set(kinds) == {"gotk-sync", "FluxInstance", "self-applying"}
    assert kinds["gotk-sync"]["file"] == "clusters/prod/flux-system/gotk-sync.yaml"
    oci = kinds["FluxInstance"]
    assert (oci["source"]["kind"], oci["source_dir"], oci["line"]) == ("OCIRepository", ".", 6)
    assert "resolve under" in oci["source_reason"]
    edge = next(c for c in data["clusters"] if c["name"] == "clusters/edge")
    assert "v2.7" in edge["flux"] and edge["gates"]["StrictPostBuildSubstitutions"] is False
    assert [u["dir"] for u in data["unapplied"]] == ["old"]
    text = roots_cli(root)
    assert "a FluxInstance's `spec.sync`" in text and "everything under old/" in text


def test_roots_command_in_fallback_mode_prints_the_configuration(repo):
    text = roots_cli(repo(FALLBACK))
    assert "to make the run exact" in text and "    - deploy" in text
    assert "GitRepository/flux-system/fleet: ." in text


def test_roots_command_names_the_other_root_forms(repo):
    root = repo({
        # flux bootstrap with placeholder gotk files
        "clusters/staging/flux-system/gotk-sync.yaml": "# generated by flux bootstrap\n",
        "clusters/staging/flux-system/gotk-components.yaml": "# generated by flux bootstrap\n",
        # the flux-instance chart
        "kubernetes/flux-instance.yaml": """\
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {name: flux-instance, namespace: flux-system}
            spec:
              interval: 1h
              chart: {spec: {chart: flux-instance, sourceRef: {kind: HelmRepository, name: controlplane}}}
              values:
                instance:
                  sync: {kind: GitRepository, url: "https://github.com/example/fleet.git", ref: refs/heads/main,
                         path: kubernetes/cluster}
        """,
        "kubernetes/cluster/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k\n  namespace: default\n",
        # a root the configuration names
        "edge/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e\n  namespace: default\n",
        ".gitlint-flux.yaml": "roots:\n  - edge\n",
    })
    data = json.loads(roots_cli(root, "--format", "json"))
    forms = {r["kind"]: r for r in data["roots"]}
    assert set(forms) == {"bootstrap-dir", "flux-instance-chart", "config"}
    assert forms["config"]["file"] == ".gitlint-flux.yaml" and forms["config"]["line"] == 2
    assert forms["flux-instance-chart"]["file"] == "kubernetes/flux-instance.yaml"
    assert forms["flux-instance-chart"]["sync_path"] == "kubernetes/cluster"
    assert "placeholder gotk files" in forms["bootstrap-dir"]["how"]
