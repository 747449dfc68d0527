"""Formatters: each turns a ``RunReport`` (and nothing else) into text.

A formatter module has ``render(report, color=False) -> str``; ``FORMATS`` maps the
``--format`` names to modules, imported only when used.
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


def render(fmt: str, report: RunReport, color: bool = False) -> str:
    module = importlib.import_module(f"{__name__}.{FORMATS[fmt]}")
    return module.render(report, color=color)
