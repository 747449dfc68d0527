"""GitLab Code Quality (a subset of the Code Climate issue format): a JSON array.

Each issue has ``description``, ``check_name`` (the rule code), ``fingerprint``,
``severity`` and ``location.path`` / ``location.lines.begin`` (and ``end``).  GitLab
compares fingerprints between the merge request and its target branch, so they must not
change when unrelated lines move: the finding's fingerprint leaves line numbers out and
tells identical findings of one file apart (see ``Finding.compute_fingerprint``).

Severities: error -> ``major``, warning -> ``minor``, info -> ``info``.

Paths are relative to the project directory: root-relative, prefixed with the root's
place under the workspace (``$CI_PROJECT_DIR``, read by the CLI) when the root is a sub-directory of it.  UTF-8, no BOM.
"""

from __future__ import annotations

import json

from ..model import ERROR, INFO, WARNING, RunReport
from .common import fingerprint, workspace_path

SEVERITIES = {ERROR: "major", WARNING: "minor", INFO: "info"}


def as_list(report: RunReport, workspace: str | None = None) -> list[dict]:
    out = []
    for f in report.iter_sorted():
        issue = {
            "type": "issue",
            "engine_name": report.tool_name,
            "check_name": f.rule,
            "description": f"{f.rule} {f.message}",
            "categories": ["Bug Risk"],
            "severity": SEVERITIES.get(f.severity, "minor"),
            "fingerprint": fingerprint(f),
            "location": {
                "path": workspace_path(report, f.path, workspace),
                "lines": {"begin": max(1, f.line), "end": max(1, f.line, f.end_line or 0)},
            },
        }
        if f.hint or f.url:
            issue["content"] = {"body": "\n\n".join(x for x in (f.hint, f.url) if x)}
        out.append(issue)
    return out


def render(report: RunReport, color: bool = False, workspace: str | None = None) -> str:
    return json.dumps(as_list(report, workspace), indent=2, ensure_ascii=False) + "\n"
