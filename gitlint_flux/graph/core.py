"""The Flux graph: roots, scopes, what each Flux Kustomization applies, and the
references between Flux objects, resolved with Flux's namespace defaulting rules.

``Graph.build()`` runs the stages in order: find the roots (``roots.py``), walk each
cluster (``walk.py``), resolve every kustomization file, resolve references
(``refs.py``); then the per-cluster picture of Flux (``flux.py``). Rules read the graph
through its public attributes and accessors only.
"""

from __future__ import annotations

import os
import stat as stat_mod
from typing import Iterator

from ..ignore import SOURCE_DEFAULT_PATTERNS, Matcher, Pattern, parse_patterns
from ..kustomize import Resolver
from ..memo import Memo
from ..model import Applied, Document, Edge, Problem, SourceFile
from .cycles import find_cycles
from .flux import FluxPicture, current_picture, picture_of
from .refs import References
from .roots import RootFinder
from .scopes import LocalSource, Root, Scope
from .vocab import NOT_APPLIED
from .walk import Walker


class Graph(RootFinder, Walker, References):
    def __init__(self, root: str, files: dict[str, SourceFile], config_roots=(), config_sources=None,
                 sourceignores: list[str] | None = None, memo: Memo | None = None):
        self.root = root
        #: results kept from the check before (the language server; ``memo.py``)
        self.memo = memo
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
        self.resolver = Resolver(root, files, cluster_kinds, memo=memo)
        self._sourceignore = self._load_sourceignores(sourceignores)
        self.local_sources: dict[tuple, LocalSource] = {}
        self._config_sources = config_sources or {}
        self._config_source_keys: set[tuple] = set()
        self._config_roots = list(config_roots)
        self._synthetic: list[Document] = []
        self._flux: dict[str, FluxPicture] = {}
        self._oci_roots: list[Root] = []
        self._dirs: set[str] | None = None
        self._oci_by_name: dict | None = None
        #: documents ResourceSets render (validated by the schema stage like any other)
        self.rendered: list[Document] = []
        self._renders: dict = {}
        self._render_problem_keys: set = set()
        self._reached: set[str] = set()
        self._unapplied: set[str] | None = None
        self._applied_dirs: set[str] | None = None
        #: ids of the objects this check took from the memo (each is handed out once)
        self._handed: set[int] = set()
        self._kinds_tok: object | None = None  # Walker._kinds_token

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

    def dirs(self) -> set[str]:
        """Every directory of the checkout that holds a listed file ("" for the root)."""
        if self._dirs is None:
            out = {""}
            for rel in self.files:
                parts = rel.split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    out.add("/".join(parts[:i]))
            self._dirs = out
        return self._dirs

    def is_cluster_scoped(self, kind: str) -> bool:
        return kind in self.resolver.cluster_kinds

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
                cfg = self.fallback_config()
                lines = ["roots:"] + [f"  - {r}" for r in cfg["roots"]]
                if cfg["sources"]:
                    lines += ["sources:"] + [f"  {k}: {v}" for k, v in cfg["sources"].items()]
                self.problems.append(Problem(
                    "no-root", self.roots[0].applied.doc.path, 1, 1,
                    "no Flux root found (gotk-sync.yaml, FluxInstance, flux-instance chart or `roots:` in the "
                    f"configuration): the {len(self.roots)} Kustomization(s) that nothing else applies are taken as "
                    "one cluster, and findings that need the real cluster are at most warnings",
                    hint="Add to .gitlint-flux.yaml what makes the run exact:\n" + "\n".join(lines),
                    data={"config": cfg},
                ))
        self.map_oci_roots()
        self.walk()
        if not self.fallback:
            self.self_applying_roots()
        # the files the clusters' builds reached (their kustomizations, patches, generator
        # inputs, manifests), before every other kustomization file is resolved
        self._reached = set(self.resolver.roles)
        # every kustomization file is resolved, applied or not: a broken reference in
        # one fails `kustomize build` wherever it is used
        for d in sorted(self.resolver.kfiles):
            self.resolver.build(d)
        self.resolver.finish()
        self.resolve_edges()
        self.problems.extend(self.resolver.problems)
        return self

    # ------------------------------------------------------------------ accessors

    def applied_objects(self, unapplied: bool = False) -> Iterator[Applied]:
        """Every object as applied in every real cluster (a document applied in two
        clusters comes twice); the synthetic objects standing for roots are left out.
        ``unapplied``: also the objects no root applies (judged by per-object rules, their
        findings capped by the findings pipeline), when the tree has roots."""
        for scope in self.scopes.values():
            if scope.name == NOT_APPLIED:
                if not (unapplied and self.roots):
                    continue
                for a in scope.applied:
                    # documents of patch files, generator inputs...: not objects of their own
                    if a.doc.origin == "" and not (self.roles_of(a.doc.path) - {"resource"}):
                        yield a
                continue
            for a in scope.applied:
                if a.doc.origin != "synthetic":
                    yield a

    def unapplied_files(self) -> set[str]:
        """The files no root applies: neither an object of theirs is applied in a cluster,
        nor a cluster's build reads them (as a kustomization, patch, component, generator
        input...). Empty when the tree has no root at all (nothing can be told)."""
        if not self.roots:
            return set()
        if self._unapplied is None:
            applied = set(self._reached)
            for a in self.applied_objects():
                applied.add(a.doc.path)
            for r in self.roots:
                for d in (r.applied.doc, r.anchor, r.source_doc):
                    if d is not None:
                        applied.add(d.path)
            self._unapplied = {rel for rel, sf in self.files.items() if rel not in applied}
        return self._unapplied

    def unapplied_trees(self, files: list[str] | None = None) -> list[tuple[str, bool, list[str]]]:
        """The files no root applies (or those of ``files``), grouped: ``(dir, whole,
        files)`` per directory tree no root applies (``whole``: nothing under ``dir`` is
        applied), or per directory for stray files beside applied ones."""
        unapplied = self.unapplied_files()
        applied_dirs = self._applied_dirs
        if applied_dirs is None:
            applied_dirs = self._applied_dirs = {""}
            for rel in self.files:
                if rel not in unapplied:
                    parts = rel.split("/")[:-1]
                    applied_dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        groups: dict[str, list[str]] = {}
        for rel in sorted(unapplied if files is None else (set(files) & unapplied)):
            d = rel.rpartition("/")[0]
            if d not in applied_dirs:
                while d.rpartition("/")[0] not in applied_dirs:
                    d = d.rpartition("/")[0]
            groups.setdefault(d, []).append(rel)
        return [(d, d not in applied_dirs, members) for d, members in sorted(groups.items())]

    def data_reads(self) -> dict[str, bytes | None]:
        """The files read as data, not as manifests (a generator's `envs:`), with the bytes
        read (None: not a regular file)."""
        return self.resolver.data_reads

    def roles_of(self, path: str) -> set[str]:
        """How kustomize uses a file: ``resource``, ``patch``, ``component``, ``generator``, ..."""
        return self.resolver.roles.get(path, set())

    def kustomization_builds(self) -> list:
        """Every kustomization file's build (``kustomize.KBuild``), once each."""
        return self.resolver.builds()

    def dependency_cycles(self) -> list[tuple[str, list]]:
        """(cluster, cycle) for every ``dependsOn`` cycle, clusters in name order; a cycle
        is a list of (Applied, edge to the next member)."""
        by_scope: dict[str, dict] = {}
        for e in self.edges:
            if e.kind != "dependsOn" or e.resolved is None or e.source.scope == NOT_APPLIED:
                continue
            adj = by_scope.setdefault(e.source.scope, {})
            adj.setdefault(id(e.source), (e.source, []))[1].append((e.resolved, e))
        return [(scope, cycle) for scope, adj in sorted(by_scope.items()) for cycle in find_cycles(adj)]

    def flux_of(self, scope_name: str) -> FluxPicture:
        """The Flux a cluster runs: release and feature gates (``flux.py``), built once per
        cluster; for objects no root applies, the current release."""
        pic = self._flux.get(scope_name)
        if pic is None:
            scope = self.scopes.get(scope_name)
            if scope is None or scope_name == NOT_APPLIED:
                pic = current_picture()
            else:
                applied = list(scope.applied)
                anchor = scope.root.anchor if scope.root is not None else None
                # the files next to the Flux components (patches that set feature gates)
                dirs = {a.doc.path.rpartition("/")[0] for a in applied if a.doc.path.endswith("gotk-components.yaml")}
                if scope.root is not None:  # the bootstrap directory of the cluster's own path
                    base = "" if scope.root.path == "." else scope.root.path + "/"
                    dirs |= {rel.rpartition("/")[0] for rel in self.files
                             if rel.endswith("/gotk-components.yaml") and rel.startswith(base)
                             and rel[len(base):].count("/") <= 1}
                texts = [sf.text for rel, sf in sorted(self.files.items())
                         if rel.rpartition("/")[0] in dirs and sf.text and "--feature-gates" in sf.text
                         and not rel.endswith("gotk-components.yaml")]
                gotk = sorted(rel for rel in self.files if rel.endswith("gotk-components.yaml")
                              and rel.rpartition("/")[0] in dirs)
                pic = picture_of(applied, anchor, self.files, texts, gotk)
            self._flux[scope_name] = pic
        return pic

    def applied(self, doc: Document) -> list[Applied]:
        return [a for a in self.applied_by_doc.get(id(doc), []) if a.scope != NOT_APPLIED]

    def reachable(self, doc: Document) -> bool:
        return bool(self.applied(doc))


