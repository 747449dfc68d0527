"""Formatters: each turns a ``RunReport`` (and nothing else) into text.

A formatter module has ``render(report, color=False, workspace=None, **context) -> str``;
``workspace`` is the directory its paths are relative to: the CI checkout for the CI
formats (``common.WORKSPACE_VARIABLES``), the working directory for ``text`` and
``statistics`` (the caller reads the environment, never the formatter). The other context
a formatter may take, handed by the CLI: ``fail_on`` (the ``--fail-on`` threshold: JUnit
fails only the cases at or above it; the summary line says when hidden findings decide
the exit code) and ``stdin_path`` (``(root-relative path, path as given)`` of an editor
buffer, printed as given). ``FORMATS`` maps the ``--format`` names to modules, imported
only when used.
"""

from __future__ import annotations

import importlib
import inspect

from ..model import RunReport

FORMATS: dict[str, str] = {
    "text": "text",
    "json": "json",
    "sarif": "sarif",
    "codequality": "codequality",
    "junit": "junit",
    "github": "github",
    "statistics": "statistics",
}


def render(fmt: str, report: RunReport, color: bool = False, workspace: str | None = None, **context) -> str:
    module = importlib.import_module(f"{__name__}.{FORMATS[fmt]}")
    accepted = inspect.signature(module.render).parameters
    return module.render(report, color=color, workspace=workspace,
                         **{k: v for k, v in context.items() if k in accepted})
