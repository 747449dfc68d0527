"""Finding the roots: the objects through which Flux applies this repository to a cluster.

Each root is a cluster: `gotk-sync.yaml` (``flux bootstrap``), the bootstrap `flux-system`
directory, a FluxInstance's ``spec.sync``, a HelmRelease of the flux-instance chart, a
``roots:`` entry of the configuration, and, when none is found, the fallback.
"""

from __future__ import annotations

import os
import posixpath

from ..model import Document, Problem, SourceFile, YMap, resource_of
from .scopes import LocalSource, Root, Scope
from .vocab import FALLBACK
from .vocab import (
    HELM_GROUP, KUSTOMIZE_GROUP, OPERATOR_GROUP, SOURCE_GROUP, git_ref, is_flux_ks, list_field as _list, norm_url,
    string_field as _s,
)
from ..model import Applied


class RootFinder:
    """The root-finding part of ``Graph`` (a mixin: it works on the graph's state)."""

    def _synthetic_doc(self, path: str, line: int, col: int, value: dict) -> Document:
        def make() -> Document:
            return Document(path, 0, _to_ymap(value, line, col), line, col, origin="synthetic")

        if self.memo is None:
            doc = make()
        else:  # the document of the check before when it says the same (the builds it roots are kept)
            import json

            doc = self.memo.get("synthetic", (), (path, line, col, json.dumps(value)), make)
        self._synthetic.append(doc)
        return doc

    def _synthetic_root(self, kind: str, anchor: Document | None, anchor_path: str, sync_path: str,
                        source_kind: str, url: str, ref: str, namespace: str = "flux-system",
                        where: tuple | None = None, name: str = "flux-system", sync_at: tuple = ()) -> None:
        line, col = (anchor.line, anchor.column) if anchor is not None else (1, 1)
        if where is not None:
            anchor_path, line, col = where
        if anchor is not None and sync_at:
            loc = anchor.loc(*sync_at)
            line, col = loc.line, loc.column
        ks = self._synthetic_doc(anchor_path, line, col, {
            "apiVersion": f"{KUSTOMIZE_GROUP}/v1", "kind": "Kustomization",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"path": sync_path or "./", "sourceRef": {"kind": source_kind, "name": name}},
        })
        src_spec: dict = {}
        if url:
            src_spec["url"] = url
            if source_kind == "GitRepository":
                src_spec["ref"] = {"name": ref} if ref.startswith("refs/") else ({"branch": ref} if ref else {})
            elif source_kind == "OCIRepository" and ref:
                src_spec["ref"] = {"digest": ref} if ref.startswith("sha256:") else {"tag": ref}
        src = self._synthetic_doc(anchor_path, line, col, {
            "apiVersion": f"{SOURCE_GROUP}/v1", "kind": source_kind,
            "metadata": {"name": name, "namespace": namespace},
            "spec": src_spec,
        })
        self._add_root(kind, ks, src, anchor, sync_at)

    def _add_root(self, kind: str, ks: Document, src: Document | None, anchor: Document | None = None,
                  sync_at: tuple = ()) -> None:
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
        elif src is not None and source_key is not None and src.kind == "OCIRepository" \
                and source_key not in self.local_sources:
            self._oci_roots.append(root)
        root.source_doc = src
        root.anchor = anchor
        root.sync_at = sync_at

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
                # flux-operator renders the sync objects only when `sync.url` is set
                if isinstance(sync, dict) and isinstance(sync.get("url"), str) and sync["url"]:
                    self._root_from_sync("FluxInstance", doc, sync, doc.namespace or "flux-system", ("spec", "sync"))
            elif doc.kind == "HelmRelease" and doc.group == HELM_GROUP and self._is_flux_instance_chart(doc):
                values, at = self.chart_values(doc)
                inst = values.get("instance") if isinstance(values, dict) else None
                sync = inst.get("sync") if isinstance(inst, dict) else None
                if isinstance(sync, dict) and isinstance(sync.get("url"), str) and sync["url"]:
                    ns = doc.spec.get("targetNamespace") or doc.namespace or "flux-system"
                    self._root_from_sync("flux-instance-chart", doc, sync, ns if isinstance(ns, str) else "flux-system",
                                         at)
        # a ResourceSet that renders the instance (its FluxInstance, or the flux-instance
        # chart's HelmRelease) is where the cluster's root is defined
        for rs in [d for d in self.docs if d.kind == "ResourceSet" and d.group == OPERATOR_GROUP]:
            providers = [d.value for d in self.docs if d.kind == "ResourceSetInputProvider"
                         and d.group == OPERATOR_GROUP and d.namespace == rs.namespace]
            for doc in self.rendered_docs(rs, rs.value, providers)[0]:
                if doc.kind == "FluxInstance" and doc.group == OPERATOR_GROUP:
                    sync = doc.spec.get("sync")
                    if isinstance(sync, dict) and isinstance(sync.get("url"), str) and sync["url"]:
                        self._root_from_sync("FluxInstance", doc, sync, doc.namespace or rs.namespace or "flux-system",
                                             ("spec", "sync"))
                elif doc.kind == "HelmRelease" and doc.group == HELM_GROUP and self._is_flux_instance_chart(doc):
                    values, at = self.chart_values(doc)
                    inst = values.get("instance") if isinstance(values, dict) else None
                    sync = inst.get("sync") if isinstance(inst, dict) else None
                    if isinstance(sync, dict) and isinstance(sync.get("url"), str) and sync["url"]:
                        ns = doc.spec.get("targetNamespace") or doc.namespace or rs.namespace or "flux-system"
                        self._root_from_sync("flux-instance-chart", doc, sync, ns if isinstance(ns, str) else
                                             "flux-system", at)
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
                self.local_sources[tuple(parts)] = LocalSource(tuple(parts), "" if d == "." else d, self._matcher(None),
                                                               reason="`sources:` in the configuration")
                self._config_source_keys.add(tuple(parts))

    def _root_from_sync(self, kind: str, doc: Document, sync: dict, ns: str, at: tuple) -> None:
        """The source and Kustomization flux-operator creates for an instance's ``sync``:
        named ``sync.name`` (default: the instance's namespace), of ``sync.kind``
        (default GitRepository), in the instance's namespace."""
        skind = sync.get("kind") if isinstance(sync.get("kind"), str) and sync.get("kind") else "GitRepository"
        url = sync.get("url") if isinstance(sync.get("url"), str) else ""
        ref = sync.get("ref") if isinstance(sync.get("ref"), str) else ""
        path = sync.get("path") if isinstance(sync.get("path"), str) else "./"
        name = sync.get("name") if isinstance(sync.get("name"), str) and sync.get("name") else ns
        self._synthetic_root(kind, doc, doc.path, path, skind, url, ref, ns, name=name, sync_at=at)

    # ------------------------------------------------------------------ self-applying Kustomizations

    def self_applying_roots(self) -> None:
        """A Flux Kustomization that nothing in the tree applies and whose own `spec.path`
        covers the file that defines it (the "cluster" Kustomization that `kubectl apply -k`
        or a bootstrap script installs once) is the root of its own cluster, also when
        other roots exist elsewhere in the tree."""
        new = []
        for ks in [d for d in self.docs if is_flux_ks(d)]:
            if self.applied(ks):
                continue
            spec = ks.spec
            sref = spec.get("sourceRef")
            if not isinstance(sref, dict) or _s(sref.get("kind"), "GitRepository") not in ("GitRepository",
                                                                                          "OCIRepository"):
                continue
            path = spec.get("path") if isinstance(spec.get("path"), str) else "./"
            rel = posixpath.normpath(path.lstrip("/")) if path.strip("/.") else "."
            rel_dir = "" if rel == "." else rel
            if not ks.path.startswith(rel_dir + "/" if rel_dir else "") or not self.resolver.contained(rel) \
                    or not os.path.isdir(self.resolver.abspath(rel_dir)):
                continue
            if not any(b.doc is ks for b in self.resolver.flux_build(rel_dir, ks, self._matcher(None))):
                continue
            ns = ks.namespace or "default"
            key = (_s(sref.get("kind"), "GitRepository"), _s(sref.get("namespace"), ns), _s(sref.get("name")))
            self.local_sources.setdefault(key, LocalSource(key, "", self._matcher(None), reason=(
                "a self-applying Kustomization's source: taken to be this repository")))
            before = len(self.roots)
            self._add_root("self-applying", ks, None)
            if len(self.roots) > before:
                new.append(self.roots[-1])
        if new:
            self.walk(new)

    # ------------------------------------------------------------------ sources pushed as OCI artifacts

    def map_oci_roots(self) -> None:
        """A root synced from an OCIRepository syncs this repository's content pushed as an
        artifact (`flux push artifact --path=DIR`): find DIR, the directory of the checkout
        under which the sync path and the paths of the Kustomizations it applies resolve,
        and map the source to it. `sources:` in the configuration always wins."""
        dirs = self.dirs()
        for root in self._oci_roots:
            key = root.source_key
            if key in self.local_sources:
                continue
            sync = root.path if root.path != "." else ""
            candidates = sorted(d for d in dirs if posixpath.join(d, sync).rstrip("/") in dirs or (not sync and True))
            if not sync:
                candidates = [""]
            scored = [(self._oci_score(d, root), d) for d in candidates]
            best = max((sc for sc, _ in scored), default=-1)
            fits = [d for sc, d in scored if sc == best and sc >= 0]
            doc = root.anchor or root.applied.doc
            loc = doc.loc(*root.sync_at) if root.anchor is not None and root.sync_at else doc.loc()
            name = "/".join(key)
            if len(fits) == 1:
                self.local_sources[key] = LocalSource(key, fits[0], self._matcher(None), reason=(
                    f"the sync path `{sync or '.'}` and the paths it applies resolve under `{fits[0] or '.'}`"))
                continue
            if fits:
                shown = ", ".join(f"`{d or '.'}`" for d in fits[:4])
                msg = (f"the OCI artifact that {name} syncs could be any of these directories: {shown}; its "
                       "Kustomizations are not resolved in this checkout")
                hint = f"Say which in .gitlint-flux.yaml: `sources: {{{name}: {fits[0] or '.'}}}`."
            else:
                msg = (f"no directory of this checkout holds the sync path `{sync or '.'}` of the OCI artifact that "
                       f"{name} syncs; its Kustomizations are not resolved in this checkout")
                hint = f"If the artifact is pushed from this repository, say from where: `sources: {{{name}: DIR}}`."
            self.problems.append(Problem("oci-source", doc.path, loc.line, loc.column, msg, hint=hint,
                                         resource=resource_of(doc)))

    def _oci_score(self, d: str, root) -> int:
        """How well directory ``d`` explains an OCI root: -1 when the sync path is not under
        it, else the number of Kustomization paths (of the sync path's Kustomizations that
        use the same source) that resolve under it."""
        sync = root.path if root.path != "." else ""
        base = posixpath.join(d, sync).rstrip("/") if sync else d
        if base and not os.path.isdir(self.resolver.abspath(base)):
            return -1
        score = 0
        prefix = (base + "/") if base else ""
        for rel, sf in self.files.items():
            if not rel.startswith(prefix) or sf.skip_reason is not None:
                continue
            for doc in sf.documents:
                if not is_flux_ks(doc):
                    continue
                sref = doc.spec.get("sourceRef")
                if not isinstance(sref, dict) or _s(sref.get("kind")) != root.source_key[0] or \
                        _s(sref.get("name")) != root.source_key[2]:
                    continue
                path = doc.spec.get("path")
                if isinstance(path, str) and path.strip("./"):
                    target = posixpath.normpath(posixpath.join(d, path.lstrip("/")))
                    score += 1 if os.path.isdir(self.resolver.abspath(target)) else -1000
        return score

    # ------------------------------------------------------------------ the flux-instance chart

    def _is_flux_instance_chart(self, doc: Document) -> bool:
        """A HelmRelease of the flux-instance chart: by its chart name, by a `chartRef` to an
        OCIRepository whose URL ends in `flux-instance`, or by its own name."""
        spec = doc.spec
        chart = spec.get("chart")
        if isinstance(chart, dict):
            cs = chart.get("spec")
            if isinstance(cs, dict) and isinstance(cs.get("chart"), str) and \
                    cs["chart"].rstrip("/").rpartition("/")[2] == "flux-instance":
                return True
        cref = spec.get("chartRef")
        if isinstance(cref, dict) and isinstance(cref.get("name"), str):
            ns = _s(cref.get("namespace"), doc.namespace or "flux-system")
            if self._oci_by_name is None:
                self._oci_by_name = {}
                for d in self.docs:
                    if d.kind == "OCIRepository" and d.group == SOURCE_GROUP:
                        self._oci_by_name.setdefault(d.name, []).append(d)
            for d in self._oci_by_name.get(cref["name"], ()):
                if (d.namespace or ns) == ns:
                    url = d.spec.get("url")
                    if isinstance(url, str) and url.rstrip("/").rpartition("/")[2] == "flux-instance":
                        return True
            if "flux-instance" in cref["name"]:
                return True
        return doc.name == "flux-instance"

    def chart_values(self, doc: Document) -> tuple[dict, tuple]:
        """A HelmRelease's values as helm-controller merges them: each `valuesFrom` entry in
        order (its `valuesKey`, default `values.yaml`, or at `targetPath`), then
        `spec.values` on top; and the field path that locates `instance.sync`."""
        merged: dict = {}
        at: tuple = ("spec", "values", "instance", "sync")
        for i, vf in enumerate(_list(doc.spec.get("valuesFrom"))):
            if not isinstance(vf, dict) or not isinstance(vf.get("name"), str):
                continue
            kind = vf.get("kind") if vf.get("kind") in ("ConfigMap", "Secret") else "ConfigMap"
            key = vf.get("valuesKey") if isinstance(vf.get("valuesKey"), str) and vf.get("valuesKey") else "values.yaml"
            text = self._values_source(kind, doc.namespace or "flux-system", vf["name"], key)
            if text is None:
                continue
            if isinstance(vf.get("targetPath"), str) and vf["targetPath"]:
                value: dict = {}
                node = value
                parts = vf["targetPath"].split(".")
                for part in parts[:-1]:
                    node = node.setdefault(part, {})
                node[parts[-1]] = text
                merged = _deep_merge(merged, value)
                continue
            from ..yamlcompose import compose_all

            docs, errors = compose_all(text)
            if errors or not docs or not isinstance(docs[0][0], dict):
                continue
            values = docs[0][0]
            if isinstance(values.get("instance"), dict) and "sync" in values["instance"]:
                at = ("spec", "valuesFrom", i)
            merged = _deep_merge(merged, values)
        inline = doc.spec.get("values")
        if isinstance(inline, dict):
            merged = _deep_merge(merged, inline)
            if isinstance(inline.get("instance"), dict) and "sync" in inline["instance"]:
                at = ("spec", "values", "instance", "sync")
        return merged, at

    def _values_source(self, kind: str, namespace: str, name: str, key: str) -> str | None:
        """The text under ``key`` of a ConfigMap or Secret of the tree (a committed one, or
        one a kustomization generates from a file), found by name."""
        import base64

        for d in self.docs:
            if d.kind == kind and d.group == "" and d.name == name:
                for section in ("data", "stringData"):
                    data = d.value.get(section) if isinstance(d.value, dict) else None
                    if isinstance(data, dict) and isinstance(data.get(key), str):
                        if section == "data" and kind == "Secret":
                            try:
                                return base64.b64decode(data[key]).decode("utf-8")
                            except ValueError:
                                return None
                        return data[key]
        for kdir, sf in sorted(self.resolver.kfiles.items()):
            kdoc = next((d for d in sf.documents if isinstance(d.value, dict)), None)
            gens = kdoc.value.get("configMapGenerator" if kind == "ConfigMap" else "secretGenerator") if kdoc else None
            for g in gens if isinstance(gens, list) else ():
                if not isinstance(g, dict) or g.get("name") != name:
                    continue
                for f in _list(g.get("files")):
                    if not isinstance(f, str):
                        continue
                    fkey, eq, fpath = f.partition("=")
                    if not eq:
                        fkey, fpath = f.rpartition("/")[2], f
                    if fkey.strip() != key:
                        continue
                    rel = posixpath.normpath(posixpath.join(kdir, fpath.strip()))
                    fsf = self.files.get(rel)
                    if fsf is not None and fsf.text is not None:
                        return fsf.text
        return None

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
        scope = Scope(FALLBACK, None)
        for ks in kss:
            if id(ks) in applied_by_other:
                continue
            sref = ks.spec.get("sourceRef")
            if isinstance(sref, dict) and _s(sref.get("kind"), "GitRepository") == "GitRepository":
                key = ("GitRepository", _s(sref.get("namespace"), ks.namespace or "default"), _s(sref.get("name")))
                self.local_sources.setdefault(key, LocalSource(key, "", self._matcher(None), reason=(
                    "no root was found: every GitRepository is taken to be this repository")))
            ns = ks.namespace or "default"
            # one cluster holds every Kustomization that nothing applies, so that their
            # references to each other resolve
            self.scopes[FALLBACK] = scope
            a = Applied(ks, ns, ks.name, FALLBACK, None)
            src_key = None
            if isinstance(sref, dict):
                src_key = (_s(sref.get("kind")), _s(sref.get("namespace"), ns), _s(sref.get("name")))
            path = ks.spec.get("path") if isinstance(ks.spec.get("path"), str) else "./"
            root = Root(a, "fallback", posixpath.normpath(path.lstrip("/")) if path.strip("/.") else ".", src_key)
            if scope.root is None:
                scope.root = root
            self.roots.append(root)

    def fallback_config(self) -> dict:
        """The configuration that would make a fallback run exact: the directories of the
        Kustomizations taken as roots as `roots:`, and each GitRepository they use as this
        repository under `sources:`."""
        roots = sorted({r.applied.doc.path.rpartition("/")[0] or "." for r in self.roots if r.kind == "fallback"})
        sources = {}
        for r in self.roots:
            if r.kind == "fallback" and r.source_key and r.source_key[0] == "GitRepository":
                sources["/".join(r.source_key)] = "."
        return {"roots": roots, "sources": dict(sorted(sources.items()))}


def _deep_merge(base: dict, over: dict) -> dict:
    """Helm's values merge: mappings merge recursively, anything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _to_ymap(value, line, col):
    if isinstance(value, dict):
        m = YMap(line, col)
        for k, v in value.items():
            m[k] = _to_ymap(v, line, col)
            m.pos[k] = (line, col, line, col, line, col)
        return m
    return value


