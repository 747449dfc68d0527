"""A validator over compiled schema nodes that yields every error with its path.

Semantics follow the Kubernetes API server's structural validation rather than plain
JSON Schema where the two differ:

* ``null`` for a field that is not nullable is dropped (pruned), as the API server does
  before defaulting and validation; a required field that is null is reported missing.
* Unknown fields are errors where the schema is structural (``additionalProperties:
  false``), allowed under ``x-kubernetes-preserve-unknown-fields``.
* A value that holds an unresolved Flux post-build placeholder (``${VAR}``) or a SOPS
  ciphertext (``ENC[...]``) is opaque: its type, pattern, enum and format are not judged.
  A placeholder that resolves is substituted first; the result is read as YAML when the
  field is not a string (``replicas: ${REPLICAS}`` with ``REPLICAS=3`` is an integer).
* Partial documents (kustomize patches) are not checked for required fields nor CEL rules.
* ``x-kubernetes-validations`` (CEL) rules are evaluated on an object only when nothing
  below it is already wrong (one defect, one finding).
"""

from __future__ import annotations

import base64
import binascii
import difflib
import math
import re
from typing import Any, Callable, NamedTuple

from ..model import json_path
from .nodes import MISSING, Node, enum_key, type_tag
from .values import OPAQUE, is_go_duration, retype

UNKNOWN = "unknown"
TYPE = "type"
REQUIRED = "required"
VALUE = "value"
CEL = "cel"

AT_KEY = "key"  # the key of the last path step
AT_VALUE = "value"  # the value at the path
AT_PARENT = "parent"  # the key of the mapping that holds the last path step (a missing field)


#: ``Err.detail`` of an enum violation (a value a newer or older release may allow)
ENUM = "enum"


class Err(NamedTuple):
    kind: str
    path: tuple
    message: str
    hint: str = ""
    at: str = AT_VALUE
    detail: str = ""  # a finer family than ``kind`` (``ENUM``)



_FLUX_DURATION_HINT = "Write a Go duration: numbers with the units ms, s, m or h, e.g. `30s`, `10m`, `1h30m`."
_FLUX_TIMEOUT_HINT = "Write a Go duration with the units ms, s or m (no hours here), e.g. `60s`, `5m`."
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_INTS = {"int32": (-(2 ** 31), 2 ** 31 - 1), "int64": (-(2 ** 63), 2 ** 63 - 1)}
_YAML11_BOOLS = frozenset(("yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO", "ON", "OFF"))
_BOOL_WORDS = frozenset(("true", "false", "True", "False", "TRUE", "FALSE"))
_NUM_RE = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def describe(v: Any) -> str:
    t = type_tag(v)
    if t == "string":
        s = v if len(v) <= 60 else v[:57] + "..."
        return f"the string `\"{s}\"`" if "`" not in s else "a string"
    if t == "boolean":
        return f"the boolean `{'true' if v else 'false'}`"
    if t == "integer":
        return f"the integer `{v}`"
    if t == "number":
        return f"the number `{v}`"
    if t == "null":
        return "null"
    if t == "object":
        return "a mapping"
    return "a list"


_ARTICLE = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
            "number": "a number", "boolean": "a boolean", "null": "null"}


def expected(types: frozenset) -> str:
    names = [_ARTICLE[t] for t in ("object", "array", "string", "integer", "number", "boolean") if t in types]
    if not names:
        return "null"
    return " or ".join(names)


def suggest(word: str, candidates) -> str | None:
    cands = [c for c in candidates if isinstance(c, str)]
    low = word.lower()
    for c in cands:
        if c.lower() == low:
            return c
    hit = difflib.get_close_matches(word, cands, n=1, cutoff=0.6)
    return hit[0] if hit else None


def _fmt_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)


class Validator:
    """Validates one document (or one value) against a node.

    ``resolve(s)`` substitutes Flux post-build variables in a string; it returns the new
    string or ``OPAQUE`` when a placeholder is left unresolved.  ``root_skip`` names
    top-level keys that are not part of the object (``sops``).  ``lists`` enforces
    ``x-kubernetes-list-type`` uniqueness (custom resources; built-in kinds have their own
    rules).  ``cel(value, node, rule) -> bool | None`` evaluates a CEL rule (None: could
    not be decided).
    """

    def __init__(self, *, resolve: Callable[[str], Any] | None = None, partial: bool = False,
                 root_skip: tuple = (), lists: bool = False,
                 cel: Callable[[Any, Node, str], bool | None] | None = None):
        self.resolve = resolve
        self.partial = partial
        self.root_skip = root_skip
        self.lists = lists
        self.cel = cel
        self.errs: list[Err] = []

    def run(self, value: Any, node: Node, path: tuple = ()) -> list[Err]:
        self.errs = []
        self._v(value, node, path)
        return self.errs

    # ------------------------------------------------------------------ walk

    def opaque(self, v: str) -> Any:
        """The value after substitution, or OPAQUE."""
        if v.startswith("ENC[") and v.endswith("]"):
            return OPAQUE
        if "${" in v:
            return self.resolve(v) if self.resolve is not None else OPAQUE
        return v

    def _v(self, value: Any, node: Node, path: tuple) -> None:
        subst = False
        if type(value) is str and ("${" in value or value.startswith("ENC[")):
            written = value
            value = self.opaque(value)
            if value is OPAQUE:
                return
            subst = True
        errs = self.errs
        types = node.types
        tag = type_tag(value)
        if types is not None and tag not in types:
            ok = False
            if tag == "integer" and "number" in types:
                ok = True
            elif tag == "number" and "integer" in types and math.isfinite(value) and float(value).is_integer():
                ok = True
            elif subst and tag == "string":
                typed = retype(value)
                if type_tag(typed) in types:
                    value, tag, ok = typed, type_tag(typed), True
            if not ok:
                after = f" (after post-build substitution of `{written}`)" if subst else ""
                errs.append(Err(TYPE, path, f"`{json_path(path)}` must be {expected(types)}, not {describe(value)}{after}",
                                _type_hint(value, types)))
                return
        before = len(errs)
        if tag == "object":
            self._object(value, node, path)
        elif tag == "array":
            self._array(value, node, path)
        elif tag != "null":
            self._scalar(value, node, path, tag)
        if node.all_of:
            for sub in node.all_of:
                self._v(value, sub, path)
        if node.any_of is not None or node.one_of is not None or node.not_ is not None:
            self._alternatives(value, node, path)
        if node.cel and self.cel is not None and not self.partial:
            self._cel(value, node, path, errs[before:])

    def _object(self, value: dict, node: Node, path: tuple) -> None:
        props = node.props
        addl = node.addl
        errs = self.errs
        meant: set = set()  # fields that an unknown (misspelt) field probably stands for
        for k, v in value.items():
            ks = k if type(k) is str else _fmt_value(k)
            sub = props.get(ks) if props else None
            if sub is None and node.ci and props:
                real = node.props_ci.get(ks.lower())
                if real is not None:
                    sub = props[real]
            if sub is None:
                if addl is None:
                    continue
                if self.partial and ks[:1] == "$":
                    continue  # strategic-merge directives ($patch, $setElementOrder/..., $retainKeys)
                if addl is False:
                    if not path and ks in self.root_skip:
                        continue
                    if node.embedded and ks in ("apiVersion", "kind", "metadata"):
                        continue
                    s = suggest(ks, props or ())
                    if s:
                        meant.add(s)
                    msg = f"unknown field `{json_path(path + (k,))}`"
                    errs.append(Err(UNKNOWN, path + (k,), msg + (f" (did you mean `{s}`?)" if s else ""),
                                    f"did you mean `{s}`?" if s else "Remove it, or check its spelling and indentation.",
                                    AT_KEY))
                    continue
                sub = addl
            if v is None and sub.types is not None and "null" not in sub.types:
                continue  # the API server prunes a null that the schema does not allow
            self._v(v, sub, path + (k,))
        if not self.partial:
            if node.required:
                for r in node.required:
                    if r in meant:
                        continue  # reported as the misspelt field
                    rsub = props.get(r) if props else None
                    if rsub is not None and rsub.default is not MISSING:
                        continue  # the API server defaults it before validating
                    if r not in value:
                        if node.ci and any(isinstance(k, str) and k.lower() == r.lower() for k in value):
                            continue
                        where = f" in `{json_path(path)}`" if path else ""
                        errs.append(Err(REQUIRED, path + (r,), f"missing required field `{r}`{where}",
                                        f"Add `{r}`.", AT_PARENT))
                    elif value[r] is None:
                        sub = props.get(r) if props else None
                        if sub is None or sub.types is None or "null" not in sub.types:
                            errs.append(Err(REQUIRED, path + (r,), f"required field `{json_path(path + (r,))}` is empty (null)",
                                            f"Give `{r}` a value.", AT_KEY))
            if node.embedded:
                for r in ("apiVersion", "kind"):
                    if not isinstance(value.get(r), str) or not value.get(r):
                        errs.append(Err(REQUIRED, path + (r,), f"missing required field `{r}` in the embedded object `{json_path(path)}`",
                                        f"Add `{r}`.", AT_PARENT))
        if node.limits:
            n = len(value)
            for k, lim in node.limits:
                if k == "minProperties" and n < lim:
                    errs.append(Err(VALUE, path, f"`{json_path(path)}` must have at least {lim} entries, has {n}"))
                elif k == "maxProperties" and n > lim:
                    errs.append(Err(VALUE, path, f"`{json_path(path)}` must have at most {lim} entries, has {n}"))

    def _array(self, value: list, node: Node, path: tuple) -> None:
        items = node.items
        if items is not None:
            for i, v in enumerate(value):
                self._v(v, items, path + (i,))
        errs = self.errs
        if node.limits:
            n = len(value)
            for k, lim in node.limits:
                if k == "minItems" and n < lim:
                    errs.append(Err(VALUE, path, f"`{json_path(path)}` must have at least {lim} item{'s' if lim != 1 else ''}, has {n}"))
                elif k == "maxItems" and n > lim:
                    errs.append(Err(VALUE, path, f"`{json_path(path)}` must have at most {lim} item{'s' if lim != 1 else ''}, has {n}"))
        if node.unique or (self.lists and node.list_type):
            seen: dict = {}
            for i, v in enumerate(value):
                if node.list_type == "map" and node.list_keys and isinstance(v, dict):
                    key = tuple(_hashable(v.get(k)) for k in node.list_keys)
                    what = ", ".join(f"{k}={_fmt_value(v.get(k))}" for k in node.list_keys)
                else:
                    key = _hashable(v)
                    what = _fmt_value(v) if not isinstance(v, (dict, list)) else "item"
                if any(isinstance(x, str) and "${" in x for x in (key if isinstance(key, tuple) else (key,))):
                    continue
                if key in seen:
                    errs.append(Err(VALUE, path + (i,), f"`{json_path(path + (i,))}` duplicates item {seen[key]} ({what})",
                                    "Each item of this list must be unique."))
                else:
                    seen[key] = i

    def _scalar(self, value: Any, node: Node, path: tuple, tag: str) -> None:
        errs = self.errs
        if node.enum is not None and enum_key(value) not in node.enum:
            vals = [v for v in node.enum_values if v is not None]
            shown = ", ".join(f"`{_fmt_value(v)}`" for v in vals[:12]) + (", ..." if len(vals) > 12 else "")
            s = suggest(value, [v for v in vals if isinstance(v, str)]) if isinstance(value, str) else None
            errs.append(Err(VALUE, path, f"`{json_path(path)}` must be one of {shown}, not `{_fmt_value(value)}`",
                            f"did you mean `{s}`?" if s else "", AT_VALUE, ENUM))
            return
        if tag == "string":
            pat = node.pattern
            if pat is not None and not _matches(pat, value):
                errs.append(Err(VALUE, path, f"`{json_path(path)}` value `{value}` does not match the pattern `{pat[0]}`",
                                _pattern_hint(pat[0])))
                return
            fmt = node.fmt
            if fmt is not None:
                bad = _format_error(value, fmt)
                if bad:
                    errs.append(Err(VALUE, path, f"`{json_path(path)}` {bad}", ""))
                    return
        elif node.fmt in _INTS and tag == "integer":
            lo, hi = _INTS[node.fmt]
            if not lo <= value <= hi:
                errs.append(Err(VALUE, path, f"`{json_path(path)}` value {value} does not fit in {node.fmt}"))
                return
        if node.limits:
            self._limits(value, node, path, tag)

    def _limits(self, value: Any, node: Node, path: tuple, tag: str) -> None:
        lims = dict(node.limits)
        jp = json_path(path)
        errs = self.errs
        if tag == "string":
            n = len(value)
            if "minLength" in lims and n < lims["minLength"]:
                errs.append(Err(VALUE, path, f"`{jp}` must be at least {lims['minLength']} characters long, is {n}"))
            elif "maxLength" in lims and n > lims["maxLength"]:
                errs.append(Err(VALUE, path, f"`{jp}` must be at most {lims['maxLength']} characters long, is {n}"))
            return
        if tag not in ("integer", "number"):
            return
        mn, mx = lims.get("minimum"), lims.get("maximum")
        exmn, exmx = lims.get("exclusiveMinimum"), lims.get("exclusiveMaximum")
        if isinstance(exmn, (int, float)) and not isinstance(exmn, bool) and value <= exmn:
            errs.append(Err(VALUE, path, f"`{jp}` must be greater than {exmn}, is {value}"))
        elif isinstance(exmx, (int, float)) and not isinstance(exmx, bool) and value >= exmx:
            errs.append(Err(VALUE, path, f"`{jp}` must be less than {exmx}, is {value}"))
        elif mn is not None and (value < mn or (exmn is True and value == mn)):
            errs.append(Err(VALUE, path, f"`{jp}` must be {'greater than' if exmn is True else 'at least'} {mn}, is {value}"))
        elif mx is not None and (value > mx or (exmx is True and value == mx)):
            errs.append(Err(VALUE, path, f"`{jp}` must be {'less than' if exmx is True else 'at most'} {mx}, is {value}"))
        elif "multipleOf" in lims and lims["multipleOf"] and (value / lims["multipleOf"]) % 1:
            errs.append(Err(VALUE, path, f"`{jp}` must be a multiple of {lims['multipleOf']}, is {value}"))

    def _quiet(self, value: Any, node: Node, path: tuple) -> list[Err]:
        sub = Validator(resolve=self.resolve, partial=self.partial, root_skip=self.root_skip, lists=self.lists,
                        cel=self.cel)
        return sub.run(value, node, path)

    def _alternatives(self, value: Any, node: Node, path: tuple) -> None:
        jp = json_path(path)
        if node.any_of is not None and node.any_of:
            if not any(not self._quiet(value, alt, path) for alt in node.any_of):
                self.errs.append(Err(VALUE, path, f"`{jp}` " + _alt_message(node.any_of, "at least one"), "", AT_KEY if path else AT_VALUE))
        if node.one_of is not None and node.one_of:
            ok = sum(1 for alt in node.one_of if not self._quiet(value, alt, path))
            if ok != 1:
                self.errs.append(Err(VALUE, path, f"`{jp}` " + _alt_message(node.one_of, "exactly one"), "", AT_KEY if path else AT_VALUE))
        if node.not_ is not None and not self._quiet(value, node.not_, path):
            self.errs.append(Err(VALUE, path, f"`{jp}` matches a form that the schema forbids", ""))

    def _cel(self, value: Any, node: Node, path: tuple, below: list[Err]) -> None:
        """Evaluate the node's rules, except those that read a field already reported
        wrong (one defect, one finding)."""
        depth = len(path)
        bad: set = set()
        for e in below:
            if len(e.path) <= depth or e.kind == UNKNOWN and len(e.path) == depth + 1:
                return  # the object itself is wrong, or a field of it may be misspelt
            bad.add(e.path[depth])
        for rule, message, field_path in node.cel:
            if bad:
                from .cel import self_fields

                fields = self_fields(rule)
                if fields is None or fields & bad:
                    continue
            ok = self.cel(value, node, rule)
            if ok is False:
                where = path
                at = AT_KEY if path else AT_VALUE
                if field_path:
                    extra = tuple(p for p in re.split(r"\.|\[['\"]?|['\"]?\]", field_path) if p)
                    where = path + tuple(int(p) if p.isdigit() else p for p in extra)
                jp = json_path(where) if where else "the object"
                msg = message or f"failed rule: {rule}"
                self.errs.append(Err(CEL, where, f"`{jp}`: {msg}" if where else f"{msg}",
                                     f"x-kubernetes-validations rule: `{rule}`", at))


class _Timeout(Exception):
    pass


_SLOW_PATTERNS: set[str] = set()
PATTERN_TIME_LIMIT = 0.05  # seconds for one match of a pattern that may backtrack
_ARMED: int | None = None  # the thread (the main one) whose pass installed the handler
_RISKY_SEEN: dict[tuple[str, str], bool] = {}


def forget_slow_patterns() -> None:
    """Try again the patterns that ran out of time: a process that makes many runs (the
    daemon) gives each run the budget a fresh process would."""
    _SLOW_PATTERNS.clear()


def _expire(_sig, _frame):
    raise _Timeout()


class pattern_timer:
    """Install the SIGALRM handler once for a whole validation pass (main thread only),
    so that each risky match costs two ``setitimer`` calls; restores what was there."""

    def __enter__(self):
        global _ARMED
        import signal
        import threading

        self.armed = False
        if (_ARMED is None and hasattr(signal, "setitimer")
                and threading.current_thread() is threading.main_thread()):
            self.old = signal.signal(signal.SIGALRM, _expire)
            self.prev = signal.setitimer(signal.ITIMER_REAL, 0)
            self.armed = True
            _ARMED = threading.get_ident()
        return self

    def __exit__(self, *exc):
        global _ARMED
        if self.armed:
            import signal

            signal.signal(signal.SIGALRM, self.old if self.old is not None else signal.SIG_DFL)
            _ARMED = None
            if self.prev[0]:
                signal.setitimer(signal.ITIMER_REAL, *self.prev)
        return False


def _matches(pat: tuple, value: str) -> bool:
    """Whether ``value`` matches; a pattern that may backtrack exponentially runs under a
    time limit (main thread), and one that exceeds it is not checked again (never a
    finding: RE2, which the API server uses, would have answered)."""
    src, rx, risky = pat
    if not risky:
        return rx.search(value) is not None
    if src in _SLOW_PATTERNS:
        return True
    key = (src, value)
    hit = _RISKY_SEEN.get(key)
    if hit is not None:
        return hit
    if len(_RISKY_SEEN) > 100_000:
        _RISKY_SEEN.clear()
    import signal
    import threading

    if _ARMED is not None and _ARMED == threading.get_ident():
        try:
            signal.setitimer(signal.ITIMER_REAL, PATTERN_TIME_LIMIT)
            try:
                ok = rx.search(value) is not None
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _Timeout:
            _SLOW_PATTERNS.add(src)
            return True
        _RISKY_SEEN[key] = ok
        return ok
    with pattern_timer() as t:
        if not t.armed:  # not the main thread, no timers, or another pass's: short values only
            return rx.search(value) is not None if len(value) <= 64 else True
        return _matches(pat, value)


def _alt_message(alts: list[Node], how: str) -> str:
    reqs = []
    for a in alts:
        if a.required and a.types is None and not a.props:
            reqs.append(" and ".join(f"`{r}`" for r in a.required))
        else:
            reqs = []
            break
    if reqs:
        return f"must set {how} of: " + "; ".join(reqs)
    return f"must match {how} of the {len(alts)} allowed forms"


def _hashable(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((str(k), _hashable(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    return enum_key(v)


def _type_hint(value: Any, types: frozenset) -> str:
    if isinstance(value, str):
        if "boolean" in types and value in _BOOL_WORDS:
            return f"Remove the quotes: a quoted `{value}` is a string, not a boolean."
        if "boolean" in types and value in _YAML11_BOOLS:
            return f"`{value}` is a string in YAML 1.2 (as kustomize and Flux read it): write `true` or `false`."
        if ("integer" in types or "number" in types) and _NUM_RE.match(value.strip()):
            return "Remove the quotes: a quoted number is a string."
    if "string" in types and isinstance(value, (bool, int, float)) and value is not None:
        return "Quote the value: unquoted, YAML reads it as a " + type_tag(value) + "."
    if "array" in types and not isinstance(value, list):
        return "Write a list (one `- item` per entry)."
    if "object" in types and isinstance(value, list):
        return "Write a mapping (`key: value`), not a list."
    return ""


def _pattern_hint(pattern: str) -> str:
    if "(ms|s|m|h)" in pattern:
        return _FLUX_DURATION_HINT
    if "(ms|s|m)" in pattern:
        return _FLUX_TIMEOUT_HINT
    return ""


def _format_error(value: str, fmt: str) -> str:
    if fmt == "byte":
        s = value.replace("\n", "").replace("\r", "")
        if len(s) % 4 or not _B64.match(s):
            return "is not valid base64 (Secret `data` holds base64; use `stringData` for plain text)"
        try:
            base64.b64decode(s, validate=True)
        except (binascii.Error, ValueError):
            return "is not valid base64 (Secret `data` holds base64; use `stringData` for plain text)"
        return ""
    if fmt == "date-time":
        return "" if _RFC3339.match(value) else f"value `{value}` is not an RFC 3339 date-time"
    return ""


# --------------------------------------------------------------------------- Flux durations

#: the fields of Flux objects that are ``metav1.Duration``s (the bundled CRDs give them the
#: pattern ``^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$``; tests/test_schema_catalog.py keeps this
#: set equal to the names those patterns sit on)
FLUX_DURATION_FIELDS = frozenset(("interval", "timeout", "retryInterval", "window"))
_DURATION_HINT = "Write a Go duration: numbers with the units ns, us, ms, s, m or h, e.g. `30s`, `10m`, `1h30m`."


def duration_errors(value: Any, node: Node, resolve: Callable[[str], Any] | None = None,
                    path: tuple = ()) -> list[Err]:
    """Duration fields of a Flux object that the schema leaves unchecked (an older CRD
    types them as plain strings) but that the controller decodes with Go's
    ``time.ParseDuration``: a value it cannot parse fails the object's decoding."""
    out: list[Err] = []
    stack = [(value, node, path)]
    while stack:
        v, n, p = stack.pop()
        if n is None or n.preserve:
            continue
        if isinstance(v, dict) and n.props is not None:
            for k, child in v.items():
                cn = n.props.get(k) if isinstance(k, str) else None
                if cn is None:
                    continue
                if k in FLUX_DURATION_FIELDS and isinstance(child, str) and cn.pattern is None \
                        and cn.enum is None and (cn.types is None or "string" in cn.types):
                    s = child
                    if s.startswith("ENC[") or ("${" in s and (resolve is None or (s := resolve(s)) is OPAQUE)):
                        continue
                    if isinstance(s, str) and not is_go_duration(s):
                        jp = json_path(p + (k,))
                        out.append(Err(VALUE, p + (k,), f"`{jp}` value `{s}` is not a Go duration: the controller "
                                                        f"cannot decode the object", _DURATION_HINT))
                elif isinstance(child, (dict, list)):
                    stack.append((child, cn, p + (k,)))
        elif isinstance(v, list) and n.items is not None:
            for i, item in enumerate(v):
                if isinstance(item, (dict, list)):
                    stack.append((item, n.items, p + (i,)))
    out.sort(key=lambda e: [str(x) for x in e.path])
    return out
