"""FLX2xx: every document against the schema of its kind.

Schemas come from, in order: CRDs found in the repository (per cluster), schema
directories the user names, the bundled Flux ecosystem schemas, the bundled CRD catalog,
and Kubernetes' own (see docs/schemas.md). One pass validates everything (``gitlint_flux.schema.analysis``); each
rule below reports one family of defects from it, so a defect gives one finding.
"""

from __future__ import annotations

from ..model import ERROR, INFO, WARNING
from .base import Fix, Rule


class _SchemaRule(Rule):
    def check(self, ctx):
        from ..schema.analysis import analysis

        result = analysis(ctx)
        if result.error is not None:  # the engine's schema stage reports it (FLX000)
            return
        level = self.adjust_level(result)
        for i in result.of(self.code):
            f = self.finding(i.path, i.line, i.column, i.message, hint=i.hint, end_line=i.end_line,
                             end_column=i.end_column, resource=i.resource)
            f.severity = level
            if i.caps:
                f.caps.extend(i.caps)  # applied by the findings pipeline (findings.apply_caps)
            yield f

    def adjust_level(self, result) -> str:
        return self.level


class UnknownField(_SchemaRule):
    """A field that the kind's schema does not define.

    Kubernetes drops (prunes) unknown fields of custom resources silently, or refuses the
    object under strict field validation; either way the setting you wrote has no effect.
    Typos (`intervall`), a field at the wrong indentation level, and fields of another API
    version are the usual causes. The finding points at the key and names the closest valid
    field. Fields under `x-kubernetes-preserve-unknown-fields` (a HelmRelease's `values`)
    are free-form and never reported. A SOPS `sops:` block is not part of the object.

    When the schema comes from the bundled CRD catalog (cert-manager, external-secrets,
    Gateway API, Prometheus operator, ...), it is of an unknown release of that project:
    the field may exist in the release your cluster runs, so the finding is a warning that
    names the catalog. Commit the project's CRDs (or point `--schema-location` at its
    schemas) to validate against your release; the finding is then an error again.

    **Fix:** correct the spelling or the indentation, or remove the field.

    Failing:
    ```yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      intervall: 5m   # unknown field `spec.intervall` (did you mean `interval`?)
      url: https://github.com/stefanprodan/podinfo
    ```
    Passing:
    ```yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 5m
      url: https://github.com/stefanprodan/podinfo
    ```
    """

    code = "FLX201"
    slug = "unknown-field"
    severity = ERROR


class WrongType(_SchemaRule):
    """A value of the wrong type: a string where a boolean, number, list or mapping belongs.

    The API server refuses the object (`cannot unmarshal string into Go struct field`).
    The usual causes are quotes (`"true"` is a string), YAML 1.1 words (`yes`/`on` are
    strings for kustomize and Flux, which read YAML 1.2), and a single value where a list
    belongs. A Flux post-build placeholder (`${REPLICAS}`) is judged after substitution with
    the variables the repository defines, and not at all when it cannot be resolved; SOPS
    ciphertexts (`ENC[...]`) are never judged.

    **Fix:** write the value as the type the schema asks for (the finding says which).

    Failing:
    ```yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 5m
      url: https://github.com/stefanprodan/podinfo
      suspend: "true"   # must be a boolean, not the string "true"
    ```
    Passing:
    ```yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 5m
      url: https://github.com/stefanprodan/podinfo
      suspend: true
    ```
    """

    code = "FLX202"
    slug = "wrong-type"
    severity = ERROR


class MissingRequiredField(_SchemaRule):
    """A field that the schema requires is missing (or null).

    The API server refuses the object. The finding points at the mapping that lacks the
    field. A field with a schema default is not missing (the API server fills it in), nor
    one that a parent Kustomization's `spec.patches` adds. Kustomize patches (files used
    as `patches`, and inline strategic-merge patches) are partial by nature and are not
    checked for required fields.

    A document that names a `kind` but no `apiVersion` (or an `apiVersion` and an empty
    `kind`), with `metadata` or beside other objects in its file, is reported at that
    document. Kustomization and Component files are not: kustomize fills those in.

    **Fix:** add the field.

    Failing:
    ```yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      prune: true
      sourceRef:
        kind: GitRepository   # missing required field `name` in `spec.sourceRef`
    ```
    Passing:
    ```yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      prune: true
      sourceRef:
        kind: GitRepository
        name: flux-system
    ```
    """

    code = "FLX203"
    slug = "missing-required-field"
    severity = ERROR


class InvalidValue(_SchemaRule):
    """A value outside what the schema allows (enum, pattern, format, range, length, duplicates).

    Not one of an enum, not matching a pattern, a bad format (base64 in a Secret's `data`),
    out of range, too long, or a duplicate item of a set-like list.
    Flux durations (`interval`, `timeout`, `retryInterval`) must match
    `^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$` (source timeouts allow no `h`); `5min` or `1d` are
    refused by the API server. Where an older Flux CRD in the repository types them as
    plain strings, they are still checked as Go durations, as the controller decodes them.
    Enum values are case-sensitive (`GitRepository`, not `Gitrepository`); the finding
    names the closest allowed value. An enum value refused by a bundled catalog schema
    (of an unknown release) is a warning.

    **Fix:** use a value the schema allows (the finding quotes the rule).

    Failing:
    ```yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 5min
      prune: true
      sourceRef:
        kind: Gitrepository
        name: flux-system
    ```
    Passing:
    ```yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 5m
      prune: true
      sourceRef:
        kind: GitRepository
        name: flux-system
    ```
    """

    code = "FLX204"
    slug = "invalid-value"
    severity = ERROR


class CelRule(_SchemaRule):
    """A CRD validation rule (`x-kubernetes-validations`, CEL) is violated.

    The Flux CRDs carry rules that the schema's structure cannot express, such as "exactly
    one of `chart` or `chartRef`" for a HelmRelease, or which STS provider a Bucket
    provider accepts. gitlint-flux evaluates them offline after applying the schema's
    defaults, as the API server does (a Bucket's `provider` defaults to `generic`). A rule
    is not evaluated when a field it reads is already reported wrong (or an unknown field
    sits beside them), on kustomize patches, nor when it depends on an unresolved
    `${VAR}`. Rules that use functions outside the supported CEL subset are skipped
    (docs/schemas.md).

    **Fix:** follow the rule's message.

    Failing:
    ```yaml
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: podinfo, namespace: default}
    spec:
      interval: 10m     # `spec`: either chart or chartRef must be set
    ```
    Passing:
    ```yaml
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: podinfo, namespace: default}
    spec:
      interval: 10m
      chartRef:
        kind: OCIRepository
        name: podinfo
    ```
    """

    code = "FLX205"
    slug = "cel-rule"
    severity = ERROR


class InvalidMetadata(_SchemaRule):
    """An object's name, namespace, labels or annotations break the API server's rules.

    Names are DNS-1123 subdomains for most kinds (lower case, digits, `-` and `.`, at most
    253 characters); a Namespace name is a DNS-1123 label (no `.`, at most 63); a Service
    name a DNS-1035 label (starts with a letter); RBAC names are path segments (`system:`
    names are valid); a CustomResourceDefinition is named `<plural>.<group>`; a CronJob
    name has at most 52 characters. An object without `name` needs a valid
    `generateName`. `namespace` is a DNS-1123 label. Label and annotation keys are
    `[prefix/]name` with a DNS subdomain prefix and a name of at most 63 characters; label
    values at most 63 characters of letters, digits, `-`, `_`, `.`. Names after kustomize's
    `namePrefix`/`nameSuffix` are checked too; unresolved `${VAR}` placeholders are not.

    **Fix:** rename as the finding says.

    Failing:
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: My_Apps
      labels:
        app.kubernetes.io/part-of: my apps
    ```
    Passing:
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: my-apps
      labels:
        app.kubernetes.io/part-of: my-apps
    ```
    """

    code = "FLX206"
    slug = "invalid-metadata"
    severity = ERROR


class RemovedApiVersion(_SchemaRule):
    """The document's `apiVersion` was removed (or never served) by the targeted Flux or Kubernetes.

    Flux: every `v1beta1` (source, kustomize, notification, image) and `helm/v2beta1` were
    removed in Flux 2.7; source/kustomize `v1beta2` and `helm/v2beta2` in 2.8; image and
    notification `v1beta2` in 2.9 (Alert and Provider are served as `v1beta3`). Kubernetes:
    APIs removed up to the target version (`--kubernetes-version`, default the newest
    known), e.g. `extensions/v1beta1` and `networking.k8s.io/v1beta1` Ingress (1.22),
    `batch/v1beta1` CronJob, `policy/v1beta1` PodSecurityPolicy and PodDisruptionBudget
    (1.25), `autoscaling/v2beta2` (1.26). The API server answers "no matches for kind", so
    nothing of the Kustomization applies. A version that a known Flux or Kubernetes group
    never served (`helm.toolkit.fluxcd.io/v3`), a kind it does not have (`apps/v1`
    `Deploymnet`), and a version the cluster's own CRD does not serve are reported too,
    for applied documents; so is a version source-watcher (`source.extensions.fluxcd.io`,
    ArtifactGenerator `v1beta1`) or flux-operator (`fluxcd.controlplane.io`, `v1`) never
    served, naming the versions that exist.
    Such a document gets this finding only: it is not validated further, and not reported
    as lacking a schema. When the repository's own `gotk-components.yaml` still serves the
    version, FLX208 reports it instead.

    **Fix:** `gitlint-flux lint --fix` moves a Flux object to the newest version where the
    cluster's Flux serves it: kustomize and GitRepository `v1` (Flux 2.0), Receiver `v1`
    (2.1), Alert and Provider `v1beta3` (2.2), HelmRelease `v2` and HelmRepository and
    HelmChart `v1` (2.3), Bucket `v1` (2.5), OCIRepository `v1` (2.6), the image APIs `v1`
    (2.7); a committed `gotk-components.yaml` of an older Flux gets "upgrade Flux first".
    What names the old version moves in the same fix: the object's strategic-merge patches,
    patch `target.version`, `healthChecks` entries, Flux `spec.patches`. HelmRelease
    `chart.spec.valuesFile` (removed in v2) becomes `valuesFiles: [file]` (it was merged
    first); `patchesStrategicMerge` and `patchesJson6902` (removed from HelmRelease v2's
    `postRenderers[].kustomize` and Kustomization v1's `spec`) move to `patches`, each entry
    as a `patch: |` text, strategic-merge first, JSON 6902 last. Refused, by name:
    Kustomization `spec.validation`, and any field the newer schema lacks, such as
    GitRepository `spec.gitImplementation` and `spec.accessFrom` (gone in v1). Or `flux
    migrate -f <path>`; for Kubernetes kinds change `apiVersion` to the replacement named
    and review the fields that changed.

    Failing:
    ```yaml
    apiVersion: helm.toolkit.fluxcd.io/v2beta1
    kind: HelmRelease
    metadata: {name: podinfo, namespace: default}
    spec:
      interval: 10m
      chart:
        spec: {chart: podinfo, version: 6.9.2, sourceRef: {kind: HelmRepository, name: podinfo}}
    ```
    Passing:
    ```yaml
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: podinfo, namespace: default}
    spec:
      interval: 10m
      chart:
        spec: {chart: podinfo, version: 6.9.2, sourceRef: {kind: HelmRepository, name: podinfo}}
    ```
    """

    code = "FLX207"
    slug = "removed-api-version"
    severity = ERROR
    fix = Fix(True, "a Flux object's `apiVersion` moves to the newest version, with everything that names the "
                    "old one (its patches, patch targets, health checks), where the cluster's Flux serves it")


class DeprecatedApiVersion(_SchemaRule):
    """The document's `apiVersion` is deprecated: the cluster still serves it, the next upgrade will not.

    Reported when a Flux version that current Flux removed is still served by the
    repository's own CRDs (an older `gotk-components.yaml` in the same cluster), and when a
    CRD marks the version `deprecated`. The document is validated against the CRD that
    serves it.

    **Fix:** `gitlint-flux lint --fix` moves the object to the newest version when the
    cluster's Flux serves it (as FLX207); otherwise upgrade Flux first (`flux install
    --export > gotk-components.yaml`), then fix. `flux migrate -f <path>` (Flux CLI)
    rewrites the manifests too.

    Failing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: source.toolkit.fluxcd.io/v1beta2
    kind: GitRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 5m
      url: https://github.com/stefanprodan/podinfo
      ref: {tag: 6.9.2}
    # file: clusters/prod/flux-system/gotk-components.yaml
    # (of Flux 2.7: v1beta2 still served; the real file holds every Flux CRD and controller)
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: gitrepositories.source.toolkit.fluxcd.io}
    spec:
      group: source.toolkit.fluxcd.io
      names: {kind: GitRepository, plural: gitrepositories}
      scope: Namespaced
      versions:
        - name: v1
          served: true
          storage: true
          schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
        - name: v1beta2
          served: true
          storage: false
          deprecated: true
          schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    ```
    Passing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 5m
      url: https://github.com/stefanprodan/podinfo
      ref: {tag: 6.9.2}
    # file: clusters/prod/flux-system/gotk-components.yaml
    # (of Flux 2.7: v1beta2 still served; the real file holds every Flux CRD and controller)
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: gitrepositories.source.toolkit.fluxcd.io}
    spec:
      group: source.toolkit.fluxcd.io
      names: {kind: GitRepository, plural: gitrepositories}
      scope: Namespaced
      versions:
        - name: v1
          served: true
          storage: true
          schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
        - name: v1beta2
          served: true
          storage: false
          deprecated: true
          schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    ```
    """

    code = "FLX208"
    slug = "deprecated-api-version"
    severity = WARNING
    fix = Fix(True, "as FLX207: the newest version, where the cluster's Flux serves it (else: upgrade Flux first)")


class NoSchema(_SchemaRule):
    """No schema is known for a kind, so its documents are not validated (once per kind).

    gitlint-flux knows every CRD found in the repository, the schema directories you name,
    the Flux ecosystem's kinds (controllers, source-watcher, flux-operator: bundled), the
    ecosystem CRDs of a bundled catalog (97 API groups: cert-manager, external-secrets,
    Gateway API, Prometheus operator, grafana-operator, Cilium, ...), and Kubernetes' own
    kinds (from kubernetes-validate). Anything else is reported here, once per kind, at its
    first document. With `--strict-schemas` (configuration `strict-schemas: true`) this is
    an error.

    **Fix:** vendor the CRD into the repository (e.g. next to the HelmRelease that installs
    the operator), or point `--schema-location` (configuration `schema-locations:`) at a
    directory of JSON schemas in flux-schema's layout (`{group}/{kind}_{version}.json`) or
    kubeconform's (`{kind}-{group}-{version}.json`); or disable this rule.

    Failing:
    ```yaml
    # file: infrastructure/mcp-server.yaml
    apiVersion: toolhive.stacklok.dev/v1alpha1
    kind: MCPServer
    metadata: {name: fetch, namespace: default}
    spec:
      image: ghcr.io/stackloklabs/gofetch/server:1.0.1
    ```
    Passing:
    ```yaml
    # file: infrastructure/mcp-server.yaml
    apiVersion: toolhive.stacklok.dev/v1alpha1
    kind: MCPServer
    metadata: {name: fetch, namespace: default}
    spec:
      image: ghcr.io/stackloklabs/gofetch/server:1.0.1
    # file: infrastructure/crds/toolhive.yaml
    # (the project's CRD, vendored; shortened here to its frame)
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: mcpservers.toolhive.stacklok.dev}
    spec:
      group: toolhive.stacklok.dev
      names: {kind: MCPServer, plural: mcpservers}
      scope: Namespaced
      versions:
        - name: v1alpha1
          served: true
          storage: true
          schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    ```
    """

    code = "FLX209"
    slug = "no-schema"
    severity = INFO

    def adjust_level(self, result) -> str:
        if result.settings.strict and self.level == self.severity:
            return ERROR
        return self.level


class KustomizationField(_SchemaRule):
    """A kustomization file has an unknown field, a wrong type or value, or a wrong `apiVersion`.

    kustomize decodes `kustomization.yaml` strictly: an unknown field (`resource:` for
    `resources:`, `patchesStrategicMerges:`) fails the whole build, so Flux applies nothing
    of it. Field names match case-insensitively, as kustomize matches them. A Kustomization
    must be `kustomize.config.k8s.io/v1beta1`, a Component `kustomize.config.k8s.io/v1alpha1`.

    **Fix:** correct the field (the finding names the closest valid one).

    Failing:
    ```yaml
    # file: kustomization.yaml
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    resource:
      - configmap.yaml
    # file: configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo}
    ```
    Passing:
    ```yaml
    # file: kustomization.yaml
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    resources:
      - configmap.yaml
    # file: configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo}
    ```
    """

    code = "FLX210"
    slug = "kustomization-field"
    severity = ERROR


class KustomizationDeprecatedField(_SchemaRule):
    """A kustomization file uses a deprecated field.

    kustomize v5 still reads them but warns, and will drop them: `bases` (use
    `resources`), `patchesStrategicMerge` and `patchesJson6902` (use `patches`),
    `commonLabels` (use `labels` with `includeSelectors: true`, or `false` to keep
    selectors unchanged), `vars` (use `replacements`), `imageTags` (use `images`),
    `helmChartInflationGenerator` (use `helmCharts`), a generator's `env` (use `envs`).

    **Fix:** `gitlint-flux lint --fix` rewrites `bases` (appended to `resources`),
    `patchesStrategicMerge` (first in `patches`: a file as `- path:`, an inline patch as
    `- patch: |`), `patchesJson6902` (last in `patches`, with its `target`) and
    `commonLabels` (`labels` with `includeSelectors: true`; refused when a key is in
    `labels` too), where the cluster builds with kustomize v5 and the build stays the
    same. `kustomize edit fix` rewrites most of them; or move the entries by hand.

    Failing:
    ```yaml
    # file: kustomization.yaml
    resources: [deployment.yaml]
    patchesStrategicMerge:
      - replicas.yaml
    # file: deployment.yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: podinfo}
    spec:
      selector: {matchLabels: {app: podinfo}}
      template:
        metadata: {labels: {app: podinfo}}
        spec: {containers: [{name: podinfo, image: "ghcr.io/stefanprodan/podinfo:6.9.2"}]}
    # file: replicas.yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: podinfo}
    spec: {replicas: 2}
    ```
    Passing:
    ```yaml
    # file: kustomization.yaml
    resources: [deployment.yaml]
    patches:
      - path: replicas.yaml
    # file: deployment.yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: podinfo}
    spec:
      selector: {matchLabels: {app: podinfo}}
      template:
        metadata: {labels: {app: podinfo}}
        spec: {containers: [{name: podinfo, image: "ghcr.io/stefanprodan/podinfo:6.9.2"}]}
    # file: replicas.yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: podinfo}
    spec: {replicas: 2}
    ```
    """

    code = "FLX211"
    slug = "kustomization-deprecated-field"
    severity = WARNING
    fix = Fix(True, "`bases`, `patchesStrategicMerge`, `patchesJson6902` and `commonLabels` move to their "
                    "successors, where the build stays the same")


class KustomizationHelmCharts(_SchemaRule):
    """A kustomization file that a Flux Kustomization builds uses `helmCharts`.

    kustomize-controller runs kustomize without Helm support, so the build fails with
    "must specify --enable-helm" and nothing of the Kustomization applies. Kustomization
    files that only a local `kustomize build --enable-helm` uses are not reported.

    **Fix:** deploy the chart with a Flux HelmRelease (with a HelmRepository or
    OCIRepository source), or render it into plain manifests.

    Failing:
    ```yaml
    # file: clusters/prod/podinfo/kustomization.yaml
    helmCharts:
      - name: podinfo
        repo: https://stefanprodan.github.io/podinfo
        version: 6.9.2
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    ```
    Passing:
    ```yaml
    # file: clusters/prod/podinfo/release.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: HelmRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 1h
      url: https://stefanprodan.github.io/podinfo
    ---
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 30m
      chart:
        spec:
          chart: podinfo
          version: 6.9.2
          sourceRef: {kind: HelmRepository, name: podinfo}
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    ```
    """

    code = "FLX212"
    slug = "kustomization-helm-charts"
    severity = ERROR
