"""The run, stage by stage: prepare (root, configuration, listing) → run cache → read →
load (parse, graph) → schema analysis → rules → findings pipeline → ``RunReport``.

This module only sequences the stages; each lives in its own module (``workspace``,
``runcache``, ``schema.analysis``, ``rules.runner``, ``findings``).
"""

from __future__ import annotations

import gc
import time

from . import __version__
from .findings import Findings, assign_fingerprints, process, selected
from .load import ParseCache
from .model import SEVERITY_RANK, Problem, RunReport, Skipped, in_selection
from .options import Options, Stats
from .rules import all_rules
from .rules.context import Context
from .rules.runner import internal_error, make_rules, run_rules
from .workspace import Loaded, Prepared, apply_options, build_graph, finalize_files, load, prepare, read_contents

TOOL_NAME = "gitlint-flux"

__all__ = ["Loaded", "Options", "Prepared", "Stats", "TOOL_NAME", "assign_fingerprints", "build_graph", "exit_code",
           "load", "prepare", "run"]


def inputs(opts: Options) -> tuple[list[str], tuple[str, str] | None]:
    """The paths a run is over, and the editor buffer (filename, text) in place of a file."""
    if opts.stdin_filename is not None:
        return [opts.stdin_filename], (opts.stdin_filename, opts.stdin_text or "")
    return opts.paths or ["."], None


def prepare_run(opts: Options, paths: list[str], stats: Stats) -> Prepared:
    """The first stage: root, configuration (with the command line's schema settings over
    it) and listing, timed and counted in ``stats``."""
    t_start = time.perf_counter()
    prep = prepare(paths, opts.root, opts.config)
    apply_options(prep.config, opts)
    stats.config = prep.config
    stats.timings["list+config"] = time.perf_counter() - t_start
    stats.files = len(prep.listing.files)
    return prep


def run(opts: Options, stats: Stats | None = None) -> tuple[RunReport, bool]:
    """Lint; returns the report and whether an internal error occurred."""
    stats = stats if stats is not None else Stats()
    paths, stdin = inputs(opts)
    if opts.freeze_gc:
        # a one-run process: the objects it builds hold no garbage cycles worth collecting,
        # and collections over the cache's or the parser's hundred thousand containers cost
        # more than the memory they could return
        gc.disable()
    prep = prepare_run(opts, paths, stats)

    store = None
    if opts.use_cache:
        from .runcache import RunStore

        store = RunStore(prep, opts, paths, stats)
        hit = store.lookup()
        if hit is not None:
            return hit
        pcache = store.parse_cache()
    else:
        pcache = ParseCache()

    t = time.perf_counter()
    read_contents(prep)
    stats.timings["read"] = time.perf_counter() - t
    # parsing allocates hundreds of thousands of acyclic containers: collecting during it
    # is wasted work
    gc_was = gc.isenabled()
    gc.disable()
    try:
        loaded = load(paths, opts.root, opts.config, stdin, prepared=prep, cache=pcache)
    finally:
        if gc_was and not opts.freeze_gc:
            gc.enable()
    stats.parsed = pcache.parsed if store is not None else len(prep.contents)
    stats.from_cache = pcache.reused
    stats.timings.update(loaded.timings)
    if store is not None:
        store.parsed(pcache, background=opts.background_writes)
    prep.contents.clear()  # parsed: the bytes are not needed again (the text is kept)

    report, internal = check(loaded, opts, paths, stats)
    stats.documents = report.documents
    if store is not None:
        store.store(report, internal, loaded.graph.data_reads())
    return report, internal


def check(loaded: Loaded, opts: Options, paths: list[str], stats: Stats | None = None) -> tuple[RunReport, bool]:
    """The stages after loading: schema analysis, rules, findings pipeline."""
    stats = stats if stats is not None else Stats()
    root, config, files, listing, graph = loaded.root, loaded.config, loaded.files, loaded.listing, loaded.graph
    linted, skipped = finalize_files(files, graph)
    skipped.extend(Skipped(rel, reason) for rel, reason in listing.skipped)
    problems = collect_problems(loaded, linted)
    ctx = Context(root, files, graph, config, problems, linted)
    ctx.selection = selected(paths, root)

    # the schema stage: one pass that the FLX2xx rules report from
    from .schema.analysis import analysis

    t = time.perf_counter()
    schema = analysis(ctx)
    stats.timings["schema"] = time.perf_counter() - t
    stats.validated = schema.stats.get("documents", 0)
    stage_errors = []
    if schema.error is not None:  # the FLX2xx rules report nothing; the run goes on
        stage_errors.append(internal_error(ctx, "the schema analysis failed", schema.error, opts.debug))

    rules = make_rules(config)
    findings, internal, spent = run_rules(ctx, rules, opts.debug)
    findings.extend(stage_errors)
    internal = internal or bool(stage_errors)
    stats.timings["rules"] = spent

    registry = all_rules()
    state = Findings(findings, files, linted, problems, config, registry, root, paths,
                     inline_suppressions=opts.inline_suppressions, stdin_filename=opts.stdin_filename,
                     baseline=opts.baseline, unapplied=graph.unapplied_files(),
                     unapplied_level=getattr(config, "unapplied", "warning"),
                     fallback=graph.fallback and bool(graph.roots))
    findings = process(state)
    sel = state.selection
    infos = {r.code: r.info() for r in rules}
    infos.update({code: cls.info() for code, cls in registry.items() if code not in infos})
    shown = linted if sel is None else [p for p in linted if in_selection(p, sel)]
    skipped.sort(key=lambda s: s.path)
    report = RunReport(
        tool_name=TOOL_NAME, tool_version=__version__, root=root, findings=findings, files=shown,
        skipped=skipped if sel is None else [s for s in skipped if in_selection(s.path, sel)],
        documents=sum(len(files[p].documents) for p in shown),
        rules=dict(sorted(infos.items())),
    )
    return report, internal


def collect_problems(loaded: Loaded, linted: list[str]) -> list[Problem]:
    """Every problem the listing, the loader and the graph recorded (problems of files
    that are not linted are dropped later, by path)."""
    files = loaded.files
    problems: list[Problem] = list(loaded.listing.problems)
    for rel in linted:
        problems.extend(files[rel].problems)
    linted_set = set(linted)
    for rel, sf in files.items():
        if sf.skip_reason is None and rel not in linted_set:
            problems.extend(sf.problems)
    problems.extend(loaded.graph.problems)
    return problems


def exit_code(report: RunReport, fail_on: str, internal: bool) -> int:
    if internal:
        return 3
    if fail_on == "never":
        return 0
    threshold = SEVERITY_RANK[fail_on]
    return 1 if any(SEVERITY_RANK[f.severity] >= threshold for f in report.findings) else 0
