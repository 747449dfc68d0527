"""The rule framework: a rule is a small class with a code, a slug, a default
severity, options, and a docstring that is its documentation.

The first docstring line is the rule's summary; the rest (Markdown) explains what it
checks, why, how to fix it, with a failing and a passing example.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Iterator

from .. import ruledocs
from ..model import ERROR, Finding, Problem, Related, RuleInfo, resource_of

if TYPE_CHECKING:  # pragma: no cover
    from .context import Context

DOCS_URL = "https://gitlab.com/gitlint-flux/gitlint-flux/-/blob/main/docs/rules.md"

REGISTRY: dict[str, type["Rule"]] = {}

_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
DURATION_FIELDS = ("interval", "timeout", "retryInterval")


@dataclass(frozen=True)
class Option:
    """A rule option: its type, default and one line of documentation.

    Types: ``bool``, ``int``, ``str``, ``list[str]`` (a list of strings), and ``bounds``
    (kind, or ``*`` for any kind, -> field among ``interval``, ``timeout``,
    ``retryInterval`` -> a Go duration). A value of another type is a configuration error
    naming the file, the rule and the option."""

    type: str
    default: Any
    doc: str

    def problem(self, value: Any) -> str | None:
        """Why ``value`` does not fit (None when it does)."""
        t = self.type
        if t == "bool":
            return None if isinstance(value, bool) else f"must be true or false, not {_shown(value)}"
        if t == "int":
            return None if isinstance(value, int) and not isinstance(value, bool) else \
                f"must be an integer, not {_shown(value)}"
        if t == "str":
            return None if isinstance(value, str) else f"must be a string, not {_shown(value)}"
        if t == "list[str]":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return f"must be a list of strings, not {_shown(value)}"
            return None
        if t == "bounds":
            if not isinstance(value, dict):
                return f"must be a mapping of kind to {{field: duration}}, not {_shown(value)}"
            for kind, fields in value.items():
                if not isinstance(fields, dict):
                    return f"`{kind}` must be a mapping of field to duration, not {_shown(fields)}"
                for f, d in fields.items():
                    if f not in DURATION_FIELDS:
                        return f"`{kind}.{f}`: unknown field (fields: {', '.join(DURATION_FIELDS)})"
                    if not isinstance(d, str) or not _DURATION.match(d):
                        return f"`{kind}.{f}` must be a Go duration such as `1m` or `1h30m`, not {_shown(d)}"
            return None
        raise ValueError(f"unknown option type {t!r}")  # pragma: no cover - a rule's own bug


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"the string `{value}`"
    return f"`{value!r}`" if value is not None else "null"


@dataclass(frozen=True)
class Fix:
    """A rule's automatic fix (`gitlint-flux lint --fix`): whether it is safe (applied by
    `--fix`) or unsafe (only with `--unsafe-fixes`), and what it does, in one line. The
    edits themselves are made by ``gitlint_flux.fixers``, loaded only when fixing."""

    safe: bool
    summary: str

    def label(self) -> str:
        return "safe fix" if self.safe else "unsafe fix (--unsafe-fixes)"


def option_key(name: str) -> str:
    """Option names are kebab-case, as every configuration key (`allow-pinned`);
    snake_case (`allow_pinned`) is accepted as the same name."""
    return str(name).replace("_", "-")


class Rule:
    code: ClassVar[str] = ""
    slug: ClassVar[str] = ""
    severity: ClassVar[str] = ERROR
    options: ClassVar[dict[str, Option]] = {}
    #: the finding depends on the cluster that applies the object (its references, its
    #: variables, its decryption, what a parent's patches add): not reported for files no
    #: root applies, and at most a warning in the fallback cluster
    cluster_context: ClassVar[bool] = False
    #: the rule's automatic fix (None: it has none)
    fix: ClassVar[Fix | None] = None

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.code:
            if cls.code in REGISTRY:
                raise RuntimeError(f"duplicate rule code {cls.code}")
            REGISTRY[cls.code] = cls

    def __init__(self, severity: str | None = None, options: dict | None = None):
        self.level = severity or self.severity
        self.opts = {k: o.default for k, o in self.options.items()}
        self.opts.update({option_key(k): v for k, v in (options or {}).items()})

    @classmethod
    def checked_options(cls, options: dict) -> dict:
        """``options`` with canonical names, or ValueError naming the option at fault."""
        out = {}
        for k, v in options.items():
            key = option_key(k)
            opt = cls.options.get(key)
            if opt is None:
                raise ValueError(f"unknown option `{k}` (options: {', '.join(sorted(cls.options)) or 'none'})")
            why = opt.problem(v)
            if why is not None:
                raise ValueError(f"option `{key}` {why}")
            out[key] = v
        return out

    # ------------------------------------------------------------------ documentation

    @classmethod
    def doc(cls) -> str:
        text = cls.__dict__.get("_cleaned_doc")
        if text is None:
            text = inspect.cleandoc(cls.__doc__ or "")
            cls._cleaned_doc = text  # per class, once
        return text

    @classmethod
    def summary(cls) -> str:
        """The first paragraph of the docstring, as one line."""
        return ruledocs.parse(cls.doc()).summary

    @classmethod
    def description(cls) -> str:
        """Everything after the summary (why, fix, options, examples), as Markdown."""
        text = ruledocs.parse(cls.doc()).description()
        if cls.fix is not None:
            text = f"**Automatic fix** ({cls.fix.label()}): {cls.fix.summary}\n\n{text}"
        return text

    @classmethod
    def url(cls) -> str:
        return f"{DOCS_URL}#{cls.code.lower()}-{cls.slug}"

    @classmethod
    def info(cls) -> RuleInfo:
        return RuleInfo(cls.code, cls.slug, cls.severity, cls.summary(), cls.description(), cls.url())

    # ------------------------------------------------------------------ checking

    def check(self, ctx: "Context") -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finding(self, path: str, line: int, column: int, message: str, *, hint: str = "",
                end_line: int | None = None, end_column: int | None = None, resource: dict | None = None,
                related: list[Related] | None = None) -> Finding:
        return Finding(
            rule=self.code, slug=self.slug, severity=self.level, message=message, path=path,
            line=line, column=column, end_line=end_line, end_column=end_column, resource=resource,
            hint=hint, url=self.url(), related=list(related or []),
        )


    def at(self, target, path: tuple, message: str, *, key: bool = False, hint: str = "",
           related: list[Related] | None = None) -> Finding:
        """A finding at ``path`` of an ``Applied`` object or a ``Document``."""
        doc = getattr(target, "doc", target)
        loc = doc.loc(*path, key=key)
        if doc.origin == "resourceset" and doc.source is not None:
            label = f", input {doc.input_label}" if doc.input_label else ""
            message += f" (rendered by ResourceSet `{doc.source.name}`{label})"
        if hasattr(target, "doc"):
            resource = resource_of(doc, namespace=target.namespace, name=target.name)
        else:
            resource = resource_of(doc)
        return self.finding(doc.path, loc.line, loc.column, message, hint=hint, end_line=loc.end_line,
                            end_column=loc.end_column, resource=resource, related=related)


class ProblemRule(Rule):
    """A rule that reports problems the loader or the graph recorded while reading."""

    problem_kinds: ClassVar[tuple[str, ...]] = ()

    def check(self, ctx: "Context") -> Iterator[Finding]:
        for p in ctx.problems_of(self.problem_kinds):
            yield self.from_problem(p)

    def from_problem(self, p: Problem) -> Finding:
        return self.finding(p.path, p.line, p.column, p.message, hint=p.hint, end_line=p.end_line,
                            end_column=p.end_column, resource=p.resource, related=p.related)


_LOADED = False


def all_rules() -> dict[str, type[Rule]]:
    """Every rule of every module of this package (imported once, for registration)."""
    global _LOADED
    if not _LOADED:
        import importlib
        import pkgutil

        from .. import rules as pkg

        for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)):
            if mod != "base":
                importlib.import_module(f"{pkg.__name__}.{mod}")
        _LOADED = True
    return dict(sorted(REGISTRY.items()))


def lookup(code_or_slug: str) -> type[Rule] | None:
    rules = all_rules()
    key = code_or_slug.strip()
    if key.upper() in rules:
        return rules[key.upper()]
    for r in rules.values():
        if r.slug == key.lower():
            return r
    return None
