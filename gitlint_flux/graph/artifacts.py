"""ArtifactGenerators (source-watcher, ``source.extensions.fluxcd.io/v1beta1``): the
ExternalArtifacts they produce, and where a path inside one lies in this checkout.

An ArtifactGenerator produces one ExternalArtifact in its namespace per
``spec.artifacts[]`` entry, named by the entry; with ``spec.pathPattern``
(``@alias/apps/{app}``) one per directory of the source that matches the pattern, the
``{capture}`` placeholders of the entry's fields filled in and the name lower-cased. An
artifact's content is the result of its ``copy`` operations, in order, later ones
overwriting earlier ones:

* ``@alias/dir/**`` to ``@artifact/to/`` copies the contents of ``dir`` under ``to``;
* ``@alias/dir/`` (a directory) copies the directory itself, as ``to/dir``;
* ``@alias/dir/*.yaml`` (a glob in the last part) copies the matching files into ``to``;
* ``@alias/file.yaml`` copies one file.

A Kustomization's ``spec.path`` inside the artifact is resolved to the directory of the
checkout the operations copy it from, when the alias names a source that is this
repository. The ``Merge`` strategy produces content that differs from the checkout and
``Extract`` unpacks archives: both are external, never resolved.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Artifact:
    """One ExternalArtifact of a generator."""

    name: str
    copies: list = field(default_factory=list)  # the entry's `copy` list (placeholders filled in)
    index: int = 0  # the entry in spec.artifacts


def _alias_path(ref: str) -> tuple[str, str] | None:
    """``@alias/some/path`` -> (alias, some/path)."""
    if not isinstance(ref, str) or not ref.startswith("@"):
        return None
    alias, _, rest = ref[1:].partition("/")
    return alias, rest


def _fill(text, captures: dict) -> str:
    if not isinstance(text, str):
        return text
    return _PLACEHOLDER.sub(lambda m: captures.get(m.group(1), m.group(0)), text)


def artifacts_of(spec: dict, alias_dirs: dict[str, str | None], dirs: set[str]) -> list[Artifact]:
    """The artifacts a generator's spec produces (``alias_dirs``: alias -> the checkout
    directory its source maps to, None when the source is not this repository; ``dirs``:
    every directory of the checkout, for ``pathPattern``)."""
    entries = spec.get("artifacts") if isinstance(spec.get("artifacts"), list) else []
    pattern = spec.get("pathPattern")
    capture_sets: list[dict] = [{}]
    if isinstance(pattern, str) and pattern:
        capture_sets = _expand(pattern, alias_dirs, dirs)
    out = []
    for captures in capture_sets:
        for i, e in enumerate(entries):
            if not isinstance(e, dict) or not isinstance(e.get("name"), str):
                continue
            name = _fill(e["name"], captures)
            if captures:
                name = name.lower()
            copies = []
            for c in e.get("copy") if isinstance(e.get("copy"), list) else ():
                if isinstance(c, dict):
                    copies.append({k: _fill(v, captures) for k, v in c.items()})
            out.append(Artifact(name, copies, i))
    return out


def _expand(pattern: str, alias_dirs: dict, dirs: set[str]) -> list[dict]:
    """The captures of every checkout directory that ``@alias/a/{x}/b`` matches (each
    placeholder one path segment)."""
    ap = _alias_path(pattern)
    if ap is None:
        return []
    alias, rest = ap
    base = alias_dirs.get(alias)
    if base is None:
        return []
    parts = [p for p in rest.strip("/").split("/") if p]
    regex = "/".join(
        "".join(f"(?P<{m.group(1)}>[^/]+)" if m.group(1) else re.escape(m.group(0))
                for m in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)\}|[^{]+|\{", part))
        for part in parts)
    rx = re.compile(regex + r"\Z")
    out = []
    prefix = (base + "/") if base else ""
    for d in sorted(dirs):
        if prefix and not d.startswith(prefix):
            continue
        m = rx.match(d[len(prefix):])
        if m:
            out.append(m.groupdict())
    return out


def resolve(artifact: Artifact, path: str, alias_dirs: dict[str, str | None]) -> tuple[str | None, str]:
    """The checkout directory that ``path`` (a Kustomization's ``spec.path`` inside the
    artifact) is copied from, and why; None with the reason when it is external (a source
    that is not this repository, a strategy that changes the content) or the artifact has
    no such directory (the reason then starts with "missing")."""
    p = posixpath.normpath(path.strip().lstrip("/")) if path.strip("./") else ""
    p = "" if p == "." else p
    for c in reversed(artifact.copies):
        src = _alias_path(c.get("from"))
        to = c.get("to") if isinstance(c.get("to"), str) else "@artifact/"
        if src is None or not to.startswith("@artifact"):
            continue
        alias, glob = src
        dest = to[len("@artifact"):].strip("/")
        if glob.endswith("/**") or glob == "**":
            region, origin = dest, glob[:-3].rstrip("/") if glob != "**" else ""
        elif glob.endswith("/") or glob == "":
            origin = glob.rstrip("/")
            region = posixpath.join(dest, posixpath.basename(origin)) if origin else dest
        elif any(ch in glob.rpartition("/")[2] for ch in "*?["):
            region, origin = dest, glob.rpartition("/")[0]
            if p != region:
                continue  # only the files themselves: no sub-directory
        else:
            continue  # a single file: not a directory
        if not (p == region or not region or p.startswith(region + "/")):
            continue
        strategy = c.get("strategy") if isinstance(c.get("strategy"), str) else "Overwrite"
        if strategy != "Overwrite":
            return None, f"its copy operation uses the {strategy} strategy (content differs from the checkout)"
        base = alias_dirs.get(alias, None)
        if alias not in alias_dirs:
            return None, f"its copy operation names the unknown source alias `@{alias}`"
        if base is None:
            return None, f"the source `@{alias}` is not this repository"
        rest = p[len(region):].lstrip("/") if region else p
        joined = posixpath.normpath(posixpath.join(base, origin, rest))
        return ("" if joined == "." else joined), f"copied from `{posixpath.join(origin, rest) or '.'}` of `@{alias}`"
    produced = sorted({(c.get("to") or "@artifact/") for c in artifact.copies if isinstance(c, dict)})
    return None, f"missing: the copy operations of artifact `{artifact.name}` produce no `{path}` ({', '.join(produced)})"
