"""FLX7xx: Flux post-build variable substitution."""

from __future__ import annotations

from ..model import ERROR, INFO
from ..transform import substitution_disabled, variables_in
from .base import Rule

_PAYLOAD_KINDS = {"ConfigMap": ("data", "binaryData"), "Secret": ("data", "stringData")}


def _skip_payload(doc, path: tuple) -> bool:
    fields = _PAYLOAD_KINDS.get(doc.kind)
    return bool(fields) and doc.group == "" and bool(path) and path[0] in fields


class UndefinedVariable(Rule):
    """A `${VAR}` without default that the applying Kustomization does not define.

    A Kustomization with `spec.postBuild` substitutes variables from `substitute` and
    `substituteFrom` in everything it applies. A variable it does not define, written
    without a default (`${VAR:=default}`), fails the reconcile in Flux 2.9 (strict
    substitution is the default). Not judged when a non-optional `substituteFrom` source
    is not in this repository (its keys are unknown). `$${VAR}` escapes and the
    annotation `kustomize.toolkit.fluxcd.io/substitute: disabled` are honoured.

    **Fix:** define the variable in `postBuild.substitute` or its ConfigMap/Secret, give
    it a default, or escape it as `$${VAR}`.

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
      postBuild:
        substitute:
          CLUSTER_NAME: prod
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
    data:
      host: app.${CLUSTER_DOMAIN}
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
      postBuild:
        substitute:
          CLUSTER_NAME: prod
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
    data:
      host: app.${CLUSTER_DOMAIN:=example.com}
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
      postBuild:
        substitute:
          CLUSTER_NAME: prod
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
    data:
      host: app.$${CLUSTER_DOMAIN}   # escaped: applied as ${CLUSTER_DOMAIN}
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

    code = "FLX701"
    slug = "undefined-variable"
    severity = ERROR

    def check(self, ctx):
        for a in ctx.applied():
            if a.variables is None or not a.variables_complete or a.by is None:
                continue
            value = a.doc.value
            if substitution_disabled(value):
                continue
            for path, name, has_default in variables_in(value):
                if has_default or name in a.variables:
                    continue
                yield self.at(a, path, f"`${{{name}}}` is not defined by Kustomization `{a.by.name}`'s postBuild",
                              hint=f"Define {name} in postBuild.substitute(From), write `${{{name}:=default}}`, "
                                   f"or escape it as `$${{{name}}}`.")


class UnsubstitutedVariable(Rule):
    """A `${VAR}` in a document applied by a Kustomization without `postBuild`.

    Without `spec.postBuild`, Flux applies the text `${VAR}` literally — usually a
    forgotten `postBuild`. Only variables that some other Kustomization of the repository
    defines count (the others are shell or application variables, meant literally), and
    ConfigMap and Secret payloads are not judged: `${...}` there is usually meant for a
    script or a dashboard.

    **Fix:** add `postBuild.substitute`/`substituteFrom` to the Kustomization, or escape
    the text as `$${VAR}` when it is meant literally.

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
      postBuild:
        substitute:
          CLUSTER_DOMAIN: prod.example.com
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: infrastructure/ingress-nginx.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: ingress-nginx, namespace: default}
    data:
      domain: ${CLUSTER_DOMAIN}
    # file: apps/ingress.yaml
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: podinfo, namespace: default}
    spec:
      rules:
        - host: app.${CLUSTER_DOMAIN}
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
      postBuild:
        substitute:
          CLUSTER_DOMAIN: prod.example.com
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
      postBuild:
        substitute:
          CLUSTER_DOMAIN: prod.example.com
    # file: infrastructure/ingress-nginx.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: ingress-nginx, namespace: default}
    data:
      domain: ${CLUSTER_DOMAIN}
    # file: apps/ingress.yaml
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: podinfo, namespace: default}
    spec:
      rules:
        - host: app.${CLUSTER_DOMAIN}
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

    code = "FLX702"
    slug = "unsubstituted-variable"
    severity = INFO

    def check(self, ctx):
        # a variable looks like Flux's when some Kustomization of the repository defines
        # it; other ${...} are shell or application variables, applied literally on purpose
        flux_vars: set[str] = set()
        for a in ctx.applied():
            if a.variables:
                flux_vars.update(a.variables)
        if not flux_vars:
            return
        for a in ctx.applied():
            if a.variables is not None or a.by is None or a.doc.kind == "CustomResourceDefinition":
                continue
            value = a.doc.value
            if substitution_disabled(value):
                continue
            found = [(p, n) for p, n, _ in variables_in(value) if n in flux_vars and not _skip_payload(a.doc, p)]
            if found:
                path, name = found[0]
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                yield self.at(a, path, f"`${{{name}}}`{more} is applied literally: Kustomization `{a.by.name}` "
                                       "has no postBuild",
                              hint="Add postBuild.substitute(From) to the Kustomization, or escape as `$${...}`.")
