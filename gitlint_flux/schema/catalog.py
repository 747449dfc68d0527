"""Where a document's schema comes from.

Sources, in the default order of precedence (``schema-order`` in the configuration
reorders them):

1. ``repository`` -- CustomResourceDefinitions found in the repository that are applied in
   the document's own scope (cluster): the release that cluster really runs;
2. ``locations`` -- schema directories the user names (``--schema-location``,
   ``schema-locations:``), read from disk only, in flux-schema's catalog layout
   (``{group}/{kind}_{version}.json``) or kubeconform's (``{kind}-{group}-{version}.json``,
   ``{kind}-{version}.json``, ``{kind}_{version}.json``), kind in lower case;
3. ``bundled`` -- the Flux ecosystem's schemas shipped in ``gitlint_flux/schemas``
   (controllers, source-watcher, flux-operator; CEL rules included);
4. ``catalog`` -- the CRD catalog shipped in ``gitlint_flux/schemas/catalog`` (schemas of
   an unknown release of each project: hits are marked ``source="catalog"``), preceded by
   the repository's CRDs that no root applies, then those only another cluster applies
   (for a document that no root applies, the CRDs no root applies are its own);
5. ``kubernetes`` -- Kubernetes core kinds from kubernetes-validate's schema files.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..graph import NOT_APPLIED
from .convert import convert_schema, crd_identity, crd_versions
from .kube import KubeSchemas, kube_schemas, pick_version
from .meta import OBJECT_META
from .nodes import Compiler, Node

DEFAULT_PRECEDENCE = ("repository", "locations", "bundled", "catalog", "kubernetes")
PACKAGE_SCHEMAS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas")
PACKAGE_CATALOG = os.path.join(PACKAGE_SCHEMAS, "catalog")
_FLUX_VERSION_RE = re.compile(r"^#\s*Flux Version:\s*(\S+)", re.M)


@dataclass
class Hit:
    """A schema for a document."""

    node: Node
    origin: str  # for messages: where the schema comes from
    lists: bool = True  # enforce x-kubernetes-list-type (custom resources)
    deprecated: str = ""  # the CRD marks this version deprecated (its warning, or a default text)
    crd: Any = None  # the RepoCRD it comes from
    source: str = ""  # the source that gave it: repository, locations, bundled, catalog (an unknown release), kubernetes


_META_NODE: Node | None = None


def meta_node() -> Node:
    global _META_NODE
    if _META_NODE is None:
        _META_NODE = Compiler().compile(OBJECT_META)
        _META_NODE.meta = True
    return _META_NODE


def _with_object_meta(node: Node) -> Node:
    """The root of a custom resource: its ``metadata`` is ObjectMeta (the API server
    ignores what a CRD declares there)."""
    if node.props is not None:
        node.props["metadata"] = meta_node()
    return node


#: kinds flux-operator adds to the notification CRDs it installs (Alert
#: ``spec.eventSources[].kind`` and Receiver ``spec.resources[].kind``)
OPERATOR_EVENT_KINDS = ("FluxInstance", "ResourceSet", "ResourceSetInputProvider")
_OPERATOR_PATCHED = {
    ("notification.toolkit.fluxcd.io", "Alert"): ("spec", "eventSources"),
    ("notification.toolkit.fluxcd.io", "Receiver"): ("spec", "resources"),
}


def operator_patch(schema: dict, group: str, kind: str) -> dict:
    """The schema as flux-operator patches the CRD it installs."""
    where = _OPERATOR_PATCHED.get((group, kind))
    if where is None:
        return schema
    node = schema
    for step in where:
        node = node.get("properties", {}).get(step, {}) if isinstance(node, dict) else {}
    enum = node.get("items", {}).get("properties", {}).get("kind", {}).get("enum") if isinstance(node, dict) else None
    if isinstance(enum, list):
        enum.extend(k for k in OPERATOR_EVENT_KINDS if k not in enum)
    return schema


# --------------------------------------------------------------------------- repository CRDs


@dataclass(eq=False)
class RepoCRD:
    doc: Any
    group: str
    kind: str
    plural: str
    scopes: set
    versions: dict
    flux_version: str = ""
    _nodes: dict = field(default_factory=dict)
    shared: dict = field(default_factory=dict)  # compiled schemas by content, across CRDs
    memo: Any = None  # the graph's Memo (the language server), or None

    def serves(self, version: str) -> bool:
        v = self.versions.get(version)
        return bool(v and v["served"])

    def has_node(self, version: str) -> bool:
        """``node(version) is not None``, without compiling it."""
        if version in self._nodes:
            return self._nodes[version] is not None
        v = self.versions.get(version)
        return bool(v and v["served"] and v["raw"] is not None)

    def node(self, version: str) -> Node | None:
        if version in self._nodes:
            return self._nodes[version]
        v = self.versions.get(version)
        node = None
        if v and v["served"] and v["raw"] is not None:
            if self.memo is not None:  # the CRD's schema unchanged since the check before: its node
                node = self.memo.get("crd-node", (v["raw"],), version, lambda: self._compiled(v, version))
            else:
                node = self._compiled(v, version)
        self._nodes[version] = node
        return node

    def _compiled(self, v: dict, version: str) -> Node:
        # the same CRD applied in many clusters (or copied) compiles, and validates, once
        try:
            key = json.dumps(v["raw"], sort_keys=True, default=repr)
        except (TypeError, ValueError):  # keys of mixed types (`!!int 1:` beside strings)
            key = repr(("unshared", id(self), version))
        node = self.shared.get(key)
        if node is None:
            node = self.shared[key] = _with_object_meta(Compiler().compile(convert_schema(v["raw"], root=True)))
        return node

    @property
    def where(self) -> str:
        fv = f", Flux {self.flux_version}" if self.flux_version else ""
        return f"the CRD in `{self.doc.path}`{fv}"


class RepoCRDs:
    def __init__(self, graph, files):
        self.by_gk: dict[tuple[str, str], list[RepoCRD]] = {}
        memo = graph.memo  # the next check takes a CRD's node by its schema's identity (RepoCRD.node)
        shared: dict = {}
        flux_versions: dict[str, str] = {}
        for d in graph.docs:
            if d.kind != "CustomResourceDefinition" or d.group != "apiextensions.k8s.io" or d.origin:
                continue
            ident = crd_identity(d.value)
            if ident is None:
                continue
            group, kind, plural = ident
            scopes = {a.scope for a in graph.applied_by_doc.get(id(d), [])} or {NOT_APPLIED}
            if d.path not in flux_versions:
                sf = files.get(d.path)
                m = _FLUX_VERSION_RE.search(sf.text[:2000]) if sf is not None and sf.text else None
                flux_versions[d.path] = m.group(1) if m else ""
            self.by_gk.setdefault((group, kind), []).append(
                RepoCRD(d, group, kind, plural, scopes, crd_versions(d.value), flux_versions[d.path], shared=shared,
                        memo=memo))

    def tiers(self, group: str, kind: str, scopes: set) -> tuple[list[RepoCRD], list[RepoCRD], list[RepoCRD]]:
        """(same scope, applied nowhere, other scopes); for a document that no root
        applies, the CRDs no root applies are its own scope."""
        same, unapplied, other = [], [], []
        for c in self.by_gk.get((group, kind), ()):
            if c.scopes & scopes:
                same.append(c)
            elif c.scopes == {NOT_APPLIED}:
                unapplied.append(c)
            else:
                other.append(c)
        return same, unapplied, other

    def serving(self, group: str, kind: str, version: str, scopes: set) -> list[RepoCRD]:
        """CRDs of the document's own cluster that serve ``version`` (for a document no
        root applies, any CRD of the repository)."""
        same, unapplied, other = self.tiers(group, kind, scopes)
        tiers = (same,) if scopes != {NOT_APPLIED} else (same, unapplied, other)
        for tier in tiers:
            hit = [c for c in tier if c.serves(version)]
            if hit:
                return hit
        return []

    def knows(self, group: str, kind: str) -> bool:
        return (group, kind) in self.by_gk


# --------------------------------------------------------------------------- bundled Flux schemas


def _read_index(root: str, missing: dict) -> dict:
    """The ``index.json`` of a package-data folder; ``missing`` when it is absent or
    unreadable (a build that left out the package data)."""
    try:
        with open(os.path.join(root, "index.json"), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return missing


class Bundled:
    def __init__(self, root: str = PACKAGE_SCHEMAS):
        self.root = root
        self._index: dict | None = None
        self._nodes: dict[tuple, Node | None] = {}

    @property
    def index(self) -> dict:
        if self._index is None:
            self._index = _read_index(self.root, {"flux": "?", "groups": {}})
        return self._index

    @property
    def available(self) -> bool:
        """The bundled schemas are installed (a build that left out the package data
        has none)."""
        return bool(self.index.get("groups"))

    @property
    def flux(self) -> str:
        return str(self.index.get("flux", "?"))

    def served(self, group: str, kind: str) -> list[str] | None:
        info = self.index.get("groups", {}).get(group, {}).get(kind)
        return list(info["versions"]) if info else None

    def kinds(self, group: str) -> list[str]:
        return sorted(self.index.get("groups", {}).get(group, {}))

    def has_node(self, group: str, version: str, kind: str) -> bool:
        """Whether ``node`` has a schema to compile (its file is there), without reading it."""
        served = self.served(group, kind)
        return bool(served and version in served
                    and os.path.isfile(os.path.join(self.root, group, f"{kind.lower()}_{version}.json")))

    def node(self, group: str, version: str, kind: str, operator: bool = False) -> Node | None:
        operator = operator and (group, kind) in _OPERATOR_PATCHED
        key = (group, version, kind, operator)
        if key in self._nodes:
            return self._nodes[key]
        node = None
        served = self.served(group, kind)
        if served and version in served:
            p = os.path.join(self.root, group, f"{kind.lower()}_{version}.json")
            try:
                with open(p, encoding="utf-8") as fh:
                    schema = json.load(fh)
                if operator:
                    schema = operator_patch(schema, group, kind)
                node = _with_object_meta(Compiler().compile(schema))
            except (OSError, ValueError):
                node = None
        self._nodes[key] = node
        return node


_SHARED_BUNDLED: dict[str, Bundled] = {}


def shared_bundled() -> Bundled:
    """The package's Flux schemas, one per process (as ``shared_crd_catalog``)."""
    b = _SHARED_BUNDLED.get(PACKAGE_SCHEMAS)
    if b is None:
        b = _SHARED_BUNDLED[PACKAGE_SCHEMAS] = Bundled(PACKAGE_SCHEMAS)
    return b


# --------------------------------------------------------------------------- the bundled CRD catalog


def _json_without_gc(data: bytes):
    """``json.loads`` with the cyclic garbage collector paused: decoding allocates tens of
    thousands of containers, and in a run that already holds a repository's documents each
    collection it triggers walks all of them (measured: 20 ms instead of 0.4 ms for one
    kind). Decoded JSON holds no cycles."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        return json.loads(data)
    finally:
        if was:
            gc.enable()


_SHARED_CRD_CATALOG: "CrdCatalog | None" = None


def shared_crd_catalog() -> "CrdCatalog":
    """The package's catalog, one per process: its files never change while it runs, so a
    long-lived process (the language server) decodes and compiles each schema once."""
    global _SHARED_CRD_CATALOG
    if _SHARED_CRD_CATALOG is None:
        _SHARED_CRD_CATALOG = CrdCatalog()
    return _SHARED_CRD_CATALOG


class CrdCatalog:
    """The catalog schemas shipped in ``gitlint_flux/schemas/catalog`` (generated by
    ``gitlint_flux.schema.generate``): ``index.json`` is read at the first lookup that
    reaches this source, ``{group}/{kind}_{version}.json.gz`` when a document of that kind
    and version is met, and compiled once (its nodes at their first use)."""

    def __init__(self, root: str = PACKAGE_CATALOG):
        self.root = root
        self._index: dict | None = None
        self._payloads: dict[tuple[str, str, str], dict | None] = {}
        self._nodes: dict[tuple, Node | None] = {}

    @property
    def index(self) -> dict:
        if self._index is None:
            self._index = _read_index(self.root, {"source": {}, "groups": {}})
        return self._index

    @property
    def source(self) -> dict:
        return self.index.get("source") or {}

    @property
    def label(self) -> str:
        """Where the schemas come from, for messages."""
        s = self.source
        commit = str(s.get("commit", ""))[:12]
        return f"{s.get('repository', 'the CRD catalog')}@{commit}" if commit else str(s.get("repository", "?"))

    def served(self, group: str, kind: str) -> list[str] | None:
        """The versions the catalog holds for a kind, oldest first (None: not there).
        The catalog names kinds in lower case only (as kubeconform looks them up)."""
        versions = self.index.get("groups", {}).get(group, {}).get(kind.lower())
        return list(versions) if versions else None

    def payload(self, group: str, version: str, kind: str) -> dict | None:
        """``{group, kind, version, commit, schema}`` of one generated file."""
        key = (group, version, kind.lower())
        if key not in self._payloads:
            data = None
            try:
                import zlib  # a C module: cheaper to import than gzip

                with open(os.path.join(self.root, group, f"{kind.lower()}_{version}.json.gz"), "rb") as fh:
                    data = _json_without_gc(zlib.decompress(fh.read(), wbits=31))  # 31: the gzip format
            except (OSError, ValueError, EOFError, zlib.error):
                data = None
            self._payloads[key] = data if isinstance(data, dict) else None
        return self._payloads[key]

    def commit_of(self, group: str, version: str, kind: str) -> str:
        p = self.payload(group, version, kind)
        return str(p.get("commit", "")) if p else ""

    def has_node(self, group: str, version: str, kind: str) -> bool:
        """Whether ``node`` has a schema (its file is there), without decompressing it."""
        key = (group, version, kind)
        if key in self._nodes:
            return self._nodes[key] is not None
        served = self.served(group, kind)
        return bool(served and version in served
                    and os.path.isfile(os.path.join(self.root, group, f"{kind.lower()}_{version}.json.gz")))

    def node(self, group: str, version: str, kind: str) -> Node | None:
        key = (group, version, kind)
        if key in self._nodes:
            return self._nodes[key]
        node = None
        served = self.served(group, kind)
        if served and version in served:
            p = self.payload(group, version, kind)
            schema = p.get("schema") if p else None
            if isinstance(schema, dict):
                node = _with_object_meta(Compiler().compile(schema))
        self._nodes[key] = node
        return node


# --------------------------------------------------------------------------- user schema directories


class Location:
    """A directory of JSON schemas (flux-schema or kubeconform layout)."""

    def __init__(self, path: str):
        self.path = path
        self._files: dict[str, Any] = {}
        self._nodes: dict[tuple, Node | None] = {}
        self._compiler = Compiler(self._load)

    def _read(self, path: str) -> Any:
        if path not in self._files:
            try:
                with open(path, encoding="utf-8") as fh:
                    self._files[path] = json.load(fh)
            except (OSError, ValueError):
                self._files[path] = None
        return self._files[path]

    def _load(self, ref: str, base: str):
        file_part, _, pointer = ref.partition("#")
        if file_part and not re.match(r"^[a-z]+://", file_part):
            target_file = os.path.normpath(os.path.join(os.path.dirname(base), file_part.lstrip("/")))
            if not os.path.isfile(target_file):
                target_file = os.path.join(self.path, os.path.basename(file_part))
        elif file_part:
            return {}, base  # remote references are not fetched
        else:
            target_file = base
        doc = self._read(target_file)
        for part in [p for p in pointer.split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(doc, dict):
                doc = doc.get(part)
            elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
                doc = doc[int(part)]
            else:
                doc = None
        return (doc if isinstance(doc, dict) else {}), target_file

    def candidates(self, group: str, version: str, kind: str) -> list[str]:
        k = kind.lower()
        first = group.split(".")[0] if group else ""
        out = []
        if group:
            out += [os.path.join(self.path, group, f"{k}_{version}.json"),
                    os.path.join(self.path, f"{k}-{first}-{version}.json"),
                    os.path.join(self.path, f"{k}-{group}-{version}.json")]
        else:
            out.append(os.path.join(self.path, f"{k}-{version}.json"))
        out.append(os.path.join(self.path, f"{k}_{version}.json"))
        return out

    def node(self, group: str, version: str, kind: str) -> Node | None:
        key = (group, version, kind)
        if key in self._nodes:
            return self._nodes[key]
        node = None
        for p in self.candidates(group, version, kind):
            if os.path.isfile(p):
                schema = self._read(p)
                if isinstance(schema, dict):
                    node = _with_object_meta(self._compiler.compile(schema, p))
                    break
        self._nodes[key] = node
        return node


# --------------------------------------------------------------------------- the catalog


def might_be_core(group: str) -> bool:
    """Built-in API groups have no dot (``apps``) or end in ``.k8s.io``."""
    return "." not in group or group.endswith(".k8s.io")


class Catalog:
    def __init__(self, graph, files, *, locations=(), precedence=None, kubernetes_version: str | None = None):
        self.repo = RepoCRDs(graph, files)
        self.bundled = shared_bundled()
        self.crd_catalog = shared_crd_catalog()
        self.locations = [Location(p) for p in locations]
        prec = [p for p in (precedence or DEFAULT_PRECEDENCE) if p in DEFAULT_PRECEDENCE]
        self.precedence = prec + [p for p in DEFAULT_PRECEDENCE if p not in prec]
        self.kube_version = pick_version(kubernetes_version)
        self.wanted_kube_version = kubernetes_version
        self._kube: KubeSchemas | None = None
        self._kube_loaded = False
        self._lookups: dict[tuple, list[Hit]] = {}
        self._has: dict[tuple, bool] = {}

    @property
    def kube(self) -> KubeSchemas | None:
        if not self._kube_loaded:
            self._kube = kube_schemas(self.kube_version)
            self._kube_loaded = True
        return self._kube

    def kube_label(self) -> str:
        return f"{self.kube_version[0]}.{self.kube_version[1]}" if self.kube_version else "?"

    def lookup(self, group: str, version: str, kind: str, scopes: set, *, operator: bool = False) -> list[Hit]:
        """Schemas for a document applied in ``scopes``; ``operator``: Flux there is
        installed by flux-operator (which patches the notification CRDs). The answer is
        the same for every document of a kind, version and set of scopes: memoised."""
        key = (group, version, kind, frozenset(scopes), operator)
        hits = self._lookups.get(key)
        if hits is None:
            hits = self._lookups[key] = self._lookup(group, version, kind, scopes, operator)
        return hits

    def has(self, group: str, version: str, kind: str, scopes: set, *, operator: bool = False) -> bool:
        """``bool(lookup(...))``, without compiling a schema: what a document outside a
        run's selection needs (whether its kind has a schema). Memoised as ``lookup``."""
        key = (group, version, kind, frozenset(scopes), operator)
        hits = self._lookups.get(key)
        if hits is not None:
            return bool(hits)
        found = self._has.get(key)
        if found is None:
            found = self._has[key] = self._exists(group, version, kind, scopes, operator)
        return found

    def _exists(self, group: str, version: str, kind: str, scopes: set, operator: bool) -> bool:
        for source in self.precedence:
            if source == "catalog":
                _same, unapplied, other = self.repo.tiers(group, kind, scopes)
                if any(c.has_node(version) for tier in (unapplied, other) for c in tier):
                    return True
                if self.crd_catalog.has_node(group, version, kind):
                    return True
            elif source == "repository":
                same, _unapplied, _other = self.repo.tiers(group, kind, scopes)
                if any(c.has_node(version) for c in same):
                    return True
            elif source == "bundled":
                if self.bundled.has_node(group, version, kind):
                    return True
            elif source == "kubernetes":
                if might_be_core(group):
                    kube = self.kube
                    if kube is not None and (group, version, kind) in kube.index:
                        return True
            elif self._from(source, group, version, kind, scopes, operator):
                return True
        return False

    def _lookup(self, group: str, version: str, kind: str, scopes: set, operator: bool) -> list[Hit]:
        for source in self.precedence:
            if source == "catalog":
                # a CRD the repository vendors, even for another cluster, is a real release
                # of the project: it goes before the catalog's schema of an unknown one
                _same, unapplied, other = self.repo.tiers(group, kind, scopes)
                for tier in (unapplied, other):
                    hits = self._crd_hits([c for c in tier if c.serves(version)], version)
                    if hits:
                        return hits
            hits = self._from(source, group, version, kind, scopes, operator)
            if hits:
                return hits
        return []

    def _crd_hits(self, crds: list[RepoCRD], version: str) -> list[Hit]:
        out = []
        seen: set[int] = set()
        for c in crds:
            node = c.node(version)
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            info = c.versions.get(version, {})
            dep = ""
            if info.get("deprecated"):
                dep = info.get("warning") or "deprecated"
            out.append(Hit(node, c.where, True, dep, c, source="repository"))
        return out

    def _from(self, source: str, group: str, version: str, kind: str, scopes: set, operator: bool) -> list[Hit]:
        if source == "locations":
            for loc in self.locations:
                node = loc.node(group, version, kind)
                if node is not None:
                    return [Hit(node, f"schema location `{loc.path}`", False, source="locations")]
            return []
        if source == "repository":
            same, _unapplied, _other = self.repo.tiers(group, kind, scopes)
            return self._crd_hits([c for c in same if c.serves(version)], version)
        if source == "bundled":
            node = self.bundled.node(group, version, kind, operator)
            return [Hit(node, f"the bundled Flux {self.bundled.flux} schema", source="bundled")] if node is not None else []
        if source == "catalog":
            node = self.crd_catalog.node(group, version, kind)
            if node is None:
                return []
            commit = self.crd_catalog.commit_of(group, version, kind)[:12]
            repo = self.crd_catalog.source.get("repository", "the CRD catalog")
            return [Hit(node, f"the bundled CRD catalog: {repo}@{commit}, release unknown", True, source="catalog")]
        if source == "kubernetes":
            if not might_be_core(group):
                return []  # a custom resource group: no need to load Kubernetes' schemas
            kube = self.kube
            if kube is None:
                return []
            node = kube.node(group, version, kind)
            return [Hit(node, f"Kubernetes {self.kube_label()}", False, source="kubernetes")] if node is not None else []
        return []
