"""Offline ResourceSet rendering against flux-operator's documented examples.

Sources: "docs" is flux-operator docs/api/v1/resourceset.md (fluxoperator.dev/docs/crd/
resourceset) and resourcesetinputprovider.md; "source" names the flux-operator file
(internal/builder/resourceset.go, internal/inputs/*.go, internal/controller/*.go).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from gitlint_flux import resourceset as rs
from gitlint_flux.yamlcompose import compose_all

from conftest import CORPUS, needs_corpus


def doc(text: str):
    return yaml.safe_load(textwrap.dedent(text))


def names(r):
    return [(o.object["kind"], o.object["metadata"].get("namespace"), o.object["metadata"]["name"]) for o in r.objects]


OWNER = {"resourceset.fluxcd.controlplane.io/name", "resourceset.fluxcd.controlplane.io/namespace"}


# docs: "Example" - multi-instance HelmRelease + OCIRepository for each tenant
MULTI_INSTANCE = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: podinfo
  namespace: default
  annotations:
    fluxcd.controlplane.io/reconcile: "enabled"
spec:
  commonMetadata:
    labels:
      app.kubernetes.io/name: podinfo
  inputs:
    - tenant: "team1"
      app:
       version: "6.7.x"
       replicas: 2
    - tenant: "team2"
      app:
       version: "6.6.x"
       replicas: 3
  resources:
    - apiVersion: source.toolkit.fluxcd.io/v1
      kind: OCIRepository
      metadata:
        name: podinfo-<< inputs.tenant >>
        namespace: default
      spec:
        interval: 10m
        url: oci://ghcr.io/stefanprodan/charts/podinfo
        ref:
          semver: << inputs.app.version | quote >>
    - apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      metadata:
        name: podinfo-<< inputs.tenant >>
        namespace: default
      spec:
        interval: 1h
        releaseName: podinfo-<< inputs.tenant >>
        chartRef:
          kind: OCIRepository
          name: podinfo-<< inputs.tenant >>
        values:
          replicaCount: << inputs.app.replicas | int >>
"""


def test_multi_instance():
    r = rs.render(doc(MULTI_INSTANCE), [])
    assert not r.problems and not r.not_rendered and r.complete and not r.failed
    # source: BuildResourceSet loops resources (outer) then input sets (inner)
    assert names(r) == [
        ("OCIRepository", "default", "podinfo-team1"), ("OCIRepository", "default", "podinfo-team2"),
        ("HelmRelease", "default", "podinfo-team1"), ("HelmRelease", "default", "podinfo-team2"),
    ]
    hr1 = r.objects[2].object
    # docs: "use the int function" - the rendered text is read back as YAML, so an int
    assert hr1["spec"]["values"]["replicaCount"] == 2
    assert r.objects[0].object["spec"]["ref"]["semver"] == "6.7.x"
    # docs "Common metadata" + source (ssa SetOwnerLabels before SetCommonMetadata)
    labels = hr1["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "podinfo" and OWNER <= set(labels)
    assert labels["resourceset.fluxcd.controlplane.io/name"] == "podinfo"
    assert r.objects[0].origin == rs.Origin("resources", 0)
    assert r.objects[3].origin.index == 1 and r.objects[3].input.index == 1
    # docs "Built-in input fields": inputs.provider names the ResourceSet
    assert r.objects[0].input.values["provider"] == {
        "apiVersion": "fluxcd.controlplane.io/v1", "kind": "ResourceSet", "name": "podinfo", "namespace": "default"}


def test_quoted_template_becomes_a_number():
    # source: BuildResource turns the resource into YAML (yaml.JSONToYAML: a string that
    # reads as a string is written plain), renders it, then reads the result as YAML
    r = rs.render(doc("""
        apiVersion: fluxcd.controlplane.io/v1
        kind: ResourceSet
        metadata: {name: s, namespace: ns}
        spec:
          inputs: [{n: 3, flag: "yes"}]
          resources:
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: d}
              spec:
                replicas: "<< inputs.n >>"
                paused: '<< index inputs "flag" >>'
                label: "<< inputs.n | quote >>"
                text: "v: << inputs.n >>"
        """), [])
    spec = r.objects[0].object["spec"]
    # go-yaml v2 (sigs.k8s.io/yaml) reads YAML 1.1: "yes" is a boolean
    assert spec == {"replicas": 3, "paused": True, "label": "3", "text": "v: 3"}


# docs "Resources configuration": multi-tenant Namespace, ServiceAccount, RoleBinding
MULTI_TENANT = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: tenants, namespace: flux-system}
spec:
  inputs:
    - tenant: team1
      role: admin
    - tenant: team2
      role: cluster-admin
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: << inputs.tenant >>
    - apiVersion: v1
      kind: ServiceAccount
      metadata:
        name: flux
        namespace: << inputs.tenant >>
    - apiVersion: rbac.authorization.k8s.io/v1
      kind: RoleBinding
      metadata:
        name: flux
        namespace: << inputs.tenant >>
      subjects:
        - kind: ServiceAccount
          name: flux
          namespace: << inputs.tenant >>
      roleRef:
        kind: ClusterRole
        name: << inputs.role >>
        apiGroup: rbac.authorization.k8s.io
"""


def test_multi_tenant():
    r = rs.render(doc(MULTI_TENANT), [])
    assert names(r) == [
        ("Namespace", None, "team1"), ("Namespace", None, "team2"),
        ("ServiceAccount", "team1", "flux"), ("ServiceAccount", "team2", "flux"),
        ("RoleBinding", "team1", "flux"), ("RoleBinding", "team2", "flux"),
    ]
    assert r.objects[5].object["roleRef"]["name"] == "cluster-admin"
    assert r.objects[4].object["subjects"] == [{"kind": "ServiceAccount", "name": "flux", "namespace": "team1"}]


# docs "Resource deduplication": a shared OCIRepository is generated once
DEDUP = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: podinfo, namespace: default}
spec:
  inputs:
    - tenant: "team1"
      replicas: "2"
    - tenant: "team2"
      replicas: "3"
  resources:
    - apiVersion: source.toolkit.fluxcd.io/v1
      kind: OCIRepository
      metadata:
        name: podinfo
        namespace: default
      spec:
        interval: 10m
        url: oci://ghcr.io/stefanprodan/charts/podinfo
        ref:
          semver: '*'
    - apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      metadata:
        name: podinfo-<< inputs.tenant >>
        namespace: default
      spec:
        interval: 1h
        releaseName: podinfo-<< inputs.tenant >>
        chartRef:
          kind: OCIRepository
          name: podinfo
        values:
          replicaCount: << inputs.replicas | int >>
"""


def test_dedup():
    r = rs.render(doc(DEDUP), [])
    assert names(r) == [("OCIRepository", "default", "podinfo"), ("HelmRelease", "default", "podinfo-team1"),
                        ("HelmRelease", "default", "podinfo-team2")]
    assert r.objects[0].input.index == 0  # the first input set's object is kept
    assert [o.object["spec"]["values"]["replicaCount"] for o in r.objects[1:]] == [2, 3]


def test_dedup_keys_on_group_not_version():
    # source: objectKey joins group, kind, namespace, name (the docs say apiVersion)
    r = rs.render(doc("""
        apiVersion: fluxcd.controlplane.io/v1
        kind: ResourceSet
        metadata: {name: s, namespace: ns}
        spec:
          inputs: [{v: v1}, {v: v1beta2}]
          resources:
            - apiVersion: source.toolkit.fluxcd.io/<< inputs.v >>
              kind: OCIRepository
              metadata: {name: same, namespace: ns}
        """), [])
    assert [o.object["apiVersion"] for o in r.objects] == ["source.toolkit.fluxcd.io/v1"]


# docs "Conditional resource exclusion"
def test_conditional_exclusion():
    r = rs.render(doc("""
        apiVersion: fluxcd.controlplane.io/v1
        kind: ResourceSet
        metadata: {name: s, namespace: ns}
        spec:
          inputs:
            - tenant: "team1"
            - tenant: "team2"
          resources:
            - apiVersion: v1
              kind: Namespace
              metadata:
                name: << inputs.tenant >>
            - apiVersion: v1
              kind: ServiceAccount
              metadata:
                name: flux
                namespace: << inputs.tenant >>
                annotations:
                  fluxcd.controlplane.io/reconcile: << if eq inputs.tenant "team1" >>enabled<< else >>disabled<< end >>
        """), [])
    assert names(r) == [("Namespace", None, "team1"), ("Namespace", None, "team2"), ("ServiceAccount", "team1", "flux")]
    assert [(o.object["metadata"]["namespace"], o.input.index) for o in r.excluded] == [("team2", 1)]


# docs "Templating functions": toYaml | nindent, get | default
def test_to_yaml_nindent_and_get_default():
    r = rs.render(doc("""
        apiVersion: fluxcd.controlplane.io/v1
        kind: ResourceSet
        metadata: {name: s, namespace: ns}
        spec:
          inputs:
            - tenant: team1
              namespace: team1
              layerSelector:
                mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
                operation: copy
            - tenant: team2
              namespace: team2
              name: custom
              layerSelector: {operation: extract}
          resources:
            - apiVersion: source.toolkit.fluxcd.io/v1
              kind: OCIRepository
              metadata:
                name: << get inputs "name" | default inputs.namespace >>
                namespace: << inputs.namespace >>
              spec:
                layerSelector: << inputs.layerSelector | toYaml | nindent 4 >>
        """), [])
    assert not r.problems
    assert [o.object["metadata"]["name"] for o in r.objects] == ["team1", "custom"]
    assert r.objects[0].object["spec"]["layerSelector"] == {
        "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "operation": "copy"}


# docs "Resources template": conditional and repeated blocks
TEMPLATE = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: bundles, namespace: flux-system}
spec:
  inputs:
    - bundle: addons
      decryption: false
      components:
        - ingress-nginx
        - cert-manager
    - bundle: apps
      decryption: true
      components:
        - frontend
        - backend
  resourcesTemplate: |
    ---
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata:
      name: << inputs.bundle >>
      namespace: flux-system
    spec:
      interval: 10m
      url: oci://registry.example.com/<< inputs.bundle >>
    <<- range $component := inputs.components >>
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: << $component >>
      namespace: flux-system
    spec:
      interval: 1h
      prune: true
      <<- if inputs.decryption >>
      decryption:
        provider: sops
        secretRef:
          name: << inputs.bundle >>-sops
      <<- end >>
      sourceRef:
        kind: OCIRepository
        name: << inputs.bundle >>
      path: ./<< $component >>
    <<- end >>
"""


def test_resources_template():
    r = rs.render(doc(TEMPLATE), [])
    assert not r.problems, r.problems
    # docs: "generates two OCIRepository resources ... and four Kustomization resources"
    assert names(r) == [
        ("OCIRepository", "flux-system", "addons"), ("Kustomization", "flux-system", "ingress-nginx"),
        ("Kustomization", "flux-system", "cert-manager"), ("OCIRepository", "flux-system", "apps"),
        ("Kustomization", "flux-system", "frontend"), ("Kustomization", "flux-system", "backend"),
    ]
    ks = {o.object["metadata"]["name"]: o.object for o in r.objects}
    assert "decryption" not in ks["cert-manager"]["spec"]
    assert ks["backend"]["spec"]["decryption"]["secretRef"]["name"] == "apps-sops"
    assert ks["backend"]["spec"]["path"] == "./backend"
    # the template line where each object's document starts
    assert [o.origin.line for o in r.objects] == [2, 12, 12, 2, 12, 12]
    assert all(o.origin.field == "resourcesTemplate" for o in r.objects)


def test_resources_and_template_merge_with_resources_first():
    # docs/CRD: "the resulting objects are merged and deduplicated, with the ones from Resources taking precedence"
    r = rs.render(doc("""
        apiVersion: fluxcd.controlplane.io/v1
        kind: ResourceSet
        metadata: {name: s, namespace: ns}
        spec:
          resources:
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: cm, namespace: ns}, data: {from: resources}}
          resourcesTemplate: |
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: cm, namespace: ns}
            data: {from: template}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: other, namespace: ns}
        """), [])
    assert [(o.object["metadata"]["name"], o.object.get("data")) for o in r.objects] == [
        ("cm", {"from": "resources"}), ("other", None)]
    # no inputs: the templates are rendered once (source: len(combinedInputs) == 0)
    assert r.objects[0].input is None


# docs "Input strategy" Permute, RSIP docs "Static" type
STATIC_RSIP = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata:
  name: git-tag
  namespace: default
  labels: {app: podinfo, environment: dev}
spec:
  type: Static
  defaultValues:
    sha: bf5d6e01cf802734853f6f3417b237e3ad0ba35d
"""

OCI_RSIP = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata:
  name: oci-tag
  namespace: default
  labels: {app: podinfo, environment: staging}
spec:
  type: Static
  defaultValues:
    digest: sha256:d4ec9861522d4961b2acac5a070ef4f92d732480dff2062c2f3a1dcf9a5d1e91
"""

PERMUTE = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: my-rset
  namespace: default
spec:
  inputStrategy:
    name: Permute
  inputs:
    - id: id1
      someField: foo
    - id: id2
      someField: bar
  inputsFrom:
    - kind: ResourceSetInputProvider
      name: git-tag
    - kind: ResourceSetInputProvider
      name: oci-tag
  resources:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: my-cm-<< inputs.id >>
        namespace: default
      data:
        rsetID: << inputs.my_rset.id | quote >>
        rsipGitID: << inputs.git_tag.id | quote >>
        rsipOCIID: << inputs.oci_tag.id | quote >>
        someField: << inputs.my_rset.someField | quote >>
        sha: << inputs.git_tag.sha | quote >>
        digest: << inputs.oci_tag.digest | quote >>
"""


def test_permute():
    r = rs.render(doc(PERMUTE), [doc(STATIC_RSIP), doc(OCI_RSIP)])
    assert not r.problems and r.complete, (r.problems, r.not_rendered)
    # source (permuter.go): id = Adler-32 of "my_rset=0/git_tag=0/oci_tag=0"
    ids = [rs.input_id("my_rset=0/git_tag=0/oci_tag=0"), rs.input_id("my_rset=1/git_tag=0/oci_tag=0")]
    assert [o.object["metadata"]["name"] for o in r.objects] == [f"my-cm-{i}" for i in ids]
    data = r.objects[1].object["data"]
    assert data["rsetID"] == "id2" and data["someField"] == "bar"
    assert data["sha"] == "bf5d6e01cf802734853f6f3417b237e3ad0ba35d" and data["digest"].startswith("sha256:d4ec")
    # RSIP docs: a Static provider's id is the Adler-32 of its UID: opaque offline
    assert rs.is_opaque(data["rsipGitID"]) and rs.is_opaque(data["rsipOCIID"])
    assert not rs.is_opaque(data["rsetID"])
    assert r.objects[0].input.values["git_tag"]["provider"]["kind"] == "ResourceSetInputProvider"


def test_permute_combine_ids_match_source_test():
    # source internal/inputs/combine_test.go: permutation ids "563152006" and "563676295"
    assert rs.input_id("rset=0/rsip=0") == "563152006"
    assert rs.input_id("rset=1/rsip=0") == "563676295"


def test_normalized_provider_name():
    # source permuter.go normalizeObjectName: "-" -> "_", other characters (".") dropped;
    # the docs describe "." becoming "_" (NormalizeKeyForTemplate) - the source wins
    assert rs.normalize_provider_name("My-Provider.v2") == "my_providerv2"
    assert rs.normalize_provider_name("--a--b--") == "a_b"


def test_permute_skips_empty_providers_unless_asked():
    base = doc(PERMUTE)
    del base["spec"]["inputs"]
    base["spec"]["resources"][0]["data"] = {"x": "<< inputs.git_tag.sha >>"}
    r = rs.render(base, [doc(STATIC_RSIP), doc(OCI_RSIP)])
    # source: providers with no inputs are skipped: only git_tag x oci_tag
    assert len(r.objects) == 1 and r.objects[0].input.id == rs.input_id("git_tag=0/oci_tag=0")
    base["spec"]["inputStrategy"]["includeEmptyProviders"] = True
    r = rs.render(base, [doc(STATIC_RSIP), doc(OCI_RSIP)])
    # source: the ResourceSet (no inline inputs) is an empty provider: the product is empty
    assert r.objects == [] and not r.problems


def test_inputs_from_static_by_selector_flatten():
    # docs "Inputs configuration": inputsFrom with matchLabels and matchExpressions; flattened after spec.inputs
    r = rs.render(doc("""
        apiVersion: fluxcd.controlplane.io/v1
        kind: ResourceSet
        metadata: {name: s, namespace: default}
        spec:
          inputs: [{id: inline1, sha: inline}]
          inputsFrom:
            - apiVersion: fluxcd.controlplane.io/v1
              kind: ResourceSetInputProvider
              selector:
                matchLabels:
                  app: podinfo
                matchExpressions:
                  - key: environment
                    operator: In
                    values: [dev, staging]
          resources:
            - apiVersion: v1
              kind: ConfigMap
              metadata: {name: "cm-<< inputs.provider.name >>", namespace: default}
              data: {sha: '<< get inputs "sha" >>', id: "<< inputs.id >>"}
        """), [doc(STATIC_RSIP), doc(OCI_RSIP), doc(STATIC_RSIP.replace("namespace: default", "namespace: other"))])
    assert not r.problems
    assert [o.object["metadata"]["name"] for o in r.objects] == ["cm-s", "cm-git-tag", "cm-oci-tag"]
    assert r.objects[1].object["data"] == {"sha": "bf5d6e01cf802734853f6f3417b237e3ad0ba35d", "id": rs.OPAQUE_MARKER}
    assert [i.label.split(" inputs")[0] for i in r.inputs] == [
        "ResourceSet s", "ResourceSetInputProvider git-tag", "ResourceSetInputProvider oci-tag"]


def test_inline_input_without_id_fails_on_inputs_id():
    # source: ResourceSet.GetInputs adds no id to in-line inputs (the docs say every input
    # set has one): the source wins, and missingkey=error makes inputs.id fail
    r = rs.render(doc("""
        apiVersion: fluxcd.controlplane.io/v1
        kind: ResourceSet
        metadata: {name: s, namespace: default}
        spec:
          inputs: [{a: 1}]
          resources:
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: "cm-<< inputs.id >>"}}
        """), [])
    assert r.failed and 'map has no entry for key "id"' in r.problems[0].message


def test_external_provider_is_not_rendered():
    gh = doc("""
        apiVersion: fluxcd.controlplane.io/v1
        kind: ResourceSetInputProvider
        metadata: {name: prs, namespace: default}
        spec:
          type: GitHubPullRequest
          url: https://github.com/controlplaneio-fluxcd/flux-appx
        """)
    base = doc(PERMUTE)
    base["spec"]["inputsFrom"] = [{"kind": "ResourceSetInputProvider", "name": "prs"}]
    r = rs.render(base, [gh])
    assert not r.objects and not r.complete and "GitHubPullRequest" in r.not_rendered[0]
    assert not r.problems
    base["spec"]["inputStrategy"] = {"name": "Flatten"}
    base["spec"]["resources"][0]["data"] = {"f": "<< inputs.someField >>"}
    r = rs.render(base, [gh])
    # the in-line input sets still render; the provider's are unknown
    assert len(r.objects) == 2 and not r.complete and any("GitHubPullRequest" in x for x in r.not_rendered)
    base["spec"]["inputsFrom"] = [{"kind": "ResourceSetInputProvider", "name": "absent"}]
    r = rs.render(base, [gh])
    assert "absent is not among the documents" in r.not_rendered[0]


def test_missing_input_is_an_error_at_its_path():
    # source testdata/resourceset/missing-inputs.yaml: `<inputs>: map has no entry for key "semver"`
    r = rs.render(doc("""
        apiVersion: fluxcd.controlplane.io/v1
        kind: ResourceSet
        metadata: {name: app1, namespace: apps}
        spec:
          inputs:
            - tenant: team1
              semver: "1.x"
            - tenant: team2
          resources:
            - apiVersion: source.toolkit.fluxcd.io/v1beta2
              kind: OCIRepository
              metadata:
                name: app1-<< inputs.tenant >>
                namespace: apps
              spec:
                interval: 10m
                url: oci://ghcr.io/org/charts/app1
                ref:
                  semver: << inputs.semver >>
        """), [])
    assert r.failed and len(r.problems) == 1
    p = r.problems[0]
    assert 'map has no entry for key "semver"' in p.message and p.severity == "error" and p.kind == "exec"
    assert p.origin == rs.Origin("resources", 0, path=("spec", "ref", "semver")) and p.input.index == 1
    assert names(r) == [("OCIRepository", "apps", "app1-team1")]


def test_multiline_input_in_plain_scalar_breaks_the_yaml():
    # source: the rendered text is read back as YAML, so a value with a line break breaks it
    r = rs.render({"metadata": {"name": "s"}, "spec": {"inputs": [{"v": "a\nb"}], "resources": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
         "data": {"a": "<< inputs.v >>", "b": "<< inputs.v | quote >>"}}]}}, [])
    assert r.failed and not r.objects
    p = r.problems[0]
    assert (p.kind, p.origin.field, p.origin.index) == ("yaml", "resources", 0)
    assert p.origin.path[0] == "data" and p.input.label == "ResourceSet s inputs[0] v=a b"
    # quoting keeps it one value
    r = rs.render({"metadata": {"name": "s"}, "spec": {"inputs": [{"v": "a\nb"}], "resources": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"b": "<< inputs.v | quote >>"}}]}}, [])
    assert r.objects[0].object["data"] == {"b": "a\nb"}


def test_template_error_at_its_line():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: << inputs.name | upper >>\n  labels:\n    x: << index inputs >>\ndata:\n  a: << if >>\n"
    r = rs.render({"apiVersion": "fluxcd.controlplane.io/v1", "kind": "ResourceSet",
                   "metadata": {"name": "s", "namespace": "n"},
                   "spec": {"inputs": [{"name": "x"}], "resourcesTemplate": text}}, [])
    assert r.failed and len(r.problems) == 1
    p = r.problems[0]
    assert (p.kind, p.line, p.origin.field) == ("parse", 8, "resourcesTemplate")
    assert "missing value for if" in p.message


def test_exec_error_line_in_template():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: << inputs.missing >>\n"
    r = rs.render({"metadata": {"name": "s"}, "spec": {"inputs": [{"x": 1}], "resourcesTemplate": text}}, [])
    p = r.problems[0]
    assert (p.kind, p.line, p.column) == ("exec", 6, 9)


def test_unknown_function():
    r = rs.render(doc("""
        apiVersion: fluxcd.controlplane.io/v1
        kind: ResourceSet
        metadata: {name: s, namespace: ns}
        spec:
          resources:
            - apiVersion: v1
              kind: ConfigMap
              metadata: {name: cm}
              data:
                when: << now | date "2006" >>
        """), [])
    assert r.failed and not r.objects
    p = r.problems[0]
    assert 'function "now" not defined' in p.message and p.origin.path == ("data", "when")


def test_steps():
    r = rs.render(doc("""
        apiVersion: fluxcd.controlplane.io/v1
        kind: ResourceSet
        metadata: {name: s, namespace: ns}
        spec:
          inputs: [{t: a}]
          steps:
            - name: crds
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: "<< inputs.t >>"}}
            - name: apps
              resourcesTemplate: |
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: cm, namespace: << inputs.t >>}
        """), [])
    assert not r.problems
    assert [(o.origin.step, o.object["kind"]) for o in r.objects] == [("crds", "Namespace"), ("apps", "ConfigMap")]


def test_steps_mutually_exclusive_and_duplicates():
    # source ValidateResourceSetSpec / CRD CEL rule
    r = rs.render({"metadata": {"name": "s"}, "spec": {
        "steps": [{"name": "a", "resources": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}]}],
        "resources": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "y"}}]}}, [])
    assert r.failed and r.problems[0].kind == "spec" and "mutually exclusive" in r.problems[0].message
    # source BuildResourceSetSteps: a resource in two steps is an error
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}
    r = rs.render({"metadata": {"name": "s"}, "spec": {
        "steps": [{"name": "a", "resources": [ns]}, {"name": "b", "resources": [ns]}]}}, [])
    assert r.failed and 'duplicate resource Namespace/x in step "b", already defined in step "a"' in r.problems[0].message


def test_disabled_resourceset_applies_nothing():
    d = doc(MULTI_INSTANCE)
    d["metadata"]["annotations"]["fluxcd.controlplane.io/reconcile"] = "Disabled"
    r = rs.render(d, [])
    assert r.disabled and not r.objects and "applies nothing" in r.not_rendered[0]


def test_resources_template_drops_non_objects():
    # source ssa ReadObjects: documents that are not Kubernetes objects are dropped, Lists expanded
    text = ("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
            "---\nfoo: bar\n---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata: {name: k}\n")
    r = rs.render({"metadata": {"name": "s"}, "spec": {"resourcesTemplate": text}}, [])
    assert names(r) == [("ConfigMap", None, "a")]
    assert [(p.severity, p.origin.line) for p in r.problems] == [("warning", 6), ("info", 8)]


def test_hostile_resource_set_does_not_hang():
    r = rs.render({"metadata": {"name": "s"}, "spec": {
        "inputs": [{"n": 1}],
        "resourcesTemplate": "<< range 100000 >><< range 100000 >>x<< end >><< end >>"}}, [])
    assert r.failed and r.problems[0].kind == "limit"
    r = rs.render({"metadata": {"name": "s"}, "spec": {"resources": "nope"}}, [])
    assert r.failed
    r = rs.render({"spec": None}, [])
    assert r.not_rendered


def _resource_sets(root: Path):
    for f in sorted(root.rglob("*")):
        if f.suffix not in (".yaml", ".yml") or not f.is_file() or f.stat().st_size > 2_000_000:
            continue
        try:
            text = f.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if "ResourceSet" not in text:
            continue
        docs, _ = compose_all(text)
        for value, line, _col in docs:
            if isinstance(value, dict) and value.get("kind") in ("ResourceSet", "ResourceSetInputProvider"):
                yield f, line, value


@needs_corpus
def test_corpus_resource_sets_render_or_give_a_reason():
    found = list(_resource_sets(CORPUS))
    sets = [(f, line, v) for f, line, v in found if v.get("kind") == "ResourceSet"]
    if not sets:
        pytest.skip(f"the corpus ({CORPUS}) holds no ResourceSet")
    providers = [v for _f, _l, v in found if v.get("kind") == "ResourceSetInputProvider"]
    for f, line, v in sets:
        r = rs.render(v, providers)
        assert r.objects or r.not_rendered or r.problems, f"{f}:{line}"
