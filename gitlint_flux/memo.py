"""Results kept from one check to the next, for the language server.

A check of an edited buffer builds the graph and runs the analysis again, but almost every
object it meets is the very object of the check before (the unchanged files keep their
parsed documents). A pure step over such objects (post-build substitution of an object, a
kustomize generator over its inputs, the validation of a value against a schema node) is
taken from the ``Memo`` instead of computed again.

Keys are the identities of the inputs plus plain data (variables, flags). An entry holds
its inputs, so an identity is never reused by another object while the entry lives. A
check starts a generation (``next_generation``): what the previous check used and this one
does not is dropped, so the memo holds one check's worth of results, never more.

The CLI runs without a memo (every step is computed once per run anyway).
"""

from __future__ import annotations

from typing import Any, Callable

#: what ``lookup`` answers for a result it does not hold
MISSING = object()


class Memo:
    def __init__(self) -> None:
        self._current: dict = {}
        self._previous: dict = {}
        self.hits = 0
        self.misses = 0
        self.missed: dict[str, int] = {}  # step -> misses, this check

    def next_generation(self) -> None:
        """A new check: the entries the last one used are kept, the rest go."""
        self._previous, self._current = self._current, {}
        self.hits = self.misses = 0
        self.missed = {}

    def get(self, step: str, inputs: tuple, data: Any, compute: Callable[[], Any]) -> Any:
        """The result of ``step`` over ``inputs`` (objects, by identity) and ``data``
        (hashable plain values): kept, or ``compute()``."""
        result = self.lookup(step, inputs, data)
        if result is MISSING:
            result = compute()
            self.store(step, inputs, data, result)
        return result

    def lookup(self, step: str, inputs: tuple, data: Any) -> Any:
        """The kept result, or ``MISSING``."""
        key = (step, tuple(map(id, inputs)), data)
        entry = self._current.get(key, MISSING)
        if entry is MISSING:
            entry = self._previous.pop(key, MISSING)
            if entry is not MISSING:
                self._current[key] = entry
        if entry is not MISSING and all(a is b for a, b in zip(entry[0], inputs)):
            self.hits += 1
            return entry[1]
        self.misses += 1
        self.missed[step] = self.missed.get(step, 0) + 1
        return MISSING

    def store(self, step: str, inputs: tuple, data: Any, result: Any) -> None:
        self._current[(step, tuple(map(id, inputs)), data)] = (inputs, result)

    def __len__(self) -> int:
        return len(self._current)
