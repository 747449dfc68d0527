"""Policy rules (each failing and passing), profiles, suppressions, baseline, custom policies."""

import json
import textwrap

import pytest
from conftest import flux_ks, gotk_sync, lint

from gitlint_flux.cli import main

ROOT_FILES = {
    "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
    "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
}


def d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def app(repo):
    """``app({path: text})``: a cluster whose `apps` Kustomization applies ./apps."""
    def make(files, root_files=None):
        return repo({**(root_files or ROOT_FILES), **files})
    return make


def rules_of(report, *codes):
    return [(f.rule, f.path, f.line, f.column) for f in report.findings if f.rule in codes]


HR = d("""
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: podinfo
      namespace: apps
    spec:
      interval: 30m
      chart:
        spec:
          chart: podinfo
          version: {version}
          sourceRef:
            kind: {kind}
            name: podinfo
            namespace: flux-system
    """)
HREPO = d("""
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: HelmRepository
    metadata:
      name: podinfo
      namespace: flux-system
    spec:
      interval: 1h
      url: https://stefanprodan.github.io/podinfo
    """)


# --------------------------------------------------------------------------- pinning

@pytest.mark.parametrize("version,bad", [
    ('"*"', True), ('">=6.0.0"', True), ("6.x", True), ("^6.1", True), ("6.9.2", False), ("v6.9.2", False),
    ("6.9.2-rc.1", False), ("${PODINFO_VERSION}", False)])
def test_chart_version_pinned(app, version, bad):
    report = lint(app({"apps/hr.yaml": HR.replace("{version}", version).replace("{kind}", "HelmRepository"),
                       "apps/repo.yaml": HREPO}))
    assert rules_of(report, "FLX301") == ([("FLX301", "apps/hr.yaml", 11, 16)] if bad else [])


def test_chart_version_missing_and_git_source_ignored(app):
    no_version = HR.replace("      version: {version}\n", "").replace("{kind}", "HelmRepository")
    report = lint(app({"apps/hr.yaml": no_version, "apps/repo.yaml": HREPO}))
    f = [x for x in report.findings if x.rule == "FLX301"]
    assert [(x.line, x.column) for x in f] == [(10, 14)] and "no version" in f[0].message
    git = HR.replace("{version}", '"*"').replace("{kind}", "GitRepository")
    assert rules_of(lint(app({"apps/hr.yaml": git})), "FLX301") == []


OCI = d("""
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata:
      name: podinfo
      namespace: flux-system
    spec:
      interval: 1h
      url: oci://ghcr.io/stefanprodan/charts/podinfo
    """)


@pytest.mark.parametrize("ref,line", [
    ("", 8), ("  ref:\n    tag: latest\n", 10), ("  ref:\n    semver: '>=6.0.0'\n", 10),
    ("  ref:\n    tag: 6.9.2\n", None), ("  ref:\n    digest: sha256:abc\n", None)])
def test_oci_ref_pinned(app, ref, line):
    report = lint(app({"apps/oci.yaml": OCI + ref}))
    assert [f[2] for f in rules_of(report, "FLX302")] == ([line] if line else [])


def test_oci_strict_requires_digest(app):
    root = app({"apps/oci.yaml": OCI + "  ref:\n    tag: 6.9.2\n", ".gitlint-flux.yaml": "extends: strict\n"})
    report = lint(root)
    f = [x for x in report.findings if x.rule == "FLX302"]
    assert len(f) == 1 and f[0].severity == "error" and "digest" in f[0].message


DEPLOY = d("""
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: apps
    spec:
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
            - name: web
              image: {image}
    """)


@pytest.mark.parametrize("image,bad", [
    ("nginx", True), ("nginx:latest", True), ("registry:5000/team/nginx", True), ("nginx:1.27.2", False),
    ("registry:5000/team/nginx:1.2", False), ("nginx@sha256:0123", False)])
def test_image_tag_pinned(app, image, bad):
    report = lint(app({"apps/deploy.yaml": DEPLOY.replace("{image}", image)}))
    assert rules_of(report, "FLX303") == ([("FLX303", "apps/deploy.yaml", 15, 18)] if bad else [])


def test_image_tag_after_kustomize_images_override(app):
    root = app({
        "apps/kustomization.yaml": "resources:\n  - deploy.yaml\nimages:\n  - name: nginx\n    newTag: 1.27.2\n",
        "apps/deploy.yaml": DEPLOY.replace("{image}", "nginx:latest"),
    })
    assert rules_of(lint(root), "FLX303") == []
    root2 = app({
        "apps/kustomization.yaml": "resources:\n  - deploy.yaml\nimages:\n  - name: nginx\n    newTag: latest\n",
        "apps/deploy.yaml": DEPLOY.replace("{image}", "nginx:1.0"),
    })
    f = [x for x in lint(root2).findings if x.rule == "FLX303"]
    assert len(f) == 1 and "after images: nginx:latest" in f[0].message


def test_git_branch_tracking_only_in_strict_and_not_for_bootstrap(app):
    gitrepo = d("""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata:
          name: base
          namespace: flux-system
        spec:
          interval: 5m
          url: https://github.com/example/base
          ref:
            branch: main
        """)
    root = app({"apps/git.yaml": gitrepo})
    assert rules_of(lint(root), "FLX304") == []
    (root / ".gitlint-flux.yaml").write_text("extends: strict\n")
    assert rules_of(lint(root), "FLX304") == [("FLX304", "apps/git.yaml", 10, 13)]


# --------------------------------------------------------------------------- operations

def test_prune_false_and_allow_option(app):
    root = app({"clusters/prod/crds.yaml": flux_ks("crds", "./apps").replace("prune: true", "prune: false")})
    assert rules_of(lint(root), "FLX601") == [("FLX601", "clusters/prod/crds.yaml", 9, 10)]
    (root / ".gitlint-flux.yaml").write_text("rules:\n  prune-enabled:\n    options:\n      allow: [flux-system/crds]\n")
    assert rules_of(lint(root), "FLX601") == []


def test_interval_bounds_default_and_strict(app):
    fast = HREPO.replace("interval: 1h", "interval: 30s")
    root = app({"apps/repo.yaml": fast})
    assert rules_of(lint(root), "FLX602") == [("FLX602", "apps/repo.yaml", 7, 13)]
    ok = app({"apps/repo.yaml": HREPO.replace("interval: 1h", "interval: 5m")})
    assert rules_of(lint(ok), "FLX602") == []
    (ok / ".gitlint-flux.yaml").write_text("extends: strict\n")
    f = [x for x in lint(ok).findings if x.rule == "FLX602"]
    assert [(x.path, x.line) for x in f] == [("apps/repo.yaml", 7)] and "shorter than 10m" in f[0].message


def test_suspend_and_force(app):
    root = app({"clusters/prod/x.yaml": flux_ks("x", "./apps", extra="  suspend: true\n  force: true\n")})
    assert rules_of(lint(root), "FLX603", "FLX604") == [
        ("FLX603", "clusters/prod/x.yaml", 13, 12), ("FLX604", "clusters/prod/x.yaml", 14, 10)]


def test_helm_remediation_after_parent_patches(app):
    hr = HR.replace("{version}", "6.9.2").replace("{kind}", "HelmRepository")
    strict = {".gitlint-flux.yaml": "extends: strict\n"}
    root = app({"apps/hr.yaml": hr, "apps/repo.yaml": HREPO, **strict})
    assert [f[0] for f in rules_of(lint(root), "FLX605")] == ["FLX605"]
    patch = (
        "  patches:\n"
        "    - target:\n"
        "        kind: HelmRelease\n"
        "      patch: |\n"
        "        apiVersion: helm.toolkit.fluxcd.io/v2\n"
        "        kind: HelmRelease\n"
        "        metadata:\n"
        "          name: _\n"
        "        spec:\n"
        "          install:\n"
        "            remediation:\n"
        "              retries: 3\n"
        "          upgrade:\n"
        "            remediation:\n"
        "              retries: 3\n"
    )
    patched = flux_ks("apps", "./apps", extra=patch)
    root2 = app({"apps/hr.yaml": hr, "apps/repo.yaml": HREPO, **strict},
                root_files={**ROOT_FILES, "clusters/prod/apps.yaml": patched})
    assert rules_of(lint(root2), "FLX605") == []


def test_kustomization_health_strict_only(app):
    root = app({})
    assert rules_of(lint(root), "FLX606") == []
    (root / ".gitlint-flux.yaml").write_text("extends: strict\n")
    assert rules_of(lint(root), "FLX606") == [("FLX606", "clusters/prod/apps.yaml", 6, 1),
                                              ("FLX606", "clusters/prod/flux-system/gotk-sync.yaml", 18, 1)]


# --------------------------------------------------------------------------- references

def test_dangling_source_ref_and_resolution(app):
    hr = HR.replace("{version}", "6.9.2").replace("{kind}", "HelmRepository")
    assert rules_of(lint(app({"apps/hr.yaml": hr})), "FLX401") == [("FLX401", "apps/hr.yaml", 14, 15)]
    assert rules_of(lint(app({"apps/hr.yaml": hr, "apps/repo.yaml": HREPO})), "FLX401") == []


def test_dangling_depends_on_and_helmrelease_hint(app):
    hr = HR.replace("{version}", "6.9.2").replace("{kind}", "HelmRepository")
    root = app({
        "apps/hr.yaml": hr, "apps/repo.yaml": HREPO,
        "clusters/prod/more.yaml": flux_ks("more", "./apps", extra="  dependsOn:\n    - name: nope\n"
                                                                   "    - name: podinfo\n      namespace: apps\n"),
    })
    f = [x for x in lint(root).findings if x.rule == "FLX402"]
    assert [(x.line, x.column) for x in f] == [(14, 13), (15, 13)]
    assert "HelmRelease" in f[1].message and "healthChecks" in f[1].hint


def test_dependency_cycle_reported_once(app):
    root = app({
        "clusters/prod/a.yaml": flux_ks("a", "./apps", extra="  dependsOn:\n    - name: b\n"),
        "clusters/prod/b.yaml": flux_ks("b", "./apps", extra="  dependsOn:\n    - name: c\n"),
        "clusters/prod/c.yaml": flux_ks("c", "./apps", extra="  dependsOn:\n    - name: a\n"),
    })
    f = [x for x in lint(root).findings if x.rule == "FLX403"]
    assert len(f) == 1 and (f[0].path, f[0].line) == ("clusters/prod/a.yaml", 14)
    assert "a -> " in f[0].message and len(f[0].related) == 2


def test_layer_order(repo):
    root = repo({
        "flux/manifests/01-bootstrap/flux-system/gotk-sync.yaml": gotk_sync("flux/manifests"),
        "flux/manifests/01-bootstrap/crds.yaml": flux_ks("crds", "./flux/manifests/03-apps/x",
                                                         extra="  dependsOn:\n    - name: app\n"),
        "flux/manifests/03-apps/app.yaml": flux_ks("app", "./flux/manifests/03-apps/x"),
        "flux/manifests/03-apps/x/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    })
    assert rules_of(lint(root), "FLX406") == [("FLX406", "flux/manifests/01-bootstrap/crds.yaml", 14, 13)]


def test_orphan_kustomization(app):
    root = app({"elsewhere/orphan.yaml": flux_ks("orphan", "./apps")})
    assert rules_of(lint(root), "FLX407") == [("FLX407", "elsewhere/orphan.yaml", 1, 1)]
    # the orphan's file gets no separate not-applied info (one defect, one finding)
    assert rules_of(lint(root), "FLX107") == []


def test_duplicate_object_once_per_overlap(app):
    root = app({
        "clusters/prod/again.yaml": flux_ks("again", "./apps"),
        "apps/cm1.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n",
        "apps/cm2.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n",
    })
    f = [x for x in lint(root).findings if x.rule == "FLX408"]
    assert len(f) == 1 and f[0].path in ("clusters/prod/again.yaml", "clusters/prod/apps.yaml")
    assert "1 more object" in f[0].message


def test_duplicate_after_substitution_is_not_a_duplicate(app):
    comp = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${APP}-config\n"
    root = app({
        "clusters/prod/one.yaml": flux_ks("one", "./shared", extra="  postBuild:\n    substitute:\n      APP: one\n"),
        "clusters/prod/two.yaml": flux_ks("two", "./shared", extra="  postBuild:\n    substitute:\n      APP: two\n"),
        "shared/cm.yaml": comp,
    })
    assert rules_of(lint(root), "FLX408") == []


def test_remote_base_branch_vs_pinned(app):
    root = app({"apps/kustomization.yaml": d("""
        resources:
          - https://github.com/org/repo/releases/download/v1.2.0/install.yaml
          - https://raw.githubusercontent.com/org/repo/main/crds/a.yaml
          - https://raw.githubusercontent.com/org/repo/main/crds/b.yaml
          - github.com/org/repo//deploy?ref=3f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e
        """)})
    f = [x for x in lint(root).findings if x.rule == "FLX409"]
    assert [(x.line, x.column) for x in f] == [(3, 5)] and "1 more in this file" in f[0].message


def test_configmap_ref_with_generator_hash(app):
    hr = HR.replace("{version}", "6.9.2").replace("{kind}", "HelmRepository") + \
        "  valuesFrom:\n    - kind: ConfigMap\n      name: podinfo-values\n"
    kust = "namespace: apps\nresources:\n  - hr.yaml\n  - repo.yaml\nconfigMapGenerator:\n  - name: podinfo-values\n" \
           "    files:\n      - values.yaml\n"
    root = app({"apps/hr.yaml": hr, "apps/repo.yaml": HREPO, "apps/kustomization.yaml": kust,
                "apps/values.yaml": "replicaCount: 2\n"})
    f = [x for x in lint(root).findings if x.rule == "FLX405"]
    assert len(f) == 1 and "hash suffix" in f[0].message and f[0].line == 18
    (root / "apps/kustomization.yaml").write_text(kust + "generatorOptions:\n  disableNameSuffixHash: true\n")
    assert rules_of(lint(root), "FLX405") == []


# --------------------------------------------------------------------------- secrets

@pytest.mark.parametrize("data,bad", [
    ("stringData:\n  password: hunter2\n", True),
    ("data:\n  password: aHVudGVyMg==\n", True),
    ("stringData:\n  password: ${DB_PASSWORD}\n", False),
    ("stringData:\n  password: op://vault/item/password\n", False),
    ("stringData:\n  password: ''\n", False),
    ("stringData:\n  password: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:x,type:str]\n",
     False),
])
def test_plaintext_secret(app, data, bad):
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: apps\n" + data
    report = lint(app({"apps/secret.yaml": secret}))
    assert rules_of(report, "FLX501") == ([("FLX501", "apps/secret.yaml", 7, 3)] if bad else [])


def test_plaintext_secret_even_when_not_applied_and_generator_literals(app):
    root = app({
        "scratch/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  token: abc\n",
        "apps/kustomization.yaml": "secretGenerator:\n  - name: creds\n    literals:\n      - password=hunter2\n",
    })
    assert rules_of(lint(root), "FLX501") == [("FLX501", "apps/kustomization.yaml", 4, 9),
                                              ("FLX501", "scratch/secret.yaml", 6, 3)]


def test_secret_ref_resolution(app):
    repo_with_secret = HREPO + "  secretRef:\n    name: podinfo-auth\n"
    report = lint(app({"apps/repo.yaml": repo_with_secret}))
    f = [x for x in report.findings if x.rule == "FLX502"]
    assert [(x.line, x.column) for x in f] == [(10, 11)] and "Secret/flux-system/podinfo-auth" in f[0].message
    es = d("""
        apiVersion: external-secrets.io/v1
        kind: ExternalSecret
        metadata:
          name: podinfo-auth-es
          namespace: flux-system
        spec:
          target:
            name: podinfo-auth
        """)
    assert rules_of(lint(app({"apps/repo.yaml": repo_with_secret, "apps/es.yaml": es})), "FLX502") == []


def test_bootstrap_secret_with_custom_namespace_and_name_is_external(repo):
    """`flux bootstrap --namespace gitops --secret-name fleet-auth` creates the sync
    source's secret: neither the sync GitRepository nor another source reusing that
    secret has a missing reference; a different secret still does."""
    sync = gotk_sync("clusters/prod").replace("namespace: flux-system", "namespace: gitops").replace(
        "    branch: main\n", "    branch: main\n  secretRef:\n    name: fleet-auth\n")
    other = d("""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata:
          name: charts
          namespace: gitops
        spec:
          interval: 1h
          ref:
            tag: v1.0.0
          url: ssh://git@github.com/example/charts
          secretRef:
            name: fleet-auth
        """)
    root = repo({"clusters/prod/flux-system/gotk-sync.yaml": sync, "clusters/prod/charts.yaml": other})
    assert rules_of(lint(root), "FLX502") == []
    root = repo({"clusters/prod/flux-system/gotk-sync.yaml": sync,
                 "clusters/prod/charts.yaml": other.replace("name: fleet-auth", "name: charts-auth")})
    assert rules_of(lint(root), "FLX502") == [("FLX502", "clusters/prod/charts.yaml", 12, 11)]


def test_sops_without_decryption(app):
    enc = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  p: ENC[AES256_GCM,data:a,type:str]\n" \
          "sops:\n  mac: ENC[AES256_GCM,data:x,type:str]\n"
    root = app({"apps/secret.sops.yaml": enc})
    assert rules_of(lint(root), "FLX503") == [("FLX503", "clusters/prod/apps.yaml", 6, 1)]
    dec = flux_ks("apps", "./apps", extra="  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n")
    root2 = app({"apps/secret.sops.yaml": enc}, root_files={**ROOT_FILES, "clusters/prod/apps.yaml": dec})
    assert rules_of(lint(root2), "FLX503") == []


# --------------------------------------------------------------------------- post-build

def test_undefined_variable_and_escapes(app):
    pb = flux_ks("apps", "./apps", extra="  postBuild:\n    substitute:\n      CLUSTER: prod\n")
    cm = d("""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
        data:
          cluster: ${CLUSTER}
          domain: ${DOMAIN}
          defaulted: ${REGION:=eu}
          escaped: $${LITERAL}
        """)
    root = app({"apps/cm.yaml": cm}, root_files={**ROOT_FILES, "clusters/prod/apps.yaml": pb})
    f = [x for x in lint(root).findings if x.rule == "FLX701"]
    assert [(x.path, x.line, x.column) for x in f] == [("apps/cm.yaml", 7, 11)] and "DOMAIN" in f[0].message
    disabled = cm.replace("  name: settings\n", "  name: settings\n  annotations:\n"
                                                "    kustomize.toolkit.fluxcd.io/substitute: disabled\n")
    root2 = app({"apps/cm.yaml": disabled}, root_files={**ROOT_FILES, "clusters/prod/apps.yaml": pb})
    assert rules_of(lint(root2), "FLX701") == []


def test_undefined_variable_from_substitute_from_configmap(app):
    pb = flux_ks("apps", "./apps", extra="  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n"
                                         "        name: cluster-vars\n")
    vars_cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\n" \
              "data:\n  DOMAIN: example.com\n"
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: ${DOMAIN}\n  b: ${MISSING}\n"
    root = app({"apps/cm.yaml": cm, "clusters/prod/vars.yaml": vars_cm},
               root_files={**ROOT_FILES, "clusters/prod/apps.yaml": pb})
    assert rules_of(lint(root), "FLX701") == [("FLX701", "apps/cm.yaml", 7, 6)]
    # a substituteFrom source that is not in the repository: its keys are unknown
    root2 = app({"apps/cm.yaml": cm}, root_files={**ROOT_FILES, "clusters/prod/apps.yaml": pb})
    assert rules_of(lint(root2), "FLX701") == []


def test_unsubstituted_variable_only_for_flux_variables(app):
    other = flux_ks("other", "./other", extra="  postBuild:\n    substitute:\n      DOMAIN: example.com\n")
    deploy = DEPLOY.replace("{image}", "nginx:1.0") + \
        "          args: [\"--host=app.${DOMAIN}\", \"--home=${HOME}\"]\n"
    root = app({"apps/deploy.yaml": deploy, "other/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: o\n"},
               root_files={**ROOT_FILES, "clusters/prod/other.yaml": other})
    f = [x for x in lint(root).findings if x.rule == "FLX702"]
    assert len(f) == 1 and f[0].severity == "info" and "DOMAIN" in f[0].message and "HOME" not in f[0].message


# --------------------------------------------------------------------------- controls

BROKEN = "resources:\n  - gone.yaml\n"


def test_inline_suppressions_each_form(app):
    root = app({
        "apps/kustomization.yaml": "resources:\n  - gone.yaml  # gitlint-flux: disable=FLX101 -- vendored later\n"
                                   "  - gone2.yaml\n"
                                   "  # gitlint-flux: disable=missing-reference\n"
                                   "  - gone3.yaml\n"
                                   "  # gitlint-flux: disable-block=FLX101\n"
                                   "  - gone4.yaml\n"
                                   "  # gitlint-flux: enable-block=FLX101\n"
                                   "  - gone5.yaml\n",
    })
    assert [f[2] for f in rules_of(lint(root), "FLX101")] == [3, 9]


def test_disable_file_and_unused_and_unknown(app):
    root = app({"apps/kustomization.yaml": "# gitlint-flux: disable-file=FLX101\nresources:\n  - gone.yaml\n"
                                           "  - cm.yaml  # gitlint-flux: disable=FLX303\n"
                                           "  - cm.yaml  # gitlint-flux: disable=FLX999\n",
                "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"})
    report = lint(root)
    assert rules_of(report, "FLX101") == []
    f = [(x.line, x.message) for x in report.findings if x.rule == "FLX901"]
    assert f == [(4, "suppression of FLX303 suppresses nothing"),
                 (5, "suppression names unknown rule(s): FLX999")]


def test_no_inline_suppressions_in_ci(app, capsys):
    root = app({"apps/kustomization.yaml": "resources:\n  - gone.yaml  # gitlint-flux: disable=FLX101\n"})
    assert main(["lint", "--format", "json", "--no-inline-suppressions", str(root)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in data["findings"]] == ["FLX101"]


def test_config_ignore_by_path_rule_and_resource(app):
    root = app({"apps/kustomization.yaml": BROKEN,
                "vendor/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: b\n",
                ".gitlint-flux.yaml": d("""
                    ignore:
                      - path: vendor/**
                        rules: [plaintext-secret]
                      - resource: "*/*/nothing"
                    """)})
    assert sorted(f[0] for f in rules_of(lint(root), "FLX101", "FLX501")) == ["FLX101"]


def test_baseline_round_trip_survives_line_moves(app, tmp_path, capsys):
    root = app({"apps/kustomization.yaml": BROKEN})
    base = tmp_path / "baseline.json"
    assert main(["lint", "--write-baseline", str(base), str(root)]) == 0
    capsys.readouterr()
    assert json.loads(base.read_text())["findings"][0]["rule"] == "FLX101"
    (root / "apps/kustomization.yaml").write_text("# moved\n\n" + BROKEN)
    assert main(["lint", "--baseline", str(base), str(root)]) == 0
    capsys.readouterr()
    (root / "apps/kustomization.yaml").write_text(BROKEN + "  - new-gone.yaml\n")
    assert main(["lint", "--format", "json", "--baseline", str(base), str(root)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["message"].split("`")[1] for f in data["findings"]] == ["new-gone.yaml"]
    (tmp_path / "bad.json").write_text("{}")
    assert main(["lint", "--baseline", str(tmp_path / "bad.json"), str(root)]) == 2


def test_profiles_and_overrides(app):
    hr = HR.replace("{version}", '"*"').replace("{kind}", "HelmRepository")
    root = app({"apps/hr.yaml": hr, "apps/repo.yaml": HREPO})
    assert [f.severity for f in lint(root).findings if f.rule == "FLX301"] == ["warning"]
    (root / ".gitlint-flux.yaml").write_text("extends: strict\n")
    assert [f.severity for f in lint(root).findings if f.rule == "FLX301"] == ["error"]
    (root / ".gitlint-flux.yaml").write_text("extends: strict\nrules:\n  FLX301: info\n")
    assert [f.severity for f in lint(root).findings if f.rule == "FLX301"] == ["info"]
    (root / ".gitlint-flux.yaml").write_text("extends: strict\nrules:\n  chart-version-pinned: off\n")
    assert [f.severity for f in lint(root).findings if f.rule == "FLX301"] == []
    (root / "team.yaml").write_text("extends: strict\nrules:\n  FLX301: warning\n")
    (root / ".gitlint-flux.yaml").write_text("extends: team.yaml\n")
    assert [f.severity for f in lint(root).findings if f.rule == "FLX301"] == ["warning"]


def test_config_errors(app, capsys):
    root = app({})
    for text, msg in [
        ("extends: nope\n", "profile `nope` not found"),
        ("rules:\n  FLX999: off\n", "unknown rule `FLX999`"),
        ("rules:\n  interval-bounds:\n    options:\n      minimum: 1\n", "unknown option `minimum`"),
        ("ignore:\n  - {}\n", "ignore[0]"),
    ]:
        (root / ".gitlint-flux.yaml").write_text(text)
        assert main(["lint", str(root)]) == 2
        assert msg in capsys.readouterr().err


def test_custom_policies_shipped_examples(app):
    import shutil
    from pathlib import Path

    import gitlint_flux

    examples = Path(gitlint_flux.__file__).parent / "policies" / "examples"
    root = app({"apps/deploy.yaml": DEPLOY.replace("{image}", "nginx:1.0"),
                ".gitlint-flux.yaml": "policies:\n  - policies\n"})
    shutil.copytree(examples, root / "policies")
    report = lint(root)
    f = [x for x in report.findings if x.rule == "ORG001"]
    assert len(f) == 1 and (f[0].path, f[0].line) == ("apps/deploy.yaml", 3) and f[0].severity == "warning"
    assert "team" in f[0].message and report.rules["ORG001"].slug == "require-team-label"
    labelled = DEPLOY.replace("{image}", "nginx:1.0").replace("  name: web\n", "  name: web\n  labels:\n    team: a\n", 1)
    (root / "apps/deploy.yaml").write_text(labelled)
    assert [x for x in lint(root).findings if x.rule == "ORG001"] == []


def test_custom_policy_errors(app, capsys):
    root = app({".gitlint-flux.yaml": "policies:\n  - pol\n", "pol/p.yaml": "code: FLX123\nslug: x\nmessage: m\nschema: {}\n"})
    assert main(["lint", str(root)]) == 2
    assert "reserved" in capsys.readouterr().err


def test_configmap_ref_rewritten_by_kustomize_configurations(app):
    """kustomize rewrites references declared in `configurations` nameReference files,
    hash suffix included (Flux's monitoring example does this for valuesFrom)."""
    hr = HR.replace("{version}", "6.9.2").replace("{kind}", "HelmRepository") + \
        "  valuesFrom:\n    - kind: ConfigMap\n      name: podinfo-values\n"
    kust = "namespace: apps\nresources:\n  - hr.yaml\n  - repo.yaml\nconfigMapGenerator:\n  - name: podinfo-values\n" \
           "    files:\n      - values.yaml\nconfigurations:\n  - kustomizeconfig.yaml\n"
    conf = "nameReference:\n- kind: ConfigMap\n  version: v1\n  fieldSpecs:\n  - path: spec/valuesFrom/name\n" \
           "    kind: HelmRelease\n"
    root = app({"apps/hr.yaml": hr, "apps/repo.yaml": HREPO, "apps/kustomization.yaml": kust,
                "apps/values.yaml": "replicaCount: 2\n", "apps/kustomizeconfig.yaml": conf})
    assert rules_of(lint(root), "FLX405") == []
