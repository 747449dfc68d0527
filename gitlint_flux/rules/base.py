"""The rule framework: a rule is a small class with a code, a slug, a default
severity, options, and a docstring that is its documentation.

The first docstring line is the rule's summary; the rest (Markdown) explains what it
checks, why, how to fix it, with a failing and a passing example.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Iterator

from ..model import ERROR, Finding, Problem, Related, RuleInfo, resource_of

if TYPE_CHECKING:  # pragma: no cover
    from .context import Context

DOCS_URL = "https://gitlab.com/gitlint-flux/gitlint-flux/-/blob/main/docs/rules.md"

REGISTRY: dict[str, type["Rule"]] = {}


class Rule:
    code: ClassVar[str] = ""
    slug: ClassVar[str] = ""
    severity: ClassVar[str] = ERROR
    options: ClassVar[dict[str, Any]] = {}
    #: a rule that judges what Flux applies sees only reachable documents
    applied_only: ClassVar[bool] = False

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.code:
            if cls.code in REGISTRY:
                raise RuntimeError(f"duplicate rule code {cls.code}")
            REGISTRY[cls.code] = cls

    def __init__(self, severity: str | None = None, options: dict | None = None):
        self.level = severity or self.severity
        self.opts = {**self.options, **(options or {})}

    # ------------------------------------------------------------------ documentation

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        return cls.doc().split("\n", 1)[0].strip()

    @classmethod
    def description(cls) -> str:
        parts = cls.doc().split("\n", 1)
        return parts[1].strip() if len(parts) > 1 else ""

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
