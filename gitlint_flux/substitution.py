"""Flux post-build variable substitution, as kustomize-controller performs it.

One engine for every stage: the graph (effective objects), the post-build rules (which
variables a document needs) and the schema stage (values it cannot judge).

What kustomize-controller does (``fluxcd/pkg`` ``kustomize/kustomize_varsub.go``,
``SubstituteVariables`` / ``varSubstitution``), and so what this module reproduces:

* An object labelled **or** annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled``
  is left alone (:func:`is_disabled`).
* The variables are the data of every ``substituteFrom`` ConfigMap/Secret (later ones
  win) overlaid by ``postBuild.substitute``; every value loses its ``\\n`` characters
  (:func:`prepare_variables`).
* Substitution runs only when that merged map holds at least one variable, or when
  ``postBuild.substituteStrategy: Always`` (:func:`substitution_runs`).
* Every variable name must match ``^[_[:alpha:]][_[:alpha:][:digit:]]*$`` (ASCII), or the
  object fails with ``'NAME' var name is invalid, must match '...'``
  (:func:`invalid_names`, :func:`name_error`).
* The object is serialised to YAML (``res.AsYAML()``: JSON, then sigs.k8s.io/yaml's
  go-yaml v2 emitter), ``fluxcd/pkg/envsubst`` runs over that text, and the result is
  parsed back (``yaml.YAMLToJSON``, go-yaml v2 resolution). So a string that the emitter
  writes *plain* is re-typed after substitution: ``replicas: "${R}"`` with ``R=3`` ends as
  the integer 3 (the quotes of the source are gone by then), ``${EMPTY}`` ends as null,
  ``${Q}${X}${Q}`` with ``Q='"'`` ends as a string. A string the emitter single- or
  double-quotes (leading ``*``, ``- ``, ``: ``, `` #``, leading/trailing space, tabs, ...)
  or writes as a literal block (it holds a newline) stays a string.

The envsubst dialect (``fluxcd/pkg/envsubst``: ``parse/scan.go``, ``parse/parse.go``,
``template.go``, ``funcs.go``), ported here token for token:

* ``${A}``; ``$A`` is never an expression; ``$$`` is an escape for ``$`` anywhere in the
  text (so ``$${A}`` gives the literal ``${A}``, ``$$x`` gives ``$x``).
* ``${A=d}``, ``${A:=d}``, ``${A:-d}``, ``${A:?d}``, ``${A:+d}`` all mean "A, or d when A is
  unset **or empty**" (``toDefault``); ``${A-d}``, ``${A+d}``, ``${A?d}`` do not parse
  ("missing closing brace"). Defaults hold text and nested expressions, which are
  evaluated even when A is set.
* ``${#A}`` (length in bytes), ``${A:pos}``, ``${A:pos:len}`` (bytes, negative pos and len
  count from the end, unparsable numbers give A unchanged), ``${A#p}``, ``${A##p}``,
  ``${A%p}``, ``${A%%p}`` (glob ``p`` with ``*``, ``?``, ``[...]``; ``*`` crosses ``/``),
  ``${A/p/r}``, ``${A//p/r}``, ``${A/#p/r}``, ``${A/%p/r}`` (plain substrings, ``\\/`` and
  ``\\\\`` escapes), ``${A^}``, ``${A^^}``, ``${A,}``, ``${A,,}``.
* Strict mode (kustomize-controller's ``StrictPostBuildSubstitutions``, on by default since
  kustomize-controller 1.9): a variable absent from the map fails the object with
  ``variable not set (strict mode): "A"`` unless its operator supplies a default; a variable
  set to ``""`` is fine. Non-strict: absent is ``""``.

Approximations (documented, deliberate):

* Each string of the object is substituted on its own, in the serialised form the emitter
  would give it. Upstream runs once over the whole document: an expression left open in one
  scalar (``${A:=x`` without ``}``) could there swallow text up to a ``}`` further down; here
  it is a parse error of that scalar. The first error in document order is the one raised.
* go-yaml v2 folds long lines at 80 columns; folding never changes a value, so it is
  ignored. Duplicate keys produced by substitution: the last one in this walk wins.
* Non-ASCII text: ``${#A}`` and ``${A:pos:len}`` count UTF-8 bytes as Go does (a slice
  that cuts a character is decoded with U+FFFD); the glob trims work on characters, where
  Go slices bytes; case mapping is per character (Go's simple case mapping: ``ß`` stays).
* After the YAML round trip a float with an integral value (``1e3``, ``08``) is an integer,
  as the API machinery's JSON decoding gives it; NaN and infinities are returned as floats.

:func:`substitute_object` returns containers of the same type as its input: ``YMap`` and
``YSeq`` copies keep their positions (a substituted key keeps its old key's position);
plain ``dict``/``list`` stay plain. Unchanged subtrees are returned as the same objects.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator, Mapping

from . import goyaml
from .model import YMap, YSeq

# --------------------------------------------------------------------------- names

#: kustomize-controller's ``varsubRegex``; ``[[:alpha:]]``/``[[:digit:]]`` are ASCII in RE2.
VARSUB_REGEX = "^[_[:alpha:]][_[:alpha:][:digit:]]*$"
VALID_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*\Z")

SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
DISABLED_VALUE = "disabled"

#: how kustomize-controller prefixes an envsubst failure (``SubstituteVariables`` and
#: ``varSubstitution``); the controller adds ``post build failed for '<res>': `` before it.
FLUX_PREFIX = "envsubst error: variable substitution failed: "


def valid_name(s: Any) -> bool:
    """A name kustomize-controller accepts for a variable (``varsubRegex``)."""
    return isinstance(s, str) and VALID_NAME.match(s) is not None


def name_error(name: str) -> str:
    """kustomize-controller's message for an invalid variable name (``varSubstitution``)."""
    return f"'{name}' var name is invalid, must match '{VARSUB_REGEX}'"


def invalid_names(variables: Iterable[str]) -> list[str]:
    """The names among ``variables`` that fail every substitution of the Kustomization."""
    return [k for k in variables if not valid_name(k)]


def prepare_variables(inline: Mapping | None, sources: Iterable[Mapping] = ()) -> dict[str, str]:
    """The variables kustomize-controller substitutes with: the data of each
    ``substituteFrom`` source in order (later ones win; a Secret's ``data`` must already be
    decoded), then ``postBuild.substitute`` over them; every ``\\n`` removed
    (``LoadVariables`` / ``SubstituteVariables``)."""
    out: dict[str, str] = {}
    for src in sources:
        for k, v in src.items():
            out[str(k)] = str(v).replace("\n", "")
    if inline:
        for k, v in inline.items():
            out[str(k)] = str(v).replace("\n", "")
    return out


def substitution_runs(postbuild: Any, resolved: Mapping) -> bool:
    """Whether kustomize-controller substitutes at all: ``spec.postBuild`` is set and the
    merged variables hold at least one entry, or ``substituteStrategy`` is ``Always``
    (``SubstituteVariables``: ``len(vars) > 0`` or the Always option)."""
    if not isinstance(postbuild, Mapping):
        return False
    return len(resolved) > 0 or postbuild.get("substituteStrategy") == "Always"


def is_disabled(obj: Any) -> bool:
    """``kustomize.toolkit.fluxcd.io/substitute: disabled`` as a label or an annotation."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None  # dict: an ABC check costs 5x
    if not isinstance(meta, dict):
        return False
    for key in ("labels", "annotations"):
        m = meta.get(key)
        if isinstance(m, dict) and m.get(SUBSTITUTE_KEY) == DISABLED_VALUE:
            return True
    return False


# --------------------------------------------------------------------------- errors

ERR_BAD_SUBSTITUTION = "bad substitution"
ERR_MISSING_CLOSING_BRACE = "missing closing brace"
ERR_PARSE_VARIABLE_NAME = "unable to parse variable name"
ERR_PARSE_FUNC_SUBSTITUTION = "unable to parse substitution within function"
ERR_PARSE_DEFAULT_FUNCTION = "unable to parse default function"


class SubstitutionError(Exception):
    """A failed substitution, with envsubst's own words.

    ``kind``: ``"parse"`` (the text does not parse), ``"unset"`` (strict mode, ``name`` is
    the variable) or ``"yaml"`` (the substituted text no longer parses as YAML).
    ``offset``/``length``: the failing expression in the text (characters). ``path``: set by
    :func:`substitute_object` to the path of the failing string (a key: its mapping's path
    plus the key)."""

    def __init__(self, message: str, offset: int = 0, length: int = 0, *, kind: str = "parse",
                 name: str | None = None, path: tuple = ()):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.length = length
        self.kind = kind
        self.name = name
        self.path = path

    @property
    def flux_message(self) -> str:
        """The message as kustomize-controller reports it (after the resource name)."""
        if self.kind == "yaml":
            return f"envsubst error: YAMLToJSON: {self.message}"
        return FLUX_PREFIX + self.message

    def __repr__(self) -> str:
        return f"SubstitutionError({self.message!r}, offset={self.offset})"


# --------------------------------------------------------------------------- the parse tree

# A parsed text is a tuple of nodes; a node is a ``str`` (text) or a ``_Func``.


@dataclass(frozen=True)
class _Func:
    param: str              # the variable
    name: str               # the operator: "", ":=", "#", "//", ...
    args: tuple             # one node per argument (``str`` or ``_Func``)
    offset: int             # of ``${`` in the text
    end: int                # one past the closing ``}``


_DEFAULT_OPS = frozenset({"-", "+", "=", "?", ":-", ":+", ":=", ":?"})


def _is_default_op(name: str) -> bool:
    # template.go isDefaultOp: these tolerate an unset variable in strict mode
    return name in _DEFAULT_OPS


class _ParseError(Exception):
    def __init__(self, message: str, pos: int):
        self.message = message
        self.pos = pos


# scanner modes (parse/scan.go)
_IDENT, _LBRACK, _RBRACK, _ESCAPE = 1, 2, 4, 8
_DOLLAR, _BACKSLASH = 1, 2
_T_ILLEGAL, _T_EOF, _T_IDENT, _T_LBRACK, _T_RBRACK = range(5)


def _accept_rune(r, i):
    return True


def _accept_ident(r, i):
    return r.isalpha() or r.isdecimal() or r == "_"


def _accept_colon(r, i):
    return r == ":"


def _accept_one_hash(r, i):
    return r == "#" and i == 1


def _accept_not_closing(r, i):
    return r != "}"


def _accept_hash_func(r, i):
    return r == "#" and i < 3


def _accept_percent_func(r, i):
    return r == "%" and i < 3


def _accept_default_func(r, i):
    return (i == 1 and r == ":") or (i == 2 and r in "=-?+")


def _accept_replace_func(r, i):
    return (i == 1 and r == "/") or (i == 2 and r in "/#%")


def _accept_one_equal(r, i):
    return i == 1 and r == "="


def _accept_one_colon(r, i):
    return i == 1 and r == ":"


def _reject_colon_close(r, i):
    return r != ":" and r != "}"


def _accept_slash(r, i):
    return r == "/"


def _accept_not_slash(r, i):
    return r != "/"


def _accept_casing_func(r, i):
    return r in ",^" and i < 3


class _Scanner:
    """parse/scan.go's scanner. Go removes the first character of an escape pair from its
    buffer; here the text stays as it is and the removed indices are remembered, so every
    position is a position in the caller's text."""

    __slots__ = ("buf", "pos", "start", "mode", "escape", "accept", "deleted")

    def __init__(self, text: str, pos: int):
        self.buf = text
        self.pos = pos
        self.start = pos
        self.mode = 0
        self.escape = _DOLLAR
        self.accept: Callable[[str, int], bool] = _accept_rune
        self.deleted: list[int] = []

    def read(self) -> str:
        if self.pos >= len(self.buf):
            return ""  # Go: eof, width 0 (a later unread moves nothing)
        r = self.buf[self.pos]
        self.pos += 1
        return r

    def peek(self) -> str:
        return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def skip(self) -> None:
        # Go deletes the character just read and keeps its position, which then points
        # past the escaped character: that one is taken as it is
        self.deleted.append(self.pos - 1)
        self.pos += 1

    def string(self) -> str:
        t = self.buf[self.start:self.pos]
        if self.deleted and self.deleted[-1] >= self.start:
            d = {i - self.start for i in self.deleted if i >= self.start}
            t = "".join(c for i, c in enumerate(t) if i not in d)
        return t

    def scan(self) -> int:
        self.start = self.pos
        r = self.read()
        if r == "":
            return _T_EOF
        if self.mode & _LBRACK and r == "$":
            nxt = self.read()
            if nxt == "{":
                return _T_LBRACK
            if nxt:
                self.pos -= 1
        if self.mode & _RBRACK and r == "}":
            return _T_RBRACK
        if self._ident(r):
            return _T_IDENT
        return _T_ILLEGAL

    def _escaped(self, r: str) -> bool:
        if not self.mode & _ESCAPE:
            return False
        if r == "$" and self.escape & _DOLLAR and self.peek() == "$":
            return True
        return r == "\\" and bool(self.escape & _BACKSLASH) and self.peek() in ("/", "\\")

    def _ident(self, r: str) -> bool:
        if not self.mode & _IDENT:
            return False
        if self._escaped(r):
            self.skip()
        elif not self.accept(r, self.pos - self.start):
            return False
        buf, n, lbrack = self.buf, len(self.buf), self.mode & _LBRACK
        while self.pos < n:
            r = buf[self.pos]
            self.pos += 1
            if lbrack and r == "$" and self.peek() == "{":
                self.pos -= 1  # Go reads "${" then unreads both
                break
            if self._escaped(r):
                self.skip()
                continue
            if not self.accept(r, self.pos - self.start):
                self.pos -= 1
                break
        return True


class _Parser:
    """parse/parse.go's recursive descent over one ``${...}`` expression."""

    def __init__(self, text: str, pos: int):
        self.s = _Scanner(text, pos)

    # Each function returns a node; errors raise _ParseError at the scanner position.

    def fail(self, message: str):
        raise _ParseError(message, self.s.pos)

    def parse_func(self, open_at: int) -> _Func:
        s = self.s
        s.escape = _DOLLAR | _BACKSLASH
        if s.peek() == "#":
            return self.parse_len(open_at)
        s.accept, s.mode = _accept_ident, _IDENT
        if s.scan() != _T_IDENT:
            self.fail(ERR_PARSE_VARIABLE_NAME)
        name = s.string()
        c = s.peek()
        if c == ":":
            return self.parse_default_or_substr(name, open_at)
        if c == "=":
            return self.parse_default(name, open_at)
        if c in (",", "^"):
            return self.parse_casing(name, open_at)
        if c == "/":
            return self.parse_replace(name, open_at)
        if c == "#":
            return self.parse_remove(name, _accept_hash_func, open_at)
        if c == "%":
            return self.parse_remove(name, _accept_percent_func, open_at)
        s.accept, s.mode = _accept_ident, _RBRACK
        if s.scan() != _T_RBRACK:
            self.fail(ERR_MISSING_CLOSING_BRACE)
        return self.node(name, "", (), open_at)

    def node(self, param, name, args, open_at) -> _Func:
        return _Func(param, name, tuple(args), open_at, self.s.pos)

    def parse_param(self, accept, mode):
        s = self.s
        s.accept, s.mode = accept, mode | _LBRACK
        tok = s.scan()
        if tok == _T_LBRACK:
            return self.parse_func(s.start)
        if tok in (_T_IDENT, _T_RBRACK):
            return s.string()
        self.fail(ERR_PARSE_FUNC_SUBSTITUTION)

    def parse_default_or_substr(self, name, open_at):
        s = self.s
        # Go: read ':' then peek then unread, which steps back by the width of the
        # character after ':'; a multi-byte character there lands inside the name and
        # the substring parse then fails on it.
        nxt = s.buf[s.pos + 1] if s.pos + 1 < len(s.buf) else ""
        if nxt in ("=", "-", "?", "+"):
            return self.parse_default(name, open_at)
        if not nxt or nxt >= "\x80":
            # at the end Go's unread moves nothing and the substring parse meets the end;
            # a multi-byte character moves the scanner back into the name: both fail
            s.pos += 1
            self.fail(ERR_BAD_SUBSTITUTION)
        return self.parse_substr(name, open_at)

    def parse_substr(self, name, open_at):
        s = self.s
        s.accept, s.mode = _accept_one_colon, _IDENT
        if s.scan() != _T_IDENT:
            self.fail(ERR_BAD_SUBSTITUTION)
        op = s.string()
        args = [self.parse_param(_reject_colon_close, _IDENT)]
        s.accept, s.mode = _accept_colon, _IDENT | _RBRACK
        tok = s.scan()
        if tok == _T_RBRACK:
            return self.node(name, op, args, open_at)
        if tok != _T_IDENT:
            self.fail(ERR_BAD_SUBSTITUTION)
        args.append(self.parse_param(_accept_not_closing, _IDENT))
        self.close()
        return self.node(name, op, args, open_at)

    def parse_remove(self, name, accept, open_at):
        s = self.s
        s.accept, s.mode = accept, _IDENT
        if s.scan() != _T_IDENT:
            self.fail(ERR_BAD_SUBSTITUTION)
        op = s.string()
        args = [self.parse_param(_accept_not_closing, _IDENT)]
        self.close()
        return self.node(name, op, args, open_at)

    def parse_replace(self, name, open_at):
        s = self.s
        s.accept, s.mode = _accept_replace_func, _IDENT
        if s.scan() != _T_IDENT:
            self.fail(ERR_BAD_SUBSTITUTION)
        op = s.string()
        if s.peek() == "/":
            args = [""]  # an empty pattern: the next rune is the delimiter
        else:
            args = [self.parse_param(_accept_not_slash, _IDENT | _ESCAPE)]
        s.accept, s.mode = _accept_slash, _IDENT
        if s.scan() != _T_IDENT:
            self.fail(ERR_BAD_SUBSTITUTION)
        if s.peek() == "}":
            self.close()
            return self.node(name, op, args, open_at)
        args.append(self.parse_param(_accept_not_closing, _IDENT | _ESCAPE))
        self.close()
        return self.node(name, op, args, open_at)

    def parse_default(self, name, open_at):
        s = self.s
        s.accept = _accept_one_equal if s.peek() == "=" else _accept_default_func
        s.mode = _IDENT
        if s.scan() != _T_IDENT:
            self.fail(ERR_PARSE_DEFAULT_FUNCTION)
        op = s.string()
        args = []
        while True:
            if s.peek() == "}":
                self.close()
                return self.node(name, op, args, open_at)
            args.append(self.parse_param(_accept_not_closing, _IDENT))

    def parse_casing(self, name, open_at):
        s = self.s
        s.accept, s.mode = _accept_casing_func, _IDENT
        if s.scan() != _T_IDENT:
            self.fail(ERR_BAD_SUBSTITUTION)
        op = s.string()
        self.close()
        return self.node(name, op, (), open_at)

    def parse_len(self, open_at):
        s = self.s
        s.accept, s.mode = _accept_one_hash, _IDENT
        if s.scan() != _T_IDENT:
            self.fail(ERR_BAD_SUBSTITUTION)
        op = s.string()
        s.accept, s.mode = _accept_ident, _IDENT
        if s.scan() != _T_IDENT:
            self.fail(ERR_BAD_SUBSTITUTION)
        param = s.string()
        self.close()
        return self.node(param, op, (), open_at)

    def close(self):
        s = self.s
        s.mode = _RBRACK
        if s.scan() != _T_RBRACK:
            self.fail(ERR_BAD_SUBSTITUTION)


@dataclass(frozen=True)
class _Parsed:
    nodes: tuple                   # top-level nodes
    error: _ParseError | None      # the first parse error (then ``nodes`` are those before it)
    error_at: int = 0              # offset of the ``${`` whose parse failed


@lru_cache(maxsize=1 << 15)
def _parse(text: str) -> _Parsed:
    """The whole text, as parse.go's parseAny reads it: text runs (``$$`` → ``$``) and
    ``${...}`` expressions."""
    nodes: list = []
    buf: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find("$", i)
        if j < 0 or j == n - 1:
            buf.append(text[i:])
            break
        buf.append(text[i:j])
        c = text[j + 1]
        if c == "$":
            buf.append("$")
            i = j + 2
        elif c == "{":
            if buf:
                nodes.append("".join(buf))
                buf = []
            p = _Parser(text, j + 2)
            try:
                f = p.parse_func(j)
            except _ParseError as e:
                return _Parsed(tuple(nodes), e, j)
            nodes.append(f)
            i = p.s.pos
        else:
            buf.append("$")
            i = j + 1
    if buf:
        t = "".join(buf)
        if t:
            nodes.append(t)
    return _Parsed(tuple(nodes), None)


# --------------------------------------------------------------------------- functions (funcs.go)

_GO_INT = re.compile(r"[+-]?[0-9]+\Z")


def _atoi(s: str) -> int | None:
    if not _GO_INT.match(s):
        return None
    v = int(s)
    return v if -(1 << 63) <= v < (1 << 63) else None


def _upper1(c: str) -> str:
    u = c.upper()
    return u if len(u) == 1 else c


def _lower1(c: str) -> str:
    u = c.lower()
    return u if len(u) == 1 else c


def _to_substr(s: str, args: list[str]) -> str:
    if not args:
        return s
    b = s.encode("utf-8", "surrogatepass")
    pos = _atoi(args[0])
    if pos is None:
        return s
    n = len(b)
    if pos < 0:
        pos = max(n + pos, 0)
    if len(args) == 1:
        out = b[pos:] if pos < n else b""
    else:
        length = _atoi(args[1])
        if length is None:
            return s
        if length < 0:
            end = n + length
            if end < pos:
                return ""
            out = b[pos:end]
        elif pos + length >= n:
            out = b[pos:] if pos < n else b""
        else:
            out = b[pos:pos + length]
    return out.decode("utf-8", "replace")


class _BadPattern(Exception):
    pass


def _glob_scan_chunk(pattern: str) -> tuple[bool, str, str]:
    star = False
    while pattern and pattern[0] == "*":
        pattern = pattern[1:]
        star = True
    inrange = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 < len(pattern):
                i += 1
        elif c == "[":
            inrange = True
        elif c == "]":
            inrange = False
        elif c == "*" and not inrange:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _glob_get_esc(chunk: str) -> tuple[str, str]:
    if not chunk or chunk[0] in "-]":
        raise _BadPattern()
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise _BadPattern()
    r, rest = chunk[0], chunk[1:]
    if not rest:
        raise _BadPattern()
    return r, rest


def _glob_match_chunk(chunk: str, s: str) -> tuple[str, bool]:
    """envsubst's path.Match chunk matcher: ``(rest, ok)``; raises _BadPattern."""
    while chunk:
        if not s:
            return "", False
        c = chunk[0]
        if c == "[":
            r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = bool(chunk) and chunk[0] == "^"
            if negated:
                chunk = chunk[1:]
            match, nrange = False, 0
            while True:
                if chunk and chunk[0] == "]" and nrange > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _glob_get_esc(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _glob_get_esc(chunk[1:])
                if lo <= r <= hi:
                    match = True
                nrange += 1
            if match == negated:
                return "", False
        elif c == "?":
            s, chunk = s[1:], chunk[1:]
        else:
            if c == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise _BadPattern()
            if chunk[0] != s[0]:
                return "", False
            s, chunk = s[1:], chunk[1:]
    return s, True


def _glob_match(pattern: str, name: str) -> bool:
    """envsubst's path.Match: Go's path.Match with ``*`` and ``?`` matching ``/`` too."""
    while pattern:
        star, chunk, pattern = _glob_scan_chunk(pattern)
        if star and chunk == "":
            return True
        t, ok = _glob_match_chunk(chunk, name)
        if ok and (not t or pattern):
            name = t
            continue
        if star:
            found = False
            for i in range(len(name)):
                t, ok = _glob_match_chunk(chunk, name[i + 1:])
                if ok:
                    if not pattern and t:
                        continue
                    name = t
                    found = True
                    break
            if found:
                continue
        return False
    return not name


def _trim_shortest(s: str, pat: str) -> str:
    shortest = ""
    for i in range(len(s)):
        cand = s[:len(s) - i]
        try:
            if _glob_match(pat, cand):
                shortest = cand
        except _BadPattern:
            return s
    return s[len(shortest):] if shortest else s


def _trim_longest(s: str, pat: str) -> str:
    for i in range(len(s)):
        cand = s[:len(s) - i]
        try:
            if _glob_match(pat, cand):
                return s[len(cand):]
        except _BadPattern:
            return s
    return s


def _apply(op: str, v: str, args: list[str]) -> str:
    """template.go lookupFunc and the functions of funcs.go."""
    if op == ",":
        return _lower1(v[0]) + v[1:] if v else v
    if op == ",,":
        return "".join(_lower1(c) for c in v)
    if op == "^":
        return _upper1(v[0]) + v[1:] if v else v
    if op == "^^":
        return "".join(_upper1(c) for c in v)
    if op == "#":
        if not args:
            return str(len(v.encode("utf-8", "surrogatepass")))
        return _trim_shortest(v, args[0])
    if op == "##":
        return _trim_longest(v, args[0]) if args else v
    if op == "%":
        return _trim_shortest(v[::-1], args[0][::-1])[::-1] if args else v
    if op == "%%":
        return _trim_longest(v[::-1], args[0][::-1])[::-1] if args else v
    if op == ":":
        return _to_substr(v, args)
    if op == "/#":
        if len(args) != 2:
            return v
        return args[1] + v[len(args[0]):] if v.startswith(args[0]) else v
    if op == "/%":
        if len(args) != 2:
            return v
        if v.endswith(args[0]):
            return (v[:len(v) - len(args[0])] if args[0] else v) + args[1]
        return v
    if op == "/":
        if not args:
            return v
        return v.replace(args[0], args[1] if len(args) > 1 else "", 1)
    if op == "//":
        if not args:
            return v
        return v.replace(args[0], args[1] if len(args) > 1 else "")
    # "=", ":=", ":-", ":?", ":+" and any other operator: toDefault
    if not v and args:
        return "".join(args)
    return v


# --------------------------------------------------------------------------- evaluation

_MISSING = object()


class _Unresolved(Exception):
    pass


def _eval(nodes: tuple, lookup: Callable[[str, str, int, int], str]) -> str:
    out: list[str] = []
    for n in nodes:
        out.append(n if type(n) is str else _eval_func(n, lookup))
    return "".join(out)


def _eval_func(f: _Func, lookup) -> str:
    # arguments first, as template.go evalFunc does (a nested expression is evaluated even
    # when the variable is set)
    args = [a if type(a) is str else _eval_func(a, lookup) for a in f.args]
    v = lookup(f.param, f.name, f.offset, f.end)
    return _apply(f.name, v, args)


def _lookup(variables: Mapping[str, str], strict: bool):
    def lookup(name, op, offset, end):
        v = variables.get(name, _MISSING)
        if v is _MISSING:
            if strict and not _is_default_op(op):
                raise SubstitutionError(f'variable not set (strict mode): "{name}"', offset, end - offset,
                                        kind="unset", name=name)
            return ""
        return v
    return lookup


def _parse_or_raise(text: str) -> tuple:
    p = _parse(text)
    if p.error is not None:
        raise SubstitutionError(p.error.message, p.error_at, max(p.error.pos - p.error_at, 1), kind="parse")
    return p.nodes


def substitute_text(text: str, variables: Mapping[str, str], *, strict: bool = False) -> str:
    """``text`` after envsubst with ``variables`` (raises :class:`SubstitutionError`).

    Text-level: no YAML re-typing (see :func:`substitute_object` for values)."""
    if not _needs(text):
        return text
    return _eval(_parse_or_raise(text), _lookup(variables, strict))


class _UnresolvedMarker:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNRESOLVED"


#: what :func:`resolve_or_opaque` returns when a value depends on an unknown variable
UNRESOLVED = _UnresolvedMarker()


def resolve_or_opaque(text: str, variables: Mapping[str, str], *, opaque: Any = UNRESOLVED,
                      typed: bool = False) -> Any:
    """``text`` substituted with what is known, or ``opaque`` when it depends on a variable
    ``variables`` does not hold (an expression without default), or it does not parse.

    A default operator with an unknown variable takes its default (what Flux does when the
    variable is really unset). ``typed=True``: the value as Flux ends with it for a plain
    string in value position (``"3"`` → 3, ``""`` → None, see :func:`substitute_object`);
    otherwise the substituted text. The schema stage passes its own ``OPAQUE``."""
    if not _needs(text):
        return text

    def lookup(name, op, offset, end):
        v = variables.get(name, _MISSING)
        if v is _MISSING:
            if not _is_default_op(op):
                raise _Unresolved()
            return ""
        return v

    p = _parse(text)
    if p.error is not None:
        return opaque
    try:
        if typed:
            return _substitute_scalar(text, lookup, False)[0]
        return _eval(p.nodes, lookup)
    except (_Unresolved, SubstitutionError):
        return opaque


# --------------------------------------------------------------------------- references


@dataclass(frozen=True)
class Reference:
    """One ``${...}`` expression of a text.

    ``name``: the variable; ``op``: its operator (``""`` for ``${A}``, ``":="``, ``"#"``,
    ...); ``has_default``: the operator supplies a value when the variable is unset, so it
    never fails in strict mode; ``offset``/``length``: the expression in the text;
    ``nested``: the expressions inside its arguments (evaluated even when ``name`` is set,
    so a nested ``${B}`` without default fails in strict mode on its own). ``error``: set
    (and ``name`` possibly ``""``) for an expression that does not parse: Flux fails the
    whole object on it."""

    name: str
    op: str
    has_default: bool
    offset: int
    length: int
    nested: tuple["Reference", ...] = ()
    error: str | None = None

    def walk(self) -> Iterator["Reference"]:
        """This reference and every nested one, outermost first."""
        yield self
        for r in self.nested:
            yield from r.walk()


def _ref(f: _Func) -> Reference:
    nested = tuple(_ref(a) for a in f.args if type(a) is not str)
    return Reference(f.param, f.name, _is_default_op(f.name), f.offset, f.end - f.offset, nested)


@lru_cache(maxsize=1 << 14)
def _references(text: str) -> tuple[Reference, ...]:
    p = _parse(text)
    refs = [_ref(n) for n in p.nodes if type(n) is not str]
    if p.error is not None:
        name_m = re.match(r"#?([^\W]*)", text[p.error_at + 2:])
        name = name_m.group(1) if name_m else ""
        refs.append(Reference(name, "", False, p.error_at, max(p.error.pos - p.error_at, 2), (),
                              p.error.message))
    return tuple(refs)


def references(text: str) -> list[Reference]:
    """The expressions of ``text`` (escapes excluded), outermost ones; a parse error is the
    last entry, with ``error`` set."""
    if "${" not in text:
        return []
    return list(_references(text))


def variables_in(value: Any, path: tuple = ()) -> list[tuple[tuple, Reference]]:
    """``(path, reference)`` of every expression in the strings of a parsed object, keys
    included (a key's path is its mapping's path plus the key), in document order; nested
    references come right after their outer one (:meth:`Reference.walk`)."""
    out: list[tuple[tuple, Reference]] = []
    if isinstance(value, (dict, list)) and "${" not in repr(value):
        return out  # most objects hold no expression: repr walks them in C
    # (node, path, is_key_text)
    stack: list[tuple[Any, tuple, bool]] = [(value, path, False)]
    while stack:
        node, p, is_key = stack.pop()
        if is_key or isinstance(node, str):
            if "${" in node:
                for r in _references(node):
                    for x in r.walk():
                        out.append((p, x))
        elif isinstance(node, dict):
            for k, v in reversed(list(node.items())):
                stack.append((v, p + (k,), False))
                if isinstance(k, str) and "${" in k:
                    stack.append((k, p + (k,), True))
        elif isinstance(node, list):
            for i in range(len(node) - 1, -1, -1):
                stack.append((node[i], p + (i,), False))
    return out


# --------------------------------------------------------------------------- YAML round trip

def _json_number(v: Any) -> Any:
    """What the API machinery's JSON decoding makes of a YAML number."""
    if type(v) is float:
        if v.is_integer() and abs(v) < 1e21 and -(1 << 63) <= v < (1 << 63):
            return int(v)
        return v
    if type(v) is int and v >= (1 << 63):
        return float(v)
    return v


def _resolve_v2(s: str) -> Any:
    """A plain scalar as go-yaml v2 decodes it into ``interface{}``, then JSON-normalised."""
    return _json_number(goyaml.resolve_plain(s))


_PLAIN_SAFE = re.compile(r"[^\s#,\[\]{}&*!|>'\"%@`?:\-][^\t\n\r\x85\u2028\u2029]*\Z")


def _plain_value(u: str, key: bool) -> Any:
    """The substituted text of a plain scalar, re-read as go-yaml v2 reads it."""
    if not u.strip(" "):
        return None if not key else _key_text(None)
    if _PLAIN_SAFE.match(u) and ": " not in u and " #" not in u and not u.endswith((":", " ")):
        v = _resolve_v2(u)
        return _key_text(v) if key else v
    return _yaml_reparse(u, key)


def _key_text(v: Any) -> str:
    """sigs.k8s.io/yaml YAMLToJSON: a map key as JSON has it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        return format(v, "g")
    if isinstance(v, str):
        return v
    raise SubstitutionError(f"unsupported map key of type: {type(v).__name__}", kind="yaml")


_LOADER = None


def _loader():
    """A PyYAML loader (libyaml when present) that leaves untagged scalars unresolved, so
    that go-yaml v2's resolution is applied to them instead of PyYAML's."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class _Loader(base):  # type: ignore[misc, valid-type]
            def resolve(self, kind, value, implicit):
                if kind is yaml.ScalarNode:
                    return "?plain" if implicit[0] else "?quoted"
                return super().resolve(kind, value, implicit)

        _LOADER = _Loader
    return _LOADER


def _yaml_reparse(u: str, key: bool) -> Any:
    """Re-read a substituted scalar that is not a simple plain one (quotes, flow
    collections, tags, comments), or report the YAML it no longer is."""
    import yaml

    doc = (u + ": x\n") if key else ("k: " + u + "\n")
    try:
        node = yaml.compose(doc, Loader=_loader())
    except yaml.YAMLError as e:
        msg = str(getattr(e, "problem", None) or e).strip()
        raise SubstitutionError(f"yaml: {msg}", kind="yaml") from None
    if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
        raise SubstitutionError("yaml: the substituted text changes the document's structure", kind="yaml")
    k, v = node.value[0]
    return _key_text(_from_node(k)) if key else _from_node(v)


def _from_node(node) -> Any:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        tag = node.tag
        if tag == "?plain":
            return _resolve_v2(node.value)
        if tag == "?quoted" or tag.endswith(":str"):
            return node.value
        if tag.endswith((":int", ":float", ":bool", ":null")):
            return _resolve_v2(node.value)
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_from_node(x) for x in node.value]
    if isinstance(node, yaml.MappingNode):
        return {_key_text(_from_node(k)): _from_node(v) for k, v in node.value}
    return None  # pragma: no cover


def _substitute_scalar(s: str, lookup, key: bool) -> tuple[Any, bool]:
    """``(value, changed)`` for one string of the object (a value, or a key), substituted
    in the form the emitter gives it and read back."""
    style = goyaml.scalar_style(s, key)
    if style == "single":
        t = goyaml.single_quoted(s)
    elif style == "double":
        t = goyaml.double_quoted(s)
    else:  # plain; or literal, whose block text is the string itself
        t = s
    u = _eval(_parse_or_raise(t), lookup)
    if style == "literal":
        return u, u != s
    v = _plain_value(u, key) if style == "plain" else _yaml_reparse(u, key)
    return v, not (type(v) is str and v == s)


def _needs(s: str) -> bool:
    return "$" in s and ("${" in s or "$$" in s)


def substitute_object(value: Any, variables: Mapping[str, str], *, strict: bool = False,
                      unknown: Iterable[str] = (), keep_unset: bool = False) -> Any:
    """``value`` (a parsed object) as kustomize-controller's substitution leaves it: every
    string substituted and re-typed as the YAML round trip does (module docstring). Raises
    :class:`SubstitutionError` with ``path`` set; returns ``value`` itself when nothing
    changes, and same-type copies of only the containers that change.

    For a picture that is not complete: a string that uses a variable of ``unknown``
    (defined, value not known, such as encrypted data) or, with ``keep_unset``, a variable
    ``variables`` does not hold (it may come from a source outside the repository), is left
    as written, so that later stages see an unresolved ``${...}`` rather than a guess."""
    if _untouched(value):
        return value  # no `$` anywhere: nothing to substitute, nothing to fail on
    lookup = _lookup(variables, strict)
    if unknown or keep_unset:
        unknown = frozenset(unknown)
        plain = lookup

        def lookup(name, op, offset, end):  # noqa: F811 - the guarded form
            if name in unknown or (keep_unset and name not in variables and not _is_default_op(op)):
                raise _Unresolved()
            return plain(name, op, offset, end)
    return _walk(value, lookup, ())


def _untouched(node: Any) -> bool:
    """No string under ``node`` (key or value) holds a `$`: the walk below would return
    it as it is (a quick pass over the many objects that use no variable)."""
    if isinstance(node, str):
        return "$" not in node
    if isinstance(node, dict):
        if any(isinstance(k, str) and "$" in k for k in node):
            return False
        items = node.values()
    elif isinstance(node, list):
        items = node
    else:
        return True
    for v in items:
        if isinstance(v, str):
            if "$" in v:
                return False
        elif isinstance(v, (dict, list)) and not _untouched(v):
            return False
    return True


def _walk(node: Any, lookup, path: tuple) -> Any:
    if isinstance(node, str):
        if not _needs(node):
            return node
        try:
            v, changed = _substitute_scalar(node, lookup, False)
        except SubstitutionError as e:
            e.path = path
            raise
        except _Unresolved:
            return node
        return v if changed else node
    if isinstance(node, dict):
        items = []
        changed = renamed = False
        for k, v in node.items():
            nk = k
            if isinstance(k, str) and _needs(k):
                try:
                    sk, ch = _substitute_scalar(k, lookup, True)
                except SubstitutionError as e:
                    e.path = path + (k,)
                    raise
                except _Unresolved:
                    sk, ch = k, False
                if ch:
                    nk, renamed = sk, True
            # a sub-tree without `$` stays as it is
            nv = v if isinstance(v, (dict, list)) and _untouched(v) else _walk(v, lookup, path + (k,))
            changed = changed or nk is not k or nv is not v
            items.append((k, nk, nv))
        if not changed:
            return node
        if isinstance(node, YMap):
            out: dict = YMap(node.line, node.col)
            for _, nk, nv in items:
                out[nk] = nv
            if renamed:
                pos = node.pos
                out.pos = {nk: pos[k] for k, nk, _ in items if k in pos}
            else:
                out.copy_positions(node)
            return out
        return {nk: nv for _, nk, nv in items}
    if isinstance(node, list):
        out_l = None
        for i, v in enumerate(node):
            if isinstance(v, (dict, list)) and _untouched(v):
                continue
            nv = _walk(v, lookup, path + (i,))
            if nv is not v:
                if out_l is None:
                    out_l = _copy_seq(node)
                out_l[i] = nv
        return node if out_l is None else out_l
    return node


def _copy_seq(node: list) -> list:
    if isinstance(node, YSeq):
        s = YSeq(node.line, node.col)
        s.extend(node)
        s.pos = list(node.pos)
        return s
    return list(node)
