"""Fixtures of the robustness suite (helpers live in robustness/harness.py).

This directory is a package so that its modules do not clash with tests/conftest.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))


@pytest.fixture
def tree(tmp_path):
    """``tree({...})`` writes files (text is written as UTF-8, bytes as they are) under
    ``<tmp>/repo`` and returns that root; ``<tmp>/outside`` is a sibling outside it."""
    from .harness import write_tree

    root = tmp_path / "repo"
    root.mkdir(exist_ok=True)
    (tmp_path / "outside").mkdir(exist_ok=True)

    def make(files=None):
        return write_tree(root, files or {})
    return make
