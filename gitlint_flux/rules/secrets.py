"""FLX5xx: secrets in Git and references to secrets."""

from __future__ import annotations

import re

from ..graph import NOT_APPLIED
from ..model import ERROR, WARNING, Related, resource_of
from ..sops import is_encrypted
from .base import Rule
from .references import config_refs

#: values that stand for a secret rather than hold one: a Flux variable, a 1Password
#: reference (`op://vault/item[/section]/field`, spaces allowed in each part), a
#: vals reference (`ref+vault://...`, `ref+awssecrets://...`), a bank-vaults webhook
#: reference (`vault:secret/data/app#key`), a SOPS ciphertext, a `<placeholder>`, a template
_REFERENCE_VALUE = re.compile(r"^\s*(?:\$\{[^}]*\}|op://[^/\n]+/[^/\n]+(?:/[^/\n]+){1,2}|ref\+[a-z0-9]+://\S+"
                              r"|vault:[^\s#]+#\S+|ENC\[.*\]|<[^<>]*>|\{\{.*\}\})\s*$", re.S)


def _plain(v) -> bool:
    """A value that is a secret in clear: not empty, not a placeholder, not templated."""
    if v is None:
        return False
    s = v if isinstance(v, str) else str(v)
    return bool(s.strip()) and not _REFERENCE_VALUE.match(s) and "${" not in s


class PlaintextSecret(Rule):
    """A Secret in Git holds plaintext (or merely base64-encoded) values.

    Anyone who can read the repository can read the secret, forever (history keeps it).
    A Secret is fine when it is SOPS-encrypted (a `sops:` block with its `mac`), or when
    every value is a placeholder: a value with a `${VAR}` filled at post-build (or by a
    bootstrap template), a 1Password `op://` reference, an `ENC[...]` value, or empty. kustomize `secretGenerator` `literals:` are
    plaintext too. Checked in every file, applied or not: a secret leaks either way.

    **Fix:** encrypt the file with SOPS (`sops --encrypt --in-place`), or use an
    ExternalSecret / SealedSecret / 1Password item instead. Rotate the leaked credential.

    Failing:
    ```yaml
    apiVersion: v1
    kind: Secret
    metadata: {name: db, namespace: default}
    stringData:
      password: hunter2
    ```
    Passing:
    ```yaml
    apiVersion: v1
    kind: Secret
    metadata: {name: db, namespace: default}
    stringData:
      password: ENC[AES256_GCM,data:Tr7o1Q==,iv:...,tag:...,type:str]
    sops:
      age: [{recipient: age1..., enc: "..."}]
      mac: ENC[AES256_GCM,data:...,type:str]
    ```
    """

    code = "FLX501"
    slug = "plaintext-secret"
    severity = ERROR

    def check(self, ctx):
        for sf in ctx.linted_files():
            role = ctx.graph.roles_of(sf.path)
            for doc in sf.documents:
                if not doc.is_object and not sf.is_kustomization:
                    continue
                ctx.current = doc
                if doc.kind == "Secret" and doc.group == "":
                    if is_encrypted(doc.value) or "patch" in role:
                        continue
                    for field in ("data", "stringData"):
                        data = doc.value.get(field)
                        if not isinstance(data, dict):
                            continue
                        keys = [k for k, v in data.items() if _plain(v)]
                        if keys:
                            shown = ", ".join(f"`{k}`" for k in keys[:5]) + (" ..." if len(keys) > 5 else "")
                            loc = doc.loc(field, keys[0], key=True)
                            yield self.finding(
                                doc.path, loc.line, loc.column,
                                f"Secret `{doc.name}` has plaintext {field} ({shown}) committed to Git",
                                hint="Encrypt it with SOPS or use an ExternalSecret/SealedSecret; rotate the value.",
                                resource=resource_of(doc))
                            break
                elif sf.is_kustomization and isinstance(doc.value, dict):
                    gens = doc.value.get("secretGenerator")
                    for i, g in enumerate(gens if isinstance(gens, list) else ()):
                        lits = g.get("literals") if isinstance(g, dict) else None
                        for j, lit in enumerate(lits if isinstance(lits, list) else ()):
                            if isinstance(lit, str) and "=" in lit and _plain(lit.split("=", 1)[1]):
                                loc = doc.loc("secretGenerator", i, "literals", j)
                                yield self.finding(
                                    doc.path, loc.line, loc.column,
                                    f"secretGenerator `{g.get('name', '?')}` has a plaintext literal "
                                    f"`{lit.split('=', 1)[0]}` committed to Git",
                                    hint="Generate it from a SOPS-encrypted env file, or use an ExternalSecret.")
                                break


class SecretRefMissing(Rule):
    """A reference to a Secret that the cluster does not get from this repository.

    Covers `secretRef`, `certSecretRef`, `proxySecretRef`, `verify.secretRef`,
    `kubeConfig.secretRef`, `valuesFrom` and `substituteFrom` of kind Secret. A reference
    resolves to a Secret (plain or SOPS-encrypted), a SealedSecret, the target of an
    ExternalSecret, a 1Password `OnePasswordItem` or a `secretGenerator` in the same
    cluster and namespace; `optional: true` references and the bootstrap secret
    `flux-system` are fine. Secrets created out of band exist, so this is a warning that
    names the object to check.

    **Fix:** add the Secret (encrypted) or its ExternalSecret, fix the name, or mark the
    reference optional.

    Failing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 10m
      url: oci://ghcr.io/example/charts/podinfo
      ref: {tag: 6.9.2}
      secretRef:
        name: ghcr-auth   # defined nowhere
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
    kind: OCIRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 10m
      url: oci://ghcr.io/example/charts/podinfo
      ref: {tag: 6.9.2}
      secretRef:
        name: ghcr-auth
    # file: clusters/prod/ghcr-auth.yaml
    apiVersion: external-secrets.io/v1beta1
    kind: ExternalSecret
    metadata: {name: ghcr-auth, namespace: flux-system}
    spec:
      secretStoreRef: {kind: ClusterSecretStore, name: vault}
      target:
        name: ghcr-auth
      dataFrom:
        - extract: {key: ci/ghcr}
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

    code = "FLX502"
    slug = "secret-ref-missing"
    severity = WARNING
    cluster_context = True

    def check(self, ctx):
        yield from config_refs(self, ctx, ("Secret",))


class SopsWithoutDecryption(Rule):
    """A Kustomization applies SOPS-encrypted files but has no `spec.decryption`.

    kustomize-controller then applies the encrypted text as-is: the reconcile fails (or
    worse, applies `ENC[...]` strings as secret values).

    **Fix:** add `spec.decryption` with `provider: sops` and the key's `secretRef`.

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
    # file: apps/db.sops.yaml
    apiVersion: v1
    kind: Secret
    metadata: {name: db, namespace: default}
    stringData:
      password: ENC[AES256_GCM,data:Tr7o1Q==,iv:...,tag:...,type:str]
    sops:
      age: [{recipient: age1..., enc: "..."}]
      mac: ENC[AES256_GCM,data:...,type:str]
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
      decryption:
        provider: sops
        secretRef:
          name: sops-age   # the age key, created at bootstrap
    # file: apps/db.sops.yaml
    apiVersion: v1
    kind: Secret
    metadata: {name: db, namespace: default}
    stringData:
      password: ENC[AES256_GCM,data:Tr7o1Q==,iv:...,tag:...,type:str]
    sops:
      age: [{recipient: age1..., enc: "..."}]
      mac: ENC[AES256_GCM,data:...,type:str]
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

    code = "FLX503"
    slug = "sops-without-decryption"
    severity = ERROR
    cluster_context = True

    def check(self, ctx):
        graph = ctx.graph
        reported = set()
        for scope in graph.scopes.values():
            if scope.name == NOT_APPLIED:
                continue
            for a in scope.applied:
                if a.by is None or not is_encrypted(a.doc.value):
                    continue
                for parent in graph.applied_by_doc.get(id(a.by), []):
                    if parent.scope not in (scope.name, graph.scopes[scope.name].parent):
                        continue
                    dec = parent.spec.get("decryption")
                    if isinstance(dec, dict) and dec.get("provider") == "sops":
                        break
                else:
                    key = (id(a.by), a.doc.path)
                    if key in reported:
                        continue
                    reported.add(key)
                    ks = a.by
                    ctx.current = ks
                    loc = ks.loc("spec", key=True)
                    yield self.finding(
                        ks.path, loc.line, loc.column,
                        f"Kustomization `{ks.name}` applies the SOPS-encrypted `{a.doc.path}` but sets no "
                        "spec.decryption",
                        hint="Add `decryption: {provider: sops, secretRef: {name: <key secret>}}`.",
                        resource=resource_of(ks),
                        related=[Related(a.doc.path, a.doc.line, a.doc.column, "encrypted here")])
