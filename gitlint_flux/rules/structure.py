"""FLX1xx: the repository as Flux applies it."""

from __future__ import annotations

from ..model import INFO, WARNING, Related
from .base import ProblemRule, Rule


class MissingReference(ProblemRule):
    """A kustomization names a local file or directory that does not exist.

    Covers `resources`, `components`, `patches[].path`, `patchesStrategicMerge`,
    `patchesJson6902[].path`, generator `files`/`envs`, `crds`, `configurations`,
    `replacements[].path`, `helmCharts[].valuesFile` and Flux `spec.components`. kustomize
    fails the whole build, so Flux applies nothing of that Kustomization. The finding
    points at the entry.

    **Fix:** correct the path (it is relative to the kustomization file's directory), or
    add the missing file.

    Failing:
    ```yaml
    # file: apps/kustomization.yaml
    resources:
      - deployment.yaml   # no such file: it is deploy.yaml
    # file: apps/deploy.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo}
    ```
    Passing:
    ```yaml
    # file: apps/kustomization.yaml
    resources:
      - deploy.yaml
    # file: apps/deploy.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo}
    ```
    """

    code = "FLX101"
    slug = "missing-reference"
    problem_kinds = ("missing-reference",)


class MissingKustomization(ProblemRule):
    """A kustomization lists a directory that has no kustomization file.

    kustomize only accepts a directory as a resource when it holds a `kustomization.yaml`
    (Flux generates one only for the top-level `spec.path`, not for directories named in
    a `resources` list).

    **Fix:** add a `kustomization.yaml` to the directory, or list its files instead.

    Failing:
    ```yaml
    # file: apps/kustomization.yaml
    resources:
      - ./podinfo   # podinfo/ has only release.yaml
    # file: apps/podinfo/release.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo}
    ```
    Passing:
    ```yaml
    # file: apps/kustomization.yaml
    resources:
      - ./podinfo/release.yaml
    # file: apps/podinfo/release.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo}
    ```
    """

    code = "FLX102"
    slug = "missing-kustomization"
    problem_kinds = ("missing-kustomization",)


class KustomizeCycle(ProblemRule):
    """Kustomizations include each other in a cycle.

    kustomize stops with "cycle detected"; nothing of the build is applied.

    **Fix:** remove one of the references in the cycle.

    Failing:
    ```yaml
    # file: a/kustomization.yaml
    resources: [../b]
    # file: b/kustomization.yaml
    resources: [../a]
    ```
    Passing:
    ```yaml
    # file: a/kustomization.yaml
    resources: [../base]
    # file: b/kustomization.yaml
    resources: [../base]
    # file: base/kustomization.yaml
    resources: [configmap.yaml]
    # file: base/configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo}
    ```
    """

    code = "FLX103"
    slug = "kustomize-cycle"
    problem_kinds = ("kustomize-cycle",)


class PatchFailed(ProblemRule):
    """A kustomize patch that fails the build.

    kustomize stops, and Flux applies nothing of the Kustomization, when a strategic-merge
    patch without a `target` matches no object of the build (its apiVersion, kind and name
    select the object) or more than one, when a JSON 6902 operation cannot apply to a
    matched object (`replace` or `remove` of a field that does not exist, an index out of
    range, a failed `test`), when a JSON 6902 patch has no `target`, or when a target's
    regular expression or label selector is invalid. Patches in a kustomization, in a
    Component it includes and in a Flux Kustomization's `spec.patches` are all applied as
    kustomize applies them.

    **Fix:** correct the patch (its kind and name, the operation's path), or give it a
    `target` that selects the objects to patch.

    Failing:
    ```yaml
    # file: app/kustomization.yaml
    resources: [deployment.yaml]
    patches:
      - patch: |
          - op: replace
            path: /spec/replicas
            value: 3
        target: {kind: Deployment, name: podinfo}
    # file: app/deployment.yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: podinfo}
    spec:
      selector: {matchLabels: {app: podinfo}}
      template:
        metadata: {labels: {app: podinfo}}
        spec:
          containers: [{name: podinfo, image: "ghcr.io/stefanprodan/podinfo:6.9.2"}]
    ```
    Passing:
    ```yaml
    # file: app/kustomization.yaml
    resources: [deployment.yaml]
    patches:
      - patch: |
          - op: add
            path: /spec/replicas
            value: 3
        target: {kind: Deployment, name: podinfo}
    # file: app/deployment.yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: podinfo}
    spec:
      selector: {matchLabels: {app: podinfo}}
      template:
        metadata: {labels: {app: podinfo}}
        spec:
          containers: [{name: podinfo, image: "ghcr.io/stefanprodan/podinfo:6.9.2"}]
    ```
    """

    code = "FLX108"
    slug = "patch-failed"
    problem_kinds = ("patch-failed",)


class PatchNoMatch(ProblemRule):
    """A patch whose `target` selects no object of the build.

    kustomize skips a targeted patch that matches nothing, so the build succeeds, but the
    change you wrote is not made: usually a renamed object, a wrong kind or a label
    selector that no longer matches. The target is compared with the objects as they are
    at the point of the build where the patch runs (labels that a later transformer of the
    same kustomization adds are not seen). Not reported when the build holds parts that
    are not rendered here (remote bases, `helmCharts`, plugins), where the target may be.

    **Fix:** correct the target, or remove the patch.

    Failing:
    ```yaml
    # file: app/kustomization.yaml
    resources: [configmap.yaml]
    patches:
      - patch: |
          - op: add
            path: /data/color
            value: blue
        target: {kind: ConfigMap, name: podinfo-config}
    # file: app/configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo}
    data: {size: small}
    ```
    Passing:
    ```yaml
    # file: app/kustomization.yaml
    resources: [configmap.yaml]
    patches:
      - patch: |
          - op: add
            path: /data/color
            value: blue
        target: {kind: ConfigMap, name: podinfo}
    # file: app/configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo}
    data: {size: small}
    ```
    """

    code = "FLX109"
    slug = "patch-no-match"
    severity = WARNING
    problem_kinds = ("patch-no-match",)


class ReplacementFailed(ProblemRule):
    """A kustomize `replacements` entry that fails the build.

    kustomize stops when a replacement's `source` selects no object or more than one, when
    the source object lacks the `fieldPath`, or when a selected target lacks a field path
    and the target does not set `options.create: true`. A target selector that matches
    nothing is skipped without error.

    **Fix:** correct the source's selector or field path, or add `options: {create: true}`
    to the target.

    Failing:
    ```yaml
    # file: app/kustomization.yaml
    resources: [configmap.yaml]
    replacements:
      - source: {kind: ConfigMap, name: settings, fieldPath: data.domain}
        targets:
          - select: {kind: ConfigMap, name: settings}
            fieldPaths: [data.host]
    # file: app/configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings}
    data: {host: localhost}
    ```
    Passing:
    ```yaml
    # file: app/kustomization.yaml
    resources: [configmap.yaml]
    replacements:
      - source: {kind: ConfigMap, name: settings, fieldPath: data.domain}
        targets:
          - select: {kind: ConfigMap, name: settings}
            fieldPaths: [data.host]
    # file: app/configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings}
    data: {host: localhost, domain: example.com}
    ```
    """

    code = "FLX110"
    slug = "replacement-failed"
    problem_kinds = ("replacement-failed",)


class OciSourceDirectory(ProblemRule):
    """The directory of this checkout that an OCI artifact sync holds could not be settled.

    A cluster synced from an OCIRepository (a FluxInstance's `sync.kind: OCIRepository`, or
    a `gotk-sync.yaml` on an OCIRepository) syncs this repository's content pushed as an
    artifact (`flux push artifact --path=DIR`). gitlint-flux looks for `DIR`: the directory
    under which the sync path and the paths of the Kustomizations it applies resolve. When
    more than one directory fits, or none does, the cluster's Kustomizations are not
    resolved in this checkout; this finding says so once, with the `sources:` entry that
    settles it.

    **Fix:** add the directory to `.gitlint-flux.yaml`: `sources: {OCIRepository/flux-system/flux-system: kubernetes}`.

    Failing:
    ```yaml
    # file: clusters/prod/flux-instance.yaml
    apiVersion: fluxcd.controlplane.io/v1
    kind: FluxInstance
    metadata: {name: flux, namespace: flux-system}
    spec:
      distribution: {version: "2.x", registry: ghcr.io/fluxcd}
      sync: {kind: OCIRepository, url: "oci://ghcr.io/example/fleet", ref: latest, path: ./missing}
    ```
    Passing:
    ```yaml
    # file: clusters/prod/flux-instance.yaml
    apiVersion: fluxcd.controlplane.io/v1
    kind: FluxInstance
    metadata: {name: flux, namespace: flux-system}
    spec:
      distribution: {version: "2.x", registry: ghcr.io/fluxcd}
      sync: {kind: OCIRepository, url: "oci://ghcr.io/example/fleet", ref: latest, path: ./prod}
    # file: clusters/prod/configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings, namespace: default}
    data: {cluster: prod}
    ```
    """

    code = "FLX111"
    slug = "oci-source-directory"
    severity = WARNING
    problem_kinds = ("oci-source",)


class ResourceSetRender(ProblemRule):
    """A ResourceSet whose templates flux-operator cannot render.

    flux-operator renders `spec.resources` and `spec.resourcesTemplate` once per input set
    with Go's text/template (delimiters `<< >>`, its sprig-derived functions and
    `slugify`, `toYaml`, `inputs`), then reads the result as YAML. A template that does not
    parse, a function it does not ship, a missing input key (it renders with
    `missingkey=error`) or rendered YAML that does not parse fails the ResourceSet's
    reconcile: nothing it templates is applied. The finding points at the template's line.

    **Fix:** correct the template (the message quotes Go's error), or the inputs.

    Failing:
    ```yaml
    # file: clusters/prod/tenants.yaml
    apiVersion: fluxcd.controlplane.io/v1
    kind: ResourceSet
    metadata: {name: tenants, namespace: flux-system}
    spec:
      inputs:
        - tenant: team1
      resources:
        - apiVersion: v1
          kind: Namespace
          metadata:
            name: << inputs.tennant >>
    ```
    Passing:
    ```yaml
    # file: clusters/prod/tenants.yaml
    apiVersion: fluxcd.controlplane.io/v1
    kind: ResourceSet
    metadata: {name: tenants, namespace: flux-system}
    spec:
      inputs:
        - tenant: team1
      resources:
        - apiVersion: v1
          kind: Namespace
          metadata:
            name: << inputs.tenant >>
    ```
    """

    code = "FLX112"
    slug = "resourceset-render"
    problem_kinds = ("resourceset",)


class ResourceSetPartial(ProblemRule):
    """A ResourceSet that is not (or not entirely) rendered offline.

    Inputs from providers other than `Static` ones (GitHub or GitLab pull requests and
    branches, OCI artifact tags, external services) are known only in the cluster, and a
    template may use something offline rendering cannot evaluate: those objects are not
    rendered, and nothing about them is judged. Said once, as information.

    **Fix:** nothing to fix; use `Static` providers (or inline `inputs`) where the objects
    should be linted.

    Failing:
    ```yaml
    # file: clusters/prod/previews.yaml
    apiVersion: fluxcd.controlplane.io/v1
    kind: ResourceSet
    metadata: {name: previews, namespace: flux-system}
    spec:
      inputsFrom:
        - kind: ResourceSetInputProvider
          name: pull-requests
      resources:
        - apiVersion: v1
          kind: Namespace
          metadata:
            name: preview-<< inputs.id >>
    ---
    apiVersion: fluxcd.controlplane.io/v1
    kind: ResourceSetInputProvider
    metadata: {name: pull-requests, namespace: flux-system}
    spec:
      type: GitHubPullRequest
      url: https://github.com/example/app
    ```
    Passing:
    ```yaml
    # file: clusters/prod/previews.yaml
    apiVersion: fluxcd.controlplane.io/v1
    kind: ResourceSet
    metadata: {name: previews, namespace: flux-system}
    spec:
      inputs:
        - id: "1"
      resources:
        - apiVersion: v1
          kind: Namespace
          metadata:
            name: preview-<< inputs.id >>
    ```
    """

    code = "FLX113"
    slug = "resourceset-partial"
    severity = INFO
    problem_kinds = ("resourceset-partial",)


class NotAManifest(ProblemRule):
    """A file that Flux or kustomize applies is not a Kubernetes manifest.

    A Flux Kustomization whose path has no `kustomization.yaml` applies every `.yaml` and
    `.yml` file under it; kustomize applies every file listed in `resources`. A file
    there without `apiVersion`/`kind` (Helm values, a tool's config, a template) fails the
    reconcile with "missing Resource metadata".

    **Fix:** move the file out of the applied path, add it to `.sourceignore`, or add a
    `kustomization.yaml` that lists only the manifests.

    Failing:
    ```yaml
    # file: clusters/prod/podinfo/values.yaml
    replicaCount: 2   # plain Helm values, under the root's path without a kustomization file
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
    # file: clusters/prod/podinfo/kustomization.yaml
    configMapGenerator:
      - name: podinfo-values
        files: [values.yaml]
    # file: clusters/prod/podinfo/values.yaml
    replicaCount: 2
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
    # file: .sourceignore
    clusters/prod/podinfo/values.yaml
    # file: clusters/prod/podinfo/values.yaml
    replicaCount: 2   # not in the artifact Flux fetches
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

    code = "FLX104"
    slug = "not-a-manifest"
    problem_kinds = ("not-a-manifest",)


class PathMissing(ProblemRule):
    """A Flux Kustomization's `spec.path` does not exist in this repository.

    The path is relative to the source's root. When the source is this repository (the
    bootstrap GitRepository, a GitRepository with the same URL and ref, or a mapping in
    `sources:`), a missing directory means the Kustomization fails with "no such file or
    directory". Paths of other sources (OCI artifacts, other repositories or branches,
    ExternalArtifacts) are not checked.

    **Fix:** correct `spec.path`, or create the directory.

    Failing:
    ```yaml
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps/prodcution
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: apps/production/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
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
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps/production
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: apps/production/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
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

    code = "FLX105"
    slug = "path-missing"
    problem_kinds = ("path-missing",)


class NoRoot(ProblemRule):
    """No Flux root was found; Kustomizations that nothing else applies are used instead.

    Roots are the bootstrap `flux-system` Kustomization (`gotk-sync.yaml`), a
    FluxInstance's `spec.sync`, a HelmRelease of the flux-instance chart with
    `instance.sync`, and `roots:` in the configuration. Without one, gitlint-flux cannot
    know which cluster applies what, and assumes that every GitRepository source is this
    repository.

    **Fix:** add `roots:` to `.gitlint-flux.yaml` with the directories your clusters sync.

    Failing:
    ```yaml
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
    ```
    Passing:
    ```yaml
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
    # file: .gitlint-flux.yaml
    roots:
      - clusters/prod
    ```
    """

    code = "FLX106"
    slug = "no-root"
    severity = INFO
    problem_kinds = ("no-root",)


class NotApplied(Rule):
    """A file holds Kubernetes objects that no Flux root applies.

    Reported once per directory tree that no root applies (or once per directory for
    stray files beside applied ones), with the count of files and objects, as information:
    the files may be leftover (an archive), or applied by something gitlint-flux cannot see
    (another source, a manual `kubectl apply`). Findings that need a cluster (references,
    variables, decryption) are not reported in such files, and the others are capped at
    `warning` (the `unapplied:` configuration key: `warning`, `info`, `off`, or `error` to
    judge them as applied).

    **Fix:** add the file to a kustomization that a root applies, delete it, or exclude it
    in the configuration (`exclude:`) when it is applied elsewhere.

    Failing:
    ```yaml
    # file: clusters/prod/kustomization.yaml
    resources: [flux-system/gotk-sync.yaml]   # apps/ is listed nowhere
    # file: apps/old/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
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
    # file: clusters/prod/kustomization.yaml
    resources: [flux-system/gotk-sync.yaml, ../../apps/old/podinfo.yaml]
    # file: apps/old/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
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

    code = "FLX107"
    slug = "not-applied"
    severity = INFO

    def check(self, ctx):
        graph = ctx.graph
        unapplied = graph.unapplied_files()
        if not unapplied:
            return
        # files holding only Flux Kustomizations are FLX407's (one defect, one finding)
        files = {sf.path: sf for sf in ctx.linted_files() if sf.path in unapplied and sf.objects
                 and not all(d.kind == "Kustomization" and d.group == "kustomize.toolkit.fluxcd.io" for d in sf.objects)}
        trees = graph.unapplied_trees(list(files))
        groups = {d: [files[rel] for rel in members] for d, _whole, members in trees}
        whole = {d for d, w, _m in trees if w}
        for d, members in sorted(groups.items()):
            members.sort(key=lambda sf: sf.path)
            first = members[0]
            doc = ctx.current = first.objects[0]
            objects = sum(len(sf.objects) for sf in members)
            where = f"under `{d}/`" if d in whole else f"in `{d or '.'}/`"
            if len(members) == 1 and d not in whole:
                what = f"`{first.path}` ({objects} object{'s' if objects != 1 else ''}, first {doc.kind}/{doc.name or '?'})"
            else:
                n = len(members)
                what = (f"the {n} file{'s' if n != 1 else ''} {where} ({objects} object{'s' if objects != 1 else ''}, "
                        f"first {doc.kind}/{doc.name or '?'})")
            related = [Related(sf.path, sf.objects[0].line, sf.objects[0].column, "not applied either")
                       for sf in members[1:4]]
            yield self.finding(first.path, doc.line, doc.column, f"no Flux root applies {what}",
                               hint="List them in a kustomization that a root applies, delete them, or exclude "
                                    "them in the configuration (`exclude:`); `gitlint-flux roots` shows what each "
                                    "root applies.", related=related)
