"""Kubernetes label selectors and kustomize patch targets, as upstream evaluates them.

* :func:`parse` is apimachinery's ``labels.Parse`` (``k8s.io/apimachinery/pkg/labels/
  selector.go``: its ``Lexer``, ``Parser`` and ``NewRequirement``), with the same grammar,
  the same validation of keys (qualified names: an optional DNS-subdomain prefix and
  ``/``, a name of at most 63 characters) and values (label values: at most 63
  characters, alphanumeric at both ends), and ``Requirement.Matches``.
* :func:`target_matches` / :class:`Target` is kustomize's patch-target selection
  (``api/types/selector.go`` ``SelectorRegex``, ``api/resmap/reswrangler.go`` ``Select``,
  ``api/resource`` ``MatchesLabelSelector``): group, version, kind, name and namespace are
  regular expressions anchored as ``^(?:...)$``, an empty one matches anything; name and
  namespace match when the original *or* the current value does; the namespace compared
  is the *effective* one (``resid.EffectiveNamespace``): ``_non_namespaceable_`` for a
  cluster-scoped object, ``default`` for an empty namespace.

kustomize fails the build on an invalid regular expression (``NewSelectorRegex``, before
any resource is looked at) and on an invalid label or annotation selector (``labels.Parse``
for each resource that passed the name, namespace and GVK tests): both raise
:class:`SelectorError` here. Go's RE2 syntax is translated to Python's ``re``; what Go
rejects raises ``SelectorError``; what Python cannot do as RE2 does (``\\pL`` classes, the
``U`` flag, patterns whose backtracking could blow up: a repeated group that itself holds a
repetition or an alternation, more than three unbounded repetitions, patterns over 1000
characters) raises ``SelectorError`` with ``unsupported=True``: not known to be wrong, only
not judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping


class SelectorError(Exception):
    """An invalid selector or pattern: ``message`` and ``offset`` (character offset in the
    text); ``unsupported``: valid for upstream perhaps, but not evaluable here; ``field``:
    the target field it came from (``"labelSelector"``, ``"name"``, ...), when known."""

    def __init__(self, message: str, offset: int = 0, *, unsupported: bool = False, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.unsupported = unsupported
        self.field = field


# --------------------------------------------------------------------------- validation
# k8s.io/apimachinery/pkg/util/validation: IsQualifiedName, IsDNS1123Subdomain, IsValidLabelValue

_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
_NAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
             "with an alphanumeric character")


def label_key_errors(key: str) -> list[str]:
    """Why ``key`` is not a valid label key (``IsQualifiedName``); empty when it is."""
    errs: list[str] = []
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errs.append("prefix part must be no more than 253 characters")
            if not _DNS1123_SUBDOMAIN.match(prefix):
                errs.append("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                            "characters, '-' or '.', and must start and end with an alphanumeric character")
    else:
        return ["a qualified name " + _NAME_MSG + " with an optional DNS subdomain prefix and '/' "
                "(e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not _QUALIFIED_NAME.match(name):
        errs.append("name part " + _NAME_MSG)
    return errs


def label_value_errors(value: str) -> list[str]:
    """Why ``value`` is not a valid label value (``IsValidLabelValue``)."""
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE.match(value):
        errs.append("a valid label " + _NAME_MSG)
    return errs


_GO_INT64 = re.compile(r"[+-]?[0-9]+\Z")


def _parse_int64(s: str) -> int | None:
    """strconv.ParseInt(s, 10, 64)."""
    if not _GO_INT64.match(s):
        return None
    v = int(s)
    return v if -(1 << 63) <= v < (1 << 63) else None


# --------------------------------------------------------------------------- requirements

EXISTS, DOES_NOT_EXIST = "exists", "!"
EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "=", "==", "!="
IN, NOT_IN, GREATER_THAN, LESS_THAN = "in", "notin", "gt", "lt"


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, Any]) -> bool:
        """``Requirement.Matches``: ``!=`` and ``notin`` match an absent key; ``gt``/``lt``
        need the label's value to be an integer."""
        op = self.op
        present = self.key in labels
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return present and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return not present or labels[self.key] not in self.values
        if op == EXISTS:
            return present
        if op == DOES_NOT_EXIST:
            return not present
        if op in (GREATER_THAN, LESS_THAN):
            if not present or not isinstance(labels[self.key], str):
                return False
            have = _parse_int64(labels[self.key])
            if have is None or len(self.values) != 1:
                return False
            want = _parse_int64(self.values[0])
            if want is None:
                return False
            return have > want if op == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        if self.op == DOES_NOT_EXIST:
            return "!" + self.key
        if self.op == EXISTS:
            return self.key
        sym = {IN: " in ", NOT_IN: " notin ", GREATER_THAN: ">", LESS_THAN: "<"}.get(self.op, self.op)
        vals = ",".join(self.values)
        return f"{self.key}{sym}({vals})" if self.op in (IN, NOT_IN) else f"{self.key}{sym}{vals}"


@dataclass(frozen=True)
class Selector:
    requirements: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        """Matches everything."""
        return not self.requirements

    def matches(self, labels: Mapping[str, Any] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


# --------------------------------------------------------------------------- lexer and parser

_T_ERROR, _T_EOS, _T_CLOSE, _T_COMMA, _T_NOT, _T_DEQ, _T_EQ, _T_GT, _T_ID, _T_IN, _T_LT, _T_NEQ, _T_NOTIN, \
    _T_OPEN = range(14)
_TOKENS = {")": _T_CLOSE, ",": _T_COMMA, "!": _T_NOT, "==": _T_DEQ, "=": _T_EQ, ">": _T_GT, "in": _T_IN,
           "<": _T_LT, "!=": _T_NEQ, "notin": _T_NOTIN, "(": _T_OPEN}
_SPECIAL = frozenset("=!(),><")
_WS = frozenset(" \t\r\n")
_BINARY = "in, notin, =, ==, !=, gt, lt"


def _lex(s: str) -> list[tuple[int, str, int]]:
    """``(token, literal, offset)`` until the end of the string (a NUL ends it, as Go's
    lexer reads a zero byte as the end)."""
    out = []
    n = len(s)
    i = 0
    while True:
        while i < n and s[i] in _WS:
            i += 1
        if i >= n or s[i] == "\0":
            out.append((_T_EOS, "", i))
            return out
        start = i
        if s[i] in _SPECIAL:
            last = None
            buf = ""
            while i < n and s[i] in _SPECIAL:
                buf += s[i]
                if buf in _TOKENS:
                    last = (_TOKENS[buf], buf)
                    i += 1
                elif last is not None:
                    break
                else:  # pragma: no cover - every single special character is a token
                    i += 1
            out.append((last[0], last[1], start))
        else:
            while i < n and s[i] not in _SPECIAL and s[i] not in _WS and s[i] != "\0":
                i += 1
            lit = s[start:i]
            out.append((_TOKENS.get(lit, _T_ID), lit, start))


class _Parser:
    def __init__(self, text: str):
        self.items = _lex(text)
        self.pos = 0

    def lookahead(self, values: bool) -> tuple[int, str, int]:
        tok, lit, off = self.items[self.pos]
        if values and tok in (_T_IN, _T_NOTIN):
            tok = _T_ID
        return tok, lit, off

    def consume(self, values: bool) -> tuple[int, str, int]:
        t = self.lookahead(values)
        self.pos += 1
        return t

    def parse(self) -> list[Requirement]:
        reqs = []
        while True:
            tok, lit, off = self.lookahead(True)
            if tok in (_T_ID, _T_NOT):
                reqs.append(self.requirement())
                t, l, o = self.consume(True)
                if t == _T_EOS:
                    return reqs
                if t == _T_COMMA:
                    t2, l2, o2 = self.lookahead(True)
                    if t2 not in (_T_ID, _T_NOT):
                        raise SelectorError(f"found '{l2}', expected: identifier after ','", o2)
                else:
                    raise SelectorError(f"found '{l}', expected: ',' or 'end of string'", o)
            elif tok == _T_EOS:
                return reqs
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'", off)

    def fail(self, msg: str, off: int):
        raise SelectorError("unable to parse requirement: " + msg, off)

    def requirement(self) -> Requirement:
        op = None
        tok, lit, off = self.consume(True)
        if tok == _T_NOT:
            op = DOES_NOT_EXIST
            tok, lit, off = self.consume(True)
        if tok != _T_ID:
            self.fail(f"found '{lit}', expected: identifier", off)
        key, key_off = lit, off
        errs = label_key_errors(key)
        if errs:
            self.fail(f"invalid label key \"{key}\": " + "; ".join(errs), key_off)
        t, _, _ = self.lookahead(True)
        if t in (_T_EOS, _T_COMMA) and op is None:
            op = EXISTS
        if op in (EXISTS, DOES_NOT_EXIST):
            return Requirement(key, op)
        tok, lit, off = self.consume(False)
        op = {_T_IN: IN, _T_EQ: EQUALS, _T_DEQ: DOUBLE_EQUALS, _T_GT: GREATER_THAN, _T_LT: LESS_THAN,
              _T_NOTIN: NOT_IN, _T_NEQ: NOT_EQUALS}.get(tok)
        if op is None:
            self.fail(f"found '{lit}', expected: {_BINARY}", off)
        val_off = self.items[self.pos][2]
        values = self.values() if op in (IN, NOT_IN) else self.exact_value()
        vals = tuple(sorted(values))
        # NewRequirement's checks
        if op in (IN, NOT_IN) and not vals:  # pragma: no cover - the parser always yields one
            self.fail("for 'in', 'notin' operators, values set can't be empty", val_off)
        if op in (GREATER_THAN, LESS_THAN):
            for v in vals:
                if _parse_int64(v) is None:
                    self.fail(f"invalid value \"{v}\": for 'Gt', 'Lt' operators, the value must be an integer",
                              val_off)
        for v in vals:
            errs = label_value_errors(v)
            if errs:
                self.fail(f"invalid label value \"{v}\" for key \"{key}\": " + "; ".join(errs), val_off)
        return Requirement(key, op, vals)

    def values(self) -> set[str]:
        tok, lit, off = self.consume(True)
        if tok != _T_OPEN:
            self.fail(f"found '{lit}' expected: '('", off)
        tok, lit, off = self.lookahead(True)
        if tok in (_T_ID, _T_COMMA):
            s = self.identifiers()
            t, _, o = self.consume(True)
            if t != _T_CLOSE:
                self.fail(f"found '{lit}', expected: ')'", o)
            return s
        if tok == _T_CLOSE:  # "()" is the set holding the empty value
            self.consume(True)
            return {""}
        self.fail(f"found '{lit}', expected: ',', ')' or identifier", off)

    def identifiers(self) -> set[str]:
        s: set[str] = set()
        while True:
            tok, lit, off = self.consume(True)
            if tok == _T_ID:
                s.add(lit)
                t2, l2, o2 = self.lookahead(True)
                if t2 == _T_COMMA:
                    continue
                if t2 == _T_CLOSE:
                    return s
                self.fail(f"found '{l2}', expected: ',' or ')'", o2)
            elif tok == _T_COMMA:
                if not s:
                    s.add("")  # "(,"
                t2, _, _ = self.lookahead(True)
                if t2 == _T_CLOSE:
                    s.add("")  # ",)"
                    return s
                if t2 == _T_COMMA:
                    s.add("")  # ",,"
            else:
                self.fail(f"found '{lit}', expected: ',', or identifier", off)

    def exact_value(self) -> set[str]:
        tok, lit, off = self.lookahead(True)
        if tok in (_T_EOS, _T_COMMA):
            return {""}
        tok, lit, off = self.consume(True)
        if tok == _T_ID:
            return {lit}
        self.fail(f"found '{lit}', expected: identifier", off)


@lru_cache(maxsize=4096)
def parse(text: str) -> Selector:
    """``labels.Parse``: the selector, or :class:`SelectorError`. An empty (or blank)
    selector matches everything."""
    reqs = _Parser(text).parse()
    return Selector(tuple(sorted(reqs, key=lambda r: r.key)))


# --------------------------------------------------------------------------- Go regular expressions

MAX_PATTERN = 1000
MAX_UNBOUNDED = 3

_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ", "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~", "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}
_PERL = {"d": "0-9", "s": "\\t\\n\\f\\r ", "w": "0-9A-Za-z_"}
_WORD = "[0-9A-Za-z_]"
_SIMPLE_ESC = {"a": "\\x07", "f": "\\f", "t": "\\t", "n": "\\n", "r": "\\r", "v": "\\x0b"}


def _cls_char(c: str) -> str:
    return c if c.isalnum() and c.isascii() else ("\\" + c if c.isascii() else c)


_REPEAT = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")


class _Group:
    __slots__ = ("start", "complex", "flags")

    def __init__(self, start: int):
        self.start = start          # index in the output of its "("
        self.complex = False        # holds a repetition or an alternation
        self.flags: list[str] = []  # inline-flag scopes opened inside it


class _RegexTranslator:
    """Go regexp/syntax (RE2) to Python ``re``, rejecting what Go rejects."""

    def __init__(self, pattern: str, field: str | None):
        self.p = pattern
        self.i = 0
        self.field = field
        self.out: list[str] = []
        self.groups = [_Group(0)]
        self.unbounded = 0
        self.multiline = False

    def err(self, msg: str):
        raise SelectorError(f"error parsing regexp: {msg}: `{self.p}`", self.i, field=self.field)

    def unsupported(self, msg: str):
        raise SelectorError(f"regular expression not evaluated here: {msg}: `{self.p}`", self.i,
                            unsupported=True, field=self.field)

    def translate(self) -> str:
        p, n = self.p, len(self.p)
        atom: tuple[int, bool] | None = None  # (output index, is a complex group) of the last atom
        while self.i < n:
            c = p[self.i]
            at = len(self.out)
            if c in "*+?" or (c == "{" and _REPEAT.match(p, self.i)):
                if atom is None:
                    self.err("missing argument to repetition operator")
                self.quantifier(atom)
                atom = None
                continue
            if c == "(":
                self.open_group()
                atom = None
                continue
            if c == ")":
                if len(self.groups) == 1:
                    self.err("unexpected )")
                g = self.groups.pop()
                self.out.append(")" * (len(g.flags) + 1))
                self.i += 1
                if g.complex:
                    self.groups[-1].complex = True
                atom = (g.start, g.complex)
                continue
            if c == "|":
                g = self.groups[-1]
                g.complex = True
                self.out.append(")" * len(g.flags) + "|" + "".join(f"(?{f}:" for f in g.flags))
                self.i += 1
                atom = None
                continue
            if c == "\\":
                self.out.append(self.escape(in_class=False))
            elif c == "[":
                self.out.append(self.char_class())
            elif c == "$":
                self.out.append("$" if self.multiline else "(?!\\n)\\Z")
                self.i += 1
            elif c in "^.":
                self.out.append(c)
                self.i += 1
            else:
                self.out.append(re.escape(c))
                self.i += 1
            atom = (at, False)
        if len(self.groups) > 1:
            self.err("missing closing )")
        self.out.append(")" * len(self.groups[0].flags))
        return "".join(self.out)

    def quantifier(self, atom: tuple[int, bool]):
        p = self.p
        m = _REPEAT.match(p, self.i) if p[self.i] == "{" else None
        if m:
            lo = int(m.group(1))
            hi = None if m.group(2) and not m.group(3) else int(m.group(3) or m.group(1))
            if lo > 1000 or (hi is not None and (hi > 1000 or hi < lo)):
                self.err(f"invalid repeat count: `{m.group(0)}`")
            unbounded = hi is None or hi > 1
            self.out.append(m.group(0))
            self.i = m.end()
        else:
            unbounded = p[self.i] in "*+"
            self.out.append(p[self.i])
            self.i += 1
        if self.i < len(p) and p[self.i] == "?":
            self.out.append("?")
            self.i += 1
        if self.i < len(p) and (p[self.i] in "*+?" or (p[self.i] == "{" and _REPEAT.match(p, self.i))):
            self.err("invalid nested repetition operator")
        self.groups[-1].complex = True
        if unbounded:
            self.unbounded += 1
            if self.unbounded > MAX_UNBOUNDED:
                self.unsupported("more than three unbounded repetitions")
            if atom[1]:
                # Python's engine backtracks where RE2 is linear: (a+)+, (a|ab)* can hang
                self.unsupported("a repeated group holding a repetition or an alternation")

    def open_group(self):
        p, i = self.p, self.i
        start = len(self.out)
        if p.startswith("(?", i):
            rest = p[i + 2:]
            m = re.match(r"P?<([A-Za-z0-9_]+)>", rest)
            if m:
                self.out.append(f"(?P<{m.group(1)}>")
                self.i += 2 + m.end()
            else:
                m = re.match(r"([imsU]*)(?:-([imsU]*))?([:)])", rest)
                if not m or not (m.group(1) or m.group(2) or m.group(3) == ":") or m.group(2) == "":
                    self.err(f"invalid or unsupported Perl syntax: `(?{rest[:1]}`")
                on, off, end = m.group(1), m.group(2) or "", m.group(3)
                if "U" in on + off:
                    self.unsupported("the U (ungreedy) flag")
                if "m" in on:
                    self.multiline = True
                spec = on + ("-" + off if off else "")
                self.i += 2 + m.end()
                if end == ")":
                    # flags for the rest of the enclosing group: a scoped group, closed and
                    # reopened at each alternation, closed with the group
                    self.out.append(f"(?{spec}:")
                    self.groups[-1].flags.append(spec)
                    return
                self.out.append(f"(?{spec}:" if spec else "(?:")
        else:
            self.out.append("(")
            self.i += 1
        self.groups.append(_Group(start))

    def escape(self, in_class: bool) -> str:
        """``\\c`` at ``self.i`` as Python text (inside a class: class text)."""
        p = self.p
        if self.i + 1 >= len(p):
            self.err("trailing backslash at end of expression")
        c = p[self.i + 1]
        self.i += 2
        if c in "01234567":
            # Go: \0 and up to two more octal digits; \1-\7 alone would be a backreference
            if c != "0" and not (self.i < len(p) and p[self.i] in "01234567"):
                self.err(f"invalid escape sequence: `\\{c}`")
            digits = c
            while len(digits) < 3 and self.i < len(p) and p[self.i] in "01234567":
                digits += p[self.i]
                self.i += 1
            return f"\\U{int(digits, 8):08x}"
        if c == "x":
            m = re.compile(r"\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2})").match(p, self.i)
            if not m or int(m.group(1) or m.group(2), 16) > 0x10FFFF:
                self.err("invalid escape sequence: `\\x`")
            self.i = m.end()
            return f"\\U{int(m.group(1) or m.group(2), 16):08x}"
        if c in _SIMPLE_ESC:
            return _SIMPLE_ESC[c]
        if c in "dsw":
            return _PERL[c] if in_class else f"[{_PERL[c]}]"
        if c in "DSW":
            if in_class:
                self.unsupported(f"\\{c} inside a class")
            return f"[^{_PERL[c.lower()]}]"
        if c in "pP":
            self.unsupported(f"the Unicode class \\{c}")
        if c == "Q":
            end = p.find("\\E", self.i)
            lit = p[self.i:] if end < 0 else p[self.i:end]
            self.i = len(p) if end < 0 else end + 2
            if in_class:
                self.unsupported("\\Q inside a class")
            return "(?:" + "".join(re.escape(ch) for ch in lit) + ")"
        if not in_class and c in "AzbB":
            return {"A": "\\A", "z": "\\Z",
                    "b": f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))",
                    "B": f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))"}[c]
        if c.isascii() and not c.isalnum():
            return "\\" + c
        self.err(f"invalid escape sequence: `\\{c}`")

    def char_class(self) -> str:
        p = self.p
        self.i += 1
        parts = ["["]
        if self.i < len(p) and p[self.i] == "^":
            parts.append("^")
            self.i += 1
        first = True
        while True:
            if self.i >= len(p):
                self.err("missing closing ]")
            c = p[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            m = re.compile(r"\[:(\^?)([a-z]+):\]").match(p, self.i) if c == "[" else None
            if m:
                cls = _POSIX.get(m.group(2))
                if cls is None:
                    self.err(f"invalid character class range: `{m.group(0)}`")
                if m.group(1):
                    self.unsupported("a negated POSIX class")
                parts.append(cls)
                self.i = m.end()
                continue
            lo, lo_char = self.class_member()
            if lo_char is None:  # \d, \s, \w: a set
                parts.append(lo)
                continue
            if self.i + 1 < len(p) and p[self.i] == "-" and p[self.i + 1] != "]":
                self.i += 1
                hi, hi_char = self.class_member()
                if hi_char is None or hi_char < lo_char:
                    self.err("invalid character class range")
                parts.append(f"{lo}-{hi}")
            else:
                parts.append(lo)
        parts.append("]")
        return "".join(parts)

    def class_member(self) -> tuple[str, str | None]:
        """``(class text, the character)``; the character is None for a set (``\\d``)."""
        p = self.p
        c = p[self.i]
        if c != "\\":
            self.i += 1
            return _cls_char(c), c
        nxt = p[self.i + 1] if self.i + 1 < len(p) else ""
        t = self.escape(in_class=True)
        if nxt in "dsw" and nxt:
            return t, None
        if t.startswith("\\U"):
            return t, chr(int(t[2:], 16))
        raw = {"\\x07": "\x07", "\\f": "\f", "\\t": "\t", "\\n": "\n", "\\r": "\r", "\\x0b": "\x0b"}.get(t)
        return t, raw if raw is not None else t[-1]


@lru_cache(maxsize=2048)
def go_regex(pattern: str, field: str | None = None) -> re.Pattern:
    """A Go (RE2) pattern compiled as kustomize anchors it (``^(?:pattern)$``); raises
    :class:`SelectorError`."""
    if len(pattern) > MAX_PATTERN:
        raise SelectorError(f"regular expression not evaluated here: longer than {MAX_PATTERN} characters",
                            0, unsupported=True, field=field)
    body = _RegexTranslator(pattern, field).translate()
    try:
        return re.compile(f"(?:{body})\\Z")
    except re.error as e:  # pragma: no cover - the translation rejects what Python would
        raise SelectorError(f"error parsing regexp: {e}: `{pattern}`", 0, field=field) from None


# --------------------------------------------------------------------------- patch targets

NON_NAMESPACEABLE = "_non_namespaceable_"   # resid.TotallyNotANamespace
DEFAULT_NAMESPACE = "default"


def effective_namespace(namespace: str | None, cluster_scoped: bool) -> str:
    """``resid.EffectiveNamespace``."""
    if cluster_scoped:
        return NON_NAMESPACEABLE
    return namespace or DEFAULT_NAMESPACE


def _field(target: Mapping, key: str) -> str:
    v = target.get(key)
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise SelectorError(f"target.{key} must be a string", 0, field=key)
    return str(v)


@dataclass(frozen=True)
class Target:
    """A compiled patch target; building one raises what kustomize's ``NewSelectorRegex``
    rejects (the selectors are parsed too, though kustomize parses them only for objects
    that pass the other tests)."""

    group: re.Pattern | None
    version: re.Pattern | None
    kind: re.Pattern | None
    name: re.Pattern | None
    namespace: re.Pattern | None
    label_selector: str
    annotation_selector: str

    @classmethod
    def of(cls, target: Mapping | None) -> "Target":
        target = target or {}
        regs = {}
        for key in ("group", "version", "kind", "name", "namespace"):
            s = _field(target, key)
            regs[key] = go_regex(s, key) if s else None
        return cls(regs["group"], regs["version"], regs["kind"], regs["name"], regs["namespace"],
                   _field(target, "labelSelector"), _field(target, "annotationSelector"))

    def selectors(self) -> tuple[Selector, Selector]:
        """Both selectors parsed (raises :class:`SelectorError` with ``field`` set)."""
        out = []
        for f, text in (("labelSelector", self.label_selector), ("annotationSelector", self.annotation_selector)):
            try:
                out.append(parse(text))
            except SelectorError as e:
                raise SelectorError(e.message, e.offset, field=f) from None
        return out[0], out[1]

    def matches(self, *, group: str = "", version: str = "", kind: str = "",
                name: str | Iterable[str] = "", namespace: str | None | Iterable[str | None] = "",
                labels: Mapping | None = None, annotations: Mapping | None = None,
                cluster_scoped: bool = False) -> bool:
        """reswrangler ``Select`` for one object. ``name``/``namespace``: one value, or the
        original and current ones (either matching is enough); namespaces are compared as
        effective namespaces."""
        if self.namespace is not None:
            nss = [namespace] if namespace is None or isinstance(namespace, str) else list(namespace)
            if not any(self.namespace.match(effective_namespace(ns, cluster_scoped)) for ns in nss):
                return False
        if self.name is not None:
            names = [name] if isinstance(name, str) else list(name)
            if not any(self.name.match(n or "") for n in names):
                return False
        for rx, v in ((self.group, group), (self.version, version), (self.kind, kind)):
            if rx is not None and not rx.match(v or ""):
                return False
        if self.label_selector or self.annotation_selector:
            lsel, asel = self.selectors()
            if not lsel.matches(_strings(labels)):
                return False
            if not asel.matches(_strings(annotations)):
                return False
        return True


def _strings(m: Mapping | None) -> dict:
    if not isinstance(m, Mapping):
        return {}
    return {str(k): v for k, v in m.items()}


@lru_cache(maxsize=1024)
def _target_cached(items: tuple) -> Target:
    return Target.of(dict(items))


def compile_target(target: Mapping | None) -> Target:
    """:class:`Target` for a patch's ``target`` mapping (cached by its fields)."""
    if not target:
        return _target_cached(())
    try:
        key = tuple(sorted((k, v) for k, v in target.items()
                           if k in ("group", "version", "kind", "name", "namespace", "labelSelector",
                                    "annotationSelector")))
        hash(key)
    except TypeError:
        return Target.of(target)
    return _target_cached(key)


def target_matches(target: Mapping | None, *, group: str = "", version: str = "", kind: str = "",
                   name: str | Iterable[str] = "", namespace: str | None | Iterable[str | None] = "",
                   labels: Mapping | None = None, annotations: Mapping | None = None,
                   cluster_scoped: bool = False) -> bool:
    """Whether kustomize applies a patch with this ``target`` to the object; raises
    :class:`SelectorError` where kustomize fails the build."""
    return compile_target(target).matches(group=group, version=version, kind=kind, name=name,
                                          namespace=namespace, labels=labels, annotations=annotations,
                                          cluster_scoped=cluster_scoped)
