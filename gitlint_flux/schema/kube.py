"""Kubernetes core kinds from kubernetes-validate's bundled schema files.

kubernetes-validate ships, per Kubernetes minor version, ``v{X.Y}.0-local-strict/``:
one ``_definitions.json`` with every type of the OpenAPI document (``$defs``, strict:
``additionalProperties: false``) and a file per kind that only refers into it. We read
``_definitions.json`` alone, once per run and only when a document needs a core kind,
index its ``x-kubernetes-group-version-kind`` entries, and compile each definition the
first time a document needs it (``$ref``s resolved once, recursive types become cyclic
nodes). The package is located without importing it (its import pulls in jsonschema),
and its own ``validate()`` is never called.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from functools import lru_cache

from .nodes import Compiler, Node

_DIR_RE = re.compile(r"^v(\d+)\.(\d+)\.(\d+)-local-strict$")
_NOT_MANIFEST = frozenset(("DeleteOptions", "WatchEvent", "Status", "APIGroup", "APIGroupList", "APIResourceList",
                           "APIVersions"))


@lru_cache(maxsize=1)
def schema_root() -> str | None:
    """``.../kubernetes_validate/kubernetes-json-schema`` or None when not installed."""
    try:
        spec = importlib.util.find_spec("kubernetes_validate")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        d = os.path.join(loc, "kubernetes-json-schema")
        if os.path.isdir(d):
            return d
    return None


@lru_cache(maxsize=1)
def available_versions() -> tuple[tuple[int, int], ...]:
    root = schema_root()
    if root is None:
        return ()
    out = []
    for name in os.listdir(root):
        m = _DIR_RE.match(name)
        if m and os.path.isfile(os.path.join(root, name, "_definitions.json")):
            out.append((int(m.group(1)), int(m.group(2))))
    return tuple(sorted(out))


def parse_version(v: str | None) -> tuple[int, int] | None:
    if not v:
        return None
    m = re.match(r"^v?(\d+)\.(\d+)", str(v).strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def pick_version(wanted: str | None) -> tuple[int, int] | None:
    """The bundled version for ``wanted`` (newest not newer than it; default the newest)."""
    versions = available_versions()
    if not versions:
        return None
    w = parse_version(wanted)
    if w is None:
        return versions[-1]
    older = [v for v in versions if v <= w]
    return older[-1] if older else versions[0]


class KubeSchemas:
    """The core kinds of one Kubernetes version."""

    def __init__(self, version: tuple[int, int]):
        self.version = version
        path = os.path.join(schema_root() or "", f"v{version[0]}.{version[1]}.0-local-strict", "_definitions.json")
        with open(path, encoding="utf-8") as fh:
            self.defs: dict = json.load(fh).get("$defs", {})
        self.index: dict[tuple[str, str, str], str] = {}
        self.groups: set[str] = set()
        self.group_versions: set[tuple[str, str]] = set()
        for name, d in self.defs.items():
            gvks = d.get("x-kubernetes-group-version-kind")
            if not isinstance(gvks, list):
                continue
            for g in gvks:
                if not isinstance(g, dict):
                    continue
                group, ver, kind = g.get("group", ""), g.get("version", ""), g.get("kind", "")
                self.groups.add(group)
                self.group_versions.add((group, ver))
                if kind in _NOT_MANIFEST:
                    continue
                self.index.setdefault((group, ver, kind), name)
        self._compiler = Compiler(self._load)
        self._nodes: dict[str, Node] = {}

    def _load(self, ref: str, base):
        name = ref.rsplit("/", 1)[-1]
        target = self.defs.get(name)
        if target is None:
            return {}, base
        return target, base

    def node(self, group: str, version: str, kind: str) -> Node | None:
        name = self.index.get((group, version, kind))
        if name is None:
            return None
        hit = self._nodes.get(name)
        if hit is None:
            hit = self._compiler.compile(self.defs[name])
            meta = (hit.props or {}).get("metadata")
            if meta is not None:
                meta.meta = True
            self._nodes[name] = hit
        return hit

    def kinds_of(self, group: str, version: str | None = None) -> list[str]:
        return sorted({k for (g, v, k) in self.index if g == group and (version is None or v == version)})

    def versions_of(self, group: str, kind: str) -> list[str]:
        return sorted(v for (g, v, k) in self.index if g == group and k == kind)


_CACHE: dict[tuple[int, int], KubeSchemas] = {}


def kube_schemas(version: tuple[int, int] | None) -> KubeSchemas | None:
    if version is None:
        return None
    hit = _CACHE.get(version)
    if hit is None:
        try:
            hit = KubeSchemas(version)
        except (OSError, ValueError):
            return None
        _CACHE[version] = hit
    return hit
