"""``--statistics``: one row per rule (code, slug, severity, count), most frequent first,
then the summary line; ``fmt_json`` for ``--format json --statistics``."""

from __future__ import annotations

import json

from ..model import SEVERITY_RANK, RunReport
from .common import summary_line


def rows(report: RunReport) -> list[dict]:
    """Counts per rule; ``severity`` lists the severities its findings have, highest first."""
    by_rule: dict[str, dict] = {}
    for f in report.findings:
        row = by_rule.setdefault(f.rule, {"code": f.rule, "slug": f.slug, "severities": set(), "count": 0})
        row["severities"].add(f.severity)
        row["count"] += 1
    out = []
    for row in by_rule.values():
        sevs = sorted(row.pop("severities"), key=SEVERITY_RANK.__getitem__, reverse=True)
        out.append({**row, "severity": "/".join(sevs)})
    return sorted(out, key=lambda r: (-r["count"], r["code"]))


def render(report: RunReport, color: bool = False, workspace: str | None = None, fail_on: str = "error") -> str:
    table = rows(report)
    lines = []
    if table:
        wc = max(len("count"), *(len(str(r["count"])) for r in table))
        ws = max(len("slug"), *(len(r["slug"]) for r in table))
        wv = max(len("severity"), *(len(r["severity"]) for r in table))
        lines.append(f"{'count':>{wc}}  {'code':<6}  {'slug':<{ws}}  {'severity':<{wv}}".rstrip())
        for r in table:
            lines.append(f"{r['count']:>{wc}}  {r['code']:<6}  {r['slug']:<{ws}}  {r['severity']:<{wv}}".rstrip())
    lines.append(summary_line(report, fail_on))
    return "\n".join(lines) + "\n"


def render_json(report: RunReport) -> str:
    return json.dumps(rows(report), indent=2) + "\n"
