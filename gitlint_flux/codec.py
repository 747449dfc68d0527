"""Cache entries as data: encoders and strict decoders of the values the engine stores.

Nothing here constructs an object a stored byte names: the decoders build only the
project's own types (``YMap``, ``YSeq``, ``Document``, ``Finding``, ``RunReport``...) from
plain data, after checking the shape of every part. An entry that does not decode, or
decodes to anything but the expected shape, raises ``CodecError`` (or the decoder's own
error): the caller ignores it and rebuilds, it never uses part of it.

Two formats, each where it is fastest (``docs/performance.md``):

* **runs** (read on every warm run, a few hundred KB): JSON, with the standard library's
  C decoder (imported in about 1 ms) and a validation of every field in Python.
* **files** (the parse of every file, read on every run that changed something, MBs):
  MessagePack through ``msgspec``, decoded straight into typed structures (validated in C,
  2.5 times faster than ``json``), then into ``YMap``/``YSeq`` with their packed positions.
  msgspec is imported only by such runs.

A mapping keeps its packed positions (six 32-bit integers a key, ``bytes``); one whose
positions were unpacked into a dict (a finding or a transform asked for them) is packed
again when its dict matches its keys, else stored as explicit entries. Files whose
documents share values through YAML aliases (``shared``) keep the sharing: every
container and long string is written once and referred to by index. A value the formats
cannot hold (an integer beyond 64 bits, a name that is not UTF-8) leaves its file out of
the file cache: it is parsed again on the next run.
"""

# no `from __future__ import annotations`: msgspec reads the structures' annotations as types
import json
from array import array

from .model import SEVERITIES, Document, Finding, Related, RuleInfo, RunReport, Skipped, YMap, YSeq

#: version of the entry formats; an entry of another version is ignored
FORMAT = 2


class CodecError(ValueError):
    """An entry of the wrong shape (or a value that cannot be encoded)."""


_SCALARS = (str, int, float, bool, type(None))
_SCALAR_SET = frozenset(_SCALARS)
_SEVERITY_SET = frozenset(SEVERITIES)

# --------------------------------------------------------------------------- run entries (JSON)


def encode_run(value) -> bytes:
    """``(RunReport, internal, documents, racy_digests)`` as JSON (``ensure_ascii``: a
    file name that is not UTF-8, held with surrogate escapes, round-trips as ``\\udcxx``)."""
    report, internal, documents, racy = value
    if not isinstance(report, RunReport):
        raise CodecError("not a RunReport")
    data = [
        FORMAT,
        [report.tool_name, report.tool_version, report.root,
         [_finding_out(f) for f in report.findings],
         list(report.files),
         [[s.path, s.reason] for s in report.skipped],
         report.documents,
         {code: [r.code, r.slug, r.severity, r.summary, r.description, r.url] for code, r in report.rules.items()}],
        bool(internal), documents, dict(racy),
    ]
    return json.dumps(data, separators=(",", ":"), check_circular=False, allow_nan=False).encode("ascii")


def _finding_out(f: Finding) -> list:
    res = f.resource
    if res is not None and not (res.__class__ is dict and set(map(type, res)) <= {str}
                                and set(map(type, res.values())) <= _SCALAR_SET):
        raise CodecError("a finding's resource is not a mapping of names to scalars")
    return [f.rule, f.slug, f.severity, f.message, f.path, f.line, f.column, f.end_line, f.end_column,
            f.resource, f.hint, f.url, [[r.path, r.line, r.column, r.message] for r in f.related],
            f.fingerprint, [[sev, why] for sev, why in f.caps]]


def _bad(what: str):
    raise CodecError(f"run entry: {what}")


def _s(v) -> str:
    if v.__class__ is not str:
        _bad("expected a string")
    return v


def _i(v) -> int:
    if v.__class__ is not int:
        _bad("expected an integer")
    return v


def _oi(v) -> int | None:
    if v is not None and v.__class__ is not int:
        _bad("expected an integer or null")
    return v


def _l(v, n: int | None = None) -> list:
    if v.__class__ is not list or (n is not None and len(v) != n):
        _bad("expected a list" if n is None else f"expected a list of {n}")
    return v


def _d(v) -> dict:
    if v.__class__ is not dict:
        _bad("expected a mapping")
    return v


def _sev(v) -> str:
    if v.__class__ is not str or v not in _SEVERITY_SET:
        _bad("expected a severity")
    return v


def _finding_in(a) -> Finding:
    (rule, slug, sev, message, path, line, column, end_line, end_column, resource, hint, url, related,
     fingerprint, caps) = _l(a, 15)
    if resource is not None and not set(map(type, _d(resource).values())) <= _SCALAR_SET:
        _bad("resource values must be scalars")
    return Finding(
        _s(rule), _s(slug), _sev(sev), _s(message), _s(path), _i(line), _i(column), _oi(end_line),
        _oi(end_column), resource, _s(hint), _s(url),
        [Related(_s(p), _i(ln), _i(c), _s(m)) for p, ln, c, m in (_l(r, 4) for r in _l(related))],
        _s(fingerprint), [(_s(s), _s(w)) for s, w in (_l(c, 2) for c in _l(caps))])


def decode_run(data: bytes):
    """The inverse of ``encode_run``; ``CodecError`` (or a JSON error) for anything else."""
    top = json.loads(data)
    version, rep, internal, documents, racy = _l(top, 5)
    if version != FORMAT or version.__class__ is not int:
        _bad("another format")
    tool_name, tool_version, root, findings, files, skipped, docs, rules = _l(rep, 8)
    files = _l(files)
    if not set(map(type, files)) <= {str}:
        _bad("file names must be strings")
    out_rules = {}
    for code, r in _d(rules).items():
        c, slug, sev, summary, description, url = _l(r, 6)
        out_rules[code] = RuleInfo(_s(c), _s(slug), _sev(sev), _s(summary), _s(description), _s(url))
    report = RunReport(_s(tool_name), _s(tool_version), _s(root), [_finding_in(f) for f in _l(findings)], files,
                       [Skipped(_s(p), _s(why)) for p, why in (_l(s, 2) for s in _l(skipped))], _i(docs), out_rules)
    if internal.__class__ is not bool:
        _bad("expected a boolean")
    if not set(map(type, _d(racy).values())) <= {str, type(None)}:
        _bad("racy digests must be strings or null")
    return report, internal, _i(documents), racy


# --------------------------------------------------------------------------- file entries (msgpack)

_msgspec = None  # the structures below, built on first use (msgspec is imported then)


def _types():
    """The typed structures of a file entry (module-level classes, created once)."""
    global _msgspec
    if _msgspec is not None:
        return _msgspec
    from typing import Annotated, Union

    import msgspec

    Scalar = Union[str, int, float, bool, None]
    Index = Annotated[int, msgspec.Meta(ge=0)]
    Pos6 = tuple[int, int, int, int, int, int]
    Pos4 = tuple[int, int, int, int]

    class Map(msgspec.Struct, array_like=True, tag=0, gc=False, frozen=True):
        """A ``YMap``: its scalar entries (``None`` where a container goes), the keys and
        node indices of its containers, packed positions (or explicit ones, ``pd``)."""
        line: int
        col: int
        pv: bytes
        d: dict[Scalar, Scalar]
        ck: list[Scalar]
        ci: list[Index]
        pd: Union[list[tuple[Scalar, Pos6]], None] = None

    class Seq(msgspec.Struct, array_like=True, tag=1, gc=False, frozen=True):
        line: int
        col: int
        pv: bytes
        items: list[Scalar]
        si: list[Index]  # item positions that hold a container
        ci: list[Index]  # and the node of each
        pl: Union[list[Pos4], None] = None

    class Str(msgspec.Struct, array_like=True, tag=2, gc=False, frozen=True):
        """A long string that aliases share (``shared`` files only)."""
        s: str

    class Doc(msgspec.Struct, array_like=True, gc=False, frozen=True):
        path: str
        index: int
        value: Scalar  # when the value is a scalar
        node: Union[Index, None]  # else its node
        line: int
        column: int
        item: Union[int, None]
        origin: str
        name_hash: bool

    class File(msgspec.Struct, array_like=True, gc=False, frozen=True):
        digest: str
        nodes: list[Union[Map, Seq, Str]]  # in post-order: a node refers only to earlier ones
        docs: list[Doc]
        is_template: bool
        shared: bool

    class Files(msgspec.Struct, array_like=True, gc=False, frozen=True):
        """Each file's structure stays encoded (``Raw``, a view of the bytes) until it is
        decoded and built, one at a time: never the whole tree's structures at once."""
        version: int
        files: dict[str, msgspec.Raw]

    ns = type("Types", (), {})
    ns.msgspec = msgspec
    ns.Map, ns.Seq, ns.Str, ns.Doc, ns.File, ns.Files = Map, Seq, Str, Doc, File, Files
    ns.encoder = msgspec.msgpack.Encoder()
    ns.decoder = msgspec.msgpack.Decoder(Files)
    ns.file_decoder = msgspec.msgpack.Decoder(File)
    _msgspec = ns
    return ns


class _Uncacheable(Exception):
    pass


#: strings at least this long are written once in a ``shared`` file (an alias to a long
#: scalar would otherwise be written once per reference)
SHARED_STR_MIN = 64


def _encode_file(t, digest: str, documents: list, is_template: bool, shared: bool):
    holder: list = []
    try:
        return _encode_file_nodes(t, digest, documents, is_template, shared, holder)
    finally:
        # the recursive closure refers to itself through its cell: break that cycle, or
        # every file's structures stay alive until a garbage collection (the CLI runs none)
        for f in holder[1:]:
            f()
        holder.clear()


def _encode_file_nodes(t, digest: str, documents: list, is_template: bool, shared: bool, holder: list):
    Map, Seq, Str, Doc = t.Map, t.Seq, t.Str, t.Doc
    nodes: list = []
    memo: dict[int, int] | None = {} if shared else None
    scalars = _SCALAR_SET

    def node(x) -> int:
        if memo is not None:
            seen = memo.get(id(x))
            if seen is not None:
                if seen < 0:
                    raise _Uncacheable("a value contains itself")
                return seen
            memo[id(x)] = -1
        if x.__class__ is str:
            nodes.append(Str(x))
        elif isinstance(x, YMap):
            d = {}
            ck = []
            ci = []
            for k, v in x.items():
                if k.__class__ not in scalars:
                    raise _Uncacheable("a key that is not a scalar")
                c = v.__class__
                if c in scalars and not (memo is not None and c is str and len(v) >= SHARED_STR_MIN):
                    d[k] = v
                elif c is str or isinstance(v, (YMap, YSeq)):
                    d[k] = None
                    ck.append(k)
                    ci.append(node(v))
                else:
                    raise _Uncacheable(f"a value of type {c.__name__}")
            pv, pd = _map_positions(x)
            nodes.append(Map(x.line, x.col, pv, d, ck, ci, pd))
        elif isinstance(x, YSeq):
            items = []
            si = []
            ci = []
            for i, v in enumerate(x):
                c = v.__class__
                if c in scalars and not (memo is not None and c is str and len(v) >= SHARED_STR_MIN):
                    items.append(v)
                elif c is str or isinstance(v, (YMap, YSeq)):
                    items.append(None)
                    si.append(i)
                    ci.append(node(v))
                else:
                    raise _Uncacheable(f"a value of type {c.__name__}")
            pv, pl = _seq_positions(x)
            nodes.append(Seq(x.line, x.col, pv, items, si, ci, pl))
        else:
            raise _Uncacheable(f"a value of type {x.__class__.__name__}")
        i = len(nodes) - 1
        if memo is not None:
            memo[id(x)] = i
        return i

    holder.append(node)

    def release():
        nonlocal node
        node = None  # noqa: F841 - the closure's own cell
    holder.append(release)
    docs = []
    for doc in documents:
        if doc.__class__ is not Document:
            raise _Uncacheable("not a Document")
        v = doc.value
        if isinstance(v, (YMap, YSeq)):
            value, ref = None, node(v)
        elif v.__class__ in scalars:
            value, ref = v, None
        else:
            raise _Uncacheable(f"a document of type {v.__class__.__name__}")
        docs.append(Doc(doc.path, doc.index, value, ref, doc.line, doc.column, doc.item, doc.origin,
                        bool(doc.name_hash)))
    return t.File(digest, nodes, docs, bool(is_template), bool(shared))


def _pack(tuples, width: int) -> bytes | None:
    """Positions as packed 32-bit integers, or None when they are not all ``width``
    integers that fit."""
    flat = []
    for p in tuples:
        if p.__class__ is not tuple or len(p) != width:
            return None
        flat.extend(p)
    try:
        return array("i", flat).tobytes()
    except (OverflowError, TypeError):
        return None


def _map_positions(x: YMap) -> tuple[bytes, list | None]:
    pd = x._pd
    if pd is None:
        pv = x._pv if x._pv is not None else b""
        if len(pv) == 24 * len(x):
            return pv, None
        pd = x._unpacked()
    if len(pd) == len(x) and list(pd) == list(x):
        pv = _pack(pd.values(), 6)
        if pv is not None:
            return pv, None
    for p in pd.values():
        if p.__class__ is not tuple or len(p) != 6:
            raise _Uncacheable("a position that is not six integers")
    return b"", [(k, p) for k, p in pd.items()]


def _seq_positions(x: YSeq) -> tuple[bytes, list | None]:
    pl = x._pl
    if pl is None:
        pv = x._pv if x._pv is not None else b""
        if len(pv) == 16 * len(x):
            return pv, None
        if x._pv is not None:
            raise _Uncacheable("positions that do not match the items")
        pl = []  # a sequence built without positions
    if len(pl) == len(x):
        pv = _pack(pl, 4)
        if pv is not None:
            return pv, None
    for p in pl:
        if p.__class__ is not tuple or len(p) != 4:
            raise _Uncacheable("a position that is not four integers")
    return b"", list(pl)


class Stream:
    """An encoded entry written piece by piece: ``head`` (its length known now), then
    ``chunks()``; ``fix`` returns the bytes to write over the head once the chunks are
    written (the count of entries goes in it)."""

    def __init__(self, head: bytes, chunks, fix):
        self.head, self.chunks, self.fix = head, chunks, fix


def encode_files(value: dict) -> Stream:
    """A file-cache dict ``rel -> (digest, documents, is_template, shared)`` as msgpack
    (``[FORMAT, {rel: file}]``), streamed: each file is encoded on its own and written
    at once, so the whole is never held in memory (at 20,000 files, one buffer and
    msgpack's growth of it doubled the run's peak memory). The map's header is a map32
    whose count is written last. A file that the format cannot hold is left out (parsed
    again next time)."""
    t = _types()
    enc = t.encoder.encode
    prefix = b"\x92" + enc(FORMAT)
    count = [0]

    def chunks():
        for rel, entry in value.items():
            try:
                digest, documents, is_template, shared = entry
                rel.encode("utf-8")
                body = enc(_encode_file(t, digest, documents, is_template, shared))
            except (_Uncacheable, t.msgspec.EncodeError, OverflowError, UnicodeEncodeError, TypeError, ValueError,
                    RecursionError):
                continue
            count[0] += 1
            yield enc(rel)
            yield body

    return Stream(prefix + b"\xdf\x00\x00\x00\x00", chunks, lambda: prefix + b"\xdf" + count[0].to_bytes(4, "big"))


def encode_files_bytes(value: dict) -> bytes:
    """``encode_files`` as one ``bytes`` (tests, small values)."""
    st = encode_files(value)
    body = b"".join(st.chunks())
    return st.fix() + body


_new_map = dict.__new__
_new_seq = list.__new__


def decode_files(data: bytes) -> dict:
    """The inverse of ``encode_files``; an error for anything of another shape."""
    t = _types()
    top = t.decoder.decode(data)
    if top.version != FORMAT:
        raise CodecError("file entry: another format")
    Map, Seq = t.Map, t.Seq
    decode_file = t.file_decoder.decode
    out = {}
    for rel, raw in top.files.items():
        f = decode_file(raw)
        built: list = []
        app = built.append
        for n in f.nodes:
            c = n.__class__
            if c is Map:
                m = _new_map(YMap)
                m.line = n.line
                m.col = n.col
                d = n.d
                m.update(d)
                for k, i in zip(n.ck, n.ci):
                    m[k] = built[i]
                if len(m) != len(d) or len(n.ck) != len(n.ci):
                    raise CodecError("file entry: container keys that the mapping does not hold")
                if n.pd is None:
                    if len(n.pv) != 24 * len(d):
                        raise CodecError("file entry: positions do not match the keys")
                    m._pv = n.pv
                    m._pd = None
                else:
                    pd = dict(n.pd)
                    if n.pv or not pd.keys() <= m.keys():
                        raise CodecError("file entry: positions of keys the mapping does not hold")
                    m._pv = None
                    m._pd = pd
                app(m)
            elif c is Seq:
                s = _new_seq(YSeq)
                s.line = n.line
                s.col = n.col
                items = n.items
                s.extend(items)
                if len(n.si) != len(n.ci):
                    raise CodecError("file entry: container items without their nodes")
                for j, i in zip(n.si, n.ci):
                    s[j] = built[i]
                if n.pl is None:
                    if len(n.pv) != 16 * len(items):
                        raise CodecError("file entry: positions do not match the items")
                    s._pv = n.pv
                    s._pl = None
                else:
                    if n.pv:
                        raise CodecError("file entry: two kinds of positions")
                    s._pv = None
                    s._pl = list(n.pl)
                app(s)
            else:
                app(n.s)
        docs = [Document(d.path, d.index, d.value if d.node is None else built[d.node], d.line, d.column,
                         d.item, d.origin, d.name_hash) for d in f.docs]
        for d in f.docs:
            if d.node is not None and d.value is not None:
                raise CodecError("file entry: a document with two values")
        out[rel] = (f.digest, docs, f.is_template, f.shared)
    return out


#: kind of entry -> (encoder, decoder, one byte naming the kind in the entry's header)
CODECS = {
    "runs": (encode_run, decode_run, b"r"),
    "files": (encode_files, decode_files, b"f"),
    "files-shared": (encode_files, decode_files, b"s"),
}
