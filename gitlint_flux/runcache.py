"""The run cache's keys and checks: everything a run's result depends on, the files too
recent for their stat to be trusted, and the file cache's entries (see ``cache.py`` for
the store itself)."""

from __future__ import annotations

import os
import stat as stat_mod
import time
from typing import TYPE_CHECKING

from . import __version__
from .cache import digest, key_of
from .load import inside

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from .options import Options
    from .workspace import Prepared

#: the file cache is written in the background up to this much YAML (the child's memory
#: grows with it); larger trees write it in the run itself
BACKGROUND_WRITE_MAX_BYTES = 8 * 1024 * 1024
RACY_NS = 3_000_000_000  # a file changed this recently may change again within one timestamp tick


def stat_signature(prep: "Prepared") -> tuple[list[tuple], list[str]]:
    """Size, modification and change times and inode of every YAML and `.sourceignore`
    file: a write to any of them changes the change time, so the run is recomputed.

    Also returns the files changed in the last seconds: such a file may be written again
    within the file system's timestamp granularity, leaving its stat unchanged. A run
    stored while they were that recent keeps their content hashes, and a later hit is
    checked against their content (git's "racily clean" rule). The key itself never
    depends on the clock, so it is stable once files age."""
    recent = time.time_ns() - RACY_NS
    out = []
    racy = []
    paths = [(rel, abspath) for rel, abspath in prep.listing.files]
    paths += [(rel, os.path.join(prep.root, rel)) for rel in prep.listing.sourceignores]
    for rel, abspath in paths:
        try:
            st = os.stat(abspath)
        except OSError as exc:
            out.append((rel, "error", exc.errno))
            continue
        out.append((rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
        if st.st_ctime_ns >= recent or st.st_mtime_ns >= recent:
            racy.append(rel)
    return out, racy


def file_digest(prep: "Prepared", rel: str) -> str | None:
    """The hash of ``rel`` as it is now; None when it cannot be read as a regular file
    inside the root (within the size limit)."""
    abspath = os.path.join(prep.root, rel)
    try:
        st = os.stat(abspath)
        if not stat_mod.S_ISREG(st.st_mode) or st.st_size > prep.config.max_file_size \
                or not inside(prep.root, abspath):
            return None
        with open(abspath, "rb") as fh:
            return digest(fh.read())
    except OSError:
        return None


def content_digest(prep: "Prepared", rel: str) -> str | None:
    """The hash of what this run read of ``rel`` (or of the file now, for a file it does
    not parse, such as a `.sourceignore`)."""
    data = prep.contents.get(rel)
    return digest(data) if data is not None else file_digest(prep, rel)


def racy_clean(prep: "Prepared", racy: dict[str, str | None]) -> bool:
    """The files that were recent when the run was stored still hold what it read."""
    return all(file_digest(prep, rel) == dg for rel, dg in racy.items())


def run_key(prep: "Prepared", opts: "Options", paths: list[str]) -> tuple[str, list[str]]:
    """Everything a run's result depends on (see cache.py), and the files too recent for
    their stat to be trusted (see ``stat_signature``)."""
    config = prep.config
    inputs = []
    for path in [config.path] + [src for _spec, src in config.custom.values()]:
        if path:
            full = path if os.path.isabs(path) else os.path.join(prep.root, path)
            try:
                with open(full, "rb") as fh:
                    inputs.append((path, digest(fh.read())))
            except OSError:
                inputs.append((path, None))
    if config.extends not in ("recommended", "strict"):
        inputs.append(("extends", config.extends, repr(sorted(config.rules.items(), key=lambda kv: kv[0]))))
    for d in config.schema_locations:
        full = d if os.path.isabs(d) else os.path.join(prep.root, d)
        for dirpath, _dirs, names in os.walk(full):
            for n in sorted(names):
                try:
                    st = os.stat(os.path.join(dirpath, n))
                    inputs.append((dirpath, n, st.st_size, st.st_mtime_ns))
                except OSError:
                    pass
    links = [(rel, os.path.realpath(os.path.join(prep.root, rel))) for rel in prep.listing.names
             if os.path.islink(os.path.join(prep.root, rel))]
    signature, racy = stat_signature(prep)
    return key_of(
        __version__, prep.root, sorted(os.path.realpath(p) for p in paths), opts.stdin_filename, opts.stdin_text,
        opts.inline_suppressions, sorted(opts.baseline or ()), opts.debug, inputs, prep.listing.names, links,
        config.schema_locations, config.kubernetes_version, config.strict_schemas,
        signature, [(p.kind, p.path, p.message) for p in prep.listing.problems], prep.listing.skipped,
    ), racy


def files_key(root: str) -> str:
    return key_of("files", root)


def file_cache_entries(key: str, fresh: dict, fast: bool) -> list[tuple]:
    """The file cache as two entries: files whose documents use YAML aliases keep their
    sharing (pickled with the memo); the rest, nearly everything, is pickled without it
    when ``fast`` (see ``Cache.put``). The memo's pickle is a third faster to read and
    smaller, but costs memory and time to write: the background writer uses it, a run
    that writes a large tree's cache itself does not."""
    plain = {rel: v for rel, v in fresh.items() if not v[3]}
    shared = {rel: v for rel, v in fresh.items() if v[3]}
    return [("files", key, plain, fast), ("files-shared", key, shared, False)]


class RunStore:
    """The cache as a run uses it: a hit on the whole run, else the file cache for the
    parse, and the run's results stored at the end."""

    def __init__(self, prep: "Prepared", opts: "Options", paths: list[str], stats):
        from .cache import Cache

        self.prep, self.opts, self.stats = prep, opts, stats
        t = time.perf_counter()
        self.cache = Cache(opts.cache_dir, max_size=prep.config.cache_max_size)
        self.key, self.racy = run_key(prep, opts, paths)
        self.files_key = files_key(prep.root)
        self.files_pending = False
        self.pcache = None
        self.racy_digests: dict[str, str | None] = {}
        stats.timings["run key"] = time.perf_counter() - t

    def lookup(self):
        """The stored (report, internal) of an identical run, or None."""
        hit = self.cache.get("runs", self.key)
        if hit is not None and not racy_clean(self.prep, hit[3]):
            hit = None  # a file rewritten within one timestamp tick of the stored run
        if hit is None:
            self.stats.run_cache = "miss"
            return None
        report, internal, documents, _racy = hit
        self.stats.documents, self.stats.run_cache = documents, "hit"
        self.stats.from_cache = self.stats.files
        return report, internal

    def parse_cache(self):
        from .load import ParseCache

        t = time.perf_counter()
        previous = self.cache.get("files-shared", self.files_key) or {}
        previous.update(self.cache.get("files", self.files_key) or {})
        self.pcache = ParseCache(previous=previous)
        self.stats.timings["cache read"] = time.perf_counter() - t
        return self.pcache

    def parsed(self, pcache, background: bool) -> None:
        """After the parse: start writing the file cache (in a forked child, for the CLI)
        when enough changed, and note what the racy files held."""
        # rewriting the whole file cache for a handful of edited files costs more than
        # parsing those files again next time: rewrite it once enough has changed
        stale = pcache.parsed + len(set(pcache.previous) - set(pcache.fresh))
        self.files_pending = bool(stale and (not pcache.previous or stale > max(20, len(pcache.fresh) // 20)))
        if self.files_pending and background and \
                sum(len(b) for b in self.prep.contents.values()) <= BACKGROUND_WRITE_MAX_BYTES:
            # the child's copy-on-write pages cost memory about the size of the parse
            t = time.perf_counter()
            self.files_pending = not self.cache.put_in_background(
                file_cache_entries(self.files_key, pcache.fresh, fast=False))
            self.stats.timings["cache fork"] = time.perf_counter() - t
        if self.files_pending:
            # written now, before the graph and the checks hold their memory: the encoded
            # entries are freed before the run's peak
            t = time.perf_counter()
            for kind, key, value, fast in file_cache_entries(self.files_key, pcache.fresh, fast=True):
                self.cache.put(kind, key, value, fast=fast)
            self.files_pending = False
            self.stats.timings["cache write (files)"] = time.perf_counter() - t
        self.racy_digests = {rel: content_digest(self.prep, rel) for rel in self.racy}

    def store(self, report, internal: bool, data_reads: dict[str, bytes | None] | None = None) -> None:
        """``data_reads``: the files the run read as data, not parsed (a generator's `envs:`),
        with what it read: the stored run holds only while they hold the same (checked as
        the racy files are)."""
        t = time.perf_counter()
        for rel, data in (data_reads or {}).items():
            self.racy_digests[rel] = digest(data) if data is not None else None
        if self.files_pending and self.pcache is not None:
            for kind, key, value, fast in file_cache_entries(self.files_key, self.pcache.fresh, fast=True):
                self.cache.put(kind, key, value, fast=fast)
        if not internal:
            self.cache.put("runs", self.key, (report, internal, report.documents, self.racy_digests))
        self.stats.timings["cache write"] = time.perf_counter() - t
