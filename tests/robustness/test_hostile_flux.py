"""Flux semantics at hostile scale or shape: cycles, mutual application, huge lists,
self-application, wrong types where references are expected."""

from __future__ import annotations

import pytest

from .harness import KUSTOMIZATION, assert_ran, bootstrap, cm, expected_rc, flux_ks, lint


def test_depends_on_cycle_of_500_kustomizations(tree):
    n = 500
    files = {**bootstrap(), "apps/cm.yaml": cm("a")}
    for i in range(n):
        dep = f"  dependsOn:\n    - name: ks-{(i + 1) % n}\n"
        files[f"clusters/prod/ks-{i:03d}.yaml"] = flux_ks(f"ks-{i}", "./apps", extra=dep)
    root = tree(files)
    res = assert_ran(lint(root, timeout=60))
    assert res.seconds < 45, res.describe()
    assert res.findings() == [], res.describe()
    # one finding for the cycle, at the first Kustomization's dependsOn entry
    assert res.findings(("FLX403",)) == [("FLX403", "clusters/prod/ks-000.yaml", 15, 13)], res.describe()
    assert res.rc == 1


def test_two_kustomizations_applying_each_others_directories(tree):
    root = tree({
        **bootstrap(),
        "clusters/prod/a.yaml": flux_ks("a", "./a"),
        "a/b.yaml": flux_ks("b", "./b"),
        "a/cm.yaml": cm("in-a"),
        "b/a.yaml": flux_ks("a2", "./a"),
        "b/cm.yaml": cm("in-b"),
    })
    res = assert_ran(lint(root, timeout=30))
    assert res.findings() == [], res.describe()


def test_kustomizations_applying_each_other_through_kustomize_resources(tree):
    root = tree({
        **bootstrap(),
        "clusters/prod/a.yaml": flux_ks("a", "./a"),
        "a/kustomization.yaml": KUSTOMIZATION + "resources:\n  - ../b\n  - cm.yaml\n",
        "a/cm.yaml": cm("in-a"),
        "b/kustomization.yaml": KUSTOMIZATION + "resources:\n  - ../a\n",
    })
    res = assert_ran(lint(root, timeout=30))
    got = res.findings()
    assert got and all(r == "FLX103" for r, *_ in got), res.describe()
    assert res.rc == 1


def test_resources_list_of_10000_entries(tree):
    n = 10_000
    entries = "".join(f"  - missing-{i}.yaml\n" for i in range(n))
    root = tree({"app/kustomization.yaml": KUSTOMIZATION + "resources:\n" + entries})
    res = assert_ran(lint(root, timeout=60))
    got = res.findings()
    assert len(got) == n, res.describe()
    assert got[0] == ("FLX101", "app/kustomization.yaml", 4, 5)
    assert got[-1] == ("FLX101", "app/kustomization.yaml", n + 3, 5)
    assert res.rc == 1
    assert res.seconds < 45


def test_resources_list_of_3000_existing_files(tree):
    n = 3_000
    files = {"app/kustomization.yaml": KUSTOMIZATION + "resources:\n"
             + "".join(f"  - cm-{i}.yaml\n" for i in range(n))}
    files.update({f"app/cm-{i}.yaml": cm(f"cm-{i}") for i in range(n)})
    root = tree(files)
    res = assert_ran(lint(root, timeout=90))
    assert res.findings() == [], res.describe()
    assert res.data["summary"]["documents"] >= n


def test_bootstrap_kustomization_applying_its_own_file(tree):
    root = tree({**bootstrap(), "clusters/prod/cm.yaml": cm("a")})
    res = assert_ran(lint(root), 0)
    assert res.findings() == [], res.describe()


def test_kustomization_applying_the_directory_that_defines_it(tree):
    root = tree({**bootstrap(), "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
                 "apps/self.yaml": flux_ks("self", "./apps"), "apps/cm.yaml": cm("a")})
    res = assert_ran(lint(root))
    assert res.findings() == [], res.describe()


def test_chain_of_2000_flux_kustomizations(tree):
    n = 2000
    files = {**bootstrap(), "clusters/prod/k0.yaml": flux_ks("k0", "./c/0")}
    for i in range(n):
        files[f"c/{i}/next.yaml"] = flux_ks(f"k{i + 1}", f"./c/{i + 1}") if i + 1 < n else cm("end")
    root = tree(files)
    res = assert_ran(lint(root, timeout=90))
    assert res.findings() == [], res.describe()


def test_chain_of_400_kustomize_directories(tree):
    n = 400
    files = {f"k/{i}/kustomization.yaml": KUSTOMIZATION + f"resources:\n  - ../{i + 1}\n" for i in range(n)}
    files[f"k/{n}/kustomization.yaml"] = KUSTOMIZATION + "resources:\n  - cm.yaml\n"
    files[f"k/{n}/cm.yaml"] = cm("end")
    root = tree(files)
    res = assert_ran(lint(root, timeout=60))
    assert res.findings() == [], res.describe()


# --------------------------------------------------------------------------- wrong types where a reference belongs

WRONG_TYPES = {
    "dependsOn-int": ("BUG-15", "graph.flux_references iterates `spec.dependsOn or []`: an int raises TypeError",
                      flux_ks("apps", "./apps", extra="  dependsOn: 5\n")),
    "valuesFrom-true": ("BUG-15", "graph.flux_references iterates `spec.valuesFrom or []`: `true` raises TypeError",
                        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: hr\n"
                        "  namespace: apps\nspec:\n  interval: 10m\n  chartRef:\n    kind: OCIRepository\n"
                        "    name: x\n  valuesFrom: true\n"),
    "sourceRef-name-list": ("BUG-16", "graph.Graph._apply builds a dict key from `sourceRef.name`: a list raises "
                            "TypeError (unhashable)",
                            flux_ks("apps", "./apps").replace("name: flux-system", "name: [flux-system]")),
    "chartRef-kind-map": ("BUG-16", "graph.flux_references/_resolve use `chartRef.kind` as a dict key: a mapping "
                          "raises TypeError (unhashable)",
                          "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: hr\n"
                          "  namespace: apps\nspec:\n  interval: 10m\n  chartRef:\n    kind: {a: b}\n    name: x\n"),
}


@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
def test_wrong_types_in_flux_references(tree, case, request):
    bug, why, text = WRONG_TYPES[case]
    root = tree({**bootstrap(), "clusters/prod/obj.yaml": text, "apps/cm.yaml": cm("a")})
    res = assert_ran(lint(root))
    # the schema rules may flag the wrong type; nothing else breaks
    # (what the broken reference stops from being applied is, rightly, not applied: FLX107)
    assert [f for f in res.findings() if f[0] not in ("FLX105", "FLX107")] == [], res.describe()


def test_wrong_types_everywhere_else(tree):
    """Scalars, lists and nulls where mappings belong, in every Flux kind."""
    kinds = [("kustomize.toolkit.fluxcd.io/v1", "Kustomization"), ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
             ("source.toolkit.fluxcd.io/v1", "GitRepository"), ("source.toolkit.fluxcd.io/v1", "HelmChart"),
             ("notification.toolkit.fluxcd.io/v1beta3", "Alert"), ("image.toolkit.fluxcd.io/v1beta2", "ImagePolicy"),
             ("fluxcd.controlplane.io/v1", "FluxInstance")]
    docs = []
    for i, (api, kind) in enumerate(kinds):
        for j, spec in enumerate(["5", "[a, b]", "null", "{sourceRef: 5, chart: [1], chartRef: x, dependsOn: [1, x],"
                                                      " sync: 5, kubeConfig: 3, postBuild: [], providerRef: 1,"
                                                      " imageRepositoryRef: [x], values: 1, include: [1]}"]):
            docs.append(f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: o{i}-{j}\n  namespace: apps\n"
                        f"spec: {spec}\n")
    root = tree({**bootstrap(), "clusters/prod/objs.yaml": "---\n".join(docs)})
    res = assert_ran(lint(root))
    assert res.rc == expected_rc(res)


def test_config_root_that_does_not_exist(tree):
    root = tree({".gitlint-flux.yaml": "roots:\n  - clusters/missing\n", "cm.yaml": cm("a")})
    res = assert_ran(lint(root))
    got = res.findings(("FLX105",))
    assert got and all(p == ".gitlint-flux.yaml" for _, p, _, _ in got), res.describe()


def test_end_position_at_end_of_file_without_final_newline(tree):
    root = tree({"kustomization.yaml": KUSTOMIZATION + "resources:\n  - a: b"})
    res = assert_ran(lint(root))
    assert res.data["findings"], res.describe()
    for f in res.data["findings"]:
        assert f["line"] <= 4 and (f["end_line"] or 0) <= 4, res.describe()


def test_kustomization_with_kubeconfig_applying_itself(tree):
    """Found by the property tests (scopes nested without end until memory ran out); fixed in abed232."""
    extra = "  kubeConfig:\n    secretRef:\n      name: remote\n"
    root = tree({**bootstrap(), "clusters/prod/remote.yaml": flux_ks("remote", "./clusters/prod", extra=extra)})
    res = assert_ran(lint(root, timeout=30, mem=768 * 1024 * 1024))
    assert res.findings() == [], res.describe()


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "json"])
def test_graph_command_on_a_cycle_and_mutual_application(tree, fmt):
    import sys

    from .harness import run

    files = {**bootstrap(), "clusters/prod/a.yaml": flux_ks("a", "./a"), "a/b.yaml": flux_ks("b", "./b"),
             "b/a.yaml": flux_ks("a2", "./a")}
    for i in range(200):
        files[f"clusters/prod/ks-{i:03d}.yaml"] = flux_ks(f"ks-{i}", "./a", extra=f"  dependsOn:\n    - name: ks-{(i + 1) % 200}\n")
    root = tree(files)
    res = run([sys.executable, "-m", "gitlint_flux", "graph", "--format", fmt, "--root", str(root), str(root)],
              timeout=60)
    assert not res.timed_out and res.rc == 0 and "Traceback" not in res.stderr, res.describe()
    assert "ks-199" in res.stdout
