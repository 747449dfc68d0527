"""Flux post-build substitution, as the schema stage sees it.

kustomize-controller substitutes ``${VAR}`` (and ``${VAR:=default}``, ``${VAR:-default}``,
``${VAR=default}``, ``${VAR-default}``) in everything a Kustomization with
``spec.postBuild`` applies, from ``postBuild.substitute`` (which wins) and the ConfigMaps
and Secrets of ``postBuild.substituteFrom`` (later ones win); ``$${VAR}`` is an escaped,
literal ``${VAR}``; ``$VAR`` is never substituted. A document annotated
``kustomize.toolkit.fluxcd.io/substitute: disabled`` is left alone.

Here the variables come from what the repository itself holds (the graph reads inline
``substitute`` and the ``substituteFrom`` ConfigMaps and Secrets of each cluster). A
placeholder that none of them resolves stays *opaque*: the schema rules do not judge its
type, pattern or name.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from .validate import OPAQUE

_VAR = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_EXPR = re.compile(r"([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?[-=])(.*))?", re.S)
DISABLE_ANNOTATION = "kustomize.toolkit.fluxcd.io/substitute"


def make_resolver(variables: dict[str, str]) -> Callable[[str], Any]:
    """``resolve(s)``: ``s`` with its placeholders substituted, or OPAQUE when one of them
    cannot be resolved."""

    def resolve(s: str) -> Any:
        unresolved = False

        def rep(m: re.Match) -> str:
            nonlocal unresolved
            if m.group(0) == "$${":
                return "${"
            mm = _EXPR.fullmatch(m.group(1))
            if mm is None:
                unresolved = True
                return m.group(0)
            name, op, default = mm.group(1), mm.group(2), mm.group(3)
            val = variables.get(name)
            if val is not None and not (op and op.startswith(":") and val == ""):
                return val
            if op:
                return default or ""
            unresolved = True
            return m.group(0)

        out = _VAR.sub(rep, s)
        return OPAQUE if unresolved else out

    return resolve


def substitution_disabled(value: Any) -> bool:
    """``kustomize.toolkit.fluxcd.io/substitute: disabled`` (annotation or label)."""
    meta = value.get("metadata") if isinstance(value, dict) else None
    for key in ("annotations", "labels"):
        m = meta.get(key) if isinstance(meta, dict) else None
        if isinstance(m, dict) and m.get(DISABLE_ANNOTATION) == "disabled":
            return True
    return False
