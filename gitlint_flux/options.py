"""What a run is asked to do (``Options``) and what it did (``Stats``)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    #: the command line's rule selection (names: codes, prefixes, slugs) and display filter;
    #: not part of the run (nor of its cache key): ``findings.view`` applies them to its report
    select: list[str] | None = None  # --select (None: keep the configuration's selection)
    extend_select: list[str] = field(default_factory=list)  # --extend-select
    ignore: list[str] = field(default_factory=list)  # --ignore
    min_severity: str | None = None  # --min-severity (None: the configuration's, else info)
    fix: bool = False  # --fix: write the safe fixes (gitlint_flux/fix.py; docs/fix.md)
    fix_diff: bool = False  # --diff: show the fixes as a unified diff, write nothing
    unsafe_fixes: bool = False  # --unsafe-fixes: the unsafe fixes too


@dataclass
class Stats:
    """What a run did (``--stats``): cache effectiveness is tested by these counters."""

    files: int = 0
    parsed: int = 0
    from_cache: int = 0
    documents: int = 0
    validated: int = 0
    run_cache: str = "off"  # off, hit, miss, or "not used (the daemon's run)"
    #: the configuration the run read (for the CLI's view of the report: not read twice)
    config: object = None
    timings: dict = field(default_factory=dict)  # stage -> seconds

    def render(self) -> str:
        line = (f"stats: {self.files} files listed, {self.parsed} parsed, {self.from_cache} from cache, "
                f"{self.documents} documents, {self.validated} validated, run cache {self.run_cache}")
        if self.timings:
            line += "\ntimings: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in self.timings.items())
        return line
