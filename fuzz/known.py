"""Failures already reported as bugs (docs/robustness.md lists them), by signature.

The property tests and the fuzzer's CI smoke run treat a failure whose signature matches
one of these as known (each has its own xfail regression test in tests/robustness);
anything else fails.  Remove an entry when its bug is fixed: the regression test's
strict xfail marker goes at the same time.
"""

from __future__ import annotations

import re

KNOWN: dict[str, str] = {
    # none open: BUG-01 to BUG-22 are fixed, each pinned by its regression test
}

_COMPILED = {k: re.compile(v) for k, v in KNOWN.items()}


def known_bug(signature: str) -> str | None:
    for bug, rx in _COMPILED.items():
        if rx.search(signature):
            return bug
    return None
