"""The subset of CEL (Common Expression Language) that CRD validation rules use.

Kubernetes evaluates ``x-kubernetes-validations`` rules with cel-go; the PyPI libraries
either cost 0.1-0.2 s of import and grammar construction per run (cel-python builds a Lark
parser; the Rust-backed ``common-expression-language`` imports its CLI stack) or lack
Kubernetes' extension libraries all the same. This module is a small Pratt parser and
evaluator for the core language (see docs/schemas.md):

* literals (int, uint, double, string with escapes and raw/triple-quoted forms, bytes,
  bool, null), lists, maps, field selection, indexing, ``?:``, ``||``, ``&&``, ``!``,
  comparisons, ``in``, arithmetic;
* ``has()``; the macros ``all``, ``exists``, ``exists_one``, ``map``, ``filter``;
* ``size``, ``int``, ``uint``, ``double``, ``string``, ``bool``, ``dyn``, and the string
  functions ``startsWith``, ``endsWith``, ``contains``, ``matches``, ``lowerAscii``,
  ``upperAscii``, ``trim``, ``indexOf``, ``lastIndexOf``, ``replace``, ``split``,
  ``substring``, ``charAt``, ``join``.

Semantics as cel-go: ``||``/``&&`` are commutative with errors (``false && error`` is
false), selecting an absent field is an error, ``has()`` tests presence. Values are the
document's own after the schema's structural defaults (read lazily, as the API server
applies them before validation) and Flux post-build substitution.

A rule is *decided* (True/False) or *undecided* (None): a parse error, a function outside
the subset (``quantity()``, ``url()``, ``oldSelf`` transition rules), a runtime error, or a
value that is an unresolved placeholder. An undecided rule is not reported: a runtime
error is almost always a field that the schema already reports missing, and the others
cannot be judged offline.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from .nodes import MISSING, Node


class CelError(Exception):
    """A runtime error (no such key, no such overload, division by zero)."""


class CelUnknown(Exception):
    """The result depends on a value that is not known (an unresolved placeholder)."""


class CelUnsupported(Exception):
    """The expression uses something outside the subset."""


class CelSyntaxError(Exception):
    pass


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


# --------------------------------------------------------------------------- lexer

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|\d+[uU]?)
  | (?P<str>[rR]?[bB]?[rR]?(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|[-+*/%<>!?:.,()\[\]{}])
""", re.VERBOSE | re.DOTALL)

_ESC = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?", "a": "\a",
        "b": "\b", "f": "\f", "v": "\v"}


def _unescape(body: str) -> str:
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise CelSyntaxError("dangling escape")
        e = body[i]
        if e in _ESC:
            out.append(_ESC[e])
            i += 1
        elif e in "xX":
            out.append(chr(int(body[i + 1:i + 3], 16)))
            i += 3
        elif e == "u":
            out.append(chr(int(body[i + 1:i + 5], 16)))
            i += 5
        elif e == "U":
            out.append(chr(int(body[i + 1:i + 9], 16)))
            i += 9
        elif e in "01234567":
            out.append(chr(int(body[i:i + 3], 8)))
            i += 3
        else:
            raise CelSyntaxError(f"unknown escape \\{e}")
    return "".join(out)


def _tokens(src: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if m is None:
            raise CelSyntaxError(f"unexpected character {src[pos]!r} at {pos}")
        pos = m.end()
        kind = m.lastgroup
        text = m.group()
        if kind == "ws":
            continue
        if kind == "num":
            if text[-1] in "uU":
                out.append(("lit", int(text[:-1], 0)))
            elif text.lower().startswith("0x"):
                out.append(("lit", int(text, 16)))
            elif any(c in text for c in ".eE"):
                out.append(("lit", float(text)))
            else:
                out.append(("lit", int(text)))
        elif kind == "str":
            prefix = ""
            while text[0] not in "'\"":
                prefix += text[0].lower()
                text = text[1:]
            q = 3 if text[:3] in ('"""', "'''") else 1
            body = text[q:-q]
            out.append(("lit", body if "r" in prefix else _unescape(body)))
        elif kind == "id":
            if text in ("true", "false"):
                out.append(("lit", text == "true"))
            elif text == "null":
                out.append(("lit", None))
            elif text == "in":
                out.append(("op", "in"))
            else:
                out.append(("id", text))
        else:
            out.append(("op", text))
    out.append(("end", None))
    return out


# --------------------------------------------------------------------------- parser

_BIN = {
    "||": 1, "&&": 2,
    "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3, "in": 3,
    "+": 4, "-": 4,
    "*": 5, "/": 5, "%": 5,
}
_MACROS = frozenset(("all", "exists", "exists_one", "map", "filter"))


class _Parser:
    def __init__(self, src: str):
        self.toks = _tokens(src)
        self.i = 0

    def peek(self) -> tuple[str, Any]:
        return self.toks[self.i]

    def take(self) -> tuple[str, Any]:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, op: str) -> None:
        t = self.take()
        if t != ("op", op):
            raise CelSyntaxError(f"expected {op!r}, got {t[1]!r}")

    def parse(self):
        e = self.expr()
        if self.peek()[0] != "end":
            raise CelSyntaxError(f"unexpected {self.peek()[1]!r}")
        return e

    def expr(self):
        cond = self.binary(1)
        if self.peek() == ("op", "?"):
            self.take()
            a = self.binary(1)
            self.expect(":")
            b = self.expr()
            return ("cond", cond, a, b)
        return cond

    def binary(self, min_prec: int):
        left = self.unary()
        while True:
            kind, op = self.peek()
            prec = _BIN.get(op) if kind == "op" else None
            if prec is None or prec < min_prec:
                return left
            self.take()
            right = self.binary(prec + 1)
            if op == "||":
                left = ("or", left, right)
            elif op == "&&":
                left = ("and", left, right)
            else:
                left = ("bin", op, left, right)

    def unary(self):
        kind, op = self.peek()
        if kind == "op" and op == "!":
            self.take()
            return ("not", self.unary())
        if kind == "op" and op == "-":
            self.take()
            return ("neg", self.unary())
        return self.member()

    def member(self):
        e = self.primary()
        while True:
            kind, op = self.peek()
            if kind != "op":
                return e
            if op == ".":
                self.take()
                k, name = self.take()
                if k != "id":
                    raise CelSyntaxError("expected a field name")
                if self.peek() == ("op", "("):
                    self.take()
                    args = self.args(")")
                    if name in _MACROS:
                        e = self.macro(name, e, args)
                    else:
                        e = ("call", name, e, args)
                else:
                    e = ("sel", e, name)
            elif op == "[":
                self.take()
                idx = self.expr()
                self.expect("]")
                e = ("idx", e, idx)
            else:
                return e

    def macro(self, name, target, args):
        if not args or args[0][0] != "id":
            raise CelSyntaxError(f"{name}() needs a variable")
        var = args[0][1]
        if name == "map" and len(args) == 3:
            return ("macro", "map_filter", target, var, args[1], args[2])
        if len(args) != 2:
            raise CelSyntaxError(f"{name}() takes two arguments")
        return ("macro", name, target, var, args[1], None)

    def args(self, close: str) -> list:
        out = []
        if self.peek() == ("op", close):
            self.take()
            return out
        while True:
            out.append(self.expr())
            t = self.take()
            if t == ("op", close):
                return out
            if t != ("op", ","):
                raise CelSyntaxError(f"expected ',' or {close!r}")
            if self.peek() == ("op", close):
                self.take()
                return out

    def primary(self):
        kind, val = self.take()
        if kind == "lit":
            return ("lit", val)
        if kind == "id":
            if self.peek() == ("op", "("):
                self.take()
                args = self.args(")")
                if val == "has":
                    if len(args) != 1 or args[0][0] != "sel":
                        raise CelSyntaxError("has() takes a field selection")
                    return ("has", args[0][1], args[0][2])
                return ("call", val, None, args)
            return ("id", val)
        if kind == "op" and val == "(":
            e = self.expr()
            self.expect(")")
            return e
        if kind == "op" and val == "[":
            return ("list", self.args("]"))
        if kind == "op" and val == "{":
            entries = []
            if self.peek() == ("op", "}"):
                self.take()
                return ("map", entries)
            while True:
                k = self.expr()
                self.expect(":")
                v = self.expr()
                entries.append((k, v))
                t = self.take()
                if t == ("op", "}"):
                    return ("map", entries)
                if t != ("op", ","):
                    raise CelSyntaxError("expected ',' or '}'")
                if self.peek() == ("op", "}"):
                    self.take()
                    return ("map", entries)
        if kind == "op" and val == ".":
            raise CelUnsupported("qualified identifiers")
        raise CelSyntaxError(f"unexpected {val!r}")


_COMPILED: dict[str, Any] = {}


def compile_rule(src: str):
    """The AST of a rule (memoised); raises CelSyntaxError/CelUnsupported."""
    hit = _COMPILED.get(src)
    if hit is None:
        try:
            hit = _Parser(src).parse()
            if _mentions(hit, "oldSelf"):
                raise CelUnsupported("transition rule (oldSelf)")
        except (CelSyntaxError, CelUnsupported) as exc:
            hit = exc
        except (ValueError, IndexError, RecursionError) as exc:
            hit = CelSyntaxError(str(exc) or type(exc).__name__)
        _COMPILED[src] = hit
    if isinstance(hit, Exception):
        raise hit
    return hit


_FIELDS: dict[str, frozenset | None] = {}


def self_fields(rule: str) -> frozenset | None:
    """The fields of ``self`` a rule reads (``self.x``, ``has(self.x)``); None when the
    rule does not parse or reads ``self`` as a whole."""
    if rule in _FIELDS:
        return _FIELDS[rule]
    try:
        ast = compile_rule(rule)
    except (CelSyntaxError, CelUnsupported):
        _FIELDS[rule] = None
        return None
    out: set = set()
    whole = False

    def walk(n) -> None:
        nonlocal whole
        if isinstance(n, list):
            for x in n:
                walk(x)
            return
        if not isinstance(n, tuple) or not n:
            return
        if n[0] in ("sel", "has") and n[1] == ("id", "self"):
            out.add(n[2])
            return
        if n == ("id", "self"):
            whole = True
            return
        for x in n[1:]:
            walk(x)

    walk(ast)
    result = None if whole else frozenset(out)
    _FIELDS[rule] = result
    return result


def _mentions(ast, name: str) -> bool:
    if isinstance(ast, tuple):
        if ast[:2] == ("id", name):
            return True
        return any(_mentions(x, name) for x in ast[1:])
    if isinstance(ast, list):
        return any(_mentions(x, name) for x in ast)
    return False


# --------------------------------------------------------------------------- values


class View:
    """A mapping of the document seen through its schema: structural defaults appear,
    ``null`` fields that the schema does not allow are absent, strings are substituted."""

    __slots__ = ("v", "node", "env")

    def __init__(self, v: dict, node: Node | None, env: "Env"):
        self.v = v
        self.node = node
        self.env = env

    def _sub(self, k: str) -> Node | None:
        node = self.node
        if node is None:
            return None
        if node.props and k in node.props:
            return node.props[k]
        return node.addl if isinstance(node.addl, Node) else None

    def _raw(self, k: str) -> Any:
        raw = self.v.get(k, MISSING)
        if raw is None:
            sub = self._sub(k)
            if sub is None or sub.types is None or "null" not in sub.types:
                raw = MISSING
        if raw is MISSING:
            sub = self._sub(k)
            if sub is not None and sub.default is not MISSING:
                return sub.default
        return raw

    def has(self, k: str) -> bool:
        return self._raw(k) is not MISSING

    def get(self, k: Any) -> Any:
        if not isinstance(k, str):
            raise CelError("no such key")
        raw = self._raw(k)
        if raw is MISSING:
            raise CelError(f"no such key: {k}")
        return self.env.wrap(raw, self._sub(k))

    def keys(self) -> list:
        out = [k for k in self.v if self.has(k if isinstance(k, str) else str(k))]
        if self.node is not None and self.node.props:
            out += [k for k, n in self.node.props.items() if k not in self.v and n.default is not MISSING]
        return out

    def __len__(self) -> int:
        return len(self.keys())


class Env:
    def __init__(self, resolve: Callable[[str], Any] | None):
        self.resolve = resolve

    def wrap(self, raw: Any, node: Node | None) -> Any:
        if isinstance(raw, dict):
            return View(raw, node, self)
        if isinstance(raw, list):
            items = node.items if node is not None else None
            return [self.wrap(x, items) for x in raw]
        if type(raw) is str and ("${" in raw or raw.startswith("ENC[")):
            if raw.startswith("ENC[") and raw.endswith("]"):
                return UNKNOWN
            from .values import OPAQUE, retype

            r = self.resolve(raw) if self.resolve is not None else OPAQUE
            if r is OPAQUE:
                return UNKNOWN
            if node is not None and node.types is not None and "string" not in node.types:
                return retype(r)
            return r
        return raw


def _known(v: Any) -> Any:
    if v is UNKNOWN:
        raise CelUnknown()
    return v


def _plain(v: Any) -> Any:
    v = _known(v)
    if isinstance(v, View):
        return {k: _plain(v.get(k)) for k in v.keys()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _eq(a: Any, b: Any) -> bool:
    a, b = _plain(a), _plain(b)
    return _eq_plain(a, b)


def _eq_plain(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b) and not (isinstance(a, dict) and isinstance(b, dict)) and not (
            isinstance(a, list) and isinstance(b, list)):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_eq_plain(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_eq_plain(a[k], b[k]) for k in a)
    return a == b


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _size(v: Any) -> int:
    v = _known(v)
    if isinstance(v, (str, list, View)):
        return len(v)
    if isinstance(v, dict):
        return len(v)
    raise CelError("no such overload: size")


def _bool(v: Any) -> bool:
    v = _known(v)
    if not isinstance(v, bool):
        raise CelError("no such overload: expected bool")
    return v


class _Eval:
    def __init__(self, env: Env):
        self.env = env
        self.vars: dict[str, Any] = {}

    def ev(self, n) -> Any:
        op = n[0]
        if op == "lit":
            return n[1]
        if op == "id":
            if n[1] in self.vars:
                return self.vars[n[1]]
            raise CelUnsupported(f"identifier {n[1]}")
        if op == "sel":
            target = _known(self.ev(n[1]))
            if isinstance(target, View):
                return target.get(n[2])
            if isinstance(target, dict):
                if n[2] not in target:
                    raise CelError(f"no such key: {n[2]}")
                return target[n[2]]
            raise CelError("no such overload: field selection")
        if op == "has":
            target = _known(self.ev(n[1]))
            if isinstance(target, View):
                return target.has(n[2])
            if isinstance(target, dict):
                return n[2] in target
            raise CelError("no such overload: has")
        if op == "or":
            return self._logic(n[1], n[2], True)
        if op == "and":
            return self._logic(n[1], n[2], False)
        if op == "not":
            return not _bool(self.ev(n[1]))
        if op == "neg":
            v = _known(self.ev(n[1]))
            if not _num(v):
                raise CelError("no such overload: -")
            return -v
        if op == "cond":
            return self.ev(n[2]) if _bool(self.ev(n[1])) else self.ev(n[3])
        if op == "bin":
            return self._bin(n[1], self.ev(n[2]), self.ev(n[3]))
        if op == "idx":
            target = _known(self.ev(n[1]))
            key = _known(self.ev(n[2]))
            if isinstance(target, list):
                if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key < len(target):
                    raise CelError("index out of range")
                return target[key]
            if isinstance(target, View):
                return target.get(key)
            if isinstance(target, dict):
                if key not in target:
                    raise CelError("no such key")
                return target[key]
            raise CelError("no such overload: index")
        if op == "list":
            return [self.ev(x) for x in n[1]]
        if op == "map":
            return {_plain(self.ev(k)): self.ev(v) for k, v in n[1]}
        if op == "call":
            return self._call(n[1], n[2], n[3])
        if op == "macro":
            return self._macro(n)
        raise CelUnsupported(op)  # pragma: no cover

    def _logic(self, l, r, is_or: bool) -> bool:
        short = is_or  # the value that decides
        first: Exception | None = None
        try:
            a = _bool(self.ev(l))
            if a is short:
                return short
        except (CelError, CelUnknown) as exc:
            first = exc
        b = _bool(self.ev(r))
        if b is short:
            return short
        if first is not None:
            raise first
        return not short

    def _bin(self, op: str, a: Any, b: Any) -> Any:
        if op == "==":
            return _eq(a, b)
        if op == "!=":
            return not _eq(a, b)
        a, b = _known(a), _known(b)
        if op == "in":
            if isinstance(b, list):
                return any(_eq(a, x) for x in b)
            if isinstance(b, View):
                return isinstance(a, str) and b.has(a)
            if isinstance(b, dict):
                return a in b
            raise CelError("no such overload: in")
        if op in ("<", "<=", ">", ">="):
            if not ((_num(a) and _num(b)) or (isinstance(a, str) and isinstance(b, str))
                    or (isinstance(a, bool) and isinstance(b, bool))):
                raise CelError(f"no such overload: {op}")
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        if op == "+":
            if _num(a) and _num(b) or isinstance(a, str) and isinstance(b, str):
                return a + b
            if isinstance(a, list) and isinstance(b, list):
                return a + b
            raise CelError("no such overload: +")
        if not (_num(a) and _num(b)):
            raise CelError(f"no such overload: {op}")
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                raise CelError("division by zero")
            if isinstance(a, int) and isinstance(b, int):
                q = abs(a) // abs(b)
                return q if (a >= 0) == (b >= 0) else -q
            return a / b
        if op == "%":
            if b == 0:
                raise CelError("modulus by zero")
            if isinstance(a, int) and isinstance(b, int):
                r = abs(a) % abs(b)
                return r if a >= 0 else -r
            raise CelError("no such overload: %")
        raise CelUnsupported(op)  # pragma: no cover

    def _call(self, name: str, target, args: list) -> Any:
        vals = [self.ev(a) for a in args]
        if target is None:
            if name == "size" and len(vals) == 1:
                return _size(vals[0])
            if name == "dyn" and len(vals) == 1:
                return vals[0]
            if name in ("int", "uint", "double", "string", "bool") and len(vals) == 1:
                return _convert(name, _known(vals[0]))
            if name == "matches" and len(vals) == 2:
                return _matches(_known(vals[0]), _known(vals[1]))
            raise CelUnsupported(f"function {name}")
        t = _known(self.ev(target))
        vals = [_known(v) for v in vals]
        if name == "size" and not vals:
            return _size(t)
        if isinstance(t, str):
            return _string_method(name, t, vals)
        if isinstance(t, list) and name == "join":
            items = [_known(x) for x in t]
            if not all(isinstance(x, str) for x in items):
                raise CelError("no such overload: join")
            sep = vals[0] if vals else ""
            return sep.join(items)
        raise CelUnsupported(f"method {name}")

    def _macro(self, n) -> Any:
        _, name, target, var, body, body2 = n
        coll = _known(self.ev(target))
        if isinstance(coll, View):
            items = list(coll.keys())
        elif isinstance(coll, list):
            items = coll
        elif isinstance(coll, dict):
            items = list(coll)
        else:
            raise CelError(f"no such overload: {name}")
        saved = self.vars.get(var, MISSING)
        try:
            if name == "all":
                return self._quantifier(items, var, body, all_=True)
            if name == "exists":
                return self._quantifier(items, var, body, all_=False)
            if name == "exists_one":
                count = 0
                for it in items:
                    self.vars[var] = it
                    if _bool(self.ev(body)):
                        count += 1
                return count == 1
            if name == "filter":
                out = []
                for it in items:
                    self.vars[var] = it
                    if _bool(self.ev(body)):
                        out.append(it)
                return out
            if name == "map":
                out = []
                for it in items:
                    self.vars[var] = it
                    out.append(self.ev(body))
                return out
            if name == "map_filter":
                out = []
                for it in items:
                    self.vars[var] = it
                    if _bool(self.ev(body)):
                        out.append(self.ev(body2))
                return out
        finally:
            if saved is MISSING:
                self.vars.pop(var, None)
            else:
                self.vars[var] = saved
        raise CelUnsupported(name)  # pragma: no cover

    def _quantifier(self, items, var, body, all_: bool) -> bool:
        err: Exception | None = None
        for it in items:
            self.vars[var] = it
            try:
                ok = _bool(self.ev(body))
            except (CelError, CelUnknown) as exc:
                err = err or exc
                continue
            if all_ and not ok:
                return False
            if not all_ and ok:
                return True
        if err is not None:
            raise err
        return all_


def _convert(name: str, v: Any) -> Any:
    try:
        if name in ("int", "uint"):
            if isinstance(v, bool):
                raise CelError("no such overload")
            r = int(v) if not isinstance(v, str) else int(v, 10)
            if name == "uint" and r < 0:
                raise CelError("range error")
            return r
        if name == "double":
            if isinstance(v, bool):
                raise CelError("no such overload")
            return float(v)
        if name == "string":
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, (str, int, float)):
                return str(v)
            raise CelError("no such overload")
        if name == "bool":
            if isinstance(v, bool):
                return v
            if isinstance(v, str) and v in ("true", "false", "True", "False", "TRUE", "FALSE", "t", "f", "1", "0"):
                return v in ("true", "True", "TRUE", "t", "1")
            raise CelError("no such overload")
    except ValueError as exc:
        raise CelError(str(exc)) from None
    raise CelUnsupported(name)  # pragma: no cover


def _matches(s: Any, pattern: Any) -> bool:
    if not isinstance(s, str) or not isinstance(pattern, str):
        raise CelError("no such overload: matches")
    try:
        return re.search(pattern, s) is not None
    except re.error as exc:
        raise CelUnsupported(f"regular expression: {exc}") from None


def _string_method(name: str, s: str, a: list) -> Any:
    def want(n: int, *types):
        if len(a) != n or not all(isinstance(x, t) and not (t is int and isinstance(x, bool)) for x, t in zip(a, types)):
            raise CelError(f"no such overload: {name}")

    if name == "startsWith":
        want(1, str)
        return s.startswith(a[0])
    if name == "endsWith":
        want(1, str)
        return s.endswith(a[0])
    if name == "contains":
        want(1, str)
        return a[0] in s
    if name == "matches":
        want(1, str)
        return _matches(s, a[0])
    if name == "lowerAscii":
        want(0)
        return "".join(c.lower() if c.isascii() else c for c in s)
    if name == "upperAscii":
        want(0)
        return "".join(c.upper() if c.isascii() else c for c in s)
    if name == "trim":
        want(0)
        return s.strip()
    if name == "indexOf":
        want(1, str)
        return s.find(a[0])
    if name == "lastIndexOf":
        want(1, str)
        return s.rfind(a[0])
    if name == "charAt":
        want(1, int)
        if not 0 <= a[0] <= len(s):
            raise CelError("index out of range")
        return s[a[0]:a[0] + 1]
    if name == "replace":
        if len(a) == 2:
            want(2, str, str)
            return s.replace(a[0], a[1])
        want(3, str, str, int)
        return s.replace(a[0], a[1], a[2]) if a[2] >= 0 else s.replace(a[0], a[1])
    if name == "split":
        if len(a) == 1:
            want(1, str)
            return s.split(a[0]) if a[0] else list(s)
        want(2, str, int)
        if a[1] == 0:
            return []
        return s.split(a[0], a[1] - 1) if a[1] > 0 else s.split(a[0])
    if name == "substring":
        if len(a) == 1:
            want(1, int)
            if not 0 <= a[0] <= len(s):
                raise CelError("index out of range")
            return s[a[0]:]
        want(2, int, int)
        if not 0 <= a[0] <= a[1] <= len(s):
            raise CelError("index out of range")
        return s[a[0]:a[1]]
    raise CelUnsupported(f"method {name}")


def evaluate(rule: str, value: Any, node: Node | None, resolve: Callable[[str], Any] | None = None) -> bool | None:
    """True (satisfied), False (violated) or None (undecided) for ``rule`` with ``self``
    bound to ``value`` seen through ``node``."""
    try:
        ast = compile_rule(rule)
    except (CelSyntaxError, CelUnsupported):
        return None
    env = Env(resolve)
    ev = _Eval(env)
    ev.vars["self"] = env.wrap(value, node)
    try:
        result = ev.ev(ast)
    except (CelError, CelUnknown, CelUnsupported):
        return None
    except (TypeError, ValueError, RecursionError):
        return None
    return result if isinstance(result, bool) else None
