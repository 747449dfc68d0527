"""Mutations of a real repository (a copy of Apocrathia+homelab): each defect is found by
its rule at the line of the mutation. Skipped without the shared corpus."""

import shutil

import pytest
from conftest import CORPUS, lint, needs_corpus

pytestmark = needs_corpus

SRC = CORPUS / "Apocrathia+homelab"
M = "flux/manifests/"
AUTH_HR = M + "03-services/authentik/helmrelease.yaml"
MS_KS = M + "02-infrastructure/metrics-server/flux-kustomization.yaml"
MS_K = M + "02-infrastructure/metrics-server/kustomization.yaml"


@pytest.fixture(scope="module")
def baseline_findings(tmp_path_factory):
    root = tmp_path_factory.mktemp("pristine") / "repo"
    shutil.copytree(SRC, root, symlinks=True)
    return {(f.rule, f.path, f.line) for f in lint(root).findings}


@pytest.fixture
def copy(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(SRC, root, symlinks=True)
    return root


def mutate(root, rel, old, new, count=1):
    p = root / rel
    text = p.read_text()
    assert text.count(old) >= 1, (rel, old)
    p.write_text(text.replace(old, new, count))
    return p


def line_of(root, rel, needle, nth=1):
    lines = (root / rel).read_text().splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if needle in line]
    return hits[nth - 1]


def new_findings(root, baseline_findings):
    return {(f.rule, f.path, f.line) for f in lint(root).findings} - baseline_findings


CASES = [
    # (name, file, old, new, expected rule, needle for the line)
    ("dangling sourceRef", AUTH_HR, "        name: authentik\n        namespace: flux-system",
     "        name: authentik-charts\n        namespace: flux-system", "FLX401", "name: authentik-charts"),
    ("dangling dependsOn", MS_KS, "    - name: bootstrap-helm", "    - name: bootstrap-helmz", "FLX402",
     "bootstrap-helmz"),
    ("unpinned chart", AUTH_HR, 'version: "2025.10.3"', 'version: ">=2025.0.0"', "FLX301", "version:"),
    ("prune false", MS_KS, "prune: true", "prune: false", "FLX601", "prune: false"),
    ("missing path", MS_KS, "path: ./flux/manifests/02-infrastructure/metrics-server",
     "path: ./flux/manifests/02-infrastructure/metrics-servr", "FLX105", "metrics-servr"),
    ("missing kustomize resource", MS_K, "  - helmrelease.yaml", "  - helmrelease.yaml\n  - gone.yaml", "FLX101",
     "gone.yaml"),
    ("too-short interval", MS_KS, "interval: 10m0s", "interval: 10s", "FLX602", "interval: 10s"),
]


@pytest.mark.parametrize("name,rel,old,new,rule,needle", CASES, ids=[c[0] for c in CASES])
def test_mutation_is_found(copy, baseline_findings, name, rel, old, new, rule, needle):
    mutate(copy, rel, old, new)
    assert (rule, rel, line_of(copy, rel, needle)) in new_findings(copy, baseline_findings)


def test_depends_on_cycle(copy, baseline_findings):
    # bootstrap-helm depends on flux-system; make flux-system... rather: helm <-> metrics-server
    helm = M + "01-bootstrap/helm/flux-kustomization.yaml"
    text = (copy / helm).read_text()
    assert "dependsOn" in text
    mutate(copy, helm, "  dependsOn:\n", "  dependsOn:\n    - name: infrastructure-metrics-server\n")
    got = [f for f in new_findings(copy, baseline_findings) if f[0] == "FLX403"]
    assert len(got) == 1 and got[0][1] in (helm, MS_KS)


def test_plaintext_secret(copy, baseline_findings):
    rel = M + "02-infrastructure/metrics-server/secret.yaml"
    (copy / rel).write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\n  namespace: kube-system\n"
                            "stringData:\n  token: s3cr3t\n")
    mutate(copy, MS_K, "  - helmrelease.yaml", "  - helmrelease.yaml\n  - secret.yaml")
    assert ("FLX501", rel, 7) in new_findings(copy, baseline_findings)


def test_duplicate_object(copy, baseline_findings):
    mutate(copy, MS_K, "  - helmrelease.yaml", "  - helmrelease.yaml\n  - ../csi-driver-smb/helmrelease.yaml")
    got = [f for f in new_findings(copy, baseline_findings) if f[0] == "FLX408"]
    assert got, "the csi-driver-smb HelmRelease is now applied by two Kustomizations"


def test_latest_image_tag(copy, baseline_findings):
    rel = M + "02-infrastructure/metrics-server/debug.yaml"
    (copy / rel).write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n  namespace: kube-system\nspec:\n"
                            "  containers:\n    - name: debug\n      image: busybox:latest\n")
    mutate(copy, MS_K, "  - helmrelease.yaml", "  - helmrelease.yaml\n  - debug.yaml")
    assert ("FLX303", rel, 9) in new_findings(copy, baseline_findings)


def test_undefined_post_build_variable(copy, baseline_findings):
    mutate(copy, MS_KS, "  prune: true\n", "  prune: true\n  postBuild:\n    substitute:\n      CLUSTER: homelab\n")
    rel = M + "02-infrastructure/metrics-server/helmrelease.yaml"
    mutate(copy, rel, "spec:\n", "spec:\n  serviceAccountName: ms-${CLUSTER}-${UNDEFINED_VAR}\n")
    assert ("FLX701", rel, line_of(copy, rel, "UNDEFINED_VAR")) in new_findings(copy, baseline_findings)
