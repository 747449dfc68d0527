"""The run: load -> graph -> checks -> report."""

from __future__ import annotations

import gc
import os
import stat as stat_mod
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import __version__
from .config import Config, load_config
from .load import (
    KUSTOMIZATION_NAMES, Listing, ParseCache, find_root, git_toplevel, list_files, load_tree, parse_text, read_bytes,
)
from .model import (
    SEVERITY_RANK, Finding, Problem, RunReport, Skipped, SourceFile, resource_of,
)
from .rules import all_rules

if TYPE_CHECKING:  # pragma: no cover - the graph is imported lazily (cached runs need none)
    from .graph import Graph

TOOL_NAME = "gitlint-flux"
#: the file cache is written in the background up to this much YAML (the child's memory
#: grows with it); larger trees write it in the run itself
BACKGROUND_WRITE_MAX_BYTES = 8 * 1024 * 1024


@dataclass
class Options:
    paths: list[str] = field(default_factory=list)
    root: str | None = None
    config: str | None = None
    debug: bool = False
    stdin_filename: str | None = None
    stdin_text: str | None = None
    inline_suppressions: bool = True
    baseline: set[str] | None = None  # fingerprints of findings to leave out
    use_cache: bool = False
    cache_dir: str | None = None
    #: run without the cyclic garbage collector: for a process that ends after one run (the
    #: CLI), never for a library caller
    freeze_gc: bool = False
    #: write the file cache from a forked child while the run goes on (the CLI, which
    #: reaps it with ``cache.wait_for_writers`` before it exits); never for a library caller
    background_writes: bool = False
    schema_locations: list[str] = field(default_factory=list)  # --schema-location: before the configuration's
    kubernetes_version: str | None = None  # --kubernetes-version: overrides the configuration
    strict_schemas: bool = False  # --strict-schemas


@dataclass
class Stats:
    """What a run did (``--stats``): cache effectiveness is tested by these counters."""

    files: int = 0
    parsed: int = 0
    from_cache: int = 0
    documents: int = 0
    validated: int = 0
    run_cache: str = "off"  # off, hit, miss
    timings: dict = field(default_factory=dict)  # stage -> seconds

    def render(self) -> str:
        line = (f"stats: {self.files} files listed, {self.parsed} parsed, {self.from_cache} from cache, "
                f"{self.documents} documents, {self.validated} validated, run cache {self.run_cache}")
        if self.timings:
            line += "\ntimings: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in self.timings.items())
        return line


class Context:
    """What a rule sees: the loaded files, the graph, the configuration, problems."""

    def __init__(self, root: str, files: dict[str, SourceFile], graph: Graph, config: Config,
                 problems: list[Problem], linted: list[str]):
        self.root = root
        self.files = files
        self.graph = graph
        self.config = config
        self._problems: dict[str, list[Problem]] = {}
        for p in problems:
            self._problems.setdefault(p.kind, []).append(p)
        self._linted = linted
        #: the document a rule is looking at (named in an internal-error finding)
        self.current = None

    def problems_of(self, kinds: tuple[str, ...]) -> list[Problem]:
        out: list[Problem] = []
        for k in kinds:
            out.extend(self._problems.get(k, ()))
        return out

    def linted_files(self) -> list[SourceFile]:
        return [self.files[p] for p in self._linted]

    def applied(self, kinds: tuple[str, ...] | None = None):
        """Objects as Flux applies them, in every real scope (a document applied in two
        clusters comes twice; findings are deduplicated by location)."""
        from .graph import NOT_APPLIED

        for scope in self.graph.scopes.values():
            if scope.name == NOT_APPLIED:
                continue
            for a in scope.applied:
                if a.doc.origin == "synthetic" or (kinds is not None and a.doc.kind not in kinds):
                    continue
                self.current = a.doc
                yield a


def _finalize_files(files: dict[str, SourceFile], graph: Graph) -> tuple[list[str], list[Skipped]]:
    """Every file is linted or skipped with a reason."""
    linted, skipped = [], []
    roles = graph.resolver.roles
    for rel in sorted(files):
        sf = files[rel]
        if sf.skip_reason is None and sf.is_template and rel not in roles:
            sf.skip_reason = "Go template (does not parse as YAML)"
            sf.problems.clear()
        if sf.skip_reason is None and not sf.problems and not sf.is_kustomization and not sf.objects and rel not in roles:
            sf.skip_reason = "no Kubernetes objects (no apiVersion/kind)"
        if sf.skip_reason is not None:
            skipped.append(Skipped(rel, sf.skip_reason))
        else:
            linted.append(rel)
    return linted, skipped


def _selected(paths: list[str], root: str) -> list[str] | None:
    """Root-relative prefixes of the paths the user named (None = everything)."""
    out = []
    for p in paths:
        ap = os.path.realpath(p)
        rel = os.path.relpath(ap, root).replace(os.sep, "/")
        if rel == ".":
            return None
        out.append(rel)
    return out or None


def _in_selection(path: str, sel: list[str]) -> bool:
    return any(path == s or path.startswith(s.rstrip("/") + "/") for s in sel)


def _names(target: str | None, sel: list[str]) -> bool:
    """A missing path lies in the selection, or is a directory that held a selected path."""
    return target is not None and (_in_selection(target, sel) or any(_in_selection(s, [target]) for s in sel))


def _clamp_positions(findings: list[Finding], files: dict[str, SourceFile]) -> None:
    """Keep every position inside its file: libyaml's end-of-stream mark of a file without
    a final newline lies one line past its end."""
    lines: dict[str, list[str]] = {}
    for f in findings:
        sf = files.get(f.path)
        if sf is None or sf.text is None:
            continue
        ls = lines.get(f.path)
        if ls is None:
            ls = sf.text.splitlines() or [""]
            if sf.text.endswith(("\n", "\r")):
                ls.append("")  # the empty line after the final line break is a position too
            lines[f.path] = ls
        n = len(ls)
        if f.line > n:
            f.line, f.column = n, len(ls[-1]) + 1
        f.column = min(f.column, len(ls[f.line - 1]) + 1)
        if f.end_line is not None and f.end_line > n:
            f.end_line, f.end_column = n, len(ls[-1]) + 1
        if f.end_line is not None and f.end_column is not None:
            f.end_column = min(f.end_column, len(ls[f.end_line - 1]) + 1)


def _dedupe(findings) -> list[Finding]:
    """One finding per rule, place and message (an object applied in two clusters is
    judged twice)."""
    seen, out = set(), []
    for f in findings:
        key = (f.rule, f.path, f.line, f.column, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def assign_fingerprints(findings: list[Finding]) -> None:
    seen: dict[str, int] = {}
    for f in sorted(findings, key=Finding.sort_key):
        base = f.compute_fingerprint()
        n = seen.get(base, 0)
        seen[base] = n + 1
        f.fingerprint = base if n == 0 else f.compute_fingerprint(str(n))


@dataclass
class Loaded:
    root: str
    config: Config
    files: dict[str, SourceFile]
    listing: Listing
    graph: "Graph"
    timings: dict = field(default_factory=dict)
    validated: int = 0


def load(paths: list[str], root_opt: str | None, config_opt: str | None,
         stdin: tuple[str, str] | None = None, prepared: "Prepared | None" = None,
         cache: ParseCache | None = None) -> Loaded:
    """Load the tree and build its graph (``stdin``: (filename, buffer) replacing a file)."""
    if prepared is None:
        prepared = prepare(paths, root_opt, config_opt)
    root, config, listing = prepared.root, prepared.config, prepared.listing
    t0 = time.perf_counter()
    files, listing = load_tree(root, prepared.in_git, config.max_file_size, exclude=config.excluded,
                               cache=cache, listing=listing, contents=prepared.contents)
    if stdin is not None:
        _inject_stdin(root, files, stdin[0], stdin[1], config)
    t1 = time.perf_counter()
    from .graph import Graph

    graph = Graph(root, files, _located_roots(root, config), config.sources,
                  sourceignores=listing.sourceignores).build()
    return Loaded(root, config, files, listing, graph, {"parse": t1 - t0, "graph": time.perf_counter() - t1})


def _located_roots(root: str, config: Config) -> list:
    """`roots:` entries with the configuration file position that names them."""
    if not config.path or not config.roots:
        return list(config.roots)
    rel = os.path.relpath(os.path.abspath(config.path), root).replace(os.sep, "/")
    at = config.roots_at or [(1, 1)] * len(config.roots)
    return [(r, rel, line, col) for r, (line, col) in zip(config.roots, at)]


@dataclass
class Prepared:
    """Root, configuration and file listing, and (once read) the bytes of every YAML file."""

    root: str
    in_git: bool
    config: Config
    listing: Listing
    contents: dict[str, bytes] = field(default_factory=dict)


def prepare(paths: list[str], root_opt: str | None, config_opt: str | None, read: bool = False) -> Prepared:
    root, in_git = find_root(paths, root_opt)
    top = git_toplevel(root) if in_git else None
    config = load_config(root, top, config_opt)
    listing = list_files(root, in_git)
    prep = Prepared(root, in_git, config, listing)
    if read:
        read_contents(prep)
    return prep


RACY_NS = 3_000_000_000  # a file changed this recently may change again within one timestamp tick


def stat_signature(prep: Prepared) -> tuple[list[tuple], list[str]]:
    """Size, modification and change times and inode of every YAML and `.sourceignore`
    file: a write to any of them changes the change time, so the run is recomputed.

    Also returns the files changed in the last seconds: such a file may be written again
    within the file system's timestamp granularity, leaving its stat unchanged. A run
    stored while they were that recent keeps their content hashes, and a later hit is
    checked against their content (git's "racily clean" rule). The key itself never
    depends on the clock, so it is stable once files age."""
    import time

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


def _file_digest(prep: Prepared, rel: str) -> str | None:
    """The hash of ``rel`` as it is now; None when it cannot be read as a regular file
    inside the root (within the size limit)."""
    from .cache import digest

    abspath = os.path.join(prep.root, rel)
    try:
        st = os.stat(abspath)
        if not stat_mod.S_ISREG(st.st_mode) or st.st_size > prep.config.max_file_size \
                or not _inside(prep.root, abspath):
            return None
        with open(abspath, "rb") as fh:
            return digest(fh.read())
    except OSError:
        return None


def _content_digest(prep: Prepared, rel: str) -> str | None:
    """The hash of what this run read of ``rel`` (or of the file now, for a file it does
    not parse, such as a `.sourceignore`)."""
    from .cache import digest

    data = prep.contents.get(rel)
    return digest(data) if data is not None else _file_digest(prep, rel)


def _racy_clean(prep: Prepared, racy: dict[str, str | None]) -> bool:
    """The files that were recent when the run was stored still hold what it read."""
    return all(_file_digest(prep, rel) == dg for rel, dg in racy.items())


def _inside(root: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def read_contents(prep: Prepared) -> None:
    """Read every YAML file once (the parser and the file cache use the bytes)."""
    config = prep.config
    for rel, abspath in prep.listing.files:
        if config.excluded(rel):
            continue
        data = read_bytes(SourceFile(rel, abspath), config.max_file_size)
        if data is not None:  # too large or unreadable: the loader reports it
            prep.contents[rel] = data


def _schema_options(config: Config, opts: "Options") -> None:
    """Command-line schema settings over the configuration's (CLI directories are
    relative to the working directory, the configuration's to the root)."""
    if opts.schema_locations:
        config.schema_locations = [os.path.abspath(p) for p in opts.schema_locations] + list(config.schema_locations)
    if opts.kubernetes_version:
        config.kubernetes_version = opts.kubernetes_version
    if opts.strict_schemas:
        config.strict_schemas = True


def _run_key(prep: Prepared, opts: "Options", paths: list[str]) -> tuple[str, list[str]]:
    """Everything a run's result depends on (see cache.py), and the files too recent for
    their stat to be trusted (see ``stat_signature``)."""
    from .cache import digest, key_of

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


def build_graph(paths: list[str], root_opt: str | None, config_opt: str | None) -> Graph:
    return load(paths, root_opt, config_opt).graph


def run(opts: Options, stats: Stats | None = None) -> tuple[RunReport, bool]:
    """Lint; returns the report and whether an internal error occurred."""
    stats = stats if stats is not None else Stats()
    paths = opts.paths or ["."]
    stdin = None
    if opts.stdin_filename is not None:
        stdin = (opts.stdin_filename, opts.stdin_text or "")
        paths = [opts.stdin_filename]
    cache = pcache = run_key = None
    racy: list[str] = []
    if opts.freeze_gc:
        # a one-run process: the objects it builds hold no garbage cycles worth collecting,
        # and collections over the cache's or the parser's hundred thousand containers cost
        # more than the memory they could return
        gc.disable()
    t_start = time.perf_counter()
    prep = prepare(paths, opts.root, opts.config)
    _schema_options(prep.config, opts)
    stats.timings["list+config"] = time.perf_counter() - t_start
    stats.files = len(prep.listing.files)
    if opts.use_cache:
        from .cache import Cache, key_of

        t = time.perf_counter()
        cache = Cache(opts.cache_dir, max_size=prep.config.cache_max_size)
        run_key, racy = _run_key(prep, opts, paths)
        hit = cache.get("runs", run_key)
        if hit is not None and not _racy_clean(prep, hit[3]):
            hit = None  # a file rewritten within one timestamp tick of the stored run
        stats.timings["run key"] = time.perf_counter() - t
        if hit is not None:
            report, internal, cached_stats, _racy = hit
            stats.documents, stats.run_cache = cached_stats, "hit"
            stats.from_cache = stats.files
            return report, internal
        stats.run_cache = "miss"
        t = time.perf_counter()
        files_key = key_of("files", prep.root)
        previous = cache.get("files-shared", files_key) or {}
        previous.update(cache.get("files", files_key) or {})
        pcache = ParseCache(previous=previous)
        stats.timings["cache read"] = time.perf_counter() - t
    else:
        pcache = ParseCache()
    t = time.perf_counter()
    read_contents(prep)
    stats.timings["read"] = time.perf_counter() - t
    # parsing allocates hundreds of thousands of acyclic containers: collecting during it
    # is wasted work, and freezing them keeps later collections from walking them again
    gc_was = gc.isenabled()
    gc.disable()
    try:
        loaded = load(paths, opts.root, opts.config, stdin, prepared=prep, cache=pcache)
    finally:
        if gc_was and not opts.freeze_gc:
            gc.enable()
    stats.parsed = pcache.parsed if cache is not None else len(prep.contents)
    stats.from_cache = pcache.reused
    stats.timings.update(loaded.timings)
    files_pending = False
    if cache is not None:
        # rewriting the whole file cache for a handful of edited files costs more than
        # parsing those files again next time: rewrite it once enough has changed
        stale = pcache.parsed + len(set(pcache.previous) - set(pcache.fresh))
        files_pending = bool(stale and (not pcache.previous or stale > max(20, len(pcache.fresh) // 20)))
        if files_pending and opts.background_writes and \
                sum(len(b) for b in prep.contents.values()) <= BACKGROUND_WRITE_MAX_BYTES:
            # the child's copy-on-write pages cost memory about the size of the parse
            t = time.perf_counter()
            files_pending = not cache.put_in_background(_file_cache_entries(files_key, pcache.fresh, fast=False))
            stats.timings["cache fork"] = time.perf_counter() - t
    racy_digests = {rel: _content_digest(prep, rel) for rel in racy} if cache is not None else {}
    prep.contents.clear()  # parsed: the bytes are not needed again (the text is kept)
    report, internal = _check(loaded, opts, paths)
    stats.timings.update(loaded.timings)
    stats.documents = report.documents
    stats.validated = loaded.validated
    if cache is not None:
        t = time.perf_counter()
        if files_pending:
            for kind, key, value, fast in _file_cache_entries(files_key, pcache.fresh, fast=True):
                cache.put(kind, key, value, fast=fast)
        if not internal:
            cache.put("runs", run_key, (report, internal, report.documents, racy_digests))
        stats.timings["cache write"] = time.perf_counter() - t
    return report, internal


def _file_cache_entries(key: str, fresh: dict, fast: bool) -> list[tuple]:
    """The file cache as two entries: files whose documents use YAML aliases keep their
    sharing (pickled with the memo); the rest, nearly everything, is pickled without it
    when ``fast`` (see ``Cache.put``). The memo's pickle is a third faster to read and
    smaller, but costs memory and time to write: the background writer uses it, a run
    that writes a large tree's cache itself does not."""
    plain = {rel: v for rel, v in fresh.items() if not v[3]}
    shared = {rel: v for rel, v in fresh.items() if v[3]}
    return [("files", key, plain, fast), ("files-shared", key, shared, False)]


def _check(loaded: Loaded, opts: Options, paths: list[str]) -> tuple[RunReport, bool]:
    root, config, files, listing, graph = loaded.root, loaded.config, loaded.files, loaded.listing, loaded.graph
    linted, skipped = _finalize_files(files, graph)
    for rel, reason in listing.skipped:
        skipped.append(Skipped(rel, reason))
    problems: list[Problem] = list(listing.problems)
    for rel in linted:
        problems.extend(files[rel].problems)
    linted_set = set(linted)
    for rel, sf in files.items():
        if sf.skip_reason is None and rel not in linted_set:
            problems.extend(sf.problems)
    # problems for files never listed (excluded) are dropped below by path
    problems.extend(graph.problems)

    ctx = Context(root, files, graph, config, problems, linted)
    rules = all_rules()
    instances = []
    for code, cls in rules.items():
        setting = config.rules.get(code)
        if setting is not None and not setting.enabled:
            continue
        instances.append(cls(setting.severity if setting else None, setting.options if setting else None))
    if config.custom:
        from .custom import CustomPolicy

        for code, (spec, src) in sorted(config.custom.items()):
            setting = config.rules.get(code)
            if setting is not None and not setting.enabled:
                continue
            instances.append(CustomPolicy(spec, src, setting.severity if setting else None))
    findings: list[Finding] = []
    internal = False
    spent = {"schema": 0.0, "rules": 0.0}
    for rule in instances:
        ctx.current = None
        t = time.perf_counter()
        try:
            findings.extend(rule.check(ctx))
        except Exception as exc:  # a rule bug must not stop the run
            internal = True
            where = ctx.current
            what = f" on {where.kind or 'document'}/{where.name or '?'}" if where is not None else ""
            msg = f"rule {rule.code} ({rule.slug}) failed{what}: {type(exc).__name__}: {exc}"
            if opts.debug:
                msg += "\n" + traceback.format_exc()
            ie = rules["FLX000"]()
            findings.append(ie.finding(where.path if where else ".", where.line if where else 1,
                                       where.column if where else 1, msg, resource=resource_of(where)))
        spent["schema" if rule.code.startswith("FLX2") else "rules"] += time.perf_counter() - t
    loaded.timings.update(spent)
    memo = ctx.__dict__.get("_gitlint_flux_schema_analysis")
    loaded.validated = memo.stats.get("documents", 0) if memo is not None and hasattr(memo, "stats") else 0

    _clamp_positions(findings, files)
    findings = _dedupe(f for f in findings if not config.excluded(f.path))
    if opts.inline_suppressions:
        findings = _apply_suppressions(findings, files, linted, config, rules)
    findings = [f for f in findings if f.rule == "FLX000" or not config.ignored(f)]
    sel = _selected(paths, root)
    if sel is not None and opts.stdin_filename is not None:
        findings = [f for f in findings if _in_selection(f.path, sel)]  # an editor buffer: its own findings
    elif sel is not None:
        # the other end of a missing reference is the path it names (e.g. a file the commit deletes)
        named = {(p.path, p.line, p.column, p.message): p.data["target"]
                 for p in problems if isinstance(p.data.get("target"), str) and p.data["target"]}
        findings = [f for f in findings
                    if _in_selection(f.path, sel) or any(_in_selection(r.path, sel) for r in f.related)
                    or _names(named.get((f.path, f.line, f.column, f.message)), sel)]
    assign_fingerprints(findings)
    if opts.baseline is not None:
        findings = [f for f in findings if f.fingerprint not in opts.baseline]
    findings.sort(key=Finding.sort_key)
    infos = {r.code: r.info() for r in instances}
    infos.update({code: cls.info() for code, cls in rules.items() if code not in infos})
    shown = linted if sel is None else [p for p in linted if _in_selection(p, sel)]
    report = RunReport(
        tool_name=TOOL_NAME, tool_version=__version__, root=root, findings=findings,
        files=shown,
        skipped=sorted(skipped, key=lambda s: s.path) if sel is None else
        [s for s in sorted(skipped, key=lambda s: s.path) if _in_selection(s.path, sel)],
        documents=sum(len(files[p].documents) for p in shown),
        rules=dict(sorted(infos.items())),
    )
    return report, internal


def _apply_suppressions(findings: list[Finding], files: dict[str, SourceFile], linted: list[str],
                        config: Config, rules: dict) -> list[Finding]:
    """Drop findings that an inline comment suppresses; report suppressions that
    suppress nothing (and names that are no rule)."""
    from .config import rule_lookup
    from .suppress import parse

    lookup = rule_lookup(config.custom)
    by_file: dict[str, list] = {}
    for rel in linted:
        text = files[rel].text
        if text and "gitlint-flux:" in text:
            by_file[rel] = parse(rel, text, lookup)
    if not by_file:
        return findings
    kept = []
    for f in findings:
        sups = by_file.get(f.path)
        hit = None
        if sups and f.rule != "FLX000":
            for s in sups:
                if s.covers(f.rule, f.line):
                    hit = s
                    break
        if hit is None:
            kept.append(f)
        else:
            hit.used = True
    unused_rule = rules.get("FLX901")
    setting = config.rules.get("FLX901")
    if unused_rule is None or (setting is not None and not setting.enabled):
        return kept
    rule = unused_rule(setting.severity if setting else None)
    for rel, sups in sorted(by_file.items()):
        for s in sups:
            if s.unknown:
                kept.append(rule.finding(rel, s.line, s.column,
                                         f"suppression names unknown rule(s): {', '.join(s.unknown)}",
                                         hint="Use a rule code or slug from `gitlint-flux rules`."))
            elif not s.used:
                disabled = s.rules is not None and any(
                    config.rules.get(c) is not None and not config.rules[c].enabled for c in s.rules)
                if disabled:
                    continue
                what = ", ".join(s.names) if s.names else "all rules"
                kept.append(rule.finding(rel, s.line, s.column, f"suppression of {what} suppresses nothing",
                                         hint="Remove the comment (or fix the rule name or the line it is on)."))
    return kept


def _inject_stdin(root: str, files: dict[str, SourceFile], filename: str, text: str, config: Config) -> None:
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


def exit_code(report: RunReport, fail_on: str, internal: bool) -> int:
    if internal:
        return 3
    if fail_on == "never":
        return 0
    threshold = SEVERITY_RANK[fail_on]
    return 1 if any(SEVERITY_RANK[f.severity] >= threshold for f in report.findings) else 0
