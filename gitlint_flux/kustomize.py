"""Kustomize resolution without running kustomize.

For each directory a build is resolved once (memoised): the documents it emits (after
its own ``namespace``/``namePrefix``/``nameSuffix``), the files it uses in other roles
(patches, generator inputs, CRDs, ...), remote bases, generated ConfigMaps/Secrets, and
a problem for every local reference that is missing or leaves the root.

Flux's generated kustomization (a Flux Kustomization whose path has no kustomization
file) is resolved as kustomize-controller builds it: every ``.yaml``/``.yml`` file under
the path, a sub-directory with its own kustomization file taken as one unit, files
dropped by the source's ignore rules left out.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field

from .ignore import Matcher
from .load import KUSTOMIZATION_NAMES
from .model import Document, Problem, Related, SourceFile, YMap, resource_of

_REMOTE_RE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)")

# kinds kustomize's namespace transformer leaves alone (cluster-scoped)
CLUSTER_SCOPED_KINDS = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "StorageClass", "VolumeAttachment", "CSIDriver", "CSINode",
    "PriorityClass", "RuntimeClass", "IngressClass", "APIService",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
    "PodSecurityPolicy", "ComponentStatus", "CertificateSigningRequest",
    "FlowSchema", "PriorityLevelConfiguration", "TokenReview", "SelfSubjectReview",
    "SubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview",
    "VolumeSnapshotClass", "VolumeSnapshotContent", "ClusterIssuer", "ClusterPolicy",
    "ClusterSecretStore", "ClusterExternalSecret", "GatewayClass", "ClusterPolicyReport",
    "DeviceClass", "ResourceSlice", "IPAddress", "ServiceCIDR", "ClusterTrustBundle",
})


# kustomizations including kustomizations: deeper chains are refused (no real tree nests so)
MAX_NESTING = 1000


def images_of(value) -> tuple:
    """The well-formed entries of an `images:` list (kustomize or Flux)."""
    if not isinstance(value, list):
        return ()
    return tuple(i for i in value if isinstance(i, dict) and isinstance(i.get("name"), str))


def is_remote(entry: str) -> bool:
    return bool(_REMOTE_RE.match(entry)) or "?ref=" in entry


@dataclass(slots=True, eq=False)
class Built:
    """A document as a kustomize build emits it (namespace and name after transforms)."""

    doc: Document
    namespace: str
    name: str
    images: tuple = ()  # `images:` overrides of the kustomizations it passed through


@dataclass(slots=True)
class RefUse:
    """A local path a kustomization (or a Flux Kustomization) names."""

    owner: str  # file that names it
    field_path: tuple
    target: str  # root-relative, normalised
    role: str  # resource, component, patch, generator, crd, config, ...
    line: int
    column: int


@dataclass(eq=False)
class KBuild:
    dir: str
    kfile: SourceFile | None
    docs: list[Built] = field(default_factory=list)
    remotes: list[tuple[str, tuple, str]] = field(default_factory=list)  # (file, path, url)
    ok: bool = True


def _norm(base_dir: str, entry: str) -> str:
    joined = posixpath.join(base_dir, entry) if base_dir else entry
    return posixpath.normpath(joined)


class Resolver:
    """Resolves kustomize builds over a loaded tree."""

    def __init__(self, root: str, files: dict[str, SourceFile], cluster_kinds: set[str] | None = None):
        self.root = root
        self.files = files
        self.cluster_kinds = set(CLUSTER_SCOPED_KINDS) | (cluster_kinds or set())
        self.problems: list[Problem] = []
        self.refs: list[RefUse] = []
        self.roles: dict[str, set[str]] = {}
        self.generated: list[Document] = []
        self._builds: dict[str, KBuild] = {}
        self._in_progress: list[str] = []
        self._flux_builds: dict[tuple, list[Built]] = {}
        self._problem_keys: set[tuple] = set()
        self._dir_cache: dict[str, bool] = {}
        self._root_prefix = root.rstrip(os.sep) + os.sep
        # dir -> kustomization file of that dir
        self.kfiles: dict[str, SourceFile] = {}
        self._dir_files: dict[str, list[str]] = {}
        for rel, sf in files.items():
            d, _, base = rel.rpartition("/")
            self._dir_files.setdefault(d, []).append(rel)
            if base in KUSTOMIZATION_NAMES and sf.skip_reason is None:
                if d not in self.kfiles or KUSTOMIZATION_NAMES.index(base) < KUSTOMIZATION_NAMES.index(self.kfiles[d].path.rpartition("/")[2]):
                    self.kfiles[d] = sf

    # ------------------------------------------------------------------ helpers

    def _problem(self, p: Problem) -> None:
        key = (p.kind, p.path, p.line, p.column, p.message)
        if key not in self._problem_keys:
            self._problem_keys.add(key)
            self.problems.append(p)

    def _role(self, rel: str, role: str) -> None:
        self.roles.setdefault(rel, set()).add(role)

    def abspath(self, rel: str) -> str:
        return os.path.join(self.root, rel) if rel != "." else self.root

    def contained(self, rel: str) -> bool:
        """True when ``rel`` stays inside the root, symlinks resolved."""
        if rel == ".." or rel.startswith("../") or rel.startswith("/"):
            return False
        if rel in (".", ""):
            return True
        parent, _, base = rel.rpartition("/")
        if not self._dir_contained(parent):
            return False
        ap = self.abspath(rel)
        if not os.path.islink(ap):
            return True
        real = os.path.realpath(ap)
        return real == self.root or real.startswith(self._root_prefix)

    def _dir_contained(self, rel_dir: str) -> bool:
        hit = self._dir_cache.get(rel_dir)
        if hit is None:
            real = os.path.realpath(self.abspath(rel_dir)) if rel_dir else self.root
            hit = real == self.root or real.startswith(self._root_prefix)
            self._dir_cache[rel_dir] = hit
        return hit

    def check_path(self, owner: Document | SourceFile, field_path: tuple, base_dir: str, entry: str, role: str,
                   what: str, offset: int = 0) -> str | None:
        """Resolve a local path named at ``field_path`` of ``owner``; report it when it
        leaves the root or does not exist.  Returns the normalised path or None."""
        doc = owner if isinstance(owner, Document) else None
        path = owner.path
        loc = doc.loc(*field_path) if doc is not None else None
        line, col = (loc.line, loc.column + offset) if loc else (1, 1)
        resource = resource_of(doc) if doc is not None and doc.is_object else None
        if entry.startswith("/") or os.path.isabs(entry):
            self._problem(Problem("outside-root", path, line, col,
                                  f"{what} `{entry}` is an absolute path; it is not read",
                                  hint="Use a path relative to the file that names it.", resource=resource))
            return None
        target = _norm(base_dir, entry)
        if not self.contained(target):
            self._problem(Problem("outside-root", path, line, col,
                                  f"{what} `{entry}` leaves the repository; it is not read",
                                  hint="Keep every referenced file inside the repository.", resource=resource))
            return None
        self.refs.append(RefUse(path, field_path, target, role, line, col))
        if not os.path.exists(self.abspath(target)):
            self._problem(Problem("missing-reference", path, line, col,
                                  f"{what} `{entry}` does not exist (resolved to `{target}`)",
                                  hint="Fix the path or add the missing file.", resource=resource,
                                  data={"target": target, "role": role}))
            return None
        self._role(target, role)
        return target

    def transform(self, built: list[Built], namespace: str | None, prefix: str, suffix: str,
                  images: tuple = ()) -> list[Built]:
        if not namespace and not prefix and not suffix and not images:
            return built
        out = []
        for b in built:
            kind = b.doc.kind
            ns = b.namespace
            name = b.name
            if namespace and kind not in self.cluster_kinds:
                ns = namespace
            elif namespace and kind == "Namespace" and b.doc.group == "":
                # kustomize's namespace field specs include a Namespace's metadata.name
                name = namespace
            if (prefix or suffix) and kind != "CustomResourceDefinition":
                name = f"{prefix}{name}{suffix}"
            out.append(Built(b.doc, ns, name, b.images + images))
        return out

    # ------------------------------------------------------------------ kustomize

    def builds(self) -> list[KBuild]:
        """Every kustomization file built so far (each once; failed builds left out)."""
        return [kb for kb in self._builds.values() if kb is not None]

    def build(self, d: str, via: tuple[Document | SourceFile, tuple] | None = None) -> KBuild | None:
        """Build directory ``d`` (root-relative, "" for the root) that must hold a
        kustomization file.  ``via`` locates the reference for a problem."""
        if d in self._builds:
            return self._builds[d]
        sf = self.kfiles.get(d if d != "." else "")
        if sf is None:
            if via is not None:
                owner, fp = via
                loc = owner.loc(*fp) if isinstance(owner, Document) else None
                self._problem(Problem(
                    "missing-kustomization", owner.path, loc.line if loc else 1, loc.column if loc else 1,
                    f"directory `{d}` has no kustomization.yaml; kustomize cannot use it as a resource",
                    hint="Add a kustomization.yaml listing its files, or name the files themselves.",
                    resource=resource_of(owner) if isinstance(owner, Document) else None))
            return None
        if len(self._in_progress) >= MAX_NESTING:
            owner, fp = via if via else (sf, ())
            loc = owner.loc(*fp) if isinstance(owner, Document) else None
            self._problem(Problem("kustomize-cycle", owner.path, loc.line if loc else 1, loc.column if loc else 1,
                                  f"kustomizations nest more than {MAX_NESTING} levels deep here; not followed further",
                                  hint="Flatten the chain of kustomizations."))
            return None
        if d in self._in_progress:
            cycle = " -> ".join(self._in_progress[self._in_progress.index(d):] + [d])
            owner, fp = via if via else (sf, ())
            loc = owner.loc(*fp) if isinstance(owner, Document) else None
            self._problem(Problem("kustomize-cycle", owner.path, loc.line if loc else 1, loc.column if loc else 1,
                                  f"kustomization cycle: {cycle}", hint="Remove one of the references."))
            return None
        self._in_progress.append(d)
        try:
            kb = self._build_kfile(d, sf)
        finally:
            self._in_progress.pop()
        self._builds[d] = kb
        return kb

    def _kdoc(self, sf: SourceFile) -> Document | None:
        for doc in sf.documents:
            if isinstance(doc.value, dict):
                return doc
        return None

    def _build_kfile(self, d: str, sf: SourceFile) -> KBuild:
        kb = KBuild(d, sf)
        self._role(sf.path, "kustomization")
        doc = self._kdoc(sf)
        if doc is None:
            return kb
        k = doc.value
        built: list[Built] = []

        def entries(key):
            v = k.get(key)
            if isinstance(v, list):
                for i, e in enumerate(v):
                    yield i, e

        for key in ("resources", "bases"):
            for i, e in entries(key):
                if not isinstance(e, str) or not e.strip():
                    continue
                e = e.strip()
                if is_remote(e):
                    kb.remotes.append((sf.path, (key, i), e))
                    continue
                target = self.check_path(doc, (key, i), d, e, "resource", "resource")
                if target is None:
                    continue
                built.extend(self._resource(target, doc, (key, i)))
        for i, e in entries("components"):
            if not isinstance(e, str):
                continue
            if is_remote(e):
                kb.remotes.append((sf.path, ("components", i), e))
                continue
            target = self.check_path(doc, ("components", i), d, e, "component", "component")
            if target is not None:
                sub = self.build(target, (doc, ("components", i)))
                if sub is not None:
                    built.extend(sub.docs)
        for i, e in entries("crds"):
            if isinstance(e, str):
                self.check_path(doc, ("crds", i), d, e, "crd", "CRD file")
        for i, e in entries("patches"):
            if isinstance(e, dict) and isinstance(e.get("path"), str):
                self.check_path(doc, ("patches", i, "path"), d, e["path"], "patch", "patch")
        for i, e in entries("patchesStrategicMerge"):
            if isinstance(e, str) and "\n" not in e and ":" not in e.split("/")[0]:
                self.check_path(doc, ("patchesStrategicMerge", i), d, e.strip(), "patch", "patch")
        for i, e in entries("patchesJson6902"):
            if isinstance(e, dict) and isinstance(e.get("path"), str):
                self.check_path(doc, ("patchesJson6902", i, "path"), d, e["path"], "patch", "patch")
        renamed_refs: set[str] = set()  # kinds whose references this build rewrites
        for i, e in entries("configurations"):
            if isinstance(e, str):
                target = self.check_path(doc, ("configurations", i), d, e, "config", "configuration file")
                if target is not None:
                    renamed_refs |= self._name_references(target)
        for key in ("generators", "transformers", "validators"):
            for i, e in entries(key):
                if isinstance(e, str) and "\n" not in e:
                    if is_remote(e):
                        kb.remotes.append((sf.path, (key, i), e))
                        continue
                    self.check_path(doc, (key, i), d, e.strip(), "plugin", f"{key[:-1]} file")
        for i, e in entries("replacements"):
            if isinstance(e, dict) and isinstance(e.get("path"), str):
                self.check_path(doc, ("replacements", i, "path"), d, e["path"], "config", "replacement file")
        openapi = k.get("openapi")
        if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
            self.check_path(doc, ("openapi", "path"), d, openapi["path"], "config", "OpenAPI schema file")
        for i, e in entries("helmCharts"):
            if isinstance(e, dict) and isinstance(e.get("valuesFile"), str) and not is_remote(e["valuesFile"]):
                self.check_path(doc, ("helmCharts", i, "valuesFile"), d, e["valuesFile"], "values", "Helm values file")
        built.extend(self._generators(doc, k, d, renamed_refs))

        ns = k.get("namespace") if isinstance(k.get("namespace"), str) else None
        prefix = k.get("namePrefix") if isinstance(k.get("namePrefix"), str) else ""
        suffix = k.get("nameSuffix") if isinstance(k.get("nameSuffix"), str) else ""
        images = images_of(k.get("images"))
        kb.docs = self.transform(built, ns, prefix, suffix, images)
        return kb

    def _name_references(self, rel: str) -> set[str]:
        """Kinds that a kustomize ``configurations`` file declares ``nameReference``s
        for: kustomize rewrites references to them (hash suffixes included)."""
        sf = self.files.get(rel)
        out: set[str] = set()
        for d in sf.documents if sf is not None else ():
            refs = d.value.get("nameReference") if isinstance(d.value, dict) else None
            for r in refs if isinstance(refs, list) else ():
                if isinstance(r, dict) and isinstance(r.get("kind"), str) and r.get("fieldSpecs"):
                    out.add(r["kind"])
        return out

    def _generators(self, doc: Document, k: dict, d: str, renamed_refs: set[str] = frozenset()) -> list[Built]:
        out = []
        opts = k.get("generatorOptions") if isinstance(k.get("generatorOptions"), dict) else {}
        no_hash_default = bool(opts.get("disableNameSuffixHash"))
        for key, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
            gens = k.get(key)
            if not isinstance(gens, list):
                continue
            for i, g in enumerate(gens):
                if not isinstance(g, dict):
                    continue
                for fkey in ("files", "envs"):
                    fl = g.get(fkey)
                    if isinstance(fl, list):
                        for j, f in enumerate(fl):
                            if isinstance(f, str):
                                off = f.index("=") + 1 if fkey == "files" and "=" in f else 0
                                self.check_path(doc, (key, i, fkey, j), d, f[off:].strip(), "generator",
                                                f"{kind} generator input", offset=off)
                if isinstance(g.get("env"), str):
                    self.check_path(doc, (key, i, "env"), d, g["env"], "generator", f"{kind} generator input")
                name = g.get("name")
                if not isinstance(name, str) or g.get("behavior") in ("merge", "replace"):
                    continue
                gopts = g.get("options") if isinstance(g.get("options"), dict) else {}
                no_hash = bool(gopts.get("disableNameSuffixHash", no_hash_default)) or kind in renamed_refs
                meta = YMap(doc.loc(key, i).line, doc.loc(key, i).column)
                meta["name"] = name
                if isinstance(g.get("namespace"), str):
                    meta["namespace"] = g["namespace"]
                value = YMap(meta.line, meta.col)
                value["apiVersion"] = "v1"
                value["kind"] = kind
                value["metadata"] = meta
                gdoc = Document(doc.path, doc.index, value, meta.line, meta.col,
                                origin="generator", name_hash=not no_hash)
                self.generated.append(gdoc)
                out.append(Built(gdoc, meta.get("namespace", ""), name))
        return out

    def _resource(self, target: str, owner: Document, fp: tuple) -> list[Built]:
        """Documents of a resource entry: a file's objects, or a directory's build."""
        if os.path.isdir(self.abspath(target)):
            sub = self.build(target, (owner, fp))
            return list(sub.docs) if sub is not None else []
        sf = self.files.get(target)
        self._role(target, "resource")
        if sf is None:
            # exists, but is not a YAML file we list (e.g. *.json): nothing to index
            return []
        return self._file_objects(sf, owner, fp)

    def _file_objects(self, sf: SourceFile, owner: Document | None, fp: tuple) -> list[Built]:
        out = []
        if sf.skip_reason is not None or sf.text is None or any(p.kind == "syntax" for p in sf.problems):
            if sf.skip_reason is not None and sf.skip_reason != "excluded by configuration":
                self._not_manifest(sf, f"it is not a Kubernetes manifest ({sf.skip_reason})", owner, fp)
            return out
        for doc in sf.documents:
            if doc.is_resource:
                out.append(Built(doc, doc.namespace, doc.name))
            elif not doc.is_object:
                self._problem(Problem(
                    "not-a-manifest", sf.path, doc.line, doc.column,
                    "document has no apiVersion/kind, but the file is applied as Kubernetes resources; the build fails",
                    hint="Add apiVersion and kind, or move the document out of the applied files.",
                    related=self._related(owner, fp, "applied from here")))
        return out

    def _related(self, owner, fp, message):
        if owner is None:
            return []
        loc = owner.loc(*fp) if isinstance(owner, Document) else None
        return [Related(owner.path, loc.line if loc else 1, loc.column if loc else 1, message)]

    def _not_manifest(self, sf: SourceFile, why: str, owner, fp) -> None:
        self._problem(Problem("not-a-manifest", sf.path, 1, 1,
                              f"this file is applied as Kubernetes resources, but {why}; the build fails",
                              hint="Move the file out of the applied path, or add it to .sourceignore.",
                              related=self._related(owner, fp, "applied from here")))

    # ------------------------------------------------------------------ Flux

    def flux_build(self, path: str, ks: Document, matcher: Matcher | None, components: list[tuple[str, tuple]]) -> list[Built]:
        """Documents a Flux Kustomization applies from ``path`` (root-relative)."""
        key = (path, id(matcher), tuple(c for c, _ in components))
        if key in self._flux_builds:
            return self._flux_builds[key]
        if path in self.kfiles or (path == "" and "" in self.kfiles):
            kb = self.build(path, (ks, ("spec", "path")))
            built = list(kb.docs) if kb is not None else []
        else:
            built = self._generated(path, ks, matcher)
        for comp, fp in components:
            target = self.check_path(ks, fp, path, comp, "component", "component")
            if target is not None:
                sub = self.build(target, (ks, fp))
                if sub is not None:
                    built.extend(sub.docs)
        self._flux_builds[key] = built
        return built

    def _generated(self, path: str, ks: Document, matcher: Matcher | None) -> list[Built]:
        out: list[Built] = []
        stack = [path]
        while stack:
            d = stack.pop()
            absd = self.abspath(d)
            try:
                entries = sorted(os.scandir(absd), key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                rel = f"{d}/{e.name}" if d else e.name
                try:
                    is_dir = e.is_dir()
                except OSError:
                    continue
                if matcher is not None and matcher.ignored(rel, is_dir):
                    continue
                if is_dir:
                    if e.is_symlink():
                        continue  # Flux's generator walks the tree without following links
                    if rel in self.kfiles:
                        sub = self.build(rel, (ks, ("spec", "path")))
                        if sub is not None:
                            out.extend(sub.docs)
                        continue
                    if e.name == ".git":
                        continue
                    stack.append(rel)
                    continue
                if not e.name.endswith((".yaml", ".yml")):
                    continue
                sf = self.files.get(rel)
                if sf is None:
                    continue
                self._role(rel, "resource")
                if sf.skip_reason is not None and sf.skip_reason != "excluded by configuration":
                    self._not_manifest(sf, f"it is not a Kubernetes manifest ({sf.skip_reason})", ks, ("spec", "path"))
                    continue
                if sf.text is None or any(p.kind == "syntax" for p in sf.problems):
                    continue
                objs = sf.objects
                if not objs:
                    self._not_manifest(
                        sf, "it holds no Kubernetes object (no apiVersion/kind)", ks, ("spec", "path"))
                    continue
                out.extend(self._file_objects(sf, ks, ("spec", "path")))
        return out
