"""go-yaml v2 (``gopkg.in/yaml.v2``, vendored by ``sigs.k8s.io/yaml``): how it types a
plain scalar and how it writes a string, for the two places that need it, Go templates'
``toYaml`` and the YAML round trip of Flux post-build substitution.

- :func:`resolve_tag` / :func:`resolve_plain`: resolve.go ``resolve("", s)``, YAML 1.1
  words (``yes``/``on``/``~`` ...), base-0 integers, YAML-style floats, timestamps; the
  value is what decoding into ``interface{}`` gives (timestamps and ``<<`` stay strings).
- :func:`can_use_plain`: encode.go ``stringv``: may a string be written without quotes.
- :func:`analyze_scalar`: emitterc.go ``yaml_emitter_analyze_scalar``.
- :func:`scalar_style`: the style the emitter ends up with for a string in block
  context, as a value or as a (simple) key (``stringv`` then
  ``yaml_emitter_select_scalar_style``).
- :func:`double_quoted`, :func:`single_quoted`: the quoted forms
  (``yaml_emitter_write_double_quoted_scalar``, ``..._single_quoted_scalar``), without
  the line folding the emitter does past its width.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any, NamedTuple

__all__ = [
    "resolve_tag", "resolve_plain", "is_base60_float", "can_use_plain", "printable",
    "ScalarAnalysis", "analyze_scalar", "scalar_style", "double_quoted", "single_quoted",
    "BREAKS",
]

# -- resolve.go ---------------------------------------------------------------------

_WORDS: dict[str, tuple[str, Any]] = {}
for _tag, _v, _ws in (("bool", True, "y Y yes Yes YES true True TRUE on On ON"),
                      ("bool", False, "n N no No NO false False FALSE off Off OFF"),
                      ("null", None, "~ null Null NULL"),
                      ("float", math.nan, ".nan .NaN .NAN"),
                      ("float", math.inf, ".inf .Inf .INF +.inf +.Inf +.INF"),
                      ("float", -math.inf, "-.inf -.Inf -.INF"),
                      ("merge", "<<", "<<")):
    for _w in _ws.split():
        _WORDS[_w] = (_tag, _v)
_WORDS[""] = ("null", None)
del _tag, _v, _ws, _w

_HINTED = frozenset("+-0123456789yYnNtTfFoO~.")  # resolveTable: the first bytes worth a look
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")  # yamlStyleFloat
_BASE0 = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?\Z")
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")


def _base0(s: str) -> tuple[str, int] | None:
    """strconv.ParseInt(s, 0, 64), else ParseUint(s, 0, 64) (which takes no sign)."""
    m = _BASE0.match(s)
    if not m:
        return None
    sign, body = m.groups()
    p = body[:2].lower()
    if p == "0x":
        n = int(body[2:], 16)
    elif p == "0o":
        n = int(body[2:], 8)
    elif p == "0b":
        n = int(body[2:], 2)
    elif len(body) > 1 and body[0] == "0":
        n = int(body[1:], 8)
    else:
        n = int(body)
    if sign == "-":
        n = -n
    if -(1 << 63) <= n < (1 << 63) or (not sign and n < (1 << 64)):
        return ("int", n)
    return None


def _go_float(s: str) -> float | None:
    """strconv.ParseFloat(s, 64) for a YAML-style float: None where Go reports an error
    (out of range: Go gives ±Inf with ErrRange)."""
    f = float(s)
    return None if math.isinf(f) else f


def resolve_tag(s: str) -> tuple[str, Any]:
    """resolve.go ``resolve("", s)`` for a plain scalar: ``(tag, value)``, the tag one of
    ``str``, ``null``, ``bool``, ``int``, ``float``, ``timestamp``, ``merge``. A timestamp's
    value is the text (go-yaml v2 keeps it so for ``interface{}``)."""
    if s in _WORDS:
        return _WORDS[s]
    if s[0] not in _HINTED:
        return ("str", s)
    c = s[0]
    if c == ".":
        # hint '.': ParseFloat on the text as it is (underscores not removed)
        if _YAML_FLOAT.match(s):
            f = _go_float(s)
            if f is not None:
                return ("float", f)
        return ("str", s)
    if c in "+-0123456789":
        if _TIMESTAMP.match(s):  # parseTimestamp (the formats' shape; dates not checked)
            return ("timestamp", s)
        plain = s.replace("_", "")
        i = _base0(plain)
        if i is not None:
            return i
        if _YAML_FLOAT.match(plain):
            f = _go_float(plain)
            if f is not None:
                return ("float", f)
    return ("str", s)


def resolve_plain(s: str) -> Any:
    """A plain scalar as go-yaml v2 decodes it into ``interface{}``: None, bool, int,
    float, or the text itself (strings, timestamps, ``<<``)."""
    tag, v = resolve_tag(s)
    return s if tag in ("timestamp", "merge") else v


def is_base60_float(s: str) -> bool:
    """encode.go ``isBase60Float``: YAML 1.1 sexagesimal (``1:20``), quoted on output."""
    return bool(s) and ":" in s and bool(_BASE60.match(s))


def can_use_plain(s: str) -> bool:
    """encode.go ``stringv``: the string reads back as itself when written plain (it
    resolves as ``!!str`` and is no base-60 float)."""
    return resolve_tag(s)[0] == "str" and not is_base60_float(s)


# -- emitterc.go --------------------------------------------------------------------

BREAKS = frozenset("\r\n\x85\u2028\u2029")  # is_break
_BLANK = frozenset(" \t")  # is_blank
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")


def printable(c: str) -> bool:
    """yamlprivateh.go ``is_printable`` (on the character's UTF-8 bytes): LF, ASCII
    printables, U+00A0..U+D7FF, U+E000..U+FFFD but U+FEFF; not U+0085, not beyond the
    BMP."""
    o = ord(c)
    return (o == 0x0A or 0x20 <= o <= 0x7E or 0xA0 <= o <= 0xD7FF
            or (0xE000 <= o <= 0xFFFD and o != 0xFEFF))


class ScalarAnalysis(NamedTuple):
    """``emitter.scalar_data`` after ``yaml_emitter_analyze_scalar``."""
    multiline: bool
    flow_plain: bool
    block_plain: bool
    single: bool
    block: bool


def analyze_scalar(s: str) -> ScalarAnalysis:
    """emitterc.go ``yaml_emitter_analyze_scalar`` (the emitter in unicode mode)."""
    if not s:
        return ScalarAnalysis(False, False, True, True, False)
    block_ind = flow_ind = line_breaks = special = False
    leading_space = leading_break = trailing_space = trailing_break = False
    break_space = space_break = prev_space = prev_break = False
    if s.startswith(("---", "...")):
        block_ind = flow_ind = True
    preceded_ws = True
    n = len(s)
    for i, c in enumerate(s):
        followed_ws = i + 1 >= n or s[i + 1] in _BLANK
        if i == 0:
            if c in _FIRST_INDICATORS:
                flow_ind = block_ind = True
            elif c in "?:":
                flow_ind = True
                if followed_ws:
                    block_ind = True
            elif c == "-" and followed_ws:
                flow_ind = block_ind = True
        else:
            if c in ",?[]{}":
                flow_ind = True
            elif c == ":":
                flow_ind = True
                if followed_ws:
                    block_ind = True
            elif c == "#" and preceded_ws:
                flow_ind = block_ind = True
        if not printable(c):
            special = True
        if c == " ":
            if i == 0:
                leading_space = True
            if i == n - 1:
                trailing_space = True
            if prev_break:
                break_space = True
            prev_space, prev_break = True, False
        elif c in BREAKS:
            line_breaks = True
            if i == 0:
                leading_break = True
            if i == n - 1:
                trailing_break = True
            if prev_space:
                space_break = True
            prev_space, prev_break = False, True
        else:
            prev_space = prev_break = False
        preceded_ws = c in _BLANK or c in BREAKS or c == "\0"  # is_blankz
    flow_plain = block_plain = single = block = True
    if leading_space or leading_break or trailing_space or trailing_break:
        flow_plain = block_plain = False
    if trailing_space:
        block = False
    if break_space:
        flow_plain = block_plain = single = False
    if space_break or special:
        flow_plain = block_plain = single = block = False
    if line_breaks:
        flow_plain = block_plain = False
    if flow_ind:
        flow_plain = False
    if block_ind:
        block_plain = False
    return ScalarAnalysis(line_breaks, flow_plain, block_plain, single, block)


#: a string go-yaml writes plain whatever its place: letters, digits and `_$./=+~` first, then
#: those and `{}@%-`, no space, no indicator, at most 128 characters (a simple key's limit);
#: with `${` it resolves as a string (never a number, boolean or null)
_SIMPLE_PLAIN = re.compile(r"[A-Za-z0-9_$/=+~][A-Za-z0-9_${}./=+@%~-]{0,127}\Z")


@lru_cache(maxsize=1 << 14)
def scalar_style(s: str, key: bool = False) -> str:
    """``plain``, ``single``, ``double`` or ``literal``: how go-yaml v2 writes the string
    ``s`` in block context, as a value or (``key``) as a simple mapping key.

    encode.go ``stringv`` asks for literal when ``s`` has a newline, else plain when
    :func:`can_use_plain`, else double quotes; ``yaml_emitter_select_scalar_style`` then
    falls back plain -> single -> double, literal -> double, and a multi-line simple
    key is double-quoted."""
    if "${" in s and _SIMPLE_PLAIN.match(s):
        return "plain"  # the common case of substitution (`${APP}-db`): no character to look at
    a = analyze_scalar(s)
    if "\n" in s:
        style = "literal"
    elif can_use_plain(s):
        style = "plain"
    else:
        style = "double"
    if key and a.multiline:
        style = "double"
    if style == "plain" and not a.block_plain:
        style = "single"
    if style == "single" and not a.single:
        style = "double"
    if style == "literal" and (not a.block or key):
        style = "double"
    return style


_DQ_ESCAPES = {"\0": "\\0", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v",
               "\f": "\\f", "\r": "\\r", "\x1b": "\\e", '"': '\\"', "\\": "\\\\", "\x85": "\\N",
               "\u2028": "\\L", "\u2029": "\\P"}


def double_quoted(s: str) -> str:
    """``s`` double-quoted as ``yaml_emitter_write_double_quoted_scalar`` writes it:
    escaped are the characters that are not printable, the BOM, line breaks, ``"`` and
    ``\\`` (short escapes where YAML has one, else ``\\xXX``/``\\uXXXX``/``\\UXXXXXXXX``)."""
    out = ['"']
    for c in s:
        e = _DQ_ESCAPES.get(c)
        if e is None and not printable(c):
            o = ord(c)
            e = f"\\x{o:02X}" if o <= 0xFF else (f"\\u{o:04X}" if o <= 0xFFFF else f"\\U{o:08X}")
        out.append(c if e is None else e)
    out.append('"')
    return "".join(out)


def single_quoted(s: str) -> str:
    """``s`` single-quoted (``'`` doubled)."""
    return "'" + s.replace("'", "''") + "'"
