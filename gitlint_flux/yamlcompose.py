"""YAML text -> positioned Python values, fast and safe.

libyaml (through PyYAML's C parser) produces the event stream; this module composes it
into ``YMap``/``YSeq``/scalars with 1-based line and column (Unicode code points) for
every key and value.  Differences from PyYAML's own composer, all deliberate:

* YAML 1.2 typing as go-yaml v3 (hence kustomize and Flux) applies it: ``yes``/``on``
  are strings, ``0777`` and ``0o777`` are ints, ``1_000`` is an int.
* An anchor may be defined again; an alias refers to the latest definition.
* ``<<`` merge keys are applied; explicit keys win over merged ones.
* Tags are parsed, never constructed: a custom or ``!!python/...`` tag leaves the value
  as the plain text (or collection) it tags.
* Aliases share the anchored object; the expanded size of each document is counted and a
  document whose aliases expand beyond a limit (an alias bomb) is refused.
* Nesting deeper than ``MAX_DEPTH`` is refused instead of exhausting the stack of later
  walkers.
"""

from __future__ import annotations

import math
import re
from array import array as _array
from sys import intern as _intern

import yaml
from yaml import events as _ev

from .model import YMap, YSeq, line_col_after

try:  # libyaml is part of every PyYAML wheel we support; fall back to pure Python.
    from yaml._yaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - exercised only without libyaml
    from yaml.parser import Parser as _PyParser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, _PyParser):  # type: ignore[no-redef]
        def __init__(self, stream):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            _PyParser.__init__(self)


MAX_DEPTH = 500
# nodes a file may hold: beyond it, memory (not the file size) is the limit
MAX_NODES = 500_000
# expanded nodes allowed beyond the nodes actually written in a document
ALIAS_BUDGET = 200_000

_SCALAR = _ev.ScalarEvent
_MSTART = _ev.MappingStartEvent
_MEND = _ev.MappingEndEvent
_SSTART = _ev.SequenceStartEvent
_SEND = _ev.SequenceEndEvent
_ALIAS = _ev.AliasEvent
_DSTART = _ev.DocumentStartEvent
_DEND = _ev.DocumentEndEvent
_STREND = _ev.StreamEndEvent

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INFS = {".inf": math.inf, ".Inf": math.inf, ".INF": math.inf, "+.inf": math.inf, "+.Inf": math.inf,
         "+.INF": math.inf, "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf}
_NANS = frozenset((".nan", ".NaN", ".NAN"))
_NUM_START = frozenset("0123456789-+.")
_WORD_START = frozenset("tTfFnN~")

TAG_PREFIX = "tag:yaml.org,2002:"


class ComposeError(Exception):
    """A document the composer refuses: ``kind`` is ``syntax``, ``duplicate-key``,
    ``alias-bomb`` or ``too-deep``."""

    def __init__(self, kind: str, message: str, line: int, column: int):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column


def _parse_int(s: str):
    if len(s) > 1000:
        return None  # beyond any int64 go-yaml accepts: a string
    t = s.replace("_", "")
    sign = 1
    if t[:1] in "+-":
        sign = -1 if t[0] == "-" else 1
        t = t[1:]
    if not t:
        return None
    try:
        if t.isdigit():
            if len(t) > 1 and t[0] == "0":
                # 1.1-style octal, still decoded by go-yaml v3; invalid digits make it a string
                return sign * int(t, 8) if all(c in "01234567" for c in t) else None
            return sign * int(t)
        if t[:2] in ("0x", "0X"):
            return sign * int(t[2:], 16)
        if t[:2] in ("0o", "0O"):
            return sign * int(t[2:], 8)
        if t[:2] in ("0b", "0B"):
            return sign * int(t[2:], 2)
    except ValueError:
        return None
    return None


def resolve_plain(s: str):
    """Type of a plain (unquoted, untagged) scalar under YAML 1.2 as go-yaml v3 reads it."""
    if not s:
        return None
    c = s[0]
    if c in _WORD_START:
        if s in _NULLS:
            return None
        b = _BOOLS.get(s)
        if b is not None:
            return b
        return s
    if c in _NUM_START:
        i = _parse_int(s)
        if i is not None:
            return i
        t = s.replace("_", "")
        if _FLOAT_RE.match(t):
            try:
                return float(t)
            except ValueError:
                return s
        if s in _INFS:
            return _INFS[s]
        if s in _NANS:
            return math.nan
    return s


def _resolve_tagged(value: str, tag: str):
    """Explicit standard tags are honoured; any other tag is never constructed."""
    if tag.startswith("!!"):
        tag = TAG_PREFIX + tag[2:]
    if tag == TAG_PREFIX + "str":
        return value
    if tag == TAG_PREFIX + "int":
        i = _parse_int(value)
        return value if i is None else i
    if tag == TAG_PREFIX + "float":
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return value
    if tag == TAG_PREFIX + "bool":
        b = _BOOLS.get(value)
        return value if b is None else b
    if tag == TAG_PREFIX + "null":
        return None
    return value


def _scalar(ev):
    if ev.style == "" or ev.style is None:
        tag = ev.tag
        if tag is None or tag == "!":
            return ev.value if tag == "!" else resolve_plain(ev.value)
        return _resolve_tagged(ev.value, tag)
    tag = ev.tag
    if tag is None or tag == "!":
        return ev.value
    return _resolve_tagged(ev.value, tag)


_MERGE = object()


def _key_repr(key):
    """A collection used as a mapping key (or a huge number) becomes text."""
    if isinstance(key, (YMap, YSeq, dict, list)):
        try:
            return repr(key)
        except ValueError:  # an int beyond Python's digit limit inside the collection
            return "<collection key>"
    if isinstance(key, int) and not isinstance(key, bool) and key.bit_length() > 4000:
        return "<huge integer>"
    return key


def compose_all(text: str, sharing: list | None = None) -> tuple[list[tuple[object, int, int]], list[ComposeError]]:
    """Compose every document of ``text``; ``sharing[0]`` is set when a document uses an
    alias (two places then share one value).

    Returns ``(documents, errors)`` where each document is ``(value, line, column)``.
    A syntax error stops the file (libyaml cannot resume); composer refusals (duplicate
    key, alias bomb, nesting) drop or flag only their document.
    """
    parser = _Parser(text)
    docs: list[tuple[object, int, int]] = []
    errors: list[ComposeError] = []
    get = parser.get_event
    budget = [MAX_NODES]  # nodes the file may still have (each document's count is subtracted)
    try:
        while True:
            ev = get()
            cls = ev.__class__
            if cls is _DSTART:
                try:
                    result = _compose_document(get, errors, budget, sharing)
                except _TooMany:
                    break  # the file is too large: stop reading it
                except _Abort:
                    # refuse this document only: skip its remaining events, unless it nests
                    # on and on (libyaml's scanner is quadratic in the depth): then stop the file
                    depth = MAX_DEPTH
                    try:
                        while True:
                            budget[0] -= 1
                            ev = get()
                            if budget[0] < 0:
                                raise _too_many(errors, ev)
                            c = ev.__class__
                            if c is _DEND:
                                break
                            if c is _MSTART or c is _SSTART:
                                depth += 1
                                if depth > 2 * MAX_DEPTH:
                                    raise _Abort()
                            elif c is _MEND or c is _SEND:
                                depth -= 1
                    except yaml.YAMLError:
                        # the refused document is also beyond libyaml (e.g. its own nesting
                        # limit): already reported once, and the parser cannot go on
                        break
                    continue
                if result is not None:
                    docs.append(result)
            elif cls is _STREND:
                break
    except yaml.MarkedYAMLError as exc:
        pm, cm = exc.problem_mark, exc.context_mark
        problem = exc.problem or "invalid YAML"
        mark = pm or cm
        msg = problem
        if exc.context and cm is not None:
            msg = f"{problem} ({exc.context} at line {cm.line + 1}, column {cm.column + 1})"
            if "end of stream" in problem:
                # the construct left open is where the user has to look
                mark = cm
        elif exc.context:
            msg = f"{exc.context}: {problem}"
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        if "maximum nesting depth" in problem:
            # libyaml >= 0.2.6 (PyYAML 6.0.4 wheels) limits nesting itself, scanning ahead of us
            errors.append(ComposeError("too-deep", f"nesting deeper than the parser's limit ({problem})", line, col))
        else:
            errors.append(ComposeError("syntax", msg, line, col))
    except yaml.YAMLError as exc:  # reader errors (control characters, ...)
        line, col = 1, 1
        pos = getattr(exc, "position", None)
        if isinstance(pos, int):
            # libyaml reports a byte offset into the UTF-8 encoding of the text
            prefix = text.encode("utf-8", "surrogatepass")[:pos].decode("utf-8", "replace")
            line, col = line_col_after(prefix)
        reason = getattr(exc, "reason", None)
        char = getattr(exc, "character", None)
        if isinstance(char, str) and len(char) == 1:
            char = ord(char)
        msg = f"unacceptable character #x{char:04x}: {reason}" if reason and isinstance(char, int) else (
            reason or str(exc).splitlines()[0])
        errors.append(ComposeError("syntax", msg, line, col))
    except _Abort:
        pass  # a refusal already recorded (node budget)
    finally:
        try:
            parser.dispose()
        except Exception:  # pragma: no cover
            pass
    return docs, errors


class _Abort(Exception):
    pass


class _TooMany(_Abort):
    """The file has more nodes than MAX_NODES: it is not read further."""


def _too_many(errors, ev) -> _TooMany:
    m = ev.start_mark
    errors.append(ComposeError("too-deep", f"more than {MAX_NODES:,} YAML nodes in one file; it is not read "
                                           "further", m.line + 1, m.column + 1))
    return _TooMany()


def _compose_document(get, errors, budget, sharing=None):
    """Compose one document; the DocumentStartEvent has been consumed. ``budget[0]``:
    the nodes the file may still have (this document's are subtracted)."""
    limit = budget[0]
    anchors: dict[str, tuple[object, int]] = {}
    # frame: [container, is_map, pending_key, key_line, key_col, weight, anchor, merges,
    #         unused, positions (6 integers a key, in the keys' order; 4 an item)]
    stack: list[list] = []
    root = None
    root_line = root_col = 1
    written = 0  # nodes actually written
    expanded = 0  # nodes after alias expansion
    dropped: ComposeError | None = None

    def attach(value, weight, l, c, el, ec):
        nonlocal root, root_line, root_col
        if not stack:
            root, root_line, root_col = value, l, c
            return
        fr = stack[-1]
        fr[5] += weight
        cont = fr[0]
        if fr[1]:
            if fr[2] is _MERGE_PENDING:
                key = value
                if key == "<<" and isinstance(key, str) and plain_merge[0]:
                    fr[2] = _MERGE
                else:
                    fr[2] = _key_repr(key)
                fr[3] = l
                fr[4] = c
            else:
                key = fr[2]
                fr[2] = _MERGE_PENDING
                if key is _MERGE:
                    fr[7].append((value, l, c))
                    return
                if key in cont:
                    _duplicate(fr, key, errors, (fr[3], fr[4], l, c, el, ec))
                else:
                    fr[9] += (fr[3], fr[4], l, c, el, ec)
                cont[key] = value
        else:
            cont.append(value)
            fr[9] += (l, c, el, ec)

    plain_merge = [False]
    while True:
        ev = get()
        cls = ev.__class__
        if cls is _SCALAR:
            written += 1
            expanded += 1
            if written > limit:
                raise _too_many(errors, ev)
            style = ev.style
            plain = style == "" or style is None
            if stack and not ev.anchor:
                # the common case, inlined: a key or a value of a mapping, an item of a sequence
                fr = stack[-1]
                fr[5] += 1
                sm = ev.start_mark
                if fr[1]:
                    if fr[2] is _MERGE_PENDING:
                        if ev.tag is None:
                            # a mapping key: kept as written (as go-yaml compares keys), so `1`
                            # and `true` stay distinct and every key is a string, as in JSON
                            key = _intern(ev.value)  # one copy of `metadata`, `name`... per run
                            fr[2] = _MERGE if (key == "<<" and plain) else key
                        else:
                            fr[2] = _key_repr(_scalar(ev))
                        fr[3] = sm.line + 1
                        fr[4] = sm.column + 1
                        continue
                    key = fr[2]
                    fr[2] = _MERGE_PENDING
                    value = (resolve_plain(ev.value) if ev.tag is None else _scalar(ev)) if plain else _scalar(ev)
                    em = ev.end_mark
                    if key is _MERGE:
                        fr[7].append((value, sm.line + 1, sm.column + 1))
                        continue
                    cont = fr[0]
                    if key in cont:
                        _duplicate(fr, key, errors,
                                   (fr[3], fr[4], sm.line + 1, sm.column + 1, em.line + 1, em.column + 1))
                    else:
                        fr[9] += (fr[3], fr[4], sm.line + 1, sm.column + 1, em.line + 1, em.column + 1)
                    cont[key] = value
                    continue
                value = (resolve_plain(ev.value) if ev.tag is None else _scalar(ev)) if plain else _scalar(ev)
                em = ev.end_mark
                fr[0].append(value)
                fr[9] += (sm.line + 1, sm.column + 1, em.line + 1, em.column + 1)
                continue
            plain_merge[0] = plain
            if stack and stack[-1][1] and stack[-1][2] is _MERGE_PENDING and ev.tag is None:
                value = ev.value
            else:
                value = _scalar(ev)
            sm, em = ev.start_mark, ev.end_mark
            if ev.anchor:
                anchors[ev.anchor] = (value, 1)
            attach(value, 1, sm.line + 1, sm.column + 1, em.line + 1, em.column + 1)
        elif cls is _MSTART or cls is _SSTART:
            written += 1
            expanded += 1
            if written > limit:
                raise _too_many(errors, ev)
            if len(stack) >= MAX_DEPTH:
                sm = ev.start_mark
                errors.append(ComposeError("too-deep", f"nesting deeper than {MAX_DEPTH} levels", sm.line + 1, sm.column + 1))
                budget[0] -= written
                raise _Abort()
            sm = ev.start_mark
            is_map = cls is _MSTART
            cont = YMap(sm.line + 1, sm.column + 1) if is_map else YSeq(sm.line + 1, sm.column + 1)
            stack.append([cont, is_map, _MERGE_PENDING, 0, 0, 1, ev.anchor, [], None, []])
        elif cls is _MEND or cls is _SEND:
            fr = stack.pop()
            cont = fr[0]
            cont._pv = _array("i", fr[9]).tobytes()  # bytes: the cheapest to keep and to pickle
            if fr[1] and fr[7]:
                _apply_merges(cont, fr[7], errors)
            if fr[6]:
                anchors[fr[6]] = (cont, fr[5])
            em = ev.end_mark
            plain_merge[0] = False
            attach(cont, fr[5], cont.line, cont.col, em.line + 1, em.column + 1)
        elif cls is _ALIAS:
            sm = ev.start_mark
            target = anchors.get(ev.anchor)
            if target is None:
                errors.append(ComposeError("syntax", f'found undefined alias "{ev.anchor}"', sm.line + 1, sm.column + 1))
                target = (None, 1)
                if dropped is None:
                    dropped = errors[-1]
            value, weight = target
            if sharing is not None:
                sharing[0] = True  # even a scalar: a long string written once per alias would bloat the cache
            expanded += weight
            written += 1
            if written > limit:
                raise _too_many(errors, ev)
            if expanded > written + ALIAS_BUDGET:
                errors.append(ComposeError(
                    "alias-bomb",
                    f"aliases expand this document beyond {ALIAS_BUDGET:,} nodes (an alias bomb?)",
                    sm.line + 1, sm.column + 1))
                budget[0] -= written
                raise _Abort()
            plain_merge[0] = False
            attach(value, weight, sm.line + 1, sm.column + 1, ev.end_mark.line + 1, ev.end_mark.column + 1)
        elif cls is _DEND:
            budget[0] -= written
            if dropped is not None:
                return None
            return (root, root_line, root_col)


_MERGE_PENDING = object()


def _duplicate(fr, key, errors, where) -> None:
    """A key given twice: reported at the second; the later value and position win."""
    i = list(fr[0]).index(key)  # keys are never added twice: the dict's order is theirs
    errors.append(ComposeError("duplicate-key", f'mapping key "{key}" already defined at line {fr[9][6 * i]}',
                               fr[3], fr[4]))
    fr[9][6 * i:6 * i + 6] = where


def _apply_merges(cont: YMap, merges, errors):
    """Apply ``<<`` values: explicit keys win; among merged maps, the first wins."""
    sources = []
    for value, l, c in merges:
        if isinstance(value, dict):
            sources.append(value)
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            sources.extend(value)
        else:
            errors.append(ComposeError("syntax", "map merge requires a mapping or a list of mappings", l, c))
    for src in sources:
        for k, v in src.items():
            if k in cont:
                continue
            cont[k] = v
            p = src.pos.get(k) if isinstance(src, YMap) else None
            if p is not None:
                cont.pos[k] = p
