"""The edits of each automatic fix: a ``Proposal`` per finding (``propose``), checked and
applied by ``gitlint_flux.fix``. Loaded only when fixing.

Every edit is a span of the file's text found from the loader's positions; nothing is
re-serialised: what moves is copied line by line (re-indented), what is renamed is the
key's text, so comments, quoting, anchors and line endings elsewhere stay as written.

The fixes:

* **removed Flux API versions** (FLX207, FLX208): the object's `apiVersion`, and
  everything that names the old version of that object: the strategic-merge patches of
  it (files and inline patches of the kustomizations that build it, and of the Flux
  Kustomizations that apply it), patch `target.version`, `healthChecks` entries. Only
  where the cluster's Flux serves the newer version (``INTRODUCED``); fields the newer
  version removed are converted where an exact equivalent exists (HelmRelease
  `chart.spec.valuesFile` → `valuesFiles`; `patchesStrategicMerge`/`patchesJson6902` of
  HelmRelease post-renderers and of Kustomization `spec` → `patches`), refused by name
  otherwise (Kustomization `spec.validation`);
* **kustomization deprecations** (FLX211): `bases` → `resources`,
  `patchesStrategicMerge` → `patches`, `patchesJson6902` → `patches`, `commonLabels` →
  `labels` with `includeSelectors: true`;
* **a shell `${VAR}`** in a script (FLX701, unsafe) → `$${VAR}`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .graph import is_flux_ks
from .model import Document, Finding, YMap, YSeq, get_path
from .substitution import variables_in

DocId = tuple  # (path, index, item): a document of the tree, the same before and after a fix


def doc_id(doc: Document) -> DocId:
    return (doc.path, doc.index, doc.item, doc.origin)


# --------------------------------------------------------------------------- edits and proposals


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` of the file at ``path`` (root-relative) by ``new``.
    Offsets are code points of the decoded text; ``new`` uses ``\\n`` for a line break
    (written as the file's own line ending)."""

    path: str
    start: int
    end: int
    new: str


@dataclass
class Proposal:
    """A fix of one finding: its edits, the change it means to make in the objects as built
    (``changes``: a document -> functions of its built value), the documents that must
    validate afterwards (``recheck``), or why there is no fix (``reason``)."""

    finding: Finding
    safe: bool
    summary: str = ""
    edits: list[Edit] = field(default_factory=list)
    changes: dict[DocId, list[Callable[[Any], Any]]] = field(default_factory=dict)
    recheck: set[DocId] = field(default_factory=set)
    reason: str = ""
    #: the proposal rewrites the file's structure: alone in its file in one round
    exclusive: bool = False
    #: the schema finding that must be gone afterwards: (rule, path, message)
    gone: tuple | None = None

    def refused(self, reason: str) -> "Proposal":
        self.reason = reason
        self.edits = []
        return self

    @property
    def paths(self) -> set[str]:
        return {e.path for e in self.edits}


def finding_key(f: Finding) -> tuple:
    res = f.resource or {}
    return (f.rule, f.path, f.message, res.get("kind"), res.get("name"))



_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


class Text:
    """A file's decoded text with its line starts, for turning the loader's positions
    (1-based lines and columns, in code points, line breaks as libyaml counts them) into
    offsets."""

    def __init__(self, text: str):
        self.text = text
        starts = [0]
        for m in _BREAKS.finditer(text):
            starts.append(m.end())
        self.starts = starts

    def offset(self, line: int, col: int) -> int:
        if line < 1:
            return 0
        if line > len(self.starts):
            return len(self.text)
        return min(self.starts[line - 1] + max(col, 1) - 1, len(self.text))

    def line_start(self, line: int) -> int:
        return self.starts[line - 1] if 0 < line <= len(self.starts) else len(self.text)

    def line_text(self, line: int) -> str:
        """The line without its line break."""
        s = self.line_start(line)
        e = self.starts[line] if line < len(self.starts) else len(self.text)
        return _BREAKS.sub("", self.text[s:e])

    def newline_at(self, offset: int) -> str:
        """The line ending of the line at ``offset`` (the file's first one when it has none)."""
        m = _BREAKS.search(self.text, offset) or _BREAKS.search(self.text)
        return m.group(0) if m else "\n"




#: (group, kind, version) -> the first Flux release that serves it
#: (the controllers' release notes: kustomize v1 and GitRepository v1 in Flux 2.0, Receiver v1
#: in 2.1, Alert and Provider v1beta3 in 2.2, HelmRelease v2 and HelmRepository/HelmChart v1 in
#: 2.3, Bucket v1 in 2.5, OCIRepository v1 in 2.6, the image automation APIs v1 in 2.7)
INTRODUCED: dict[tuple[str, str, str], tuple[int, int]] = {
    ("kustomize.toolkit.fluxcd.io", "Kustomization", "v1"): (2, 0),
    ("source.toolkit.fluxcd.io", "GitRepository", "v1"): (2, 0),
    ("notification.toolkit.fluxcd.io", "Receiver", "v1"): (2, 1),
    ("notification.toolkit.fluxcd.io", "Alert", "v1beta3"): (2, 2),
    ("notification.toolkit.fluxcd.io", "Provider", "v1beta3"): (2, 2),
    ("helm.toolkit.fluxcd.io", "HelmRelease", "v2"): (2, 3),
    ("source.toolkit.fluxcd.io", "HelmRepository", "v1"): (2, 3),
    ("source.toolkit.fluxcd.io", "HelmChart", "v1"): (2, 3),
    ("source.toolkit.fluxcd.io", "Bucket", "v1"): (2, 5),
    ("source.toolkit.fluxcd.io", "OCIRepository", "v1"): (2, 6),
    ("image.toolkit.fluxcd.io", "ImageRepository", "v1"): (2, 7),
    ("image.toolkit.fluxcd.io", "ImagePolicy", "v1"): (2, 7),
    ("image.toolkit.fluxcd.io", "ImageUpdateAutomation", "v1"): (2, 7),
}

#: fields the newer version removed that have no exact equivalent here:
#: (group, kind) -> [(field path, why)]
REMOVED_FIELDS: dict[tuple[str, str], list[tuple[tuple, str]]] = {
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): [
        (("spec", "validation",), "Kustomization v1 removed it (it had no effect since v1beta2): delete it"),
    ],
}

#: where a kind's removed `patchesStrategicMerge`/`patchesJson6902` live; the newer version
#: keeps `patches` beside them (helm-controller v2: `postRenderers[].kustomize`;
#: kustomize-controller v1: `spec`)
PATCH_FIELDS: dict[tuple[str, str], tuple] = {
    ("helm.toolkit.fluxcd.io", "HelmRelease"): ("spec", "postRenderers", "*", "kustomize"),
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): ("spec",),
}

#: the first Flux release whose kustomize-controller builds with kustomize v5, which deprecated
#: `bases`, `patchesStrategicMerge`, `patchesJson6902` and `commonLabels` (kustomize v5.0.0's
#: release notes; kustomize-controller v0.35, Flux v0.41)
KUSTOMIZE_V5 = (0, 41)

SCRIPT_KEYS = frozenset(("command", "args", "script", "run", "entrypoint", "exec", "cmd"))


class FixContext:
    """What the fixers read: the tree (files, graph, schema analysis) and its texts."""

    def __init__(self, tree):
        self.tree = tree
        self.files = tree.files
        self.graph = tree.graph
        self._texts: dict[str, Text] = {}

    def text(self, path: str) -> Text:
        t = self._texts.get(path)
        if t is None:
            t = self._texts[path] = Text(self.tree.texts[path])
        return t

    def catalog(self):
        return self.tree.analysis().catalog


def propose(f: Finding, ctx: FixContext, safe: bool) -> Proposal | None:
    fixer = FIXERS.get(f.rule)
    if fixer is None or f.path not in ctx.tree.texts:
        return None
    p = Proposal(f, safe)
    try:
        return fixer(f, ctx, p)
    except Unfixable as exc:
        return p.refused(str(exc))


class Unfixable(Exception):
    pass


# --------------------------------------------------------------------------- spans


def value_pos(doc: Document, path: tuple) -> tuple[int, int, int, int] | None:
    """(line, col, end_line, end_col) of the value at ``path`` of ``doc``."""
    if not path:
        return None
    parent = get_path(doc.value, path[:-1]) if len(path) > 1 else doc.value
    last = path[-1]
    if isinstance(parent, YMap) and last in parent.pos:
        p = parent.pos[last]
        return p[2], p[3], p[4], p[5]
    if isinstance(parent, YSeq) and isinstance(last, int) and 0 <= last < len(parent.pos):
        return parent.pos[last]
    return None


def key_pos(doc: Document, path: tuple) -> tuple[int, int] | None:
    parent = get_path(doc.value, path[:-1]) if len(path) > 1 else doc.value
    if isinstance(parent, YMap) and path[-1] in parent.pos:
        p = parent.pos[path[-1]]
        return p[0], p[1]
    return None


def end_line(t: Text, first: int, el: int, ec: int, indent: int | None = None) -> int:
    """The last line of a block node that starts on line ``first`` and whose end the parser
    puts at (``el``, ``ec``), the start of what follows it: blank lines and comments at
    most ``indent`` deep before that belong to what follows."""
    last = el if t.line_text(el)[:ec - 1].strip() else el - 1
    while last > first:
        ln = t.line_text(last)
        body = ln.lstrip()
        if not body or (body.startswith("#") and (indent is None or len(ln) - len(body) <= indent)):
            last -= 1
            continue
        break
    return max(last, first)


def scalar_edit(ctx: FixContext, doc: Document, path: tuple, old: str, new: str) -> Edit:
    """Replace the scalar ``old`` at ``path`` by ``new``, in the quoting it is written in."""
    pos = value_pos(doc, path)
    if pos is None:
        raise Unfixable(f"`{'.'.join(map(str, path))}` has no position in `{doc.path}`")
    t = ctx.text(doc.path)
    s, e = t.offset(pos[0], pos[1]), t.offset(pos[2], pos[3])
    src = t.text[s:e]
    for q in ("", '"', "'"):
        if src == f"{q}{old}{q}":
            return Edit(doc.path, s + len(q), e - len(q), new)
    raise Unfixable(f"`{'.'.join(map(str, path))}` in `{doc.path}` is written with an anchor, an alias, a tag or "
                    "escapes: edit it by hand")


def key_edit(ctx: FixContext, doc: Document, path: tuple, new: str) -> Edit:
    pos = key_pos(doc, path)
    if pos is None:
        raise Unfixable(f"`{path[-1]}` has no position in `{doc.path}`")
    t = ctx.text(doc.path)
    s = t.offset(*pos)
    old = str(path[-1])
    if t.text[s:s + len(old)] != old:
        raise Unfixable(f"the key `{old}` in `{doc.path}` is quoted or written with an alias: rename it by hand")
    return Edit(doc.path, s, s + len(old), new)


def doc_at_api_version(ctx: FixContext, f: Finding) -> Document | None:
    sf = ctx.files.get(f.path)
    for d in sf.documents if sf is not None else ():
        if d.origin or not d.is_object:
            continue
        pos = value_pos(d, ("apiVersion",))
        if pos is not None and (pos[0], pos[1]) == (f.line, f.column):
            return d
    return None


# --------------------------------------------------------------------------- removed Flux API versions


def api_version(f: Finding, ctx: FixContext, p: Proposal) -> Proposal:
    from .schema.apis import FLUX_GROUPS

    doc = doc_at_api_version(ctx, f)
    if doc is None:
        raise Unfixable("the apiVersion is not a document's own (an inline patch): it is fixed with the object it "
                        "patches")
    group, _, old = doc.api_version.rpartition("/")
    kind = doc.kind
    if group not in FLUX_GROUPS:
        raise Unfixable("not a Flux API: change `apiVersion` by hand and review the fields that changed")
    roles = ctx.graph.resolver.roles.get(doc.path, set())
    if "patch" in roles and "resource" not in roles:
        raise Unfixable("a patch: it is fixed together with the object it patches")
    served = ctx.catalog().bundled.served(group, kind)
    if not served or served[-1] == old:
        raise Unfixable(f"no newer version of {kind} is known")
    new = served[-1]
    old_av, new_av = f"{group}/{old}", f"{group}/{new}"
    # the cluster's Flux must serve the newer version
    first = INTRODUCED.get((group, kind, new))
    applied = ctx.graph.applied_by_doc.get(id(doc), [])
    for scope, pic in pictures(ctx, [doc]):
        if first is not None and pic.release < first:
            raise Unfixable(f"upgrade Flux first: {scope} runs {pic.source}, which does not serve "
                            f"`{new_av}` (Flux {first[0]}.{first[1]} and later do)")
    p.summary = f"{kind} `{doc.name}`: `{old_av}` → `{new_av}`"
    p.edits.append(scalar_edit(ctx, doc, ("apiVersion",), old_av, new_av))
    transforms: list[Callable[[Any], Any]] = [lambda v, _av=new_av: _set(v, ("apiVersion",), _av)]
    # fields the newer version removed
    for fpath, why in REMOVED_FIELDS.get((group, kind), ()):
        for concrete in _expand(doc.value, fpath):
            raise Unfixable(f"`{'.'.join(map(str, concrete))}`: {why}")
    if (group, kind) == ("helm.toolkit.fluxcd.io", "HelmRelease"):
        transforms += values_file(ctx, doc, p)
    base = PATCH_FIELDS.get((group, kind))
    for concrete in _expand_nodes(doc.value, base) if base else ():
        transforms += patch_fields(ctx, doc, concrete, p, flux_ks=kind == "Kustomization")
    p.changes[doc_id(doc)] = transforms
    p.recheck.add(doc_id(doc))
    p.gone = (f.rule, f.path, f.message)
    # everything that names the old version of this object moves with it
    names = {a.name for a in applied} | {doc.name}
    related_edits(ctx, doc, p, group, kind, old, new, names)
    p.edits = sorted(set(p.edits), key=lambda e: (e.path, e.start))
    return p


def pictures(ctx: FixContext, docs: list[Document]) -> list[tuple[str, Any]]:
    """The Flux of the clusters that apply ``docs`` (as ``(what, picture)``), of the ones the
    tree tells the release of; for documents no cluster applies, of every such cluster of
    the repository (the document may be meant for any of them)."""
    from .graph import NOT_APPLIED

    graph = ctx.graph
    scopes = sorted({a.scope for d in docs for a in graph.applied_by_doc.get(id(d), []) if a.scope != NOT_APPLIED})
    where = "cluster `{}`"
    if not scopes:
        scopes = sorted(n for n in graph.scopes if n != NOT_APPLIED)
        where = "the repository's cluster `{}`"
    out = []
    for name in scopes:
        pic = graph.flux_of(name)
        if pic.known:
            out.append((where.format(name), pic))
    return out


def _expand(value: Any, path: tuple, prefix: tuple = ()) -> list[tuple]:
    """Concrete paths of ``path`` (``*`` for every item of a list) present in ``value``."""
    if not path:
        return [prefix]
    step, rest = path[0], path[1:]
    if step == "*":
        if not isinstance(value, list):
            return []
        out = []
        for i, v in enumerate(value):
            out += _expand(v, rest, prefix + (i,))
        return out
    if isinstance(value, dict) and step in value and value[step] not in (None, [], {}):
        return _expand(value[step], rest, prefix + (step,))
    return []


def _expand_nodes(value: Any, path: tuple, prefix: tuple = ()) -> list[tuple]:
    """Concrete paths of ``path`` (``*``: every item of a list) whose node is a mapping."""
    if not path:
        return [prefix] if isinstance(value, dict) else []
    step, rest = path[0], path[1:]
    if step == "*":
        out = []
        for i, v in enumerate(value if isinstance(value, list) else ()):
            out += _expand_nodes(v, rest, prefix + (i,))
        return out
    if isinstance(value, dict) and step in value:
        return _expand_nodes(value[step], rest, prefix + (step,))
    return []


def node_lines(ctx: FixContext, doc: Document, path: tuple) -> list[str]:
    """The source lines of the node at ``path``, moved to column 0 (its first line starts
    where the node does); trailing blank lines left out."""
    pos = value_pos(doc, path)
    if pos is None:
        raise Unfixable(f"`{_dotted(path)}` has no position")
    t = ctx.text(doc.path)
    first = t.line_text(pos[0])[pos[1] - 1:]
    if first.startswith(("&", "*", "!")):
        raise Unfixable(f"`{_dotted(path)}` is written with an anchor, an alias or a tag: convert it by hand")
    if pos[0] == pos[2]:
        return [t.text[t.offset(pos[0], pos[1]):t.offset(pos[2], pos[3])]]
    last = end_line(t, pos[0], pos[2], pos[3], pos[1] - 1)
    lines = [first]
    cut = pos[1] - 1
    for n in range(pos[0] + 1, last + 1):
        ln = t.line_text(n)
        if ln.strip() and ln[:cut].strip():
            raise Unfixable(f"`{_dotted(path)}` is not indented as a block: convert it by hand")
        lines.append(ln[cut:] if ln.strip() else "")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _dotted(path: tuple) -> str:
    return ".".join(map(str, path))


def _text_of(lines: list[str], value: Any, path: tuple) -> str:
    """The text of a patch made of ``lines``, checked to read back as ``value``."""
    from .yamlcompose import compose_all

    if any(ln and not ln.strip() for ln in lines):
        raise Unfixable(f"`{_dotted(path)}` has a line of blanks: convert it by hand")
    text = "\n".join(lines) + "\n"
    docs, errors = compose_all(text)
    if errors or len(docs) != 1 or _plain(docs[0][0]) != _plain(value):
        raise Unfixable(f"`{_dotted(path)}` does not read back the same as a text patch: convert it by hand")
    return text


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def patch_fields(ctx: FixContext, doc: Document, base: tuple, p: Proposal, *, flux_ks: bool
                 ) -> list[Callable[[Any], Any]]:
    """`patchesStrategicMerge` and `patchesJson6902` under ``base`` → `patches` (removed in
    HelmRelease v2's post-renderers and in Kustomization v1): each strategic-merge patch as
    `- patch: |` with the object as text, first (kustomize applies them before `patches`),
    each JSON 6902 patch as `- target: … patch: |` with the operations as text, last."""
    node = get_path(doc.value, base)
    psm = node.get("patchesStrategicMerge") or []
    js = node.get("patchesJson6902") or []
    if not psm and not js:
        return []
    if not isinstance(psm, list) or not isinstance(js, list):
        raise Unfixable(f"`{_dotted(base)}`: the patches are not lists")
    items: list[list[str]] = []
    first: list[dict] = []
    last: list[dict] = []
    t0 = ctx.text(doc.path)
    kept = {"patchesStrategicMerge": 0, "patchesJson6902": 0}

    def prelude(key: str, i: int) -> list[str]:
        """The comment lines before entry ``i`` of ``key`` (after the key or the entry before it)."""
        start = value_pos(doc, base + (key, i))[0]
        if kept[key] == 0:
            kept[key] = key_pos(doc, base + (key,))[0]
        lines = [t0.line_text(n).strip() for n in range(kept[key] + 1, start)]
        pv = value_pos(doc, base + (key, i))
        kept[key] = end_line(t0, pv[0], pv[2], pv[3])
        return lines

    for i, e in enumerate(psm):
        path = base + ("patchesStrategicMerge", i)
        if not isinstance(e, dict):
            raise Unfixable(f"`{_dotted(path)}` is not an object")
        lines = node_lines(ctx, doc, path)
        first.append({"patch": _text_of(lines, e, path)})
        items.append(prelude("patchesStrategicMerge", i) + ["- patch: |"] + [("    " + ln) if ln else "" for ln in lines])
    for j, e in enumerate(js):
        path = base + ("patchesJson6902", j)
        if not isinstance(e, dict) or set(e) - {"target", "patch"} or not isinstance(e.get("target"), dict) \
                or not isinstance(e.get("patch"), list):
            raise Unfixable(f"`{_dotted(path)}` is not a `target` with a list of operations")
        tl = node_lines(ctx, doc, path + ("target",))
        ol = node_lines(ctx, doc, path + ("patch",))
        last.append({"target": _plain(e["target"]), "patch": _text_of(ol, e["patch"], path + ("patch",))})
        head = ["- target: " + tl[0]] if len(tl) == 1 else ["- target:"] + [("    " + ln) if ln else "" for ln in tl]
        items.append(prelude("patchesJson6902", j) + head + ["  patch: |"] + [("    " + ln) if ln else "" for ln in ol])
    existing = node.get("patches")
    if existing and flux_ks:
        raise Unfixable(f"`{_dotted(base + ('patchesStrategicMerge',))}` beside `spec.patches`: merge them by hand "
                        "(the order of the patches is for the author to choose)")
    blocks = [Block(ctx, doc, base + (k,)) for k in ("patchesStrategicMerge", "patchesJson6902") if node.get(k)]
    if any(b.flow for b in blocks):
        raise Unfixable(f"`{_dotted(base)}`: the patches are written in flow style: convert them by hand")
    t = blocks[0].t
    if existing:
        target = Block(ctx, doc, base + ("patches",))
        if target.flow:
            raise Unfixable(f"`{_dotted(base + ('patches',))}` is written in flow style: convert by hand")
        n_first = len(psm)
        head = [ln for it in items[:n_first] for ln in reindent(it, target.item_indent)]
        tail = [ln for it in items[n_first:] for ln in reindent(it, target.item_indent)]
        if head:
            at = t.line_start(target.key_line + 1)
            p.edits.append(Edit(doc.path, at, at, joined(head)))
        if tail:
            text = joined(tail)
            if target.end >= len(t.text) and not _ends_with_break(t.text):
                text = "\n" + text.rstrip("\n")
            p.edits.append(Edit(doc.path, target.end, target.end, text))
        for b in blocks:
            p.edits.append(_delete_block(b))
    else:
        b0 = min(blocks, key=lambda b: b.key_line)
        head_line = t.line_text(b0.key_line)
        key_line = head_line[:b0.key_col - 1] + "patches" + head_line[b0.key_col - 1 + len(b0.key):]
        body = [ln for it in items for ln in reindent(it, b0.item_indent)]
        text = joined([key_line] + body)
        if b0.end >= len(t.text) and not _ends_with_break(t.text):
            text = text.rstrip("\n")
        p.edits.append(Edit(doc.path, b0.start, b0.end, text))
        for b in blocks:
            if b is not b0:
                p.edits.append(_delete_block(b))

    def convert(v: Any, _base=base, _first=first, _last=last) -> Any:
        n = get_path(v, _base)
        if not isinstance(n, dict):
            return v
        out = copy.deepcopy(v)
        n = get_path(out, _base)
        n["patches"] = _first + list(n.get("patches") or []) + _last
        n.pop("patchesStrategicMerge", None)
        n.pop("patchesJson6902", None)
        return out

    if flux_ks:
        # the objects this Kustomization applies: as the removed fields patched them
        p.changes.setdefault(("by",) + doc_id(doc), []).append(
            lambda v, _psm=[_plain(e) for e in psm], _js=[_plain(e) for e in js]: _patched(v, _psm, _js))
    return [convert]


def _patched(value: Any, psm: list, js: list) -> Any:
    """``value`` with the strategic-merge patches that select it and the JSON 6902 patches
    whose target selects it applied, in that order (kustomize's order for them)."""
    from .patches import Obj, PatchError, apply_body, json6902, smp_matches, split_api_version, target_matches

    def obj(v: Any) -> Obj:
        meta = v.get("metadata") if isinstance(v.get("metadata"), dict) else {}
        group, version = split_api_version(v.get("apiVersion"))
        name, ns = str(meta.get("name") or ""), str(meta.get("namespace") or "")
        return Obj(v, str(v.get("kind") or ""), name, ns, group, version, orig_name=name, orig_namespace=ns)

    if not isinstance(value, dict):
        return value
    try:
        for body in psm:
            if smp_matches(body, obj(value)):
                value = apply_body(value, body, False)
        for e in js:
            if target_matches(e["target"], obj(value)):
                value = json6902(value, e["patch"])
    except PatchError:
        return value
    return _plain(value)


def _delete_block(b: "Block") -> Edit:
    start = b.start
    if b.end >= len(b.t.text) and not _ends_with_break(b.t.text) and start > 0:
        start -= len(b.t.newline_at(start - 1))  # the last line: take the break before it
    return Edit(b.doc.path, start, b.end, "")


def _set(value: Any, path: tuple, new: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out = copy.deepcopy(value)
    node = out
    for step in path[:-1]:
        node = node.get(step) if isinstance(node, dict) else None
        if node is None:
            return value
    node[path[-1]] = new
    return out


def values_file(ctx: FixContext, doc: Document, p: Proposal) -> list[Callable[[Any], Any]]:
    """`spec.chart.spec.valuesFile` (removed in HelmRelease v2) → `valuesFiles: [file]`: the
    file is merged before the `valuesFiles` items, so it goes first (helm-controller's
    v2beta2 API: valuesFile "is merged before the ValuesFiles items")."""
    cs = get_path(doc.value, ("spec", "chart", "spec"))
    if not isinstance(cs, dict) or "valuesFile" not in cs:
        return []
    vf = cs["valuesFile"]
    if vf in (None, ""):
        raise Unfixable("`spec.chart.spec.valuesFile` is empty: delete it")
    if not isinstance(vf, str):
        raise Unfixable("`spec.chart.spec.valuesFile` is not a string")
    if cs.get("valuesFiles") not in (None, []):
        raise Unfixable("`spec.chart.spec.valuesFile` and `valuesFiles` are both set: put the file first in "
                        "`valuesFiles` and delete `valuesFile`")
    path = ("spec", "chart", "spec", "valuesFile")
    pos = value_pos(doc, path)
    t = ctx.text(doc.path)
    s, e = t.offset(pos[0], pos[1]), t.offset(pos[2], pos[3])
    src = t.text[s:e]
    if "\n" in src or src.startswith(("&", "*", "!")):
        raise Unfixable("`spec.chart.spec.valuesFile` is written over several lines or with an anchor: move it "
                        "to `valuesFiles` by hand")
    p.edits.append(key_edit(ctx, doc, path, "valuesFiles"))
    p.edits.append(Edit(doc.path, s, e, f"[{src}]"))

    def move(v: Any) -> Any:
        c = get_path(v, ("spec", "chart", "spec"))
        if not isinstance(c, dict) or "valuesFile" not in c:
            return v
        out = copy.deepcopy(v)
        c = out["spec"]["chart"]["spec"]
        items = list(c.items())
        c.clear()
        for k, x in items:
            if k == "valuesFile":
                c["valuesFiles"] = [x]
            elif k != "valuesFiles":
                c[k] = x
        return out

    return [move]


def related_edits(ctx: FixContext, doc: Document, p: Proposal, group: str, kind: str, old: str, new: str,
                  names: set[str]) -> None:
    """Patches, patch targets and health checks that name ``doc``'s old version."""
    old_av, new_av = f"{group}/{old}", f"{group}/{new}"
    graph = ctx.graph
    files = ctx.files
    # kustomization files whose build holds the object
    for kb in graph.resolver.builds():
        if kb.kfile is None or not any(b.doc is doc for b in kb.docs):
            continue
        kdoc = next((d for d in kb.kfile.documents if isinstance(d.value, dict)), None)
        if kdoc is None:
            continue
        d = kb.dir
        for key in ("patches", "patchesJson6902", "patchesStrategicMerge"):
            entries = kdoc.value.get(key)
            if not isinstance(entries, list):
                continue
            for i, entry in enumerate(entries):
                patch_entry(ctx, p, kdoc, (key, i), entry, d, group, kind, old, new, names)
    # the Flux Kustomizations that apply it, and every health check that names it
    for a in graph.applied_by_doc.get(id(doc), []):
        ks = a.by
        if ks is None or not ks.path or ks.origin:
            continue
        entries = ks.spec.get("patches")
        if isinstance(entries, list):
            for i, entry in enumerate(entries):
                patch_entry(ctx, p, ks, ("spec", "patches", i), entry, None, group, kind, old, new, names)
    for sf in files.values():
        if sf.skip_reason is not None:
            continue
        for ks in sf.documents:
            if ks.origin or not is_flux_ks(ks):
                continue
            checks = ks.spec.get("healthChecks")
            if not isinstance(checks, list):
                continue
            for j, hc in enumerate(checks):
                if isinstance(hc, dict) and hc.get("apiVersion") == old_av and hc.get("kind") == kind \
                        and hc.get("name") in names:
                    path = ("spec", "healthChecks", j, "apiVersion")
                    p.edits.append(scalar_edit(ctx, ks, path, old_av, new_av))
                    means(p, ks, path, lambda _x, _v=new_av: _v)


def patch_entry(ctx: FixContext, p: Proposal, owner: Document, fp: tuple, entry: Any, d: str | None, group: str,
                kind: str, old: str, new: str, names: set[str]) -> None:
    import posixpath

    old_av, new_av = f"{group}/{old}", f"{group}/{new}"
    if isinstance(entry, dict):
        target = entry.get("target")
        if isinstance(target, dict) and target.get("version") == old and target.get("kind") in (kind, None) \
                and target.get("group") in (group, None):
            p.edits.append(scalar_edit(ctx, owner, fp + ("target", "version"), old, new))
            means(p, owner, fp + ("target", "version"), lambda _x, _v=new: _v)
        if isinstance(entry.get("patch"), str):
            inline_patch(ctx, p, owner, fp + ("patch",), entry["patch"], old_av, new_av, kind)
        elif isinstance(entry.get("path"), str) and d is not None:
            patch_file(ctx, p, posixpath.normpath(posixpath.join(d, entry["path"])) if d else
                       posixpath.normpath(entry["path"]), old_av, new_av, kind)
    elif isinstance(entry, str):
        if "\n" in entry or ":" in entry.split("/")[0]:
            inline_patch(ctx, p, owner, fp, entry, old_av, new_av, kind)
        elif d is not None:
            patch_file(ctx, p, posixpath.normpath(posixpath.join(d, entry.strip())) if d else
                       posixpath.normpath(entry.strip()), old_av, new_av, kind)


def patch_file(ctx: FixContext, p: Proposal, path: str, old_av: str, new_av: str, kind: str) -> None:
    sf = ctx.files.get(path)
    if sf is None or path not in ctx.tree.texts:
        return
    for pd in sf.documents:
        if not pd.origin and isinstance(pd.value, dict) and pd.value.get("apiVersion") == old_av \
                and pd.value.get("kind") == kind:
            p.edits.append(scalar_edit(ctx, pd, ("apiVersion",), old_av, new_av))
            # a patch file is also a document of the tree (no root may apply it)
            p.changes.setdefault(doc_id(pd), []).append(lambda v, _av=new_av: _set(v, ("apiVersion",), _av))


_API_LINE = re.compile(r"^(\s*apiVersion:\s*)([\"']?)([^\s\"'#]+)\2\s*(#.*)?$")


def inline_patch(ctx: FixContext, p: Proposal, owner: Document, fp: tuple, text: str, old_av: str, new_av: str,
                 kind: str) -> None:
    """The `apiVersion:` line of an inline patch written as a block scalar (`|`), where the
    patch is of ``kind`` and names the old version."""
    if old_av not in text or f"kind: {kind}" not in text:
        return
    pos = value_pos(owner, fp)
    if pos is None:
        return
    t = ctx.text(owner.path)
    first = t.line_text(pos[0])[pos[1] - 1:]
    if not first.startswith(("|", ">")):
        raise Unfixable(f"the inline patch at `{owner.path}`:{pos[0]} is not a block scalar (`|`): change its "
                        f"apiVersion to `{new_av}` by hand")
    last = end_line(t, pos[0], pos[2], pos[3])
    for line in range(pos[0] + 1, last + 1):
        lt = t.line_text(line)
        m = _API_LINE.match(lt)
        if m and m.group(3) == old_av:
            s = t.line_start(line) + m.start(3)
            p.edits.append(Edit(owner.path, s, s + len(old_av), new_av))

    def moved(x: Any) -> Any:
        if not isinstance(x, str):
            return x
        out = []
        for ln in x.split("\n"):
            m = _API_LINE.match(ln)
            if m and m.group(3) == old_av:
                ln = ln[:m.start(3)] + new_av + ln[m.end(3):]
            out.append(ln)
        return "\n".join(out)

    means(p, owner, fp, moved)


def means(p: Proposal, doc: Document, path: tuple, fn: Callable[[Any], Any]) -> None:
    """The fix means to change the value at ``path`` of ``doc`` (an object that may be built)
    to ``fn(old value)``."""
    def change(v: Any, _path=path, _fn=fn) -> Any:
        x = get_path(v, _path, _MISSING)
        if x is _MISSING:
            return v
        return _set_any(v, _path, _fn(x))

    p.changes.setdefault(doc_id(doc), []).append(change)


_MISSING = object()


# --------------------------------------------------------------------------- kustomization files


class Block:
    """A key of a block mapping (a top-level key of a kustomization file, `spec.patches` of a
    Flux Kustomization) and the lines of its value."""

    def __init__(self, ctx: FixContext, doc: Document, key: str | tuple):
        path = key if isinstance(key, tuple) else (key,)
        key = self.key = str(path[-1])
        self.path = path
        self.doc = doc
        t = self.t = ctx.text(doc.path)
        kp = key_pos(doc, path)
        vp = value_pos(doc, path)
        if kp is None or vp is None:
            raise Unfixable(f"`{key}` has no position")
        self.key_line, self.key_col = kp
        if t.line_text(self.key_line)[:self.key_col - 1].strip():
            raise Unfixable(f"`{key}` is not the first thing on its line: move it by hand")
        value = get_path(doc.value, path)
        self.value = value
        self.flow = vp[0] == self.key_line
        if self.flow:
            self.last_line = self.key_line
        else:
            ends = value.pos if isinstance(value, YSeq) else [q[2:] for q in value.pos.values()] \
                if isinstance(value, YMap) else []
            if not ends:
                raise Unfixable(f"`{key}` is empty")
            el, ec = max((e[2], e[3]) for e in ends) if isinstance(value, YSeq) else max((e[2], e[3]) for e in ends)
            self.last_line = end_line(t, self.key_line, el, ec, self.key_col - 1)
        self.start = t.line_start(self.key_line)
        self.end = t.line_start(self.last_line + 1)
        self.item_indent = None
        if not self.flow:
            if isinstance(value, YSeq):
                first = value.pos[0]
                lt = t.line_text(first[0])
                dash = lt.rfind("-", 0, first[1] - 1)
                if dash < 0 or lt[:dash].strip():
                    raise Unfixable(f"the items of `{key}` are not one to a line: move them by hand")
                self.item_indent = dash
            elif isinstance(value, YMap):
                kl, kc = next(iter(value.pos.values()))[:2]
                self.item_indent = kc - 1

    def lines(self, first: int, last: int) -> list[str]:
        return [self.t.line_text(n) for n in range(first, last + 1)]

    def body(self) -> list[str]:
        """The value's lines (the key's line left out), for a block value."""
        return self.lines(self.key_line + 1, self.last_line)

    def has_comments(self) -> bool:
        return any(ln.strip().startswith("#") for ln in self.body())


def _ends_with_break(text: str) -> bool:
    return text.endswith(("\n", "\r", "\x85", "\u2028", "\u2029"))


def reindent(lines: list[str], delta: int) -> list[str]:
    out = []
    for ln in lines:
        if not ln.strip():
            out.append(ln)
        elif delta >= 0:
            out.append(" " * delta + ln)
        else:
            if ln[:-delta].strip():
                raise Unfixable("the lines do not re-indent: move them by hand")
            out.append(ln[-delta:])
    return out


def joined(lines: list[str]) -> str:
    return "".join(ln + "\n" for ln in lines)


def kdoc_of(ctx: FixContext, f: Finding) -> Document:
    sf = ctx.files.get(f.path)
    for d in sf.documents if sf is not None else ():
        if isinstance(d.value, YMap) and not d.origin:
            return d
    raise Unfixable("not a kustomization document")


def kustomization_field(f: Finding, ctx: FixContext, p: Proposal) -> Proposal:
    doc = kdoc_of(ctx, f)
    key = next((k for k in doc.value if isinstance(k, str) and key_pos(doc, (k,)) == (f.line, f.column)), None)
    if key is None:
        raise Unfixable("the field has no exact equivalent to move to")
    fixer = KUSTOMIZATION_FIXERS.get(key.lower())  # kustomize reads field names case-insensitively
    if fixer is None:
        raise Unfixable(f"`{key}` has no exact equivalent the fixer writes: see the hint")
    built = [b.doc for kb in ctx.graph.resolver.builds() if kb.kfile is not None and kb.kfile.path == doc.path
             for b in kb.docs]
    for where, pic in pictures(ctx, built):
        if pic.release < KUSTOMIZE_V5:
            raise Unfixable(f"upgrade Flux first: {where} runs {pic.source}, whose kustomize (before v5) does not "
                            f"deprecate `{key}`")
    p.exclusive = True
    p.gone = (f.rule, f.path, f.message)
    p.recheck.add(doc_id(doc))
    lower = {k.lower(): k for k in doc.value if isinstance(k, str)}
    if key != lower.get(key.lower()):  # pragma: no cover - two spellings of one field
        raise Unfixable(f"`{key}` is written twice")
    fixer(ctx, doc, p, lower)
    p.edits = sorted(set(p.edits), key=lambda e: (e.path, e.start))
    return p


def _seq(block: Block) -> None:
    if not isinstance(block.value, YSeq):
        raise Unfixable(f"`{block.key}` is not a list")


def merge_items(ctx: FixContext, doc: Document, p: Proposal, src: str, dst: str, items: list[list[str]] | None,
                at_start: bool) -> None:
    """Move the entries of ``src`` into the existing list ``dst`` (first or last) and delete
    ``src``; ``items`` are the converted entries (lines at indentation 0, the dash first),
    None to move the entries' own lines."""
    a, b = Block(ctx, doc, src), Block(ctx, doc, dst)
    _seq(a)
    _seq(b)
    if a.flow or b.flow:
        raise Unfixable(f"`{src}` or `{dst}` is written in flow style (`[...]`): move the entries by hand")
    if items is None:
        lines = reindent(a.body(), b.item_indent - a.item_indent)
    else:
        if a.has_comments():
            raise Unfixable(f"`{src}` has comments between its entries: move them by hand")
        lines = []
        for it in items:
            lines += reindent(it, b.item_indent)
    text = joined(lines)
    if at_start:
        at = b.t.line_start(b.key_line + 1)
    else:
        at = b.end
        if at >= len(b.t.text) and not _ends_with_break(b.t.text):
            text = "\n" + text.rstrip("\n")
    p.edits.append(Edit(doc.path, at, at, text))
    end = a.end
    start = a.start
    if end >= len(a.t.text) and not _ends_with_break(a.t.text) and start > 0:
        start -= len(a.t.newline_at(start - 1))  # the last line: take the break before it
    p.edits.append(Edit(doc.path, start, end, ""))


def fix_bases(ctx: FixContext, doc: Document, p: Proposal, lower: dict) -> None:
    """`bases` → `resources`: kustomize appends the bases to the resources when it reads the
    file (kustomize's ``FixKustomization``), so the entries go after the resources."""
    p.summary = "`bases` → `resources`"
    src = lower["bases"]
    dst = lower.get("resources")
    if dst is None:
        p.edits.append(key_edit(ctx, doc, (src,), "resources"))
        return
    merge_items(ctx, doc, p, src, dst, None, at_start=False)


def fix_psm(ctx: FixContext, doc: Document, p: Proposal, lower: dict) -> None:
    """`patchesStrategicMerge` → `patches`: a file entry as `- path: file`, an inline entry
    as `- patch: |`; kustomize applies the strategic-merge patches before `patches`, so the
    entries go first."""
    p.summary = "`patchesStrategicMerge` → `patches`"
    src = lower["patchesstrategicmerge"]
    seq = doc.value[src]
    if not isinstance(seq, YSeq):
        raise Unfixable(f"`{src}` is not a list")
    t = ctx.text(doc.path)
    dst = lower.get("patches")
    if dst is None:
        p.edits.append(key_edit(ctx, doc, (src,), "patches"))
        for i, entry in enumerate(seq):
            p.edits.append(psm_entry_edit(ctx, doc, (src, i), entry, t))
        return
    items = []
    for i, entry in enumerate(seq):
        items.append(psm_entry_lines(ctx, doc, (src, i), entry, t))
    merge_items(ctx, doc, p, src, dst, items, at_start=True)


def _is_inline(entry: str) -> bool:
    return "\n" in entry or ":" in entry.split("/")[0]


def psm_entry_edit(ctx: FixContext, doc: Document, fp: tuple, entry: Any, t: Text) -> Edit:
    if not isinstance(entry, str):
        raise Unfixable(f"entry {fp[1]} of `{fp[0]}` is not a string")
    pos = value_pos(doc, fp)
    s, e = t.offset(pos[0], pos[1]), t.offset(pos[2], pos[3])
    src = t.text[s:e]
    if not _is_inline(entry):
        if "\n" in src or src.startswith(("&", "*", "!")):
            raise Unfixable(f"entry {fp[1]} of `{fp[0]}` is written with an anchor, an alias or over several lines")
        return Edit(doc.path, s, e, f"path: {src}")
    item_col = pos[1] - 1
    block = literal_block(entry, item_col + 2)
    if block is None:
        raise Unfixable(f"inline entry {fp[1]} of `{fp[0]}` cannot be written as a `|` block: move it by hand")
    if src.startswith(("|", ">")):  # a block scalar: up to the start of the line after its content
        if block.startswith("|+"):
            raise Unfixable(f"inline entry {fp[1]} of `{fp[0]}` keeps its trailing blank lines (`|+`): move it by hand")
        return Edit(doc.path, s, t.line_start(end_line(t, pos[0], pos[2], pos[3]) + 1), "patch: " + block)
    rest = t.line_text(pos[2])[pos[3] - 1:]
    if rest.strip():
        raise Unfixable(f"inline entry {fp[1]} of `{fp[0]}` has something after it on its line")
    return Edit(doc.path, s, e, "patch: " + block.rstrip("\n"))


def psm_entry_lines(ctx: FixContext, doc: Document, fp: tuple, entry: Any, t: Text) -> list[str]:
    if not isinstance(entry, str):
        raise Unfixable(f"entry {fp[1]} of `{fp[0]}` is not a string")
    pos = value_pos(doc, fp)
    src = t.text[t.offset(pos[0], pos[1]):t.offset(pos[2], pos[3])]
    if not _is_inline(entry):
        if "\n" in src or src.startswith(("&", "*", "!")):
            raise Unfixable(f"entry {fp[1]} of `{fp[0]}` is written with an anchor, an alias or over several lines")
        return [f"- path: {src}"]
    block = literal_block(entry, 4)
    if block is None:
        raise Unfixable(f"inline entry {fp[1]} of `{fp[0]}` cannot be written as a `|` block: move it by hand")
    return ("- patch: " + block).rstrip("\n").split("\n")


def literal_block(s: str, indent: int) -> str | None:
    """``s`` as a literal block scalar (header, then its lines at ``indent``), or None when
    a literal block cannot hold it exactly."""
    if not s or re.search(r"[\r\x85\u2028\u2029\ufeff]|[\x00-\x08\x0b-\x1f\x7f]", s):
        return None
    body = s.rstrip("\n")
    trailing = len(s) - len(body)
    if not body or body[0] in " \t" or body.startswith("\n"):
        return None
    lines = body.split("\n")
    if any(ln and not ln.strip() for ln in lines):
        return None  # a line of blanks only: its meaning depends on the indentation
    header = "|-" if trailing == 0 else "|" if trailing == 1 else "|+"
    out = [header] + [(" " * indent + ln) if ln else "" for ln in lines] + [""] * max(trailing - 1, 0)
    return "\n".join(out) + "\n"


def fix_json6902(ctx: FixContext, doc: Document, p: Proposal, lower: dict) -> None:
    """`patchesJson6902` → `patches`: the entries keep their `target` and `path`/`patch`;
    they go after the existing `patches`."""
    p.summary = "`patchesJson6902` → `patches`"
    src = lower["patchesjson6902"]
    seq = doc.value[src]
    if not isinstance(seq, YSeq) or not all(isinstance(e, dict) and isinstance(e.get("target"), dict) for e in seq):
        raise Unfixable(f"every entry of `{src}` needs a `target`")
    dst = lower.get("patches")
    if dst is None:
        if "patchesstrategicmerge" in lower:
            raise Unfixable("`patchesStrategicMerge` is converted to `patches` first")
        p.edits.append(key_edit(ctx, doc, (src,), "patches"))
        return
    merge_items(ctx, doc, p, src, dst, None, at_start=False)


def fix_common_labels(ctx: FixContext, doc: Document, p: Proposal, lower: dict) -> None:
    """`commonLabels` → `labels: [{pairs, includeSelectors: true}]` (kustomize's `labels`
    with `includeSelectors` uses commonLabels' field specs: selectors and templates too)."""
    p.summary = "`commonLabels` → `labels` with `includeSelectors: true`"
    src = lower["commonlabels"]
    value = doc.value[src]
    if not isinstance(value, YMap) or not value:
        raise Unfixable(f"`{src}` is not a mapping of labels")
    dst = lower.get("labels")
    if dst is not None:
        existing = doc.value[dst]
        if not isinstance(existing, YSeq):
            raise Unfixable("`labels` is not a list")
        for entry in existing:
            pairs = entry.get("pairs") if isinstance(entry, dict) else None
            if isinstance(pairs, dict):
                both = sorted(set(pairs) & set(value))
                if both:
                    raise Unfixable(f"`{both[0]}` is set by both `commonLabels` and `labels`: merge them by hand")
    a = Block(ctx, doc, src)
    if a.flow:
        pairs = a.t.line_text(a.key_line)[a.key_col - 1 + len(src):].lstrip()
        if not pairs.startswith(":"):
            raise Unfixable(f"`{src}` is not written as `{src}: {{...}}`")
        pairs_text = pairs[1:].strip()
        if "#" in pairs_text:
            raise Unfixable(f"`{src}` has a comment on its line: move it by hand")
        item = ["- pairs: " + pairs_text, "  includeSelectors: true"]
    else:
        item = ["- pairs:"] + reindent(a.body(), 4 - a.item_indent) + ["  includeSelectors: true"]
    if dst is None:
        indent = a.item_indent if a.item_indent is not None else 2
        head = a.t.line_text(a.key_line)
        after = head[a.key_col - 1 + len(src):]
        if not a.flow and not after.startswith(":"):
            raise Unfixable(f"`{src}` is quoted: convert it by hand")
        key_line = head[:a.key_col - 1] + "labels" + (after if not a.flow else ":")
        text = joined([key_line] + reindent(item, indent))
        end = a.end
        if end >= len(a.t.text) and not _ends_with_break(a.t.text):
            text = text.rstrip("\n")
        p.edits.append(Edit(doc.path, a.start, end, text))
        return
    b = Block(ctx, doc, dst)
    if b.flow:
        raise Unfixable("`labels` is written in flow style: add the entry by hand")
    text = joined(reindent(item, b.item_indent))
    at = b.end
    if at >= len(b.t.text) and not _ends_with_break(b.t.text):
        text = "\n" + text.rstrip("\n")
    p.edits.append(Edit(doc.path, at, at, text))
    start = a.start
    if a.end >= len(a.t.text) and not _ends_with_break(a.t.text) and start > 0:
        start -= len(a.t.newline_at(start - 1))
    p.edits.append(Edit(doc.path, start, a.end, ""))


KUSTOMIZATION_FIXERS = {
    "bases": fix_bases,
    "patchesstrategicmerge": fix_psm,
    "patchesjson6902": fix_json6902,
    "commonlabels": fix_common_labels,
}


# --------------------------------------------------------------------------- shell variables


def shell_variable(f: Finding, ctx: FixContext, p: Proposal) -> Proposal | None:
    """`${VAR}` → `$${VAR}` in a script value (kustomize-controller's substitution turns
    `$${VAR}` into a literal `${VAR}`)."""
    m = re.search(r"`\$\{([^}`]+)\}`", f.message)
    if m is None:
        return None
    name = m.group(1)
    for a in _applied_in(ctx, f.path):
        for path, ref in variables_in(a.built_value):
            loc = a.doc.loc(*path)
            if ref.name != name or (loc.line, loc.column) != (f.line, f.column):
                continue
            value = get_path(a.doc.value, path)
            if not isinstance(value, str) or f"${{{name}" not in value:
                raise Unfixable("the value is made by a patch or a transform: escape it where it is written")
            last_key = next((s for s in reversed(path) if isinstance(s, str)), "")
            if "\n" not in value and last_key not in SCRIPT_KEYS:
                return None  # not a script: no fix offered
            pos = value_pos(a.doc, path)
            t = ctx.text(a.doc.path)
            s, e = t.offset(pos[0], pos[1]), t.offset(pos[2], pos[3])
            src = t.text[s:e]
            pat = re.compile(r"(?<!\$)\$\{" + re.escape(name) + r"(?=[}:=\-+?/^,%#])")
            if len(pat.findall(src)) != len(pat.findall(value)):
                raise Unfixable("the value's text and its content differ (escapes): escape it by hand")
            for mm in pat.finditer(src):
                p.edits.append(Edit(a.doc.path, s + mm.start(), s + mm.start(), "$"))
            p.summary = f"`${{{name}}}` → `$${{{name}}}`"

            def escape(v: Any, _path=path, _pat=pat) -> Any:
                x = get_path(v, _path)
                if not isinstance(x, str):
                    return v
                return _set_any(v, _path, _pat.sub(lambda mm: "$" + mm.group(0), x))

            p.changes.setdefault(doc_id(a.doc), []).append(escape)
            p.recheck.add(doc_id(a.doc))
            return p
    return None  # made by a generator or a transform: no text to escape it in


def _applied_in(ctx: FixContext, path: str):
    sf = ctx.files.get(path)
    seen = set()
    for d in sf.documents if sf is not None else ():
        for a in ctx.graph.applied_by_doc.get(id(d), []):
            if a.variables is not None and id(a.doc) not in seen:
                seen.add(id(a.doc))
                yield a


def _set_any(value: Any, path: tuple, new: Any) -> Any:
    out = copy.deepcopy(value)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return out


FIXERS: dict[str, Callable[[Finding, FixContext, Proposal], Proposal | None]] = {
    "FLX207": api_version,
    "FLX208": api_version,
    "FLX211": kustomization_field,
    "FLX701": shell_variable,
}
