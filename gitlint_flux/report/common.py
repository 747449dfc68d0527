"""What several formatters share: paths relative to a CI workspace, a finding's
fingerprint, and the summary line."""

from __future__ import annotations

import os

from ..model import ERROR, INFO, WARNING, Finding, RunReport

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


def fingerprint(f: Finding) -> str:
    """The finding's fingerprint (computed when a report was made by hand, without the
    findings pipeline)."""
    return f.fingerprint or f.compute_fingerprint()


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural_word or word + 's')}"


def summary_line(report: RunReport) -> str:
    e, w, i = report.count(ERROR), report.count(WARNING), report.count(INFO)
    return (f"{plural(len(report.files), 'file')} linted, {len(report.skipped)} skipped, "
            f"{plural(report.documents, 'document')}: {plural(e, 'error')}, {plural(w, 'warning')}, {i} info")
