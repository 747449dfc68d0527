"""References between Flux objects: what each kind references (a table of kind ->
reference specs), and how a reference resolves in a cluster with Flux's namespace
defaulting (a reference without namespace points into the referrer's namespace)."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import DANGLING, EXTERNAL, RESOLVED, Applied, Edge, ObjKey, Related
from ..sops import is_ciphertext, is_encrypted
from .artifacts import artifacts_of
from .scopes import Scope
from .vocab import (
    BOOTSTRAP_SECRETS, HELM_GROUP, IMAGE_GROUP, KUSTOMIZE_GROUP, NOT_APPLIED, NOTIFICATION_GROUP, SOURCE_GROUP, is_flux,
    list_field,
)


class References:
    """The reference-resolving part of ``Graph`` (a mixin: it works on the graph's state)."""

    def _detached(self) -> Scope:
        """Objects no root applies, in one pseudo-scope (resolved against each other)."""
        scope = self.scopes.get(NOT_APPLIED)
        if scope is None:
            scope = Scope(NOT_APPLIED, None)
            self.scopes[NOT_APPLIED] = scope
        memo = self.memo
        for d in self.docs + self.resolver.generated:
            if id(d) not in self.applied_by_doc:
                # the object of the check before when the document is (the stages after key on it)
                a = self._unapplied_object(d) if memo is None else memo.get(
                    "detached", (d,), self._kinds_token(), lambda d=d: self._unapplied_object(d))
                self._register(scope, a)
        return scope

    def _unapplied_object(self, d) -> Applied:
        ns = d.namespace
        if not ns and not self.is_cluster_scoped(d.kind):
            ns = "default"
        return Applied(d, ns, d.name, NOT_APPLIED, None)

    def resolve_edges(self) -> None:
        self._detached()
        for scope in self.scopes.values():
            for a in scope.applied:
                if is_flux(a.doc) and a.doc.origin != "synthetic":
                    for edge in flux_references(a):
                        self._resolve(scope, edge)
                        self.edges.append(edge)

    def _bootstrap_secret(self, scope: Scope) -> tuple[str, str] | None:
        """(namespace, name) of the secret of the cluster's sync source, which
        `flux bootstrap` creates (`--namespace`, `--secret-name`; flux-system by default)."""
        if scope.root is None or scope.root.source_key is None:
            return None
        for a in scope.find(*scope.root.source_key):
            ref = a.spec.get("secretRef")
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                return a.namespace, ref["name"]
        return None

    def _resolve(self, scope: Scope, edge: Edge) -> None:
        t = edge.target
        kinds = [t.kind]
        if t.kind == "Secret":
            kinds = ["Secret", "SealedSecret", "OnePasswordItem"]
        for kind in kinds:
            hits = scope.find(kind, t.namespace, t.name)
            if hits:
                if hits[0].doc.origin == "generator" and hits[0].doc.name_hash:
                    # kustomize appends a content hash to a generated name: Flux's reference misses it
                    edge.state = DANGLING
                    edge.note = "generated with a hash suffix"
                    return
                edge.state = RESOLVED
                edge.resolved = hits[0]
                return
        if t.kind == "Secret":
            for a in scope.of_kind("ExternalSecret"):
                if a.namespace == t.namespace:
                    target = a.spec.get("target")
                    tname = target.get("name") if isinstance(target, dict) else None
                    if (tname or a.name) == t.name:
                        edge.state = RESOLVED
                        edge.resolved = a
                        return
            if (t.namespace, t.name) in BOOTSTRAP_SECRETS or (t.namespace, t.name) == self._bootstrap_secret(scope):
                edge.state = EXTERNAL
                edge.note = "created by flux bootstrap"
                return
        if t.kind == "ExternalArtifact":
            for a in scope.of_kind("ArtifactGenerator"):
                if a.namespace != t.namespace:
                    continue
                alias_dirs = {}
                for src in list_field(a.spec.get("sources")):
                    if isinstance(src, dict) and isinstance(src.get("alias"), str):
                        key = (src.get("kind") or "GitRepository", src.get("namespace") or a.namespace,
                               src.get("name") or "")
                        local = self.local_sources.get(key)
                        alias_dirs[src["alias"]] = local.dir if local is not None else None
                if any(art.name == t.name for art in artifacts_of(a.spec, alias_dirs, self.dirs())):
                    edge.state = RESOLVED
                    edge.resolved = a
                    edge.note = "produced by an ArtifactGenerator"
                    return
                pattern = a.spec.get("pathPattern")
                alias = pattern[1:].partition("/")[0] if isinstance(pattern, str) and pattern.startswith("@") else ""
                if isinstance(pattern, str) and pattern and alias_dirs.get(alias) is None:
                    edge.state = EXTERNAL  # one artifact per matching directory of a source not read here
                    edge.note = "possibly produced by an ArtifactGenerator's pathPattern"
                    return
        if edge.kind == "decryptionRef":
            edge.state = EXTERNAL
            edge.note = "a decryption key is created out of band (it cannot be stored in Git)"
            return
        if "kubeConfig" in edge.field_path:
            edge.state = EXTERNAL
            edge.note = "a remote cluster's kubeconfig is created by its provisioner, not stored in Git"
            return
        if t.kind in ("GitRepository", "OCIRepository", "Bucket") and (t.kind, t.namespace, t.name) in self.local_sources \
                and edge.kind == "sourceRef" and (self.fallback or (t.kind, t.namespace, t.name) in self._config_source_keys):
            edge.state = EXTERNAL
            edge.note = "taken to be this repository"
            return
        if t.kind in ("GitRepository", "OCIRepository") and t.name == "flux-system" and scope.root is not None:
            if scope.root.source_key == (t.kind, t.namespace, t.name):
                edge.state = EXTERNAL
                edge.note = "the bootstrap source"
                return
        edge.state = DANGLING


# --------------------------------------------------------------------------- the reference table


@dataclass(frozen=True)
class RefSpec:
    """One reference a Flux kind makes.

    ``path`` leads from ``spec`` to the reference (``"*"`` steps into every item of a
    list); the reference is a mapping with ``name`` (and, where ``kind_field``, a ``kind``
    defaulting to ``kind``; where ``namespaced``, a ``namespace`` defaulting to the
    referrer's). ``at_name``: the edge points at the ``name`` field (secret references)
    rather than at the mapping."""

    edge: str  # the edge kind: sourceRef, dependsOn, valuesFrom, secretRef, ...
    path: tuple
    kind: str
    group: str = ""
    kind_field: bool = False
    namespaced: bool = False
    optional_field: bool = False
    at_name: bool = False


def _secret(*path: str, edge: str = "secretRef") -> RefSpec:
    return RefSpec(edge, path, "Secret", at_name=True)


_SOURCE_SECRETS = (_secret("secretRef"), _secret("certSecretRef"), _secret("proxySecretRef"),
                   _secret("verify", "secretRef"))

#: kind -> the references it makes (kinds of every Flux group; the group is checked by ``is_flux``)
REFERENCES: dict[str, tuple[RefSpec, ...]] = {
    "Kustomization": (
        RefSpec("sourceRef", ("sourceRef",), "GitRepository", SOURCE_GROUP, kind_field=True, namespaced=True),
        RefSpec("dependsOn", ("dependsOn", "*"), "Kustomization", KUSTOMIZE_GROUP, namespaced=True),
        RefSpec("substituteFrom", ("postBuild", "substituteFrom", "*"), "ConfigMap", kind_field=True,
                optional_field=True),
        _secret("decryption", "secretRef", edge="decryptionRef"),
        _secret("kubeConfig", "secretRef"),
    ),
    "HelmRelease": (
        RefSpec("sourceRef", ("chart", "spec", "sourceRef"), "HelmRepository", SOURCE_GROUP, kind_field=True,
                namespaced=True),
        RefSpec("chartRef", ("chartRef",), "OCIRepository", SOURCE_GROUP, kind_field=True, namespaced=True),
        RefSpec("dependsOn", ("dependsOn", "*"), "HelmRelease", HELM_GROUP, kind_field=True, namespaced=True),
        RefSpec("valuesFrom", ("valuesFrom", "*"), "ConfigMap", kind_field=True, optional_field=True),
        _secret("kubeConfig", "secretRef"),
    ),
    "GitRepository": _SOURCE_SECRETS + (
        RefSpec("include", ("include", "*", "repository"), "GitRepository", SOURCE_GROUP),
    ),
    "OCIRepository": _SOURCE_SECRETS,
    "HelmRepository": _SOURCE_SECRETS,
    "Bucket": _SOURCE_SECRETS,
    "HelmChart": (RefSpec("sourceRef", ("sourceRef",), "HelmRepository", SOURCE_GROUP, kind_field=True),),
    "Alert": (RefSpec("providerRef", ("providerRef",), "Provider", NOTIFICATION_GROUP),),
    "Provider": (_secret("secretRef"), _secret("certSecretRef")),
    "Receiver": (_secret("secretRef"),),
    "ImagePolicy": (
        RefSpec("imageRepositoryRef", ("imageRepositoryRef",), "ImageRepository", IMAGE_GROUP, namespaced=True),
    ),
    "ImageRepository": (_secret("secretRef"), _secret("certSecretRef")),
    "ImageUpdateAutomation": (
        RefSpec("sourceRef", ("sourceRef",), "GitRepository", SOURCE_GROUP, kind_field=True, namespaced=True),
    ),
}


def _walk_refs(node, path: tuple, at: tuple):
    """(field path, mapping) of every reference mapping under ``path``."""
    if not path:
        if isinstance(node, dict):
            yield at, node
        return
    step, rest = path[0], path[1:]
    if step == "*":
        for i, item in enumerate(list_field(node)):
            yield from _walk_refs(item, rest, at + (i,))
    elif isinstance(node, dict):
        yield from _walk_refs(node.get(step), rest, at + (step,))


def _edge(spec: RefSpec, a: Applied, fp: tuple, ref: dict) -> Edge | None:
    name = ref.get("name")
    kind = (ref.get("kind") or spec.kind) if spec.kind_field else spec.kind
    if not isinstance(name, str) or not name or not isinstance(kind, str):
        return None  # a malformed reference is the schema rules' finding
    namespace = ref.get("namespace") if spec.namespaced else None
    ns = namespace if isinstance(namespace, str) and namespace else a.namespace
    optional = bool(ref.get("optional")) if spec.optional_field else False
    return Edge(spec.edge, a, fp + ("name",) if spec.at_name else fp, ObjKey(spec.group, kind, ns, name), DANGLING,
                optional=optional)


def flux_references(a: Applied) -> list[Edge]:
    """Every reference a Flux object makes (``REFERENCES``), read from the object as
    applied: after the applying Kustomization's patches and substitution."""
    out = []
    spec = a.spec
    for rs in REFERENCES.get(a.doc.kind, ()):
        for fp, ref in _walk_refs(spec, rs.path, ("spec",)):
            e = _edge(rs, a, fp, ref)
            if e is not None:
                out.append(e)
    return out


def related_for(edge: Edge) -> list[Related]:
    if edge.resolved is None:
        return []
    d = edge.resolved.doc
    return [Related(d.path, d.line, d.column, f"{edge.target} is defined here")]


def scalar_text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def data_of(a: Applied) -> dict[str, str | None]:
    """Keys (and values, where readable) of a ConfigMap's or Secret's data."""
    import base64
    import binascii

    value = a.value
    out: dict[str, str | None] = {}
    if not isinstance(value, dict):
        return out
    encrypted = is_encrypted(value)
    for section in ("data", "stringData"):
        data = value.get(section)
        if not isinstance(data, dict):
            continue
        for k, v in data.items():
            if not isinstance(v, str) or encrypted or is_ciphertext(v):
                out[str(k)] = None
            elif section == "data" and a.doc.kind == "Secret":
                try:
                    out[str(k)] = base64.b64decode(v, validate=True).decode("utf-8")
                except (binascii.Error, ValueError):
                    out[str(k)] = None
            else:
                out[str(k)] = v
    return out
