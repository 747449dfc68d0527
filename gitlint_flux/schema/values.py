"""Value helpers that the validator and the CEL evaluator share.

* ``OPAQUE`` -- the value of a Flux post-build placeholder left unresolved (or a SOPS
  ciphertext): its type, pattern, enum and format are unknown, so nothing is judged on it;
* ``retype`` -- a substituted string read back as YAML, as kustomize-controller re-reads
  the substituted manifest (``"3"`` -> ``3``);
* ``is_go_duration`` -- Go's ``time.ParseDuration`` grammar (what ``metav1.Duration``
  decodes).
"""

from __future__ import annotations

import re
from typing import Any


class Opaque:
    """The type of ``OPAQUE`` (one instance)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OPAQUE"


OPAQUE = Opaque()


def retype(s: str) -> Any:
    """A plain scalar's YAML 1.2 value (the string itself when it is one)."""
    from ..yamlcompose import resolve_plain

    try:
        return resolve_plain(s)
    except Exception:  # pragma: no cover - defensive
        return s


# Go's time.ParseDuration (src/time/format.go): an optional sign, then one or more
# decimal numbers (with an optional fraction, either side of the dot may be empty but not
# both) each followed by a unit; "0" alone is valid. Units: ns, us, µs (U+00B5), μs
# (U+03BC), ms, s, m, h.
_GO_DURATION = re.compile(r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+")


def is_go_duration(s: str) -> bool:
    """``s`` parses with Go's ``time.ParseDuration`` (range overflow aside)."""
    if s in ("0", "+0", "-0"):
        return True
    return _GO_DURATION.fullmatch(s) is not None
