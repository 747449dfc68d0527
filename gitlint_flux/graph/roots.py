"""Finding the roots: the objects through which Flux applies this repository to a cluster.

Each root is a cluster: `gotk-sync.yaml` (``flux bootstrap``), the bootstrap `flux-system`
directory, a FluxInstance's ``spec.sync``, a HelmRelease of the flux-instance chart, a
``roots:`` entry of the configuration, and, when none is found, the fallback.
"""

from __future__ import annotations

import os
import posixpath

from ..model import Document, YMap
from .scopes import LocalSource, Root, Scope
from .vocab import (
    HELM_GROUP, KUSTOMIZE_GROUP, OPERATOR_GROUP, SOURCE_GROUP, git_ref, is_flux_ks, norm_url, string_field as _s,
)
from ..model import Applied


class RootFinder:
    """The root-finding part of ``Graph`` (a mixin: it works on the graph's state)."""

    def _synthetic_doc(self, path: str, line: int, col: int, value: dict) -> Document:
        ym = _to_ymap(value, line, col)
        doc = Document(path, 0, ym, line, col, origin="synthetic")
        self._synthetic.append(doc)
        return doc

    def _synthetic_root(self, kind: str, anchor: Document | None, anchor_path: str, sync_path: str,
                        source_kind: str, url: str, ref: str, namespace: str = "flux-system",
                        where: tuple | None = None) -> None:
        line, col = (anchor.line, anchor.column) if anchor is not None else (1, 1)
        if where is not None:
            anchor_path, line, col = where
        if anchor is not None and kind in ("FluxInstance", "flux-instance-chart"):
            loc = anchor.loc("spec", "sync") if kind == "FluxInstance" else anchor.loc("spec", "values", "instance", "sync")
            line, col = loc.line, loc.column
        ks = self._synthetic_doc(anchor_path, line, col, {
            "apiVersion": f"{KUSTOMIZE_GROUP}/v1", "kind": "Kustomization",
            "metadata": {"name": "flux-system", "namespace": namespace},
            "spec": {"path": sync_path or "./", "sourceRef": {"kind": source_kind, "name": "flux-system"}},
        })
        src = self._synthetic_doc(anchor_path, line, col, {
            "apiVersion": f"{SOURCE_GROUP}/v1", "kind": source_kind,
            "metadata": {"name": "flux-system", "namespace": namespace},
            "spec": {"url": url, "ref": ref} if url else {},
        })
        self._add_root(kind, ks, src, anchor)

    def _add_root(self, kind: str, ks: Document, src: Document | None, anchor: Document | None = None) -> None:
        spec = ks.spec
        path = spec.get("path") if isinstance(spec.get("path"), str) else ""
        rel = posixpath.normpath(path.lstrip("/")) if path else "."
        name = rel if rel != "." else "(root)"
        for r in self.roots:
            if r.path == rel and r.applied.doc.kind == ks.kind:
                return
        base, i = name, 2
        while name in self.scopes:
            name = f"{base}#{i}"
            i += 1
        ns = ks.namespace or "flux-system"
        a = Applied(ks, ns, ks.name, name, None)
        scope = Scope(name, None)
        self.scopes[name] = scope
        source_key = None
        sref = spec.get("sourceRef")
        if isinstance(sref, dict):
            source_key = (_s(sref.get("kind"), "GitRepository"), _s(sref.get("namespace"), ns), _s(sref.get("name")))
        root = Root(a, kind, rel, source_key)
        scope.root = root
        self.roots.append(root)
        if src is not None and source_key is not None and src.kind in ("GitRepository", "Bucket"):
            sspec = src.spec
            self.local_sources.setdefault(source_key, LocalSource(
                source_key, "", self._matcher(sspec.get("ignore")),
                norm_url(sspec["url"]) if isinstance(sspec.get("url"), str) else "", git_ref(sspec)))
        root.source_doc = src
        root.anchor = anchor

    def find_roots(self) -> None:
        gotk_dirs: dict[str, list[SourceFile]] = {}
        for rel, sf in self.files.items():
            base = rel.rpartition("/")[2]
            if base in ("gotk-sync.yaml", "gotk-components.yaml") and sf.skip_reason is None:
                gotk_dirs.setdefault(rel.rpartition("/")[0], []).append(sf)
        for d, sfs in sorted(gotk_dirs.items()):
            found = False
            for sf in sfs:
                if not sf.path.endswith("gotk-sync.yaml"):
                    continue
                for doc in sf.documents:
                    if is_flux_ks(doc):
                        src = None
                        sref = doc.spec.get("sourceRef")
                        for other in sf.documents:
                            if (isinstance(sref, dict) and other.is_object and other.group == SOURCE_GROUP
                                    and other.kind == sref.get("kind") and other.name == sref.get("name")):
                                src = other
                        self._add_root("gotk-sync", doc, src)
                        found = True
            if not found:
                bootstrap_path = d.rpartition("/")[0] if d.rpartition("/")[2] == "flux-system" else d
                self._synthetic_root("bootstrap-dir", None, sfs[0].path, "./" + bootstrap_path if bootstrap_path else "./",
                                     "GitRepository", "", "")
        for doc in self.docs:
            if doc.kind == "FluxInstance" and doc.group == OPERATOR_GROUP:
                sync = doc.spec.get("sync")
                if isinstance(sync, dict) and isinstance(sync.get("path"), str):
                    self._root_from_sync("FluxInstance", doc, sync, doc.namespace or "flux-system")
            elif doc.kind == "HelmRelease" and doc.group == HELM_GROUP:
                values = doc.spec.get("values")
                inst = values.get("instance") if isinstance(values, dict) else None
                sync = inst.get("sync") if isinstance(inst, dict) else None
                if isinstance(sync, dict) and isinstance(sync.get("path"), str) and _is_flux_instance_chart(doc):
                    ns = doc.spec.get("targetNamespace") or doc.namespace or "flux-system"
                    self._root_from_sync("flux-instance-chart", doc, sync, ns if isinstance(ns, str) else "flux-system")
        for entry in self._config_roots:
            # a plain path, or (path, configuration file, line, column) to locate findings
            where = None
            if isinstance(entry, tuple):
                entry, where = entry[0], entry[1:]
            p = posixpath.normpath(str(entry).strip("/")) if str(entry).strip("/") else "."
            self._synthetic_root("config", None, p if p != "." else "", "./" + p if p != "." else "./",
                                 "GitRepository", "", "", where=where)
        for key, path in self._config_sources.items():
            parts = [p for p in str(key).split("/") if p]
            if len(parts) == 2:
                parts = ["GitRepository"] + parts
            if len(parts) == 3:
                d = posixpath.normpath(str(path).strip("/")) if str(path).strip("/") else "."
                self.local_sources[tuple(parts)] = LocalSource(tuple(parts), "" if d == "." else d, self._matcher(None))

    def _root_from_sync(self, kind: str, doc: Document, sync: dict, ns: str) -> None:
        skind = sync.get("kind") if isinstance(sync.get("kind"), str) else "GitRepository"
        url = sync.get("url") if isinstance(sync.get("url"), str) else ""
        ref = sync.get("ref") if isinstance(sync.get("ref"), str) else ""
        self._synthetic_root(kind, doc, doc.path, sync["path"], skind, url, ref, ns)

    # ------------------------------------------------------------------ fallback roots

    def fallback_roots(self) -> None:
        """No root found: Kustomizations nothing else applies become roots; every
        GitRepository source is taken to be this repository."""
        self.fallback = True
        kss = [d for d in self.docs if is_flux_ks(d)]
        applied_by_other: set[int] = set()
        for ks in kss:
            spec = ks.spec
            sref = spec.get("sourceRef")
            if not isinstance(sref, dict) or _s(sref.get("kind"), "GitRepository") != "GitRepository":
                continue
            path = spec.get("path") if isinstance(spec.get("path"), str) else "./"
            rel = posixpath.normpath(path.lstrip("/")) if path.strip("/.") else "."
            rel_dir = "" if rel == "." else rel
            if not self.resolver.contained(rel) or not os.path.isdir(self.resolver.abspath(rel_dir)):
                continue
            for b in self.resolver.flux_build(rel_dir, ks, self._matcher(None)):
                if b.doc is not ks:
                    applied_by_other.add(id(b.doc))
        for ks in kss:
            if id(ks) in applied_by_other:
                continue
            sref = ks.spec.get("sourceRef")
            if isinstance(sref, dict) and _s(sref.get("kind"), "GitRepository") == "GitRepository":
                key = ("GitRepository", _s(sref.get("namespace"), ks.namespace or "default"), _s(sref.get("name")))
                self.local_sources.setdefault(key, LocalSource(key, "", self._matcher(None)))
            ns = ks.namespace or "default"
            name = ks.path
            a = Applied(ks, ns, ks.name, name, None)
            scope = Scope(name, None)
            self.scopes[name] = scope
            src_key = None
            if isinstance(sref, dict):
                src_key = (_s(sref.get("kind")), _s(sref.get("namespace"), ns), _s(sref.get("name")))
            root = Root(a, "fallback", ks.path, src_key)
            scope.root = root
            self.roots.append(root)


def _is_flux_instance_chart(doc: Document) -> bool:
    spec = doc.spec
    chart = spec.get("chart")
    if isinstance(chart, dict):
        cs = chart.get("spec")
        if isinstance(cs, dict) and isinstance(cs.get("chart"), str) and cs["chart"].rstrip("/").endswith("flux-instance"):
            return True
    cref = spec.get("chartRef")
    if isinstance(cref, dict) and isinstance(cref.get("name"), str) and "flux-instance" in cref["name"]:
        return True
    return doc.name == "flux-instance"


def _to_ymap(value, line, col):
    if isinstance(value, dict):
        m = YMap(line, col)
        for k, v in value.items():
            m[k] = _to_ymap(v, line, col)
            m.pos[k] = (line, col, line, col, line, col)
        return m
    return value


