"""What the graph is made of: roots (clusters), scopes and the sources that are this checkout."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ignore import Matcher
from ..model import Applied, Document

@dataclass(eq=False)
class Root:
    applied: Applied
    kind: str  # gotk-sync, bootstrap-dir, FluxInstance, flux-instance-chart, config, fallback
    path: str  # root-relative dir it applies
    source_key: tuple | None  # (kind, ns, name) of its source
    source_doc: Document | None = None
    #: the document that defines the root when it is not a Kustomization itself (a
    #: FluxInstance, a flux-instance HelmRelease)
    anchor: Document | None = None
    sync_at: tuple = ()  # the field path of the anchor's `sync` (where findings about it go)


@dataclass(eq=False)
class Scope:
    name: str
    root: Root | None
    applied: list[Applied] = field(default_factory=list)
    index: dict[tuple, list[Applied]] = field(default_factory=dict)  # (kind, ns, name)
    parent: str | None = None
    _by_kind: dict[str, list[Applied]] | None = field(default=None, repr=False, compare=False)

    def add(self, a: Applied) -> None:
        self.applied.append(a)
        self.index.setdefault((a.doc.kind, a.namespace, a.name), []).append(a)
        self._by_kind = None

    def find(self, kind: str, namespace: str, name: str) -> list[Applied]:
        return self.index.get((kind, namespace, name), [])

    def of_kind(self, kind: str) -> list[Applied]:
        if self._by_kind is None:
            by: dict[str, list[Applied]] = {}
            for a in self.applied:
                by.setdefault(a.doc.kind, []).append(a)
            self._by_kind = by
        return self._by_kind.get(kind, [])


@dataclass
class LocalSource:
    key: tuple
    dir: str  # root-relative directory the source's root maps to ("" = the root)
    matcher: Matcher
    url: str = ""
    ref: str = ""
    reason: str = ""  # why the source is taken to be this checkout (for `gitlint-flux roots`)

