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
from .memo import MISSING, Memo

#: a build's dependency on the content of a data file (``DATA_DEP + rel``), beside the
#: manifests it reads
DATA_DEP = "\0data:"
#: how much of a data file is read (a generator's `envs:` file)
DATA_MAX = 1024 * 1024
from .model import Document, Problem, Related, SourceFile, YMap, resource_of
from .patches import (
    Obj, PatchError, apply_body, copy_shallow, field_get, parse_patch, replace_in, smp_matches, split_api_version,
    split_field_path, target_matches,
)

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
    """A document as a kustomize build emits it: namespace, name and value after the
    build's transforms (patches, labels, replacements), ``value`` None while unchanged."""

    doc: Document
    namespace: str
    name: str
    images: tuple = ()  # `images:` overrides of the kustomizations it passed through
    value: object = None

    @property
    def current(self):
        return self.doc.value if self.value is None else self.value

    def with_value(self, value) -> "Built":
        return Built(self.doc, self.namespace, self.name, self.images, None if value is self.doc.value else value)


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
    #: the build holds parts not rendered here (remote bases, helmCharts, plugins, missing
    #: resources, empty placeholder files): a patch target may be among them
    opaque: bool = False
    #: the top-level build this one is part of (a Component's build is part of its
    #: includer's), and whether that build is a Flux Kustomization's (with what it adds)
    top: str = ""
    overlay: bool = False
    component: bool = False


@dataclass(eq=False)
class FluxOverlay:
    """What kustomize-controller adds to the kustomization it builds for a Flux
    Kustomization (it edits the one in ``spec.path``, or generates one): ``spec.components``
    after the kustomization's own, ``spec.patches`` after its own patches,
    ``spec.targetNamespace`` as its ``namespace``, ``spec.commonMetadata`` as labels and
    annotations. (``spec.images`` are carried on each object; post-build substitution
    runs on the build's output.)"""

    owner: Document  # the Flux Kustomization
    components: list = field(default_factory=list)  # (entry, field path)
    patches: bool = False  # spec.patches present
    #: the entries of spec.patches written in the Kustomization's own file (None: all are)
    own_patches: list | None = None
    target_namespace: str | None = None
    labels: dict = field(default_factory=dict)
    annotations: dict = field(default_factory=dict)


def _marker(d: str) -> str:
    """How a build's dependencies name the kustomization file of directory ``d``."""
    return d + "/" if d not in ("", ".") else ""


def _norm(base_dir: str, entry: str) -> str:
    joined = posixpath.join(base_dir, entry) if base_dir else entry
    return posixpath.normpath(joined)


class Resolver:
    """Resolves kustomize builds over a loaded tree."""

    def __init__(self, root: str, files: dict[str, SourceFile], cluster_kinds: set[str] | None = None,
                 memo: Memo | None = None):
        self.root = root
        self.memo = memo
        self._kfiles_sig: tuple | None = None
        #: while a top-level build runs with a memo: what it does to the resolver's state
        #: (replayed when the build is taken from the memo) and the files it reads
        self._journal: list | None = None
        self._deps: list[set] = []
        self._kb_deps: dict[str, set] = {}
        self._global_sig: object | None = None
        self._max_depth = 0
        self._owners: dict[tuple, list] = {}
        self._sigs: dict[str, tuple | None] = {}
        #: what was read of each file that is not a manifest (a generator's `envs:`), once
        #: per check: the run cache keeps the run only while they hold the same bytes
        self.data_reads: dict[str, bytes | None] = {}
        self._fs: dict | None = None
        self._open: list[list[bool]] = []  # the builds being recorded: whether they met a cycle
        self.files = files
        self.cluster_kinds = set(CLUSTER_SCOPED_KINDS) | (cluster_kinds or set())
        self.problems: list[Problem] = []
        self.refs: list[RefUse] = []
        self.roles: dict[str, set[str]] = {}
        self.generated: list[Document] = []
        self._builds: dict[str, KBuild] = {}
        self._in_progress: list[str] = []
        self._flux_builds: dict[tuple, tuple] = {}  # key -> (matcher, overlay owner, built)
        self._problem_keys: set[tuple] = set()
        #: problems of patch matching, per (top-level build, built with a Flux overlay):
        #: kept by ``finish`` only for builds that are what a cluster gets
        self._deferred: dict[tuple[str, bool], list[Problem]] = {}
        self._overlay_dirs: set[str] = set()  # built by a Flux Kustomization that adds to them
        self._used_plain: set[str] = set()  # built as they are (a resource, a plain Flux path)
        self._dir_cache: dict[str, bool] = {}
        self._listed_dirs: set[str] | None = None  # the directories above the listed files
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
        self._note("problem", p)
        key = (p.kind, p.path, p.line, p.column, p.message)
        if key not in self._problem_keys:
            self._problem_keys.add(key)
            self.problems.append(p)

    def defer(self, kb: KBuild, p: Problem) -> None:
        self._note("defer", kb, p)
        self._deferred.setdefault((kb.top, kb.overlay), []).append(p)

    def finish(self) -> None:
        """Keep the patch-matching problems of the builds clusters get: a Flux
        Kustomization's build of its path (with its components and patches), and a
        kustomization built as it is (a resource of another, a Flux path without
        additions, or one nothing uses). A directory only ever built with a Flux
        Kustomization's additions is not judged without them."""
        for (top, overlay), problems in sorted(self._deferred.items(), key=lambda kv: kv[0]):
            if overlay or top not in self._overlay_dirs or top in self._used_plain:
                for p in problems:
                    self._problem(p)
        self._deferred.clear()

    # ------------------------------------------------------------------ the memo (language server)

    def _dep(self, rel: str) -> None:
        """The build being recorded reads ``rel`` (a file; ``dir/`` or "" for a directory's
        kustomization file)."""
        if self._deps:
            self._deps[-1].add(rel)

    def _note(self, *op) -> None:
        """An effect of the build being recorded, for its journal."""
        if self._journal is not None:
            self._journal.append(op)

    def _overlay(self, d: str) -> None:
        self._note("overlay", d)
        self._overlay_dirs.add(d)

    def _plain(self, d: str) -> None:
        self._note("plain", d)
        self._used_plain.add(d)

    def _sig(self, rel: str) -> tuple | None:
        """What a build read of a file: its text, skip reason and documents (objects the
        next check shares when the file did not change); once per check and file."""
        hit = self._sigs.get(rel, MISSING)
        if hit is MISSING:
            hit = self._sigs[rel] = self._read_sig(rel)
        return hit

    def _read_sig(self, rel: str) -> tuple | None:
        if rel.startswith(DATA_DEP):
            return (rel, self.read_data(rel[len(DATA_DEP):]), None, ())
        sf = self.kfiles.get(rel[:-1] if rel.endswith("/") else rel) if rel == "" or rel.endswith("/") \
            else self.files.get(rel)
        if sf is None:
            return None
        return (sf.path, sf.text, sf.skip_reason, tuple(sf.documents))

    @staticmethod
    def _same(a: tuple | None, b: tuple | None) -> bool:
        if a is None or b is None:
            return a is b
        if a[0].startswith(DATA_DEP):  # a data file: read again at each check, same bytes
            return a == b
        return a[0] == b[0] and a[1] is b[1] and a[2] == b[2] and len(a[3]) == len(b[3]) \
            and all(x is y for x, y in zip(a[3], b[3]))

    def read_data(self, rel: str) -> bytes | None:
        """The bytes of a file kustomize reads as data (up to ``DATA_MAX``), once per check;
        None when it is not a regular file or cannot be read."""
        hit = self.data_reads.get(rel, MISSING)
        if hit is MISSING:
            hit = None
            path = self.abspath(rel)
            if os.path.isfile(path):
                try:
                    with open(path, "rb") as fh:
                        hit = fh.read(DATA_MAX)
                except OSError:
                    pass
            self.data_reads[rel] = hit
        return hit

    def _signature(self) -> object:
        """What every build depends on beyond the files it reads: the listed files, the
        kustomization file of each directory, the cluster-scoped kinds."""
        sig = (tuple(sorted(self.cluster_kinds)), tuple(sorted(self.files)),
               tuple(sorted((d, sf.path) for d, sf in self.kfiles.items())))
        # one token per signature: the keys that carry it hash and compare it at once
        return self.memo.get("resolver-signature", (), sig, object)

    def _memoised(self, step: str, inputs: tuple, data: tuple, compute):
        """A top-level build taken from the memo when every file it read is the one it
        read then; its effects on the resolver (problems, roles, references, the builds
        it made) replayed in order. Otherwise computed, and recorded."""
        if self._global_sig is None:
            self._global_sig = self._signature()
        data = data + (self._global_sig,)
        hit = self.memo.lookup(step, inputs, data)
        if hit is not MISSING:
            result, journal, deps = hit
            if all(self._same(sig, self._sig(rel)) for rel, sig in deps) and self._consistent(journal):
                self._replay(journal)
                return result
        self._journal, self._deps = [], [set()]
        try:
            result = compute()
            journal, deps = self._journal, self._deps[0]
        finally:
            self._journal, self._deps = None, []
        self.memo.store(step, inputs, data, (result, journal, tuple((rel, self._sig(rel)) for rel in sorted(deps))))
        return result

    def _replay(self, journal: list) -> None:
        """The recorded effects applied again, in order (and recorded in turn when a build
        around is being recorded)."""
        skip = 0
        for op in journal:
            kind = op[0]
            if skip:  # a nested build this check has already made: its effects are in place
                skip += 1 if kind == "begin" else -1 if kind == "end" else 0
                continue
            if kind == "problem":
                self._problem(op[1])
            elif kind == "role":
                self._role(op[1], op[2])
            elif kind == "ref":
                self._ref(op[1])
            elif kind == "defer":
                self.defer(op[1], op[2])
            elif kind == "generated":
                self._generated_doc(op[1])
            elif kind == "overlay":
                self._overlay(op[1])
            elif kind == "plain":
                self._plain(op[1])
            elif kind == "use":
                if op[1] in self._builds:
                    if self._deps:
                        self._deps[-1] |= self._kb_deps.get(op[1], ())
                    self._note(*op)
                else:  # the build it took was made before it, in the check it was recorded in
                    entry = self.memo.lookup("build", (), (op[1], self._global_sig))
                    self._replay([("begin", op[1])] + entry[1] + [("end", op[1], entry[0], entry[3], entry)])
            elif kind == "begin":
                if op[1] in self._builds:
                    skip = 1
                    if self._deps:
                        self._deps[-1] |= self._kb_deps.get(op[1], ())
                else:
                    self._note(*op)
            elif kind == "end":
                self._builds[op[1]] = op[2]
                self._kb_deps[op[1]] = op[3]
                if op[4] is not None:
                    self.memo.store("build", (), (op[1], self._global_sig), op[4])
                if self._deps:
                    self._deps[-1] |= op[3]
                self._note(*op)

    def _ref(self, ref: RefUse) -> None:
        self._note("ref", ref)
        self.refs.append(ref)

    def _generated_doc(self, doc: Document) -> None:
        self._note("generated", doc)
        self.generated.append(doc)

    def _role(self, rel: str, role: str) -> None:
        self._note("role", rel, role)
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
        kept = self._filesystem()
        if kept is None:
            return self._link_contained(rel)
        hit = kept.get(rel)
        if hit is None:
            hit = kept[rel] = self._link_contained(rel)
        return hit

    def _filesystem(self) -> dict | None:
        """With a memo: what the checks learnt of the file system (symbolic links), kept
        while the listing is the same (the server reads it again when files change)."""
        if self.memo is None:
            return None
        if self._fs is None:
            if self._global_sig is None:
                self._global_sig = self._signature()
            self._fs = self.memo.get("filesystem", (), self._global_sig, dict)
            self._dir_cache = self.memo.get("directories", (), self._global_sig, dict)
        return self._fs

    def _link_contained(self, rel: str) -> bool:
        ap = self.abspath(rel)
        if not os.path.islink(ap):
            return True
        real = os.path.realpath(ap)
        return real == self.root or real.startswith(self._root_prefix)

    def _dir_contained(self, rel_dir: str) -> bool:
        if self._fs is None:
            self._filesystem()
        hit = self._dir_cache.get(rel_dir)
        if hit is None:
            if not rel_dir:
                hit = True
            elif self._dir_contained(rel_dir.rpartition("/")[0]) and not os.path.islink(self.abspath(rel_dir)):
                hit = True  # inside a contained directory and not a link: it resolves inside too
            else:  # a link, or under a directory that leaves the root (it may link back)
                real = os.path.realpath(self.abspath(rel_dir))
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
        self._ref(RefUse(path, field_path, target, role, line, col))
        if not self._exists(target):
            self._problem(Problem("missing-reference", path, line, col,
                                  f"{what} `{entry}` does not exist (resolved to `{target}`)",
                                  hint="Fix the path or add the missing file.", resource=resource,
                                  data={"target": target, "role": role}))
            return None
        self._role(target, role)
        return target

    def _exists(self, rel: str) -> bool:
        """``rel`` is there: a listed file or a directory above one (listed a moment ago,
        no system call), else asked of the file system."""
        if rel in self.files:
            return True
        dirs = self._listed_dirs
        if dirs is None:
            dirs = self._listed_dirs = set()
            for p in self.files:
                d = p.rpartition("/")[0]
                while d and d not in dirs:
                    dirs.add(d)
                    d = d.rpartition("/")[0]
        return rel in dirs or os.path.exists(self.abspath(rel))

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
            out.append(Built(b.doc, ns, name, b.images + images, b.value))
        return out

    # ------------------------------------------------------------------ kustomize

    def builds(self) -> list[KBuild]:
        """Every kustomization file built so far (each once; failed builds left out)."""
        return [kb for kb in self._builds.values() if kb is not None]

    def build(self, d: str, via: tuple[Document | SourceFile, tuple] | None = None) -> KBuild | None:
        """Build directory ``d`` (root-relative, "" for the root) that must hold a
        kustomization file.  ``via`` locates the reference for a problem."""
        if d in self._builds:
            if self._deps:
                self._deps[-1] |= self._kb_deps.get(d, ())
            self._note("use", d, self._builds[d])  # made before: a replay without it makes it then
            return self._builds[d]
        sf = self.kfiles.get(d if d != "." else "")
        self._dep(_marker(d))
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
            self._taint()
            owner, fp = via if via else (sf, ())
            loc = owner.loc(*fp) if isinstance(owner, Document) else None
            self._problem(Problem("kustomize-cycle", owner.path, loc.line if loc else 1, loc.column if loc else 1,
                                  f"kustomizations nest more than {MAX_NESTING} levels deep here; not followed further",
                                  hint="Flatten the chain of kustomizations."))
            return None
        if d in self._in_progress:
            self._taint()
            cycle = " -> ".join(self._in_progress[self._in_progress.index(d):] + [d])
            owner, fp = via if via else (sf, ())
            loc = owner.loc(*fp) if isinstance(owner, Document) else None
            self._problem(Problem("kustomize-cycle", owner.path, loc.line if loc else 1, loc.column if loc else 1,
                                  f"kustomization cycle: {cycle}", hint="Remove one of the references."))
            return None
        if self.memo is not None:
            return self._build_memoised(d, sf)
        self._in_progress.append(d)
        try:
            kb = self._build_kfile(d, sf)
        finally:
            self._in_progress.pop()
        self._builds[d] = kb
        return kb

    def _build_memoised(self, d: str, sf: SourceFile) -> KBuild:
        """``build`` with a memo: the build of ``d`` taken from the check before when every
        file it read is the one it read then, and it reaches no kustomization being built
        around it now (a cycle) nor nests too deep; else built and recorded. Its effects
        go to the journal of the build around it, if any."""
        if self._global_sig is None:
            self._global_sig = self._signature()
        data = (d, self._global_sig)
        hit = self.memo.lookup("build", (), data)
        if hit is not MISSING:
            kb, ops, deps, reach, depth = hit
            if len(self._in_progress) + depth < MAX_NESTING \
                    and not any(_marker(x) in reach for x in self._in_progress) \
                    and all(self._same(sig, self._sig(rel)) for rel, sig in deps) and self._consistent(ops):
                self._replay([("begin", d)] + ops + [("end", d, kb, reach, None)])
                return kb
        top = self._journal is None
        if top:
            self._journal, self._deps = [], [set()]
        journal = self._journal
        start = len(journal)
        # a build that meets a kustomization being built around it (a cycle) or the nesting
        # limit answers for where it was built from: not kept (a top-level one always is
        # built from the same place, nowhere)
        context = bool(self._in_progress) and top
        frame = [False]
        self._open.append(frame)
        journal.append(("begin", d))
        self._deps.append({_marker(d)})  # its own kustomization file
        self._in_progress.append(d)
        outer_depth, self._max_depth = self._max_depth, len(self._in_progress)
        try:
            kb = self._build_kfile(d, sf)
        finally:
            self._in_progress.pop()
            depth = self._max_depth - len(self._in_progress)
            self._max_depth = max(outer_depth, self._max_depth)
            deps = self._deps.pop()
            self._open.pop()
            if top:
                self._journal, self._deps = None, []
            else:
                self._deps[-1] |= deps
        self._builds[d] = kb
        self._kb_deps[d] = deps
        keep = not context if top else not frame[0]
        entry = (kb, journal[start + 1:], tuple((rel, self._sig(rel)) for rel in sorted(deps)), frozenset(deps),
                 depth) if keep else None
        if not top:
            # the entry rides along: replaying the build around keeps it in the memo, so
            # that a later check that needs this build alone takes the same one
            journal.append(("end", d, kb, deps, entry))
        if entry is not None:
            self.memo.store("build", (), data, entry)
        return kb

    def _taint(self) -> None:
        """The nested builds being recorded met the builds around them: not kept."""
        for frame in self._open:
            frame[0] = True

    def _consistent(self, journal: list) -> bool:
        """The builds a recorded build made are, where this check has made them already,
        the very same builds (its objects are theirs): else it is built again."""
        builds = self._builds
        for op in journal:
            if op[0] == "end" and builds.get(op[1], op[2]) is not op[2]:
                return False
            if op[0] == "use" and op[1] not in builds:
                entry = self.memo.lookup("build", (), (op[1], self._global_sig))
                if entry is MISSING or entry[0] is not op[2] or not self._consistent(entry[1]):
                    return False
            elif op[0] == "use" and builds[op[1]] is not op[2]:
                return False
        return True

    def _kdoc(self, sf: SourceFile) -> Document | None:
        for doc in sf.documents:
            if isinstance(doc.value, dict):
                return doc
        return None

    def _build_kfile(self, d: str, sf: SourceFile, overlay: FluxOverlay | None = None) -> KBuild:
        kdoc = self._kdoc(sf)
        component = kdoc is not None and kdoc.value.get("kind") == "Component"
        kb = KBuild(d, sf, top=d, overlay=overlay is not None, component=component)
        if overlay is not None:
            self._overlay(d)
        kb.docs = self._accumulate(d, sf, [], kb, overlay)
        return kb

    def _accumulate(self, d: str, sf: SourceFile, acc: list[Built], kb: KBuild,
                    overlay: FluxOverlay | None = None) -> list[Built]:
        """kustomize's ``accumulateTarget`` for the kustomization (or Component) in ``d``:
        its resources are added to ``acc`` (empty for a kustomization, the including
        kustomization's objects for a Component), then its components, then its
        generators, then its transformers run over all of them in kustomize's order."""
        self._role(sf.path, "kustomization")
        doc = self._kdoc(sf)
        if doc is None:
            return acc
        k = doc.value
        built: list[Built] = list(acc)

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
                    kb.opaque = True
                    continue
                target = self.check_path(doc, (key, i), d, e, "resource", "resource")
                if target is None:
                    kb.opaque = True  # what it would have added is unknown
                    continue
                sub, opaque = self._resource(target, doc, (key, i))
                built.extend(sub)
                kb.opaque = kb.opaque or opaque
        components = [(doc, ("components", i), e) for i, e in entries("components") if isinstance(e, str)]
        if overlay is not None:
            components += [(overlay.owner, fp, e) for e, fp in overlay.components]
        for owner, fp, e in components:
            if is_remote(e):
                kb.remotes.append((owner.path, fp, e))
                kb.opaque = True
                continue
            target = self.check_path(owner, fp, d, e, "component", "component")
            if target is None:
                kb.opaque = True
                continue
            built = self._component(target, built, kb, (owner, fp))
        for i, e in entries("crds"):
            if isinstance(e, str):
                self.check_path(doc, ("crds", i), d, e, "crd", "CRD file")
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
                        kb.opaque = True
                        continue
                    self.check_path(doc, (key, i), d, e.strip(), "plugin", f"{key[:-1]} file")
                    kb.opaque = True  # a plugin's output is not rendered here
        openapi = k.get("openapi")
        if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
            self.check_path(doc, ("openapi", "path"), d, openapi["path"], "config", "OpenAPI schema file")
        for i, e in entries("helmCharts"):
            kb.opaque = True  # kustomize renders the chart: its objects are not known here
            if isinstance(e, dict) and isinstance(e.get("valuesFile"), str) and not is_remote(e["valuesFile"]):
                self.check_path(doc, ("helmCharts", i, "valuesFile"), d, e["valuesFile"], "values", "Helm values file")
        built.extend(self._generators(doc, k, d, renamed_refs, kb))

        # the transformers, in kustomize's order (api/krusty: builtin transformer order)
        patcher = KustomizePatcher(self, doc, d, kb)
        built = patcher.strategic_merge(built)
        built = patcher.patches(built)
        ns = k.get("namespace") if isinstance(k.get("namespace"), str) else None
        if overlay is not None:
            built = self._flux_patches(built, overlay, d, kb)
            ns = overlay.target_namespace or ns
        prefix = k.get("namePrefix") if isinstance(k.get("namePrefix"), str) else ""
        suffix = k.get("nameSuffix") if isinstance(k.get("nameSuffix"), str) else ""
        built = self.transform(built, ns, prefix, suffix)
        built = patcher.labels(built)
        if overlay is not None:
            built = add_metadata(built, overlay.labels, overlay.annotations)
        built = patcher.json6902(built)
        images = images_of(k.get("images"))
        if images:
            built = [Built(b.doc, b.namespace, b.name, b.images + images, b.value) for b in built]
        built = patcher.replacements(built)
        return built

    def _component(self, target: str, built: list[Built], kb: KBuild, via: tuple) -> list[Built]:
        """A Component applied to what the including kustomization has accumulated."""
        sf = self.kfiles.get(target)
        self._dep(_marker(target))
        if sf is None:
            self.build(target, via)  # reports the missing kustomization file
            kb.opaque = True
            return built
        if target in self._in_progress:
            self._taint()
            owner, fp = via
            loc = owner.loc(*fp) if isinstance(owner, Document) else None
            cycle = " -> ".join(self._in_progress[self._in_progress.index(target):] + [target])
            self._problem(Problem("kustomize-cycle", owner.path, loc.line if loc else 1, loc.column if loc else 1,
                                  f"kustomization cycle: {cycle}", hint="Remove one of the references."))
            return built
        self._in_progress.append(target)
        try:
            ckb = KBuild(target, sf, top=kb.top, overlay=kb.overlay, component=True)
            out = self._accumulate(target, sf, built, ckb)
        finally:
            self._in_progress.pop()
        kb.remotes.extend(ckb.remotes)
        kb.opaque = kb.opaque or ckb.opaque
        return out

    def _name_references(self, rel: str) -> set[str]:
        """Kinds that a kustomize ``configurations`` file declares ``nameReference``s
        for: kustomize rewrites references to them (hash suffixes included)."""
        sf = self.files.get(rel)
        self._dep(rel)
        out: set[str] = set()
        for d in sf.documents if sf is not None else ():
            refs = d.value.get("nameReference") if isinstance(d.value, dict) else None
            for r in refs if isinstance(refs, list) else ():
                if isinstance(r, dict) and isinstance(r.get("kind"), str) and r.get("fieldSpecs"):
                    out.add(r["kind"])
        return out

    def _generators(self, doc: Document, k: dict, d: str, renamed_refs: set[str] = frozenset(),
                    kb: KBuild | None = None) -> list[Built]:
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
                                entry = f[off:].strip()
                                if is_remote(entry):  # kustomize fetches it: it can change without a commit
                                    if kb is not None:
                                        kb.remotes.append((doc.path, (key, i, fkey, j), entry))
                                    continue
                                self.check_path(doc, (key, i, fkey, j), d, entry, "generator",
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
                data = self._generator_data(g, d)
                if data:
                    value["data"] = data
                # generatorOptions' labels and annotations, then the generator's own options'
                for key in ("labels", "annotations"):
                    extra = {}
                    for src in (opts, gopts):
                        if isinstance(src.get(key), dict):
                            extra.update({str(a): "" if b is None else str(b) for a, b in src[key].items()})
                    if extra:
                        m = YMap(meta.line, meta.col)
                        m.update(extra)
                        meta[key] = m
                gdoc = Document(doc.path, doc.index, value, meta.line, meta.col,
                                origin="generator", name_hash=not no_hash)
                self._generated_doc(gdoc)
                out.append(Built(gdoc, meta.get("namespace", ""), name))
        return out

    def _generator_data(self, g: dict, d: str) -> YMap:
        """The data keys a generator produces (``literals``, ``files``, ``envs``), with
        their values where the repository holds them as text (YAML files it read, literal
        values); None where the value is not known here."""
        data = YMap(1, 1)
        lits = g.get("literals")
        for lit in lits if isinstance(lits, list) else ():
            if isinstance(lit, str) and "=" in lit:
                k, _, v = lit.partition("=")
                data[k.strip()] = v.strip().strip("'\"")
        fl = g.get("files")
        for f in fl if isinstance(fl, list) else ():
            if not isinstance(f, str):
                continue
            key, eq, path = f.partition("=")
            if not eq:
                key, path = f.rpartition("/")[2], f
            rel = _norm(d, path.strip())
            sf = self.files.get(rel)
            self._dep(rel)
            data[key.strip()] = sf.text if sf is not None and sf.text is not None else None
        envs = g.get("envs") if isinstance(g.get("envs"), list) else ([g["env"]] if isinstance(g.get("env"), str) else [])
        for e in envs:
            if not isinstance(e, str) or is_remote(e) or e.strip().startswith("/"):
                continue
            rel = _norm(d, e.strip())
            if not self.contained(rel):
                continue  # never read outside the root (check_path reports it)
            self._dep(DATA_DEP + rel)
            data_bytes = self.read_data(rel)
            if data_bytes is None:
                continue
            for line in data_bytes.decode("utf-8", "replace").splitlines():
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, _, v = line.partition("=")
                    data[k.strip()] = v.strip()
        return data

    def _resource(self, target: str, owner: Document, fp: tuple) -> tuple[list[Built], bool]:
        """Documents of a resource entry (a file's objects, or a directory's build), and
        whether it may hold objects not rendered here."""
        if os.path.isdir(self.abspath(target)):
            self._plain(target)
            sub = self.build(target, (owner, fp))
            return (list(sub.docs), sub.opaque) if sub is not None else ([], True)
        sf = self.files.get(target)
        self._dep(target)
        self._role(target, "resource")
        if sf is None:
            # exists, but is not a YAML file we list (e.g. *.json): nothing to index
            return [], True
        objs = self._file_objects(sf, owner, fp)
        # a file without objects (a placeholder, such as an uncommitted gotk-components.yaml)
        return objs, not objs

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

    def flux_build(self, path: str, ks: Document, matcher: Matcher | None,
                   overlay: FluxOverlay | None = None) -> list[Built]:
        """Documents a Flux Kustomization applies from ``path`` (root-relative), built as
        kustomize-controller builds them (``overlay``: what the Kustomization adds)."""
        owner = overlay.owner if overlay is not None else None
        key = (path, id(matcher), id(owner))
        hit = self._flux_builds.get(key)
        # the entry holds the matcher and the owner: their ids are not reused while it lives
        if hit is not None and hit[0] is matcher and hit[1] is owner:
            return hit[2]
        if self.memo is not None and self._journal is None and not self._in_progress:
            # what the overlay adds is read from its owner's value (the spec as applied); a
            # check builds once per owner object (above), so the n-th owner of the same
            # value takes the n-th build, as a check without the memo would
            value = overlay.owner.value if overlay is not None else None
            owners = self._owners.setdefault((path, id(ks), id(value)), [])
            if overlay is not None and not any(o is owner for o in owners):
                owners.append(owner)
            nth = next(i for i, o in enumerate(owners) if o is owner) if overlay is not None else 0
            built = self._memoised(
                "flux-build", (ks, value), (path, matcher.signature() if matcher is not None else None, nth),
                lambda: self._flux_build(path, ks, matcher, overlay))
        else:
            built = self._flux_build(path, ks, matcher, overlay)
        self._flux_builds[key] = (matcher, owner, built)
        return built

    def _flux_build(self, path: str, ks: Document, matcher: Matcher | None,
                    overlay: FluxOverlay | None) -> list[Built]:
        if path in self.kfiles or (path == "" and "" in self.kfiles):
            if overlay is not None:
                self._dep(_marker(path))
                self._in_progress.append(path)
                try:
                    built = self._build_kfile(path, self.kfiles[path], overlay).docs
                finally:
                    self._in_progress.pop()
            else:
                self._plain(path)
                kb = self.build(path, (ks, ("spec", "path")))
                built = list(kb.docs) if kb is not None else []
        else:
            # the kustomization kustomize-controller generates: every manifest of the path,
            # then what the Flux Kustomization adds
            built = self._generated(path, ks, matcher)
            if overlay is not None:
                kb = KBuild(path, None, top=path, overlay=True)
                self._overlay(path)
                for e, fp in overlay.components:
                    target = self.check_path(ks, fp, path, e, "component", "component")
                    if target is not None:
                        built = self._component(target, built, kb, (ks, fp))
                built = self._flux_patches(built, overlay, path, kb)
                built = self.transform(built, overlay.target_namespace, "", "")
                built = add_metadata(built, overlay.labels, overlay.annotations)
        return built

    def _flux_patches(self, built: list[Built], overlay: FluxOverlay, d: str, kb: KBuild) -> list[Built]:
        if not overlay.patches:
            return built
        return KustomizePatcher(self, overlay.owner, d, kb, base=("spec",),
                                own_entries=overlay.own_patches).patches(built)

    def _generated(self, path: str, ks: Document, matcher: Matcher | None) -> list[Built]:
        out: list[Built] = []
        for rel, is_dir in self._generated_entries(path, matcher):
            if is_dir:
                sub = self.build(rel, (ks, ("spec", "path")))
                if sub is not None:
                    out.extend(sub.docs)
                continue
            sf = self.files.get(rel)
            self._dep(rel)
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

    def _generated_entries(self, path: str, matcher: Matcher | None) -> list[tuple[str, bool]]:
        """What kustomize-controller's generated kustomization takes from ``path``, in its
        order: (rel, True) for a sub-directory with its own kustomization file (one unit),
        (rel, False) for a ``.yaml``/``.yml`` file; what the source ignores is left out.
        (Kept in the memo: it reads only the listing, which an edit does not change.)"""
        if self.memo is None:
            return self._scan_generated(path, matcher)
        sig = matcher.signature() if matcher is not None else None
        if self._kfiles_sig is None:
            self._kfiles_sig = tuple(sorted(self.kfiles))
        return self.memo.get("generated", (), (path, sig, self._kfiles_sig),
                             lambda: self._scan_generated(path, matcher))

    def _scan_generated(self, path: str, matcher: Matcher | None) -> list[tuple[str, bool]]:
        out: list[tuple[str, bool]] = []
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
                        out.append((rel, True))
                        continue
                    if e.name == ".git":
                        continue
                    stack.append(rel)
                    continue
                if e.name.endswith((".yaml", ".yml")):
                    out.append((rel, False))
        return out


# --------------------------------------------------------------------------- transformers


def add_metadata(built: list[Built], labels: dict, annotations: dict) -> list[Built]:
    """Labels and annotations added to every object's metadata (kustomize's label and
    annotation transformers; Flux's ``commonMetadata``)."""
    if not labels and not annotations:
        return built
    out = []
    for b in built:
        value = b.current
        if not isinstance(value, dict):
            out.append(b)
            continue
        value = copy_shallow(value)
        meta = copy_shallow(value.get("metadata")) if isinstance(value.get("metadata"), dict) else YMap(
            b.doc.line, b.doc.column)
        for key, extra in (("labels", labels), ("annotations", annotations)):
            if extra:
                cur = copy_shallow(meta.get(key)) if isinstance(meta.get(key), dict) else YMap(meta.line, meta.col)
                cur.update(extra)
                meta[key] = cur
        value["metadata"] = meta
        out.append(b.with_value(value))
    return out


class KustomizePatcher:
    """The patch, label and replacement transformers of one kustomization (or Component),
    applied to the objects it has accumulated; failures become problems at the entry."""

    def __init__(self, resolver: "Resolver", doc: Document, d: str, kb: KBuild, base: tuple = (),
                 own_entries: list | None = None):
        self.r, self.doc, self.d, self.kb, self.base = resolver, doc, d, kb, base
        self.own_entries = own_entries
        k = doc.value
        for step in base:
            k = k.get(step) if isinstance(k, dict) else None
        self.k = k if isinstance(k, dict) else {}

    # ---------------------------------------------------------------- helpers

    def _entries(self, key: str):
        v = self.k.get(key)
        if isinstance(v, list):
            yield from enumerate(v)

    def _obj(self, b: Built) -> Obj:
        value = b.current
        group, version = split_api_version(value.get("apiVersion") if isinstance(value, dict) else None)
        kind = value.get("kind") if isinstance(value, dict) and isinstance(value.get("kind"), str) else ""
        return Obj(value, kind, b.name, b.namespace, group, version, orig_name=b.doc.name,
                   orig_namespace=b.doc.namespace, cluster_scoped=kind in self.r.cluster_kinds)

    def _problem(self, kind: str, fp: tuple, message: str, hint: str, related=None) -> None:
        # a field of an entry (`target`, `source`) is located at its key
        loc = self.doc.loc(*(self.base + fp), key=isinstance(fp[-1], str) and len(fp) > 2)
        self.r.defer(self.kb, Problem(kind, self.doc.path, loc.line, loc.column, message, hint=hint,
                                      end_line=loc.end_line, end_column=loc.end_column, related=related or []))

    def _bodies(self, entry, fp: tuple, inline_key: str, path_key: str) -> list | None:
        """The patch documents of an entry (inline text, or the file it names)."""
        if isinstance(entry, str):  # patchesStrategicMerge: a path or an inline patch
            if "\n" in entry or ":" in entry.split("/")[0]:
                return self._inline(entry, fp)
            target = self.r.check_path(self.doc, self.base + fp, self.d, entry.strip(), "patch", "patch")
            return self._file(target)
        if not isinstance(entry, dict):
            return None
        if isinstance(entry.get(inline_key), str):
            return self._inline(entry[inline_key], fp + (inline_key,))
        if isinstance(entry.get(path_key), str):
            target = self.r.check_path(self.doc, self.base + fp + (path_key,), self.d, entry[path_key], "patch", "patch")
            return self._file(target)
        return None

    def _inline(self, text: str, fp: tuple) -> list | None:
        bodies, error = parse_patch(text)
        if error is not None:
            self._problem("patch-failed", fp, f"the patch is not valid YAML: {error}", "Fix the patch's YAML.")
            return None
        return bodies

    def _file(self, target: str | None) -> list | None:
        if target is None:
            return None
        sf = self.r.files.get(target)
        self.r._dep(target)
        if sf is None or sf.skip_reason is not None or any(p.kind == "syntax" for p in sf.problems):
            return None  # unreadable or broken: reported as such
        return [d.value for d in sf.documents if d.value is not None]

    def _own(self, fp: tuple) -> bool:
        """The entry is written in this document (not added by a parent Kustomization's
        patches, which give every child the same entries whether they match or not)."""
        if self.own_entries is None:
            return True
        entry = self.k.get(fp[0])
        entry = entry[fp[1]] if isinstance(entry, list) and len(fp) > 1 and fp[1] < len(entry) else None
        return any(entry is e for e in self.own_entries)

    def _related(self, b: Built, message: str) -> list[Related]:
        return [Related(b.doc.path, b.doc.line, b.doc.column, message)]

    def _apply(self, built: list[Built], body, fp: tuple, target, what: str) -> list[Built]:
        """One patch document with a target (or, for a strategic-merge patch, its own id)."""
        if isinstance(body, dict) and body.get("$patch") == "delete" and target is None:
            pass  # a deletion patch: applied below like any other (the object is dropped)
        if target is None and not isinstance(body, dict):
            self._problem("patch-failed", fp, f"a JSON 6902 {what} needs a `target`",
                          "Add `target:` naming the objects to patch.")
            return built
        out = []
        matched = 0
        for b in built:
            obj = self._obj(b)
            try:
                hit = target_matches(target, obj) if target is not None else smp_matches(body, obj)
            except PatchError as exc:
                if getattr(exc, "unsupported", False):
                    return built  # a pattern not evaluable here: leave the build as it is
                self._problem("patch-failed", fp + ("target",), f"{what}: {exc}", "Fix the target.")
                return built
            if not hit:
                out.append(b)
                continue
            matched += 1
            try:
                value = apply_body(obj.value, body, target is not None)
            except PatchError as exc:
                self._problem("patch-failed", fp, f"{what} fails on {obj.kind} `{b.name}`: {exc}",
                              "Fix the patch so that it applies to the object, or narrow its target.",
                              self._related(b, "the patched object"))
                out.append(b)
                continue
            if value is None:
                continue  # `$patch: delete`: kustomize drops the object
            out.append(b.with_value(value))
        if matched == 0 and not self.kb.opaque:
            if target is None:
                meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
                self._problem("patch-failed", fp,
                              f"{what} for {body.get('kind')} `{meta.get('name')}` matches no object of this build; "
                              "kustomize fails (no matches for the patch's id)",
                              "Fix the patch's apiVersion, kind and name, or add a `target`.")
            elif not self.kb.component and self._own(fp):
                # a Component is a mixin: its targeted patches need not match every includer
                self._problem("patch-no-match", fp + ("target",),
                              f"{what}'s target matches no object of this build; kustomize skips it",
                              "Fix the target, or remove the patch.")
        elif matched > 1 and target is None:
            self._problem("patch-failed", fp, f"{what} matches {matched} objects; kustomize fails (multiple matches "
                          "for the patch's id)", "Add a `target` (or a namespace) that selects one object.")
            return built
        return out

    # ---------------------------------------------------------------- the transformers

    def strategic_merge(self, built: list[Built]) -> list[Built]:
        for i, e in self._entries("patchesStrategicMerge"):
            for body in self._bodies(e, ("patchesStrategicMerge", i), "", "") or ():
                if isinstance(body, dict):
                    built = self._apply(built, body, ("patchesStrategicMerge", i), None, "strategic-merge patch")
        return built

    def patches(self, built: list[Built]) -> list[Built]:
        for i, e in self._entries("patches"):
            if not isinstance(e, dict):
                continue
            target = e.get("target") if isinstance(e.get("target"), dict) else None
            for body in self._bodies(e, ("patches", i), "patch", "path") or ():
                built = self._apply(built, body, ("patches", i), target, "patch")
        return built

    def json6902(self, built: list[Built]) -> list[Built]:
        for i, e in self._entries("patchesJson6902"):
            if not isinstance(e, dict):
                continue
            target = e.get("target") if isinstance(e.get("target"), dict) else None
            if target is None:
                self._problem("patch-failed", ("patchesJson6902", i), "a patchesJson6902 entry needs a `target`",
                              "Add `target:` naming the object to patch.")
                continue
            for body in self._bodies(e, ("patchesJson6902", i), "patch", "path") or ():
                if isinstance(body, list):
                    built = self._apply(built, body, ("patchesJson6902", i), target, "JSON 6902 patch")
        return built

    def labels(self, built: list[Built]) -> list[Built]:
        """``commonLabels``, ``labels`` and ``commonAnnotations`` on every object's metadata."""
        add_labels: dict = {}
        common = self.k.get("commonLabels")
        if isinstance(common, dict):
            add_labels.update({str(a): "" if b is None else str(b) for a, b in common.items()})
        for _i, e in self._entries("labels"):
            pairs = e.get("pairs") if isinstance(e, dict) else None
            if isinstance(pairs, dict):
                add_labels.update({str(a): "" if b is None else str(b) for a, b in pairs.items()})
        annotations = self.k.get("commonAnnotations")
        add_annotations = {str(a): "" if b is None else str(b) for a, b in annotations.items()} \
            if isinstance(annotations, dict) else {}
        return add_metadata(built, add_labels, add_annotations)

    def replacements(self, built: list[Built]) -> list[Built]:
        for i, e in self._entries("replacements"):
            fp = ("replacements", i)
            specs = [e]
            if isinstance(e, dict) and isinstance(e.get("path"), str):
                target = self.r.check_path(self.doc, self.base + fp + ("path",), self.d, e["path"], "config", "replacement file")
                docs = self._file(target)
                if docs is None:
                    continue
                specs = [x for d in docs for x in (d if isinstance(d, list) else [d])]
            for spec in specs:
                if isinstance(spec, dict) and isinstance(spec.get("source"), dict):
                    built = self._replacement(built, spec, fp)
        return built

    def _select(self, built: list[Built], sel: dict) -> list[int]:
        target = {k: v for k, v in sel.items() if k in ("group", "version", "kind", "name", "namespace",
                                                        "labelSelector", "annotationSelector")}
        out = []
        for n, b in enumerate(built):
            try:
                if target_matches(target, self._obj(b)):
                    out.append(n)
            except PatchError:
                return []
        return out

    def _replacement(self, built: list[Built], spec: dict, fp: tuple) -> list[Built]:
        source = spec["source"]
        hits = self._select(built, source)
        what = "replacement source " + "/".join(str(source.get(k)) for k in ("kind", "name") if source.get(k))
        if not hits:
            if not self.kb.opaque:
                self._problem("replacement-failed", fp + ("source",), f"{what} selects no object; kustomize fails",
                              "Fix the source's kind and name.")
            return built
        if len(hits) > 1:
            self._problem("replacement-failed", fp + ("source",), f"{what} selects {len(hits)} objects; kustomize "
                          "fails (multiple matches)", "Narrow the source with a namespace or more fields.")
            return built
        src = built[hits[0]]
        field_path = source.get("fieldPath") if isinstance(source.get("fieldPath"), str) else "metadata.name"
        found, value = field_get(src.current, split_field_path(field_path))
        if field_path == "metadata.name":
            found, value = True, src.name
        elif field_path == "metadata.namespace":
            found, value = True, src.namespace
        if not found:
            self._problem("replacement-failed", fp + ("source",), f"{what} has no `{field_path}`; kustomize fails",
                          "Fix the source's fieldPath.", self._related(src, "the source object"))
            return built
        if value is None and src.doc.origin == "generator":
            return built  # generated from a file whose content is not known here
        options = source.get("options") if isinstance(source.get("options"), dict) else {}
        if options.get("delimiter") and isinstance(value, str):
            parts = value.split(options["delimiter"])
            idx = options.get("index") if isinstance(options.get("index"), int) else 0
            value = parts[idx] if 0 <= idx < len(parts) else value
        targets = spec.get("targets") if isinstance(spec.get("targets"), list) else []
        for j, t in enumerate(targets):
            if not isinstance(t, dict) or not isinstance(t.get("select"), dict):
                continue
            chosen = set(self._select(built, t["select"]))
            for rej in t.get("reject") if isinstance(t.get("reject"), list) else ():
                if isinstance(rej, dict):
                    chosen -= set(self._select(built, rej))
            topts = t.get("options") if isinstance(t.get("options"), dict) else {}
            paths = [p for p in (t.get("fieldPaths") if isinstance(t.get("fieldPaths"), list) else ["metadata.name"])
                     if isinstance(p, str)]
            for n in sorted(chosen):
                b = built[n]
                current = b.current
                for path in paths:
                    steps = split_field_path(path)
                    if any("*" in s for s in steps):
                        continue  # wildcard paths: not evaluated here
                    try:
                        current = replace_in(current, steps, value, topts, bool(topts.get("create")))
                    except PatchError as exc:
                        self._problem("replacement-failed", fp + ("targets", j),
                                      f"replacement target {b.doc.kind} `{b.name}` has no `{path}` ({exc}); kustomize "
                                      "fails", "Add the field, or set `options.create: true`.",
                                      self._related(b, "the target object"))
                        break
                if path in ("metadata.name",) and isinstance(value, str):
                    built[n] = Built(b.doc, b.namespace, value, b.images, None if current is b.doc.value else current)
                elif path == "metadata.namespace" and isinstance(value, str):
                    built[n] = Built(b.doc, value, b.name, b.images, None if current is b.doc.value else current)
                else:
                    built[n] = b.with_value(current)
        return built
