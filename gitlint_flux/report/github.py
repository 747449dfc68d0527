"""GitHub Actions workflow commands: one annotation per finding, then the summary line.

``::error file=PATH,line=L,col=C,endLine=L,endColumn=C,title=TITLE::MESSAGE``
(``::warning`` for warnings, ``::notice`` for info).  Escaping as in actions/toolkit:
``%``, CR and LF in the message; those and ``:`` and ``,`` in properties.  GitHub
accepts columns only on a single line, so a region that spans lines is annotated at its
start; ``endColumn`` is the last column of the region (inclusive).  Paths are relative
to the workspace (``$GITHUB_WORKSPACE``, read by the CLI) when the root is a
sub-directory of it.
"""

from __future__ import annotations

from ..model import ERROR, INFO, WARNING, RunReport
from .common import summary_line, workspace_path

COMMANDS = {ERROR: "error", WARNING: "warning", INFO: "notice"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def annotation(report: RunReport, f, workspace: str | None = None) -> str:
    props = [("file", workspace_path(report, f.path, workspace)), ("line", str(max(1, f.line))),
             ("col", str(max(1, f.column)))]
    if f.end_line == f.line and f.end_column is not None and f.end_column - 1 >= f.column:
        props += [("endLine", str(f.end_line)), ("endColumn", str(f.end_column - 1))]
    props.append(("title", f"{f.rule} {f.slug}"))
    message = f.message + (f"\n{f.hint}" if f.hint else "")
    cmd = COMMANDS.get(f.severity, "warning")
    return f"::{cmd} " + ",".join(f"{k}={escape_property(v)}" for k, v in props) + "::" + escape_data(message)


def render(report: RunReport, color: bool = False, workspace: str | None = None) -> str:
    lines = [annotation(report, f, workspace) for f in report.iter_sorted()]
    lines.append(summary_line(report))  # as plain log text
    return "\n".join(lines) + "\n"
