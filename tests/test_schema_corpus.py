"""Schema validation over the shared corpus (skipped without it).

Every schema finding on these real repositories is listed here, each checked by reading
the file: they are real defects (removed or deprecated API versions, deprecated
kustomization fields). Everything else in them (747 + 279 + 485 + ... documents) passes
its schema: the repository's own CRDs, the bundled Flux schemas or Kubernetes'.
"""

from __future__ import annotations

import collections
import shutil
import time

import pytest
from conftest import CORPUS, lint, needs_corpus

pytestmark = needs_corpus

FLUX_HR_V2BETA2 = "`helm.toolkit.fluxcd.io/v2beta2` HelmRelease was removed in Flux 2.8; use `helm.toolkit.fluxcd.io/v2`"
FLUX_HREPO_V1BETA2 = ("`source.toolkit.fluxcd.io/v1beta2` HelmRepository was removed in Flux 2.8; "
                      "use `source.toolkit.fluxcd.io/v1`")

#: repository -> every FLX2xx finding except FLX208 (pinned by count below) and FLX209
EXPECTED = {
    "Apocrathia+homelab": [],
    "Apocrathia+homeops": [
        # the Longhorn manifest still ships a PodSecurityPolicy (policy/v1beta1, gone in 1.25)
        ("FLX207", "cluster/core/longhorn-system/longhorn.yaml", 930, 13,
         "`policy/v1beta1` PodSecurityPolicy was removed in Kubernetes 1.25; it has no replacement "
         "(use Pod Security Admission (namespace labels) or a policy engine)"),
        # kustomize v5 deprecations, read in the files
        ("FLX211", "cluster/apps/system-upgrade/system-upgrade-controller/kustomization.yaml", 13, 1,
         "`commonLabels` is deprecated; use `labels`"),
        ("FLX211", "cluster/apps/system-upgrade/system-upgrade-controller/kustomization.yaml", 16, 1,
         "`patchesStrategicMerge` is deprecated; use `patches`"),
        ("FLX211", "cluster/base/flux-system/kustomization.yaml", 7, 1,
         "`patchesStrategicMerge` is deprecated; use `patches`"),
    ],
    # Flux's own example still uses helm v2beta2 and source v1beta2 (removed in Flux 2.8),
    # with no gotk-components.yaml that would serve them
    "fluxcd+flux2-hub-spoke-example": [
        ("FLX207", "clusters/production/apps/podinfo-values.yaml", 1, 13, FLUX_HR_V2BETA2),
        ("FLX207", "clusters/staging/apps/podinfo-values.yaml", 1, 13, FLUX_HR_V2BETA2),
        ("FLX207", "deploy/apps/podinfo.yaml", 2, 13, FLUX_HREPO_V1BETA2),
        ("FLX207", "deploy/apps/podinfo.yaml", 11, 13, FLUX_HR_V2BETA2),
        ("FLX207", "deploy/infra-controllers/cert-manager.yaml", 2, 13, FLUX_HREPO_V1BETA2),
        ("FLX207", "deploy/infra-controllers/cert-manager.yaml", 10, 13, FLUX_HR_V2BETA2),
        ("FLX207", "deploy/infra-controllers/ingress-nginx.yaml", 2, 13, FLUX_HREPO_V1BETA2),
        ("FLX207", "deploy/infra-controllers/ingress-nginx.yaml", 10, 13, FLUX_HR_V2BETA2),
    ],
    "fluxcd+flux2-kustomize-helm-example": [],
    "fluxcd+flux2-monitoring-example": [],
    # the kyverno OCIRepository is still source v1beta2
    "fluxcd+flux2-multi-tenancy": [
        ("FLX207", "infrastructure/kyverno/source.yaml", 1, 13,
         "`source.toolkit.fluxcd.io/v1beta2` OCIRepository was removed in Flux 2.8; use `source.toolkit.fluxcd.io/v1`"),
    ],
    "onedr0p+cluster-template": [],
    # the bundled catalog's AlertmanagerConfig (of an older prometheus-operator than the
    # repository's kube-prometheus-stack) lacks pushover's `monospace`: a warning, as a
    # release difference explains it
    "onedr0p+home-ops": [
        ("FLX201", "kubernetes/apps/o11y/kube-prometheus-stack/app/alertmanagerconfig.yaml", 83, 11,
         "unknown field `spec.receivers[2].pushoverConfigs[0].monospace` "
         "(per the bundled CRD catalog: datreeio/CRDs-catalog@7b1e26ef9dee, release unknown)"),
    ],
}

#: FLX208: Apocrathia+homeops commits the gotk-components.yaml of Flux v0.31.3, which
#: still serves the versions later Flux releases removed: deprecated, validated with it
DEPRECATED = {
    "Apocrathia+homeops": {
        "source.toolkit.fluxcd.io/v1beta1": 26,  # 25 HelmRepositories, 1 GitRepository
        "helm.toolkit.fluxcd.io/v2beta1": 24,
        "source.toolkit.fluxcd.io/v1beta2": 18,  # 13 HelmRepositories, 5 GitRepositories
        "kustomize.toolkit.fluxcd.io/v1beta2": 14,
        "notification.toolkit.fluxcd.io/v1beta1": 1,  # the Receiver
    },
}

#: FLX209: kinds with no schema (CRDs installed by charts, not vendored), once per kind
NO_SCHEMA_KINDS = {
    # after the bundled catalog: kinds of projects it does not have (toolhive, kagent, ...)
    "Apocrathia+homelab": 8,
    "Apocrathia+homeops": 0,
    "fluxcd+flux2-hub-spoke-example": 0,
    "fluxcd+flux2-kustomize-helm-example": 0,
    "fluxcd+flux2-monitoring-example": 0,
    "fluxcd+flux2-multi-tenancy": 0,
    "onedr0p+cluster-template": 0,
    "onedr0p+home-ops": 6,
}


@pytest.fixture(scope="module")
def reports():
    return {name: lint(CORPUS / name) for name in EXPECTED if (CORPUS / name).is_dir()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_schema_findings_on_the_corpus(name, reports):
    if name not in reports:
        pytest.skip(f"{name} is not in the corpus")
    r = reports[name]
    got = sorted((f.rule, f.path, f.line, f.column, f.message) for f in r.findings
                 if f.rule.startswith("FLX2") and f.rule not in ("FLX208", "FLX209"))
    assert got == sorted(EXPECTED[name])
    assert all(f.severity == "warning" for f in r.findings if "per the bundled CRD catalog" in f.message)
    dep = collections.Counter(f.message.split("`")[1] for f in r.findings if f.rule == "FLX208")
    assert dict(dep) == DEPRECATED.get(name, {})
    assert all(f.column == 13 and f.severity == "warning" for f in r.findings if f.rule == "FLX208")
    no_schema = [f for f in r.findings if f.rule == "FLX209"]
    assert len(no_schema) == NO_SCHEMA_KINDS[name]
    kinds = [f.message.split(" (")[0] for f in no_schema]
    assert len(kinds) == len(set(kinds))  # once per kind


def test_homeops_documents_are_validated_with_its_own_old_crds(reports):
    """homeops' HelmReleases are helm v2beta1, validated against its gotk-components.yaml
    (Flux v0.31.3): FLX208 names that file, and no field of them is reported unknown."""
    if "Apocrathia+homeops" not in reports:
        pytest.skip("homeops is not in the corpus")
    r = reports["Apocrathia+homeops"]
    dep = [f for f in r.findings if f.rule == "FLX208"]
    assert all("cluster/base/flux-system/gotk-components.yaml`, Flux v0.31.3" in f.message for f in dep)


# --------------------------------------------------------------------------- mutations

SRC = CORPUS / "Apocrathia+homelab"
M = "flux/manifests/"
CHAOS_HR = M + "03-services/chaos-mesh/helmrelease.yaml"
CHAOS_NS = M + "03-services/chaos-mesh/namespace.yaml"
CHAOS_K = M + "03-services/chaos-mesh/kustomization.yaml"
TEMPO_HR = M + "03-services/observability/tempo/helmrelease.yaml"
GRAFANA_HR = M + "03-services/observability/grafana/helmrelease.yaml"
COREDNS = M + "02-infrastructure/coredns/deployment.yaml"
MS_KS = M + "02-infrastructure/metrics-server/flux-kustomization.yaml"

#: (file, old, new, rule, needle on the expected line, column of the needle's start + offset)
MUTATIONS = [
    # a renamed field at several depths (none under preserve-unknown-fields)
    (CHAOS_HR, "  interval: 30m\n  chart:", "  intervall: 30m\n  chart:", "FLX201", "intervall:", 0),
    (CHAOS_HR, "        name: chaos-mesh\n        namespace: flux-system",
     "        nmae: chaos-mesh\n        namespace: flux-system", "FLX201", "nmae:", 0),
    (COREDNS, "          imagePullPolicy: IfNotPresent", "          imagePullPolicyy: IfNotPresent", "FLX201",
     "imagePullPolicyy", 0),
    # a quoted boolean, a bad duration, a deleted required field
    (MS_KS, "  prune: true", '  prune: "true"', "FLX202", '"true"', 0),
    (MS_KS, "  interval: 10m0s", "  interval: 10min", "FLX204", "10min", 0),
    (MS_KS, "    kind: GitRepository\n    name: homelab", "    name: homelab", "FLX203", "sourceRef:", 0),
    # an invalid name, a label that is not a string
    (CHAOS_NS, "metadata:\n  name: chaos-mesh", "metadata:\n  name: Chaos_Mesh", "FLX206", "Chaos_Mesh", 0),
    (CHAOS_NS, "    name: chaos-mesh\n", "    name: true\n", "FLX202", "name: true", 6),
    # a removed apiVersion (2.7.5 serves v2 and v2beta2) and a deprecated one
    (TEMPO_HR, "apiVersion: helm.toolkit.fluxcd.io/v2\n", "apiVersion: helm.toolkit.fluxcd.io/v2beta1\n", "FLX207",
     "helm.toolkit.fluxcd.io/v2beta1", 0),
    (GRAFANA_HR, "apiVersion: helm.toolkit.fluxcd.io/v2\n", "apiVersion: helm.toolkit.fluxcd.io/v2beta2\n", "FLX208",
     "helm.toolkit.fluxcd.io/v2beta2", 0),
    # a typo in a kustomization file
    (CHAOS_K, "generatorOptions:", "generatorOption:", "FLX210", "generatorOption:", 0),
]


def test_mutations_of_a_real_repository(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(SRC, root, symlinks=True)
    for rel, old, new, *_ in MUTATIONS:
        p = root / rel
        text = p.read_text()
        assert text.count(old) == 1, (rel, old)
        p.write_text(text.replace(old, new))
    r = lint(root)
    got = sorted((f.rule, f.path, f.line, f.column) for f in r.findings
                 if f.rule.startswith("FLX2") and f.rule != "FLX209")
    want = []
    for rel, _old, _new, rule, needle, offset in MUTATIONS:
        lines = (root / rel).read_text().splitlines()
        line = next(i for i, text in enumerate(lines, 1) if needle in text)
        col = lines[line - 1].index(needle) + 1 + offset
        if rule == "FLX203":  # at the mapping that lacks the field
            col = lines[line - 1].index(needle) + 1
        want.append((rule, rel, line, col))
    assert got == sorted(want)
    msgs = {f.rule + f.path: f.message for f in r.findings}
    assert msgs["FLX203" + MS_KS] == "missing required field `kind` in `spec.sourceRef`"
    assert msgs["FLX207" + TEMPO_HR].startswith("`helm.toolkit.fluxcd.io/v2beta1` HelmRelease was removed in Flux 2.7")
    assert "Flux v2.7.5 still serves it" in msgs["FLX208" + GRAFANA_HR]


def test_schema_stage_budget():
    """The schema pass over Apocrathia+homelab stays well inside its 0.3 s budget (a loose
    bound here: CI machines vary; docs/schemas.md has the measured figures)."""
    from gitlint_flux.engine import load
    from gitlint_flux.rules.context import Context
    from gitlint_flux.workspace import finalize_files
    from gitlint_flux.schema.analysis import analysis

    loaded = load([str(SRC)], None, None)
    linted, _ = finalize_files(loaded.files, loaded.graph)
    ctx = Context(loaded.root, loaded.files, loaded.graph, loaded.config, [], linted)
    t = time.process_time()
    result = analysis(ctx)
    took = time.process_time() - t
    assert result.error is None
    assert result.stats["documents"] >= 500 and result.stats["cel"] >= 100
    assert took < 0.6, took
