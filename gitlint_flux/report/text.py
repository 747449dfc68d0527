"""``path:line:column: severity CODE message [slug]``, sorted, then a summary line.

Paths are relative to ``workspace`` (the working directory, as ruff and eslint print
them, so that an editor's ``%f:%l:%c`` resolves), absolute when the file lies outside it,
root-relative when no workspace is given; an editor buffer (``stdin_path``) is printed as
its ``--stdin-filename`` gave it.
"""

from __future__ import annotations

from ..model import ERROR, INFO, WARNING, RunReport
from .common import display_path, summary_line

_COLORS = {ERROR: "\033[31m", WARNING: "\033[33m", INFO: "\033[36m"}
_RESET = "\033[0m"
_BOLD = "\033[1m"


def render(report: RunReport, color: bool = False, workspace: str | None = None, fail_on: str = "error",
           stdin_path: tuple[str, str] | None = None) -> str:
    lines = []
    shown: dict[str, str] = {}
    for f in report.iter_sorted():
        path = shown.get(f.path)
        if path is None:
            path = shown[f.path] = (stdin_path[1] if stdin_path and f.path == stdin_path[0]
                                    else display_path(report, f.path, workspace))
        sev = f.severity
        if color:
            loc = f"{_BOLD}{path}:{f.line}:{f.column}:{_RESET}"
            sev = f"{_COLORS[f.severity]}{f.severity}{_RESET}"
        else:
            loc = f"{path}:{f.line}:{f.column}:"
        msg = f.message.replace("\n", " ")
        lines.append(f"{loc} {sev} {f.rule} {msg} [{f.slug}]")
    lines.append(summary_line(report, fail_on))
    return "\n".join(lines) + "\n"
