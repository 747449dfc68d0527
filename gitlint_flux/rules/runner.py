"""The rules stage: every enabled rule (built-in and custom policies) at its configured
severity and options, run over the context; a rule that raises becomes an FLX000
internal-error finding and the run goes on."""

from __future__ import annotations

import time
import traceback
from typing import Any

from ..model import Finding, resource_of
from .base import Rule, all_rules
from .context import Context


def make_rules(config: Any) -> list[Rule]:
    """The enabled rules, at the levels and options the profile and ``rules:`` give them."""
    instances: list[Rule] = []
    for code, cls in all_rules().items():
        setting = config.rules.get(code)
        if setting is not None and not setting.enabled:
            continue
        instances.append(cls(setting.severity if setting else None, setting.options if setting else None))
    if config.custom:
        from ..custom import CustomPolicy

        for code, (spec, src) in sorted(config.custom.items()):
            setting = config.rules.get(code)
            if setting is not None and not setting.enabled:
                continue
            instances.append(CustomPolicy(spec, src, setting.severity if setting else None))
    return instances


def run_rules(ctx: Context, instances: list[Rule], debug: bool = False) -> tuple[list[Finding], bool, float]:
    """The findings of every rule, whether one of them failed, and the seconds spent."""
    findings: list[Finding] = []
    internal = False
    t0 = time.perf_counter()
    for rule in instances:
        ctx.current = None
        try:
            findings.extend(rule.check(ctx))
        except Exception as exc:  # a rule bug must not stop the run
            internal = True
            findings.append(internal_error(ctx, f"rule {rule.code} ({rule.slug}) failed", exc, debug))
    return findings, internal, time.perf_counter() - t0


def internal_error(ctx: Context, what: str, exc: BaseException, debug: bool) -> Finding:
    """An FLX000 finding at the document being looked at when ``exc`` was raised."""
    where = ctx.current
    on = f" on {where.kind or 'document'}/{where.name or '?'}" if where is not None else ""
    msg = f"{what}{on}: {type(exc).__name__}: {exc}"
    if debug:
        msg += "\n" + traceback.format_exc()
    ie = all_rules()["FLX000"]()
    return ie.finding(where.path if where else ".", where.line if where else 1, where.column if where else 1, msg,
                      resource=resource_of(where))
