"""One pass over the repository that every FLX2xx rule reads its findings from.

The pass is computed by the first schema rule that runs and memoised on the run's
context, so the schemas are loaded, compiled and walked once however many schema rules
are enabled. Each defect is recorded under exactly one rule code:

=======  =====================================================================
FLX201   unknown field (custom resources and built-in kinds)
FLX202   wrong type
FLX203   missing required field
FLX204   invalid value: enum, pattern, format, limits, duplicates, anyOf/oneOf
FLX205   CEL rule (``x-kubernetes-validations``) violated
FLX206   metadata: name, generateName, namespace, label and annotation keys/values
FLX207   removed (or never served) apiVersion; the document is not validated further
FLX208   deprecated apiVersion still served by the repository's own CRDs
FLX209   no schema for a kind (once per kind)
FLX210   kustomization file: unknown field, wrong type or value, apiVersion/kind
FLX211   kustomization file: deprecated field
FLX212   kustomization file: ``helmCharts`` under a Flux Kustomization
=======  =====================================================================
"""

from __future__ import annotations

import os
import posixpath
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ..graph import NOT_APPLIED, is_flux_ks
from ..memo import MISSING
from ..model import Document, Loc, MemoKey, YMap, YSeq, get_path, in_selection, resource_of
from . import validate as V
from .values import OPAQUE

UNKNOWN_FIELD = "FLX201"
WRONG_TYPE = "FLX202"
MISSING_REQUIRED = "FLX203"
INVALID_VALUE = "FLX204"
CEL_RULE = "FLX205"
METADATA = "FLX206"
REMOVED_API = "FLX207"
DEPRECATED_API = "FLX208"
NO_SCHEMA = "FLX209"
KUSTOMIZATION_FIELD = "FLX210"
KUSTOMIZATION_DEPRECATED = "FLX211"
KUSTOMIZATION_HELM = "FLX212"

_CODE_OF = {V.UNKNOWN: UNKNOWN_FIELD, V.TYPE: WRONG_TYPE, V.REQUIRED: MISSING_REQUIRED, V.VALUE: INVALID_VALUE,
            V.CEL: CEL_RULE}
_NOT_VALIDATED_ROLES = frozenset(("generator", "values", "config", "plugin"))
_VALIDATED_ROLES = frozenset(("resource", "patch", "kustomization", "component", "crd"))


@dataclass
class Issue:
    code: str
    path: str
    line: int
    column: int
    end_line: int | None
    end_column: int | None
    message: str
    hint: str
    resource: dict | None
    caps: tuple = ()  # (severity, reason) pairs the findings pipeline applies


#: the cap of findings from a catalog schema that a release difference can explain
CATALOG_CAP = ("warning", "catalog schema")


class Settings:
    """Schema settings, read defensively from the configuration (keys that a project
    version may not know yet default to their off state)."""

    def __init__(self, config: Any, root: str):
        locs = getattr(config, "schema_locations", None) or []
        if isinstance(locs, str):
            locs = [locs]
        self.locations = [p if os.path.isabs(p) else os.path.join(root, p) for p in locs if isinstance(p, str)]
        prec = getattr(config, "schema_order", None) or getattr(config, "schema_precedence", None)
        self.precedence = list(prec) if isinstance(prec, (list, tuple)) else None
        kv = getattr(config, "kubernetes_version", None)
        self.kubernetes_version = str(kv) if kv else None
        self.strict = bool(getattr(config, "strict_schemas", False))


ANALYSIS = MemoKey["Analysis"]("schema analysis")


def analysis(ctx) -> "Analysis":
    """The schema analysis of this run: computed once (by the engine's schema stage, or by
    the first caller) and kept in the context's memo."""

    def compute() -> "Analysis":
        memo = Analysis(ctx)
        memo.run()
        return memo

    return ctx.memo(ANALYSIS, compute)


def shift_positions(value: Any, dl: int, dc: int, seen: set | None = None) -> None:
    """Move every position of a composed value by (dl, dc) in place."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    if isinstance(value, YMap):
        seen.add(id(value))
        value.line += dl
        value.col += dc
        for k, p in list(value.pos.items()):
            value.pos[k] = (p[0] + dl, p[1] + dc, p[2] + dl, p[3] + dc, p[4] + dl, p[5] + dc)
        for v in value.values():
            shift_positions(v, dl, dc, seen)
    elif isinstance(value, YSeq):
        seen.add(id(value))
        value.line += dl
        value.col += dc
        value.pos = [(p[0] + dl, p[1] + dc, p[2] + dl, p[3] + dc) for p in value.pos]
        for v in value:
            shift_positions(v, dl, dc, seen)


def pin_positions(value: Any, line: int, col: int, seen: set | None = None) -> None:
    """Every position of a composed value set to one place (an inline patch whose text
    cannot be mapped back line by line)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    if isinstance(value, YMap):
        seen.add(id(value))
        value.line, value.col = line, col
        for k in value.pos:
            value.pos[k] = (line, col, line, col, line, col)
        for v in value.values():
            pin_positions(v, line, col, seen)
    elif isinstance(value, YSeq):
        seen.add(id(value))
        value.line, value.col = line, col
        value.pos = [(line, col, line, col)] * len(value.pos)
        for v in value:
            pin_positions(v, line, col, seen)


class Analysis:
    def __init__(self, ctx):
        self.ctx = ctx
        self.graph = ctx.graph
        self.settings = Settings(ctx.config, ctx.root)
        self.issues: dict[str, list[Issue]] = defaultdict(list)
        self._seen: set = set()
        self.no_schema: dict[tuple[str, str], list[Document]] = {}
        self.error: BaseException | None = None
        self.reported_error = False
        self.stats: dict[str, int] = defaultdict(int)
        self._includers: dict[str, list[str]] | None = None
        #: while an object's checks are recorded for the memo: what they report
        self._record: list | None = None
        self._epoch: object | None = None
        #: while a document outside the run's selection is looked up: nothing is reported
        self._quiet = False

    # ------------------------------------------------------------------ output

    def of(self, code: str) -> list[Issue]:
        return self.issues.get(code, [])

    def add(self, code: str, doc: Document, path: tuple, at: str, message: str, hint: str = "",
            resource: dict | None = None, caps: tuple = ()) -> None:
        if self._quiet:
            return
        if self._record is not None:
            self._record.append((code, doc, path, at, message, hint, resource, caps))
        if at == V.AT_KEY and path:
            loc = doc.loc(*path, key=True)
        elif at == V.AT_PARENT:
            loc = doc.loc(*path[:-1], key=True) if len(path) > 1 else Loc(doc.line, doc.column)
        else:
            loc = doc.loc(*path) if path else Loc(doc.line, doc.column)
        if doc.origin == "resourceset" and doc.source is not None:
            label = f", input {doc.input_label}" if doc.input_label else ""
            message += f" (rendered by ResourceSet `{doc.source.name}`{label})"
        key = (code, doc.path, loc.line, loc.column, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.issues[code].append(Issue(code, doc.path, loc.line, loc.column, loc.end_line, loc.end_column,
                                       message, hint, resource if resource is not None else resource_of(doc),
                                       tuple(caps)))

    # ------------------------------------------------------------------ the pass

    def run(self) -> None:
        try:
            with V.pattern_timer():
                self._run()
        except Exception as exc:  # reported once, by the first schema rule, as an internal error
            self.error = exc

    def _run(self) -> None:
        from .catalog import Catalog

        ctx = self.ctx
        graph = self.graph
        s = self.settings
        self.catalog = Catalog(graph, ctx.files, locations=s.locations, precedence=s.precedence,
                               kubernetes_version=s.kubernetes_version)
        self._flux_built: set[str] | None = None
        roles = graph.resolver.roles
        # a run that reports some paths only (an editor's buffer, `lint FILE`) judges only
        # their documents: every finding of this stage lies in the document it judges
        sel = getattr(ctx, "selection", None)
        # what ResourceSets render is validated like any other object, at its template
        for doc in graph.rendered:
            if doc.is_object:
                ctx.current = doc
                if sel is None or in_selection(doc.path, sel):
                    self.obj(doc, False)
                else:
                    self.looked_up(doc, False)
        for sf in ctx.linted_files():
            r = roles.get(sf.path, set())
            if r and not (r & _VALIDATED_ROLES) and r & _NOT_VALIDATED_ROLES:
                continue  # generator inputs, Helm values, configuration files
            wanted = sel is None or in_selection(sf.path, sel)
            if sf.is_kustomization:
                if not wanted:
                    continue
                for doc in sf.documents:
                    if isinstance(doc.value, dict) and not doc.origin:
                        ctx.current = doc
                        self.kustomization(sf, doc)
                        break
                continue
            partial = "patch" in r and "resource" not in r
            for doc in sf.documents:
                if doc.origin or not doc.is_object:
                    continue
                ctx.current = doc
                if doc.api_version.startswith("kustomize.config.k8s.io/"):
                    if wanted:
                        self.kustomization(sf, doc)
                    continue
                if not wanted:
                    self.looked_up(doc, partial)
                    continue
                self.kept_obj(doc, partial)
                if is_flux_ks(doc):
                    spec = doc.spec
                    patches = spec.get("patches")
                    if isinstance(patches, list):
                        for i, p in enumerate(patches):
                            if isinstance(p, dict) and isinstance(p.get("patch"), str):
                                self.inline_patch(sf, doc, ("spec", "patches", i, "patch"))
        ctx.current = None
        self.incomplete_objects()
        self.report_no_schema()

    def incomplete_objects(self) -> None:
        """Documents that read as manifests but lack ``apiVersion`` or ``kind`` (the loader
        finds them): the API server and kustomize refuse them. Files that kustomize or
        Flux applies get FLX104 for the same document instead."""
        problems = getattr(self.ctx, "problems_of", None)
        if problems is None:
            return
        roles = self.graph.resolver.roles
        linted = {sf.path for sf in self.ctx.linted_files()}
        for p in problems(("incomplete-object",)):
            if p.path not in linted or "resource" in roles.get(p.path, ()):
                continue
            key = (MISSING_REQUIRED, p.path, p.line, p.column, p.message)
            if key in self._seen:
                continue
            self._seen.add(key)
            self.issues[MISSING_REQUIRED].append(Issue(MISSING_REQUIRED, p.path, p.line, p.column, p.end_line,
                                                       p.end_column, p.message, p.hint, p.resource))

    # ------------------------------------------------------------------ objects

    def scopes_of(self, doc: Document) -> set:
        return {a.scope for a in self.graph.applied_by_doc.get(id(doc), [])} or {NOT_APPLIED}

    def variables_of(self, doc: Document) -> dict[str, str]:
        """Post-build variables with a known value that every Kustomization applying
        ``doc`` agrees on (the graph reads them from inline ``substitute`` and the
        ``substituteFrom`` ConfigMaps and Secrets of the cluster)."""
        result: dict[str, str] | None = None
        for a in self.graph.applied(doc):
            vs = getattr(a, "variables", None)
            if not isinstance(vs, dict):
                continue
            known = {str(k): v for k, v in vs.items() if isinstance(v, str)}
            result = known if result is None else {k: v for k, v in result.items() if known.get(k) == v}
        return result or {}

    def operator_installed(self, scopes: set) -> bool:
        """Flux in these clusters is installed by flux-operator."""
        for name in scopes:
            sc = self.graph.scopes.get(name)
            if sc is not None and sc.root is not None and sc.root.kind in ("FluxInstance", "flux-instance-chart"):
                return True
        return False

    def is_applied(self, doc: Document) -> bool:
        if self.graph.roots:
            return self.graph.reachable(doc)
        return True

    def catalog_epoch(self) -> object:
        """A token that stays the same from check to check while the repository's CRDs
        (their values and the clusters they are applied in) stay the same."""
        if self._epoch is None:
            crds = [c for cs in self.catalog.repo.by_gk.values() for c in cs]
            inputs = tuple(c.doc.value for c in crds)
            data = tuple((c.doc.path, frozenset(c.scopes)) for c in crds)
            self._epoch = self.graph.memo.get("catalog-epoch", inputs, data, object)
        return self._epoch

    def kept_obj(self, doc: Document, partial: bool, *, inline: bool = False) -> None:
        """``obj``, taken from the check before (the language server's memo) when the
        document and all that ``obj`` reads of the graph and the catalog are the same: its
        clusters, whether it is applied, its variables, the names and values it is applied
        with, whether flux-operator installs Flux there, the repository's CRDs."""
        memo = self.graph.memo
        if memo is None or doc.kind == "Namespace" or doc.origin == "resourceset":
            self.obj(doc, partial, inline=inline)
            return
        from ..substitution import is_disabled

        # the objects that apply the document are those of the check before when their
        # builds were kept (``Walker._apply``): everything ``obj`` reads of them is theirs
        apps = tuple(self.graph.applied_by_doc.get(id(doc), ()))
        scopes = {a.scope for a in apps} or {NOT_APPLIED}
        fast_inputs = (doc, self.catalog_epoch()) + apps
        fast_data = ("by-objects", partial, inline, self.operator_installed(scopes), bool(self.graph.roots))
        hit = memo.lookup("schema-object", fast_inputs, fast_data)
        inputs = data = None
        if hit is MISSING:  # new objects (a build made again): the same when what obj reads is
            applications = self.graph.applied(doc)
            variables = {} if is_disabled(doc.value) else self.variables_of(doc)
            data = (partial, inline, frozenset(scopes), self.is_applied(doc), tuple(sorted(variables.items())),
                    tuple(sorted({a.name for a in applications})), self.operator_installed(scopes),
                    bool(self.graph.roots))
            inputs = (doc, self.catalog_epoch()) + tuple(getattr(a, "effective", None) for a in applications)
            hit = memo.lookup("schema-object", inputs, data)
            if hit is not MISSING:
                memo.store("schema-object", fast_inputs, fast_data, hit)
        if hit is not MISSING:
            self.stats["documents"] += 1
            for op in hit:
                if op[0] == "no-schema":
                    self.no_schema.setdefault((op[1], op[2]), []).append(op[3])
                else:
                    self.add(*op)
            return
        self._record = record = []
        try:
            self.obj(doc, partial, inline=inline)
        finally:
            self._record = None
        memo.store("schema-object", inputs, data, record)
        memo.store("schema-object", fast_inputs, fast_data, record)

    def looked_up(self, doc: Document, partial: bool) -> None:
        """What ``obj`` must know of a document outside the run's selection: whether its
        kind has a schema (the no-schema finding counts every document without one and
        lies at the first of them). Nothing of the document itself is judged."""
        n = self.stats["documents"]
        self._quiet = True
        try:
            self.obj(doc, partial)
        finally:
            self._quiet = False
            self.stats["documents"] = n

    def obj(self, doc: Document, partial: bool, *, inline: bool = False) -> None:
        # the modules are bound once per run (an import statement per document costs more
        # than the document's validation on small objects)
        (FLUX_ECOSYSTEM, FLUX_GROUPS, FLUX_MIGRATE_HINT, FLUX_TOOLKIT_GROUPS, fmt_version, kube_removed, might_be_core,
         parse_version, check_metadata, is_encrypted, resolve_or_opaque, is_disabled) = self._names()

        value = doc.value
        av = doc.api_version
        group, _, version = av.rpartition("/")
        kind = doc.kind
        cat = self.catalog
        scopes = self.scopes_of(doc)
        applied = self.is_applied(doc)
        variables = {} if is_disabled(value) else self.variables_of(doc)

        def resolve(text: str, _vars=variables):
            """A string as Flux substitutes it, or OPAQUE when it needs a variable whose
            value the repository does not tell (never judged)."""
            return resolve_or_opaque(text, _vars, opaque=OPAQUE, typed=True)
        self.stats["documents"] += 1

        # ---- the apiVersion: removed, deprecated, never served
        deprecated_msg = None
        if group in FLUX_TOOLKIT_GROUPS and applied and cat.bundled.available and cat.bundled.served(group, kind) is None \
                and not cat.repo.knows(group, kind) and not cat.locations:
            s = V.suggest(kind, cat.bundled.kinds(group))
            self.add(REMOVED_API, doc, ("kind",), V.AT_VALUE,
                     f"`{group}` has no kind {kind}" + (f" (did you mean `{s}`?)" if s else ""),
                     f"did you mean `{s}`?" if s else f"Flux {cat.bundled.flux} serves: {', '.join(cat.bundled.kinds(group))}.")
            return
        if group in FLUX_GROUPS:
            served = cat.bundled.served(group, kind)
            if served is not None and version not in served:
                serving = cat.repo.serving(group, kind, version, scopes)
                removed_in = self._flux_removed(group, version)
                latest = f"{group}/{served[-1]}"
                if removed_in and serving:
                    c = serving[0]
                    deprecated_msg = (
                        f"`{av}` {kind} is deprecated: Flux {removed_in} removed it; {c.where} still serves it. "
                        f"Use `{latest}`", FLUX_MIGRATE_HINT)
                elif removed_in:
                    self.add(REMOVED_API, doc, ("apiVersion",), V.AT_VALUE,
                             f"`{av}` {kind} was removed in Flux {removed_in}; use `{latest}`", FLUX_MIGRATE_HINT)
                    return
                elif not serving and not cat.locations:
                    if applied:
                        who = FLUX_ECOSYSTEM.get(group)
                        who = f"{who} (bundled with Flux {cat.bundled.flux})" if who else f"Flux {cat.bundled.flux}"
                        shown = ", ".join(f"`{group}/{v}`" for v in served)
                        self.add(REMOVED_API, doc, ("apiVersion",), V.AT_VALUE,
                                 f"`{av}` is not an API version of {kind}: {who} serves {shown}",
                                 f"Use `apiVersion: {latest}`.")
                        return
        elif might_be_core(group) and not cat.repo.knows(group, kind):
            kube = cat.kube
            if kube is not None and kube.node(group, version, kind) is None:
                rem = kube_removed(group, version, kind)
                target = parse_version(cat.wanted_kube_version) or cat.kube_version
                if rem is not None and target is not None and target >= rem[0]:
                    repl = f"use `{rem[1]}`" if rem[1] else "it has no replacement"
                    note = f" ({rem[2]})" if rem[2] else ""
                    self.add(REMOVED_API, doc, ("apiVersion",), V.AT_VALUE,
                             f"`{av}` {kind} was removed in Kubernetes {fmt_version(rem[0])}; {repl}{note}",
                             f"Change `apiVersion`{' to `' + rem[1] + '`' if rem[1] else ''} and review the fields "
                             f"that changed (`kubectl convert` can help).")
                    return
                if group in kube.groups and applied and not cat.locations and rem is None:
                    versions = kube.versions_of(group, kind)
                    kinds = kube.kinds_of(group)
                    if not versions and kind not in kinds:
                        s = V.suggest(kind, kinds)
                        gv = f"{group}/" if group else ""
                        self.add(REMOVED_API, doc, ("kind",), V.AT_VALUE,
                                 f"`{gv}{version}` has no kind {kind}" + (f" (did you mean `{s}`?)" if s else ""),
                                 f"did you mean `{s}`?" if s else "Check `kind` and `apiVersion`.")
                        return
                    if versions:
                        gv = f"{group}/" if group else ""
                        served = ", ".join(f"`{gv}{v}`" for v in versions)
                        self.add(REMOVED_API, doc, ("apiVersion",), V.AT_VALUE,
                                 f"`{av}` {kind} is not served by Kubernetes {cat.kube_label()}: it serves {served}",
                                 "Use a served apiVersion.")
                        return

        if self._quiet:  # only whether there is a schema (``looked_up``): none is compiled
            hits = [True] if cat.has(group, version, kind, scopes, operator=self.operator_installed(scopes)) else []
        else:
            hits = cat.lookup(group, version, kind, scopes, operator=self.operator_installed(scopes))
        if self._quiet and hits:
            return
        if deprecated_msg is not None:
            self.add(DEPRECATED_API, doc, ("apiVersion",), V.AT_VALUE, deprecated_msg[0], deprecated_msg[1])
        elif hits and hits[0].deprecated:
            h = hits[0]
            warn = h.deprecated if h.deprecated != "deprecated" else f"{group}/{version} {kind} is deprecated"
            self.add(DEPRECATED_API, doc, ("apiVersion",), V.AT_VALUE,
                     f"`{av}` {kind} is deprecated by {h.origin}: {warn}", "Move to the CRD's current version.")

        if not hits and applied and not inline and not cat.locations:
            same, _unapplied, _other = cat.repo.tiers(group, kind, scopes)
            if same:
                c = same[0]
                served = sorted(v for v, info in c.versions.items() if info["served"])
                shown = ", ".join(f"`{group}/{v}`" for v in served) or "no version"
                self.add(REMOVED_API, doc, ("apiVersion",), V.AT_VALUE,
                         f"`{av}` {kind} is not served by {c.where}: it serves {shown}",
                         "Use a served apiVersion, or update the CRD.")
                return
        if not hits:
            if not inline:
                if self._record is not None:
                    self._record.append(("no-schema", group, kind, doc))
                self.no_schema.setdefault((group, kind), []).append(doc)
            if applied and not inline and not self._quiet:
                self.metadata(doc, kind, group, resolve, partial, check_metadata)
            return
        if self._quiet:
            return

        self.metadata(doc, kind, group, resolve, partial, check_metadata)
        root_skip = ("sops",) if is_encrypted(value) else ()
        seen: set = set()
        # the object as its Kustomization applies it (a parent's `spec.patches` may add what
        # the file lacks): required fields and CEL rules are judged on that
        applications = self.graph.applied(doc)
        effective = [getattr(a, "effective", None) for a in applications]
        patched = bool(applications) and all(e is not None for e in effective)
        memo = self.graph.memo
        vkey = tuple(sorted(variables.items())) if memo is not None else ()
        for hit in hits:
            validator = V.Validator(resolve=resolve, partial=partial, root_skip=root_skip, lists=hit.lists,
                                    cel=self._cel(resolve))

            def run(v, _validator=validator, _node=hit.node):
                # a pure function of the value, the schema node and the variables: kept
                # from the check before for the objects an edit did not touch
                if memo is None:
                    return _validator.run(v, _node)
                return memo.get("validate", (v, _node), (partial, root_skip, hit.lists, vkey),
                                lambda: list(_validator.run(v, _node)))

            errs = run(value)
            if patched and any(e.kind in (V.REQUIRED, V.CEL) for e in errs):
                still: set = set()
                for eff in effective:
                    for e in run(eff):
                        if e.kind in (V.REQUIRED, V.CEL):
                            still.add((e.kind, e.path, e.message))
                errs = [e for e in errs if e.kind not in (V.REQUIRED, V.CEL) or (e.kind, e.path, e.message) in still]
            if group in FLUX_GROUPS and hit.source in ("repository", "locations"):  # bundled ones have patterns
                errs = errs + V.duration_errors(value, hit.node, resolve)
            for e in errs:
                k = (e.kind, e.path, e.message)
                if k in seen:
                    continue
                seen.add(k)
                if e.kind == V.REQUIRED and not applied and self.graph.roots:
                    continue  # no root applies it: a parent's patches may supply the field
                if hit.source == "catalog" and (e.kind == V.UNKNOWN or e.detail == V.ENUM):
                    self.add(_CODE_OF[e.kind], doc, e.path, e.at, f"{e.message} (per {hit.origin})",
                             self.catalog_hint(e.hint), caps=(CATALOG_CAP,))
                else:
                    self.add(_CODE_OF[e.kind], doc, e.path, e.at, e.message, e.hint)

    def catalog_hint(self, hint: str) -> str:
        pin = ("The bundled catalog schema may be of a newer or older release than your cluster runs; pin the real "
               "one by committing the project's CRDs to the repository (used per cluster), or with "
               "`--schema-location DIR` (configuration `schema-locations:`).")
        return f"{hint} {pin}" if hint else pin

    _NAMES: tuple | None = None

    @classmethod
    def _names(cls) -> tuple:
        if cls._NAMES is None:
            from .apis import FLUX_ECOSYSTEM, FLUX_GROUPS, FLUX_MIGRATE_HINT, FLUX_TOOLKIT_GROUPS, fmt_version, kube_removed
            from .catalog import might_be_core
            from .kube import parse_version
            from .meta import check_metadata
            from ..sops import is_encrypted
            from ..substitution import is_disabled, resolve_or_opaque

            cls._NAMES = (FLUX_ECOSYSTEM, FLUX_GROUPS, FLUX_MIGRATE_HINT, FLUX_TOOLKIT_GROUPS, fmt_version, kube_removed,
                          might_be_core, parse_version, check_metadata, is_encrypted, resolve_or_opaque, is_disabled)
        return cls._NAMES

    @staticmethod
    def _flux_removed(group: str, version: str) -> str | None:
        from .apis import FLUX_REMOVED

        return FLUX_REMOVED.get((group, version))

    def _cel(self, resolve):
        def evaluate(value, node, rule):
            from .cel import evaluate as ev

            self.stats["cel"] += 1
            return ev(rule, value, node, resolve)

        return evaluate

    def metadata(self, doc: Document, kind: str, group: str, resolve, partial: bool, check) -> None:
        finals = sorted({a.name for a in self.graph.applied(doc) if a.name and a.name != doc.name})
        renamed = kind == "Namespace" and group == "" and self.namespace_renamed(doc)
        for e in check(doc.value, kind, group, resolve, partial=partial, final_names=finals, renamed=renamed):
            self.add(METADATA, doc, e.path, V.AT_KEY if e.key else V.AT_VALUE, e.message, e.hint)

    def namespace_renamed(self, doc: Document) -> bool:
        """kustomize's ``namespace:`` (and Flux's ``targetNamespace``, which sets it)
        renames the Namespace objects of a build."""
        for a in self.graph.applied(doc):
            if a.by is not None and isinstance(a.by.spec.get("targetNamespace"), str):
                return True
        if self._includers is None:
            inc: dict[str, list[str]] = defaultdict(list)
            for r in self.graph.resolver.refs:
                if r.role in ("resource", "component"):
                    inc[r.target].append(r.owner)
            self._includers = inc
        files = self.ctx.files
        seen: set[str] = set()
        stack = [doc.path]
        while stack:
            target = stack.pop()
            for owner in self._includers.get(target, ()):
                if owner in seen:
                    continue
                seen.add(owner)
                sf = files.get(owner)
                kdoc = next((d for d in sf.documents if isinstance(d.value, dict)), None) if sf is not None else None
                if kdoc is not None and isinstance(kdoc.value.get("namespace"), str) and kdoc.value["namespace"]:
                    return True
                stack.append(owner.rpartition("/")[0])
        return False

    def report_no_schema(self) -> None:
        from .catalog import might_be_core

        cat = self.catalog
        for (group, kind), docs in sorted(self.no_schema.items()):
            docs = sorted(docs, key=lambda d: (d.path, d.index, d.item or 0))
            d = docs[0]
            versions = sorted({x.api_version for x in docs})
            n = len(docs)
            files = len({x.path for x in docs})
            where = f"{n} document{'s' if n != 1 else ''}" + (f" in {files} files" if files > 1 else "")
            if might_be_core(group) and cat.kube is None:
                hint = ("Kubernetes schemas come from the kubernetes-validate package: install it "
                        "(`pip install kubernetes-validate`).")
            else:
                hint = ("Add the kind's CustomResourceDefinition to the repository (CRDs found in the repository are "
                        "used per cluster), or point `--schema-location` at a directory of JSON schemas "
                        "(flux-schema layout `{group}/{kind}_{version}.json`, kubeconform layout "
                        "`{kind}-{group}-{version}.json`; a checkout of github.com/datreeio/CRDs-catalog works).")
            self.add(NO_SCHEMA, d, ("kind",), V.AT_VALUE,
                     f"no schema for {kind} (`{'`, `'.join(versions)}`; {where}): not validated", hint)

    # ------------------------------------------------------------------ kustomization files

    def flux_built(self) -> set[str]:
        """Directories whose kustomization file a Flux Kustomization builds."""
        if self._flux_built is not None:
            return self._flux_built
        graph = self.graph
        resolver = graph.resolver
        by_owner: dict[str, list] = defaultdict(list)
        for r in resolver.refs:
            by_owner[r.owner].append(r)
        kdirs = set(resolver.kfiles)
        stack: list[str] = []
        for d in graph.ks_paths.values():
            if d in kdirs:
                stack.append(d)
            else:
                for k in kdirs:
                    if d and not k.startswith(d + "/"):
                        continue
                    rel = k[len(d) + 1:] if d else k
                    parts = rel.split("/")
                    parents = {posixpath.join(d, *parts[:i]) if d else "/".join(parts[:i]) for i in range(1, len(parts))}
                    if k and not parents & kdirs:
                        stack.append(k)
        for doc in graph.docs:
            if is_flux_ks(doc):
                for r in by_owner.get(doc.path, ()):
                    if r.role == "component" and r.target in kdirs:
                        stack.append(r.target)
        out: set[str] = set()
        while stack:
            d = stack.pop()
            if d in out:
                continue
            out.add(d)
            kf = resolver.kfiles.get(d)
            if kf is None:
                continue
            for r in by_owner.get(kf.path, ()):
                if r.role in ("resource", "component") and r.target in kdirs:
                    stack.append(r.target)
        self._flux_built = out
        return out

    def kustomization(self, sf, doc: Document) -> None:
        from .kustomize import API_VERSIONS, DEPRECATED, GENERATOR_DEPRECATED, kustomization_node

        value = doc.value
        self.stats["kustomizations"] += 1
        node = kustomization_node()
        memo = self.graph.memo
        errs = V.Validator(partial=False).run(value, node) if memo is None else memo.get(
            "validate", (value, node), (False, (), False, ()), lambda: list(V.Validator(partial=False).run(value, node)))
        for e in errs:
            self.add(KUSTOMIZATION_FIELD, doc, e.path, e.at, e.message, e.hint)
        kind = value.get("kind") if isinstance(value.get("kind"), str) else "Kustomization"
        av = value.get("apiVersion")
        want = API_VERSIONS.get(kind)
        if isinstance(av, str) and av and want and av != want:
            self.add(KUSTOMIZATION_FIELD, doc, ("apiVersion",), V.AT_VALUE,
                     f"`apiVersion` of a {kind} must be `{want}`, not `{av}`; kustomize refuses the file",
                     f"Write `apiVersion: {want}`.")
        lower = {k.lower(): k for k in value if isinstance(k, str)}
        nk = lower.get("namespace")
        ns = value.get(nk) if nk else None
        if isinstance(ns, str) and ns and "${" not in ns:
            from .meta import is_label

            if not is_label(ns):
                self.add(KUSTOMIZATION_FIELD, doc, (nk,), V.AT_VALUE,
                         f"`namespace` `{ns}` is not a valid namespace name: a DNS-1123 label (at most 63 "
                         "characters, lower-case letters, digits and `-`, starting and ending with a letter or digit)",
                         "Use lower-case letters, digits and `-`.")
        for field, (repl, how) in DEPRECATED.items():
            k = lower.get(field.lower())
            if k is not None and value.get(k) not in (None, [], {}):
                self.add(KUSTOMIZATION_DEPRECATED, doc, (k,), V.AT_KEY,
                         f"`{k}` is deprecated; use `{repl}`", f"{how[0].upper()}{how[1:]} (`kustomize edit fix` does it).")
        for gen in ("configMapGenerator", "secretGenerator"):
            gk = lower.get(gen.lower())
            items = value.get(gk) if gk else None
            if isinstance(items, list):
                for i, g in enumerate(items):
                    if isinstance(g, dict):
                        for field, (repl, how) in GENERATOR_DEPRECATED.items():
                            if field in g:
                                self.add(KUSTOMIZATION_DEPRECATED, doc, (gk, i, field), V.AT_KEY,
                                         f"`{gk}[{i}].{field}` is deprecated; use `{repl}`", how)
        d = sf.path.rpartition("/")[0]
        for field in ("helmCharts", "helmChartInflationGenerator"):
            k = lower.get(field.lower())
            if k is not None and value.get(k) and sf.is_kustomization and d in self.flux_built():
                self.add(KUSTOMIZATION_HELM, doc, (k,), V.AT_KEY,
                         f"`{k}` is not supported under a Flux Kustomization: kustomize-controller builds "
                         "without Helm, so the build fails",
                         "Deploy the chart with a HelmRelease (and a HelmRepository or OCIRepository source).")
        for key in ("patches", "patchesJson6902"):
            k = lower.get(key.lower())
            items = value.get(k) if k else None
            if isinstance(items, list):
                for i, p in enumerate(items):
                    if isinstance(p, dict) and isinstance(p.get("patch"), str):
                        self.inline_patch(sf, doc, (k, i, "patch"))
        k = lower.get("patchesstrategicmerge")
        items = value.get(k) if k else None
        if isinstance(items, list):
            for i, p in enumerate(items):
                if isinstance(p, str) and "\n" in p:
                    self.inline_patch(sf, doc, (k, i))

    # ------------------------------------------------------------------ inline patches

    def inline_patch(self, sf, doc: Document, path: tuple) -> None:
        """A strategic-merge patch written inline: validated as a partial object, with
        positions mapped into the file."""
        memo = self.graph.memo
        inner = self._inline_docs(sf, doc, path) if memo is None else memo.get(
            "inline-patch", (doc, sf.text), path, lambda: self._inline_docs(sf, doc, path))
        for d in inner:
            self.stats["inline patches"] += 1
            self.kept_obj(d, True, inline=True)

    def _inline_docs(self, sf, doc: Document, path: tuple) -> list[Document]:
        """The objects of an inline patch, as documents positioned in the file."""
        from ..yamlcompose import compose_all

        out: list[Document] = []
        text = get_path(doc.value, path)
        if not isinstance(text, str) or ("\n" not in text and ":" not in text):
            return out
        try:
            docs, errors = compose_all(text)
        except Exception:
            return out
        if errors:
            return out
        loc = doc.loc(*path)
        lines = (sf.text or "").splitlines()
        block = None
        if 0 < loc.line <= len(lines):
            ch = lines[loc.line - 1][loc.column - 1:loc.column]
            if ch == "|":
                for j in range(loc.line, len(lines)):
                    if lines[j].strip():
                        block = len(lines[j]) - len(lines[j].lstrip(" "))
                        break
        for value, line, col in docs:
            if not isinstance(value, dict) or not isinstance(value.get("apiVersion"), str) or not isinstance(
                    value.get("kind"), str):
                continue
            if block is not None:
                shift_positions(value, loc.line, block)
                line, col = line + loc.line, col + block
            else:
                pin_positions(value, loc.line, loc.column)
                line, col = loc.line, loc.column
            out.append(Document(sf.path, doc.index, value, line, col, origin="inline-patch"))
        return out

