"""A Go ``text/template`` engine in Python, enough for what flux-operator users write.

The behaviour follows Go's ``text/template`` (lexer, parser and executor of the Go
standard library, as documented at pkg.go.dev/text/template) and the function set
flux-operator ships for ResourceSets: slim-sprig's ``HermeticTxtFuncMap`` plus
``slugify``, ``toYaml``/``mustToYaml`` and ``inputs`` (flux-operator
``internal/builder/resourceset.go``, ``newTemplate``).

Values are plain Python values standing for Go ones: ``bool``, ``int`` (Go ``int``/
``int64``), ``float`` (Go ``float64``: every number that comes from JSON, hence every
ResourceSet input, is a float64 in Go), ``str``, ``None`` (a nil ``interface{}``),
``list`` (``[]interface{}``) and ``dict`` (``map[string]interface{}``).

Every failure is a :class:`TemplateError` with a message and the 1-based line and
column in the template text; nothing read from a template can crash or hang the
caller: loop iterations, output size, template recursion and the size of values
functions build are bounded (:class:`Limits`), and going beyond a bound is a
``TemplateError`` of kind ``limit``.

Deliberate differences from Go, all documented where they are made:

* columns are counted in code points and are 1-based (Go reports byte offsets);
* Go's ``int`` and ``int64`` are not told apart (Go refuses an ``int64`` where a
  function wants an ``int``);
* regular expressions run on Python's ``re`` (Go uses RE2); a pattern with nested
  quantifiers, which could backtrack catastrophically, is refused (kind
  ``unsupported``);
* long plain scalars are not folded at 80 columns by ``toYaml``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import posixpath
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import quote as _urlquote, urlsplit

from . import goyaml

__all__ = [
    "TemplateError", "Limits", "GoFunc", "Template", "parse", "render",
    "SPRIG_FUNCS", "FLUX_FUNCS", "BUILTINS", "go_sprint", "go_format_float", "to_yaml",
    "slugify", "NOVALUE", "source_offset", "line_col", "v2_resolve_plain", "go_json",
]


# ---------------------------------------------------------------------------
# errors and limits


class TemplateError(Exception):
    """A template that does not parse or execute.

    ``kind`` is ``parse``, ``exec``, ``limit`` or ``unsupported`` (a function whose
    result cannot be known offline, e.g. one reading the clock). ``line``/``column``
    are 1-based within the template text (0 when unknown); ``context`` is the text of
    the action being executed, as Go's ``executing "name" at <...>`` shows it.
    """

    def __init__(self, message: str, line: int = 0, column: int = 0, *, kind: str = "exec",
                 name: str = "", context: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.kind = kind
        self.name = name
        self.context = context

    def __str__(self) -> str:
        where = f"template: {self.name}:{self.line}:{self.column}: " if self.name else ""
        if self.kind == "parse" or not self.context:
            return where + self.message
        return f'{where}executing "{self.name}" at <{self.context}>: {self.message}'


@dataclass(frozen=True)
class Limits:
    """Bounds on the work one execution may do."""
    steps: int = 2_000_000          # nodes evaluated (each range iteration counts)
    output: int = 4_000_000         # characters written
    depth: int = 64                 # nested {{template}} calls
    value: int = 1_000_000          # characters/items a function may build
    nesting: int = 200              # parse nesting of actions and parentheses
    text: int = 4_000_000           # characters of template text


class _Limit(Exception):
    pass


class _FuncError(Exception):
    """Raised by a function: becomes ``error calling NAME: MSG``."""


class _Unsupported(Exception):
    pass


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _NoValue:
    """Go's invalid ``reflect.Value``: a missing map entry, nil data. Prints ``<no value>``."""
    __slots__ = ()

    def __repr__(self):
        return "<no value>"

    def __bool__(self):
        return False


NOVALUE = _NoValue()
_MISSING = object()  # "no final value" in a pipeline (Go's missingVal)


# ---------------------------------------------------------------------------
# Go value helpers


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def go_type(v) -> str:
    """The Go type name of a value, as error messages print it."""
    if v is None:
        return "interface {}"
    if v is NOVALUE:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if _is_int(v):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, GoFunc):
        return "func"
    return type(v).__name__


def go_kind(v) -> str:
    if v is None or v is NOVALUE:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if _is_int(v):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "slice"
    if isinstance(v, dict):
        return "map"
    return "func"


def _shortest(f: float) -> tuple[bool, str, int]:
    """(negative, shortest decimal digits, decimal point position) of a finite float."""
    r = repr(f)
    neg = r.startswith("-")
    if neg:
        r = r[1:]
    mant, _, exp = r.partition("e")
    e = int(exp) if exp else 0
    intpart, _, frac = mant.partition(".")
    allds = intpart + frac
    stripped = allds.lstrip("0")
    dp = len(intpart) - (len(allds) - len(stripped)) + e
    digits = stripped.rstrip("0")
    if not digits:
        return neg, "0", 1
    return neg, digits, dp


def _fixed(digits: str, dp: int) -> str:
    if dp <= 0:
        return "0." + "0" * (-dp) + digits
    if dp >= len(digits):
        return digits + "0" * (dp - len(digits))
    return digits[:dp] + "." + digits[dp:]


def _expo(digits: str, dp: int, min_exp_digits: int = 2) -> str:
    x = dp - 1
    m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{m}e{'-' if x < 0 else '+'}{abs(x):0{min_exp_digits}d}"


def go_format_float(f: float, verb: str = "g", prec: int = -1) -> str:
    """``strconv.FormatFloat(f, verb, prec, 64)``; the default is what ``%v`` prints for
    a float64: shortest digits, ``%e`` form when the exponent is < -4 or >= 6 (so
    ``1e+06`` and ``1.23456789e+08``, as Go prints large JSON numbers)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if verb == "g" and prec < 0:
        if f == 0:
            return "-0" if math.copysign(1, f) < 0 else "0"
        neg, digits, dp = _shortest(f)
        x = dp - 1
        out = _expo(digits, dp) if (x < -4 or x >= 6) else _fixed(digits, dp)
        return ("-" if neg else "") + out
    if verb == "f":
        return f"{f:.{6 if prec < 0 else prec}f}"
    if verb == "e":
        s = f"{f:.{6 if prec < 0 else prec}e}"
        m, _, e = s.partition("e")
        return f"{m}e{e[0]}{int(e[1:]):02d}"
    return f"{f:.{prec}g}"


def go_sprint(v, top: bool = False) -> str:
    """``fmt.Sprint`` of one value (``%v``)."""
    if v is NOVALUE:
        return "<no value>" if top else "<nil>"
    if v is None:
        return "<no value>" if top else "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_int(v):
        return str(v)
    if isinstance(v, float):
        return go_format_float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return "[" + " ".join(go_sprint(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{go_sprint(k)}:{go_sprint(v[k])}" for k in sorted(v, key=_sort_key)) + "]"
    if isinstance(v, GoFunc):
        return "0x0"
    return str(v)


def _sort_key(k):
    if isinstance(k, str):
        return (0, k.encode("utf-8", "surrogatepass"))
    return (1, str(k))


def is_true(v) -> bool:
    """Go's ``isTrue``: zero values are false."""
    if v is None or v is NOVALUE:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, (str, list, dict)):
        return len(v) > 0
    return True


def _empty(v) -> bool:
    """sprig ``empty``."""
    return not is_true(v)


def _to_int64(v) -> int:
    """slim-sprig ``toInt64``: strings parse in base 10 or give 0; floats truncate."""
    if isinstance(v, str):
        t = v
        if re.fullmatch(r"[+-]?[0-9]+", t):
            n = int(t)
            if -(1 << 63) <= n < (1 << 63):
                return n
        return 0
    if isinstance(v, bool):
        return 1 if v else 0
    if _is_int(v):
        return _wrap64(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return -(1 << 63)
        return _wrap64(int(v))
    return 0


def _to_float64(v) -> float:
    if isinstance(v, str):
        try:
            return float(v) if re.fullmatch(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|Inf|NaN)", v) else 0.0
        except ValueError:
            return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    return 0.0


def _wrap64(n: int) -> int:
    n &= (1 << 64) - 1
    return n - (1 << 64) if n >= (1 << 63) else n


def _strval(v) -> str:
    """sprig ``strval``/``toString``."""
    if isinstance(v, str):
        return v
    return go_sprint(v)


# ---------------------------------------------------------------------------
# functions


@dataclass(frozen=True)
class GoFunc:
    """A template function.

    ``params`` are the kinds of the parameters (``any``, ``string``, ``int``, ``float``,
    ``bool``, ``map``); ``variadic`` the kind of the trailing variadic parameter (or
    ``None``). The callable gets the converted arguments and the execution state's
    budget helper ``ctx`` as keyword ``ctx`` when ``wants_ctx``. It raises
    ``_FuncError`` for a Go error result.
    """
    fn: Callable
    params: tuple = ()
    variadic: str | None = None
    wants_ctx: bool = False


_KIND_TYPES = {"string": "string", "int": "int", "float": "float64", "bool": "bool",
               "map": "map[string]interface {}", "any": "interface {}"}


def _check_kind(kind: str, v, name: str):
    """Go's ``validateType`` for a value (not a constant) given to parameter ``kind``."""
    if kind == "any":
        return None if v is NOVALUE else v
    if v is NOVALUE:
        if kind == "map":
            return None
        raise TemplateError(f"invalid value; expected {_KIND_TYPES[kind]}")
    ok = {
        "string": isinstance(v, str),
        "int": _is_int(v),
        "float": isinstance(v, float),
        "bool": isinstance(v, bool),
        "map": isinstance(v, dict),
    }[kind]
    if not ok:
        raise TemplateError(f"wrong type for value; expected {_KIND_TYPES[kind]}; got {go_type(v)}")
    return v


class _Ctx:
    """What a function may use of the execution: the size budget."""

    def __init__(self, limits: Limits):
        self.limits = limits

    def size(self, n: int):
        if n > self.limits.value:
            raise _Limit(f"value too large ({n} > {self.limits.value})")


def _list_arg(v, fname: str):
    if v is None or v is NOVALUE:
        return None
    if isinstance(v, list):
        return v
    return _Bad


class _BadType:
    pass


_Bad = _BadType()


def _must_list(v, fname):
    lst = _list_arg(v, fname)
    if lst is _Bad:
        raise _FuncError(f"Cannot find {fname} on type {go_type(v)}")
    return lst


def _quote_go(s: str) -> str:
    """``strconv.Quote`` / ``%q``."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\v":
            out.append("\\v")
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif o < 0x7F or (unicodedata.category(ch)[0] in "LMNPS" or ch == " "):
            out.append(ch)
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


# -- JSON (encoding/json) ----------------------------------------------------


def _json_float(f: float) -> str:
    """``encoding/json`` float64: shortest digits, fixed notation unless < 1e-6 or >= 1e21."""
    if math.isnan(f) or math.isinf(f):
        raise _FuncError(f"json: unsupported value: {go_format_float(f)}")
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    neg, digits, dp = _shortest(f)
    a = abs(f)
    out = _expo(digits, dp, 1) if (a < 1e-6 or a >= 1e21) else _fixed(digits, dp)
    return ("-" if neg else "") + out


def _json_str(s: str, html: bool) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20:
            out.append(f"\\u{o:04x}")
        elif html and ch in "<>&":
            out.append(f"\\u{o:04x}")
        elif o in (0x2028, 0x2029):
            out.append(f"\\u{o:04x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_json(v, *, html: bool = True, indent: str | None = None, _lvl: int = 0) -> str:
    """``json.Marshal`` (or ``MarshalIndent`` with ``indent``)."""
    if v is None or v is NOVALUE:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_int(v):
        return str(v)
    if isinstance(v, float):
        return _json_float(v)
    if isinstance(v, str):
        return _json_str(v, html)
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        items = [go_json(x, html=html, indent=indent, _lvl=_lvl + 1) for x in v]
        if indent is None:
            return "[" + ",".join(items) + "]"
        pad = "\n" + indent * (_lvl + 1)
        return "[" + pad + ("," + pad).join(items) + "\n" + indent * _lvl + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        keys = sorted(v, key=lambda k: str(k).encode("utf-8", "surrogatepass"))
        sep = ":" if indent is None else ": "
        items = [_json_str(str(k), html) + sep + go_json(v[k], html=html, indent=indent, _lvl=_lvl + 1) for k in keys]
        if indent is None:
            return "{" + ",".join(items) + "}"
        pad = "\n" + indent * (_lvl + 1)
        return "{" + pad + ("," + pad).join(items) + "\n" + indent * _lvl + "}"
    raise _FuncError(f"json: unsupported type: {go_type(v)}")


def _from_json(s: str):
    """``json.Unmarshal`` into ``interface{}``: numbers are float64."""
    return json.loads(s, parse_int=float, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def _json_roundtrip(v):
    """The value after ``json.Marshal`` then go-yaml v2 ``Unmarshal`` (``sigs.k8s.io/yaml``):
    integral floats become ints."""
    if isinstance(v, float):
        if v == v and not math.isinf(v) and v == int(v) and abs(v) < 2 ** 63:
            return int(v)
        return v
    if isinstance(v, list):
        return [_json_roundtrip(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _json_roundtrip(x) for k, x in v.items()}
    if v is NOVALUE:
        return None
    return v


# -- YAML emission as go-yaml v2 (sigs.k8s.io/yaml) does it ----------------------


def v2_resolve_plain(s: str):
    """How go-yaml v2 (YAML 1.1 as ``sigs.k8s.io/yaml`` reads it) types a plain scalar
    (:func:`goyaml.resolve_plain`: timestamps stay strings)."""
    return goyaml.resolve_plain(s)


def _scalar_text(s: str, indent: int, is_key: bool) -> str | list[str]:
    """How go-yaml v2 writes string ``s`` (:func:`goyaml.scalar_style`): plain, single-
    or double-quoted text, or, for a multi-line value, the lines of a literal block
    (header first, body indented by ``indent + 2``)."""
    if is_key and len(s) > 128:
        # go-yaml writes a key this long as a complex key (``? k``); here it is quoted
        return goyaml.double_quoted(s)
    style = goyaml.scalar_style(s, is_key)
    if style == "literal":
        lines = s.split("\n")
        if not s.endswith("\n"):
            chomp = "-"
        else:
            lines = lines[:-1]
            chomp = "+" if (s == "\n" or s.endswith("\n\n")) else ""
        head = "|" + ("2" if s[:1] in (" ", "\n") else "") + chomp
        pad = " " * (indent + 2)
        return [head] + [(pad + ln) if ln else "" for ln in lines]
    if style == "plain":
        return s
    if style == "single":
        return goyaml.single_quoted(s)
    return goyaml.double_quoted(s)


def _v2_key_less(a: str, b: str) -> bool:
    """go-yaml v2 ``keyList.Less`` for two string keys (digit runs compare as numbers)."""
    ar, br = a, b
    for i in range(min(len(ar), len(br))):
        if ar[i] == br[i]:
            continue
        al, bl = ar[i].isalpha(), br[i].isalpha()
        if al and bl:
            return ar[i] < br[i]
        if al or bl:
            return bl
        an = bn = 0
        if ar[i] == "0" or br[i] == "0":
            j = i - 1
            while j >= 0 and ar[j].isdigit():
                if ar[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(ar) and ar[ai].isdigit():
            an = an * 10 + int(ar[ai]) if ar[ai].isascii() else an
            ai += 1
        bi = i
        while bi < len(br) and br[bi].isdigit():
            bn = bn * 10 + int(br[bi]) if br[bi].isascii() else bn
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ar[i] < br[i]
    return len(ar) < len(br)


def v2_sorted_keys(d: Mapping) -> list:
    import functools
    keys = [str(k) for k in d]
    return sorted(keys, key=functools.cmp_to_key(lambda x, y: -1 if _v2_key_less(x, y) else (1 if _v2_key_less(y, x) else 0)))


def _yaml_scalar(v, indent: int) -> str | list[str]:
    if v is None or v is NOVALUE:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_int(v):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        return go_format_float(v)
    return _scalar_text(str(v), indent, False)


def to_yaml(v, *, paths: list | None = None, budget: Callable[[int], None] | None = None) -> str:
    """Block YAML as ``sigs.k8s.io/yaml.Marshal`` (go-yaml v2) writes ``v``: keys in
    go-yaml's order, two-space indentation, sequences inside mappings not indented,
    multi-line strings as literal blocks.

    ``paths``, when given, receives for each output line the path (tuple of keys and
    indexes) of the value written on it."""
    lines: list[str] = []
    lpaths: list[tuple] = []
    size = [0]

    def add(line: str, path: tuple):
        lines.append(line)
        lpaths.append(path)
        size[0] += len(line) + 1
        if budget is not None and len(lines) % 64 == 0:
            budget(size[0])

    def scalar(val, indent: int):
        if isinstance(val, dict):
            return "{}"
        if isinstance(val, list):
            return "[]"
        return _yaml_scalar(val, indent)

    def put(lead: str, val, indent: int, path: tuple):
        """Write ``val`` after ``lead`` ("key:" or "- " forms) at block ``indent``."""
        sc = scalar(val, indent)
        if isinstance(sc, list):
            add(lead + (" " if lead.endswith(":") else "") + sc[0], path)
            for ln in sc[1:]:
                add(ln, path)
        else:
            add(lead + (" " if lead.endswith(":") else "") + sc, path)

    def block(val, indent: int, path: tuple, first_lead: str | None = None):
        pad = " " * indent
        first = True
        if isinstance(val, dict):
            for k in v2_sorted_keys(val):
                item = val[k] if k in val else val[_orig_key(val, k)]
                kt = _scalar_text(k, indent, True)
                lead = (first_lead if first and first_lead is not None else pad) + kt + ":"
                first = False
                p = path + (k,)
                if isinstance(item, dict) and item:
                    add(lead, p)
                    block(item, indent + 2, p)
                elif isinstance(item, list) and item:
                    add(lead, p)
                    block(item, indent, p)  # go-yaml v2: a sequence in a mapping is not indented
                else:
                    put(lead, item, indent, p)
        else:
            for i, item in enumerate(val):
                lead = (first_lead if first and first_lead is not None else pad) + "- "
                first = False
                p = path + (i,)
                if isinstance(item, (dict, list)) and item:
                    block(item, indent + 2, p, first_lead=lead)
                else:
                    put(lead, item, indent, p)

    if isinstance(v, (dict, list)) and v:
        block(v, 0, ())
    else:
        put("", v, 0, ())
    if paths is not None:
        paths.extend(lpaths)
    return "\n".join(lines) + "\n"


def _orig_key(d, k):
    for kk in d:
        if str(kk) == k:
            return kk
    return k


# -- slugify (gosimple/slug with MaxLength 63 and smart truncation) ----------------


_SLUG_BAD = re.compile(r"[^a-z0-9\-_]")
_SLUG_DASHES = re.compile(r"-+")


def slugify(s: str, max_length: int = 63) -> str:
    """``slug.Make`` as flux-operator configures it (``slug.MaxLength = 63``,
    ``EnableSmartTruncate = true``, ``internal/builder/resourceset.go`` ``init``).

    Non-ASCII letters are transliterated by dropping their accents (unidecode is
    approximated with NFKD); ``&`` and ``@`` become ``and``/``at`` (the English
    substitutions of gosimple/slug)."""
    t = s.strip()
    t = t.replace("&", "and").replace("@", "at")
    t = "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))
    t = t.encode("ascii", "ignore").decode("ascii")
    t = t.lower()
    t = _SLUG_BAD.sub("-", t)
    t = _SLUG_DASHES.sub("-", t)
    t = t.strip("-_")
    if max_length > 0 and len(t) > max_length:
        cut = t.rfind("-", 0, max_length + 1)
        t = t[:cut] if cut > 0 else t[:max_length]
        t = t.strip("-_")
    return t


# -- the slim-sprig function set --------------------------------------------------


def _sprig() -> dict[str, GoFunc]:
    fs: dict[str, GoFunc] = {}

    def reg(name, *params, variadic=None, ctx=False):
        def deco(fn):
            fs[name] = GoFunc(fn, tuple(params), variadic, ctx)
            return fn
        return deco

    reg("hello")(lambda: "Hello!")

    # strings
    reg("trim", "string")(lambda s: s.strip(" \t\n\r\v\f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"))
    reg("upper", "string")(lambda s: s.upper())
    reg("lower", "string")(lambda s: s.lower())
    reg("title", "string")(_go_title)

    @reg("substr", "int", "int", "string")
    def _substr(start, end, s):
        if start < 0:
            return s[:end]
        if end < 0 or end > len(s):
            return s[start:]
        return s[start:end]

    @reg("repeat", "int", "string", ctx=True)
    def _repeat(count, s, ctx):
        ctx.size(max(count, 0) * len(s))
        if count < 0:
            raise _FuncError("strings: negative Repeat count")
        return s * count

    def _trim_set(cut, s):
        return s.strip(cut) if cut else s

    reg("trimall", "string", "string")(_trim_set)
    reg("trimAll", "string", "string")(_trim_set)
    reg("trimSuffix", "string", "string")(lambda a, s: s[: -len(a)] if a and s.endswith(a) else s)
    reg("trimPrefix", "string", "string")(lambda a, s: s[len(a):] if a and s.startswith(a) else s)
    reg("contains", "string", "string")(lambda sub, s: sub in s)
    reg("hasPrefix", "string", "string")(lambda sub, s: s.startswith(sub))
    reg("hasSuffix", "string", "string")(lambda sub, s: s.endswith(sub))
    reg("quote", variadic="any")(lambda *a: " ".join(_quote_go(_strval(x)) for x in a if x is not None))
    reg("squote", variadic="any")(lambda *a: " ".join("'" + _strval(x) + "'" for x in a if x is not None))
    reg("cat", variadic="any")(lambda *a: " ".join(_strval(x) for x in a if x is not None))

    @reg("indent", "int", "string", ctx=True)
    def _indent(n, s, ctx):
        pad = " " * max(n, 0)
        ctx.size(len(s) + (s.count("\n") + 1) * len(pad))
        return pad + s.replace("\n", "\n" + pad)

    @reg("nindent", "int", "string", ctx=True)
    def _nindent(n, s, ctx):
        return "\n" + _indent(n, s, ctx)

    @reg("replace", "string", "string", "string", ctx=True)
    def _replace(old, new, s, ctx):
        if old == "":
            ctx.size(len(s) + (len(s) + 1) * len(new))
        else:
            ctx.size(len(s) + s.count(old) * len(new))
        if old == "":
            # Go's strings.Replace with an empty old inserts between every rune
            return new + new.join(s) + new if s else new
        return s.replace(old, new)

    reg("plural", "string", "string", "int")(lambda one, many, n: one if n == 1 else many)
    reg("sha1sum", "string")(lambda s: hashlib.sha1(s.encode()).hexdigest())
    reg("sha256sum", "string")(lambda s: hashlib.sha256(s.encode()).hexdigest())
    reg("adler32sum", "string")(lambda s: str(zlib.adler32(s.encode())))
    reg("toString", "any")(_strval)

    @reg("trunc", "int", "string")
    def _trunc(c, s):
        if c < 0 and len(s) + c > 0:
            return s[len(s) + c:]
        if c >= 0 and len(s) > c:
            return s[:c]
        return s

    # numbers
    @reg("atoi", "string")
    def _atoi(a):
        return int(a) if re.fullmatch(r"[+-]?[0-9]+", a) and -(1 << 63) <= int(a) < (1 << 63) else 0

    reg("int64", "any")(_to_int64)
    reg("int", "any")(_to_int64)
    reg("float64", "any")(_to_float64)

    @reg("toDecimal", "any")
    def _todec(v):
        try:
            return int(_strval(v), 8) if re.fullmatch(r"[0-7]+", _strval(v)) else 0
        except ValueError:
            return 0

    @reg("seq", variadic="int", ctx=True)
    def _seq(*p, ctx):
        if len(p) == 0:
            return ""
        if len(p) == 1:
            start, step, end = 1, 1, p[0]
            if end < start:
                step = -1
        elif len(p) == 2:
            start, end = p
            step = 1 if end >= start else -1
        elif len(p) == 3:
            start, step, end = p
            if step == 0 or (end < start and step > 0) or (end > start and step < 0):
                return ""
        else:
            return ""
        ctx.size(abs(end - start) // max(abs(step), 1) * 4)
        stop = end + (1 if step > 0 else -1)
        return " ".join(str(i) for i in range(start, stop, step))

    @reg("until", "int", ctx=True)
    def _until(n, ctx):
        ctx.size(abs(n))
        return list(range(0, n, 1 if n >= 0 else -1))

    @reg("untilStep", "int", "int", "int", ctx=True)
    def _until_step(start, stop, step, ctx):
        if step == 0 or (step > 0 and start >= stop) or (step < 0 and start <= stop):
            return []
        ctx.size(abs(stop - start) // abs(step))
        return list(range(start, stop, step))

    reg("add1", "any")(lambda i: _wrap64(_to_int64(i) + 1))
    reg("add", variadic="any")(lambda *a: _wrap64(sum(_to_int64(x) for x in a)))
    reg("sub", "any", "any")(lambda a, b: _wrap64(_to_int64(a) - _to_int64(b)))

    def _div(a, b):
        a, b = _to_int64(a), _to_int64(b)
        if b == 0:
            raise _FuncError("runtime error: integer divide by zero")
        q = abs(a) // abs(b)
        return _wrap64(q if (a >= 0) == (b >= 0) else -q)

    def _mod(a, b):
        a, b = _to_int64(a), _to_int64(b)
        if b == 0:
            raise _FuncError("runtime error: integer divide by zero")
        r = abs(a) % abs(b)
        return r if a >= 0 else -r

    reg("div", "any", "any")(_div)
    reg("mod", "any", "any")(_mod)

    @reg("mul", "any", variadic="any")
    def _mul(a, *v):
        r = _to_int64(a)
        for b in v:
            r = _wrap64(r * _to_int64(b))
        return r

    reg("biggest", "any", variadic="any")(lambda a, *i: max([_to_int64(a)] + [_to_int64(x) for x in i]))
    reg("max", "any", variadic="any")(lambda a, *i: max([_to_int64(a)] + [_to_int64(x) for x in i]))
    reg("min", "any", variadic="any")(lambda a, *i: min([_to_int64(a)] + [_to_int64(x) for x in i]))
    reg("maxf", "any", variadic="any")(lambda a, *i: max([_to_float64(a)] + [_to_float64(x) for x in i]))
    reg("minf", "any", variadic="any")(lambda a, *i: min([_to_float64(a)] + [_to_float64(x) for x in i]))
    reg("ceil", "any")(lambda a: float(math.ceil(_to_float64(a))) if math.isfinite(_to_float64(a)) else _to_float64(a))
    reg("floor", "any")(lambda a: float(math.floor(_to_float64(a))) if math.isfinite(_to_float64(a)) else _to_float64(a))

    @reg("round", "any", "int", variadic="float")
    def _round(a, p, *r):
        roundOn = r[0] if r else 0.5
        val = _to_float64(a)
        if not math.isfinite(val):
            return val
        pow_ = 10.0 ** p
        digit = pow_ * val
        frac, whole = math.modf(digit)
        rounder = math.ceil(digit) if frac >= roundOn else math.floor(digit)
        return rounder / pow_

    # lists of strings
    @reg("split", "string", "string")
    def _split(sep, orig):
        parts = orig.split(sep) if sep else list(orig)
        return {f"_{i}": p for i, p in enumerate(parts)}

    reg("splitList", "string", "string")(lambda sep, orig: orig.split(sep) if sep else list(orig))

    @reg("splitn", "string", "int", "string")
    def _splitn(sep, n, orig):
        if n == 0:
            return {}
        parts = orig.split(sep, n - 1) if n > 0 and sep else orig.split(sep) if sep else list(orig)
        return {f"_{i}": p for i, p in enumerate(parts)}

    def _strslice(v):
        if isinstance(v, list):
            return [_strval(x) for x in v if x is not None]
        if v is None:
            return []
        return [_strval(v)]

    reg("toStrings", "any")(_strslice)
    reg("join", "string", "any")(lambda sep, v: sep.join(_strslice(v)))
    reg("sortAlpha", "any")(lambda v: sorted(_strslice(v), key=lambda s: s.encode("utf-8", "surrogatepass")) if isinstance(v, list) else [_strval(v)])

    # defaults
    reg("default", "any", variadic="any")(lambda d, *g: d if (not g or _empty(g[0])) else g[0])
    reg("empty", "any")(_empty)

    @reg("coalesce", variadic="any")
    def _coalesce(*v):
        for x in v:
            if not _empty(x):
                return x
        return None

    reg("all", variadic="any")(lambda *v: all(not _empty(x) for x in v))
    reg("any", variadic="any")(lambda *v: any(not _empty(x) for x in v))

    def _compact(lst):
        lst = _must_list(lst, "compact")
        return [x for x in (lst or []) if not _empty(x)]

    reg("compact", "any")(_compact)
    reg("mustCompact", "any")(_compact)

    def _fromjson(s):
        try:
            return _from_json(s)
        except ValueError:
            return {}

    def _mustfromjson(s):
        try:
            return _from_json(s)
        except ValueError as e:
            raise _FuncError(str(e)) from None

    reg("fromJson", "string")(_fromjson)
    reg("mustFromJson", "string")(_mustfromjson)

    def _safe(fn):
        def inner(v, ctx):
            try:
                r = fn(v)
            except _FuncError:
                return ""
            ctx.size(len(r))
            return r
        return inner

    def _must(fn):
        def inner(v, ctx):
            r = fn(v)
            ctx.size(len(r))
            return r
        return inner

    j = lambda v: go_json(v)  # noqa: E731
    pj = lambda v: go_json(v, indent="  ")  # noqa: E731
    rj = lambda v: go_json(v, html=False)  # noqa: E731
    fs["toJson"] = GoFunc(_safe(j), ("any",), None, True)
    fs["mustToJson"] = GoFunc(_must(j), ("any",), None, True)
    fs["toPrettyJson"] = GoFunc(_safe(pj), ("any",), None, True)
    fs["mustToPrettyJson"] = GoFunc(_must(pj), ("any",), None, True)
    fs["toRawJson"] = GoFunc(_safe(rj), ("any",), None, True)
    fs["mustToRawJson"] = GoFunc(_must(rj), ("any",), None, True)
    reg("ternary", "any", "any", "bool")(lambda vt, vf, v: vt if v else vf)

    # reflection
    reg("typeOf", "any")(lambda v: "<nil>" if v is None else go_type(v))
    reg("typeIs", "string", "any")(lambda t, v: t == ("<nil>" if v is None else go_type(v)))
    reg("typeIsLike", "string", "any")(lambda t, v: t in (go_type(v), "*" + go_type(v)))
    reg("kindOf", "any")(lambda v: go_kind(v))
    reg("kindIs", "string", "any")(lambda t, v: t == go_kind(v))
    reg("deepEqual", "any", "any")(lambda a, b: _deep_equal(a, b))

    # paths
    reg("base", "string")(lambda p: _go_base(p))
    reg("dir", "string")(lambda p: _go_clean(posixpath.dirname(p)) if "/" in p else ".")
    reg("clean", "string")(lambda p: _go_clean(p))
    reg("ext", "string")(lambda p: _go_ext(p))
    reg("isAbs", "string")(lambda p: p.startswith("/"))
    reg("osBase", "string")(lambda p: _go_base(p))
    reg("osClean", "string")(lambda p: _go_clean(p))
    reg("osDir", "string")(lambda p: _go_clean(posixpath.dirname(p)) if "/" in p else ".")
    reg("osExt", "string")(lambda p: _go_ext(p))
    reg("osIsAbs", "string")(lambda p: p.startswith("/"))

    @reg("osAbs", "string")
    def _osabs(p):
        raise _Unsupported("osAbs depends on the operator's working directory")

    # encoding
    reg("b64enc", "string")(lambda s: base64.b64encode(s.encode("utf-8", "surrogatepass")).decode())

    @reg("b64dec", "string")
    def _b64dec(s):
        try:
            return base64.b64decode(s.encode(), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError) as e:
            return str(e)

    reg("b32enc", "string")(lambda s: base64.b32encode(s.encode()).decode())

    @reg("b32dec", "string")
    def _b32dec(s):
        try:
            return base64.b32decode(s.encode()).decode("utf-8", "replace")
        except (binascii.Error, ValueError) as e:
            return str(e)

    # dictionaries and lists
    @reg("list", variadic="any")
    def _list(*v):
        return list(v)

    fs["tuple"] = fs["list"]

    @reg("dict", variadic="any")
    def _dict(*v):
        d = {}
        for i in range(0, len(v), 2):
            k = _strval(v[i])
            d[k] = v[i + 1] if i + 1 < len(v) else ""
        return d

    reg("get", "map", "string")(lambda d, k: (d or {}).get(k, "") if d is not None else "")

    @reg("set", "map", "string", "any")
    def _set(d, k, v):
        if d is None:
            raise _FuncError("assignment to entry in nil map")
        d[k] = v
        return d

    @reg("unset", "map", "string")
    def _unset(d, k):
        if d is not None:
            d.pop(k, None)
        return d

    reg("hasKey", "map", "string")(lambda d, k: d is not None and k in d)
    reg("pluck", "string", variadic="map")(lambda name, *ds: [d[name] for d in ds if d is not None and name in d])

    @reg("keys", variadic="map")
    def _keys(*ds):
        out = []
        for d in ds:
            out.extend(list(d or {}))
        return out

    reg("pick", "map", variadic="string")(lambda d, *ks: {k: d[k] for k in ks if d is not None and k in d})
    reg("omit", "map", variadic="string")(lambda d, *ks: {k: v for k, v in (d or {}).items() if k not in ks})
    reg("values", "map")(lambda d: list((d or {}).values()))

    def _listfn(name, op, must):
        def fn(lst, *rest):
            got = _list_arg(lst, name)
            if got is _Bad:
                if must:
                    raise _FuncError(f"Cannot {op_name(name)} on type {go_type(lst)}")
                raise _FuncError(f"Cannot {op_name(name)} on type {go_type(lst)}")
            return op(got, *rest)
        return fn

    def op_name(name):
        return {"append": "push", "push": "push", "prepend": "prepend", "first": "find first",
                "rest": "find rest", "last": "find last", "initial": "find initial",
                "reverse": "find reverse", "uniq": "find uniq", "without": "find without",
                "has": "find has", "slice": "slice", "chunk": "chunk"}.get(name.removeprefix("must").lower(), name)

    def _push(lst, v):
        return list(lst or []) + [v]

    def _prepend(lst, v):
        return [v] + list(lst or [])

    def _first(lst):
        return lst[0] if lst else None

    def _rest(lst):
        return list(lst[1:]) if lst else None

    def _last(lst):
        return lst[-1] if lst else None

    def _initial(lst):
        return list(lst[:-1]) if lst else None

    def _reverse(lst):
        return list(reversed(lst or []))

    def _uniq(lst):
        out = []
        for x in lst or []:
            if not any(_deep_equal(x, y) for y in out):
                out.append(x)
        return out

    def _without(lst, *omit):
        return [x for x in (lst or []) if not any(_deep_equal(x, o) for o in omit)]

    for nm, op, params, var in (
        ("append", _push, ("any", "any"), None), ("push", _push, ("any", "any"), None),
        ("prepend", _prepend, ("any", "any"), None), ("first", _first, ("any",), None),
        ("rest", _rest, ("any",), None), ("last", _last, ("any",), None),
        ("initial", _initial, ("any",), None), ("reverse", _reverse, ("any",), None),
        ("uniq", _uniq, ("any",), None), ("without", _without, ("any",), "any"),
    ):
        fs[nm] = GoFunc(_listfn(nm, op, False), params, var)
        must = "must" + nm[0].upper() + nm[1:]
        fs[must] = GoFunc(_listfn(must, op, True), params, var)

    def _has(needle, hay):
        if hay is None:
            return False
        if not isinstance(hay, list):
            raise _FuncError(f"Cannot find has on type {go_type(hay)}")
        return any(_deep_equal(needle, x) for x in hay)

    fs["has"] = GoFunc(_has, ("any", "any"))
    fs["mustHas"] = GoFunc(_has, ("any", "any"))

    def _slice(lst, *idx):
        if isinstance(lst, str) or not isinstance(lst, list):
            raise _FuncError(f"list should be type of slice or array but {go_type(lst)}")
        ints = [_to_int64(i) for i in idx]
        start = ints[0] if ints else 0
        end = ints[1] if len(ints) > 1 else len(lst)
        if start < 0 or end > len(lst) or start > end:
            raise _FuncError(f"runtime error: slice bounds out of range [{start}:{end}]")
        return list(lst[start:end])

    fs["slice"] = GoFunc(_slice, ("any",), "any")
    fs["mustSlice"] = GoFunc(_slice, ("any",), "any")

    @reg("concat", variadic="any")
    def _concat(*lists):
        out = []
        for lst in lists:
            if lst is None:
                continue
            if not isinstance(lst, list):
                raise _FuncError(f"Cannot concat type {go_type(lst)} as list")
            out.extend(lst)
        return out

    @reg("dig", variadic="any")
    def _dig(*ps):
        if len(ps) < 3:
            raise _FuncError("dig needs at least three arguments")
        d = ps[-1]
        default = ps[-2]
        keys = [_strval(k) for k in ps[:-2]]
        for k in keys:
            if not isinstance(d, dict) or k not in d:
                return default
            d = d[k]
        return d

    def _chunk(size, lst):
        lst = _must_list(lst, "chunk") or []
        if size <= 0:
            raise _FuncError("runtime error: integer divide by zero")
        return [list(lst[i:i + size]) for i in range(0, len(lst), size)]

    fs["chunk"] = GoFunc(_chunk, ("int", "any"))
    fs["mustChunk"] = GoFunc(_chunk, ("int", "any"))

    # flow control
    @reg("fail", "string")
    def _fail(msg):
        raise _FuncError(msg)

    # regular expressions (Python re; see the module docstring)
    def _re(pattern):
        if _risky_regex(pattern):
            raise _Unsupported(f"regular expression {pattern!r} is not evaluated offline (nested quantifiers)")
        try:
            return re.compile(_go_regex(pattern))
        except re.error as e:
            raise _FuncError(f"error parsing regexp: {e}") from None

    def _soft(fn, default):
        def inner(*a):
            try:
                return fn(*a)
            except _FuncError:
                return default
        return inner

    def _match(regex, s):
        return _re(regex).search(s) is not None

    def _findall(regex, s, n):
        ms = [m.group(0) for m in _re(regex).finditer(s)]
        return ms if n < 0 else ms[:n]

    def _find(regex, s):
        m = _re(regex).search(s)
        return m.group(0) if m else ""

    def _replall(regex, s, repl):
        return _re(regex).sub(lambda m: _go_expand(repl, m), s)

    def _repllit(regex, s, repl):
        return _re(regex).sub(lambda m: repl, s)

    def _resplit(regex, s, n):
        if n == 0:
            return []
        parts = _re(regex).split(s) if n < 0 else _re(regex).split(s, maxsplit=n - 1)
        return parts

    for nm, fn, params, dflt in (
        ("regexMatch", _match, ("string", "string"), False),
        ("regexFindAll", _findall, ("string", "string", "int"), []),
        ("regexFind", _find, ("string", "string"), ""),
        ("regexReplaceAll", _replall, ("string", "string", "string"), ""),
        ("regexReplaceAllLiteral", _repllit, ("string", "string", "string"), ""),
        ("regexSplit", _resplit, ("string", "string", "int"), []),
    ):
        fs[nm] = GoFunc(_soft(fn, dflt), params)
        fs["must" + nm[0].upper() + nm[1:]] = GoFunc(fn, params)
    reg("regexQuoteMeta", "string")(lambda s: re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", s))

    # URLs
    @reg("urlParse", "string")
    def _urlparse(v):
        try:
            u = urlsplit(v)
        except ValueError as e:
            raise _FuncError(f"unable to parse url: {e}") from None
        userinfo = ""
        host = u.netloc
        if "@" in host:
            userinfo, host = host.rsplit("@", 1)
        return {"scheme": u.scheme, "host": host, "hostname": u.hostname or "", "path": u.path,
                "query": u.query, "opaque": "", "fragment": u.fragment, "userinfo": userinfo}

    @reg("urlJoin", "map")
    def _urljoin(d):
        d = d or {}
        scheme = _strval(d.get("scheme", ""))
        host = _strval(d.get("host", ""))
        path = _strval(d.get("path", ""))
        query = _strval(d.get("query", ""))
        frag = _strval(d.get("fragment", ""))
        ui = _strval(d.get("userinfo", ""))
        s = (scheme + ":" if scheme else "") + ("//" + (ui + "@" if ui else "") + host if host or ui else "") + path
        return s + ("?" + query if query else "") + ("#" + frag if frag else "")

    # dates: the hermetic map drops now/date*; what remains reads the clock or time.Time
    def _clock(name):
        def fn(*a):
            raise _Unsupported(f"{name} depends on the clock or on time values, unknown offline")
        return fn

    for nm, params in (("ago", ("any",)), ("toDate", ("string", "string")), ("mustToDate", ("string", "string")),
                       ("unixEpoch", ("any",))):
        fs[nm] = GoFunc(_clock(nm), params)

    @reg("duration", "any")
    def _duration(sec):
        return _go_duration(_to_int64(sec) * 1_000_000_000) if not isinstance(sec, str) else _go_duration(_atoi_soft(sec) * 1_000_000_000)

    @reg("durationRound", "any")
    def _duration_round(v):
        raise _Unsupported("durationRound is not evaluated offline")

    return fs


def _go_title(s: str) -> str:
    """``strings.Title``: upper-case the first letter of each word; ASCII characters
    other than letters, digits and ``_`` separate words, as do Unicode spaces."""
    out = []
    prev_sep = True
    for ch in s:
        if prev_sep:
            out.append(ch.upper() if len(ch.upper()) == 1 else ch)
        else:
            out.append(ch)
        if ch.isascii():
            prev_sep = not (ch.isalnum() or ch == "_")
        elif ch.isalpha() or ch.isdigit():
            prev_sep = False
        else:
            prev_sep = ch.isspace()
    return "".join(out)


def _atoi_soft(s):
    try:
        return int(s)
    except ValueError:
        return 0


def _go_duration(ns: int) -> str:
    """``time.Duration.String``."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = abs(ns)
    if u < 1_000_000_000:
        if u < 1_000:
            s = f"{u}ns"
        elif u < 1_000_000:
            s = _trim_frac(u / 1_000) + "µs"
        else:
            s = _trim_frac(u / 1_000_000) + "ms"
        return ("-" if neg else "") + s
    h, rem = divmod(u, 3_600_000_000_000)
    m, rem = divmod(rem, 60_000_000_000)
    secs = rem / 1_000_000_000
    out = ""
    if h:
        out += f"{h}h"
    if h or m:
        out += f"{m}m"
    out += _trim_frac(secs) + "s"
    return ("-" if neg else "") + out


def _trim_frac(x: float) -> str:
    s = f"{x:.9f}".rstrip("0").rstrip(".")
    return s


def _go_clean(p: str) -> str:
    if p == "":
        return "."
    r = posixpath.normpath(p)
    if r.startswith("//"):
        r = "/" + r.lstrip("/")
    return r


def _go_base(p: str) -> str:
    if p == "":
        return "."
    p = p.rstrip("/")
    if p == "":
        return "/"
    return p.rsplit("/", 1)[-1]


def _go_ext(p: str) -> str:
    i = len(p) - 1
    while i >= 0 and p[i] != "/":
        if p[i] == ".":
            return p[i:]
        i -= 1
    return ""


def _deep_equal(a, b) -> bool:
    if type(a) is not type(b) and not (a is None and b is None):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    return a == b


_NESTED_Q = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{?]")


def _risky_regex(p: str) -> bool:
    return len(p) > 1000 or bool(_NESTED_Q.search(p)) or bool(re.search(r"\\[1-9]", p))


def _go_regex(p: str) -> str:
    """RE2 syntax that Python spells differently: ``(?P<n>`` is shared; ``\\z`` is ``\\Z``."""
    return p.replace(r"\z", r"\Z")


def _go_expand(repl: str, m: re.Match) -> str:
    """``Regexp.Expand`` of ``$1``, ``${1}``, ``$name``, ``$$``."""
    out = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c != "$" or i + 1 >= len(repl):
            out.append(c)
            i += 1
            continue
        nxt = repl[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            j = repl.find("}", i + 2)
            if j < 0:
                out.append(c)
                i += 1
                continue
            name = repl[i + 2:j]
            i = j + 1
        else:
            mm = re.match(r"[A-Za-z0-9_]+", repl[i + 1:])
            if not mm:
                out.append(c)
                i += 1
                continue
            name = mm.group(0)
            i += 1 + len(name)
        try:
            g = m.group(int(name)) if name.isdigit() else m.group(name)
        except (IndexError, KeyError, re.error):
            g = ""
        out.append(g or "")
    return "".join(out)


SPRIG_FUNCS: dict[str, GoFunc] = _sprig()


def _to_yaml_func(v, ctx):
    r = to_yaml(_json_roundtrip(v), budget=ctx.size)
    ctx.size(len(r))
    return r


def _must_to_yaml(v, ctx):
    try:
        go_json(v)
    except _FuncError:
        raise
    return _to_yaml_func(v, ctx)


def _safe_to_yaml(v, ctx):
    try:
        return _must_to_yaml(v, ctx)
    except _FuncError:
        return ""


# flux-operator's additions (internal/builder/resourceset.go newTemplate)
FLUX_FUNCS: dict[str, GoFunc] = {
    "slugify": GoFunc(lambda s: slugify(s), ("string",)),
    "toYaml": GoFunc(_safe_to_yaml, ("any",), None, True),
    "mustToYaml": GoFunc(_must_to_yaml, ("any",), None, True),
}

BUILTINS = frozenset((
    "and", "or", "not", "len", "index", "slice", "print", "printf", "println",
    "html", "js", "urlquery", "eq", "ne", "lt", "le", "gt", "ge", "call",
))


# ---------------------------------------------------------------------------
# lexer


@dataclass
class _Tok:
    typ: str
    val: str
    pos: int
    trim: bool = False


_KEYWORDS = {"block", "break", "continue", "define", "else", "end", "if", "range", "nil", "template", "with"}
_SPACE = " \t\r\n"


class _Lexer:
    def __init__(self, text: str, left: str, right: str, name: str):
        self.text = text
        self.left = left or "{{"
        self.right = right or "}}"
        self.name = name
        self.toks: list[_Tok] = []

    def err(self, msg: str, pos: int):
        line, col = _line_col(self.text, pos)
        raise TemplateError(msg, line, col, kind="parse", name=self.name)

    def run(self) -> list[_Tok]:
        t, L, R = self.text, self.left, self.right
        pos = 0
        n = len(t)
        while True:
            i = t.find(L, pos)
            if i < 0:
                if pos < n:
                    self.toks.append(_Tok("text", t[pos:], pos))
                self.toks.append(_Tok("eof", "", n))
                return self.toks
            after = i + len(L)
            trim_left = t.startswith("-", after) and after + 1 < n and t[after + 1] in _SPACE
            text = t[pos:i]
            if trim_left:
                text = text.rstrip(_SPACE)
            if text:
                self.toks.append(_Tok("text", text, pos))
            p = after + (2 if trim_left else 0)
            # comment
            if t.startswith("/*", p):
                end = t.find("*/", p + 2)
                if end < 0:
                    self.err("unclosed comment", p)
                q = end + 2
                trim_right = False
                if t.startswith(" -" + R, q):
                    trim_right = True
                    q += 2
                if not t.startswith(R, q):
                    self.err("comment ends before closing delimiter", q)
                q += len(R)
                if trim_right:
                    while q < n and t[q] in _SPACE:
                        q += 1
                pos = q
                continue
            self.toks.append(_Tok("left", L, i))
            pos = self.inside(p)

    def inside(self, p: int) -> int:
        t, R = self.text, self.right
        n = len(t)
        depth = 0
        while True:
            if t.startswith(" -" + R, p) or t.startswith("\t-" + R, p) or t.startswith("\n-" + R, p) or t.startswith("\r-" + R, p):
                if depth:
                    self.err("unclosed left paren", p)
                self.toks.append(_Tok("space", t[p], p))
                self.toks.append(_Tok("right", R, p + 2, trim=True))
                q = p + 2 + len(R)
                while q < n and t[q] in _SPACE:
                    q += 1
                return q
            if t.startswith(R, p):
                if depth:
                    self.err("unclosed left paren", p)
                self.toks.append(_Tok("right", R, p))
                return p + len(R)
            if p >= n:
                self.err("unclosed action", p)
            c = t[p]
            if c in _SPACE:
                q = p
                while q < n and t[q] in _SPACE and not t.startswith("-" + R, q + 1):
                    q += 1
                q = max(q, p + 1)
                self.toks.append(_Tok("space", t[p:q], p))
                p = q
                continue
            if c == "=":
                self.toks.append(_Tok("assign", "=", p))
                p += 1
                continue
            if c == ":":
                if not t.startswith(":=", p):
                    self.err("expected :=", p)
                self.toks.append(_Tok("declare", ":=", p))
                p += 2
                continue
            if c == "|":
                self.toks.append(_Tok("pipe", "|", p))
                p += 1
                continue
            if c == '"':
                q = p + 1
                while True:
                    if q >= n or t[q] == "\n":
                        self.err("unterminated quoted string", p)
                    if t[q] == "\\":
                        q += 2
                        continue
                    if t[q] == '"':
                        break
                    q += 1
                self.toks.append(_Tok("string", t[p:q + 1], p))
                p = q + 1
                continue
            if c == "`":
                q = t.find("`", p + 1)
                if q < 0:
                    self.err("unterminated raw quoted string", p)
                self.toks.append(_Tok("rawstring", t[p:q + 1], p))
                p = q + 1
                continue
            if c == "'":
                q = p + 1
                while True:
                    if q >= n or t[q] == "\n":
                        self.err("unterminated character constant", p)
                    if t[q] == "\\":
                        q += 2
                        continue
                    if t[q] == "'":
                        break
                    q += 1
                self.toks.append(_Tok("char", t[p:q + 1], p))
                p = q + 1
                continue
            if c == "$":
                q = p + 1
                while q < n and (t[q].isalnum() or t[q] == "_"):
                    q += 1
                self.toks.append(_Tok("variable", t[p:q], p))
                p = self.after_term(q)
                continue
            if c == "." and not (p + 1 < n and t[p + 1].isdigit()):
                q = p + 1
                while q < n and (t[q].isalnum() or t[q] == "_"):
                    q += 1
                if q == p + 1:
                    self.toks.append(_Tok("dot", ".", p))
                    p = q
                else:
                    self.toks.append(_Tok("field", t[p:q], p))
                    p = self.after_term(q)
                continue
            if c in "+-0123456789." :
                m = _NUM_RE.match(t, p)
                if not m or m.end() == p or (m.group(0) in "+-"):
                    self.err(f"bad number syntax: {t[p:p + 1]!r}", p)
                q = m.end()
                if q < n and (t[q].isalnum() or t[q] == "_" or t[q] == "."):
                    self.err(f'bad number syntax: "{t[p:q + 1]}"', p)
                self.toks.append(_Tok("number", t[p:q], p))
                p = q
                continue
            if c.isalpha() or c == "_":
                q = p
                while q < n and (t[q].isalnum() or t[q] == "_"):
                    q += 1
                word = t[p:q]
                if word in _KEYWORDS:
                    self.toks.append(_Tok(word, word, p))
                elif word in ("true", "false"):
                    self.toks.append(_Tok("bool", word, p))
                else:
                    self.toks.append(_Tok("identifier", word, p))
                p = self.after_term(q)
                continue
            if c == "(":
                depth += 1
                if depth > 100:
                    self.err("too deeply nested parentheses", p)
                self.toks.append(_Tok("lparen", "(", p))
                p += 1
                continue
            if c == ")":
                depth -= 1
                if depth < 0:
                    self.err("unexpected right paren", p)
                self.toks.append(_Tok("rparen", ")", p))
                p = self.after_term(p + 1)
                continue
            if c == ",":
                self.toks.append(_Tok("char", ",", p))
                p += 1
                continue
            self.err(f"unrecognized character in action: {c!r}", p)

    def after_term(self, q: int) -> int:
        """A term must be followed by a terminator; ``.field`` continues a chain."""
        t = self.text
        n = len(t)
        while q < n and t[q] == ".":
            r = q + 1
            while r < n and (t[r].isalnum() or t[r] == "_"):
                r += 1
            if r == q + 1:
                self.err("unexpected . after term", q)
            self.toks.append(_Tok("field", t[q:r], q))
            q = r
        if q < n and not (t[q] in _SPACE or t[q] in ",|:)(=" or t.startswith(self.right, q)):
            self.err(f"bad character {t[q]!r}", q)
        return q


_NUM_RE = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+(?:\.(?:[0-9a-fA-F_])*)?(?:[pP][+-]?[0-9_]+)?"
    r"|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+"
    r"|(?:[0-9](?:_?[0-9])*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?)i?"
)


def _line_col(text: str, pos: int) -> tuple[int, int]:
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    return line, pos - start + 1


# ---------------------------------------------------------------------------
# AST


@dataclass
class _Node:
    pos: int
    end: int = 0


@dataclass
class _Text(_Node):
    text: str = ""


@dataclass
class _Field(_Node):
    ident: tuple = ()


@dataclass
class _Var(_Node):
    ident: tuple = ()  # ("$x", "a", "b")


@dataclass
class _Ident(_Node):
    name: str = ""


@dataclass
class _Dot(_Node):
    pass


@dataclass
class _Nil(_Node):
    pass


@dataclass
class _Const(_Node):
    value: Any = None
    text: str = ""
    is_num: bool = False
    num_int: int | None = None
    num_float: float | None = None


@dataclass
class _Chain(_Node):
    node: Any = None
    fields: tuple = ()


@dataclass
class _Cmd(_Node):
    args: list = field(default_factory=list)


@dataclass
class _Pipe(_Node):
    decl: list = field(default_factory=list)
    is_assign: bool = False
    cmds: list = field(default_factory=list)


@dataclass
class _Action(_Node):
    pipe: _Pipe | None = None


@dataclass
class _List(_Node):
    nodes: list = field(default_factory=list)


@dataclass
class _Control(_Node):
    kind: str = ""  # if, range, with
    pipe: _Pipe | None = None
    body: _List | None = None
    else_body: _List | None = None


@dataclass
class _TemplateCall(_Node):
    name: str = ""
    pipe: _Pipe | None = None


@dataclass
class _BreakNode(_Node):
    pass


@dataclass
class _ContinueNode(_Node):
    pass


@dataclass
class _End(_Node):
    pass


@dataclass
class _Else(_Node):
    pass


# ---------------------------------------------------------------------------
# parser


class _Parser:
    def __init__(self, text: str, name: str, toks: list[_Tok], funcs: Mapping, limits: Limits):
        self.text = text
        self.name = name
        self.toks = toks
        self.i = 0
        self.funcs = funcs
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.depth = 0
        self.limits = limits
        self.templates: dict[str, _List] = {}

    def err(self, msg: str, pos: int):
        line, col = _line_col(self.text, pos)
        raise TemplateError(msg, line, col, kind="parse", name=self.name)

    def next(self) -> _Tok:
        t = self.toks[self.i]
        if self.i < len(self.toks) - 1:
            self.i += 1
        return t

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def backup(self, n: int = 1):
        self.i -= n

    def next_ns(self) -> _Tok:
        t = self.next()
        while t.typ == "space":
            t = self.next()
        return t

    def peek_ns(self) -> _Tok:
        j = self.i
        while self.toks[j].typ == "space":
            j += 1
        return self.toks[j]

    def parse(self) -> _List:
        root = _List(0)
        while True:
            t = self.peek()
            if t.typ == "eof":
                break
            if t.typ == "left":
                self.next()
                if self.peek_ns().typ == "define":
                    self.next_ns()
                    self.definition(t.pos)
                    continue
                self.backup()
            n = self.text_or_action()
            if isinstance(n, (_End, _Else)):
                self.err(f"unexpected {{{{{'end' if isinstance(n, _End) else 'else'}}}}}", n.pos)
            root.nodes.append(n)
        self.templates.setdefault(self.name, root)
        if self.templates[self.name] is not root:
            self.templates[self.name] = root
        return root

    def definition(self, pos: int):
        t = self.next_ns()
        if t.typ not in ("string", "rawstring"):
            self.err(f"unexpected {self.desc(t)} in define clause", t.pos)
        name = _unquote(t.val, self, t.pos)
        if self.next_ns().typ != "right":
            self.err("unexpected token in define clause", t.pos)
        saved = self.vars
        self.vars = ["$"]
        body, end = self.item_list()
        self.vars = saved
        if not isinstance(end, _End):
            self.err("unexpected {{else}} in define clause", end.pos)
        self.templates[name] = body

    def item_list(self) -> tuple[_List, _Node]:
        lst = _List(self.peek().pos)
        while self.peek_ns().typ != "eof" or self.peek().typ != "eof":
            if self.peek().typ == "eof":
                break
            n = self.text_or_action()
            if isinstance(n, (_End, _Else)):
                return lst, n
            lst.nodes.append(n)
        self.err("unexpected EOF", len(self.text))

    def text_or_action(self) -> _Node:
        t = self.next()
        if t.typ == "text":
            return _Text(t.pos, t.pos + len(t.val), t.val)
        if t.typ == "left":
            self.depth += 1
            if self.depth > self.limits.nesting:
                self.err("actions nested too deeply", t.pos)
            try:
                return self.action(t.pos)
            finally:
                self.depth -= 1
        if t.typ == "space":
            return self.text_or_action()
        self.err(f"unexpected {self.desc(t)}", t.pos)

    def desc(self, t: _Tok) -> str:
        if t.typ == "eof":
            return "EOF"
        if t.typ == "right":
            return "right delimiter"
        return f"<{t.val}>" if t.typ in _KEYWORDS else f"{t.val!r}" if t.val else t.typ

    def action(self, pos: int) -> _Node:
        t = self.next_ns()
        k = t.typ
        if k == "block":
            return self.block(pos)
        if k in ("break", "continue"):
            if self.range_depth == 0:
                self.err(f"{{{{{k}}}}} outside {{{{range}}}}", t.pos)
            if self.next_ns().typ != "right":
                self.err(f"unexpected token in {{{{{k}}}}}", t.pos)
            return (_BreakNode if k == "break" else _ContinueNode)(pos, t.pos)
        if k == "else":
            return self.else_(pos)
        if k == "end":
            if self.next_ns().typ != "right":
                self.err("unexpected token in end", t.pos)
            return _End(pos)
        if k in ("if", "range", "with"):
            return self.control(k, pos)
        if k == "template":
            return self.template_call(pos)
        if k == "define":
            self.err("unexpected <define> in command", t.pos)
        self.backup()
        while self.toks[self.i - 1].typ == "space" and self.toks[self.i - 1].pos >= pos:
            self.backup()
        pipe = self.pipeline("command", "right")
        return _Action(pos, self.toks[self.i - 1].pos, pipe)

    def else_(self, pos: int) -> _Node:
        nt = self.peek_ns()
        if nt.typ in ("if", "with"):
            # "{{else if ...}}" is "{{else}}{{if ...}}...{{end}}" (Go 1.23 adds "else with")
            n = _Else(pos)
            n.chain = nt.typ  # type: ignore[attr-defined]
            return n
        if self.next_ns().typ != "right":
            self.err("unexpected token in else", pos)
        return _Else(pos)

    def control(self, kind: str, pos: int) -> _Control:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(kind, "right")
            if kind == "range":
                self.range_depth += 1
            body, nxt = self.item_list()
            if kind == "range":
                self.range_depth -= 1
            else_body = None
            if isinstance(nxt, _Else):
                chain = getattr(nxt, "chain", None)
                if chain and chain == kind and kind in ("if", "with"):
                    self.next_ns()  # the "if"/"with" keyword
                    inner = self.control(kind, nxt.pos)
                    else_body = _List(nxt.pos, nodes=[inner])
                    # the chained control consumed the shared {{end}}
                    return _Control(pos, inner.end, kind, pipe, body, else_body)
                if chain:
                    self.err(f"unexpected <{chain}> in else", nxt.pos)
                else_body, nxt = self.item_list()
                if not isinstance(nxt, _End):
                    self.err("expected end; found {{else}}", nxt.pos)
            return _Control(pos, nxt.pos, kind, pipe, body, else_body)
        finally:
            del self.vars[mark:]

    def template_call(self, pos: int) -> _TemplateCall:
        t = self.next_ns()
        if t.typ not in ("string", "rawstring"):
            self.err(f"unexpected {self.desc(t)} in template clause", t.pos)
        name = _unquote(t.val, self, t.pos)
        pipe = None
        if self.peek_ns().typ != "right":
            pipe = self.pipeline("template clause", "right")
        else:
            self.next_ns()
        return _TemplateCall(pos, t.pos, name, pipe)

    def block(self, pos: int) -> _TemplateCall:
        t = self.next_ns()
        if t.typ not in ("string", "rawstring"):
            self.err(f"unexpected {self.desc(t)} in block clause", t.pos)
        name = _unquote(t.val, self, t.pos)
        pipe = None
        if self.peek_ns().typ != "right":
            pipe = self.pipeline("block clause", "right")
        else:
            self.next_ns()
        saved = self.vars
        self.vars = ["$"]
        body, end = self.item_list()
        self.vars = saved
        if not isinstance(end, _End):
            self.err("unexpected {{else}} in block clause", end.pos)
        self.templates[name] = body
        return _TemplateCall(pos, t.pos, name, pipe)

    def pipeline(self, context: str, end: str) -> _Pipe:
        start = self.peek_ns().pos
        pipe = _Pipe(start)
        t = self.peek_ns()
        if t.typ == "variable":
            j = self.i
            self.next_ns()
            nt = self.peek_ns()
            if nt.typ in ("assign", "declare"):
                self.next_ns()
                pipe.is_assign = nt.typ == "assign"
                pipe.decl.append(_Var(t.pos, t.pos + len(t.val), (t.val,)))
                if pipe.is_assign and t.val not in self.vars:
                    self.err(f"undefined variable {t.val!r}", t.pos)
                self.vars.append(t.val)
            elif nt.typ == "char" and nt.val == ",":
                self.next_ns()
                pipe.decl.append(_Var(t.pos, t.pos + len(t.val), (t.val,)))
                self.vars.append(t.val)
                if context == "range" and len(pipe.decl) < 2:
                    v2 = self.peek_ns()
                    if v2.typ == "variable":
                        self.next_ns()
                        op = self.next_ns()
                        if op.typ not in ("assign", "declare"):
                            self.err("range can only initialize variables", op.pos)
                        pipe.is_assign = op.typ == "assign"
                        pipe.decl.append(_Var(v2.pos, v2.pos + len(v2.val), (v2.val,)))
                        self.vars.append(v2.val)
                    else:
                        self.err("range can only initialize variables", v2.pos)
                else:
                    self.err(f"too many declarations in {context}", nt.pos)
            else:
                self.i = j
        while True:
            t = self.next_ns()
            if t.typ == end:
                if not pipe.cmds:
                    self.err(f"missing value for {context}", t.pos)
                for k, c in enumerate(pipe.cmds[1:], 1):
                    a0 = c.args[0]
                    if isinstance(a0, (_Const, _Dot, _Nil)):
                        self.err(f"non executable command in pipeline stage {k + 1}", a0.pos)
                pipe.end = t.pos
                return pipe
            if t.typ in ("bool", "char", "dot", "field", "identifier", "number", "nil", "rawstring",
                         "string", "variable", "lparen"):
                self.backup()
                pipe.cmds.append(self.command())
                continue
            if t.typ == "eof":
                self.err("unclosed action", t.pos)
            self.err(f"unexpected {self.desc(t)} in {context}", t.pos)

    def command(self) -> _Cmd:
        cmd = _Cmd(self.peek_ns().pos)
        while True:
            self.peek_ns()
            op = self.operand()
            if op is not None:
                cmd.args.append(op)
            t = self.next()
            if t.typ == "space":
                continue
            if t.typ in ("right", "rparen"):
                self.backup()
            elif t.typ == "pipe":
                pass
            else:
                self.err(f"unexpected {self.desc(t)} in operand", t.pos)
            break
        if not cmd.args:
            self.err("empty command", cmd.pos)
        cmd.end = cmd.args[-1].end
        return cmd

    def operand(self):
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == "field":
            fields = []
            last = None
            while self.peek().typ == "field":
                last = self.next()
                fields.append(last.val[1:])
            end = last.pos + len(last.val)
            if isinstance(node, _Field):
                return _Field(node.pos, end, node.ident + tuple(fields))
            if isinstance(node, _Var):
                return _Var(node.pos, end, node.ident + tuple(fields))
            if isinstance(node, (_Const, _Nil, _Dot)):
                self.err(f"unexpected . after term {self.text[node.pos:node.end]!r}", node.end)
            return _Chain(node.pos, end, node, tuple(fields))
        return node

    def term(self):
        t = self.next_ns()
        k = t.typ
        end = t.pos + len(t.val)
        if k == "identifier":
            if t.val not in self.funcs and t.val not in BUILTINS:
                self.err(f'function "{t.val}" not defined', t.pos)
            return _Ident(t.pos, end, t.val)
        if k == "dot":
            return _Dot(t.pos, end)
        if k == "nil":
            return _Nil(t.pos, end)
        if k == "variable":
            if t.val not in self.vars:
                self.err(f'undefined variable "{t.val}"', t.pos)
            return _Var(t.pos, end, (t.val,))
        if k == "field":
            return _Field(t.pos, end, (t.val[1:],))
        if k == "bool":
            return _Const(t.pos, end, t.val == "true", t.val)
        if k in ("char", "number"):
            return _number(t, self)
        if k == "lparen":
            self.depth += 1
            if self.depth > self.limits.nesting:
                self.err("parentheses nested too deeply", t.pos)
            try:
                pipe = self.pipeline("parenthesized pipeline", "rparen")
            finally:
                self.depth -= 1
            pipe.pos = t.pos
            pipe.end = self.toks[self.i - 1].pos + 1
            return pipe
        if k in ("string", "rawstring"):
            return _Const(t.pos, end, _unquote(t.val, self, t.pos), t.val)
        self.backup()
        return None


_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
        "'": "'", '"': '"'}


def _unquote(s: str, p: _Parser, pos: int) -> str:
    if s.startswith("`"):
        return s[1:-1].replace("\r", "")
    q = s[0]
    body = s[1:-1]
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            if c == q:
                p.err("invalid syntax", pos)
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(body):
            p.err("invalid syntax", pos)
        e = body[i + 1]
        if e in _ESC and (e != "'" or q == "'") and (e != '"' or q == '"'):
            out.append(_ESC[e])
            i += 2
        elif e in "01234567":
            oct_ = body[i + 1:i + 4]
            if not re.fullmatch(r"[0-7]{3}", oct_) or int(oct_, 8) > 255:
                p.err("invalid syntax", pos)
            out.append(chr(int(oct_, 8)))
            i += 4
        elif e in "xuU":
            ln = {"x": 2, "u": 4, "U": 8}[e]
            hx = body[i + 2:i + 2 + ln]
            if not re.fullmatch(r"[0-9a-fA-F]{%d}" % ln, hx):
                p.err("invalid syntax", pos)
            cp = int(hx, 16)
            if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                p.err("invalid syntax", pos)
            out.append(chr(cp))
            i += 2 + ln
        else:
            p.err("invalid syntax", pos)
    r = "".join(out)
    if q == "'" and len(r) != 1:
        p.err(f"malformed character constant: {s}", pos)
    return r


def _number(t: _Tok, p: _Parser) -> _Const:
    end = t.pos + len(t.val)
    if t.typ == "char":
        ch = _unquote(t.val, p, t.pos)
        if len(ch) != 1:
            p.err(f"malformed character constant: {t.val}", t.pos)
        return _Const(t.pos, end, ord(ch), t.val, True, ord(ch), float(ord(ch)))
    s = t.val
    if s.endswith("i"):
        p.err(f"complex constants are not supported: {s}", t.pos)
    clean = s.replace("_", "")
    ival = fval = None
    try:
        ival = int(clean, 0)
    except ValueError:
        try:
            if len(clean.lstrip("+-")) > 1 and clean.lstrip("+-")[0] == "0" and clean.lstrip("+-")[1:].isdigit():
                ival = int(clean, 8)
        except ValueError:
            ival = None
    try:
        if re.match(r"[+-]?0[xX]", clean) and ("p" in clean or "P" in clean):
            fval = float.fromhex(clean)
        elif ival is None:
            fval = float(clean)
        else:
            fval = float(ival)
    except (ValueError, OverflowError):
        fval = None
    if ival is None and fval is None:
        p.err(f"illegal number syntax: {s!r}", t.pos)
    if ival is None and fval is not None and math.isfinite(fval) and fval == int(fval) and abs(fval) < 2 ** 63:
        ival = int(fval)
    is_float_text = bool(re.search(r"[.eEpP]", clean)) and not re.match(r"[+-]?0[xX][0-9a-fA-F_]*$", clean)
    value = fval if is_float_text else (ival if ival is not None else fval)
    if _is_int(value) and not (-(1 << 63) <= value < (1 << 63)):
        p.err(f"{s} overflows int", t.pos)
    return _Const(t.pos, end, value, s, True, ival, fval)


# ---------------------------------------------------------------------------
# executor


class Template:
    """A parsed template (and the ones it defines)."""

    def __init__(self, text: str, *, name: str = "template", delims: tuple[str, str] = ("{{", "}}"),
                 funcs: Mapping[str, GoFunc] | None = None, missingkey: str = "default",
                 limits: Limits = Limits()):
        if missingkey not in ("default", "invalid", "zero", "error"):
            raise ValueError(f"unrecognized missingkey option {missingkey!r}")
        self.text = text
        self.name = name
        self.funcs = dict(funcs or {})
        self.missingkey = missingkey
        self.limits = limits
        if len(text) > limits.text:
            raise TemplateError(f"template text too large ({len(text)} characters)", 1, 1, kind="limit", name=name)
        toks = _Lexer(text, delims[0], delims[1], name).run()
        parser = _Parser(text, name, toks, self.funcs, limits)
        parser.parse()
        self.templates = parser.templates

    def execute(self, data: Any = NOVALUE, *, trace: list | None = None) -> str:
        """Execute with ``data`` as ``.`` and ``$`` (``NOVALUE``/``None``: Go's nil data).

        ``trace``, when given, receives ``(output_offset, template_offset, is_text)``
        triples: the output from ``output_offset`` on was produced by the template text
        at ``template_offset`` (copied one to one when ``is_text``, else by the action
        there). :func:`source_offset` reads it."""
        st = _State(self, trace)
        root = data if data is not None else NOVALUE
        st.vars = [("$", root)]
        try:
            st.walk_list(root, self.templates[self.name])
        except _Limit as e:
            raise TemplateError(str(e), *st.where(), kind="limit", name=self.name, context=st.context()) from None
        except _Unsupported as e:
            raise TemplateError(str(e), *st.where(), kind="unsupported", name=self.name, context=st.context()) from None
        except RecursionError:
            raise TemplateError("template too deeply nested", *st.where(), kind="limit", name=self.name) from None
        except TemplateError as e:
            if not e.line:
                e.line, e.column = st.where()
            if not e.name:
                e.name = self.name
            if not e.context and e.kind == "exec":
                e.context = st.context()
            raise
        return "".join(st.out)


class _State:
    def __init__(self, tmpl: Template, trace):
        self.t = tmpl
        self.out: list[str] = []
        self.size = 0
        self.steps = 0
        self.depth = 0
        self.vars: list[tuple[str, Any]] = []
        self.node: _Node | None = None
        self.trace = trace
        self.ctx = _Ctx(tmpl.limits)

    # -- bookkeeping
    def at(self, node: _Node):
        self.node = node

    def where(self) -> tuple[int, int]:
        if self.node is None:
            return 1, 1
        return _line_col(self.t.text, self.node.pos)

    def context(self) -> str:
        if self.node is None:
            return ""
        n = self.node
        s = self.t.text[n.pos:max(n.end, n.pos)].strip() if n.end > n.pos else ""
        if isinstance(n, (_Field, _Var, _Chain, _Ident, _Cmd, _Pipe, _Const, _Dot)):
            s = self.t.text[n.pos:n.end]
        if len(s) > 40:
            s = s[:40] + "..."
        return s

    def err(self, msg: str, node: _Node | None = None):
        if node is not None:
            self.node = node
        line, col = self.where()
        raise TemplateError(msg, line, col, kind="exec", name=self.t.name, context=self.context())

    def step(self):
        self.steps += 1
        if self.steps > self.t.limits.steps:
            raise _Limit(f"template does too much work (more than {self.t.limits.steps} steps)")

    def write(self, s: str, src: int, is_text: bool = False):
        if not s:
            return
        self.size += len(s)
        if self.size > self.t.limits.output:
            raise _Limit(f"template output too large (more than {self.t.limits.output} characters)")
        if self.trace is not None:
            self.trace.append((self.size - len(s), src, is_text))
        self.out.append(s)

    # -- variables
    def push(self, name, value):
        self.vars.append((name, value))

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int):
        del self.vars[mark:]

    def set_var(self, name, value):
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        self.err(f"undefined variable: {name}")

    def set_top(self, n: int, value):
        name = self.vars[-n][0]
        self.vars[-n] = (name, value)

    def var_value(self, name):
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        self.err(f"undefined variable: {name}")

    # -- walking
    def walk_list(self, dot, lst: _List):
        for n in lst.nodes:
            self.walk(dot, n)

    def walk(self, dot, node):
        self.step()
        self.at(node)
        if isinstance(node, _Text):
            self.write(node.text, node.pos, True)
        elif isinstance(node, _Action):
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.at(node)
                self.write(self.printable(val), node.pos)
        elif isinstance(node, _Control):
            if node.kind == "range":
                self.walk_range(dot, node)
            else:
                self.walk_if_with(dot, node)
        elif isinstance(node, _TemplateCall):
            self.walk_template(dot, node)
        elif isinstance(node, _BreakNode):
            raise _Break()
        elif isinstance(node, _ContinueNode):
            raise _Continue()
        elif isinstance(node, _List):
            self.walk_list(dot, node)
        else:  # pragma: no cover - the parser builds nothing else
            self.err(f"unknown node: {node!r}")

    def printable(self, v) -> str:
        if isinstance(v, GoFunc):
            self.err("can't print value of type func")
        return go_sprint(v, top=True)

    def walk_if_with(self, dot, node: _Control):
        mark = self.mark()
        try:
            val = self.eval_pipeline(dot, node.pipe)
            if is_true(val):
                self.walk_list(val if node.kind == "with" else dot, node.body)
            elif node.else_body is not None:
                self.walk_list(dot, node.else_body)
        finally:
            self.pop(mark)

    def walk_range(self, dot, node: _Control):
        mark = self.mark()
        try:
            val = self.eval_pipeline(dot, node.pipe)
            decl = node.pipe.decl

            def one(index, elem) -> bool:
                self.step()
                if decl:
                    if node.pipe.is_assign:
                        if len(decl) > 1:
                            self.set_var(decl[0].ident[0], index)
                            self.set_var(decl[1].ident[0], elem)
                        else:
                            self.set_var(decl[0].ident[0], elem)
                    else:
                        self.set_top(1, elem)
                        if len(decl) > 1:
                            self.set_top(2, index)
                m = self.mark()
                try:
                    self.walk_list(elem, node.body)
                except _Continue:
                    pass
                except _Break:
                    return False
                finally:
                    self.pop(m)
                return True

            ran = False
            if isinstance(val, list):
                for i, e in enumerate(list(val)):
                    ran = True
                    if not one(i, e):
                        break
            elif isinstance(val, dict):
                for k in sorted(val, key=_sort_key):
                    ran = True
                    if not one(k, val[k]):
                        break
            elif _is_int(val):
                if len(decl) > 1:
                    self.err(f"can't use {val} to iterate over more than one variable", node)
                if val > self.t.limits.steps:
                    raise _Limit(f"range over {val} is too long")
                for i in range(val):
                    ran = True
                    if not one(i, i):
                        break
            elif val is NOVALUE or val is None:
                pass
            else:
                self.err(f"range can't iterate over {go_sprint(val)}")
            if not ran and node.else_body is not None:
                self.walk_list(dot, node.else_body)
        finally:
            self.pop(mark)

    def walk_template(self, dot, node: _TemplateCall):
        body = self.t.templates.get(node.name)
        if body is None:
            self.err(f'template "{node.name}" not defined', node)
        if self.depth >= self.t.limits.depth:
            raise _Limit(f"exceeded maximum template depth ({self.t.limits.depth})")
        newdot = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else NOVALUE
        saved = self.vars
        self.vars = [("$", newdot)]
        self.depth += 1
        try:
            self.walk_list(newdot, body)
        finally:
            self.depth -= 1
            self.vars = saved

    # -- evaluation
    def eval_pipeline(self, dot, pipe: _Pipe):
        if pipe is None:
            return NOVALUE
        self.at(pipe)
        value = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if value is None:  # a nil interface{} digs down to an invalid value
                value = NOVALUE
        for v in pipe.decl:
            if pipe.is_assign:
                self.set_var(v.ident[0], value)
            else:
                self.push(v.ident[0], value)
        return value

    def not_a_function(self, args, final):
        if len(args) > 1 or final is not _MISSING:
            self.err(f"can't give argument to non-function {self.t.text[args[0].pos:args[0].end]}", args[0])

    def eval_command(self, dot, cmd: _Cmd, final):
        self.step()
        first = cmd.args[0]
        if isinstance(first, _Field):
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final, root=True)
        if isinstance(first, _Chain):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, _Ident):
            return self.eval_function(dot, first, cmd.args, final, cmd)
        if isinstance(first, _Pipe):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, _Var):
            return self.eval_variable(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, _Dot):
            return dot
        if isinstance(first, _Nil):
            self.err("nil is not a command", first)
        if isinstance(first, _Const):
            return first.value
        self.err(f"can't evaluate command {first!r}", first)  # pragma: no cover

    def eval_variable(self, dot, var: _Var, args, final):
        self.at(var)
        value = self.var_value(var.ident[0])
        if len(var.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, var, var.ident[1:], args, final)

    def eval_chain(self, dot, chain: _Chain, args, final):
        if isinstance(chain.node, _Nil):
            self.err(f"indirection through explicit nil in {self.t.text[chain.pos:chain.end]}", chain)
        recv = self.eval_arg(dot, "any", chain.node, raw=True)
        return self.eval_field_chain(dot, recv, chain, chain.fields, args, final)

    def eval_field_chain(self, dot, receiver, node, ident, args, final, root=False):
        n = len(ident)
        for i in range(n - 1):
            receiver = self.eval_field(ident[i], node, [], _MISSING, receiver)
        return self.eval_field(ident[n - 1], node, args, final, receiver)

    def eval_field(self, name, node, args, final, receiver):
        self.at(node)
        if receiver is NOVALUE:
            if self.t.missingkey == "error":
                self.err(f'nil data; no entry for key "{name}"', node)
            return NOVALUE
        if receiver is None:
            self.err(f"nil pointer evaluating interface {{}}.{name}", node)
        if isinstance(receiver, dict):
            if len(args) > 1 or final is not _MISSING:
                self.err(f"{name} is not a method but has arguments", node)
            if name in receiver:
                return receiver[name]
            mk = self.t.missingkey
            if mk == "error":
                self.err(f'map has no entry for key "{name}"', node)
            if mk == "zero":
                return None
            return NOVALUE
        self.err(f"can't evaluate field {name} in type {go_type(receiver)}", node)

    def eval_function(self, dot, ident: _Ident, args, final, cmd=None):
        self.at(ident)
        name = ident.name
        where = cmd if cmd is not None else ident
        if name in BUILTINS and name not in self.t.funcs:
            return self.eval_builtin(dot, where, name, args[1:], final)
        fn = self.t.funcs.get(name)
        if fn is None:
            self.err(f'"{name}" is not a defined function', ident)
        return self.call(dot, where, name, fn, args[1:], final)

    def arg_nodes_count(self, argnodes, final) -> int:
        return len(argnodes) + (0 if final is _MISSING else 1)

    def call(self, dot, ident, name, fn: GoFunc, argnodes, final):
        nin = self.arg_nodes_count(argnodes, final)
        np = len(fn.params)
        if fn.variadic is not None:
            if nin < np:
                self.err(f"wrong number of args for {name}: want at least {np} got {nin}", ident)
        elif nin != np:
            self.err(f"wrong number of args for {name}: want {np} got {nin}", ident)
        kinds = list(fn.params) + [fn.variadic] * max(0, nin - np)
        argv = []
        for i, a in enumerate(argnodes):
            argv.append(self.eval_arg(dot, kinds[i], a))
        if final is not _MISSING:
            self.at(ident)
            try:
                argv.append(_check_kind(kinds[-1], final, name))
            except TemplateError as e:
                self.err(e.message, ident)
        self.at(ident)
        try:
            if fn.wants_ctx:
                return fn.fn(*argv, ctx=self.ctx)
            return fn.fn(*argv)
        except _FuncError as e:
            self.err(f"error calling {name}: {e}", ident)
        except RecursionError:
            raise _Limit("value nested too deeply") from None

    def eval_arg(self, dot, kind, n, raw: bool = False):
        """Go's ``evalArg``: constants must match the parameter kind; values are checked."""
        self.at(n)
        self.step()
        if raw:
            if isinstance(n, _Ident):
                return self.eval_function(dot, n, [n], _MISSING)
            if isinstance(n, _Pipe):
                return self.eval_pipeline(dot, n)
            if isinstance(n, _Const):
                return n.value
            if isinstance(n, _Dot):
                return dot
        if isinstance(n, _Dot):
            return self.checked(kind, dot, n)
        if isinstance(n, _Nil):
            if kind in ("any", "map"):
                return None
            self.err(f"cannot assign nil to {_KIND_TYPES[kind]}", n)
        if isinstance(n, _Field):
            return self.checked(kind, self.eval_field_chain(dot, dot, n, n.ident, [n], _MISSING, root=True), n)
        if isinstance(n, _Var):
            return self.checked(kind, self.eval_variable(dot, n, [n], _MISSING), n)
        if isinstance(n, _Pipe):
            return self.checked(kind, self.eval_pipeline(dot, n), n)
        if isinstance(n, _Ident):
            return self.checked(kind, self.eval_function(dot, n, [n], _MISSING), n)
        if isinstance(n, _Chain):
            return self.checked(kind, self.eval_chain(dot, n, [n], _MISSING), n)
        assert isinstance(n, _Const)
        v = n.value
        if raw or kind == "any":
            return v
        if kind == "string":
            if isinstance(v, str) and not n.is_num and n.text[:1] in "\"`":
                return v
            self.err(f"expected string; found {n.text}", n)
        if kind == "int":
            if n.is_num and n.num_int is not None:
                return n.num_int
            self.err(f"expected integer; found {n.text}", n)
        if kind == "float":
            if n.is_num and n.num_float is not None:
                return n.num_float
            self.err(f"expected float; found {n.text}", n)
        if kind == "bool":
            if isinstance(v, bool):
                return v
            self.err(f"expected bool; found {n.text}", n)
        if kind == "map":
            self.err(f"can't handle {n.text} for arg of type map[string]interface {{}}", n)
        return v

    def checked(self, kind, v, node):
        if kind == "any":
            return None if v is NOVALUE else v
        try:
            return _check_kind(kind, v, "")
        except TemplateError as e:
            self.err(e.message, node)

    # -- builtins (text/template funcs.go)
    def eval_builtin(self, dot, ident, name, argnodes, final):
        def all_args(kind="any"):
            vals = [self.eval_arg(dot, kind, a) for a in argnodes]
            if final is not _MISSING:
                vals.append(None if final is NOVALUE else final)
            return vals

        nin = self.arg_nodes_count(argnodes, final)

        def want(n, at_least=False):
            if (nin < n) if at_least else (nin != n):
                self.err(f"wrong number of args for {name}: want {'at least ' if at_least else ''}{n} got {nin}", ident)

        if name in ("and", "or"):
            want(1, True)
            # short-circuit: arguments are evaluated only until the result is known
            val = None
            items = list(argnodes) + ([final] if final is not _MISSING else [])
            for k, a in enumerate(items):
                if k < len(argnodes):
                    val = self.eval_arg(dot, "any", a)
                else:
                    val = None if a is NOVALUE else a
                t = is_true(val)
                if (name == "and" and not t) or (name == "or" and t):
                    return val
            return val
        if name == "not":
            want(1)
            return not is_true(all_args()[0])
        if name == "len":
            want(1)
            v = all_args()[0]
            if isinstance(v, str):
                return len(v.encode("utf-8", "surrogatepass"))
            if isinstance(v, (list, dict)):
                return len(v)
            self.err(f"error calling len: len of {'nil pointer' if v is None else 'type ' + go_type(v)}", ident)
        if name == "index":
            want(1, True)
            vals = all_args()
            item = vals[0]
            if item is None:
                self.err("error calling index: index of untyped nil", ident)
            for idx in vals[1:]:
                if isinstance(item, dict):
                    if not isinstance(idx, str):
                        self.err(f"error calling index: value has type {go_type(idx)}; should be string", ident)
                    item = item.get(idx)
                elif isinstance(item, (list, str)):
                    if not _is_int(idx):
                        self.err(f"error calling index: cannot index slice/array with type {go_type(idx)}", ident)
                    seq = item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item
                    if idx < 0 or idx >= len(seq):
                        self.err(f"error calling index: index out of range: {idx}", ident)
                    item = seq[idx]
                elif item is None:
                    self.err("error calling index: index of nil pointer", ident)
                else:
                    self.err(f"error calling index: can't index item of type {go_type(item)}", ident)
            return item
        if name == "slice":
            want(1, True)
            vals = all_args()
            item, idx = vals[0], vals[1:]
            if len(idx) > 3:
                self.err(f"error calling slice: too many slice indexes: {len(idx)}", ident)
            if not isinstance(item, (list, str)):
                self.err(f"error calling slice: can't slice item of type {go_type(item)}", ident)
            if isinstance(item, str) and len(idx) == 3:
                self.err("error calling slice: cannot 3-index slice a string", ident)
            for x in idx:
                if not _is_int(x):
                    self.err(f"error calling slice: cannot index slice/array with type {go_type(x)}", ident)
            seq = item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item
            cap = len(seq)
            ix = list(idx) + [None] * (2 - len(idx))
            lo = ix[0] if ix[0] is not None else 0
            hi = ix[1] if ix[1] is not None else cap
            if lo < 0 or hi > cap or lo > hi:
                self.err(f"error calling slice: index out of range: {hi if hi > cap else lo}", ident)
            r = seq[lo:hi]
            return r.decode("utf-8", "replace") if isinstance(item, str) else list(r)
        if name == "print":
            return _go_sprint_args(all_args(), self.ctx)
        if name == "println":
            vals = all_args()
            return " ".join(go_sprint(v) for v in vals) + "\n"
        if name == "printf":
            want(1, True)
            vals = all_args()
            if not isinstance(vals[0], str):
                self.err(f"wrong type for value; expected string; got {go_type(vals[0])}", ident)
            return _go_printf(vals[0], vals[1:], self.ctx)
        if name in ("html", "js", "urlquery"):
            vals = all_args()
            s = vals[0] if len(vals) == 1 and isinstance(vals[0], str) else _go_sprint_args(vals, self.ctx)
            if name == "html":
                return (s.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;")
                        .replace(">", "&gt;").replace('"', "&#34;").replace("\0", "\ufffd"))
            if name == "js":
                return _js_escape(s)
            return _urlquote(s, safe="").replace("%20", "+") if s else ""
        if name in ("eq", "ne", "lt", "le", "gt", "ge"):
            vals = all_args()
            try:
                if name == "eq":
                    want(1, True)
                    if len(vals) < 2:
                        raise _FuncError("missing argument for comparison")
                    return any(_go_eq(vals[0], b) for b in vals[1:])
                want(2)
                a, b = vals
                if name == "ne":
                    return not _go_eq(a, b)
                if name == "lt":
                    return _go_lt(a, b)
                if name == "le":
                    return _go_lt(a, b) or _go_eq(a, b)
                if name == "gt":
                    return not (_go_lt(a, b) or _go_eq(a, b))
                return not _go_lt(a, b)
            except _FuncError as e:
                self.err(f"error calling {name}: {e}", ident)
        if name == "call":
            want(1, True)
            vals = all_args()
            if not isinstance(vals[0], GoFunc):
                self.err(f"error calling call: non-function {self.t.text[argnodes[0].pos:argnodes[0].end] if argnodes else ''} of type {go_type(vals[0])}", ident)
            self.err("error calling call: function values are not supported", ident)  # pragma: no cover
        self.err(f'"{name}" is not a defined function', ident)  # pragma: no cover


def _basic_kind(v) -> str:
    if v is None or v is NOVALUE:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if _is_int(v):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "other"


def _go_eq(a, b) -> bool:
    ka, kb = _basic_kind(a), _basic_kind(b)
    if ka != kb:
        if ka != "invalid" and kb != "invalid":
            raise _FuncError("incompatible types for comparison")
        return False
    if ka == "other":
        if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
            raise _FuncError(f"non-comparable type {go_sprint(a)}: {go_type(a)}")
        return a is b
    if ka == "invalid":
        return True
    return a == b


def _go_lt(a, b) -> bool:
    ka, kb = _basic_kind(a), _basic_kind(b)
    if ka in ("invalid", "other") or kb in ("invalid", "other"):
        raise _FuncError("invalid type for comparison")
    if ka != kb:
        raise _FuncError("incompatible types for comparison")
    if ka == "bool":
        raise _FuncError("invalid type for comparison")
    if ka == "string":
        return a.encode("utf-8", "surrogatepass") < b.encode("utf-8", "surrogatepass")
    return a < b


def _go_sprint_args(vals, ctx) -> str:
    """``fmt.Sprint``: a space between operands when neither is a string."""
    out = []
    for i, v in enumerate(vals):
        if i > 0 and not isinstance(v, str) and not isinstance(vals[i - 1], str):
            out.append(" ")
        out.append(go_sprint(v))
    r = "".join(out)
    ctx.size(len(r))
    return r


_PRINTF = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d+)?)?([a-zA-Z%])")


def _go_printf(fmt: str, args: list, ctx) -> str:
    """``fmt.Sprintf`` for the common verbs (%v %s %d %q %f %e %g %t %x %X %o %c %%)."""
    out = []
    ai = 0
    pos = 0
    for m in _PRINTF.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if width == "*":
            width = str(_to_int64(args[ai])) if ai < len(args) else "0"
            ai += 1
        if prec == "*":
            prec = str(_to_int64(args[ai])) if ai < len(args) else "0"
            ai += 1
        w = int(width) if width else 0
        p = int(prec) if prec is not None and prec != "" else (0 if m.group(0).find(".") >= 0 and prec in (None, "") and "." in m.group(0) else None)
        ctx.size(w + (p or 0))
        if ai >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        v = args[ai]
        ai += 1
        s = _fmt_one(v, verb, flags, p)
        if w and len(s) < w:
            if "-" in flags:
                s = s + " " * (w - len(s))
            elif "0" in flags and verb in "dfeEgGxXob" and isinstance(v, (int, float)) and not isinstance(v, bool):
                sign = s[0] if s[:1] in "+-" else ""
                s = sign + "0" * (w - len(s)) + s[len(sign):]
            else:
                s = " " * (w - len(s)) + s
        out.append(s)
    out.append(fmt[pos:])
    if ai < len(args):
        extra = ", ".join(f"{go_type(a)}={go_sprint(a)}" for a in args[ai:])
        out.append(f"%!(EXTRA {extra})")
    r = "".join(out)
    ctx.size(len(r))
    return r


def _fmt_one(v, verb, flags, prec) -> str:
    if verb == "v":
        return go_sprint(v)
    if verb == "T":
        return "<nil>" if v is None else go_type(v)
    if verb == "t":
        return ("true" if v else "false") if isinstance(v, bool) else f"%!t({go_type(v)}={go_sprint(v)})"
    if verb in "dboxXc" and _is_int(v):
        if verb == "d":
            s = str(v)
        elif verb == "b":
            s = format(v, "b")
        elif verb == "o":
            s = format(v, "o")
        elif verb == "x":
            s = format(v, "x")
        elif verb == "X":
            s = format(v, "X")
        else:
            try:
                return chr(v)
            except (ValueError, OverflowError):
                return "\ufffd"
        if "+" in flags and v >= 0:
            s = "+" + s
        return s
    if verb in "xX" and isinstance(v, str):
        h = v.encode("utf-8", "surrogatepass").hex()
        return h.upper() if verb == "X" else h
    if verb in "feEgG" and isinstance(v, (int, float)) and not isinstance(v, bool) and isinstance(v, float):
        if verb == "f":
            s = f"{v:.{6 if prec is None else prec}f}"
        elif verb in "eE":
            s = go_format_float(v, "e", 6 if prec is None else prec)
            s = s.upper() if verb == "E" else s
        else:
            s = go_format_float(v) if prec is None else f"{v:.{prec}g}"
        if "+" in flags and v >= 0:
            s = "+" + s
        return s
    if verb == "s" and not isinstance(v, (int, float)) or (verb == "s" and isinstance(v, bool)):
        s = go_sprint(v)
        return s[:prec] if prec is not None else s
    if verb == "q":
        if isinstance(v, str):
            return _quote_go(v)
        if _is_int(v):
            try:
                return "'" + _quote_go(chr(v))[1:-1].replace("\\\"", '"').replace("'", "\\'") + "'"
            except (ValueError, OverflowError):
                return "'\\ufffd'"
    return f"%!{verb}({go_type(v)}={go_sprint(v)})"


def _js_escape(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == '"':
            out.append("\\\"")
        elif ch == "<":
            out.append("\\u003C")
        elif ch == ">":
            out.append("\\u003E")
        elif ch == "&":
            out.append("\\u0026")
        elif ch == "=":
            out.append("\\u003D")
        elif o < 0x20:
            out.append(f"\\u{o:04X}")
        else:
            out.append(ch)
    return "".join(out)


# ---------------------------------------------------------------------------
# convenience


def source_offset(trace: list, out_offset: int) -> int:
    """The template offset that produced output offset ``out_offset`` (see ``execute``)."""
    import bisect
    if not trace:
        return 0
    i = bisect.bisect_right(trace, (out_offset, float("inf"), True)) - 1
    if i < 0:
        return trace[0][1]
    o, src, is_text = trace[i]
    return src + (out_offset - o) if is_text else src


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (code points) of ``offset`` in ``text``."""
    return _line_col(text, offset)


def parse(text: str, **kw) -> Template:
    """Parse ``text`` (keyword arguments as :class:`Template`)."""
    return Template(text, **kw)


def render(text: str, data: Any = NOVALUE, **kw) -> str:
    """Parse and execute in one call."""
    return Template(text, **kw).execute(data)
