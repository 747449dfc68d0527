"""The tree a run lints: its root, configuration and file listing (``prepare``), the
bytes of its YAML files (``read_contents``), an editor buffer in place of a file
(``inject_stdin``), and the load stage itself: files parsed into documents, then the
graph built over them (``load``)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .config import Config, load_config
from .load import (
    KUSTOMIZATION_NAMES, Listing, ParseCache, find_root, git_toplevel, list_files, load_tree, parse_text, read_bytes,
)
from .model import Skipped, SourceFile

if TYPE_CHECKING:  # pragma: no cover - the graph is imported lazily (cached runs need none)
    from .graph import Graph
    from .options import Options


@dataclass
class Prepared:
    """Root, configuration and file listing, and (once read) the bytes of every YAML file."""

    root: str
    in_git: bool
    config: Config
    listing: Listing
    contents: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Loaded:
    root: str
    config: Config
    files: dict[str, SourceFile]
    listing: Listing
    graph: "Graph | None"  # None: loaded without it (`load(graph=False)`)
    timings: dict = field(default_factory=dict)


def prepare(paths: list[str], root_opt: str | None, config_opt: str | None, read: bool = False) -> Prepared:
    root, in_git = find_root(paths, root_opt)
    top = git_toplevel(root) if in_git else None
    config = load_config(root, top, config_opt)
    listing = list_files(root, in_git)
    prep = Prepared(root, in_git, config, listing)
    if read:
        read_contents(prep)
    return prep


def apply_options(config: Config, opts: "Options") -> None:
    """Command-line schema settings over the configuration's (CLI directories are
    relative to the working directory, the configuration's to the root)."""
    if opts.schema_locations:
        config.schema_locations = [os.path.abspath(p) for p in opts.schema_locations] + list(config.schema_locations)
    if opts.kubernetes_version:
        config.kubernetes_version = opts.kubernetes_version
    if opts.strict_schemas:
        config.strict_schemas = True


def read_contents(prep: Prepared) -> None:
    """Read every YAML file once (the parser and the file cache use the bytes)."""
    config = prep.config
    for rel, abspath in prep.listing.files:
        if config.excluded(rel):
            continue
        data = read_bytes(SourceFile(rel, abspath), config.max_file_size)
        if data is not None:  # too large or unreadable: the loader reports it
            prep.contents[rel] = data


def load(paths: list[str], root_opt: str | None, config_opt: str | None,
         stdin: tuple[str, str] | None = None, prepared: Prepared | None = None,
         cache: ParseCache | None = None, graph: bool = True) -> Loaded:
    """Load the tree and build its graph (``stdin``: (filename, buffer) replacing a file;
    ``graph=False``: the files only, ``Loaded.graph`` None)."""
    if prepared is None:
        prepared = prepare(paths, root_opt, config_opt)
    root, config, listing = prepared.root, prepared.config, prepared.listing
    t0 = time.perf_counter()
    files, listing = load_tree(root, prepared.in_git, config.max_file_size, exclude=config.excluded,
                               cache=cache, listing=listing, contents=prepared.contents)
    if stdin is not None:
        inject_stdin(root, files, stdin[0], stdin[1], config)
    t1 = time.perf_counter()
    if not graph:
        return Loaded(root, config, files, listing, None, {"parse": t1 - t0})
    from .graph import Graph

    built = Graph(root, files, located_roots(root, config), config.sources,
                  sourceignores=listing.sourceignores).build()
    return Loaded(root, config, files, listing, built, {"parse": t1 - t0, "graph": time.perf_counter() - t1})


def build_graph(paths: list[str], root_opt: str | None, config_opt: str | None) -> "Graph":
    return load(paths, root_opt, config_opt).graph


def located_roots(root: str, config: Config) -> list:
    """`roots:` entries with the configuration file position that names them."""
    if not config.path or not config.roots:
        return list(config.roots)
    rel = os.path.relpath(os.path.abspath(config.path), root).replace(os.sep, "/")
    at = config.roots_at or [(1, 1)] * len(config.roots)
    return [(r, rel, line, col) for r, (line, col) in zip(config.roots, at)]


def inject_stdin(root: str, files: dict[str, SourceFile], filename: str, text: str, config: Config) -> None:
    """Replace one file's content by the editor buffer."""
    ap = os.path.realpath(filename)
    rel = os.path.relpath(ap, root).replace(os.sep, "/")
    if rel.startswith("../"):
        return
    sf = files.get(rel)
    if sf is None:
        sf = SourceFile(rel, ap, is_kustomization=rel.rsplit("/", 1)[-1] in KUSTOMIZATION_NAMES)
        files[rel] = sf
    if config.excluded(rel):
        sf.skip_reason = "excluded by configuration"
        return
    if sf.skip_reason is not None:
        return
    sf.text = text.lstrip("\ufeff")
    sf.documents = []
    sf.problems = []
    sf.size = len(text.encode("utf-8", "surrogatepass"))
    parse_text(sf, sf.text)


#: roles in which kustomize reads a file as data, not as Kubernetes objects
DATA_ROLES = frozenset({"generator", "values"})


def finalize_files(files: dict[str, SourceFile], graph: "Graph") -> tuple[list[str], list[Skipped]]:
    """Every file is linted or skipped with a reason."""
    linted, skipped = [], []
    for rel in sorted(files):
        sf = files[rel]
        roles = graph.roles_of(rel)
        if sf.skip_reason is None and roles and roles <= DATA_ROLES:
            # kustomize reads it as data (a generator's file, Helm values): never a manifest
            sf.skip_reason = f"kustomize {'generator input' if 'generator' in roles else 'Helm values file'} (data)"
            sf.problems.clear()
        if sf.skip_reason is None and sf.is_template and not roles:
            sf.skip_reason = "Go template (does not parse as YAML)"
            sf.problems.clear()
        if sf.skip_reason is None and not sf.problems and not sf.is_kustomization and not sf.objects and not roles:
            sf.skip_reason = "no Kubernetes objects (no apiVersion/kind)"
        if sf.skip_reason is not None:
            skipped.append(Skipped(rel, sf.skip_reason))
        else:
            linted.append(rel)
    return linted, skipped
