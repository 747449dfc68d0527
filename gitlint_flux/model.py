"""The core model: YAML values with positions, documents, object keys, references,
findings and the run report.

This module imports nothing else of the project; every other layer builds on it.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from dataclasses import dataclass, field
from typing import Any, Generic, Iterator, NamedTuple, TypeVar

# --------------------------------------------------------------------------- severities

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)
SEVERITY_RANK = {ERROR: 3, WARNING: 2, INFO: 1}


# --------------------------------------------------------------------------- positioned YAML


def _ints(packed: bytes | None):
    """The integers of a packed position block (native 32-bit ints, see yamlcompose)."""
    a = array("i")
    if packed:
        a.frombytes(packed)
    return a


class YMap(dict):
    """A YAML mapping: a plain ``dict`` that also knows where it and its entries are.

    ``line``/``col`` locate the mapping itself (1-based, code points); ``pos[key]`` is
    ``(key_line, key_col, value_line, value_col, value_end_line, value_end_col)``.

    The parser stores positions compactly: ``_pv`` holds six 32-bit integers a key, as
    bytes, in the order of the keys (a parsed value is never changed in place: transforms
    copy), a quarter of the memory of a dict of tuples. ``pos`` turns them into that dict
    the first time it is asked for, which only the mappings a finding or a transform
    touches ever are.
    """

    __slots__ = ("line", "col", "_pv", "_pd")

    def __init__(self, line: int = 0, col: int = 0):
        super().__init__()
        self.line = line
        self.col = col
        self._pv: bytes | None = None
        self._pd: dict[Any, tuple[int, int, int, int, int, int]] | None = None

    def _unpacked(self) -> dict[Any, tuple[int, int, int, int, int, int]]:
        v = _ints(self._pv)
        n = len(v) // 6
        # keys added after parsing (a `<<` merge) come last and have no packed position
        return {k: tuple(v[6 * i:6 * i + 6]) for i, k in zip(range(n), self)}

    @property
    def pos(self) -> dict[Any, tuple[int, int, int, int, int, int]]:
        pd = self._pd
        if pd is None:
            pd = self._pd = self._unpacked()
            self._pv = None
        return pd

    @pos.setter
    def pos(self, value: dict) -> None:
        self._pv, self._pd = None, value

    def copy_positions(self, other: "YMap") -> None:
        """Positions of ``other``, for a copy that is about to be changed (keys added or
        removed): a dict of its own, leaving ``other`` compact."""
        self._pv, self._pd = None, (other._unpacked() if other._pd is None else dict(other._pd))


class YSeq(list):
    """A YAML sequence: a plain ``list`` with ``line``/``col`` and per-item ``pos``
    ``(line, col, end_line, end_col)`` (stored as four integers per item until asked for,
    like ``YMap``)."""

    __slots__ = ("line", "col", "_pv", "_pl")

    def __init__(self, line: int = 0, col: int = 0):
        super().__init__()
        self.line = line
        self.col = col
        self._pv = None
        self._pl: list[tuple[int, int, int, int]] | None = None

    @property
    def pos(self) -> list[tuple[int, int, int, int]]:
        pl = self._pl
        if pl is None:
            v = _ints(self._pv)
            pl = self._pl = [tuple(v[i:i + 4]) for i in range(0, len(v), 4)] if v else []
            self._pv = None
        return pl

    @pos.setter
    def pos(self, value: list) -> None:
        self._pv, self._pl = None, value


class Loc(NamedTuple):
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None


def locate(root: Any, path: tuple | list, *, key: bool = False) -> Loc | None:
    """Position of the value (or, with ``key=True``, of the key) at ``path`` under
    ``root``.  Falls back to the deepest ancestor that exists."""
    node = root
    best: Loc | None = None
    if isinstance(root, (YMap, YSeq)):
        best = Loc(root.line, root.col)
    for i, step in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, YMap) and step in node.pos:
            kl, kc, vl, vc, el, ec = node.pos[step]
            if last and key:
                end = kc + len(step) if isinstance(step, str) and "\n" not in step else None
                return Loc(kl, kc, kl if end is not None else None, end)
            best = Loc(vl, vc, el, ec)
            node = node[step]
        elif isinstance(node, YSeq) and isinstance(step, int) and 0 <= step < len(node):
            vl, vc, el, ec = node.pos[step]
            best = Loc(vl, vc, el, ec)
            node = node[step]
        else:
            return best
    return best


_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def line_col_after(prefix: str) -> tuple[int, int]:
    """Position just after ``prefix`` (the text before an offending character), counting
    line breaks as libyaml does (CRLF, CR, LF, NEL, LS, PS)."""
    last = None
    n = 0
    for m in _BREAKS.finditer(prefix):
        n += 1
        last = m
    start = last.end() if last is not None else 0
    return n + 1, len(prefix) - start + 1


def get_path(root: Any, path: tuple | list, default: Any = None) -> Any:
    node = root
    for step in path:
        if isinstance(node, dict):
            if step not in node:
                return default
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return default
    return node


def in_selection(path: str, sel: list[str]) -> bool:
    """``path`` is one of the root-relative paths of ``sel`` or lies under one of them."""
    return any(path == s or path.startswith(s.rstrip("/") + "/") for s in sel)


def json_path(path: tuple | list) -> str:
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out or "."


# --------------------------------------------------------------------------- files and documents


@dataclass(slots=True)
class Problem:
    """Something the loader or the graph found wrong while reading; a rule turns it into
    a finding.  ``kind`` is the problem family (e.g. ``syntax``, ``missing-reference``)."""

    kind: str
    path: str
    line: int
    column: int
    message: str
    hint: str = ""
    end_line: int | None = None
    end_column: int | None = None
    resource: dict | None = None
    related: list["Related"] = field(default_factory=list)
    data: dict = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Document:
    """One YAML document (or one item of a ``kind: List``) of a file."""

    path: str  # root-relative, "/" separators
    index: int  # position of the document in its file (0-based)
    value: Any  # YMap / YSeq / scalar
    line: int
    column: int
    item: int | None = None  # index in a List document's ``items``
    # "" for a document of the file; "generator" for a kustomize configMap/secretGenerator
    # entry; "synthetic" for an object Flux creates that the tree only describes
    # (a FluxInstance's sync Kustomization, a configured root); "resourceset" for an
    # object a ResourceSet renders
    origin: str = ""
    name_hash: bool = False  # generated name gets kustomize's hash suffix
    #: for an object a ResourceSet renders (origin "resourceset"): the ResourceSet's
    #: document, and which input set produced it
    source: Any = None
    input_label: str = ""
    # `apiVersion` and `kind`, read once (a document's value is never replaced, and the
    # stages read these of every document many times)
    _api_version: str | None = field(default=None, init=False, repr=False, compare=False)
    _kind: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def is_object(self) -> bool:
        return isinstance(self.value, dict) and bool(self.api_version) and bool(self.kind)

    @property
    def is_resource(self) -> bool:
        """An object kustomize emits (kustomization files themselves are not)."""
        return self.is_object and not self.api_version.startswith("kustomize.config.k8s.io/")

    @property
    def api_version(self) -> str:
        av = self._api_version
        if av is None:
            v = self.value.get("apiVersion") if isinstance(self.value, dict) else None
            av = self._api_version = v if isinstance(v, str) else ""
        return av

    @property
    def kind(self) -> str:
        k = self._kind
        if k is None:
            v = self.value.get("kind") if isinstance(self.value, dict) else None
            k = self._kind = v if isinstance(v, str) else ""
        return k

    @property
    def group(self) -> str:
        av = self.api_version
        return av.rsplit("/", 1)[0] if "/" in av else ""

    @property
    def metadata(self) -> dict:
        m = self.value.get("metadata") if isinstance(self.value, dict) else None
        return m if isinstance(m, dict) else {}

    @property
    def name(self) -> str:
        n = self.metadata.get("name")
        return n if isinstance(n, str) else ""

    @property
    def namespace(self) -> str:
        n = self.metadata.get("namespace")
        return n if isinstance(n, str) else ""

    @property
    def spec(self) -> dict:
        s = self.value.get("spec") if isinstance(self.value, dict) else None
        return s if isinstance(s, dict) else {}

    def loc(self, *path, key: bool = False) -> Loc:
        found = locate(self.value, path, key=key) if path else None
        return found or Loc(self.line, self.column)

    def __repr__(self) -> str:
        return f"<Document {self.path}#{self.index} {self.kind}/{self.name}>"


@dataclass(slots=True, eq=False)
class SourceFile:
    """A file of the tree: read, parsed, or skipped with a reason."""

    path: str  # root-relative
    abspath: str
    size: int = 0
    text: str | None = None
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skip_reason: str | None = None  # set when the file is not linted
    is_kustomization: bool = False
    is_template: bool = False  # looks like a Go template (used when it fails to parse)
    digest: str = ""  # content hash of the bytes read (empty when not read)

    @property
    def objects(self) -> list[Document]:
        """Kubernetes resources of the file (kustomization documents excluded)."""
        return [d for d in self.documents if d.is_resource]

    def copy(self) -> "SourceFile":
        """A copy the stages may mark (skip reason, lists) without touching this one; the
        documents themselves are shared."""
        return SourceFile(self.path, self.abspath, self.size, self.text, list(self.documents), list(self.problems),
                          self.skip_reason, self.is_kustomization, self.is_template, self.digest)


# --------------------------------------------------------------------------- object keys and edges


class ObjKey(NamedTuple):
    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{ns}{self.name}"


@dataclass(slots=True, eq=False)
class Applied:
    """A document as a Flux Kustomization applies it: after the identity transforms that
    kustomize (``namespace``, ``namePrefix``, ``nameSuffix``) and Flux
    (``targetNamespace``) state."""

    doc: Document
    namespace: str
    name: str
    scope: str
    by: "Document | None"  # the Flux Kustomization that applies it (None for a root itself)
    #: the object as applied: after the applying Kustomization's patches and post-build
    #: substitution (None: the document's own value)
    effective: Any = None
    images: tuple = ()  # kustomize `images:` overrides that apply to it, innermost first
    #: post-build variables the applying Kustomization defines (name -> value, None when
    #: the value is not known, e.g. encrypted); None when it has no postBuild
    variables: dict | None = None
    variables_complete: bool = True  # every substituteFrom source was found in the repository
    #: the value kustomize builds, before post-build substitution (None: the document's own)
    built: Any = None

    @property
    def value(self) -> Any:
        return self.doc.value if self.effective is None else self.effective

    @property
    def built_value(self) -> Any:
        """The object as kustomize builds it, before post-build substitution."""
        return self.doc.value if self.built is None else self.built

    @property
    def spec(self) -> dict:
        s = self.value.get("spec") if isinstance(self.value, dict) else None
        return s if isinstance(s, dict) else {}

    @property
    def key(self) -> ObjKey:
        return ObjKey(self.doc.group, self.doc.kind, self.namespace, self.name)


RESOLVED = "resolved"
DANGLING = "dangling"
EXTERNAL = "external"


@dataclass(slots=True, eq=False)
class Edge:
    """A reference from one Flux object to another."""

    kind: str  # dependsOn, sourceRef, chartRef, valuesFrom, substituteFrom, secretRef, ...
    source: Applied
    field_path: tuple
    target: ObjKey  # group may be "" when the reference names no group
    state: str  # RESOLVED / DANGLING / EXTERNAL
    resolved: Applied | None = None
    optional: bool = False
    note: str = ""


# --------------------------------------------------------------------------- findings

_LINE_REF = re.compile(r"\b(line|column) \d+")
#: a count in a message ("50 documents", "and 3 more", "2 object(s)"): a figure that changes
#: when an unrelated file or object is added, so never part of a finding's identity
_COUNT = r"\b\d+ (?:more|documents?|files?|objects?|object\(s\)|entries|entry|resources?|items?|times)\b"
_COUNT_RE = re.compile(_COUNT)
#: a parenthesis holding such a count ("(`v1`, `v2`; 50 documents in 46 files)") is context,
#: not identity: it goes as a whole
_COUNT_PAREN = re.compile(r"\s*\([^()]*" + _COUNT + r"[^()]*\)")


def identity_message(message: str) -> str:
    """The part of a message that identifies a finding: the message without references
    to other lines and without repository-wide figures (counts, and the parenthesis that
    holds them). Fingerprints and JUnit test names are made from it, so adding an unrelated
    file never changes another finding's identity."""
    first = _LINE_REF.sub(r"\1 N", message)
    first = _COUNT_PAREN.sub("", first)
    return _COUNT_RE.sub(lambda m: "N " + m.group().split(" ", 1)[1], first)


@dataclass(slots=True)
class Related:
    path: str
    line: int
    column: int
    message: str = ""

    def to_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "column": self.column, "message": self.message}


@dataclass(slots=True)
class Finding:
    rule: str  # code, e.g. FLX101
    slug: str
    severity: str
    message: str
    path: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None
    resource: dict | None = None
    hint: str = ""
    url: str = ""
    related: list[Related] = field(default_factory=list)
    fingerprint: str = ""
    #: context caps a rule or stage asks for, as ``(severity, reason)`` pairs: the findings
    #: pipeline lowers the severity to the lowest cap (``gitlint_flux/findings.py``)
    caps: list = field(default_factory=list)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.rule, self.message)

    def compute_fingerprint(self, salt: str = "") -> str:
        """A fingerprint that ignores line numbers: rule, path, resource and the message's
        identity (``identity_message``: no line numbers, no repository-wide counts), plus a
        salt that tells identical findings in one file apart (their order of appearance)."""
        res = self.resource or {}
        message = identity_message(self.message)
        basis = "\x1f".join(
            [
                self.rule,
                self.path,
                str(res.get("kind", "")),
                str(res.get("namespace", "")),
                str(res.get("name", "")),
                message,
                salt,
            ]
        )
        return hashlib.sha256(basis.encode("utf-8", "backslashreplace")).hexdigest()[:32]

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "slug": self.slug,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "resource": self.resource,
            "hint": self.hint,
            "url": self.url,
            "fingerprint": self.fingerprint,
            "related": [r.to_dict() for r in self.related],
        }


def resource_of(doc: Document | None, namespace: str | None = None, name: str | None = None) -> dict | None:
    if doc is None or not doc.is_object:
        return None
    return {
        "apiVersion": doc.api_version,
        "kind": doc.kind,
        "namespace": doc.namespace if namespace is None else namespace,
        "name": doc.name if name is None else name,
    }


@dataclass(slots=True)
class RuleInfo:
    """Rule metadata as the formatters see it."""

    code: str
    slug: str
    severity: str
    summary: str
    description: str
    url: str


@dataclass(slots=True)
class Skipped:
    path: str
    reason: str


@dataclass
class RunReport:
    """Everything a formatter may see of a run."""

    tool_name: str
    tool_version: str
    root: str
    findings: list[Finding]
    files: list[str]  # linted files (root-relative)
    skipped: list[Skipped]
    documents: int
    rules: dict[str, RuleInfo]
    #: findings below ``--min-severity``, left out of every report: their count per severity
    #: (they still count for the exit code; ``findings.view``)
    hidden: dict[str, int] = field(default_factory=dict)
    #: the ``--min-severity`` that hid them (None: nothing hidden)
    min_severity: str | None = None

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def hidden_count(self, at_least: str | None = None) -> int:
        """Hidden findings (at or above ``at_least``)."""
        floor = SEVERITY_RANK[at_least] if at_least else 0
        return sum(n for sev, n in self.hidden.items() if SEVERITY_RANK[sev] >= floor)

    def iter_sorted(self) -> Iterator[Finding]:
        return iter(sorted(self.findings, key=Finding.sort_key))


T = TypeVar("T")


class MemoKey(Generic[T]):
    """A typed key of ``Context.memo``: ``KEY = MemoKey[Index]("docs by kind and name")``."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"MemoKey({self.name!r})"
