"""``gitlint-flux graph``: the Flux graph as Mermaid, Graphviz dot or JSON.

Scopes (clusters) and layers are groups. By default the graph holds what a repository's
README draws: the sources (``source.toolkit.fluxcd.io``) and the Flux Kustomizations,
with ``applies`` (a Kustomization applies another, or a source), ``dependsOn`` and
``sourceRef`` edges; ``all_objects`` (``--all``) adds every other Flux object and its
references (``chartRef``, ``valuesFrom``, ``substituteFrom``, ``providerRef``...).
"""

from __future__ import annotations

import json

from .graph import Graph, is_flux, layer_of
from .model import Applied

_EDGE_KINDS = ("dependsOn", "sourceRef", "chartRef")


SOURCE_GROUP = "source.toolkit.fluxcd.io"
KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"


def is_outline(a: Applied) -> bool:
    """A source, a Flux Kustomization or a ResourceSet (it applies what it renders): what
    the default graph draws."""
    group = a.doc.group
    return group == SOURCE_GROUP or (group == KUSTOMIZE_GROUP and a.doc.kind == "Kustomization") or \
        (group == "fluxcd.controlplane.io" and a.doc.kind == "ResourceSet")


def _renderer(graph: Graph, a: Applied) -> Applied | None:
    """The ResourceSet (as applied in the same cluster) that rendered ``a``."""
    if a.doc.origin != "resourceset" or a.doc.source is None:
        return None
    for rs in graph.applied_by_doc.get(id(a.doc.source), []):
        if rs.scope == a.scope:
            return rs
    return None


def _nodes(graph: Graph, all_objects: bool = True) -> list[Applied]:
    out = []
    for scope in graph.scopes.values():
        for a in scope.applied:
            if is_flux(a.doc) and (all_objects or is_outline(a)):
                out.append(a)
    return out


def _id(a: Applied) -> str:
    return f"{a.scope}|{a.doc.kind}|{a.namespace}|{a.name}"


def as_dict(graph: Graph, all_objects: bool = True) -> dict:
    nodes = _nodes(graph, all_objects)
    ids = {id(a): _id(a) for a in nodes}
    out_nodes, out_edges = [], []
    seen = set()
    kept = set(ids.values())
    for a in nodes:
        nid = ids[id(a)]
        if nid in seen:
            continue
        seen.add(nid)
        layer = layer_of(a.doc.path)
        out_nodes.append({
            "id": nid, "scope": a.scope, "kind": a.doc.kind, "apiVersion": a.doc.api_version,
            "namespace": a.namespace, "name": a.name, "path": a.doc.path, "line": a.doc.line,
            "layer": layer.name if layer else None, "layer_order": layer.order if layer else None,
            "synthetic": a.doc.origin == "synthetic",
            "rendered_by": None,
        })
        rs = _renderer(graph, a)
        if rs is not None:
            out_nodes[-1]["rendered_by"] = _id(rs)
            if _id(rs) in kept:
                out_edges.append({"from": _id(rs), "to": nid, "kind": "applies"})
            continue
        if a.by is not None:
            for parent in graph.applied_by_doc.get(id(a.by), []):
                if parent.scope == a.scope or graph.scopes[a.scope].parent == parent.scope:
                    if _id(parent) in kept and _id(parent) != nid:  # the bootstrap applies itself
                        out_edges.append({"from": _id(parent), "to": nid, "kind": "applies"})
                    break
    for e in graph.edges:
        if e.kind not in _EDGE_KINDS and e.kind not in ("valuesFrom", "substituteFrom", "providerRef",
                                                        "imageRepositoryRef", "secretRef", "include"):
            continue
        if not all_objects and (e.kind not in ("dependsOn", "sourceRef") or _id(e.source) not in kept
                                or (e.resolved is not None and _id(e.resolved) not in kept)):
            continue
        out_edges.append({
            "from": _id(e.source), "to": _id(e.resolved) if e.resolved is not None else None,
            "target": str(e.target), "kind": e.kind, "state": e.state, "path": e.source.doc.path,
            "line": e.source.doc.loc(*e.field_path).line,
        })
    roots = [{"scope": r.applied.scope, "kind": r.kind, "path": r.path or ".",
              "defined_in": r.applied.doc.path} for r in graph.roots]
    return {"version": 1, "roots": roots, "scopes": sorted(graph.scopes), "nodes": out_nodes, "edges": out_edges}


def _safe(s: str) -> str:
    return s.replace('"', "'")


def mermaid(graph: Graph, all_objects: bool = False) -> str:
    data = as_dict(graph, all_objects)
    idx = {n["id"]: f"n{i}" for i, n in enumerate(data["nodes"])}
    lines = ["flowchart LR"]
    by_scope: dict[str, dict[str, list[dict]]] = {}
    for n in data["nodes"]:
        by_scope.setdefault(n["scope"], {}).setdefault(n["layer"] or "", []).append(n)
    for si, (scope, layers) in enumerate(sorted(by_scope.items())):
        lines.append(f'  subgraph s{si}["{_safe(scope)}"]')
        for li, (layer, nodes) in enumerate(sorted(layers.items())):
            indent = "    "
            if layer:
                lines.append(f'    subgraph s{si}l{li}["{_safe(layer)}"]')
                indent = "      "
            for n in nodes:
                if n.get("rendered_by") in idx:
                    continue  # drawn with its ResourceSet, below
                ns = f"{n['namespace']}/" if n["namespace"] else ""
                lines.append(f'{indent}{idx[n["id"]]}["{n["kind"]}<br/>{_safe(ns + n["name"])}"]')
            if layer:
                lines.append("    end")
        # what a ResourceSet renders, grouped under it
        groups: dict[str, list[dict]] = {}
        for layer_nodes in layers.values():
            for n in layer_nodes:
                if n.get("rendered_by") in idx:
                    groups.setdefault(n["rendered_by"], []).append(n)
        for gi, (rs_id, members) in enumerate(sorted(groups.items())):
            rs_name = rs_id.split("|", 2)[2].replace("|", "/")
            lines.append(f'    subgraph s{si}r{gi}["rendered by ResourceSet {_safe(rs_name)}"]')
            for n in members:
                ns = f"{n['namespace']}/" if n["namespace"] else ""
                lines.append(f'      {idx[n["id"]]}["{n["kind"]}<br/>{_safe(ns + n["name"])}"]')
            lines.append("    end")
        lines.append("  end")
    for e in data["edges"]:
        if e["kind"] not in ("applies",) + _EDGE_KINDS:
            continue
        src = idx.get(e["from"])
        dst = idx.get(e["to"]) if e.get("to") else None
        if src is None:
            continue
        if dst is None:
            missing = f"x{abs(hash(e['target'])) % 10**8}"
            lines.append(f'  {missing}["missing: {_safe(e["target"])}"]:::missing')
            lines.append(f"  {src} -. {e['kind']} .-> {missing}")
        elif e["kind"] == "applies":
            lines.append(f"  {src} --> {dst}")
        else:
            lines.append(f"  {src} -- {e['kind']} --> {dst}")
    lines.append("  classDef missing stroke:#d00,stroke-dasharray:4")
    return "\n".join(lines) + "\n"


def dot(graph: Graph, all_objects: bool = False) -> str:
    data = as_dict(graph, all_objects)
    idx = {n["id"]: f"n{i}" for i, n in enumerate(data["nodes"])}
    lines = ["digraph flux {", "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
    by_scope: dict[str, list[dict]] = {}
    for n in data["nodes"]:
        by_scope.setdefault(n["scope"], []).append(n)
    for si, (scope, nodes) in enumerate(sorted(by_scope.items())):
        lines.append(f'  subgraph cluster_{si} {{ label="{_safe(scope)}";')
        for n in nodes:
            ns = f"{n['namespace']}/" if n["namespace"] else ""
            lines.append(f'    {idx[n["id"]]} [label="{n["kind"]}\\n{_safe(ns + n["name"])}"];')
        lines.append("  }")
    for e in data["edges"]:
        if e["kind"] not in ("applies",) + _EDGE_KINDS:
            continue
        src, dst = idx.get(e["from"]), idx.get(e["to"]) if e.get("to") else None
        if src is None:
            continue
        if dst is None:
            lines.append(f'  {src} -> "missing: {_safe(e["target"])}" [style=dashed, color=red, label="{e["kind"]}"];')
        elif e["kind"] == "applies":
            lines.append(f"  {src} -> {dst} [color=gray];")
        else:
            lines.append(f'  {src} -> {dst} [label="{e["kind"]}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


FORMATS = {
    "mermaid": mermaid,
    "dot": dot,
    "json": lambda g, all_objects=False: json.dumps(as_dict(g, all_objects), indent=2) + "\n",
}
