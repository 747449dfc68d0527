"""The Flux graph: roots, scopes, what each Flux Kustomization applies, and the
references between Flux objects, resolved with Flux's namespace defaulting rules."""

from __future__ import annotations

import os
import posixpath
import re
import stat as stat_mod
from collections import deque
from dataclasses import dataclass, field

from .ignore import SOURCE_DEFAULT_PATTERNS, Matcher, Pattern, parse_patterns
from .kustomize import Resolver, images_of as _images
from .transform import apply_flux_patches, substitute, substitute_text, substitution_disabled
from .model import (
    DANGLING, EXTERNAL, RESOLVED, Applied, Document, Edge, ObjKey, Problem, Related, SourceFile, YMap,
    resource_of,
)

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
NOTIFICATION_GROUP = "notification.toolkit.fluxcd.io"
IMAGE_GROUP = "image.toolkit.fluxcd.io"
OPERATOR_GROUP = "fluxcd.controlplane.io"
FLUX_GROUPS = {
    SOURCE_GROUP: {"GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket", "ExternalArtifact"},
    KUSTOMIZE_GROUP: {"Kustomization"},
    HELM_GROUP: {"HelmRelease"},
    NOTIFICATION_GROUP: {"Alert", "Provider", "Receiver"},
    IMAGE_GROUP: {"ImageRepository", "ImagePolicy", "ImageUpdateAutomation"},
    OPERATOR_GROUP: {"FluxInstance", "ResourceSet", "ResourceSetInputProvider", "FluxReport"},
    "source.extensions.fluxcd.io": {"ArtifactGenerator"},
}
NOT_APPLIED = "(not applied)"
BOOTSTRAP_SECRETS = {("flux-system", "flux-system")}

_LAYER_RE = re.compile(r"^(\d{1,3})-([A-Za-z0-9][\w.-]*)$")
_GENERIC_LAYERS = {
    "clusters": 0, "cluster": 0, "bootstrap": 0, "flux": 0,
    "infrastructure": 1, "infra": 1, "platform": 1, "core": 1, "components": 1,
    "apps": 2, "applications": 2, "tenants": 2, "workloads": 2,
}


def is_flux(doc: Document) -> bool:
    return doc.kind in FLUX_GROUPS.get(doc.group, ())


def is_flux_ks(doc: Document) -> bool:
    return doc.kind == "Kustomization" and doc.group == KUSTOMIZE_GROUP


@dataclass(frozen=True)
class Layer:
    order: int | None
    name: str

    def __str__(self) -> str:
        return self.name


def layer_of(path: str) -> Layer | None:
    """The layer a path belongs to: ``0N-<name>`` directories (ordered), else a generic
    top-level layout directory."""
    parts = path.split("/")
    for p in parts[:-1]:
        m = _LAYER_RE.match(p)
        if m:
            return Layer(int(m.group(1)), p)
    dirs = parts[:-1]
    if dirs and dirs[0] == "kubernetes" and len(dirs) > 1:
        dirs = dirs[1:]
    if dirs:
        if dirs[0] in ("clusters", "cluster") and len(dirs) > 1:
            return Layer(None, f"{dirs[0]}/{dirs[1]}")
        if dirs[0] in _GENERIC_LAYERS:
            return Layer(None, dirs[0])
    return None


def norm_url(url: str) -> str:
    u = url.strip().lower()
    u = re.sub(r"^[a-z+]+://", "", u)
    u = re.sub(r"^[^@/]+@", "", u)
    if ":" in u.split("/", 1)[0]:
        host, _, rest = u.partition(":")
        if not rest.split("/", 1)[0].isdigit():
            u = f"{host}/{rest}"
        else:
            u = f"{host}/{rest.split('/', 1)[1] if '/' in rest else ''}"
    u = u.rstrip("/")
    if u.endswith(".git"):
        u = u[:-4]
    return u


def git_ref(spec: dict) -> str:
    ref = spec.get("ref")
    if not isinstance(ref, dict):
        return "branch:master"
    for k in ("commit", "name", "semver", "tag", "branch"):
        v = ref.get(k)
        if isinstance(v, str) and v:
            if k == "name" and v.startswith("refs/heads/"):
                return "branch:" + v[len("refs/heads/"):]
            return f"{k}:{v}"
    return "branch:master"


@dataclass(eq=False)
class Root:
    applied: Applied
    kind: str  # gotk-sync, bootstrap-dir, FluxInstance, flux-instance-chart, config, fallback
    path: str  # root-relative dir it applies
    source_key: tuple | None  # (kind, ns, name) of its source
    source_doc: Document | None = None


@dataclass(eq=False)
class Scope:
    name: str
    root: Root | None
    applied: list[Applied] = field(default_factory=list)
    index: dict[tuple, list[Applied]] = field(default_factory=dict)  # (kind, ns, name)
    parent: str | None = None
    _by_kind: dict[str, list[Applied]] | None = field(default=None, repr=False, compare=False)

    def add(self, a: Applied) -> None:
        self.applied.append(a)
        self.index.setdefault((a.doc.kind, a.namespace, a.name), []).append(a)
        self._by_kind = None

    def find(self, kind: str, namespace: str, name: str) -> list[Applied]:
        return self.index.get((kind, namespace, name), [])

    def of_kind(self, kind: str) -> list[Applied]:
        if self._by_kind is None:
            by: dict[str, list[Applied]] = {}
            for a in self.applied:
                by.setdefault(a.doc.kind, []).append(a)
            self._by_kind = by
        return self._by_kind.get(kind, [])


@dataclass
class LocalSource:
    key: tuple
    dir: str  # root-relative directory the source's root maps to ("" = the root)
    matcher: Matcher
    url: str = ""
    ref: str = ""


class Graph:
    def __init__(self, root: str, files: dict[str, SourceFile], config_roots=(), config_sources=None,
                 sourceignores: list[str] | None = None):
        self.root = root
        self.files = files
        self.problems: list[Problem] = []
        self.scopes: dict[str, Scope] = {}
        self.roots: list[Root] = []
        self.edges: list[Edge] = []
        self.applied_by_doc: dict[int, list[Applied]] = {}
        self.fallback = False
        self.external_paths: list[tuple[Applied, str]] = []  # (ks, reason)
        self.ks_paths: dict[int, str] = {}  # id(ks doc) -> resolved dir
        self.docs = [d for sf in files.values() if sf.skip_reason is None for d in sf.documents if d.is_resource]
        cluster_kinds = set()
        for d in self.docs:
            if d.kind == "CustomResourceDefinition":
                names = d.spec.get("names")
                if d.spec.get("scope") == "Cluster" and isinstance(names, dict) and isinstance(names.get("kind"), str):
                    cluster_kinds.add(names["kind"])
        self.cluster_kinds = cluster_kinds
        self.resolver = Resolver(root, files, cluster_kinds)
        self._sourceignore = self._load_sourceignores(sourceignores)
        self.local_sources: dict[tuple, LocalSource] = {}
        self._config_sources = config_sources or {}
        self._config_roots = list(config_roots)
        self._synthetic: list[Document] = []

    # ------------------------------------------------------------------ setup

    def _load_sourceignores(self, paths: list[str] | None) -> list[Pattern]:
        pats: list[Pattern] = []
        for p in SOURCE_DEFAULT_PATTERNS:
            pats.extend(parse_patterns(p))
        if paths is None:
            paths = []
            for dirpath, _dirs, names in os.walk(self.root):
                if ".git" in _dirs:
                    _dirs.remove(".git")
                if ".sourceignore" in names:
                    paths.append(os.path.relpath(os.path.join(dirpath, ".sourceignore"), self.root).replace(os.sep, "/"))
        for rel in sorted(paths):
            base = rel.rpartition("/")[0]
            full = os.path.join(self.root, rel)
            try:
                st = os.stat(full)
                # a regular file inside the repository, of a sane size (not a FIFO, not a
                # link out of the repository, not a generated 60 MB file)
                if not stat_mod.S_ISREG(st.st_mode) or st.st_size > 1024 * 1024 or not self.resolver.contained(rel):
                    continue
                with open(full, encoding="utf-8", errors="replace") as fh:
                    pats.extend(parse_patterns(fh.read(), base))
            except OSError:
                pass
        return pats

    def _matcher(self, spec_ignore) -> Matcher:
        pats = list(self._sourceignore)
        if isinstance(spec_ignore, str):
            pats.extend(parse_patterns(spec_ignore))
        return Matcher(pats)

    def is_cluster_scoped(self, kind: str) -> bool:
        return kind in self.resolver.cluster_kinds

    # ------------------------------------------------------------------ roots

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
        self._add_root(kind, ks, src)

    def _add_root(self, kind: str, ks: Document, src: Document | None) -> None:
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

    # ------------------------------------------------------------------ walk

    def _register(self, scope: Scope, a: Applied) -> None:
        scope.add(a)
        self.applied_by_doc.setdefault(id(a.doc), []).append(a)

    def _scope_for(self, scope: Scope, ks: Applied) -> Scope:
        kc = ks.doc.spec.get("kubeConfig")
        if not isinstance(kc, dict):
            return scope
        sr = kc.get("secretRef")
        secret = sr.get("name") if isinstance(sr, dict) else None
        # remote clusters are named from the root cluster, never nested: a Kustomization
        # that (re)applies itself through a kubeConfig must not create clusters forever
        home = scope
        while home.parent is not None:
            home = self.scopes[home.parent]
        name = f"{home.name} -> {ks.namespace}/{secret or 'kubeconfig'}"
        if name not in self.scopes:
            self.scopes[name] = Scope(name, None, parent=home.name)
        return self.scopes[name]

    def _local(self, key: tuple) -> LocalSource | None:
        return self.local_sources.get(key)

    def walk(self) -> None:
        pending: list[tuple[Scope, Applied]] = []
        done: set[tuple] = set()
        queue: deque[tuple[Scope, Applied]] = deque()
        for r in self.roots:
            queue.append((self.scopes[r.applied.scope], r.applied))
        while True:
            while queue:
                scope, ks = queue.popleft()
                dkey = (scope.name, id(ks.doc), ks.namespace, ks.name)
                if dkey in done:
                    continue
                result = self._apply(scope, ks)
                if result is None:
                    pending.append((scope, ks))
                    continue
                done.add(dkey)
                for a in result:
                    if is_flux_ks(a.doc):
                        queue.append((self.scopes[a.scope], a))
            # a GitRepository applied meanwhile may point at this repository
            progressed = self._discover_local_sources()
            if not progressed or not pending:
                break
            queue.extend(pending)
            pending = []
        for scope, ks in pending:
            self._note_external(ks, "its source is not this repository")
        # a root (and its source) is part of its scope even when its path does not
        # include the file that defines it
        for r in self.roots:
            scope = self.scopes[r.applied.scope]
            for doc in (r.applied.doc, r.source_doc):
                if doc is None:
                    continue
                if not any(a.scope == scope.name for a in self.applied_by_doc.get(id(doc), [])):
                    self._register(scope, Applied(doc, doc.namespace or r.applied.namespace, doc.name, scope.name, None))

    def _discover_local_sources(self) -> bool:
        known = {(ls.url, ls.ref) for ls in self.local_sources.values() if ls.url}
        progressed = False
        for scope in list(self.scopes.values()):
            for a in scope.applied:
                if a.doc.kind != "GitRepository" or a.doc.group != SOURCE_GROUP:
                    continue
                key = ("GitRepository", a.namespace, a.name)
                if key in self.local_sources:
                    continue
                spec = a.doc.spec
                url = norm_url(spec["url"]) if isinstance(spec.get("url"), str) else ""
                if url and (url, git_ref(spec)) in known:
                    self.local_sources[key] = LocalSource(key, "", self._matcher(spec.get("ignore")), url, git_ref(spec))
                    progressed = True
        return progressed

    def _note_external(self, ks: Applied, reason: str) -> None:
        self.external_paths.append((ks, reason))

    def _apply(self, scope: Scope, ks: Applied) -> list[Applied] | None:
        spec = ks.spec  # as applied: a parent's patches may have changed it
        sref = spec.get("sourceRef")
        if not isinstance(sref, dict):
            return []
        skind = sref.get("kind") if isinstance(sref.get("kind"), str) else ""
        sns = sref.get("namespace") if isinstance(sref.get("namespace"), str) and sref.get("namespace") else ks.namespace
        sname = sref.get("name") if isinstance(sref.get("name"), str) else ""
        skey = (skind, sns, sname)
        src = self._local(skey)
        if src is None:
            if skind == "GitRepository":
                return None  # may become local once more GitRepositories are known
            self._note_external(ks, f"its source is a {skind or 'source'}, not this checkout")
            return []
        raw = spec.get("path")
        path = raw if isinstance(raw, str) else "./"
        rel = posixpath.normpath(posixpath.join(src.dir, path.lstrip("/"))) if path.strip("/.") else (src.dir or ".")
        doc = ks.doc
        loc = doc.loc("spec", "path")
        if not self.resolver.contained(rel):
            self.problems.append(Problem("outside-root", doc.path, loc.line, loc.column,
                                         f"spec.path `{path}` leaves the repository", resource=resource_of(doc)))
            return []
        rel_dir = "" if rel == "." else rel
        if not os.path.isdir(self.resolver.abspath(rel_dir)):
            self._path_missing(doc, path, rel_dir)
            return []
        self.ks_paths[id(doc)] = rel_dir
        comps = []
        cl = spec.get("components")
        if isinstance(cl, list):
            comps = [(c, ("spec", "components", i)) for i, c in enumerate(cl) if isinstance(c, str)]
        built = self.resolver.flux_build(rel_dir, doc, src.matcher, comps)
        target_ns = spec.get("targetNamespace") if isinstance(spec.get("targetNamespace"), str) else None
        tscope = self._scope_for(scope, ks)
        patches = spec.get("patches") if isinstance(spec.get("patches"), list) else None
        flux_images = _images(spec.get("images"))
        variables, complete = self._variables(scope, ks)
        out = []
        for b in built:
            cluster = self.is_cluster_scoped(b.doc.kind)
            ns = b.namespace
            if target_ns and not cluster:
                ns = target_ns
            name = b.name
            value = b.doc.value
            if patches:
                value = apply_flux_patches(value, patches, ns, name)
            if variables is not None and not substitution_disabled(value):
                value = substitute(value, {k: v for k, v in variables.items() if v is not None})
                if "$" in name:
                    name = substitute_text(name, {k: v for k, v in variables.items() if v is not None})
                if "$" in ns:
                    ns = substitute_text(ns, {k: v for k, v in variables.items() if v is not None})
            if not ns and not cluster:
                ns = "default"
            a = Applied(b.doc, ns, name, tscope.name, doc,
                        effective=None if value is b.doc.value else value,
                        images=b.images + flux_images, variables=variables, variables_complete=complete)
            self._register(tscope, a)
            out.append(a)
        return out

    def _variables(self, scope: Scope, ks: Applied) -> tuple[dict | None, bool]:
        """Post-build variables of a Kustomization: inline ``substitute`` and the
        ConfigMaps/Secrets of ``substituteFrom`` found in its scope."""
        pb = ks.spec.get("postBuild")
        if not isinstance(pb, dict):
            return None, True
        out: dict[str, str | None] = {}
        complete = True
        for ref in _list(pb.get("substituteFrom")):
            if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
                continue
            kind = ref.get("kind") if ref.get("kind") in ("ConfigMap", "Secret") else "ConfigMap"
            hits = scope.find(kind, ks.namespace, ref["name"])
            if not hits:
                if not ref.get("optional"):
                    complete = False
                continue
            out.update(_data_of(hits[0]))
        inline = pb.get("substitute")
        if isinstance(inline, dict):
            for k, v in inline.items():
                out[str(k)] = None if v is None else (v if isinstance(v, str) else _scalar_text(v))
        return out, complete

    def _path_missing(self, doc: Document, path: str, rel: str) -> None:
        loc = doc.loc("spec", "path")
        if doc.origin == "synthetic":
            msg = f"the sync path `{path}` does not exist in this repository"
        else:
            msg = f"spec.path `{path}` does not exist in this repository (resolved to `{rel or '.'}`)"
        self.problems.append(Problem("path-missing", doc.path, loc.line, loc.column, msg,
                                     hint="Fix the path, or create the directory.", resource=resource_of(doc),
                                     end_line=loc.end_line, end_column=loc.end_column, data={"target": rel}))

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
            for b in self.resolver.flux_build(rel_dir, ks, self._matcher(None), []):
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

    # ------------------------------------------------------------------ edges

    def _detached(self) -> Scope:
        """Objects no root applies, in one pseudo-scope (resolved against each other)."""
        scope = self.scopes.get(NOT_APPLIED)
        if scope is None:
            scope = Scope(NOT_APPLIED, None)
            self.scopes[NOT_APPLIED] = scope
        for d in self.docs + self.resolver.generated:
            if id(d) not in self.applied_by_doc:
                ns = d.namespace
                if not ns and not self.is_cluster_scoped(d.kind):
                    ns = "default"
                self._register(scope, Applied(d, ns, d.name, NOT_APPLIED, None))
        return scope

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
                if a.namespace == t.namespace:
                    arts = a.spec.get("artifacts")
                    if isinstance(arts, list) and any(isinstance(x, dict) and x.get("name") == t.name for x in arts):
                        edge.state = RESOLVED
                        edge.resolved = a
                        edge.note = "produced by an ArtifactGenerator"
                        return
        if edge.kind == "decryptionRef":
            edge.state = EXTERNAL
            edge.note = "a decryption key is created out of band (it cannot be stored in Git)"
            return
        if "kubeConfig" in edge.field_path:
            edge.state = EXTERNAL
            edge.note = "a remote cluster's kubeconfig is created by its provisioner, not stored in Git"
            return
        if t.kind in ("GitRepository", "OCIRepository") and t.name == "flux-system" and scope.root is not None:
            if scope.root.source_key == (t.kind, t.namespace, t.name):
                edge.state = EXTERNAL
                edge.note = "the bootstrap source"
                return
        edge.state = DANGLING

    # ------------------------------------------------------------------ driver

    def build(self) -> "Graph":
        import sys

        # kustomizations may legally nest a few hundred levels; resolving them recurses
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20_000))
        try:
            return self._build()
        finally:
            sys.setrecursionlimit(limit)

    def _build(self) -> "Graph":
        self.find_roots()
        if not self.roots:
            self.fallback_roots()
            if self.roots:
                self.problems.append(Problem(
                    "no-root", self.roots[0].applied.doc.path, 1, 1,
                    "no Flux root found (gotk-sync.yaml, FluxInstance, flux-instance chart or `roots:` in the "
                    f"configuration); {len(self.roots)} Kustomization(s) that nothing else applies are taken as roots",
                    hint="Add `roots:` to .gitlint-flux.yaml naming the directories your clusters sync.",
                ))
        self.walk()
        # every kustomization file is resolved, applied or not: a broken reference in
        # one fails `kustomize build` wherever it is used
        for d in sorted(self.resolver.kfiles):
            self.resolver.build(d)
        self.resolve_edges()
        self.problems.extend(self.resolver.problems)
        return self

    def applied(self, doc: Document) -> list[Applied]:
        return [a for a in self.applied_by_doc.get(id(doc), []) if a.scope != NOT_APPLIED]

    def reachable(self, doc: Document) -> bool:
        return bool(self.applied(doc))


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


# --------------------------------------------------------------------------- references


def _s(value, default: str = "") -> str:
    """A string field, or the default when it is missing, empty or of another type."""
    return value if isinstance(value, str) and value else default


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _ref(kind_edge, a: Applied, fp: tuple, kind, name, namespace=None, optional=False, group="") -> Edge | None:
    if not isinstance(name, str) or not name or not isinstance(kind, str):
        return None  # a malformed reference is the schema rules' finding
    ns = namespace if isinstance(namespace, str) and namespace else a.namespace
    return Edge(kind_edge, a, fp, ObjKey(group, kind, ns, name), DANGLING, optional=bool(optional))


def flux_references(a: Applied) -> list[Edge]:
    """Every reference a Flux object makes, with Flux's namespace defaulting (a
    reference without namespace points into the referrer's namespace)."""
    doc = a.doc
    spec = a.spec  # as applied: after the applying Kustomization's patches and substitution
    kind = doc.kind
    out: list[Edge | None] = []

    def secret(fp: tuple, ref_kind: str = "Secret", edge_kind: str = "secretRef"):
        node = spec
        for step in fp:
            node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, dict):
            out.append(_ref(edge_kind, a, ("spec",) + fp + ("name",), ref_kind, node.get("name")))

    if kind == "Kustomization":
        sr = spec.get("sourceRef")
        if isinstance(sr, dict):
            out.append(_ref("sourceRef", a, ("spec", "sourceRef"), sr.get("kind") or "GitRepository",
                            sr.get("name"), sr.get("namespace"), group=SOURCE_GROUP))
        for i, dep in enumerate(_list(spec.get("dependsOn"))):
            if isinstance(dep, dict):
                out.append(_ref("dependsOn", a, ("spec", "dependsOn", i), "Kustomization", dep.get("name"),
                                dep.get("namespace"), group=KUSTOMIZE_GROUP))
        pb = spec.get("postBuild")
        if isinstance(pb, dict):
            for i, sf in enumerate(_list(pb.get("substituteFrom"))):
                if isinstance(sf, dict):
                    out.append(_ref("substituteFrom", a, ("spec", "postBuild", "substituteFrom", i),
                                    sf.get("kind") or "ConfigMap", sf.get("name"), optional=sf.get("optional")))
        secret(("decryption", "secretRef"), edge_kind="decryptionRef")
        secret(("kubeConfig", "secretRef"))
    elif kind == "HelmRelease":
        chart = spec.get("chart")
        cs = chart.get("spec") if isinstance(chart, dict) else None
        if isinstance(cs, dict) and isinstance(cs.get("sourceRef"), dict):
            sr = cs["sourceRef"]
            out.append(_ref("sourceRef", a, ("spec", "chart", "spec", "sourceRef"), sr.get("kind") or "HelmRepository",
                            sr.get("name"), sr.get("namespace"), group=SOURCE_GROUP))
        cr = spec.get("chartRef")
        if isinstance(cr, dict):
            out.append(_ref("chartRef", a, ("spec", "chartRef"), cr.get("kind") or "OCIRepository",
                            cr.get("name"), cr.get("namespace"), group=SOURCE_GROUP))
        for i, dep in enumerate(_list(spec.get("dependsOn"))):
            if isinstance(dep, dict):
                out.append(_ref("dependsOn", a, ("spec", "dependsOn", i), dep.get("kind") or "HelmRelease",
                                dep.get("name"), dep.get("namespace"), group=HELM_GROUP))
        for i, vf in enumerate(_list(spec.get("valuesFrom"))):
            if isinstance(vf, dict):
                out.append(_ref("valuesFrom", a, ("spec", "valuesFrom", i), vf.get("kind") or "ConfigMap",
                                vf.get("name"), optional=vf.get("optional")))
        secret(("kubeConfig", "secretRef"))
    elif kind in ("GitRepository", "OCIRepository", "HelmRepository", "Bucket"):
        secret(("secretRef",))
        secret(("certSecretRef",))
        secret(("proxySecretRef",))
        secret(("verify", "secretRef"))
        if kind == "GitRepository":
            for i, inc in enumerate(_list(spec.get("include"))):
                if isinstance(inc, dict) and isinstance(inc.get("repository"), dict):
                    out.append(_ref("include", a, ("spec", "include", i, "repository"), "GitRepository",
                                    inc["repository"].get("name"), group=SOURCE_GROUP))
    elif kind == "HelmChart":
        sr = spec.get("sourceRef")
        if isinstance(sr, dict):
            out.append(_ref("sourceRef", a, ("spec", "sourceRef"), sr.get("kind") or "HelmRepository",
                            sr.get("name"), group=SOURCE_GROUP))
    elif kind == "Alert":
        pr = spec.get("providerRef")
        if isinstance(pr, dict):
            out.append(_ref("providerRef", a, ("spec", "providerRef"), "Provider", pr.get("name"), group=NOTIFICATION_GROUP))
    elif kind == "Provider":
        secret(("secretRef",))
        secret(("certSecretRef",))
    elif kind == "Receiver":
        secret(("secretRef",))
    elif kind == "ImagePolicy":
        ir = spec.get("imageRepositoryRef")
        if isinstance(ir, dict):
            out.append(_ref("imageRepositoryRef", a, ("spec", "imageRepositoryRef"), "ImageRepository",
                            ir.get("name"), ir.get("namespace"), group=IMAGE_GROUP))
    elif kind == "ImageRepository":
        secret(("secretRef",))
        secret(("certSecretRef",))
    elif kind == "ImageUpdateAutomation":
        sr = spec.get("sourceRef")
        if isinstance(sr, dict):
            out.append(_ref("sourceRef", a, ("spec", "sourceRef"), sr.get("kind") or "GitRepository",
                            sr.get("name"), sr.get("namespace"), group=SOURCE_GROUP))
    return [e for e in out if e is not None]


def related_for(edge: Edge) -> list[Related]:
    if edge.resolved is None:
        return []
    d = edge.resolved.doc
    return [Related(d.path, d.line, d.column, f"{edge.target} is defined here")]


def _scalar_text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _data_of(a: Applied) -> dict[str, str | None]:
    """Keys (and values, where readable) of a ConfigMap's or Secret's data."""
    import base64
    import binascii

    value = a.value
    out: dict[str, str | None] = {}
    if not isinstance(value, dict):
        return out
    encrypted = isinstance(value.get("sops"), dict)
    for section in ("data", "stringData"):
        data = value.get(section)
        if not isinstance(data, dict):
            continue
        for k, v in data.items():
            if not isinstance(v, str) or encrypted or v.startswith("ENC["):
                out[str(k)] = None
            elif section == "data" and a.doc.kind == "Secret":
                try:
                    out[str(k)] = base64.b64decode(v, validate=True).decode("utf-8")
                except (binascii.Error, ValueError):
                    out[str(k)] = None
            else:
                out[str(k)] = v
    return out
