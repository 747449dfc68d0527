"""kustomize resolution and Flux's generated kustomization, on small fixture repos."""

from conftest import flux_ks, found, gotk_sync, graph_of, lint

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


def cm(name):
    return CM.replace("{name}", name)


def base_repo(repo, extra):
    files = {
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/flux-system/kustomization.yaml": "resources:\n  - gotk-sync.yaml\n",
    }
    files.update(extra)
    return repo(files)


def test_missing_resource_is_reported_at_its_entry(repo):
    root = base_repo(repo, {
        "clusters/prod/apps/kustomization.yaml": """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - a.yaml
              - nope.yaml
            patches:
              - path: missing-patch.yaml
            configMapGenerator:
              - name: cfg
                files:
                  - key=missing.conf
            """,
        "clusters/prod/apps/a.yaml": cm("a"),
    })
    report = lint(root)
    assert found(report, "FLX101") == [
        ("FLX101", "clusters/prod/apps/kustomization.yaml", 5, 5),
        ("FLX101", "clusters/prod/apps/kustomization.yaml", 7, 11),
        ("FLX101", "clusters/prod/apps/kustomization.yaml", 11, 13),  # the path after `key=`
    ]
    msgs = [f.message for f in report.findings if f.rule == "FLX101"]
    assert "`nope.yaml`" in msgs[0] and "clusters/prod/apps/nope.yaml" in msgs[0]


def test_missing_resource_reported_once_when_built_twice(repo):
    root = base_repo(repo, {
        "clusters/prod/a/kustomization.yaml": "resources:\n  - ../base\n",
        "clusters/prod/b/kustomization.yaml": "resources:\n  - ../base\n",
        "clusters/prod/base/kustomization.yaml": "resources:\n  - gone.yaml\n",
    })
    assert found(lint(root), "FLX101") == [("FLX101", "clusters/prod/base/kustomization.yaml", 2, 5)]


def test_directory_without_kustomization_file(repo):
    root = base_repo(repo, {
        "clusters/prod/apps/kustomization.yaml": "resources:\n  - ./podinfo\n",
        "clusters/prod/apps/podinfo/release.yaml": cm("podinfo"),
    })
    assert found(lint(root), "FLX102") == [("FLX102", "clusters/prod/apps/kustomization.yaml", 2, 5)]


def test_reference_leaving_the_root_is_never_read(repo, tmp_path):
    (tmp_path / "secret.yaml").write_text(cm("outside"))
    root = base_repo(repo, {
        "clusters/prod/apps/kustomization.yaml": """
            resources:
              - ../../../../secret.yaml
              - /etc/passwd
              - ../../../apps-shared.yaml
            """,
    })
    report = lint(root)
    assert found(report, "FLX007") == [
        ("FLX007", "clusters/prod/apps/kustomization.yaml", 2, 5),
        ("FLX007", "clusters/prod/apps/kustomization.yaml", 3, 5),
    ]
    # three levels up from clusters/prod/apps is the root itself: inside, just missing
    assert found(report, "FLX101") == [("FLX101", "clusters/prod/apps/kustomization.yaml", 4, 5)]
    g = graph_of(root)
    assert not any(a.name == "outside" for s in g.scopes.values() for a in s.applied)


def test_dot_dot_inside_the_repository_is_normal(repo):
    root = base_repo(repo, {
        "clusters/prod/apps/kustomization.yaml": "resources:\n  - ../../../shared/cm.yaml\n",
        "shared/cm.yaml": cm("shared"),
    })
    report = lint(root)
    assert found(report) == []
    g = graph_of(root)
    assert any(a.name == "shared" for a in g.scopes["clusters/prod"].applied)


def test_remote_resources_are_noted_not_missing(repo):
    root = base_repo(repo, {
        "clusters/prod/crds/kustomization.yaml": """
            resources:
              - https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.3.0/standard-install.yaml
              - github.com/org/repo//deploy?ref=v1.0.0
            """,
    })
    assert found(lint(root)) == []
    g = graph_of(root)
    kb = g.resolver._builds["clusters/prod/crds"]
    assert [r[2] for r in kb.remotes] == [
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.3.0/standard-install.yaml",
        "github.com/org/repo//deploy?ref=v1.0.0",
    ]


def test_namespace_prefix_suffix_and_target_namespace(repo):
    root = base_repo(repo, {
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", extra="  targetNamespace: override\n"),
        "clusters/prod/kustomization.yaml": "resources:\n  - flux-system\n  - apps.yaml\n  - team\n",
        "clusters/prod/team/kustomization.yaml": "namespace: team\nnamePrefix: t-\nnameSuffix: -x\nresources:\n  - cm.yaml\n  - ns.yaml\n",
        "clusters/prod/team/cm.yaml": cm("c"),
        "clusters/prod/team/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n",
        "apps/cm.yaml": cm("app"),
        "apps/crb.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: crb\n"
                         "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n",
    })
    g = graph_of(root)
    scope = g.scopes["clusters/prod"]
    keys = {(a.doc.kind, a.namespace, a.name) for a in scope.applied}
    assert ("ConfigMap", "team", "t-c-x") in keys
    assert ("Namespace", "", "t-team-x") in keys  # cluster-scoped: no namespace
    assert ("ConfigMap", "override", "app") in keys
    assert ("ClusterRoleBinding", "", "crb") in keys


def test_generated_kustomization_takes_yaml_files_and_kustomize_dirs(repo):
    root = base_repo(repo, {
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/a.yaml": cm("a"),
        "apps/nested/b.yml": cm("b"),
        "apps/unit/kustomization.yaml": "resources:\n  - c.yaml\n",
        "apps/unit/c.yaml": cm("c"),
        "apps/unit/not-listed.yaml": cm("not-listed"),
        "apps/notes.txt": "not yaml",
    })
    g = graph_of(root)
    names = {a.name for a in g.scopes["clusters/prod"].applied if a.doc.kind == "ConfigMap"}
    assert names == {"a", "b", "c"}


def test_non_manifest_yaml_under_a_generated_path_fails_the_reconcile(repo):
    root = base_repo(repo, {
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/a.yaml": cm("a"),
        "apps/values.yaml": "replicaCount: 2\n",
    })
    report = lint(root)
    assert found(report, "FLX104") == [("FLX104", "apps/values.yaml", 1, 1)]
    f = next(f for f in report.findings if f.rule == "FLX104")
    assert f.related and f.related[0].path == "clusters/prod/apps.yaml"


def test_sourceignore_and_default_ignores_drop_files(repo):
    root = base_repo(repo, {
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/a.yaml": cm("a"),
        "apps/values.yaml": "replicaCount: 2\n",
        "apps/.sops.yaml": "creation_rules: []\n",
        ".sourceignore": "apps/values.yaml\n",
    })
    report = lint(root)
    assert found(report, "FLX104") == []


def test_yaml_without_kind_not_applied_is_skipped_not_reported(repo):
    root = base_repo(repo, {"docs/example-values.yaml": "foo: bar\n"})
    report = lint(root)
    assert found(report) == []
    assert ("docs/example-values.yaml", "no Kubernetes objects (no apiVersion/kind)") in [
        (s.path, s.reason) for s in report.skipped]


def test_kustomize_cycle(repo):
    root = base_repo(repo, {
        "clusters/prod/kustomization.yaml": "resources:\n  - flux-system\n  - ../../a\n",
        "a/kustomization.yaml": "resources:\n  - ../b\n",
        "b/kustomization.yaml": "resources:\n  - ../a\n",
    })
    assert [r[0] for r in found(lint(root), "FLX103")] == ["FLX103"]


def test_patch_files_are_not_applied_objects(repo):
    root = base_repo(repo, {
        "clusters/prod/kustomization.yaml": "resources:\n  - flux-system\n  - cm.yaml\npatches:\n  - path: patch.yaml\n",
        "clusters/prod/cm.yaml": cm("real"),
        "clusters/prod/patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: real\ndata:\n  k: patched\n",
    })
    report = lint(root)
    assert found(report) == []
    g = graph_of(root)
    applied_paths = {a.doc.path for a in g.scopes["clusters/prod"].applied}
    assert "clusters/prod/patch.yaml" not in applied_paths
    assert "clusters/prod/cm.yaml" in applied_paths
