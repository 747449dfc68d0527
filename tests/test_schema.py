"""Schema validation (FLX201-FLX212): each point of the feature pinned with rule, line and
column on small repositories written by the tests or kept under fixtures/schema/."""

from __future__ import annotations

import json
import textwrap

import pytest
from conftest import FIXTURES, flux_ks, gotk_sync, lint, widget_crd

import gitlint_flux.engine as engine
from gitlint_flux.config import Config
from gitlint_flux.model import ERROR, INFO, WARNING

SCHEMA_FIXTURES = FIXTURES / "schema"


def s2(report, *codes):
    """FLX2xx findings as (rule, path, line, column)."""
    return sorted(((f.rule, f.path, f.line, f.column) for f in report.findings
                   if f.rule.startswith("FLX2") and (not codes or f.rule in codes)), key=lambda t: (t[1], t[2], t[3], t[0]))


def by_rule(report, code):
    return [f for f in report.findings if f.rule == code]


def cluster(files: dict, postbuild: str = "") -> dict:
    """A cluster `clusters/prod` whose Kustomization `apps` applies `./apps`."""
    out = {
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", extra=postbuild),
    }
    out.update(files)
    return out


def lint_with(root, monkeypatch, **settings):
    """Lint with configuration settings the config file format may not carry yet."""
    from gitlint_flux import workspace

    real = workspace.load_config

    def patched(*a, **kw):
        cfg = real(*a, **kw)
        for k, v in settings.items():
            setattr(cfg, k, v)
        return cfg

    monkeypatch.setattr(workspace, "load_config", patched)
    return lint(root)


def line_col(root, rel, needle, nth=1, key=None):
    """1-based (line, column) of the nth occurrence of `needle` in a file."""
    n = 0
    for i, line in enumerate((root / rel).read_text().splitlines()):
        if needle in line:
            n += 1
            if n == nth:
                return i + 1, line.index(needle) + 1
    raise AssertionError(needle)


HR = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: default
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: 6.9.2
      sourceRef:
        kind: HelmRepository
        name: podinfo
  install:
    remediation:
      retries: 3
  values:
    anything:
      goes: [1, 2]
    replicaCount: "free-form"
"""


# --------------------------------------------------------------------------- unknown fields, types


def test_unknown_fields_at_every_depth_with_closest_name(repo):
    text = (HR.replace("  interval: 10m", "  intervall: 10m")
            .replace("        name: podinfo", "        nmae: podinfo")
            .replace("      retries: 3", "      retires: 3"))
    root = repo(cluster({"apps/hr.yaml": text}))
    r = lint(root)
    assert s2(r) == [
        ("FLX201", "apps/hr.yaml", 7, 3),
        ("FLX201", "apps/hr.yaml", 14, 9),
        ("FLX201", "apps/hr.yaml", 17, 7),
    ]
    msgs = {f.line: (f.message, f.hint) for f in by_rule(r, "FLX201")}
    assert msgs[7] == ("unknown field `spec.intervall` (did you mean `interval`?)", "did you mean `interval`?")
    assert msgs[14][0] == "unknown field `spec.chart.spec.sourceRef.nmae` (did you mean `name`?)"
    assert msgs[17][0] == "unknown field `spec.install.remediation.retires` (did you mean `retries`?)"
    # the misspelt `interval` and `name` are not also reported missing
    assert not by_rule(r, "FLX203")


def test_preserve_unknown_fields_are_free_form(repo):
    root = repo(cluster({"apps/hr.yaml": HR}))
    assert s2(lint(root)) == []


def test_quoted_boolean_and_yaml11_word(repo):
    ks = flux_ks("infra", "./infra").replace("prune: true", 'prune: "true"') + "  suspend: yes\n"
    root = repo(cluster({"apps/ks.yaml": ks, "infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"}))
    r = lint(root)
    assert s2(r, "FLX202") == [("FLX202", "apps/ks.yaml", 9, 10), ("FLX202", "apps/ks.yaml", 13, 12)]
    f1, f2 = sorted(by_rule(r, "FLX202"), key=lambda f: f.line)
    assert f1.message == '`spec.prune` must be a boolean, not the string `"true"`'
    assert "Remove the quotes" in f1.hint
    assert "YAML 1.2" in f2.hint and f2.severity == ERROR
    assert f2.message == '`spec.suspend` must be a boolean, not the string `"yes"`'


def test_core_kind_typo_type_and_int_or_string(repo):
    deploy = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      replicas: 2
      strategy:
        rollingUpdate:
          maxSurge: 25%
          maxUnavailable: 0.5
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
            - name: web
              image: nginx:1.27
              imagePullPolicy: IfNotPresent
              ports:
                - containerPort: "80"
              resources:
                limit:
                  cpu: 100m
    """
    root = repo(cluster({"apps/deploy.yaml": deploy}))
    r = lint(root)
    # maxSurge: 25% is an IntOrString; imagePullPolicy and the rest are right
    assert s2(r) == [
        ("FLX202", "apps/deploy.yaml", 10, 23),
        ("FLX202", "apps/deploy.yaml", 22, 30),
        ("FLX201", "apps/deploy.yaml", 24, 13),
    ]
    msgs = {f.line: f.message for f in r.findings if f.rule.startswith("FLX2")}
    assert msgs[10] == "`spec.strategy.rollingUpdate.maxUnavailable` must be a string or an integer, not the number `0.5`"
    assert msgs[22] == '`spec.template.spec.containers[0].ports[0].containerPort` must be an integer, not the string `"80"`'
    assert msgs[24] == "unknown field `spec.template.spec.containers[0].resources.limit` (did you mean `limits`?)"


# --------------------------------------------------------------------------- required, values


def test_missing_and_null_required_fields(repo):
    ks = flux_ks("infra", "./infra").replace("    name: flux-system\n", "").replace("  interval: 10m\n", "  interval:\n")
    root = repo(cluster({"apps/ks.yaml": ks, "infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"}))
    r = lint(root)
    assert s2(r) == [("FLX203", "apps/ks.yaml", 7, 3), ("FLX203", "apps/ks.yaml", 10, 3)]
    msgs = sorted(f.message for f in by_rule(r, "FLX203"))
    assert msgs == ["missing required field `name` in `spec.sourceRef`", "required field `spec.interval` is empty (null)"]


def test_durations_enums_and_base64(repo):
    files = {
        "apps/git.yaml": """
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: GitRepository
            metadata:
              name: podinfo
            spec:
              interval: 1h30m
              timeout: 1h
              url: https://github.com/stefanprodan/podinfo
            """,
        "apps/ks.yaml": flux_ks("infra", "./infra", source="podinfo").replace("interval: 10m", "interval: 5min")
        .replace("kind: GitRepository", "kind: Gitrepository"),
        "apps/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: bm90IGJhc2U2NA==\n  b: plain text\n",
        "infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    }
    root = repo(cluster(files))
    r = lint(root)
    assert s2(r) == [
        ("FLX204", "apps/git.yaml", 7, 12),
        ("FLX204", "apps/ks.yaml", 7, 13),
        ("FLX204", "apps/ks.yaml", 11, 11),
        ("FLX204", "apps/secret.yaml", 7, 6),
    ]
    f = {(x.path, x.line): x for x in by_rule(r, "FLX204")}
    assert f[("apps/git.yaml", 7)].message == "`spec.timeout` value `1h` does not match the pattern `^([0-9]+(\\.[0-9]+)?(ms|s|m))+$`"
    assert "no hours" in f[("apps/git.yaml", 7)].hint
    assert "Go duration" in f[("apps/ks.yaml", 7)].hint
    assert f[("apps/ks.yaml", 11)].hint == "did you mean `GitRepository`?"
    assert "base64" in f[("apps/secret.yaml", 7)].message


# --------------------------------------------------------------------------- CEL


def test_cel_helmrelease_chart_or_chartref(repo):
    neither = HR.replace("  chart:\n    spec:\n      chart: podinfo\n      version: 6.9.2\n      sourceRef:\n"
                         "        kind: HelmRepository\n        name: podinfo\n", "")
    both = HR.replace("  install:", "  chartRef:\n    kind: OCIRepository\n    name: podinfo\n  install:")
    root = repo(cluster({"apps/neither.yaml": neither, "apps/both.yaml": both}))
    r = lint(root)
    assert s2(r) == [("FLX205", "apps/both.yaml", 6, 1), ("FLX205", "apps/neither.yaml", 6, 1)]
    assert {f.message for f in r.findings if f.rule == "FLX205"} == {"`spec`: either chart or chartRef must be set"}
    assert all("x-kubernetes-validations rule" in f.hint for f in by_rule(r, "FLX205"))


def test_cel_reads_structural_defaults(repo):
    # Bucket's provider defaults to `generic`: its STS must then be `ldap`
    bucket = """
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: Bucket
    metadata:
      name: b
    spec:
      interval: 5m
      bucketName: x
      endpoint: minio.example.com
      sts:
        provider: aws
        endpoint: https://sts.example.com
    """
    ok = bucket.replace("provider: aws", "provider: ldap")
    root = repo(cluster({"apps/bad.yaml": bucket, "apps/ok.yaml": ok}))
    r = lint(root)
    assert s2(r) == [("FLX205", "apps/bad.yaml", 5, 1)]
    assert by_rule(r, "FLX205")[0].message == "`spec`: 'ldap' is the only supported STS provider for the 'generic' Bucket provider"


def test_cel_not_evaluated_over_a_reported_field(repo):
    bucket = """
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: Bucket
    metadata:
      name: b
    spec:
      interval: 5m
      bucketName: x
      endpoint: minio.example.com
      sts:
        provider: oidc
        endpoint: https://sts.example.com
    """
    root = repo(cluster({"apps/b.yaml": bucket}))
    assert s2(lint(root)) == [("FLX204", "apps/b.yaml", 10, 15)]


# --------------------------------------------------------------------------- metadata


def test_metadata_names_per_kind(repo):
    docs = """
    apiVersion: v1
    kind: Namespace
    metadata:
      name: My_Apps
    ---
    apiVersion: v1
    kind: Service
    metadata:
      name: 1web
    spec:
      ports: [{port: 80}]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata:
      name: system:my-reader
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata:
      name: a/b
    ---
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: a-very-long-cronjob-name-that-is-more-than-fifty-two-x
    spec:
      schedule: "@daily"
      jobTemplate:
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{name: c, image: busybox:1.36}]
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata:
      generateName: cfg-
      namespace: Bad_NS
      labels:
        app.kubernetes.io/name: "has spaces"
        Example.com/x: y
      annotations:
        "a/b/c": x
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata:
      labels: {a: b}
    """
    root = repo(cluster({"apps/all.yaml": docs}))
    r = lint(root)
    got = [(f.line, f.column, f.message) for f in sorted(by_rule(r, "FLX206"), key=lambda f: (f.line, f.column))]
    assert [(a, b) for a, b, _ in got] == [(4, 9), (9, 9), (21, 9), (26, 9), (40, 14), (42, 29), (43, 5), (45, 5), (49, 1)]
    text = "\n".join(m for _, _, m in got)
    assert "not a valid Namespace name: it must be a DNS-1123 label" in text
    assert "not a valid Service name: it must be a DNS-1035 label" in text
    assert "not a valid Role name: it must be a path segment" in text
    assert "is 54 characters long; a CronJob name may have at most 52" in text
    assert "`metadata.namespace` `Bad_NS` is not a valid namespace" in text
    assert "the value of label `app.kubernetes.io/name` is invalid" in text
    assert "label key `Example.com/x` is invalid: its prefix `Example.com` is not a DNS-1123 subdomain" in text
    assert "annotation key `a/b/c` is invalid" in text
    assert "missing `metadata.name`: every ConfigMap needs a name" in text
    assert all(f.rule != "FLX203" for f in r.findings)


def test_crd_name_must_be_plural_dot_group(repo):
    crd = """
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: widget.example.com
    spec:
      group: example.com
      names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
      scope: Namespaced
      versions:
        - name: v1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec:
                  type: object
                  properties:
                    size: {type: integer}
    """
    root = repo(cluster({"apps/crd.yaml": crd}))
    r = lint(root)
    assert s2(r) == [("FLX206", "apps/crd.yaml", 4, 9)]
    assert by_rule(r, "FLX206")[0].message == (
        "`metadata.name` of a CustomResourceDefinition must be `<plural>.<group>`: `widgets.example.com`, "
        "not `widget.example.com`")


def test_namespace_renamed_by_kustomize_namespace():
    # onedr0p+home-ops: `name: _` with `namespace: cert-manager` in the kustomization
    r = lint(SCHEMA_FIXTURES / "namespace-renamed")
    assert s2(r) == []


# --------------------------------------------------------------------------- API versions


def test_removed_flux_api_gets_only_that_finding(repo):
    old = HR.replace("helm.toolkit.fluxcd.io/v2", "helm.toolkit.fluxcd.io/v2beta1").replace("interval: 10m", "intervall: 1")
    root = repo(cluster({"apps/hr.yaml": old}))
    r = lint(root)
    assert s2(r) == [("FLX207", "apps/hr.yaml", 1, 13)]
    f = by_rule(r, "FLX207")[0]
    assert f.message == "`helm.toolkit.fluxcd.io/v2beta1` HelmRelease was removed in Flux 2.7; use `helm.toolkit.fluxcd.io/v2`"
    assert "flux migrate -f" in f.hint


def test_deprecated_when_the_repository_still_serves_it(repo):
    """An old gotk-components.yaml in the cluster serves v1beta2: a warning, and the
    document is validated against that CRD."""
    crd = (SCHEMA_FIXTURES / "crds" / "gitrepositories-v1beta2.yaml").read_text()
    git = """
    apiVersion: source.toolkit.fluxcd.io/v1beta2
    kind: GitRepository
    metadata:
      name: podinfo
    spec:
      interval: 5m
      url: https://github.com/stefanprodan/podinfo
      gitImplementation: go-git
      colour: blue
    """
    files = cluster({"apps/git.yaml": git, "clusters/prod/flux-system/gotk-components.yaml": crd})
    root = repo(files)
    r = lint(root)
    assert s2(r) == [("FLX208", "apps/git.yaml", 1, 13), ("FLX201", "apps/git.yaml", 9, 3)]
    f = by_rule(r, "FLX208")[0]
    assert f.severity == WARNING
    assert f.message == ("`source.toolkit.fluxcd.io/v1beta2` GitRepository is deprecated: Flux 2.8 removed it; the CRD in "
                         "`clusters/prod/flux-system/gotk-components.yaml`, Flux v0.31.3 still serves it. "
                         "Use `source.toolkit.fluxcd.io/v1`")
    assert not by_rule(r, "FLX209")


def test_removed_kubernetes_apis_follow_the_target_version(repo, monkeypatch):
    docs = """
    apiVersion: networking.k8s.io/v1beta1
    kind: Ingress
    metadata:
      name: web
    ---
    apiVersion: batch/v1beta1
    kind: CronJob
    metadata:
      name: job
    ---
    apiVersion: autoscaling/v2beta2
    kind: HorizontalPodAutoscaler
    metadata:
      name: hpa
    ---
    apiVersion: policy/v1beta1
    kind: PodSecurityPolicy
    metadata:
      name: psp
    ---
    apiVersion: apps/v2
    kind: Deployment
    metadata:
      name: web
    """
    root = repo(cluster({"apps/old.yaml": docs}))
    r = lint(root)
    assert s2(r) == [("FLX207", "apps/old.yaml", i, 13) for i in (1, 6, 11, 16, 21)]
    msgs = [f.message for f in sorted(by_rule(r, "FLX207"), key=lambda f: f.line)]
    assert msgs[0].startswith("`networking.k8s.io/v1beta1` Ingress was removed in Kubernetes 1.22; use `networking.k8s.io/v1`")
    assert msgs[1] == "`batch/v1beta1` CronJob was removed in Kubernetes 1.25; use `batch/v1`"
    assert msgs[2] == "`autoscaling/v2beta2` HorizontalPodAutoscaler was removed in Kubernetes 1.26; use `autoscaling/v2`"
    assert "it has no replacement" in msgs[3]
    assert msgs[4].startswith("`apps/v2` Deployment is not served by Kubernetes ")
    # for Kubernetes 1.25, autoscaling/v2beta2 is still served (and validated)
    r = lint_with(root, monkeypatch, kubernetes_version="1.25")
    assert [f.line for f in sorted(by_rule(r, "FLX207"), key=lambda f: f.line)] == [1, 6, 16, 21]


def test_unknown_version_of_a_crd_in_the_cluster(repo):
    crd = (SCHEMA_FIXTURES / "crds" / "widgets.yaml").read_text()
    w = "apiVersion: example.com/v2\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 1\n"
    root = repo(cluster({"apps/crd.yaml": crd, "apps/w.yaml": w}))
    r = lint(root)
    assert s2(r) == [("FLX207", "apps/w.yaml", 1, 13)]
    assert by_rule(r, "FLX207")[0].message == (
        "`example.com/v2` Widget is not served by the CRD in `apps/crd.yaml`: it serves `example.com/v1`")


# --------------------------------------------------------------------------- sources and precedence


def test_no_schema_once_per_kind_and_strict(repo, monkeypatch):
    # a group neither the repository nor the bundled catalog knows
    cert = "apiVersion: certs.example.com/v1\nkind: Certificate\nmetadata:\n  name: c{n}\nspec:\n  secretName: x\n"
    root = repo(cluster({f"apps/c{n}.yaml": cert.replace("{n}", str(n)) for n in range(3)}))
    r = lint(root)
    assert s2(r) == [("FLX209", "apps/c0.yaml", 2, 7)]
    f = by_rule(r, "FLX209")[0]
    assert f.severity == INFO
    assert f.message == "no schema for Certificate (`certs.example.com/v1`; 3 documents in 3 files): not validated"
    assert "--schema-location" in f.hint
    r = lint_with(root, monkeypatch, strict_schemas=True)
    assert [x.severity for x in by_rule(r, "FLX209")] == [ERROR]


def test_repository_crds_per_cluster_before_bundled(repo):
    """Two clusters: production vendors an old GitRepository CRD without `spec.ref`
    (schema of that cluster), staging uses the bundled Flux schema."""
    crd = (SCHEMA_FIXTURES / "crds" / "gitrepositories-minimal-v1.yaml").read_text()
    git = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: app\nspec:\n"
           "  interval: 5m\n  url: https://example.com/app\n  ref:\n    branch: main\n")
    files = {
        "clusters/production/flux-system/gotk-sync.yaml": gotk_sync("clusters/production"),
        "clusters/production/flux-system/gotk-components.yaml": crd,
        "clusters/production/app.yaml": git,
        "clusters/staging/flux-system/gotk-sync.yaml": gotk_sync("clusters/staging"),
        "clusters/staging/app.yaml": git,
    }
    root = repo(files)
    r = lint(root)
    # production's own GitRepositories (the bootstrap one too) lack `spec.ref` in its CRD
    assert s2(r) == [("FLX201", "clusters/production/app.yaml", 8, 3),
                     ("FLX201", "clusters/production/flux-system/gotk-sync.yaml", 9, 3)]


def test_schema_locations_flux_schema_and_kubeconform_layouts(repo, monkeypatch, tmp_path):
    schemas = tmp_path / "schemas"
    (schemas / "certs.example.com").mkdir(parents=True)  # a group the bundled catalog lacks
    (schemas / "certs.example.com" / "certificate_v1.json").write_text(json.dumps({
        "type": "object", "additionalProperties": False,
        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
                       "spec": {"$ref": "#/definitions/spec"}},
        "definitions": {"spec": {"type": "object", "additionalProperties": False, "required": ["secretName"],
                                 "properties": {"secretName": {"type": "string"}}}}}))
    (schemas / "_definitions.json").write_text(json.dumps({"definitions": {
        "spec": {"type": "object", "additionalProperties": False, "properties": {"size": {"type": "integer"}}}}}))
    (schemas / "widget-example-v1.json").write_text(json.dumps({
        "type": "object", "properties": {"spec": {"$ref": "_definitions.json#/definitions/spec"}}}))
    files = {
        "apps/cert.yaml": "apiVersion: certs.example.com/v1\nkind: Certificate\nmetadata:\n  name: c\nspec:\n  secretNmae: x\n",
        "apps/w.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n",
    }
    root = repo(cluster(files))
    assert s2(lint(root)) == [("FLX209", "apps/cert.yaml", 2, 7), ("FLX209", "apps/w.yaml", 2, 7)]
    r = lint_with(root, monkeypatch, schema_locations=[str(schemas)])
    assert s2(r) == [("FLX201", "apps/cert.yaml", 6, 3), ("FLX202", "apps/w.yaml", 6, 9)]


def test_precedence_is_configurable(repo, monkeypatch, tmp_path):
    """The user's GitRepository schema wins over the bundled one by default; with
    `bundled` before `locations`, the bundled one does."""
    schemas = tmp_path / "schemas" / "source.toolkit.fluxcd.io"
    schemas.mkdir(parents=True)
    (schemas / "gitrepository_v1.json").write_text(json.dumps({
        "type": "object", "properties": {"spec": {"type": "object", "additionalProperties": False, "properties": {
            "url": {"type": "string"}, "interval": {"type": "string"}, "ref": {"type": "object"}}}}}))
    git = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: a\nspec:\n"
           "  interval: 5m\n  url: https://x\n  timeout: 60s\n")
    root = repo(cluster({"apps/git.yaml": git}))
    r = lint_with(root, monkeypatch, schema_locations=[str(tmp_path / "schemas")])
    assert s2(r) == [("FLX201", "apps/git.yaml", 8, 3)]
    r = lint_with(root, monkeypatch, schema_locations=[str(tmp_path / "schemas")],
                  schema_order=["repository", "bundled", "locations", "kubernetes"])
    assert s2(r) == []


def test_flux_operator_clusters_accept_operator_event_sources():
    r = lint(SCHEMA_FIXTURES / "operator-alert")
    # the operator's cluster accepts FluxInstance/ResourceSet sources; a bootstrap cluster does not
    # (the FluxInstance itself is validated with flux-operator's bundled schema)
    assert s2(r) == [("FLX204", "standalone/alert.yaml", 10, 13)]


def test_custom_resource_metadata_is_object_meta():
    # Apocrathia+homeops vendors Longhorn CRDs whose `metadata` lists only `name`
    r = lint(SCHEMA_FIXTURES / "crd-metadata")
    assert s2(r) == [("FLX202", "cluster/jobs.yaml", 18, 11)]


def test_documents_nothing_applies_and_no_schema_knows_are_not_judged():
    # Apocrathia+homelab: Talos machine-config patches (`apiVersion: v1alpha1`, no metadata)
    r = lint(SCHEMA_FIXTURES / "talos-patches")
    assert s2(r) == [("FLX209", "talos/patch.yaml", 4, 7)]


# --------------------------------------------------------------------------- post-build, SOPS


def test_postbuild_substitution(repo):
    postbuild = ("  postBuild:\n    substitute:\n      REPLICAS: \"3\"\n      WORD: many\n"
                 "    substituteFrom:\n      - kind: ConfigMap\n        name: vars\n")
    deploy = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: ${APP_NAME:=web}
      namespace: ${UNKNOWN_NS}
      labels:
        tier: ${TIER}
    spec:
      replicas: ${REPLICAS}
      revisionHistoryLimit: ${WORD}
      minReadySeconds: ${UNDEFINED}
      progressDeadlineSeconds: ${FROM_CM}
      paused: ${PAUSED:=false}
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers: [{name: web, image: "nginx:1.27"}]
    """
    vars_cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\n  namespace: flux-system\ndata:\n  FROM_CM: ten\n  TIER: Not Valid!\n"
    root = repo(cluster({"apps/deploy.yaml": deploy, "clusters/prod/vars.yaml": vars_cm}, postbuild))
    r = lint(root)
    # resolved: name (default), replicas (inline), paused (default), a label and two
    # integers (wrong after substitution); unresolved: namespace, minReadySeconds
    assert s2(r) == [("FLX206", "apps/deploy.yaml", 7, 11), ("FLX202", "apps/deploy.yaml", 10, 25),
                     ("FLX202", "apps/deploy.yaml", 12, 28)]
    msgs = {f.line: f.message for f in r.findings if f.rule.startswith("FLX2")}
    assert msgs[10] == ('`spec.revisionHistoryLimit` must be an integer, not the string `"many"` '
                        '(after post-build substitution of `${WORD}`)')
    assert msgs[12] == ('`spec.progressDeadlineSeconds` must be an integer, not the string `"ten"` '
                        '(after post-build substitution of `${FROM_CM}`)')


def test_sops_documents(repo):
    secret = """
    apiVersion: v1
    kind: Secret
    metadata:
      name: creds
    type: Opaque
    data:
      password: ENC[AES256_GCM,data:Zm9v,iv:YmFy,tag:YmF6,type:str]
    stringData:
      port: ENC[AES256_GCM,data:ODA=,iv:YmFy,tag:YmF6,type:int]
    sops:
      age:
        - recipient: age1xyz
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
      lastmodified: "2024-01-01T00:00:00Z"
      mac: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]
      version: 3.8.1
    """
    root = repo(cluster({"apps/secret.yaml": secret}))
    assert s2(lint(root)) == []


# --------------------------------------------------------------------------- patches


def test_patch_files_and_inline_patches_are_partial(repo):
    kustomization = """
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    resources:
      - deploy.yaml
    patches:
      - path: patch.yaml
      - target:
          kind: Deployment
        patch: |
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: _
          spec:
            replicass: 2
            template:
              spec:
                containers:
                  - name: web
                    $patch: delete
    patchesStrategicMerge:
      - |-
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          paused: "no"
    """
    patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  minReadySecond: 5\n"
    deploy = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {a: b}\n"
              "  template:\n    metadata:\n      labels: {a: b}\n    spec:\n      containers: [{name: web, image: \"nginx:1\"}]\n")
    root = repo(cluster({"apps/kustomization.yaml": kustomization, "apps/patch.yaml": patch, "apps/deploy.yaml": deploy}))
    r = lint(root)
    # positions inside inline patches are mapped into the kustomization file; no
    # required-field or name findings on patches (`name: _`, no selector/template)
    assert sorted(s2(r)) == sorted([
        ("FLX201", "apps/kustomization.yaml", 15, 9),
        ("FLX211", "apps/kustomization.yaml", 21, 1),
        ("FLX202", "apps/kustomization.yaml", 28, 15),
        ("FLX201", "apps/patch.yaml", 7, 3),
    ])


def test_flux_kustomization_inline_patches(repo):
    extra = textwrap.indent(textwrap.dedent("""\
        patches:
          - target:
              kind: HelmRelease
            patch: |-
              apiVersion: helm.toolkit.fluxcd.io/v2
              kind: HelmRelease
              metadata:
                name: _
              spec:
                install:
                  remediation:
                    retries: -1
                upgrade:
                  cleanupOnFail: "yes"
        """), "  ")
    root = repo(cluster({"apps/ks.yaml": flux_ks("infra", "./infra", extra=extra),
                         "infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"}))
    r = lint(root)
    assert s2(r) == [("FLX202", "apps/ks.yaml", 26, 28)]


# --------------------------------------------------------------------------- kustomization files


def test_kustomization_files(repo):
    k = """
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    namespace: Apps
    Resources:
      - cm.yaml
    bases:
      - ../base
    commonLabels:
      app: web
    patchesJson6902: []
    configMapGenerator:
      - name: cfg
        env: app.env
        behaviour: merge
    images:
      - name: nginx
        newTag: 1.27
    """
    comp = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Component\nresources: [a.yaml]\n"
    files = {
        "apps/kustomization.yaml": k,
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        "apps/app.env": "A=1\n",
        "base/kustomization.yaml": "resources: [cm.yaml]\n",
        "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
        "comp/kustomization.yaml": comp,
        "comp/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    }
    root = repo(cluster(files))
    r = lint(root)
    got = {(f.rule, f.path, f.line, f.column): f for f in r.findings if f.rule.startswith("FLX2")}
    assert set(got) == {
        ("FLX210", "apps/kustomization.yaml", 3, 12),
        ("FLX211", "apps/kustomization.yaml", 6, 1),
        ("FLX211", "apps/kustomization.yaml", 8, 1),
        ("FLX211", "apps/kustomization.yaml", 13, 5),
        ("FLX210", "apps/kustomization.yaml", 14, 5),
        ("FLX210", "apps/kustomization.yaml", 17, 13),
        ("FLX210", "comp/kustomization.yaml", 1, 13),
    }
    assert got[("FLX210", "apps/kustomization.yaml", 14, 5)].message == (
        "unknown field `configMapGenerator[0].behaviour` (did you mean `behavior`?)")
    assert got[("FLX211", "apps/kustomization.yaml", 6, 1)].message == "`bases` is deprecated; use `resources`"
    assert got[("FLX211", "apps/kustomization.yaml", 8, 1)].message == "`commonLabels` is deprecated; use `labels`"
    assert got[("FLX211", "apps/kustomization.yaml", 13, 5)].message == (
        "`configMapGenerator[0].env` is deprecated; use `envs`")
    assert got[("FLX210", "comp/kustomization.yaml", 1, 13)].message == (
        "`apiVersion` of a Component must be `kustomize.config.k8s.io/v1alpha1`, not "
        "`kustomize.config.k8s.io/v1beta1`; kustomize refuses the file")
    # `Resources:` is accepted: kustomize matches field names case-insensitively
    assert not any("Resources" in f.message for f in r.findings)
    # patchesJson6902: [] is empty: nothing deprecated in use
    assert not any("patchesJson6902" in f.message for f in r.findings)


def test_helm_charts_only_an_error_under_flux(repo):
    k = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nhelmCharts:\n  - name: podinfo\n    repo: https://x\n"
    root = repo(cluster({"apps/kustomization.yaml": k, "local/kustomization.yaml": k}))
    r = lint(root)
    assert s2(r) == [("FLX212", "apps/kustomization.yaml", 3, 1)]
    assert "kustomize-controller builds without Helm" in by_rule(r, "FLX212")[0].message


# --------------------------------------------------------------------------- robustness


def test_an_internal_error_is_reported_once(repo, monkeypatch):
    from gitlint_flux.schema import analysis as A

    def boom(self, *a, **kw):
        raise RuntimeError("boom")

    monkeypatch.setattr(A.Analysis, "obj", boom)
    root = repo(cluster({"apps/hr.yaml": HR}))
    report, internal = engine.run(engine.Options(paths=[str(root)], root=str(root)))
    assert internal
    errs = [f for f in report.findings if f.rule == "FLX000"]
    assert len(errs) == 1 and "schema analysis failed" in errs[0].message and "boom" in errs[0].message
    assert errs[0].path == "apps/hr.yaml"  # at the document being validated


@pytest.mark.parametrize("code", [f"FLX2{n:02d}" for n in range(1, 13)])
def test_rule_documentation(code):
    from gitlint_flux.rules import lookup

    rule = lookup(code)
    doc = rule.doc()
    assert rule.summary().endswith(".") and len(rule.summary()) <= 110
    assert "**Fix:**" in doc and "Failing" in doc and "Passing" in doc


def test_config_object_without_schema_settings_is_fine():
    from gitlint_flux.schema.analysis import Settings

    s = Settings(Config(), "/r")
    assert (s.locations, s.precedence, s.kubernetes_version, s.strict) == ([], None, None, False)


def test_without_kubernetes_validate_core_kinds_have_no_schema(repo, monkeypatch):
    from gitlint_flux.schema import catalog, kube

    monkeypatch.setattr(catalog, "kube_schemas", lambda version: None)
    root = repo(cluster({"apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: 1\n"}))
    r = lint(root)
    assert s2(r) == [("FLX209", "apps/cm.yaml", 2, 7)]
    assert "pip install kubernetes-validate" in by_rule(r, "FLX209")[0].hint
    assert kube.parse_version("v1.33.2") == (1, 33) and kube.parse_version("x") is None


def test_kubernetes_version_selection():
    from gitlint_flux.schema import kube

    versions = kube.available_versions()
    if not versions:
        pytest.skip("kubernetes-validate is not installed")
    assert kube.pick_version(None) == versions[-1]
    if (1, 30) in versions:
        assert kube.pick_version("1.30") == (1, 30) and kube.pick_version("v1.30.4") == (1, 30)
    assert kube.pick_version("99.0") == versions[-1]
    assert kube.pick_version("1.0") == versions[0]


def test_kubeconform_layouts(repo, monkeypatch, tmp_path):
    schemas = tmp_path / "k"
    schemas.mkdir()
    spec = {"type": "object", "properties": {"spec": {"type": "object", "additionalProperties": False,
                                                      "properties": {"size": {"type": "integer"}}}}}
    (schemas / "gadget-example.com-v1.json").write_text(json.dumps(spec))  # {kind}-{group}-{version}
    (schemas / "gizmo_v1.json").write_text(json.dumps(spec))  # {kind}_{version}
    files = {f"apps/{k}.yaml": f"apiVersion: example.com/v1\nkind: {k.title()}\nmetadata:\n  name: x\nspec:\n  colour: red\n"
             for k in ("gadget", "gizmo")}
    root = repo(cluster(files))
    r = lint_with(root, monkeypatch, schema_locations=[str(schemas)])
    assert s2(r) == [("FLX201", "apps/gadget.yaml", 6, 3), ("FLX201", "apps/gizmo.yaml", 6, 3)]


def test_list_type_map_and_embedded_resources_of_a_crd(repo):
    crd = (SCHEMA_FIXTURES / "crds" / "widgets.yaml").read_text()
    w = textwrap.dedent("""\
        apiVersion: example.com/v1
        kind: Widget
        metadata:
          name: w
        spec:
          parts:
            - name: a
            - name: a
              count: 2
          template:
            metadata:
              name: t
        """)
    root = repo(cluster({"apps/crd.yaml": crd, "apps/w.yaml": w}))
    r = lint(root)
    assert s2(r) == [("FLX204", "apps/w.yaml", 8, 7), ("FLX203", "apps/w.yaml", 10, 3), ("FLX203", "apps/w.yaml", 10, 3)]
    msgs = sorted(f.message for f in r.findings if f.rule in ("FLX203", "FLX204"))
    assert msgs == ["`spec.parts[1]` duplicates item 0 (name=a)",
                    "missing required field `apiVersion` in the embedded object `spec.template`",
                    "missing required field `kind` in the embedded object `spec.template`"]


def test_required_field_supplied_by_a_parent_patch(repo):
    """onedr0p+home-ops: the cluster Kustomization patches defaults into its children."""
    patches = textwrap.indent(textwrap.dedent("""\
        patches:
          - target:
              kind: Kustomization
            patch: |-
              apiVersion: kustomize.toolkit.fluxcd.io/v1
              kind: Kustomization
              metadata:
                name: _
              spec:
                prune: true
        """), "  ")
    child = flux_ks("child", "./infra").replace("  prune: true\n", "")
    files = cluster({"apps/child.yaml": child, "infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"},
                    patches)
    root = repo(files)
    assert s2(lint(root)) == []
    # without the parent's patch, `prune` is missing
    root = repo(cluster({"apps/child.yaml": child}))
    assert s2(lint(root)) == [("FLX203", "apps/child.yaml", 6, 1)]


def test_kinds_a_known_group_does_not_have(repo):
    docs = ("apiVersion: apps/v1\nkind: Deploymnet\nmetadata:\n  name: a\n---\n"
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelaese\nmetadata:\n  name: b\n---\n"
            "apiVersion: helm.toolkit.fluxcd.io/v3\nkind: HelmRelease\nmetadata:\n  name: c\n")
    root = repo(cluster({"apps/typos.yaml": docs}))
    r = lint(root)
    assert s2(r) == [("FLX207", "apps/typos.yaml", 2, 7), ("FLX207", "apps/typos.yaml", 7, 7),
                     ("FLX207", "apps/typos.yaml", 11, 13)]
    assert [f.message for f in sorted(by_rule(r, "FLX207"), key=lambda f: f.line)] == [
        "`apps/v1` has no kind Deploymnet (did you mean `Deployment`?)",
        "`helm.toolkit.fluxcd.io` has no kind HelmRelaese (did you mean `HelmRelease`?)",
        "`helm.toolkit.fluxcd.io/v3` is not an API version of HelmRelease: Flux 2.9 serves `helm.toolkit.fluxcd.io/v2`",
    ]


def test_a_pattern_that_backtracks_runs_under_a_time_limit():
    """Go's RE2 is linear; Python's engine is not: a repository CRD's `^(a+)+$` must not
    hang the run (the value is left unjudged rather than misjudged)."""
    import time

    from gitlint_flux.schema.nodes import Compiler, nested_quantifier
    from gitlint_flux.schema.validate import Validator

    assert nested_quantifier("^(a+)+$") and nested_quantifier("^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$")
    assert not nested_quantifier("^[a-z]+$") and not nested_quantifier("[(]+") and not nested_quantifier("(ab)*")
    node = Compiler().compile({"type": "string", "pattern": "^(a+)+$"})
    t = time.perf_counter()
    assert Validator().run("a" * 40 + "!", node) == []
    assert time.perf_counter() - t < 2
    # a pattern that may backtrack but answers in time is checked as any other
    assert [e.kind for e in Validator().run("x", Compiler().compile({"type": "string", "pattern": "^(b+)+$"}))] == [
        "value"]


def test_without_the_bundled_schemas_flux_kinds_have_no_schema(repo, monkeypatch):
    """A build that left out the package data must not call HelmRelease an unknown kind."""
    from gitlint_flux.schema import catalog

    monkeypatch.setattr(catalog, "PACKAGE_SCHEMAS", str(SCHEMA_FIXTURES / "nowhere"))
    monkeypatch.setattr(catalog.Bundled.__init__, "__defaults__", (str(SCHEMA_FIXTURES / "nowhere"),))
    root = repo(cluster({"apps/hr.yaml": HR}))
    r = lint(root)
    assert {f.rule for f in r.findings if f.rule.startswith("FLX2")} == {"FLX209"}
    assert sorted(f.message.split(" (")[0] for f in by_rule(r, "FLX209")) == [
        "no schema for GitRepository", "no schema for HelmRelease", "no schema for Kustomization"]


def test_crd_with_keys_of_mixed_types_is_validated(repo):
    """A CRD schema whose mapping mixes an integer key with string keys (`!!int 1:`) has
    no canonical JSON form: it is compiled on its own, never an internal error."""
    crd = widget_crd("!!int 1: {type: string}", "size: {type: integer}")
    w = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n"
    r = lint(repo({"crd.yaml": crd, "w.yaml": w}))
    assert "FLX000" not in {f.rule for f in r.findings}
    assert ("FLX202", "w.yaml", 6, 9) in [(f.rule, f.path, f.line, f.column) for f in r.findings]


def test_backtracking_guard_never_fires_in_the_main_thread_for_another_thread():
    """While the main thread runs a validation pass (its SIGALRM handler installed), a
    second thread matching a risky pattern must not arm the process-wide timer: the alarm
    would interrupt the main thread outside any match."""
    import re
    import threading

    from gitlint_flux.schema import validate as V

    src = r"^(c+)+$"
    pat = (src, re.compile(src), True)
    done = []

    def worker():
        done.append(V._matches(pat, "c" * 20 + "!"))  # ~0.2 s of backtracking, unguarded here

    with V.pattern_timer():
        t = threading.Thread(target=worker)
        t.start()
        x = 0
        for i in range(3_000_000):  # unrelated work in the main thread, past the time limit
            x += i
        t.join()
    assert done == [False]  # judged in the worker; no alarm reached the main thread
