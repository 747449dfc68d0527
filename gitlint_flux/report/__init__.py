"""Formatters: each turns a ``RunReport`` (and nothing else) into text."""

from __future__ import annotations

from typing import Callable

from ..model import RunReport


def _text(report: RunReport, color: bool = False) -> str:
    from .text import render
    return render(report, color=color)


def _json(report: RunReport, color: bool = False) -> str:
    from .json import render
    return render(report)


FORMATS: dict[str, Callable[..., str]] = {
    "text": _text,
    "json": _json,
}


def render(fmt: str, report: RunReport, color: bool = False) -> str:
    return FORMATS[fmt](report, color=color)
