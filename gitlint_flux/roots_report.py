"""`gitlint-flux roots`: how the linter decided what Flux applies.

For each root: how it was found (its kind, file and line), its source, its sync path and
the directory of this checkout the source maps to (and why); each cluster with what it
applies and the Flux it runs; the directory trees no root applies; and, when no root was
found, the configuration that would make the run exact. ``render_json`` is versioned like
the lint report.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from .graph import Graph

VERSION = 1

HOW = {
    "gotk-sync": "the bootstrap Kustomization of a gotk-sync.yaml (`flux bootstrap`)",
    "bootstrap-dir": "a flux-system directory with placeholder gotk files (`flux bootstrap`)",
    "FluxInstance": "a FluxInstance's `spec.sync` (flux-operator)",
    "flux-instance-chart": "a HelmRelease of the flux-instance chart (`instance.sync` of its values)",
    "config": "`roots:` in the configuration",
    "self-applying": "a Flux Kustomization nothing applies whose own path includes it",
    "fallback": "no root found: a Kustomization nothing else applies",
}


def build(graph: "Graph") -> dict:
    from .graph import NOT_APPLIED

    roots = []
    for r in graph.roots:
        doc = r.anchor or r.applied.doc
        loc = doc.loc(*r.sync_at) if r.anchor is not None and r.sync_at else doc.loc()
        key = r.source_key
        local = graph.local_sources.get(key) if key else None
        sdoc = r.source_doc
        sspec = sdoc.spec if sdoc is not None else {}
        ref = sspec.get("ref")
        roots.append({
            "kind": r.kind,
            "how": HOW.get(r.kind, r.kind),
            "file": doc.path, "line": loc.line, "column": loc.column,
            "cluster": r.applied.scope,
            "sync_path": r.path,
            "source": {
                "kind": key[0] if key else None, "namespace": key[1] if key else None, "name": key[2] if key else None,
                "url": sspec.get("url") if isinstance(sspec.get("url"), str) else None,
                "ref": ref if isinstance(ref, (str, dict)) else None,
            },
            "source_dir": (local.dir or ".") if local is not None else None,
            "source_reason": (local.reason or "the source's URL and ref are this repository's, or its bootstrap source")
            if local is not None else "not this repository: what it applies is external",
        })
    clusters = []
    for name, scope in graph.scopes.items():
        if name == NOT_APPLIED:
            continue
        pic = graph.flux_of(name)
        objects = [a for a in scope.applied if a.doc.origin != "synthetic"]
        clusters.append({
            "name": name,
            "objects": len(objects),
            "kustomizations": sum(1 for a in objects if a.doc.kind == "Kustomization"
                                  and a.doc.group == "kustomize.toolkit.fluxcd.io"),
            "files": len({a.doc.path for a in objects}),
            "flux": pic.source,
            "flux_known": pic.known,
            "gates": {g: pic.gate(g) for g in sorted(set(pic.gates) | {"StrictPostBuildSubstitutions",
                                                                        "ExternalArtifact"})},
        })
    unapplied = []
    manifests = [rel for rel, sf in graph.files.items()
                 if sf.skip_reason is None and (sf.objects or sf.is_kustomization)]
    for d, whole, members in graph.unapplied_trees(manifests):
        objs = sum(len(graph.files[m].objects) for m in members if m in graph.files)
        unapplied.append({"dir": d or ".", "whole_tree": whole, "files": len(members), "objects": objs,
                          "first": members[0]})
    external = [{"file": ks.doc.path, "kustomization": ks.name, "cluster": ks.scope, "why": why}
                for ks, why in graph.external_paths]
    out = {"version": VERSION, "root": graph.root, "fallback": graph.fallback, "roots": roots,
           "clusters": clusters, "external": external, "unapplied": unapplied}
    if graph.fallback and graph.roots:
        out["proposed_config"] = graph.fallback_config()
    return out


def render_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_text(data: dict) -> str:
    lines = []
    if not data["roots"]:
        lines.append("no root found, and no Flux Kustomization to take as one")
    for r in data["roots"]:
        s = r["source"]
        lines.append(f"root {r['cluster']}: {r['how']}")
        lines.append(f"  at {r['file']}:{r['line']}:{r['column']}")
        src = f"{s['kind']}/{s['namespace']}/{s['name']}" if s["kind"] else "(none)"
        url = f" ({s['url']})" if s["url"] else ""
        lines.append(f"  source {src}{url}, sync path `{r['sync_path']}`")
        where = f"this checkout's `{r['source_dir']}`" if r["source_dir"] is not None else "external"
        lines.append(f"  source maps to {where}: {r['source_reason']}")
    if data["clusters"]:
        lines.append("")
    for c in data["clusters"]:
        gates = ", ".join(f"{g}={'on' if v else 'off'}" for g, v in c["gates"].items())
        lines.append(f"cluster {c['name']}: {c['objects']} objects in {c['files']} files, "
                     f"{c['kustomizations']} Flux Kustomizations; {c['flux']}; {gates}")
    if data["external"]:
        lines.append("")
        lines.append(f"{len(data['external'])} Kustomization(s) whose path is not resolved in this checkout:")
        for e in data["external"][:20]:
            lines.append(f"  {e['file']} ({e['kustomization']}, {e['cluster']}): {e['why']}")
    if data["unapplied"]:
        lines.append("")
        lines.append("not applied by any root:")
        for u in data["unapplied"]:
            what = "everything under" if u["whole_tree"] else "stray files in"
            lines.append(f"  {what} {u['dir']}/: {u['files']} file(s), {u['objects']} object(s) (first {u['first']})")
    if data.get("proposed_config"):
        cfg = data["proposed_config"]
        lines.append("")
        lines.append("no root was found; to make the run exact, add to .gitlint-flux.yaml:")
        lines.append("  roots:")
        lines.extend(f"    - {r}" for r in cfg["roots"])
        if cfg["sources"]:
            lines.append("  sources:")
            lines.extend(f"    {k}: {v}" for k, v in cfg["sources"].items())
    return "\n".join(lines) + "\n"
