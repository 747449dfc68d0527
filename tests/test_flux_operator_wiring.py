"""Roots and sources as flux-operator, OCI artifacts and ArtifactGenerators wire them:
each case asserts the roots, the clusters, the resolved paths and edges, and the exact
findings (rule, severity, line, column)."""

from conftest import flux_ks, gotk_sync, graph_of, lint

from gitlint_flux.graph import NOT_APPLIED

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  k: v\n"


def instance(sync: str, name: str = "flux") -> str:
    return f"""\
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: {name}
  namespace: flux-system
spec:
  distribution:
    version: "2.x"
    registry: ghcr.io/fluxcd
  components: [source-controller, kustomize-controller, helm-controller, notification-controller]
  sync:
{sync}"""


GIT_SYNC = ("    kind: GitRepository\n    url: https://github.com/example/fleet.git\n    ref: refs/heads/main\n"
            "    path: clusters/prod\n")


def roots(g):
    return [(r.kind, r.path) for r in g.roots]


def applied_names(g, kind):
    return sorted((a.scope, a.namespace, a.name) for a in g.applied_objects() if a.doc.kind == kind)


def findings(report, *rules):
    return [(f.rule, f.severity, f.path, f.line, f.column) for f in report.findings if not rules or f.rule in rules]


def edges(g, kind="sourceRef"):
    return sorted((e.source.name, e.target.kind, e.target.name, e.state) for e in g.edges
                  if e.kind == kind and e.source.scope != NOT_APPLIED)


# --------------------------------------------------------------------------- FluxInstance


def test_flux_instance_is_a_root_and_its_sync_objects_are_what_children_reference(repo):
    root = repo({
        "clusters/prod/flux-system/flux-instance.yaml": instance(GIT_SYNC),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/cm.yaml": CM.format(name="app"),
    })
    g = graph_of(root)
    assert roots(g) == [("FluxInstance", "clusters/prod")]
    assert applied_names(g, "ConfigMap") == [("clusters/prod", "default", "app")]
    # flux-operator names the source and Kustomization after the instance's namespace
    assert edges(g) == [("apps", "GitRepository", "flux-system", "resolved")]
    assert findings(lint(root), "FLX401", "FLX105", "FLX107") == []


def test_flux_instance_sync_name_names_the_sync_objects(repo):
    root = repo({
        "clusters/prod/flux-system/flux-instance.yaml": instance(GIT_SYNC + "    name: fleet\n"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", source="fleet"),
        "clusters/prod/wrong.yaml": flux_ks("wrong", "./apps", source="flux-system"),
        "apps/cm.yaml": CM.format(name="app"),
    })
    g = graph_of(root)
    assert ("apps", "GitRepository", "fleet", "resolved") in edges(g)
    assert findings(lint(root), "FLX401") == [("FLX401", "error", "clusters/prod/wrong.yaml", 12, 11)]


def test_flux_instance_without_sync_url_renders_no_sync(repo):
    root = repo({"clusters/prod/flux-instance.yaml": instance("    kind: GitRepository\n    path: clusters/prod\n")})
    g = graph_of(root)
    assert "FluxInstance" not in [k for k, _ in roots(g)]


# --------------------------------------------------------------------------- the flux-instance chart


def chart_release(values: str = "", values_from: str = "") -> str:
    return f"""\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: flux-instance
  namespace: flux-system
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: flux-instance
{values_from}{values}"""


CHART_SOURCE = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: flux-instance
  namespace: flux-system
spec:
  interval: 1h
  url: oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance
  ref: {tag: 0.30.0}
"""

VALUES = """\
instance:
  distribution:
    version: 2.x
  sync:
    kind: GitRepository
    url: https://github.com/example/fleet.git
    ref: refs/heads/main
    path: kubernetes/flux/cluster
"""


def test_flux_instance_chart_with_inline_values(repo):
    inline = "  values:\n" + "".join("    " + line + "\n" for line in VALUES.splitlines())
    root = repo({
        "kubernetes/apps/flux-system/flux-instance/helmrelease.yaml": chart_release(values=inline),
        "kubernetes/apps/flux-system/flux-instance/ocirepository.yaml": CHART_SOURCE,
        "kubernetes/flux/cluster/apps.yaml": flux_ks("apps", "./kubernetes/apps"),
    })
    g = graph_of(root)
    assert roots(g) == [("flux-instance-chart", "kubernetes/flux/cluster")]
    assert ("kubernetes/flux/cluster", "flux-system", "flux-instance") in applied_names(g, "HelmRelease")


def test_flux_instance_chart_values_from_a_generated_configmap(repo):
    files = {
        "kubernetes/apps/flux-system/flux-instance/kustomization.yaml": """\
            resources: [helmrelease.yaml, ocirepository.yaml]
            configMapGenerator:
              - name: flux-instance-values
                namespace: flux-system
                files: [values.yaml]
            generatorOptions:
              disableNameSuffixHash: true
        """,
        "kubernetes/apps/flux-system/flux-instance/helmrelease.yaml": chart_release(
            values_from="  valuesFrom:\n    - kind: ConfigMap\n      name: flux-instance-values\n"),
        "kubernetes/apps/flux-system/flux-instance/ocirepository.yaml": CHART_SOURCE,
        "kubernetes/apps/flux-system/flux-instance/values.yaml": VALUES,
        "kubernetes/apps/flux-system/ks.yaml": flux_ks("flux-instance", "./kubernetes/apps/flux-system/flux-instance"),
        "kubernetes/flux/cluster/apps.yaml": flux_ks("apps", "./kubernetes/apps"),
        "kubernetes/apps/kustomization.yaml": "resources: [flux-system/ks.yaml]\n",
    }
    root = repo(files)
    g = graph_of(root)
    assert roots(g) == [("flux-instance-chart", "kubernetes/flux/cluster")]
    assert findings(lint(root), "FLX405") == []
    # with kustomize's hash suffix the reference misses the generated name: a real error
    files["kubernetes/apps/flux-system/flux-instance/kustomization.yaml"] = \
        files["kubernetes/apps/flux-system/flux-instance/kustomization.yaml"].replace(
            "generatorOptions:\n  disableNameSuffixHash: true\n", "").replace(
            "            generatorOptions:\n              disableNameSuffixHash: true\n", "")
    root2 = repo(files)
    assert roots(graph_of(root2)) == [("flux-instance-chart", "kubernetes/flux/cluster")]
    assert findings(lint(root2), "FLX405") == [
        ("FLX405", "warning", "kubernetes/apps/flux-system/flux-instance/helmrelease.yaml", 13, 13)]


# --------------------------------------------------------------------------- OCI artifacts


OCI_SYNC = "    kind: OCIRepository\n    url: oci://ghcr.io/example/fleet\n    ref: latest\n    path: ./flux/cluster\n"


def test_oci_sync_maps_to_the_pushed_directory(repo):
    # `flux push artifact --path=./kubernetes`: the sync path and the Kustomizations' paths
    # resolve under kubernetes/
    root = repo({
        "kubernetes/flux/cluster/flux-instance.yaml": instance(OCI_SYNC),
        "kubernetes/flux/cluster/apps.yaml": flux_ks("apps", "./apps").replace(
            "kind: GitRepository", "kind: OCIRepository"),
        "kubernetes/apps/cm.yaml": CM.format(name="app"),
    })
    g = graph_of(root)
    assert roots(g) == [("FluxInstance", "flux/cluster")]
    local = g.local_sources[("OCIRepository", "flux-system", "flux-system")]
    assert local.dir == "kubernetes" and "resolve under `kubernetes`" in local.reason
    assert ("flux/cluster", "default", "app") in applied_names(g, "ConfigMap")
    assert findings(lint(root), "FLX111", "FLX105", "FLX401") == []


def test_an_ambiguous_oci_sync_directory_is_one_warning(repo):
    root = repo({
        "a/flux/cluster/flux-instance.yaml": instance(OCI_SYNC),
        "b/flux/cluster/cm.yaml": CM.format(name="b"),
    })
    report = lint(root)
    assert findings(report, "FLX111") == [("FLX111", "warning", "a/flux/cluster/flux-instance.yaml", 12, 5)]
    f = next(f for f in report.findings if f.rule == "FLX111")
    assert "`a`" in f.message and "`b`" in f.message and "sources:" in f.hint


# --------------------------------------------------------------------------- ArtifactGenerator


def generator(artifacts: str, pattern: str = "") -> str:
    return f"""\
apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: fleet
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: flux-system
{pattern}  artifacts:
{artifacts}"""


def ea_ks(name: str, artifact: str, path: str) -> str:
    return flux_ks(name, path).replace("kind: GitRepository\n    name: flux-system", f"kind: ExternalArtifact\n    name: {artifact}")


def test_external_artifact_paths_resolve_through_the_copy_operations(repo):
    root = repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/artifacts.yaml": generator("""\
    - name: apps
      copy:
        - from: "@repo/apps/base/**"
          to: "@artifact/base/"
        - from: "@repo/apps/production/**"
          to: "@artifact/production/"
    - name: infra
      copy:
        - from: "@repo/infrastructure/"
          to: "@artifact/"
"""),
        "clusters/prod/apps.yaml": ea_ks("apps", "apps", "./production"),
        "clusters/prod/infra.yaml": ea_ks("infra", "infra", "./infrastructure"),
        "clusters/prod/typo.yaml": ea_ks("typo", "apps", "./staging"),
        "apps/base/cm.yaml": CM.format(name="base"),
        "apps/production/kustomization.yaml": "resources: [../base/cm.yaml, cm.yaml]\n",
        "apps/production/cm.yaml": CM.format(name="prod"),
        "infrastructure/cm.yaml": CM.format(name="infra"),
    })
    g = graph_of(root)
    assert [n for _, _, n in applied_names(g, "ConfigMap")] == ["base", "infra", "prod"]
    assert ("apps", "ExternalArtifact", "apps", "resolved") in edges(g)
    report = lint(root)
    assert findings(report, "FLX105") == [("FLX105", "error", "clusters/prod/typo.yaml", 8, 9)]
    assert findings(report, "FLX401") == []


def test_artifact_generator_path_pattern(repo):
    root = repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/artifacts.yaml": generator("""\
    - name: "{app}-manifests"
      copy:
        - from: "@repo/apps/{app}/**"
          to: "@artifact/"
""", pattern='  pathPattern: "@repo/apps/{app}"\n'),
        "clusters/prod/podinfo.yaml": ea_ks("podinfo", "podinfo-manifests", "./"),
        "clusters/prod/missing.yaml": ea_ks("missing", "nothing-manifests", "./"),
        "apps/podinfo/cm.yaml": CM.format(name="podinfo"),
        "apps/Redis/cm.yaml": CM.format(name="redis"),
    })
    g = graph_of(root)
    assert ("podinfo", "ExternalArtifact", "podinfo-manifests", "resolved") in edges(g)
    assert ("clusters/prod", "default", "podinfo") in applied_names(g, "ConfigMap")
    # the produced names are lower-cased from the captures
    report = lint(root)
    assert findings(report, "FLX401") == [("FLX401", "error", "clusters/prod/missing.yaml", 12, 11)]


def test_external_artifact_with_the_gate_off_is_a_warning(repo):
    files = {
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/flux-system/gotk-components.yaml": "# Flux Version: v2.7.5\n",
        "clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-components.yaml, gotk-sync.yaml]\n",
        "clusters/prod/artifacts.yaml": generator('    - name: apps\n      copy:\n        - {from: "@repo/apps/**", to: "@artifact/"}\n'),
        "clusters/prod/apps.yaml": ea_ks("apps", "apps", "./"),
        "apps/cm.yaml": CM.format(name="app"),
    }
    assert findings(lint(repo(files)), "FLX410") == [("FLX410", "warning", "clusters/prod/apps.yaml", 11, 11)]
    # unknown Flux (no committed components): not judged
    del files["clusters/prod/flux-system/gotk-components.yaml"]
    files["clusters/prod/flux-system/kustomization.yaml"] = "resources: [gotk-sync.yaml]\n"
    assert findings(lint(repo(files)), "FLX410") == []


# --------------------------------------------------------------------------- self-applying roots


def test_a_self_applying_kustomization_is_a_root_next_to_a_gotk_sync_root(repo):
    root = repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/cm.yaml": CM.format(name="prod"),
        # installed once with `kubectl apply -k`, then it applies itself
        "clusters/lab/cluster.yaml": flux_ks("cluster", "./clusters/lab"),
        "clusters/lab/apps.yaml": flux_ks("apps", "./apps/lab"),
        "apps/lab/cm.yaml": CM.format(name="lab"),
    })
    g = graph_of(root)
    assert roots(g) == [("gotk-sync", "clusters/prod"), ("self-applying", "clusters/lab")]
    assert applied_names(g, "ConfigMap") == [("clusters/lab", "default", "lab"), ("clusters/prod", "default", "prod")]
    assert findings(lint(root), "FLX107", "FLX407") == []


def test_a_configurations_name_reference_lets_kustomize_rename_the_reference(repo):
    # kustomize rewrites a reference to a generated (hash-suffixed) name only where a
    # nameReference configuration covers the field: with one for HelmRelease valuesFrom,
    # the reference follows the suffixed name
    files = {
        "kubernetes/apps/flux-system/flux-instance/kustomization.yaml": """\
            resources: [helmrelease.yaml, ocirepository.yaml]
            configMapGenerator:
              - name: flux-instance-values
                namespace: flux-system
                files: [values.yaml]
            configurations: [kustomizeconfig.yaml]
        """,
        "kubernetes/apps/flux-system/flux-instance/kustomizeconfig.yaml": """\
            nameReference:
              - kind: ConfigMap
                version: v1
                fieldSpecs:
                  - path: spec/valuesFrom/name
                    kind: HelmRelease
        """,
        "kubernetes/apps/flux-system/flux-instance/helmrelease.yaml": chart_release(
            values_from="  valuesFrom:\n    - kind: ConfigMap\n      name: flux-instance-values\n"),
        "kubernetes/apps/flux-system/flux-instance/ocirepository.yaml": CHART_SOURCE,
        "kubernetes/apps/flux-system/flux-instance/values.yaml": VALUES,
        "kubernetes/apps/flux-system/ks.yaml": flux_ks("flux-instance", "./kubernetes/apps/flux-system/flux-instance"),
        "kubernetes/flux/cluster/apps.yaml": flux_ks("apps", "./kubernetes/apps"),
        "kubernetes/apps/kustomization.yaml": "resources: [flux-system/ks.yaml]\n",
    }
    root = repo(files)
    assert roots(graph_of(root)) == [("flux-instance-chart", "kubernetes/flux/cluster")]
    assert findings(lint(root), "FLX405") == []


def test_documentation_examples_give_no_error(repo):
    # fluxoperator.dev: a FluxInstance syncing a Git repository; source-watcher's docs:
    # an ArtifactGenerator splitting a monorepo into artifacts per component
    root = repo({
        "clusters/prod/flux-system/flux-instance.yaml": """\
            apiVersion: fluxcd.controlplane.io/v1
            kind: FluxInstance
            metadata:
              name: flux
              namespace: flux-system
              annotations:
                fluxcd.controlplane.io/reconcileEvery: "1h"
                fluxcd.controlplane.io/reconcileTimeout: "5m"
            spec:
              distribution:
                version: "2.x"
                registry: "ghcr.io/fluxcd"
                artifact: "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests"
              components:
                - source-controller
                - kustomize-controller
                - helm-controller
                - notification-controller
                - source-watcher
              cluster:
                type: kubernetes
                size: medium
                multitenant: false
                networkPolicy: true
                domain: "cluster.local"
              sync:
                kind: GitRepository
                url: "https://github.com/my-org/my-fleet.git"
                ref: "refs/heads/main"
                path: "clusters/prod"
        """,
        "clusters/prod/artifacts.yaml": """\
            apiVersion: source.extensions.fluxcd.io/v1beta1
            kind: ArtifactGenerator
            metadata:
              name: my-app
              namespace: flux-system
            spec:
              sources:
                - alias: repo
                  kind: GitRepository
                  name: flux-system
              artifacts:
                - name: my-app-backend
                  originRevision: "@repo"
                  copy:
                    - from: "@repo/deploy/backend/**"
                      to: "@artifact/"
                - name: my-app-frontend
                  originRevision: "@repo"
                  copy:
                    - from: "@repo/deploy/frontend/**"
                      to: "@artifact/"
        """,
        "clusters/prod/backend.yaml": ea_ks("backend", "my-app-backend", "./"),
        "clusters/prod/frontend.yaml": ea_ks("frontend", "my-app-frontend", "./"),
        "deploy/backend/cm.yaml": CM.format(name="backend"),
        "deploy/frontend/cm.yaml": CM.format(name="frontend"),
    })
    report = lint(root)
    assert [f for f in report.findings if f.severity == "error"] == []
    g = graph_of(root)
    assert [n for _, _, n in applied_names(g, "ConfigMap")] == ["backend", "frontend"]
    # flux-operator installs source-watcher: the ExternalArtifact gate is on
    assert findings(report, "FLX410") == []
