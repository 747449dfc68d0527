"""FLX7xx: Flux post-build variable substitution."""

from __future__ import annotations

from ..graph.refs import data_of
from ..model import ERROR, INFO, MemoKey, Related
from ..substitution import is_disabled, name_error, valid_name, variables_in
from .base import Fix, Rule

_PAYLOAD_KINDS = {"ConfigMap": ("data", "binaryData"), "Secret": ("data", "stringData")}


REFERENCES = MemoKey[dict]("post-build references per object value")


def _references(ctx, value) -> list:
    """``variables_in(value)``, computed once per object value for the rules of this
    family (they walk the same objects)."""
    memo = ctx.memo(REFERENCES, dict)
    key = id(value)
    hit = memo.get(key)
    if hit is None or hit[0] is not value:
        kept = getattr(ctx.graph, "memo", None)  # the language server's: kept from the check before
        refs = variables_in(value) if kept is None else kept.get("variables-in", (value,), None,
                                                                  lambda: variables_in(value))
        hit = memo[key] = (value, refs)
    return hit[1]


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
    it a default, or escape it as `$${VAR}`. `gitlint-flux lint --fix --unsafe-fixes`
    escapes it in a script (a multi-line string, or a `command`, `args` or `script`
    value): unsafe, since the author may mean a Flux variable.

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
    cluster_context = True
    fix = Fix(False, "in a script (a multi-line string, or a `command`/`args`/`script` value), `${VAR}` is "
                     "escaped as `$${VAR}`: unsafe, the author may mean a Flux variable")

    def check(self, ctx):
        for a in ctx.applied():
            if a.variables is None or not a.variables_complete or a.by is None:
                continue
            value = a.built_value
            if is_disabled(value):
                continue
            picture = ctx.graph.flux_of(a.scope)
            strict = picture.gate("StrictPostBuildSubstitutions")
            seen = set()
            for path, ref in _references(ctx, value):
                if ref.error is not None or ref.has_default or ref.name in a.variables:
                    continue
                if (path, ref.name) in seen:
                    continue
                seen.add((path, ref.name))
                f = self.at(a, path, f"`${{{ref.name}}}` is not defined by Kustomization `{a.by.name}`'s postBuild: "
                            + ("the reconcile fails (strict substitution)" if strict else
                               "it becomes an empty string"),
                            hint=f"Define {ref.name} in postBuild.substitute(From) or write `${{{ref.name}:=default}}`; "
                                 f"if it is meant for a script or an application, escape it as `$${{{ref.name}}}` or "
                                 "annotate the object `kustomize.toolkit.fluxcd.io/substitute: disabled`. "
                                 + picture.gate_reason("StrictPostBuildSubstitutions") + ".")
                if not strict:
                    f.caps.append(("warning", "the cluster's kustomize-controller substitutes an empty string"))
                yield f


class SubstitutionSyntax(Rule):
    """A `${...}` that Flux's post-build substitution cannot parse.

    kustomize-controller parses every `${` in what a Kustomization with `spec.postBuild`
    applies; an expression it cannot parse fails the whole reconcile (`envsubst error:
    variable substitution failed`). Flux supports `${VAR}`, the defaults `${VAR:=default}`,
    `${VAR:-default}` and `${VAR=default}`, and bash's string operations (`${#VAR}`,
    `${VAR:1:2}`, `${VAR/x/y}`, `${VAR^^}`, ...), but not `${VAR-default}` or
    `${VAR+alt}`, and every `${` needs its closing `}`.

    **Fix:** write the expression in a form Flux parses (`${VAR:-default}`), or escape a
    literal `${` as `$${`.

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
          DOMAIN: example.com
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
    data:
      host: app.${DOMAIN-example.org}
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
          DOMAIN: example.com
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
    data:
      host: app.${DOMAIN:-example.org}
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

    code = "FLX703"
    slug = "substitution-syntax"
    severity = ERROR
    cluster_context = True

    def check(self, ctx):
        for a in ctx.applied():
            if a.variables is None or a.by is None:
                continue
            value = a.built_value
            if is_disabled(value):
                continue
            for path, ref in _references(ctx, value):
                if ref.error is None:
                    continue
                yield self.at(a, path, f"Flux cannot parse this `${{...}}` ({ref.error}): Kustomization "
                                       f"`{a.by.name}`'s reconcile fails",
                              hint="Write it as Flux parses it (`${VAR:-default}`), or escape a literal `${` as `$${`.")
                break  # the first one fails the object


class InvalidVariableName(Rule):
    """A post-build variable whose name Flux refuses.

    kustomize-controller accepts variable names matching `^[_[:alpha:]][_[:alpha:][:digit:]]*$`
    (letters, digits and `_`, not starting with a digit), in `postBuild.substitute` and in
    the data keys of the `substituteFrom` ConfigMaps and Secrets; any other name fails
    every reconcile of the Kustomization (`var name is invalid`).

    **Fix:** rename the variable (`DOMAIN_NAME`, not `domain-name`).

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
          cluster-name: prod
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
    data:
      cluster: prod
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
      cluster: ${CLUSTER_NAME}
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

    code = "FLX704"
    slug = "invalid-variable-name"
    severity = ERROR
    cluster_context = True

    def check(self, ctx):
        for a in ctx.applied(("Kustomization",)):
            if a.doc.group != "kustomize.toolkit.fluxcd.io":
                continue
            pb = a.spec.get("postBuild")
            if not isinstance(pb, dict):
                continue
            inline = pb.get("substitute")
            for name in inline if isinstance(inline, dict) else ():
                if not valid_name(name):
                    yield self.at(a, ("spec", "postBuild", "substitute", name), name_error(str(name)) +
                                  f": every reconcile of `{a.name}` fails", key=True,
                                  hint="Use letters, digits and `_` only, not starting with a digit.")
            refs = pb.get("substituteFrom")
            scope = ctx.graph.scopes.get(a.scope)
            for i, ref in enumerate(refs if isinstance(refs, list) else ()):
                if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or scope is None:
                    continue
                kind = ref.get("kind") if ref.get("kind") in ("ConfigMap", "Secret") else "ConfigMap"
                for src in scope.find(kind, a.namespace, ref["name"])[:1]:
                    bad = sorted(k for k in data_of(src) if not valid_name(k))
                    if bad:
                        d = src.doc
                        yield self.at(a, ("spec", "postBuild", "substituteFrom", i, "name"),
                                      f"{kind} `{ref['name']}` has data keys Flux refuses as variable names "
                                      f"({', '.join(f'`{b}`' for b in bad[:3])}): every reconcile of `{a.name}` fails",
                                      hint="Rename the keys (letters, digits and `_`), or split the data that is not "
                                           "meant for substitution into another ConfigMap or Secret.",
                                      related=[Related(d.path, d.line, d.column, "the data is here")])


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
    cluster_context = True

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
            value = a.built_value
            if is_disabled(value):
                continue
            found = [(p, r.name) for p, r in _references(ctx, value)
                     if r.error is None and r.name in flux_vars and not _skip_payload(a.doc, p)]
            if found:
                path, name = found[0]
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                why = "defines no variable" if isinstance(a.by.spec.get("postBuild"), dict) else "has no postBuild"
                yield self.at(a, path, f"`${{{name}}}`{more} is applied literally: Kustomization `{a.by.name}` "
                                       f"{why}",
                              hint="Add postBuild.substitute(From) to the Kustomization, or escape as `$${...}`.")
