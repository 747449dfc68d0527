"""Offline rendering of flux-operator ResourceSets.

:func:`render` reproduces what flux-operator's ResourceSet reconciler builds from a
ResourceSet document and the ResourceSetInputProvider documents it can see, without a
cluster. Each behaviour follows the flux-operator source (v0.5x):

* inputs: ``internal/inputs`` (``Combine``, ``Flattener``, ``Permuter``,
  ``normalizeObjectName``, ``ID``) and ``internal/controller/resourceset_controller.go``
  (``getInputs``: providers by name or label selector, in the ResourceSet's
  namespace); a ``Static`` provider exports its ``defaultValues`` plus
  ``id`` = Adler-32 of its UID (``resourcesetinputprovider_controller.go``), which is
  unknown offline and rendered as an opaque placeholder (:data:`OPAQUE_MARKER`);
* building: ``internal/builder/resourceset.go`` (``BuildResourceSet``,
  ``BuildResource``, ``BuildResourcesFromYAML``, ``newTemplate``,
  ``ValidateResourceSetSpec``, ``BuildResourceSetSteps``): each ``spec.resources``
  entry is turned into YAML text (``yaml.JSONToYAML``, go-yaml v2), rendered as a Go
  template with ``<<``/``>>`` delimiters, slim-sprig's hermetic functions,
  ``slugify``, ``toYaml``, ``inputs`` and ``missingkey=error``, and read back as one
  object, so ``replicas: "<< inputs.n >>"`` becomes an integer; ``resourcesTemplate``
  is rendered as a whole and read as multi-document YAML (``ssa`` ``ReadObjects``:
  documents without apiVersion, kind and name are dropped, ``List`` kinds are
  expanded, kustomize.config.k8s.io Kustomizations are dropped); objects are
  de-duplicated by group, kind, namespace and name (the source keys on the API
  group, not the full apiVersion the documentation names), objects from
  ``resources`` first; objects annotated ``fluxcd.controlplane.io/reconcile:
  disabled`` are excluded (except, as in the source, for ``resources`` rendered
  without any input set);
* metadata: ``ssa`` ``SetOwnerLabels`` (``resourceset.fluxcd.controlplane.io/name``
  and ``/namespace``) then ``spec.commonMetadata`` (``SetCommonMetadata``: its labels
  and annotations override the objects' own).

Positions: an object or problem from ``spec.resources[i]`` has ``Origin(field=
"resources", index=i)`` (and, for a problem, the ``path`` inside that resource of the
value whose template failed); one from ``spec.resourcesTemplate`` has the 1-based
``line`` within the template text where its document starts, found by tracing which
template text produced each output character (a document produced by an action, e.g.
``toYaml``, gets the line of that action). Add the line of the ``resourcesTemplate``
block scalar's first content line minus one to get a file line.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any, Mapping

import yaml

from . import gotemplate as gt

__all__ = [
    "OPAQUE_MARKER", "is_opaque", "Origin", "InputSet", "RenderedObject", "Problem", "Rendering",
    "render", "template_funcs", "normalize_provider_name", "input_id", "load_rendered_yaml", "RenderedYAMLError",
]

API_GROUP = "fluxcd.controlplane.io"
API_VERSION = "fluxcd.controlplane.io/v1"
RECONCILE_ANNOTATION = "fluxcd.controlplane.io/reconcile"
OWNER_GROUP = "resourceset.fluxcd.controlplane.io"
MAX_PERMUTATIONS = 10000  # internal/inputs/permuter.go maxPermutations
MAX_INPUT_SETS = 10000    # our own bound on flattened input sets rendered offline

#: A value flux-operator computes on the cluster (an id from an object's UID). It is
#: lower-case alphanumeric so that it survives ``slugify``/``lower`` and keeps a
#: generated name valid; test for it with :func:`is_opaque`.
OPAQUE_MARKER = "xopaquex"


def is_opaque(value: Any) -> bool:
    """Whether ``value`` (a string, or any rendered value) contains a placeholder for
    something only the cluster knows."""
    return isinstance(value, str) and OPAQUE_MARKER in value.lower()


# ---------------------------------------------------------------------------
# result shapes


@dataclass(frozen=True)
class Origin:
    """Where in the ResourceSet something comes from.

    ``field`` is ``resources`` (``index`` = position in the list), ``resourcesTemplate``
    (``line`` = 1-based line in the template text where the object's document starts)
    or ``spec`` (the spec as a whole, e.g. mutually exclusive fields); ``step`` and
    ``step_index`` name the ``spec.steps`` entry when there is one. ``path`` (problems
    only) is the key path inside ``resources[index]`` of the failing value."""
    field: str
    index: int | None = None
    line: int | None = None
    step: str | None = None
    step_index: int | None = None
    path: tuple = ()


@dataclass
class InputSet:
    """One input set the templates were rendered with (``index`` in the combined
    list, ``id`` its ``inputs.id`` when it has one, ``label`` a short description,
    ``values`` what ``inputs`` returns)."""
    index: int
    id: str | None
    label: str
    values: dict


@dataclass
class RenderedObject:
    object: dict
    input: InputSet | None
    origin: Origin


@dataclass
class Problem:
    """A problem flux-operator would hit (``severity``: ``error`` makes its build
    fail, ``warning`` is silently dropped or likely broken content, ``info``).

    ``line``/``column`` are within the template text of the origin: the
    ``resourcesTemplate`` string, or the YAML of ``resources[index]`` as flux-operator
    re-writes it (use ``origin.path`` for those). ``kind`` is ``parse``, ``exec``,
    ``limit``, ``unsupported`` (a function offline rendering cannot evaluate), ``yaml``,
    ``object``, ``spec``, ``inputs`` or ``duplicate``."""
    message: str
    origin: Origin | None
    severity: str
    kind: str
    line: int = 0
    column: int = 0
    input: InputSet | None = None


@dataclass
class Rendering:
    """What :func:`render` found.

    ``objects``: the objects flux-operator would apply, in its order, each with the
    input set and origin that produced it; ``excluded``: objects a
    ``fluxcd.controlplane.io/reconcile: disabled`` annotation excludes;
    ``problems``; ``not_rendered``: reasons some or all objects could not be rendered
    offline (inputs from external providers, missing providers, a disabled
    ResourceSet); ``complete``: every input set was known; ``failed``: an
    error-severity problem means flux-operator's build fails and it applies none of
    the objects; ``disabled``: the ResourceSet itself is not reconciled."""
    objects: list[RenderedObject] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    not_rendered: list[str] = field(default_factory=list)
    excluded: list[RenderedObject] = field(default_factory=list)
    inputs: list[InputSet] = field(default_factory=list)
    complete: bool = True
    failed: bool = False
    disabled: bool = False


# ---------------------------------------------------------------------------
# inputs


def input_id(s: str) -> str:
    """``inputs.ID``: the decimal Adler-32 checksum of ``s``."""
    return str(zlib.adler32(s.encode("utf-8")))


def normalize_provider_name(name: str) -> str:
    """``normalizeObjectName`` (internal/inputs/permuter.go): lower-case, ``-`` to
    ``_``, drop everything but ``[a-z0-9_]``, collapse ``_`` runs.

    The documentation describes ``NormalizeKeyForTemplate`` (punctuation, including
    ``.``, becomes ``_``); the Permuter uses this function, where ``.`` is dropped:
    the source wins."""
    name = name.lower().replace("-", "_")
    name = "".join(c for c in name if ("a" <= c <= "z") or ("0" <= c <= "9") or c == "_")
    return "_".join(w for w in name.split("_") if w)


def _json_value(v):
    """A YAML value as ``json.Unmarshal`` into ``interface{}`` gives it to the template:
    every number is a float64."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return float(v)
    if isinstance(v, float):
        return v
    if isinstance(v, Mapping):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    return str(v)


def _plain(v):
    """YMap/YSeq (or any mapping/sequence) as plain dicts and lists."""
    if isinstance(v, Mapping):
        return {str(k) if not isinstance(k, str) else k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _meta(doc: Mapping) -> Mapping:
    m = doc.get("metadata") if isinstance(doc, Mapping) else None
    return m if isinstance(m, Mapping) else {}


def _labels_match(labels: Mapping, selector: Mapping) -> tuple[bool, str | None]:
    """``metav1.LabelSelectorAsSelector`` matching; returns (matches, error)."""
    ml = selector.get("matchLabels") or {}
    if not isinstance(ml, Mapping):
        return False, "matchLabels must be a map"
    for k, v in ml.items():
        if str(k) not in labels or str(labels[str(k)]) != str(v):
            return False, None
    exprs = selector.get("matchExpressions") or []
    if not isinstance(exprs, list):
        return False, "matchExpressions must be a list"
    for e in exprs:
        if not isinstance(e, Mapping):
            return False, "a matchExpressions entry must be a map"
        key = str(e.get("key", ""))
        op = e.get("operator")
        values = [str(x) for x in (e.get("values") or [])]
        present = key in labels
        if op == "In":
            if not values:
                return False, "values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
            if not present or str(labels[key]) not in values:
                return False, None
        elif op == "NotIn":
            if not values:
                return False, "values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
            if present and str(labels[key]) in values:
                return False, None
        elif op == "Exists":
            if values:
                return False, "values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            if not present:
                return False, None
        elif op == "DoesNotExist":
            if values:
                return False, "values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            if present:
                return False, None
        else:
            return False, f'"{op}" is not a valid label selector operator'
    return True, None


@dataclass
class _Provider:
    kind: str
    name: str
    namespace: str
    inputs: list[dict] | None  # None: not known offline


def _provider_ref(p: _Provider) -> dict:
    return {"apiVersion": API_VERSION, "kind": p.kind, "name": p.name, "namespace": p.namespace}


def _label(values: Mapping, prefix: str) -> str:
    parts = []
    for k, v in values.items():
        if k in ("provider",) or isinstance(v, (dict, list)):
            continue
        sv = " ".join(gt.go_sprint(v).split())
        parts.append(f"{k}={sv if len(sv) <= 24 else sv[:21] + '...'}")
        if len(parts) == 3:
            break
    s = prefix + (" " + " ".join(parts) if parts else "")
    return s if len(s) <= 80 else s[:77] + "..."


# ---------------------------------------------------------------------------
# template functions


def template_funcs(input_set: dict | None) -> dict[str, gt.GoFunc]:
    """The function map of ``newTemplate``: slim-sprig hermetic + slugify + toYaml +
    ``inputs`` returning ``input_set`` (an empty map when there is none)."""
    values = input_set if input_set is not None else {}
    return {**gt.SPRIG_FUNCS, **gt.FLUX_FUNCS, "inputs": gt.GoFunc(lambda: values, ())}


# ---------------------------------------------------------------------------
# reading rendered YAML as sigs.k8s.io/yaml (go-yaml v2) does


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Composes nodes only; plain scalars are typed by :func:`gotemplate.v2_resolve_plain`."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag == "tag:yaml.org,2002:merge"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.yaml_implicit_resolvers = {k: v for k, v in _Loader.yaml_implicit_resolvers.items() if v}

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


class _YamlError(Exception):
    """Rendered text flux-operator's decoder refuses (``message``, 1-based ``line``)."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message = message
        self.line = line


RenderedYAMLError = _YamlError


def _construct(node, budget: list[int], depth: int = 0):
    budget[0] -= 1
    if budget[0] < 0:
        raise _YamlError("document too large (aliases expand beyond the limit)", node.start_mark.line + 1)
    if depth > 200:
        raise _YamlError("document nested too deeply", node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        tag = node.tag
        if not node.style and tag == _STR:
            v = gt.v2_resolve_plain(node.value)
        elif tag == _STR or tag == _MERGE:
            v = node.value
        elif tag == "tag:yaml.org,2002:int":
            v = gt.v2_resolve_plain(node.value)
            v = v if isinstance(v, int) else node.value
        elif tag == "tag:yaml.org,2002:float":
            try:
                v = float(node.value.replace("_", ""))
            except ValueError:
                v = node.value
        elif tag == "tag:yaml.org,2002:bool":
            v = gt.v2_resolve_plain(node.value)
            v = v if isinstance(v, bool) else node.value
        elif tag == "tag:yaml.org,2002:null":
            v = None
        else:
            v = node.value
        return v
    if isinstance(node, yaml.SequenceNode):
        return [_construct(x, budget, depth + 1) for x in node.value]
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        merged: dict = {}
        for kn, vn in node.value:
            if isinstance(kn, yaml.ScalarNode) and kn.tag == _MERGE and not kn.style:
                src = _construct(vn, budget, depth + 1)
                items = src if isinstance(src, list) else [src]
                for it in items:
                    if not isinstance(it, dict):
                        raise _YamlError("map merge requires map or sequence of maps as the value", vn.start_mark.line + 1)
                    for k, v in it.items():
                        merged.setdefault(k, v)
                continue
            k = _construct(kn, budget, depth + 1)
            if isinstance(k, (dict, list)):
                raise _YamlError("a mapping key must be a scalar", kn.start_mark.line + 1)
            key = k if isinstance(k, str) else ("null" if k is None else gt.go_sprint(k))
            out[key] = _construct(vn, budget, depth + 1)
        for k, v in merged.items():
            out.setdefault(k, v)
        return out
    return None  # pragma: no cover


def _to_json_numbers(v, line: int):
    """The JSON round trip into ``unstructured``: integral numbers are int64, NaN/Inf
    cannot be written."""
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise _YamlError(f"json: unsupported value: {gt.go_format_float(v)}", line)
        if v == int(v) and abs(v) < 2 ** 63:
            return int(v)
        return v
    if isinstance(v, dict):
        return {k: _to_json_numbers(x, line) for k, x in v.items()}
    if isinstance(v, list):
        return [_to_json_numbers(x, line) for x in v]
    return v


def _split_docs(text: str) -> list[tuple[int, str]]:
    """``k8s.io/apimachinery`` ``YAMLReader``: documents separated by lines starting
    with ``---``; returns ``(start offset, text)`` for each non-empty chunk."""
    docs: list[tuple[int, str]] = []
    cur: list[str] = []
    start = 0
    off = 0
    for line in text.splitlines(keepends=True):
        if line.startswith("---"):
            rest = line[3:].strip()
            if rest and not rest.startswith("#"):
                raise _YamlError(f"invalid Yaml document separator: {rest}", text.count("\n", 0, off) + 1)
            if cur:
                docs.append((start, "".join(cur)))
            cur = []
            off += len(line)
            start = off
            continue
        if not cur:
            start = off
        cur.append(line)
        off += len(line)
    if cur:
        docs.append((start, "".join(cur)))
    return docs


def load_rendered_yaml(text: str, *, first_only: bool = False) -> list[tuple[int, Any]]:
    """Documents of rendered text as flux-operator's decoder reads them: a list of
    ``(start offset, value)``; an empty document gives ``None``.

    Raises :class:`RenderedYAMLError` (``message``, ``line`` in ``text``) on a YAML error."""
    out = []
    for start, chunk in _split_docs(text):
        base_line = text.count("\n", 0, start)
        try:
            node = yaml.compose(chunk, Loader=_Loader)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
            line = base_line + (mark.line + 1 if mark is not None else 1)
            msg = getattr(e, "problem", None) or str(e)
            raise _YamlError(f"error converting YAML to JSON: yaml: line {line}: {msg}", line) from None
        except RecursionError:
            raise _YamlError("document nested too deeply", base_line + 1) from None
        if node is None:
            out.append((start, None))
        else:
            val = _construct(node, [200_000])
            out.append((start, _to_json_numbers(val, base_line + 1)))
        if first_only:
            break
    return out


# ---------------------------------------------------------------------------
# building


def _group(obj: Mapping) -> str:
    av = obj.get("apiVersion")
    av = av if isinstance(av, str) else ""
    return av.split("/", 1)[0] if "/" in av else ""


def _object_key(obj: Mapping) -> tuple:
    """``objectKey``: group, kind, namespace, name (the version is left out)."""
    m = _meta(obj)
    return (_group(obj), str(obj.get("kind") or ""), str(m.get("namespace") or ""), str(m.get("name") or ""))


def _fmt_key(obj: Mapping) -> str:
    g, k, ns, n = _object_key(obj)
    return f"{k}/{ns + '/' if ns else ''}{n}"


def _excluded(obj: Mapping) -> bool:
    ann = _meta(obj).get("annotations")
    return isinstance(ann, Mapping) and ann.get(RECONCILE_ANNOTATION) == "disabled"


class _Builder:
    def __init__(self, result: Rendering):
        self.r = result
        self.parsed: dict[tuple, Any] = {}

    def problem(self, message, origin, severity="error", kind="exec", line=0, column=0, inp=None):
        self.r.problems.append(Problem(message, origin, severity, kind, line, column, inp))
        if severity == "error":
            self.r.failed = True

    def template(self, key: tuple, text: str, origin: Origin, paths: list | None):
        """Parse once per text; parse problems are reported once."""
        if key in self.parsed:
            return self.parsed[key]
        try:
            # functions are looked up at parse time; ``inputs`` is always defined
            t = gt.Template(text, name="resourceset", delims=("<<", ">>"), funcs=template_funcs(None),
                            missingkey="error")
        except gt.TemplateError as e:
            self.template_problem(e, origin, paths, None, prefix="failed to parse template")
            t = None
        self.parsed[key] = t
        return t

    def template_problem(self, e: gt.TemplateError, origin: Origin, paths, inp, prefix: str):
        o = origin
        if paths is not None and 0 < e.line <= len(paths):
            o = Origin(origin.field, origin.index, origin.line, origin.step, origin.step_index, tuple(paths[e.line - 1]))
        if e.kind == "unsupported":
            self.r.not_rendered.append(f"{_where(o)}: {e.message}")
            self.r.complete = False
            self.r.problems.append(Problem(e.message, o, "info", "unsupported", e.line, e.column, inp))
            return
        msg = str(e)
        if 'function "' in e.message and "not defined" in e.message:
            msg += " (flux-operator templates have slim-sprig's hermetic functions, slugify, toYaml, mustToYaml and inputs)"
        self.problem(f"{prefix}: {msg}", o, "error", e.kind, e.line, e.column, inp)

    def execute(self, t: gt.Template, inp: InputSet | None, origin: Origin, paths, trace=None):
        t.funcs["inputs"] = gt.GoFunc((lambda v: (lambda: v))(inp.values if inp else {}), ())
        try:
            return t.execute(gt.NOVALUE, trace=trace)
        except gt.TemplateError as e:
            self.template_problem(e, origin, paths, inp, prefix="failed to execute template")
            return None

    def check_object(self, obj, origin: Origin, inp, line=0) -> bool:
        if not isinstance(obj, dict):
            what = "null" if obj is None else gt.go_type(obj)
            self.problem(f"failed to read object: the document is {what}, not a Kubernetes object", origin,
                         "error", "object", line, 0, inp)
            return False
        if not isinstance(obj.get("kind"), str) or not obj.get("kind"):
            self.problem("failed to read object: Object 'Kind' is missing", origin, "error", "object", line, 0, inp)
            return False
        return True

    def resource(self, idx: int, res, inputs: list[InputSet], step: tuple | None) -> list[tuple]:
        """Objects of ``spec.resources[idx]``: (object, input, origin, dedup)."""
        origin = Origin("resources", idx, None, *(step or (None, None)))
        if not isinstance(res, Mapping):
            self.problem(f"resources[{idx}] is not a mapping", origin, "error", "spec")
            return []
        paths: list = []
        try:
            text = gt.to_yaml(_plain(res), paths=paths)
        except RecursionError:
            self.problem(f"resources[{idx}] is nested too deeply", origin, "error", "spec")
            return []
        t = self.template(("resources", step, idx), text, origin, paths)
        if t is None:
            return []
        out = []
        for inp in (inputs or [None]):
            trace: list = []
            rendered = self.execute(t, inp, origin, paths, trace)
            if rendered is None:
                continue
            try:
                docs = load_rendered_yaml(rendered, first_only=True)
            except _YamlError as e:
                # the rendered line -> the template line (and value) that produced it
                line = gt.line_col(text, gt.source_offset(trace, _offset_of_line(rendered, e.line)))[0]
                o = Origin(origin.field, idx, None, origin.step, origin.step_index,
                           tuple(paths[line - 1]) if 0 < line <= len(paths) else ())
                self.problem(f"failed to read object: {e.message}", o, "error", "yaml", line, 0, inp)
                continue
            obj = docs[0][1] if docs else None
            if not self.check_object(obj, origin, inp):
                continue
            out.append((obj, inp, origin, bool(inputs)))
        return out

    def resources_template(self, text: str, inputs: list[InputSet], step: tuple | None) -> list[tuple]:
        base = Origin("resourcesTemplate", None, None, *(step or (None, None)))
        t = self.template(("template", step), text, base, None)
        if t is None:
            return []
        out = []
        for inp in (inputs or [None]):
            trace: list = []
            rendered = self.execute(t, inp, base, None, trace)
            if rendered is None:
                continue

            def tline(out_offset: int) -> int:
                return gt.line_col(text, gt.source_offset(trace, out_offset))[0]

            try:
                docs = load_rendered_yaml(rendered)
            except _YamlError as e:
                # the output line -> the template line that produced it
                off = _offset_of_line(rendered, e.line)
                line = tline(off)
                self.problem(f"failed to read objects from multi-doc YAML: {e.message} "
                             f"(rendered line {e.line}, from template line {line})",
                             Origin(base.field, None, line, base.step, base.step_index), "error", "yaml", line, 0, inp)
                continue
            for start, val in docs:
                line = tline(_content_start(rendered, start))
                origin = Origin(base.field, None, line, base.step, base.step_index)
                if val is None:
                    if rendered[start:].split("---", 1)[0].strip(" \t\r\n"):
                        # comments only
                        pass
                    self.problem("empty YAML document in the rendered template: flux-operator's decoder "
                                 "(ssa ReadObjects) may refuse it with \"Object 'Kind' is missing in 'null'\"",
                                 origin, "warning", "object", line, 0, inp)
                    continue
                if not isinstance(val, dict):
                    self.problem(f"failed to read objects from multi-doc YAML: a document is {gt.go_type(val)}, "
                                 "not an object", origin, "error", "object", line, 0, inp)
                    continue
                items = [val]
                kind = val.get("kind")
                if isinstance(kind, str) and kind.endswith("List") and isinstance(val.get("items"), list):
                    items = val["items"]
                    if not all(isinstance(x, dict) and x.get("kind") for x in items):
                        self.problem("failed to read objects from multi-doc YAML: a List item is not an object",
                                     origin, "error", "object", line, 0, inp)
                        continue
                    out.extend((x, inp, origin, True) for x in items)
                    continue
                m = _meta(val)
                if not (val.get("apiVersion") and val.get("kind") and m.get("name")):
                    missing = [f for f, ok in (("apiVersion", val.get("apiVersion")), ("kind", val.get("kind")),
                                               ("metadata.name", m.get("name"))) if not ok]
                    self.problem(f"document without {', '.join(missing)} is silently dropped by flux-operator",
                                 origin, "warning", "object", line, 0, inp)
                    continue
                if str(kind).lower() == "kustomization" and str(val.get("apiVersion")).startswith("kustomize.config.k8s.io/"):
                    self.problem("a kustomize.config.k8s.io Kustomization document is silently dropped by flux-operator",
                                 origin, "info", "object", line, 0, inp)
                    continue
                out.append((val, inp, origin, True))
        return out

    def build(self, templ: str, resources, inputs: list[InputSet], step: tuple | None) -> list[RenderedObject]:
        """``BuildResourceSet``."""
        objs: list[RenderedObject] = []
        keys: set = set()

        def add(obj, inp, origin, dedup_and_exclude: bool):
            if dedup_and_exclude and _excluded(obj):
                self.r.excluded.append(RenderedObject(obj, inp, origin))
                return
            k = _object_key(obj)
            if dedup_and_exclude and k in keys:
                return
            keys.add(k)
            objs.append(RenderedObject(obj, inp, origin))

        if resources is not None and not isinstance(resources, list):
            self.problem("resources must be a list", Origin("spec", step=step[0] if step else None), "error", "spec")
            resources = []
        for i, res in enumerate(resources or []):
            for obj, inp, origin, dd in self.resource(i, res, inputs, step):
                add(obj, inp, origin, dd)
        if templ:
            if not isinstance(templ, str):
                self.problem("resourcesTemplate must be a string", Origin("spec"), "error", "spec")
            else:
                for obj, inp, origin, dd in self.resources_template(templ, inputs, step):
                    add(obj, inp, origin, True)
        return objs


def _offset_of_line(text: str, line: int) -> int:
    off = 0
    for _ in range(max(0, line - 1)):
        i = text.find("\n", off)
        if i < 0:
            return len(text)
        off = i + 1
    return off


def _content_start(text: str, start: int) -> int:
    """Offset of the first line of a document that is neither blank nor a comment."""
    off = start
    n = len(text)
    while off < n:
        end = text.find("\n", off)
        end = n if end < 0 else end
        ln = text[off:end].strip()
        if ln and not ln.startswith("#"):
            return off
        off = end + 1
    return start


def _where(o: Origin) -> str:
    s = ""
    if o.step is not None:
        s = f"steps[{o.step_index}] ({o.step}) "
    if o.field == "resources":
        return s + f"resources[{o.index}]" + ("." + ".".join(str(p) for p in o.path) if o.path else "")
    if o.field == "resourcesTemplate":
        return s + "resourcesTemplate" + (f" line {o.line}" if o.line else "")
    return s + o.field


# ---------------------------------------------------------------------------
# the entry point


def render(resourceset: Mapping, providers: list[Mapping] | None = None) -> Rendering:
    """Render a ResourceSet offline.

    ``resourceset`` is the ResourceSet document (a mapping as parsed from YAML);
    ``providers`` the ResourceSetInputProvider documents that may be referenced (any
    other documents in the list are ignored). Never raises for any document content.
    """
    r = Rendering()
    try:
        _render(resourceset, providers or [], r)
    except RecursionError:
        r.problems.append(Problem("the ResourceSet is nested too deeply to render", Origin("spec"), "error", "limit"))
        r.failed = True
    return r


def _render(rs: Mapping, providers: list, r: Rendering) -> None:
    if not isinstance(rs, Mapping):
        r.not_rendered.append("the document is not a mapping")
        r.complete = False
        return
    b = _Builder(r)
    meta = _meta(rs)
    name = str(meta.get("name") or "")
    namespace = str(meta.get("namespace") or "")
    ann = meta.get("annotations") if isinstance(meta.get("annotations"), Mapping) else {}
    spec = rs.get("spec")
    if not isinstance(spec, Mapping):
        r.not_rendered.append("the ResourceSet has no spec")
        r.complete = False
        return

    # ResourceSet.IsDisabled: the reconciler stops before building anything
    if str(ann.get(RECONCILE_ANNOTATION, "")).lower() == "disabled":
        r.disabled = True
        r.complete = False
        r.not_rendered.append(f"the {RECONCILE_ANNOTATION}: disabled annotation pauses the ResourceSet: "
                              "flux-operator builds and applies nothing")
        return

    steps = spec.get("steps")
    resources = spec.get("resources")
    templ = spec.get("resourcesTemplate")
    # ValidateResourceSetSpec (and the CRD's CEL rules)
    if steps and (resources or templ):
        b.problem("spec.steps is mutually exclusive with spec.resources and spec.resourcesTemplate",
                  Origin("spec"), "error", "spec")
        return
    if steps is not None and not isinstance(steps, list):
        b.problem("spec.steps must be a list", Origin("spec"), "error", "spec")
        return
    if not steps and not resources and not templ:
        b.problem("at least one of steps, resources or resourcesTemplate must be set", Origin("spec"), "error", "spec")
        return
    for si, st in enumerate(steps or []):
        if not isinstance(st, Mapping) or not (st.get("resources") or st.get("resourcesTemplate")):
            sname = st.get("name") if isinstance(st, Mapping) else None
            b.problem(f'step "{sname}": at least one of resources or resourcesTemplate must be set',
                      Origin("spec", step=str(sname), step_index=si), "error", "spec")
            return

    inputs = _inputs(rs, spec, name, namespace, providers, b, r)
    if inputs is None:
        return
    r.inputs = inputs
    if spec.get("inputsFrom") and not inputs:
        if r.complete:
            r.not_rendered.append("the input providers export no input sets: flux-operator applies an empty set "
                                  "(and prunes what it applied before)")
        return

    built: list[RenderedObject] = []
    if steps:
        seen: dict[tuple, str] = {}
        for si, st in enumerate(steps):
            sname = str(st.get("name") or "")
            objs = b.build(st.get("resourcesTemplate") or "", st.get("resources"), inputs, (sname, si))
            for o in objs:
                k = _object_key(o.object)
                prev = seen.get(k)
                if prev is not None and prev != sname:
                    b.problem(f'duplicate resource {_fmt_key(o.object)} in step "{sname}", already defined in step "{prev}"',
                              o.origin, "error", "duplicate", inp=o.input)
                    continue
                seen[k] = sname
                built.append(o)
    else:
        built = b.build(templ or "", resources, inputs, None)

    # SetOwnerLabels, then commonMetadata (resourceset_controller.go apply)
    cm = spec.get("commonMetadata") if isinstance(spec.get("commonMetadata"), Mapping) else {}
    cl = cm.get("labels") if isinstance(cm.get("labels"), Mapping) else {}
    ca = cm.get("annotations") if isinstance(cm.get("annotations"), Mapping) else {}
    for o in built:
        md = o.object.get("metadata")
        if not isinstance(md, dict):
            md = {}
            o.object["metadata"] = md
        labels = md.get("labels") if isinstance(md.get("labels"), dict) else {}
        labels[f"{OWNER_GROUP}/name"] = name
        labels[f"{OWNER_GROUP}/namespace"] = namespace
        for k, v in cl.items():
            labels[str(k)] = v if isinstance(v, str) else gt.go_sprint(v)
        md["labels"] = labels
        if ca:
            anns = md.get("annotations") if isinstance(md.get("annotations"), dict) else {}
            for k, v in ca.items():
                anns[str(k)] = v if isinstance(v, str) else gt.go_sprint(v)
            md["annotations"] = anns
    r.objects = built


def _inputs(rs, spec, name, namespace, providers, b: _Builder, r: Rendering) -> list[InputSet] | None:
    """``getInputs`` + ``inputs.Combine``; ``None`` when nothing can be rendered."""
    inline = spec.get("inputs")
    if inline is not None and not isinstance(inline, list):
        b.problem("spec.inputs must be a list", Origin("spec"), "error", "inputs")
        return None
    rset_inputs = []
    for i, x in enumerate(inline or []):
        if not isinstance(x, Mapping):
            b.problem(f"failed to unmarshal inputs[{i}]: not a map", Origin("spec"), "error", "inputs")
            return None
        rset_inputs.append(_json_value(x))
    provs: list[_Provider] = [_Provider("ResourceSet", name, namespace, rset_inputs)]

    found: dict[tuple, _Provider] = {}
    refs = spec.get("inputsFrom") or []
    if not isinstance(refs, list):
        b.problem("spec.inputsFrom must be a list", Origin("spec"), "error", "inputs")
        return None
    candidates = []
    for p in providers:
        if not isinstance(p, Mapping) or p.get("kind") != "ResourceSetInputProvider":
            continue
        if str(p.get("apiVersion", "")).split("/")[0] != API_GROUP:
            continue
        pm = _meta(p)
        if str(pm.get("namespace") or "") != namespace:
            continue
        candidates.append(p)
    for ref in refs:
        if not isinstance(ref, Mapping):
            b.problem("an inputsFrom entry is not a mapping", Origin("spec"), "error", "inputs")
            return None
        if ref.get("kind") not in (None, "ResourceSetInputProvider"):
            b.problem(f"inputsFrom kind {ref.get('kind')!r} is not ResourceSetInputProvider", Origin("spec"), "error", "inputs")
            return None
        if ref.get("name"):
            match = [p for p in candidates if str(_meta(p).get("name")) == str(ref["name"])]
            if not match:
                r.complete = False
                r.not_rendered.append(f"ResourceSetInputProvider {namespace + '/' if namespace else ''}{ref['name']} "
                                      "is not among the documents: its inputs are unknown offline")
                continue
        elif isinstance(ref.get("selector"), Mapping):
            match = []
            for p in candidates:
                lab = _meta(p).get("labels")
                ok, err = _labels_match(lab if isinstance(lab, Mapping) else {}, ref["selector"])
                if err:
                    b.problem(f"failed to parse selector: {err}", Origin("spec"), "error", "inputs")
                    return None
                if ok:
                    match.append(p)
            if not match:
                r.complete = False
                r.not_rendered.append("no ResourceSetInputProvider among the documents matches the inputsFrom "
                                      "selector: providers on the cluster are unknown offline")
                continue
        else:
            b.problem("input provider reference must have either name or selector set", Origin("spec"), "error", "inputs")
            return None
        for p in match:
            pm = _meta(p)
            key = (str(pm.get("namespace") or ""), str(pm.get("name") or ""))
            if key in found:
                continue
            found[key] = _static_provider(p, r)
    provs += [found[k] for k in sorted(found)]

    strategy = spec.get("inputStrategy") if isinstance(spec.get("inputStrategy"), Mapping) else {}
    sname = strategy.get("name") or "Flatten"
    unknown = [p for p in provs if p.inputs is None]
    for p in provs:
        for inp in p.inputs or []:
            inp["provider"] = _provider_ref(p)

    sets: list[InputSet] = []
    if sname == "Flatten":
        for p in provs:
            for i, inp in enumerate(p.inputs or []):
                if len(sets) >= MAX_INPUT_SETS:
                    b.problem(f"more than {MAX_INPUT_SETS} input sets: rendered only the first ones", Origin("spec"),
                              "warning", "limit")
                    r.complete = False
                    return sets
                iid = inp.get("id")
                sets.append(InputSet(len(sets), iid if isinstance(iid, str) else (gt.go_sprint(iid) if iid is not None else None),
                                     _label(inp, f"{p.kind} {p.name} inputs[{i}]"), inp))
        return sets
    if sname != "Permute":
        b.problem(f"failed to compute inputs: unknown input strategy: '{sname}'", Origin("spec"), "error", "inputs")
        return None
    if unknown:
        r.complete = False
        r.not_rendered.append("inputStrategy Permute combines every provider's input sets, and the inputs of "
                              + ", ".join(f"{p.kind} {p.name}" for p in unknown) + " are unknown offline: nothing rendered")
        return None
    include_empty = bool(strategy.get("includeEmptyProviders"))
    scoped: list[tuple[str, list[dict]]] = []
    expected = 0
    for p in provs:
        if not include_empty and not p.inputs:
            continue
        expected = len(p.inputs) if not scoped else expected * len(p.inputs)
        if expected > MAX_PERMUTATIONS:
            b.problem(f"failed to compute inputs: failed to get inputs from {p.kind}/{p.name}: adding provider "
                      f"'{p.name}' with {len(p.inputs)} inputs would exceed the maximum allowed permutations. "
                      f"max: {MAX_PERMUTATIONS}, got: {expected}", Origin("spec"), "error", "inputs")
            return None
        norm = normalize_provider_name(p.name)
        if not norm:
            b.problem(f"failed to compute inputs: failed to get inputs from {p.kind}/{p.name}: normalized provider "
                      f"name is empty: '{p.name}'", Origin("spec"), "error", "inputs")
            return None
        scoped.append((norm, p.inputs))
    if not scoped:
        return []
    combos: list[list[int]] = [[]]
    for _, lst in scoped:
        combos = [c + [i] for c in combos for i in range(len(lst))]
    for c in combos:
        perm: dict = {}
        pid = []
        for (norm, lst), i in zip(scoped, c):
            perm[norm] = lst[i]
            pid.append(f"{norm}={i}")
        perm["id"] = input_id("/".join(pid))
        sets.append(InputSet(len(sets), perm["id"], f"permutation {'/'.join(pid)}", perm))
    return sets


def _static_provider(p: Mapping, r: Rendering) -> _Provider:
    pm = _meta(p)
    name = str(pm.get("name") or "")
    ns = str(pm.get("namespace") or "")
    spec = p.get("spec") if isinstance(p.get("spec"), Mapping) else {}
    ptype = spec.get("type")
    pann = pm.get("annotations") if isinstance(pm.get("annotations"), Mapping) else {}
    if ptype != "Static":
        r.complete = False
        r.not_rendered.append(f"ResourceSetInputProvider {ns + '/' if ns else ''}{name} is of type {ptype}: its inputs "
                              "come from an external service and are unknown offline; nothing about them is judged")
        return _Provider("ResourceSetInputProvider", name, ns, None)
    if str(pann.get(RECONCILE_ANNOTATION, "")).lower() == "disabled":
        r.complete = False
        r.not_rendered.append(f"ResourceSetInputProvider {ns + '/' if ns else ''}{name} is disabled: the inputs it "
                              "last exported (if any) are unknown offline")
        return _Provider("ResourceSetInputProvider", name, ns, None)
    defaults = spec.get("defaultValues") if isinstance(spec.get("defaultValues"), Mapping) else {}
    values = _json_value(defaults)
    # the Static provider adds id = Adler-32 of its UID, which only the cluster knows
    values["id"] = OPAQUE_MARKER
    return _Provider("ResourceSetInputProvider", name, ns, [values])
