"""The findings pipeline: what happens to the rules' findings before they are reported.

One ordered list of small steps (``STEPS``), each a function of the run's ``Findings``
state that returns the findings it keeps. Severities are decided in one place, in this
order:

1. the rule's default severity;
2. the profile and the configuration's ``rules:`` (applied when the rules are made, so a
   rule's findings start at its configured level);
3. **context caps**: ``context`` drops the findings that need a cluster (``Rule.cluster_context``)
   in files no root applies and caps the others at ``unapplied:`` (default warning), and caps
   cluster-context findings at warning in the fallback cluster; a rule or stage may attach
   its own ``(severity, reason)`` caps (a schema from a catalog of unknown release, an
   empty-string substitution); ``apply_caps`` lowers each finding to its lowest cap, never
   raises it, and the reasons stay on it;
4. inline suppressions, the configuration's ``ignore:``, the path selection, the baseline
   (they drop findings, they never change a severity);
5. the exit code (``engine.exit_code``, ``--fail-on``) over what is left.

A later capability adds a step here, never an ``if`` in a rule.

What a user chose to see is a **view** of the run (``view``, its steps in ``VIEW_STEPS``),
applied by the CLI to the run's report, cached or not: the rule selection (profile →
configuration ``select:``/``extend-select:`` → ``--select``/``--extend-select``/``--ignore``,
``choose``) and the display filter (``--min-severity``), whose hidden findings are counted in
the report (``RunReport.hidden``) and still decide the exit code (``fails``). Fingerprints
are assigned before the view and do not depend on it: identical findings are numbered per
rule, and a selection keeps or drops a rule's findings as a whole.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from .model import SEVERITY_RANK, Finding, Problem, RunReport, SourceFile, in_selection


@dataclass
class Findings:
    """The state the steps share."""

    findings: list[Finding]
    files: dict[str, SourceFile]
    linted: list[str]
    problems: list[Problem]
    config: Any  # gitlint_flux.config.Config
    rules: dict  # code -> rule class (for FLX901's findings)
    root: str
    paths: list[str]
    inline_suppressions: bool = True
    stdin_filename: str | None = None
    baseline: set[str] | None = None
    #: files no Flux root applies, and what to do with their findings (``unapplied:``)
    unapplied: set[str] = field(default_factory=set)
    unapplied_level: str = "warning"
    fallback: bool = False  # no root was found: the fallback cluster cannot settle references
    selection: list[str] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.selection = selected(self.paths, self.root)


def clamp_positions(run: Findings) -> list[Finding]:
    """Keep every position inside its file: libyaml's end-of-stream mark of a file without
    a final newline lies one line past its end."""
    lines: dict[str, list[str]] = {}
    for f in run.findings:
        sf = run.files.get(f.path)
        if sf is None or sf.text is None:
            continue
        ls = lines.get(f.path)
        if ls is None:
            ls = sf.text.splitlines() or [""]
            if sf.text.endswith(("\n", "\r")):
                ls.append("")  # the empty line after the final line break is a position too
            lines[f.path] = ls
        n = len(ls)
        if f.line > n:
            f.line, f.column = n, len(ls[-1]) + 1
        f.column = min(f.column, len(ls[f.line - 1]) + 1)
        if f.end_line is not None and f.end_line > n:
            f.end_line, f.end_column = n, len(ls[-1]) + 1
        if f.end_line is not None and f.end_column is not None:
            f.end_column = min(f.end_column, len(ls[f.end_line - 1]) + 1)
    return run.findings


def exclude(run: Findings) -> list[Finding]:
    """Findings in files the configuration excludes are dropped."""
    return [f for f in run.findings if not run.config.excluded(f.path)]


def context(run: Findings) -> list[Finding]:
    """The context caps that the run itself knows: a file no root applies (cluster-context
    findings dropped, the others capped at ``unapplied:``, default warning), and the
    fallback cluster (cluster-context findings at most warnings)."""
    out = []
    for f in run.findings:
        if f.rule == "FLX000":
            out.append(f)
            continue
        cls = run.rules.get(f.rule)
        cluster = bool(getattr(cls, "cluster_context", False))
        if f.path in run.unapplied and run.unapplied_level != "error":
            if cluster or run.unapplied_level == "off":
                continue
            f.caps.append((run.unapplied_level, "no Flux root applies this file"))
        elif run.fallback and cluster:
            f.caps.append(("warning", "no root was found: the fallback cluster cannot settle this"))
        out.append(f)
    return out


def apply_caps(run: Findings) -> list[Finding]:
    """Lower each finding to the lowest of its context caps (never raise it)."""
    for f in run.findings:
        if f.caps and f.rule != "FLX000":
            lowest = min((sev for sev, _reason in f.caps), key=SEVERITY_RANK.__getitem__)
            if SEVERITY_RANK[lowest] < SEVERITY_RANK[f.severity]:
                f.severity = lowest
    return run.findings


def dedupe(run: Findings) -> list[Finding]:
    """One finding per rule, place and message (an object applied in two clusters is
    judged twice); the most severe of them is kept."""
    kept: dict[tuple, int] = {}
    out: list[Finding] = []
    for f in run.findings:
        key = (f.rule, f.path, f.line, f.column, f.message)
        i = kept.get(key)
        if i is None:
            kept[key] = len(out)
            out.append(f)
        elif SEVERITY_RANK[f.severity] > SEVERITY_RANK[out[i].severity]:
            out[i] = f
    return out


def suppress(run: Findings) -> list[Finding]:
    """Drop findings that an inline comment suppresses; report suppressions that
    suppress nothing (and names that are no rule) as FLX901."""
    if not run.inline_suppressions:
        return run.findings
    from .config import rule_lookup
    from .suppress import parse

    config, files = run.config, run.files
    lookup = rule_lookup(config.custom)
    by_file: dict[str, list] = {}
    for rel in run.linted:
        text = files[rel].text
        if text and "gitlint-flux:" in text:
            by_file[rel] = parse(rel, text, lookup)
    if not by_file:
        return run.findings
    kept = []
    for f in run.findings:
        sups = by_file.get(f.path)
        hit = None
        if sups and f.rule != "FLX000":
            for s in sups:
                if s.covers(f.rule, f.line):
                    hit = s
                    break
        if hit is None:
            kept.append(f)
        else:
            hit.used = True
    unused_rule = run.rules.get("FLX901")
    setting = config.rules.get("FLX901")
    if unused_rule is None or (setting is not None and not setting.enabled):
        return kept
    rule = unused_rule(setting.severity if setting else None)
    for rel, sups in sorted(by_file.items()):
        for s in sups:
            if s.unknown:
                kept.append(rule.finding(rel, s.line, s.column,
                                         f"suppression names unknown rule(s): {', '.join(s.unknown)}",
                                         hint="Use a rule code or slug from `gitlint-flux rules`."))
            elif not s.used:
                disabled = s.rules is not None and any(
                    config.rules.get(c) is not None and not config.rules[c].enabled for c in s.rules)
                if disabled:
                    continue
                what = ", ".join(s.names) if s.names else "all rules"
                kept.append(rule.finding(rel, s.line, s.column, f"suppression of {what} suppresses nothing",
                                         hint="Remove the comment (or fix the rule name or the line it is on)."))
    return kept


def ignore(run: Findings) -> list[Finding]:
    """The configuration's ``ignore:`` entries (by path, rule or resource)."""
    return [f for f in run.findings if f.rule == "FLX000" or not run.config.ignored(f)]


def select_paths(run: Findings) -> list[Finding]:
    """Only the findings of the paths the user named: in those files, pointing at them
    (related locations), or naming them (a missing reference to a deleted file); an
    editor buffer gets its own findings only."""
    sel = run.selection
    if sel is None:
        return run.findings
    if run.stdin_filename is not None:
        return [f for f in run.findings if in_selection(f.path, sel)]
    named = {(p.path, p.line, p.column, p.message): p.data["target"]
             for p in run.problems if isinstance(p.data.get("target"), str) and p.data["target"]}
    return [f for f in run.findings
            if in_selection(f.path, sel) or any(in_selection(r.path, sel) for r in f.related)
            or _names(named.get((f.path, f.line, f.column, f.message)), sel)]


def fingerprint(run: Findings) -> list[Finding]:
    assign_fingerprints(run.findings)
    return run.findings


def baseline(run: Findings) -> list[Finding]:
    """Findings recorded in the baseline (by fingerprint) are dropped."""
    if run.baseline is None:
        return run.findings
    return [f for f in run.findings if f.fingerprint not in run.baseline]


def order(run: Findings) -> list[Finding]:
    return sorted(run.findings, key=Finding.sort_key)


STEPS: tuple[Callable[[Findings], list[Finding]], ...] = (
    clamp_positions, exclude, context, apply_caps, dedupe, suppress, ignore, select_paths, fingerprint, baseline, order,
)


def process(run: Findings) -> list[Finding]:
    for step in STEPS:
        run.findings = step(run)
    return run.findings


def assign_fingerprints(findings: list[Finding]) -> None:
    seen: dict[str, int] = {}
    for f in sorted(findings, key=Finding.sort_key):
        base = f.compute_fingerprint()
        n = seen.get(base, 0)
        seen[base] = n + 1
        f.fingerprint = base if n == 0 else f.compute_fingerprint(str(n))


def selected(paths: list[str], root: str) -> list[str] | None:
    """Root-relative prefixes of the paths the user named (None = everything)."""
    out = []
    for p in paths:
        ap = os.path.realpath(p)
        rel = os.path.relpath(ap, root).replace(os.sep, "/")
        if rel == ".":
            return None
        out.append(rel)
    return out or None


def _names(target: str | None, sel: list[str]) -> bool:
    """A missing path lies in the selection, or is a directory that held a selected path."""
    return target is not None and (in_selection(target, sel) or any(in_selection(s, [target]) for s in sel))


# --------------------------------------------------------------------------- the view


@dataclass
class Layer:
    """One level of the selection: ``select`` replaces what the levels before chose (None:
    keep it), ``extend`` adds, ``ignore`` removes (names: codes, prefixes, slugs)."""

    select: list[str] | None = None
    extend: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)


def choose(catalog: dict[str, str], layers: list[Layer]) -> set[str] | None:
    """The codes reported, given ``{code: slug}`` and the levels in order (the profile's,
    which selects every rule it runs, then the configuration's, then the command line's).
    None when no level narrows anything (every rule). Raises ``ValueError`` for an unknown
    name (with the closest known one)."""
    from .config import expand_names

    chosen: set[str] | None = None
    for layer in layers:
        if layer.select is not None:
            chosen = expand_names(layer.select, catalog)
        if layer.extend:
            added = expand_names(layer.extend, catalog)
            if chosen is not None:
                chosen = chosen | added
        if layer.ignore:
            chosen = (set(catalog) if chosen is None else chosen) - expand_names(layer.ignore, catalog)
    return chosen


@dataclass
class View:
    """What the user chose to see of a run."""

    rules: set[str] | None = None  # the codes reported (None: all)
    min_severity: str | None = None


def select_rules(report: RunReport, v: View) -> RunReport:
    """Only the selected rules' findings (internal errors always)."""
    if v.rules is None:
        return report
    return replace(report, findings=[f for f in report.findings if f.rule == "FLX000" or f.rule in v.rules])


def hide_below(report: RunReport, v: View) -> RunReport:
    """Findings below ``--min-severity`` are left out of the report and counted."""
    if not v.min_severity:
        return report
    floor = SEVERITY_RANK[v.min_severity]
    shown, hidden = [], dict(report.hidden)
    for f in report.findings:
        if SEVERITY_RANK[f.severity] >= floor or f.rule == "FLX000":
            shown.append(f)
        else:
            hidden[f.severity] = hidden.get(f.severity, 0) + 1
    return replace(report, findings=shown, hidden=hidden, min_severity=v.min_severity)


VIEW_STEPS: tuple[Callable[[RunReport, View], RunReport], ...] = (select_rules, hide_below)


def view(report: RunReport, v: View) -> RunReport:
    for step in VIEW_STEPS:
        report = step(report, v)
    return report


def fails(report: RunReport, fail_on: str) -> bool:
    """A finding at or above ``fail_on`` exists, shown or hidden by ``--min-severity``."""
    if fail_on == "never":
        return False
    threshold = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK[f.severity] >= threshold for f in report.findings) or report.hidden_count(fail_on) > 0
