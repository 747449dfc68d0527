"""FLX4xx: references between Flux objects, the dependency graph, duplicates."""

from __future__ import annotations

from ..graph import NOT_APPLIED, is_flux_ks, layer_of, related_for
from ..model import DANGLING, ERROR, INFO, WARNING, Related, resource_of
from .base import Option, Rule
from ..model import MemoKey

_SOURCE_EDGES = ("sourceRef", "chartRef", "include")


def _dangling(ctx, kinds: tuple[str, ...], target_kinds: tuple[str, ...] | None = None):
    for e in ctx.graph.edges:
        if e.source.scope == NOT_APPLIED or e.state != DANGLING or e.kind not in kinds:
            continue
        if target_kinds is not None and e.target.kind not in target_kinds:
            continue
        if e.source.doc.origin == "synthetic":
            continue
        ctx.current = e.source.doc
        yield e


DOCS_BY_KIND_NAME = MemoKey[dict]("documents by kind and name")


def _index_docs(docs) -> dict:
    index: dict[tuple, list] = {}
    for d in docs:
        index.setdefault((d.kind, d.name), []).append(d)
    return index


def _defined_elsewhere(ctx, e) -> list[Related]:
    """Where an object of that kind and name is defined but not applied in the scope."""
    index = ctx.memo(DOCS_BY_KIND_NAME, lambda: _index_docs(ctx.graph.docs))
    out = []
    for d in index.get((e.target.kind, e.target.name), ())[:3]:
        out.append(Related(d.path, d.line, d.column, f"a {d.kind} `{d.name}` is defined here, "
                                                     f"but not applied in namespace `{e.target.namespace}` "
                                                     "of this cluster"))
    return out


class DanglingSourceRef(Rule):
    """A `sourceRef` or `chartRef` names a source that the cluster does not get.

    The referenced GitRepository, OCIRepository, HelmRepository, Bucket, HelmChart or
    ExternalArtifact is looked up in the same cluster (root scope), in the namespace the
    reference names or, when it names none, in the referrer's own namespace — as Flux
    does. The Kustomization or HelmRelease would stay not ready with "source not found".

    **Fix:** correct the name or namespace, or add the source to what the cluster applies.

    Failing:
    ```yaml
    # file: clusters/prod/redis.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: HelmRepository
    metadata: {name: bitnami-charts, namespace: flux-system}
    spec: {interval: 1h, url: https://charts.bitnami.com/bitnami}
    ---
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: redis, namespace: default}
    spec:
      interval: 30m
      chart:
        spec:
          chart: redis
          version: 20.1.0
          sourceRef:
            kind: HelmRepository
            name: bitnami   # defined as `bitnami-charts`, in flux-system
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
    # file: clusters/prod/redis.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: HelmRepository
    metadata: {name: bitnami-charts, namespace: flux-system}
    spec: {interval: 1h, url: https://charts.bitnami.com/bitnami}
    ---
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: redis, namespace: default}
    spec:
      interval: 30m
      chart:
        spec:
          chart: redis
          version: 20.1.0
          sourceRef:
            kind: HelmRepository
            name: bitnami-charts
            namespace: flux-system
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

    code = "FLX401"
    slug = "dangling-source-ref"
    severity = ERROR
    cluster_context = True

    def check(self, ctx):
        for e in _dangling(ctx, _SOURCE_EDGES):
            yield self.at(e.source, e.field_path + ("name",),
                          f"{e.source.doc.kind} `{e.source.name}` references {e.target}, which this cluster does not define",
                          hint="Fix the name/namespace, or apply the source in this cluster.",
                          related=_defined_elsewhere(ctx, e))


class DanglingDependsOn(Rule):
    """A `dependsOn` entry names an object that does not exist in the cluster.

    A Kustomization's `dependsOn` names Kustomizations; a HelmRelease's names
    HelmReleases. Flux waits forever ("dependency not found"). When a Kustomization
    depends on a name that only a HelmRelease has, the finding says so: Kustomization
    dependencies cannot name a HelmRelease (use `healthChecks` or `wait` on the
    Kustomization that applies it, and depend on that Kustomization).

    **Fix:** correct the name (and namespace: it defaults to the dependent's own).

    Failing:
    ```yaml
    # file: clusters/prod/infrastructure.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: infra-controllers, namespace: flux-system}
    spec:
      interval: 10m
      path: ./infrastructure
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
      dependsOn:
        - name: infra-controlers
    # file: infrastructure/controllers.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: controllers, namespace: default}
    # file: apps/podinfo.yaml
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
    # file: clusters/prod/infrastructure.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: infra-controllers, namespace: flux-system}
    spec:
      interval: 10m
      path: ./infrastructure
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
      dependsOn:
        - name: infra-controllers
    # file: infrastructure/controllers.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: controllers, namespace: default}
    # file: apps/podinfo.yaml
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

    code = "FLX402"
    slug = "dangling-depends-on"
    severity = ERROR
    cluster_context = True

    def check(self, ctx):
        for e in _dangling(ctx, ("dependsOn",)):
            msg = f"{e.source.doc.kind} `{e.source.name}` depends on {e.target}, which this cluster does not define"
            hint = "Fix the name, or the namespace (it defaults to the dependent's own namespace)."
            if e.source.doc.kind == "Kustomization":
                scope = ctx.graph.scopes[e.source.scope]
                if scope.find("HelmRelease", e.target.namespace, e.target.name):
                    msg = (f"Kustomization `{e.source.name}` depends on `{e.target.name}`, which is a HelmRelease: "
                           "Kustomization dependencies name Kustomizations only")
                    hint = ("Depend on the Kustomization that applies the HelmRelease, and give that one "
                            "`wait: true` or `healthChecks`.")
            yield self.at(e.source, e.field_path + ("name",), msg, hint=hint)


class DependencyCycle(Rule):
    """`dependsOn` entries form a cycle.

    Flux never reconciles any member of the cycle. The whole cycle is reported once, at
    the member that sorts first, with the others as related locations.

    **Fix:** remove one of the dependencies.

    Failing:
    ```yaml
    # file: clusters/prod/infrastructure.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: infra, namespace: flux-system}
    spec:
      interval: 10m
      path: ./infrastructure
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
      dependsOn:
        - name: apps
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
      dependsOn:
        - name: infra
    # file: infrastructure/controllers.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: controllers, namespace: default}
    # file: apps/podinfo.yaml
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
    # file: clusters/prod/infrastructure.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: infra, namespace: flux-system}
    spec:
      interval: 10m
      path: ./infrastructure
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
      dependsOn:
        - name: infra
    # file: infrastructure/controllers.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: controllers, namespace: default}
    # file: apps/podinfo.yaml
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

    code = "FLX403"
    slug = "dependency-cycle"
    severity = ERROR
    cluster_context = True

    def check(self, ctx):
        for _scope, cycle in ctx.graph.dependency_cycles():
            members = sorted(cycle, key=lambda x: (x[0].doc.path, x[0].doc.line))
            first, edge = members[0]
            names = " -> ".join(f"{a.doc.kind}/{a.namespace}/{a.name}" for a, _ in cycle)
            names += f" -> {cycle[0][0].doc.kind}/{cycle[0][0].namespace}/{cycle[0][0].name}"
            related = [Related(a.doc.path, a.doc.loc(*e.field_path).line, a.doc.loc(*e.field_path).column,
                               f"{a.name} depends on {e.target.name}") for a, e in members[1:]]
            ctx.current = first.doc
            yield self.at(first, edge.field_path + ("name",), f"dependency cycle: {names}",
                          hint="Remove one dependency of the cycle.", related=related)


class DanglingObjectRef(Rule):
    """An Alert's `providerRef` or an ImagePolicy's `imageRepositoryRef` names an object
    the cluster does not define.

    Flux looks the object up by name (in the referrer's namespace, unless the reference
    names another). Without it the Alert is not ready and its events reach no one, and the
    ImagePolicy selects no image, so image automation stops updating.

    **Fix:** correct the name, or add the Provider / ImageRepository.

    Failing:
    ```yaml
    # file: clusters/prod/alerts.yaml
    apiVersion: notification.toolkit.fluxcd.io/v1beta3
    kind: Provider
    metadata: {name: slack, namespace: flux-system}
    spec: {type: slack, channel: flux, address: https://slack.com/api/chat.postMessage}
    ---
    apiVersion: notification.toolkit.fluxcd.io/v1beta3
    kind: Alert
    metadata: {name: on-call, namespace: flux-system}
    spec:
      providerRef:
        name: slak
      eventSources:
        - kind: Kustomization
          name: '*'
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
    # file: clusters/prod/alerts.yaml
    apiVersion: notification.toolkit.fluxcd.io/v1beta3
    kind: Provider
    metadata: {name: slack, namespace: flux-system}
    spec: {type: slack, channel: flux, address: https://slack.com/api/chat.postMessage}
    ---
    apiVersion: notification.toolkit.fluxcd.io/v1beta3
    kind: Alert
    metadata: {name: on-call, namespace: flux-system}
    spec:
      providerRef:
        name: slack
      eventSources:
        - kind: Kustomization
          name: '*'
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

    code = "FLX404"
    slug = "dangling-object-ref"
    severity = ERROR
    cluster_context = True

    def check(self, ctx):
        for e in _dangling(ctx, ("providerRef", "imageRepositoryRef")):
            yield self.at(e.source, e.field_path + ("name",),
                          f"{e.source.doc.kind} `{e.source.name}` references {e.target}, which this cluster does not define",
                          hint="Fix the name, or add the object.")


class DanglingConfigMapRef(Rule):
    """A `valuesFrom` or `substituteFrom` names a ConfigMap the cluster does not get.

    Unless the reference is `optional: true`, the HelmRelease or Kustomization fails. A
    ConfigMap from a kustomize `configMapGenerator` carries a hash suffix in its name,
    which Flux references do not follow: the finding says so.

    **Fix:** correct the name, add the ConfigMap, mark the reference `optional: true`, or
    set `generatorOptions.disableNameSuffixHash: true`.

    Failing:
    ```yaml
    # file: clusters/prod/podinfo/kustomization.yaml
    namespace: default
    resources: [release.yaml]
    configMapGenerator:
      - name: podinfo-values
        files: [values.yaml]
    # file: clusters/prod/podinfo/values.yaml
    replicaCount: 2
    # file: clusters/prod/podinfo/release.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: HelmRepository
    metadata: {name: podinfo}
    spec: {interval: 1h, url: https://stefanprodan.github.io/podinfo}
    ---
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: podinfo}
    spec:
      interval: 30m
      chart:
        spec: {chart: podinfo, version: 6.9.2, sourceRef: {kind: HelmRepository, name: podinfo}}
      valuesFrom:
        - kind: ConfigMap
          name: podinfo-values   # generated as podinfo-values-<hash>
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
    namespace: default
    resources: [release.yaml]
    configMapGenerator:
      - name: podinfo-values
        files: [values.yaml]
    generatorOptions:
      disableNameSuffixHash: true
    # file: clusters/prod/podinfo/values.yaml
    replicaCount: 2
    # file: clusters/prod/podinfo/release.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: HelmRepository
    metadata: {name: podinfo}
    spec: {interval: 1h, url: https://stefanprodan.github.io/podinfo}
    ---
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: podinfo}
    spec:
      interval: 30m
      chart:
        spec: {chart: podinfo, version: 6.9.2, sourceRef: {kind: HelmRepository, name: podinfo}}
      valuesFrom:
        - kind: ConfigMap
          name: podinfo-values
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

    code = "FLX405"
    slug = "dangling-configmap-ref"
    severity = WARNING
    cluster_context = True

    def check(self, ctx):
        yield from config_refs(self, ctx, ("ConfigMap",))


def config_refs(rule, ctx, kinds):
    for e in _dangling(ctx, ("valuesFrom", "substituteFrom", "secretRef"), kinds):
        if e.optional:
            continue
        scope = ctx.graph.scopes[e.source.scope]
        hashed = [a for a in scope.find(e.target.kind, e.target.namespace, e.target.name)]
        gen = [a for a in scope.of_kind(e.target.kind) if a.doc.origin == "generator"
               and a.name == e.target.name and a.doc.name_hash]
        if gen or hashed:
            g = (gen or hashed)[0]
            yield rule.at(e.source, e.field_path + ("name",),
                          f"{e.target} is generated by kustomize with a hash suffix; this reference does not follow it",
                          hint="Set `generatorOptions.disableNameSuffixHash: true` (or `options:` on the generator).",
                          related=[Related(g.doc.path, g.doc.line, g.doc.column, "generated here")])
            continue
        yield rule.at(e.source, e.field_path + ("name",),
                      f"{e.source.doc.kind} `{e.source.name}` references {e.target}, which this cluster does not define",
                      hint="Add it to what the cluster applies, or mark the reference `optional: true`.",
                      related=_defined_elsewhere(ctx, e))


class LayerOrder(Rule):
    """A Kustomization in a lower layer depends on one in a higher layer.

    With ordered layers (`flux/manifests/01-bootstrap`, `02-infrastructure`, ...), a
    layer must only depend on itself or on layers before it; a bootstrap component that
    waits for an app inverts the order and usually deadlocks a fresh cluster.

    **Fix:** move the component to the right layer, or drop the dependency.

    Failing:
    ```yaml
    # file: clusters/prod/01-bootstrap/crds.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: crds, namespace: flux-system}
    spec:
      interval: 10m
      path: ./infrastructure/crds
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
      dependsOn:
        - name: media
    # file: clusters/prod/04-apps/media.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: media, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps/media
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: infrastructure/crds/crds.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: crds, namespace: default}
    # file: apps/media/media.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: media, namespace: default}
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
    # file: clusters/prod/01-bootstrap/crds.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: crds, namespace: flux-system}
    spec:
      interval: 10m
      path: ./infrastructure/crds
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: clusters/prod/04-apps/media.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: media, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps/media
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
      dependsOn:
        - name: crds
    # file: infrastructure/crds/crds.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: crds, namespace: default}
    # file: apps/media/media.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: media, namespace: default}
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

    code = "FLX406"
    slug = "layer-order"
    severity = WARNING
    cluster_context = True

    def check(self, ctx):
        for e in ctx.graph.edges:
            if e.kind != "dependsOn" or e.resolved is None or e.source.scope == NOT_APPLIED:
                continue
            if e.source.doc.kind != "Kustomization":
                continue
            src = layer_of(e.source.doc.path)
            dst = layer_of(e.resolved.doc.path)
            if src is None or dst is None or src.order is None or dst.order is None:
                continue
            if dst.order > src.order:
                ctx.current = e.source.doc
                yield self.at(e.source, e.field_path + ("name",),
                              f"`{e.source.name}` (layer {src}) depends on `{e.resolved.name}` (layer {dst}), a later layer",
                              hint="Layers may depend only on themselves and earlier layers.",
                              related=related_for(e))


class OrphanKustomization(Rule):
    """A Flux Kustomization that no root applies.

    It is defined in the repository, but nothing in any cluster applies the file that
    defines it, so it never runs — often a leftover or a commented-out line in a parent
    kustomization. Reported only when gitlint-flux found roots.

    **Fix:** list it in the kustomization of its layer, or delete it.

    Failing:
    ```yaml
    # file: clusters/prod/kustomization.yaml
    resources: [flux-system/gotk-sync.yaml]   # - kong.yaml
    # file: clusters/prod/kong.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: kong, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps/kong
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: apps/kong/kong.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: kong, namespace: default}
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
    resources: [flux-system/gotk-sync.yaml, kong.yaml]
    # file: clusters/prod/kong.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: kong, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps/kong
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: apps/kong/kong.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: kong, namespace: default}
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

    code = "FLX407"
    slug = "orphan-kustomization"
    severity = INFO

    def check(self, ctx):
        graph = ctx.graph
        if not graph.roots or graph.fallback:
            return
        for d in graph.docs:
            if is_flux_ks(d) and not graph.reachable(d) and d.origin == "":
                if "patch" in graph.roles_of(d.path):
                    continue
                ctx.current = d
                yield self.finding(d.path, d.line, d.column, f"Flux Kustomization `{d.name}` is applied by no root",
                                   hint="List its file in a kustomization a root applies, or delete it.",
                                   resource=resource_of(d))


class DuplicateObject(Rule):
    """The same object (group, kind, namespace, name) is applied twice in one cluster.

    Two Kustomizations (or one through two paths) then own the same object: each
    reconcile overwrites the other's version, and pruning one deletes the object the
    other still wants. Names are compared after kustomize and Flux transforms
    (`namespace`, `namePrefix`, `targetNamespace`, post-build substitution), per cluster:
    one tree applied to two clusters is not a duplicate.

    **Fix:** apply the object from one place only.

    Failing:
    ```yaml
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./clusters/prod/apps   # the root applies clusters/prod, apps/ included
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: clusters/prod/apps/podinfo.yaml
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
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: apps/podinfo.yaml
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

    code = "FLX408"
    slug = "duplicate-object"
    severity = WARNING
    cluster_context = True

    def check(self, ctx):
        for scope in ctx.graph.scopes.values():
            if scope.name == NOT_APPLIED:
                continue
            seen: dict[tuple, object] = {}
            # one finding per pair of applying Kustomizations (one defect: two paths
            # overlap), or per object when a Kustomization applies it twice itself
            groups: dict[tuple, list] = {}
            for a in scope.applied:
                if a.doc.origin == "synthetic" or "${" in a.name:
                    continue
                key = a.key
                first = seen.get(key)
                if first is None:
                    seen[key] = a
                    continue
                if first.doc is a.doc and first.by is a.by:
                    continue
                gk = (id(first.by), id(a.by)) if first.by is not a.by else (id(a.doc), id(a.by))
                groups.setdefault(gk, []).append((first, a))
            for pairs in groups.values():
                first, a = pairs[0]
                yield self._report(ctx, scope, first, a, pairs)

    def _report(self, ctx, scope, first, a, pairs):
        key = a.key
        ctx.current = a.doc
        more = f" and {len(pairs) - 1} more object(s)" if len(pairs) > 1 else ""
        if a.by is not None and first.by is not None and a.by is not first.by:
            loc = a.by.loc("spec", "path")
            fl = first.by.loc("spec", "path")
            return self.finding(
                a.by.path, loc.line, loc.column,
                f"Kustomization `{a.by.name}` applies {key}{more} that Kustomization `{first.by.name}` also applies "
                f"in cluster `{scope.name}`",
                hint="Apply each object from one Kustomization only: narrow one of the paths.",
                resource=resource_of(a.by),
                related=[Related(first.by.path, fl.line, fl.column, f"`{first.by.name}` applies it too"),
                         Related(a.doc.path, a.doc.line, a.doc.column, f"{key} is defined here")])
        by = f" by Kustomization `{a.by.name}`" if a.by is not None else ""
        return self.finding(
            a.doc.path, a.doc.line, a.doc.column,
            f"{key} is applied twice{by} in cluster `{scope.name}`",
            hint="Apply each object from one place only.",
            resource=resource_of(a.doc, a.namespace, a.name),
            related=[Related(first.doc.path, first.doc.line, first.doc.column, "also applied from here")])


class RemoteBase(Rule):
    """A kustomization pulls a remote resource (URL or remote Git base).

    Remote bases are fetched at every build: a moving branch or a deleted release
    changes or breaks the cluster without a commit, and the content is not reviewed
    here. gitlint-flux does not fetch them, so it cannot check them either.

    **Fix:** vendor the files into the repository, or pin the URL to an immutable
    release or commit (`?ref=<sha>`).

    Failing:
    ```yaml
    # file: kustomization.yaml
    resources:
      - https://github.com/org/repo/deploy?ref=main
    ```
    Passing:
    ```yaml
    # file: kustomization.yaml
    resources:
      - ./vendor/org-repo
    # file: vendor/org-repo/kustomization.yaml
    resources: [deploy.yaml]
    # file: vendor/org-repo/deploy.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
    ```
    """

    code = "FLX409"
    slug = "remote-base"
    severity = WARNING
    options = {"allow-pinned": Option("bool", True, "Remote bases pinned to a release, tag or commit pass.")}

    def check(self, ctx):
        for kb in ctx.graph.kustomization_builds():
            if kb is None or kb.kfile is None:
                continue
            doc = next((d for d in kb.kfile.documents if isinstance(d.value, dict)), None)
            if doc is None:
                continue
            ctx.current = doc
            flagged = [(path, fp, url) for path, fp, url in kb.remotes
                       if not (_pinned(url) and self.opts["allow-pinned"])]
            if not flagged:
                continue
            # one finding per kustomization file, at its first such entry
            path, fp, url = flagged[0]
            loc = doc.loc(*fp)
            what = "is fetched at build time" if _pinned(url) else "follows a branch or no version"
            more = f" ({len(flagged) - 1} more in this file)" if len(flagged) > 1 else ""
            related = [Related(p, doc.loc(*f).line, doc.loc(*f).column, u) for p, f, u in flagged[1:]]
            yield self.finding(path, loc.line, loc.column, f"remote resource `{url}` {what}{more}",
                               hint="Vendor it into the repository, or pin it to a release or commit.",
                               related=related)


def _pinned(url: str) -> bool:
    """A remote base that names an immutable release, tag or commit."""
    import re

    if re.search(r"/releases/download/v?\d", url):
        return True
    m = re.search(r"[?&](?:ref|version)=([^&]+)", url)
    if m:
        ref = m.group(1)
        return bool(re.fullmatch(r"[0-9a-f]{40}", ref) or re.match(r"v?\d+\.\d+", ref))
    if re.search(r"/refs/heads/|/(?:main|master|HEAD|develop)/", url):
        return False
    return bool(re.search(r"/(?:refs/tags/)?v?\d+\.\d+(?:\.\d+)?[^/]*/", url))


class ExternalArtifactGate(Rule):
    """A `sourceRef` to an ExternalArtifact in a cluster whose controllers refuse it.

    kustomize-controller and helm-controller accept `sourceRef.kind: ExternalArtifact` (the
    artifacts an ArtifactGenerator produces) only with the `ExternalArtifact` feature gate
    on; it is off by default through Flux 2.9, and flux-operator turns it on when it installs
    the `source-watcher` component. Reported only where the tree tells which Flux the
    cluster runs (a committed `gotk-components.yaml`, a FluxInstance) and the gate is off
    there; the reconcile then fails with an unsupported source kind.

    **Fix:** add `source-watcher` to the FluxInstance's components, or
    `--feature-gates=ExternalArtifact=true` to both controllers' arguments.

    Failing:
    ```yaml
    # file: clusters/prod/flux-system/gotk-components.yaml
    # Flux Version: v2.7.5
    # Components: source-controller,kustomize-controller
    # file: clusters/prod/flux-system/kustomization.yaml
    resources: [gotk-components.yaml, gotk-sync.yaml]
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./
      prune: true
      sourceRef: {kind: ExternalArtifact, name: apps}
    # file: clusters/prod/artifacts.yaml
    apiVersion: source.extensions.fluxcd.io/v1beta1
    kind: ArtifactGenerator
    metadata: {name: fleet, namespace: flux-system}
    spec:
      sources:
        - {alias: repo, kind: GitRepository, name: flux-system}
      artifacts:
        - name: apps
          copy:
            - {from: "@repo/apps/**", to: "@artifact/"}
    # file: apps/configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings, namespace: default}
    data: {cluster: prod}
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
    # file: clusters/prod/flux-system/gotk-components.yaml
    # Flux Version: v2.7.5
    # Components: source-controller,kustomize-controller
    # file: clusters/prod/flux-system/kustomization.yaml
    resources: [gotk-components.yaml, gotk-sync.yaml]
    patches:
      - patch: |
          - op: add
            path: /spec/template/spec/containers/0/args/-
            value: --feature-gates=ExternalArtifact=true
        target: {kind: Deployment, name: kustomize-controller}
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./
      prune: true
      sourceRef: {kind: ExternalArtifact, name: apps}
    # file: clusters/prod/artifacts.yaml
    apiVersion: source.extensions.fluxcd.io/v1beta1
    kind: ArtifactGenerator
    metadata: {name: fleet, namespace: flux-system}
    spec:
      sources:
        - {alias: repo, kind: GitRepository, name: flux-system}
      artifacts:
        - name: apps
          copy:
            - {from: "@repo/apps/**", to: "@artifact/"}
    # file: apps/configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings, namespace: default}
    data: {cluster: prod}
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

    code = "FLX410"
    slug = "external-artifact-gate"
    severity = WARNING
    cluster_context = True

    def check(self, ctx):
        for e in ctx.graph.edges:
            if e.target.kind != "ExternalArtifact" or e.kind not in ("sourceRef", "chartRef") \
                    or e.source.scope == NOT_APPLIED or e.source.doc.origin == "synthetic":
                continue
            picture = ctx.graph.flux_of(e.source.scope)
            if not picture.known or picture.gate("ExternalArtifact"):
                continue
            ctx.current = e.source.doc
            yield self.at(e.source, e.field_path + ("kind",),
                          f"{e.source.doc.kind} `{e.source.name}` uses ExternalArtifact `{e.target.name}`, but the "
                          f"cluster's controllers refuse that source kind: {picture.gate_reason('ExternalArtifact')}",
                          hint="Install source-watcher (FluxInstance `components`), or add "
                               "`--feature-gates=ExternalArtifact=true` to kustomize-controller and helm-controller.")
