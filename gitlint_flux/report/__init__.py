"""Formatters: each turns a ``RunReport`` (and nothing else) into text.

A formatter module has ``render(report, color=False, workspace=None) -> str``;
``workspace`` is the CI checkout its paths are relative to (``common.WORKSPACE_VARIABLES``:
the caller reads the environment, never the formatter). ``FORMATS`` maps the ``--format``
names to modules, imported only when used.
"""

from __future__ import annotations

import importlib

from ..model import RunReport

FORMATS: dict[str, str] = {
    "text": "text",
    "json": "json",
    "sarif": "sarif",
    "codequality": "codequality",
    "junit": "junit",
    "github": "github",
}


def render(fmt: str, report: RunReport, color: bool = False, workspace: str | None = None) -> str:
    module = importlib.import_module(f"{__name__}.{FORMATS[fmt]}")
    return module.render(report, color=color, workspace=workspace)
