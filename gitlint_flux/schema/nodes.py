"""JSON Schema (with Kubernetes' structural extensions) compiled into ``Node`` objects.

A schema is compiled once: ``$ref``s are resolved once (a recursive schema becomes a
cyclic graph of nodes, never a copy per use), patterns are compiled, enums are indexed,
and ``oneOf``/``anyOf`` of plain types (IntOrString, Quantity) become a union of types.
The validator then walks documents over nodes without any lookup by name.

Understood keywords: ``type`` (string or list), ``nullable``, ``properties``,
``additionalProperties`` (bool or schema), ``required``, ``items``, ``enum``, ``const``,
``pattern``, ``format``, ``minimum``/``maximum`` (and the exclusive forms),
``minLength``/``maxLength``, ``minItems``/``maxItems``, ``minProperties``/
``maxProperties``, ``uniqueItems``, ``multipleOf``, ``allOf``/``anyOf``/``oneOf``/``not``,
``default``, ``$ref``, and the Kubernetes extensions ``x-kubernetes-preserve-unknown-fields``,
``x-kubernetes-int-or-string``, ``x-kubernetes-embedded-resource``,
``x-kubernetes-validations``, ``x-kubernetes-list-type``/``x-kubernetes-list-map-keys``.
"""

from __future__ import annotations

import re
from typing import Any, Callable

MISSING = object()

_TYPES = frozenset(("object", "array", "string", "integer", "number", "boolean", "null"))
_LIMIT_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
               "minItems", "maxItems", "minProperties", "maxProperties", "multipleOf")
_EXCLUSIVE = ("exclusiveMinimum", "exclusiveMaximum")


class Node:
    """One compiled schema."""

    __slots__ = (
        "types", "props", "props_ci", "addl", "required", "enum", "enum_values", "pattern", "items",
        "preserve", "embedded", "fmt", "limits", "unique", "cel", "default", "any_of", "one_of", "all_of",
        "not_", "list_type", "list_keys", "ci", "meta",
    )

    def __init__(self) -> None:
        self.types: frozenset | None = None  # None: any type
        self.props: dict[str, Node] | None = None
        self.props_ci: dict[str, str] | None = None  # lower-cased name -> name (case-insensitive decoders)
        self.addl: Node | bool | None = None  # None: anything allowed; False: unknown fields refused
        self.required: tuple = ()
        self.enum: frozenset | None = None  # of (type tag, value)
        self.enum_values: tuple = ()
        self.pattern: tuple[str, re.Pattern, bool] | None = None  # (source, compiled, may backtrack)
        self.items: Node | None = None
        self.preserve = False
        self.embedded = False
        self.fmt: str | None = None
        self.limits: tuple | None = None  # ((keyword, value), ...)
        self.unique = False
        self.cel: list | None = None  # [(rule, message, fieldPath, reason)]
        self.default: Any = MISSING
        self.any_of: list[Node] | None = None
        self.one_of: list[Node] | None = None
        self.all_of: list[Node] | None = None
        self.not_: Node | None = None
        self.list_type: str | None = None
        self.list_keys: tuple = ()
        self.ci = False  # keys match case-insensitively (Go's encoding/json, as kustomize decodes)
        self.meta = False  # the object's metadata (ObjectMeta): checked by the metadata rule too


def type_tag(v: Any) -> str:
    """The JSON type of a YAML value."""
    t = type(v)
    if t is str:
        return "string"
    if t is bool:
        return "boolean"
    if t is int:
        return "integer"
    if t is float:
        return "number"
    if v is None:
        return "null"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "array"
    return "string"


def enum_key(v: Any) -> tuple:
    """Enum membership that keeps ``true`` apart from ``1`` and ``1`` equal to ``1.0``."""
    t = type(v)
    if t is bool:
        return ("b", v)
    if t is int or t is float:
        return ("n", v)
    if t is str:
        return ("s", v)
    if v is None:
        return ("z", None)
    return ("o", repr(v))


Loader = Callable[[str, Any], "tuple[dict, Any]"]


class _LazyNode(Node):
    """A node compiled at its first use: a document walks a small part of a large schema
    (a CloudNativePG Cluster has thousands of nodes), so only what it reaches is compiled.
    Until then the slots are unset; the first attribute read fills them all."""

    __slots__ = ("_src",)

    def __init__(self, compiler: "Compiler", schema: dict, base: Any) -> None:  # noqa: super-init-not-called
        self._src = (compiler, schema, base)

    def __getattr__(self, name: str) -> Any:  # only called for a slot not yet filled
        src = object.__getattribute__(self, "_src")
        if src is None:
            raise AttributeError(name)
        self._src = None
        Node.__init__(self)
        compiler, schema, base = src
        compiler._fill(self, schema, base)
        return object.__getattribute__(self, name)


class Compiler:
    """Compiles schemas; ``loader(ref, base) -> (schema, base)`` resolves a ``$ref`` seen in
    a schema that belongs to ``base`` (a file, a definitions table). The root is compiled
    at once, the nodes below it at their first use."""

    def __init__(self, loader: Loader | None = None, *, case_insensitive: bool = False):
        self.loader = loader
        self.ci = case_insensitive
        self._memo: dict[int, Node] = {}
        self._keep: list = []  # schemas stay alive so that their ids stay unique

    def compile(self, schema: Any, base: Any = None) -> Node:
        node = self._compile(schema, base)
        if isinstance(node, _LazyNode):
            node.types  # noqa: B018 - fills it
        return node

    def _compile(self, schema: Any, base: Any = None) -> Node:
        if not isinstance(schema, dict):
            node = Node()
            if schema is False:
                node.not_ = Node()
            return node
        key = id(schema)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        ref = schema.get("$ref")
        if isinstance(ref, str) and self.loader is not None:
            target, tbase = self.loader(ref, base)
            node = self._compile(target, tbase)
            self._memo[key] = node
            self._keep.append(schema)
            return node
        node = _LazyNode(self, schema, base)
        self._memo[key] = node
        self._keep.append(schema)
        return node

    def _fill(self, node: Node, s: dict, base: Any) -> None:
        t = s.get("type")
        types: set | None = None
        if isinstance(t, str) and t in _TYPES:
            types = {t}
        elif isinstance(t, list):
            types = {x for x in t if isinstance(x, str) and x in _TYPES} or None
        if s.get("x-kubernetes-int-or-string") is True:
            types = {"integer", "string"}
        alts_key = "oneOf" if isinstance(s.get("oneOf"), list) else "anyOf" if isinstance(s.get("anyOf"), list) else None
        if alts_key:
            alts = s[alts_key]
            union = _type_union(alts, self, base)
            if union is not None:
                # IntOrString, Quantity: a union of plain types, not alternatives
                if types is None:
                    types = union
            else:
                nodes = [self._compile(a, base) for a in alts if isinstance(a, dict)]
                if alts_key == "oneOf":
                    node.one_of = nodes
                else:
                    node.any_of = nodes
            other = "anyOf" if alts_key == "oneOf" else None
            if other and isinstance(s.get(other), list):
                node.any_of = [self._compile(a, base) for a in s[other] if isinstance(a, dict)]
        if types is not None and s.get("nullable") is True:
            types.add("null")
        node.types = frozenset(types) if types is not None else None
        props = s.get("properties")
        if isinstance(props, dict):
            node.props = {str(k): self._compile(v, base) for k, v in props.items()}
            if self.ci:
                node.props_ci = {k.lower(): k for k in node.props}
                node.ci = True
        ap = s.get("additionalProperties")
        if ap is False:
            node.addl = False
        elif isinstance(ap, dict):
            node.addl = self._compile(ap, base)
        if s.get("x-kubernetes-preserve-unknown-fields") is True:
            node.preserve = True
            if node.addl is False:
                node.addl = None
        if s.get("x-kubernetes-embedded-resource") is True:
            node.embedded = True
        req = s.get("required")
        if isinstance(req, list):
            node.required = tuple(str(r) for r in req if isinstance(r, (str, int)))
        items = s.get("items")
        if isinstance(items, dict):
            node.items = self._compile(items, base)
        en = s.get("enum")
        if isinstance(en, list) and en:
            node.enum = frozenset(enum_key(v) for v in en)
            node.enum_values = tuple(en)
        if "const" in s:
            node.enum = frozenset((enum_key(s["const"]),))
            node.enum_values = (s["const"],)
        pat = s.get("pattern")
        if isinstance(pat, str):
            try:
                node.pattern = (pat, re.compile(_go_regex(pat)), nested_quantifier(pat))
            except (re.error, RecursionError, OverflowError):
                node.pattern = None  # a Go-only construct: not checked rather than misjudged
        fmt = s.get("format")
        if isinstance(fmt, str):
            node.fmt = fmt
        limits = tuple((k, s[k]) for k in _LIMIT_KEYS if k in s and isinstance(s[k], (int, float))
                       and (not isinstance(s[k], bool) or k in _EXCLUSIVE))
        if limits:
            node.limits = limits
        if s.get("uniqueItems") is True:
            node.unique = True
        lt = s.get("x-kubernetes-list-type")
        if lt in ("set", "map"):
            node.list_type = lt
            keys = s.get("x-kubernetes-list-map-keys")
            if lt == "map" and isinstance(keys, list):
                node.list_keys = tuple(str(k) for k in keys)
        rules = s.get("x-kubernetes-validations")
        if isinstance(rules, list):
            cel = []
            for r in rules:
                if isinstance(r, dict) and isinstance(r.get("rule"), str):
                    msg = r.get("message") if isinstance(r.get("message"), str) else ""
                    fp = r.get("fieldPath") if isinstance(r.get("fieldPath"), str) else ""
                    cel.append((r["rule"], msg, fp))
            node.cel = cel or None
        if "default" in s:
            node.default = s["default"]
        allof = s.get("allOf")
        if isinstance(allof, list):
            node.all_of = [self._compile(a, base) for a in allof if isinstance(a, dict)]
        if isinstance(s.get("not"), dict):
            node.not_ = self._compile(s["not"], base)
        if node.types is None and node.props is not None and not (node.one_of or node.any_of or node.all_of):
            node.types = frozenset(("object",))  # a schema that only names properties describes an object


def _type_union(alts: list, compiler: Compiler, base: Any) -> set | None:
    """The union of types when every alternative is only a type (and format)."""
    out: set = set()
    for a in alts:
        if not isinstance(a, dict):
            return None
        if "$ref" in a and compiler.loader is not None:
            a, _ = compiler.loader(a["$ref"], base)
            if not isinstance(a, dict):
                return None
        if set(a) - {"type", "format", "description", "title"}:
            return None
        t = a.get("type")
        if isinstance(t, str):
            out.add(t)
        elif isinstance(t, list):
            out.update(x for x in t if isinstance(x, str))
        else:
            return None
    return out & _TYPES or None


def nested_quantifier(p: str) -> bool:
    """A quantified group that holds a quantifier (``(a+)+``, ``(([a-z])+.)*``):
    Python's backtracking engine may take exponential time on it (Go's RE2, which the
    API server uses, never does), so such a pattern runs under a time limit."""
    stack: list[bool] = []
    i, n = 0, len(p)
    inner = False  # the last closed group held a quantifier
    while i < n:
        c = p[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < n and p[j] == "^":
                j += 1
            if j < n and p[j] == "]":
                j += 1
            while j < n and p[j] != "]":
                j += 2 if p[j] == "\\" else 1
            i = j + 1
            inner = False
            continue
        if c == "(":
            stack.append(False)
        elif c == ")":
            inner = stack.pop() if stack else False
            if i + 1 < n and p[i + 1] in "*+{" and inner:
                return True
            if stack:
                stack[-1] = stack[-1] or inner
            i += 1
            continue
        elif c in "*+{" and stack:
            stack[-1] = True
        elif c == "?" and stack and i > 0 and p[i - 1] not in "(":
            stack[-1] = True
        i += 1
    return False


def _go_regex(p: str) -> str:
    """Go RE2 syntax accepted by Python's ``re`` (``\\z`` end of text)."""
    return p.replace(r"\z", r"\Z")
