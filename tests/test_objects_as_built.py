"""Objects as kustomize and kustomize-controller build them: patches and their targets,
Components, the transformer order, replacements, generator inputs, Flux's own additions
and post-build substitution. Each case asserts the object as applied and the exact
findings (rule, severity, line, column)."""

from conftest import flux_ks, gotk_sync, graph_of, lint

ROOT = {"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod")}

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  k: v\n"


def applied(root, kind, name):
    g = graph_of(root)
    hits = [a for a in g.applied_objects() if a.doc.kind == kind and a.name == name]
    assert hits, f"{kind}/{name} is not applied"
    return hits[0]


def findings(report, *rules):
    return [(f.rule, f.severity, f.path, f.line, f.column) for f in report.findings if f.rule in rules]


# --------------------------------------------------------------------------- selectors


def test_set_based_selector_in_a_parent_flux_patch_reaches_the_children(repo):
    # the parent gives every child its substituteFrom, except those labelled opted-out
    # (apimachinery's `notin`: matches when the label is absent or has another value)
    root = repo({**ROOT,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", extra="""\
  patches:
    - patch: |
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: not-used
        spec:
          postBuild:
            substituteFrom:
              - kind: ConfigMap
                name: cluster-settings
      target:
        group: kustomize.toolkit.fluxcd.io
        kind: Kustomization
        labelSelector: substitution.flux/disabled notin (true)
"""),
        "clusters/prod/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n"
                                       "  namespace: flux-system\ndata:\n  DOMAIN: example.com\n",
        "apps/kustomization.yaml": "resources: [podinfo.yaml, legacy.yaml]\n",
        "apps/podinfo.yaml": flux_ks("podinfo", "./apps/podinfo"),
        "apps/legacy.yaml": flux_ks("legacy", "./apps/legacy").replace(
            "metadata:\n", "metadata:\n  labels:\n    substitution.flux/disabled: \"true\"\n"),
        "apps/podinfo/cm.yaml": CM.format(name="podinfo").replace("k: v", "host: app.${DOMAIN}"),
        "apps/legacy/cm.yaml": CM.format(name="legacy"),
    })
    podinfo = applied(root, "Kustomization", "podinfo")
    assert podinfo.spec["postBuild"]["substituteFrom"][0]["name"] == "cluster-settings"
    assert "postBuild" not in applied(root, "Kustomization", "legacy").spec
    assert applied(root, "ConfigMap", "podinfo").value["data"]["host"] == "app.example.com"
    assert findings(lint(root), "FLX701", "FLX109") == []


def test_a_patch_does_not_see_labels_a_later_transformer_of_the_same_kustomization_adds(repo):
    # kustomize's order: patches, then namespace, prefix/suffix, then labels
    root = repo({**ROOT,
        "clusters/prod/app.yaml": flux_ks("app", "./app"),
        "app/kustomization.yaml": """\
            resources: [cm.yaml]
            labels:
              - pairs: {tier: web}
            patches:
              - patch: |
                  - op: add
                    path: /data/patched
                    value: "yes"
                target:
                  kind: ConfigMap
                  labelSelector: tier=web
        """,
        "app/cm.yaml": CM.format(name="web"),
    })
    cm = applied(root, "ConfigMap", "web")
    assert cm.value["metadata"]["labels"] == {"tier": "web"} and "patched" not in cm.value["data"]
    assert findings(lint(root), "FLX109") == [("FLX109", "warning", "app/kustomization.yaml", 9, 5)]


def test_a_parent_kustomization_sees_the_labels_its_resources_added(repo):
    root = repo({**ROOT,
        "clusters/prod/app.yaml": flux_ks("app", "./app"),
        "app/kustomization.yaml": """\
            resources: [base]
            patches:
              - patch: |
                  - op: add
                    path: /data/patched
                    value: "yes"
                target:
                  kind: ConfigMap
                  labelSelector: tier in (web,api)
        """,
        "app/base/kustomization.yaml": "resources: [cm.yaml]\ncommonLabels:\n  tier: web\n",
        "app/base/cm.yaml": CM.format(name="web"),
    })
    assert applied(root, "ConfigMap", "web").value["data"]["patched"] == "yes"
    assert findings(lint(root), "FLX108", "FLX109") == []


# --------------------------------------------------------------------------- Components


COMPONENT = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - target:
      group: kustomize.toolkit.fluxcd.io
      kind: Kustomization
    patch: |-
      apiVersion: kustomize.toolkit.fluxcd.io/v1
      kind: Kustomization
      metadata:
        name: not-used
      spec:
        targetNamespace: media
        dependsOn:
          - name: storage
        decryption:
          provider: sops
          secretRef:
            name: sops-age
        postBuild:
          substituteFrom:
            - kind: ConfigMap
              name: cluster-settings
"""


def test_a_component_patches_the_flux_kustomizations_that_include_it(repo):
    root = repo({**ROOT,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "clusters/prod/storage.yaml": flux_ks("storage", "./storage"),
        "clusters/prod/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n"
                                       "  namespace: flux-system\ndata:\n  DOMAIN: example.com\n",
        "storage/cm.yaml": CM.format(name="storage"),
        "components/common/kustomization.yaml": COMPONENT,
        "apps/kustomization.yaml": "resources: [jellyfin.yaml]\ncomponents: [../components/common]\n",
        "apps/jellyfin.yaml": flux_ks("jellyfin", "./apps/jellyfin"),
        "apps/jellyfin/cm.yaml": CM.format(name="jellyfin").replace("k: v", "host: media.${DOMAIN}").replace(
            "  namespace: default\n", ""),
    })
    ks = applied(root, "Kustomization", "jellyfin")
    assert ks.spec["targetNamespace"] == "media"
    assert ks.spec["decryption"]["secretRef"]["name"] == "sops-age"
    cm = applied(root, "ConfigMap", "jellyfin")
    assert (cm.namespace, cm.value["data"]["host"]) == ("media", "media.example.com")
    g = graph_of(root)
    deps = [(e.target.name, e.state) for e in g.edges if e.kind == "dependsOn" and e.source.name == "jellyfin"]
    assert deps == [("storage", "resolved")]
    assert findings(lint(root), "FLX701", "FLX402", "FLX503") == []


def test_flux_spec_components_run_before_the_kustomizations_patches(repo):
    # kustomize-controller appends spec.components to the kustomization's components, and
    # components come before the kustomization's own patches (kustomize's accumulateTarget)
    root = repo({**ROOT,
        "clusters/prod/app.yaml": flux_ks("app", "./app", extra="  components:\n    - ../components/db\n"),
        "components/db/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                            "resources: [db.yaml]\n",
        "components/db/db.yaml": CM.format(name="db"),
        "app/kustomization.yaml": """\
            resources: [cm.yaml]
            patchesStrategicMerge:
              - |-
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: db
                  namespace: default
                data:
                  size: large
        """,
        "app/cm.yaml": CM.format(name="app"),
    })
    assert applied(root, "ConfigMap", "db").value["data"] == {"k": "v", "size": "large"}
    assert findings(lint(root), "FLX108", "FLX109") == []


# --------------------------------------------------------------------------- failures


def test_a_strategic_merge_patch_without_target_must_match_exactly_one_object(repo):
    root = repo({**ROOT,
        "clusters/prod/app.yaml": flux_ks("app", "./app"),
        "app/kustomization.yaml": """\
            resources: [cm.yaml]
            patches:
              - path: missing-object.yaml
              - path: ok.yaml
        """,
        "app/cm.yaml": CM.format(name="app"),
        "app/missing-object.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  a: b\n",
        "app/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: b\n",
    })
    assert applied(root, "ConfigMap", "app").value["data"] == {"k": "v", "a": "b"}
    assert findings(lint(root), "FLX108") == [("FLX108", "error", "app/kustomization.yaml", 3, 5)]


def test_a_json6902_operation_that_cannot_apply_fails_the_build(repo):
    root = repo({**ROOT,
        "clusters/prod/app.yaml": flux_ks("app", "./app"),
        "app/kustomization.yaml": """\
            resources: [cm.yaml]
            patches:
              - target: {kind: ConfigMap, name: app}
                patch: |
                  - op: replace
                    path: /data/missing
                    value: x
        """,
        "app/cm.yaml": CM.format(name="app"),
    })
    report = lint(root)
    assert findings(report, "FLX108") == [("FLX108", "error", "app/kustomization.yaml", 3, 5)]
    msg = next(f.message for f in report.findings if f.rule == "FLX108")
    assert "replace /data/missing" in msg and "`missing` does not exist" in msg


def test_a_targeted_patch_that_matches_nothing_is_a_warning_unless_the_build_is_not_all_here(repo):
    files = {**ROOT,
             "clusters/prod/app.yaml": flux_ks("app", "./app"),
             "app/kustomization.yaml": "resources: [cm.yaml]\npatches:\n  - target: {kind: Deployment}\n"
                                       "    patch: |\n      - op: add\n        path: /spec/replicas\n        value: 2\n",
             "app/cm.yaml": CM.format(name="app")}
    assert findings(lint(repo(files)), "FLX109") == [("FLX109", "warning", "app/kustomization.yaml", 3, 5)]
    files["app/kustomization.yaml"] = files["app/kustomization.yaml"].replace(
        "resources: [cm.yaml]", "resources:\n  - cm.yaml\n  - https://github.com/example/base//deploy?ref=v1.0.0")
    assert findings(lint(repo(files)), "FLX109") == []  # the target may be in the remote base


def test_an_invalid_target_selector_fails_the_build(repo):
    root = repo({**ROOT,
        "clusters/prod/app.yaml": flux_ks("app", "./app"),
        "app/kustomization.yaml": "resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap, labelSelector: 'a in b'}\n"
                                  "    patch: |\n      - op: add\n        path: /data/x\n        value: y\n",
        "app/cm.yaml": CM.format(name="app"),
    })
    assert findings(lint(root), "FLX108") == [("FLX108", "error", "app/kustomization.yaml", 3, 5)]


# --------------------------------------------------------------------------- replacements


REPLACEMENT_BASE = {
    **ROOT,
    "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
    "apps/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: flux-system\n"
                          "data:\n  namespace: media\n  path: ./apps/media\n",
    "apps/media.yaml": flux_ks("media", "./apps/placeholder"),
    "apps/media/cm.yaml": CM.format(name="player").replace("  namespace: default\n", ""),
}


def test_replacements_reach_the_fields_of_flux_objects(repo):
    root = repo({**REPLACEMENT_BASE, "apps/kustomization.yaml": """\
        resources: [settings.yaml, media.yaml]
        replacements:
          - source: {kind: ConfigMap, name: settings, fieldPath: data.path}
            targets:
              - select: {kind: Kustomization, name: media}
                fieldPaths: [spec.path]
          - source: {kind: ConfigMap, name: settings, fieldPath: data.namespace}
            targets:
              - select: {kind: Kustomization, name: media}
                fieldPaths: [spec.targetNamespace]
                options: {create: true}
    """})
    ks = applied(root, "Kustomization", "media")
    assert ks.spec["path"] == "./apps/media" and ks.spec["targetNamespace"] == "media"
    assert applied(root, "ConfigMap", "player").namespace == "media"
    assert findings(lint(root), "FLX105", "FLX110") == []


def test_a_replacement_that_fails_is_an_error_and_a_target_that_matches_nothing_is_skipped(repo):
    root = repo({**REPLACEMENT_BASE, "apps/kustomization.yaml": """\
        resources: [settings.yaml, media.yaml]
        replacements:
          - source: {kind: ConfigMap, name: settings, fieldPath: data.missing}
            targets:
              - select: {kind: Kustomization, name: media}
                fieldPaths: [spec.path]
          - source: {kind: ConfigMap, name: settings, fieldPath: data.namespace}
            targets:
              - select: {kind: Kustomization, name: media}
                fieldPaths: [spec.targetNamespace]
          - source: {kind: ConfigMap, name: settings, fieldPath: data.namespace}
            targets:
              - select: {kind: Kustomization, name: nothing-has-this-name}
                fieldPaths: [spec.targetNamespace]
    """})
    assert findings(lint(root), "FLX110") == [
        ("FLX110", "error", "apps/kustomization.yaml", 3, 5),  # the source lacks its fieldPath
        ("FLX110", "error", "apps/kustomization.yaml", 9, 9),  # the target lacks the field, no create
    ]


# --------------------------------------------------------------------------- files that are not manifests


def test_generator_inputs_are_data_and_remote_inputs_are_remote(repo):
    root = repo({**ROOT,
        "clusters/prod/app.yaml": flux_ks("app", "./app"),
        "app/kustomization.yaml": "resources: [cm.yaml]\nconfigMapGenerator:\n  - name: config\n    files:\n"
                                  "      - settings.yaml\n      - https://example.com/defaults.env\n",
        "app/settings.yaml": "[section]\nkey = value\n: not yaml: [\n",
        "app/cm.yaml": CM.format(name="app"),
    })
    report = lint(root)
    assert findings(report, "FLX001", "FLX101", "FLX104") == []
    assert findings(report, "FLX409") == [("FLX409", "warning", "app/kustomization.yaml", 6, 9)]
    assert any(s.path == "app/settings.yaml" and "generator input" in s.reason for s in report.skipped)


def test_generated_configmap_data_is_substituted_unless_the_generator_disables_it(repo):
    files = {**ROOT,
             "clusters/prod/app.yaml": flux_ks("app", "./app", extra="  postBuild:\n    substitute:\n      A: a\n"),
             "app/kustomization.yaml": "configMapGenerator:\n  - name: config\n    files:\n      - script.yaml\n",
             "app/script.yaml": "run: echo ${HOME}\n"}
    assert findings(lint(repo(files)), "FLX701") == [("FLX701", "error", "app/kustomization.yaml", 2, 5)]
    files["app/kustomization.yaml"] += ("generatorOptions:\n  annotations:\n"
                                        "    kustomize.toolkit.fluxcd.io/substitute: disabled\n")
    assert findings(lint(repo(files)), "FLX701") == []


# --------------------------------------------------------------------------- post-build


def post_build(repo, text, extra_root=None, substitute="      DOMAIN: example.com\n"):
    return repo({**(extra_root or ROOT),
                 "clusters/prod/app.yaml": flux_ks("app", "./app", extra=f"  postBuild:\n    substitute:\n{substitute}"),
                 "app/cm.yaml": CM.format(name="app").replace("k: v", text)})


def test_nested_defaults_and_defaults_on_empty_values(repo):
    root = post_build(repo, "a: ${MISSING:=${DOMAIN}}\n  b: ${EMPTY:-fallback}\n  c: $${LITERAL}",
                      substitute="      DOMAIN: example.com\n      EMPTY: \"\"\n")
    data = applied(root, "ConfigMap", "app").value["data"]
    assert data == {"a": "example.com", "b": "fallback", "c": "${LITERAL}"}
    assert findings(lint(root), "FLX701", "FLX703") == []


def test_an_unset_variable_fails_with_strict_substitution_and_is_empty_without(repo):
    # unknown Flux: the current release, where StrictPostBuildSubstitutions is on (Flux 2.9)
    root = post_build(repo, "host: ${UNSET}")
    assert findings(lint(root), "FLX701") == [("FLX701", "error", "app/cm.yaml", 7, 9)]
    # a cluster running Flux 2.7 (its committed gotk-components.yaml says so)
    older = {**ROOT, "clusters/prod/flux-system/gotk-components.yaml": "# Flux Version: v2.7.5\n",
             "clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-components.yaml, gotk-sync.yaml]\n"}
    report = lint(post_build(repo, "host: ${UNSET}", extra_root=older))
    assert findings(report, "FLX701") == [("FLX701", "warning", "app/cm.yaml", 7, 9)]
    f = next(f for f in report.findings if f.rule == "FLX701")
    assert "empty string" in f.message and "v2.7.5" in f.hint


def test_a_shell_variable_in_a_script_is_a_variable_to_flux(repo):
    root = post_build(repo, "script.sh: |\n    echo ${HOME}")
    report = lint(root)
    assert findings(report, "FLX701") == [("FLX701", "error", "app/cm.yaml", 7, 14)]
    hint = next(f.hint for f in report.findings if f.rule == "FLX701")
    assert "$${HOME}" in hint and "substitute: disabled" in hint


def test_forms_flux_cannot_parse_and_invalid_variable_names(repo):
    root = post_build(repo, "host: ${DOMAIN-example.org}", substitute="      DOMAIN: a\n      my-var: b\n")
    assert findings(lint(root), "FLX703", "FLX704") == [
        ("FLX703", "error", "app/cm.yaml", 7, 9),
        ("FLX704", "error", "clusters/prod/app.yaml", 16, 7),
    ]


def test_substitution_does_not_run_without_variables_unless_always(repo):
    files = {**ROOT,
             "clusters/prod/app.yaml": flux_ks("app", "./app", extra="  postBuild:\n    substituteFrom:\n"
                                               "      - kind: ConfigMap\n        name: absent\n        optional: true\n"),
             "app/cm.yaml": CM.format(name="app").replace("k: v", "host: ${UNSET}")}
    root = repo(files)
    assert applied(root, "ConfigMap", "app").value["data"]["host"] == "${UNSET}"
    assert findings(lint(root), "FLX701") == []
    files["clusters/prod/app.yaml"] += "    substituteStrategy: Always\n"
    assert findings(lint(repo(files)), "FLX701") == [("FLX701", "error", "app/cm.yaml", 7, 9)]


def test_external_secret_keys_are_substitution_variables(repo):
    root = repo({**ROOT,
        "clusters/prod/app.yaml": flux_ks("app", "./app", extra="  postBuild:\n    substituteFrom:\n"
                                          "      - kind: Secret\n        name: cluster-vars\n"),
        "clusters/prod/vars.yaml": """\
            apiVersion: external-secrets.io/v1
            kind: ExternalSecret
            metadata: {name: cluster-vars, namespace: flux-system}
            spec:
              secretStoreRef: {kind: ClusterSecretStore, name: vault}
              target:
                name: cluster-vars
                template:
                  data:
                    DOMAIN: "{{ .domain }}"
                    NFS_SERVER: 192.168.1.10
              dataFrom:
                - extract: {key: cluster-vars}
        """,
        "app/cm.yaml": CM.format(name="app").replace("k: v", "a: ${DOMAIN}\n  b: ${NFS_SERVER}\n  c: ${OTHER}"),
    })
    # the template's data are the Secret's keys (mergePolicy Replace, the default)
    assert findings(lint(root), "FLX701") == [("FLX701", "error", "app/cm.yaml", 9, 6)]
    data = applied(root, "ConfigMap", "app").value["data"]
    assert data["b"] == "192.168.1.10" and data["a"] == "${DOMAIN}"  # fetched at run time: left as written


# --------------------------------------------------------------------------- flux-operator's kinds


def test_flux_operator_widens_the_alert_and_receiver_kind_enums(repo):
    alert = """\
        apiVersion: notification.toolkit.fluxcd.io/v1beta3
        kind: Alert
        metadata: {name: operator, namespace: flux-system}
        spec:
          providerRef: {name: slack}
          eventSources:
            - {kind: FluxInstance, name: flux}
            - {kind: ResourceSet, name: '*'}
        ---
        apiVersion: notification.toolkit.fluxcd.io/v1beta3
        kind: Provider
        metadata: {name: slack, namespace: flux-system}
        spec: {type: slack, channel: general, address: https://hooks.slack.com/services/x}
    """
    # a cluster bootstrapped with `flux bootstrap`: the CRDs do not know flux-operator's kinds
    files = {**ROOT, "clusters/prod/alert.yaml": alert}
    assert [f[:2] for f in findings(lint(repo(files)), "FLX204")] == [("FLX204", "error")] * 2
    # a cluster that flux-operator installs (its FluxInstance is the root)
    files = {"clusters/prod/alert.yaml": alert, "clusters/prod/flux-system/instance.yaml": """\
        apiVersion: fluxcd.controlplane.io/v1
        kind: FluxInstance
        metadata: {name: flux, namespace: flux-system}
        spec:
          distribution: {version: "2.x", registry: ghcr.io/fluxcd}
          sync: {kind: GitRepository, url: "https://github.com/example/fleet.git", ref: refs/heads/main,
                 path: clusters/prod}
    """}
    assert findings(lint(repo(files)), "FLX204") == []
