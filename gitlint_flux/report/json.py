"""JSON report, format version 1 (its schema: docs/report.schema.json).

Fields may be added in later versions of format 1; none are removed or changed.
"""

from __future__ import annotations

import json

from ..model import ERROR, INFO, WARNING, RunReport

VERSION = 1


def as_dict(report: RunReport) -> dict:
    return {
        "version": VERSION,
        "tool": {"name": report.tool_name, "version": report.tool_version},
        "root": report.root,
        "summary": {
            "files": len(report.files),
            "documents": report.documents,
            "skipped_files": len(report.skipped),
            "errors": report.count(ERROR),
            "warnings": report.count(WARNING),
            "infos": report.count(INFO),
        },
        "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
        "findings": [f.to_dict() for f in report.iter_sorted()],
    }


def render(report: RunReport, color: bool = False, workspace: str | None = None) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
