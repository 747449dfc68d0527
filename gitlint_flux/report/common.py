"""What several formatters share: paths relative to a CI workspace, a finding's
fingerprint, and the summary line."""

from __future__ import annotations

import os

from ..model import ERROR, INFO, SEVERITY_RANK, WARNING, Finding, RunReport

#: the CI checkout each format's paths are relative to (the CLI reads the variable and
#: hands its value to the formatter as ``workspace``)
WORKSPACE_VARIABLES = {"codequality": "CI_PROJECT_DIR", "junit": "CI_PROJECT_DIR", "github": "GITHUB_WORKSPACE"}


def workspace_path(report: RunReport, path: str, workspace: str | None) -> str:
    """``path`` (root-relative) relative to ``workspace`` (a CI checkout) when the root
    lies strictly inside it; else unchanged."""
    if not workspace:
        return path
    base, root = os.path.realpath(workspace), os.path.realpath(report.root)
    if not root.startswith(base.rstrip(os.sep) + os.sep):
        return path
    prefix = os.path.relpath(root, base).replace(os.sep, "/")
    return prefix if path in (".", "") else f"{prefix}/{path}"


def display_path(report: RunReport, path: str, base: str | None) -> str:
    """A root-relative ``path`` as a person at ``base`` (the working directory) types it:
    relative when it lies under ``base``, else absolute; unchanged without a base."""
    if not base:
        return path
    full = os.path.join(os.path.realpath(report.root), path) if path not in (".", "") else \
        os.path.realpath(report.root)
    real_base = os.path.realpath(base)
    if full == real_base:
        return "."
    if full.startswith(real_base.rstrip(os.sep) + os.sep):
        return os.path.relpath(full, real_base).replace(os.sep, "/")
    return full


def fingerprint(f: Finding) -> str:
    """The finding's fingerprint (computed when a report was made by hand, without the
    findings pipeline)."""
    return f.fingerprint or f.compute_fingerprint()


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural_word or word + 's')}"


def summary_line(report: RunReport, fail_on: str = "error") -> str:
    e, w, i = report.count(ERROR), report.count(WARNING), report.count(INFO)
    line = (f"{plural(len(report.files), 'file')} linted, {len(report.skipped)} skipped, "
            f"{plural(report.documents, 'document')}: {plural(e, 'error')}, {plural(w, 'warning')}, {i} info")
    hidden = {sev: n for sev, n in report.hidden.items() if n}
    if hidden:
        parts = ", ".join(_count(sev, n) for sev, n in sorted(hidden.items(), key=lambda kv: -SEVERITY_RANK[kv[0]]))
        line += f" ({parts} hidden by --min-severity {report.min_severity})"
        deciding = {sev: n for sev, n in hidden.items()
                    if fail_on != "never" and SEVERITY_RANK[sev] >= SEVERITY_RANK[fail_on]}
        shown_fail = fail_on != "never" and any(SEVERITY_RANK[f.severity] >= SEVERITY_RANK[fail_on]
                                                for f in report.findings)
        if deciding and not shown_fail:
            n = sum(deciding.values())
            which = ", ".join(_count(sev, k) for sev, k in
                              sorted(deciding.items(), key=lambda kv: -SEVERITY_RANK[kv[0]]))
            line += f"; the run fails on {'it' if n == 1 else 'them'} ({which} hidden, --fail-on {fail_on})"
    return line


def _count(severity: str, n: int) -> str:
    return f"{n} info" if severity == INFO else plural(n, severity)
