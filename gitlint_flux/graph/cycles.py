"""Cycles of ``dependsOn``: strongly connected components of the dependency graph of
each cluster (Flux never reconciles any member of a cycle)."""

from __future__ import annotations


def find_cycles(adj: dict) -> list[list]:
    """Strongly connected components with more than one member (or a self-loop), each as
    a list of (Applied, edge) in cycle order; iterative Tarjan."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out = []
    counter = 0
    for start in adj:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            succ = adj.get(v, (None, []))[1]
            recurse = False
            while i < len(succ):
                w = id(succ[i][0])
                i += 1
                if w not in index:
                    work.append((v, i))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                self_loop = any(id(t) == v for t, _ in adj.get(v, (None, []))[1])
                if len(comp) > 1 or self_loop:
                    members = set(comp)
                    # order the members along the cycle, each with its edge to the next
                    cyc = []
                    cur = min(comp, key=lambda x: (adj[x][0].doc.path, adj[x][0].doc.line))
                    seen = set()
                    while cur not in seen:
                        seen.add(cur)
                        nxt = next(((t, e) for t, e in adj[cur][1] if id(t) in members), None)
                        if nxt is None:
                            break
                        cyc.append((adj[cur][0], nxt[1]))
                        cur = id(nxt[0])
                    out.append(cyc)
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    return out
