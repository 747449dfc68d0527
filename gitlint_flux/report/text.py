"""``path:line:column: severity CODE message [slug]``, sorted, then a summary line."""

from __future__ import annotations

from ..model import ERROR, INFO, WARNING, RunReport
from .common import summary_line

_COLORS = {ERROR: "\033[31m", WARNING: "\033[33m", INFO: "\033[36m"}
_RESET = "\033[0m"
_BOLD = "\033[1m"


def render(report: RunReport, color: bool = False, workspace: str | None = None) -> str:
    lines = []
    for f in report.iter_sorted():
        sev = f.severity
        if color:
            loc = f"{_BOLD}{f.path}:{f.line}:{f.column}:{_RESET}"
            sev = f"{_COLORS[f.severity]}{f.severity}{_RESET}"
        else:
            loc = f"{f.path}:{f.line}:{f.column}:"
        msg = f.message.replace("\n", " ")
        lines.append(f"{loc} {sev} {f.rule} {msg} [{f.slug}]")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
