"""ResourceSets in the graph: what flux-operator renders from them (``resourceset.py``)
becomes documents located at the template they come from.

A rendered object is a ``Document`` of the ResourceSet's file (``origin="resourceset"``):
its positions are those of the matching keys of its ``spec.resources`` entry (the object's
line for keys the template does not have), or the line of its document in
``spec.resourcesTemplate``. Objects are applied by whatever applies the ResourceSet, in
the ResourceSet's namespace unless they set one. Render problems are ``Problem``s:
``resourceset`` (the build fails: FLX112) and ``resourceset-partial`` (some or all
objects cannot be rendered offline: FLX113).
"""

from __future__ import annotations

from typing import Any

from ..model import Document, Problem, YMap, YSeq, resource_of

RENDERED = "resourceset"


def _graft(value: Any, template: Any, line: int, col: int) -> Any:
    """``value`` as YMap/YSeq, with the positions of ``template``'s matching keys."""
    if isinstance(value, dict):
        m = YMap(line, col)
        tpos = template.pos if isinstance(template, YMap) else {}
        for k, v in value.items():
            p = tpos.get(k) if isinstance(tpos, dict) else None
            sub_t = template.get(k) if isinstance(template, dict) else None
            if p is not None:
                m[k] = _graft(v, sub_t, p[2], p[3])
                m.pos[k] = p
            else:
                m[k] = _graft(v, sub_t, line, col)
                m.pos[k] = (line, col, line, col, line, col)
        return m
    if isinstance(value, list):
        s = YSeq(line, col)
        tpos = template.pos if isinstance(template, YSeq) else []
        for i, v in enumerate(value):
            sub_t = template[i] if isinstance(template, list) and i < len(template) else None
            if i < len(tpos):
                s.append(_graft(v, sub_t, tpos[i][0], tpos[i][1]))
                s.pos.append(tpos[i])
            else:
                s.append(_graft(v, sub_t, line, col))
                s.pos.append((line, col, line, col))
        return s
    return value


def _template_line(doc: Document, line: int) -> tuple[int, int]:
    """The file position of line ``line`` of the ResourceSet's ``resourcesTemplate``."""
    loc = doc.loc("spec", "resourcesTemplate")
    # a block scalar's content starts on the line after its `|`
    return loc.line + line, max(1, loc.column)


def render_documents(doc: Document, value: Any, providers: list) -> tuple[list[Document], list[Problem], bool]:
    """The rendered objects of a ResourceSet (``value``: the ResourceSet as applied), the
    problems, and whether nothing could be rendered (providers not known offline)."""
    from ..resourceset import render

    rendering = render(value, [p for p in providers if isinstance(p, dict)])
    docs: list[Document] = []
    spec = value.get("spec") if isinstance(value, dict) else None
    resources = spec.get("resources") if isinstance(spec, dict) else None
    for i, ro in enumerate(rendering.objects):
        o = ro.origin
        if o.field == "resources" and isinstance(o.index, int) and isinstance(resources, list) \
                and o.index < len(resources):
            loc = doc.loc("spec", "resources", o.index)
            ymap = _graft(ro.object, resources[o.index], loc.line, loc.column)
        elif o.field == "resourcesTemplate" and o.line:
            line, col = _template_line(doc, o.line)
            ymap = _graft(ro.object, None, line, col)
        else:
            ymap = _graft(ro.object, None, doc.line, doc.column)
        docs.append(Document(doc.path, doc.index, ymap, ymap.line, ymap.col, item=i, origin=RENDERED, source=doc,
                             input_label=ro.input.label if ro.input is not None else ""))
    problems: list[Problem] = []
    for p in rendering.problems:
        o = p.origin
        if o is not None and o.field == "resources" and isinstance(o.index, int):
            loc = doc.loc("spec", "resources", o.index, *o.path)
            line, col = loc.line, loc.column
        elif o is not None and o.field == "resourcesTemplate":
            line, col = _template_line(doc, p.line or 1)
            col = col + max(0, p.column - 1) if p.line else col
        else:
            loc = doc.loc("spec")
            line, col = loc.line, loc.column
        kind = "resourceset" if p.severity == "error" else "resourceset-partial"
        problems.append(Problem(kind, doc.path, line, col, f"ResourceSet `{doc.name}`: {p.message}",
                                hint="Fix the template (flux-operator renders it with Go text/template and `<< >>`).",
                                resource=resource_of(doc)))
    for reason in rendering.not_rendered:
        problems.append(Problem("resourceset-partial", doc.path, doc.line, doc.column,
                                f"ResourceSet `{doc.name}` is not rendered offline: {reason}",
                                hint="Its objects are not judged; inputs from external providers are known only in "
                                     "the cluster.", resource=resource_of(doc)))
    return ([] if rendering.failed or rendering.disabled else docs), problems, not docs
