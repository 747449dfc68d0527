"""What a rule sees: the loaded files, the graph, the configuration and the problems the
loader and the graph recorded, plus a typed memo for work several rules share (the schema
analysis, indexes).

The context is built by the engine once per run and handed to every rule; rules import it
from here (never from the engine), so the rule API does not depend on the orchestrator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

from ..model import Applied, MemoKey, Problem, SourceFile

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from ..graph import Graph

T = TypeVar("T")


class Context:
    """The run as rules see it.

    ``config`` is the run's configuration (``gitlint_flux.config.Config``); it is not typed
    here because the configuration imports the rules (for their names), never the reverse.
    """

    def __init__(self, root: str, files: dict[str, SourceFile], graph: "Graph", config: Any,
                 problems: list[Problem], linted: list[str]):
        self.root = root
        self.files = files
        self.graph = graph
        self.config = config
        self._problems: dict[str, list[Problem]] = {}
        for p in problems:
            self._problems.setdefault(p.kind, []).append(p)
        self._linted = linted
        self._memo: dict[MemoKey, Any] = {}
        #: the document a rule is looking at (named in an internal-error finding)
        self.current = None
        #: the root-relative paths whose findings the run reports (None: every file). A
        #: stage may skip work whose findings can only lie outside them (the schema stage
        #: does: its findings are in the document judged, never pointing elsewhere)
        self.selection: list[str] | None = None
        self._objects: list[Applied] | None = None
        self._kind_index: dict[str, list[int]] = {}
        self._of_kinds: dict[tuple, list[Applied]] = {}

    def memo(self, key: MemoKey[T], factory: Callable[[], T]) -> T:
        """The value under ``key``, computed by ``factory`` the first time it is asked for."""
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = factory()
            return value

    def problems_of(self, kinds: tuple[str, ...]) -> list[Problem]:
        out: list[Problem] = []
        for k in kinds:
            out.extend(self._problems.get(k, ()))
        return out

    def linted_files(self) -> list[SourceFile]:
        return [self.files[p] for p in self._linted]

    def applied(self, kinds: tuple[str, ...] | None = None) -> Iterator[Applied]:
        """Objects as Flux applies them, in every cluster (a document applied in two
        clusters comes twice; findings are deduplicated by location), then the objects no
        root applies (scope ``(not applied)``: per-object rules judge them too, and the
        findings pipeline caps their findings; rules that need the cluster skip them)."""
        objects = self._objects
        if objects is None:  # listed once per run (the graph is complete when rules run), indexed by kind
            objects = self._objects = list(self.graph.applied_objects(unapplied=True))
            for i, a in enumerate(objects):
                self._kind_index.setdefault(a.doc.kind, []).append(i)
        if kinds is not None:
            seq = self._of_kinds.get(kinds)
            if seq is None:
                index = self._kind_index
                seq = self._of_kinds[kinds] = [objects[i] for i in sorted(
                    i for k in set(kinds) for i in index.get(k, ()))]
            objects = seq
        for a in objects:
            self.current = a.doc
            yield a
