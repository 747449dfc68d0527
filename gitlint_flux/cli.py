"""The command line: a thin layer over the engine, the formatters and the rules."""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__

COMMANDS = ("lint", "graph", "rules", "explain", "cache")
FORMAT_NAMES = ("text", "json", "sarif", "codequality", "junit", "github")
FAIL_LEVELS = ("error", "warning", "info", "never")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gitlint-flux",
        description="Lint a Flux v2 GitOps repository: YAML, kustomize references, the Flux graph.",
    )
    p.add_argument("--version", action="version", version=f"gitlint-flux {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    lint = sub.add_parser("lint", help="lint a repository, directories or files (default command)")
    lint.add_argument("paths", nargs="*", metavar="PATH",
                      help="the root, sub-directories or files; files are linted in the context of their "
                           "repository and only their findings are reported ('-' with --stdin-filename)")
    _common(lint)
    lint.add_argument("--format", default="text", choices=FORMAT_NAMES, help="output format (default: text)")
    lint.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    lint.add_argument("--report", action="append", default=[], metavar="FORMAT=FILE",
                      help="also write the report in FORMAT to FILE (repeatable)")
    lint.add_argument("--fail-on", default="error", choices=FAIL_LEVELS,
                      help="exit 1 when a finding at or above this severity exists (default: error)")
    lint.add_argument("--quiet", "-q", action="store_true", help="print the findings only, no summary line")
    lint.add_argument("--no-color", action="store_true", help="never colour the text output")
    lint.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    lint.add_argument("--stdin-filename", metavar="PATH",
                      help="read the content of PATH from standard input (for editors)")
    lint.add_argument("--pre-commit", action="store_true",
                      help="as a pre-commit hook: report the findings of the given files and of the files the "
                           "commit deletes or renames away; nothing to do when there are none")
    lint.add_argument("--no-inline-suppressions", action="store_true",
                      help="ignore `# gitlint-flux: disable=...` comments (for CI)")
    lint.add_argument("--baseline", metavar="FILE", help="report only findings that are not in this baseline")
    lint.add_argument("--write-baseline", metavar="FILE",
                      help="write every current finding to FILE as the baseline, and exit 0")
    lint.add_argument("--schema-location", action="append", default=[], metavar="DIR",
                      help="a directory of JSON schemas ({group}/{kind}_{version}.json or "
                           "{kind}-{group}-{version}.json), looked up first (repeatable)")
    lint.add_argument("--kubernetes-version", metavar="X.Y",
                      help="Kubernetes version of the core schemas and removed APIs (default: the newest known)")
    lint.add_argument("--strict-schemas", action="store_true",
                      help="a kind without a schema is an error (FLX209), not information")
    lint.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    lint.add_argument("--cache-dir", metavar="DIR",
                      help="cache directory (default: $XDG_CACHE_HOME/gitlint-flux or ~/.cache/gitlint-flux)")
    lint.add_argument("--stats", action="store_true",
                      help="print how many files were parsed, taken from the cache and validated (stderr)")

    graph = sub.add_parser("graph", help="print the Flux graph as Flux will apply it")
    graph.add_argument("paths", nargs="*", metavar="PATH")
    _common(graph)
    graph.add_argument("--format", default="mermaid", choices=("mermaid", "dot", "json"))
    graph.add_argument("--output", "-o", metavar="FILE")

    sub.add_parser("rules", help="list the rules")
    ex = sub.add_parser("explain", help="print a rule's documentation")
    ex.add_argument("rule", metavar="CODE|SLUG")

    cache = sub.add_parser("cache", help="show or clear the cache (`cache info`, `cache clean`)")
    cache.add_argument("action", choices=("info", "clean"),
                       help="info: location, size and entries; clean: remove every entry")
    cache.add_argument("--cache-dir", metavar="DIR",
                       help="cache directory (default: $XDG_CACHE_HOME/gitlint-flux or ~/.cache/gitlint-flux)")
    cache.add_argument("--format", default="text", choices=("text", "json"))
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", metavar="DIR", help="repository root (default: git top level, else the linted directory)")
    p.add_argument("--config", metavar="FILE", help="configuration file (default: looked up from the root)")


def _write(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    else:
        if sys.stdout is None:  # started with standard output closed
            raise OSError(9, "standard output is closed")
        sys.stdout.write(text)
        sys.stdout.flush()


def _use_color(args) -> bool:
    if args.no_color or os.environ.get("NO_COLOR") or args.output:
        return False
    return sys.stdout is not None and sys.stdout.isatty()


def main(argv: list[str] | None = None) -> int:
    """The command line. Called without arguments (the installed script), it ends the
    process itself once the output is flushed: freeing a large run's objects one by one at
    interpreter exit would cost more than the rest of a cached run."""
    if argv is None:
        code = _main(list(sys.argv[1:]), exits_after=True)
        try:
            if sys.stdout is not None:
                sys.stdout.flush()
        except BrokenPipeError:
            pass
        cache = sys.modules.get("gitlint_flux.cache")
        if cache is not None:
            try:
                cache.wait_for_writers()  # the file cache, written while the run went on
            except KeyboardInterrupt:
                code = 130  # the writer finishes on its own; its write is atomic
        try:
            if sys.stderr is not None:
                sys.stderr.flush()
        except BrokenPipeError:
            pass
        os._exit(code)
    return _main(list(argv))


def _main(argv: list[str], exits_after: bool = False) -> int:
    if argv and argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "lint")
    elif not argv:
        argv = ["lint"]
    parser = _parser()
    from . import fixcli  # the --fix flags; the fixer itself is loaded only when a fix is asked for

    fixcli.add_arguments(parser)
    args = parser.parse_args(argv)
    args.exits_after = exits_after
    try:
        if fixcli.handles(args):
            return fixcli.main(args, lint=_lint)
        if args.command == "rules":
            return _rules()
        if args.command == "explain":
            return _explain(args.rule)
        if args.command == "graph":
            return _graph(args)
        if args.command == "cache":
            return _cache(args)
        return _lint(args)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


def _lint(args) -> int:
    from .config import ConfigError
    from .engine import Options, Stats, exit_code, run
    from .report import render

    stdin_text = None
    paths = list(args.paths)
    if args.stdin_filename:
        if paths not in ([], ["-"]):
            print("gitlint-flux: with --stdin-filename, give no PATH or '-'", file=sys.stderr)
            return 2
        stdin_text = sys.stdin.buffer.read().decode("utf-8", "replace")
        paths = [args.stdin_filename]
    elif "-" in paths:
        print("gitlint-flux: reading from stdin ('-') needs --stdin-filename PATH", file=sys.stderr)
        return 2
    removed: list[str] = []
    if args.pre_commit and not args.stdin_filename:
        top, removed = _removed_by_commit()
        if not paths and not removed:
            return 0
        paths += removed
        if args.root is None and top:
            args.root = top
    reports = []
    for spec in args.report:
        fmt, sep, dest = spec.partition("=")
        if not sep or fmt not in FORMAT_NAMES or not dest:
            print(f"gitlint-flux: --report takes FORMAT=FILE with FORMAT one of {', '.join(FORMAT_NAMES)}",
                  file=sys.stderr)
            return 2
        reports.append((fmt, dest))
    for p in paths:
        if not os.path.exists(p) and not args.stdin_filename and p not in removed:
            print(f"gitlint-flux: {p}: no such file or directory", file=sys.stderr)
            return 2
    if args.root and not os.path.isdir(args.root):
        print(f"gitlint-flux: --root {args.root}: not a directory", file=sys.stderr)
        return 2
    if args.root:
        top = os.path.realpath(args.root)

        def under_root(p: str) -> bool:
            real = os.path.realpath(p)
            return real == top or real.startswith(top.rstrip(os.sep) + os.sep)

        if args.pre_commit and not args.stdin_filename:
            # a commit may touch (or delete) files beside the Flux tree: they have no findings
            paths = [p for p in paths if under_root(p)]
            if not paths:
                return 0
        else:
            if not paths:
                paths = [args.root]  # `--root DIR` alone lints DIR, wherever it is run from
            for p in paths:
                if not under_root(p):
                    print(f"gitlint-flux: {p}: outside the root {args.root}", file=sys.stderr)
                    return 2
    for d in args.schema_location:
        if not os.path.isdir(d):
            print(f"gitlint-flux: --schema-location {d}: not a directory", file=sys.stderr)
            return 2
    baseline = None
    if args.baseline:
        from .baseline import BaselineError, read_baseline

        try:
            baseline = read_baseline(args.baseline)
        except BaselineError as exc:
            print(f"gitlint-flux: {exc}", file=sys.stderr)
            return 2
    opts = Options(paths=paths, root=args.root, config=args.config, debug=args.debug,
                   stdin_filename=args.stdin_filename, stdin_text=stdin_text,
                   inline_suppressions=not args.no_inline_suppressions, baseline=baseline,
                   use_cache=not args.no_cache, cache_dir=args.cache_dir,
                   freeze_gc=args.exits_after, background_writes=args.exits_after,
                   schema_locations=args.schema_location, kubernetes_version=args.kubernetes_version,
                   strict_schemas=args.strict_schemas)
    stats = Stats()
    try:
        report, internal = run(opts, stats)
    except ConfigError as exc:
        print(f"gitlint-flux: {exc}", file=sys.stderr)
        return 2
    if args.stats:
        print(stats.render(), file=sys.stderr)
    if args.write_baseline:
        from .baseline import write_baseline

        try:
            n = write_baseline(args.write_baseline, report)
        except OSError as exc:
            print(f"gitlint-flux: cannot write {args.write_baseline}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"gitlint-flux: wrote {n} finding(s) to the baseline {args.write_baseline}", file=sys.stderr)
        return 3 if internal else 0
    out = render(args.format, report, color=_use_color(args), workspace=_workspace(args.format))
    if args.quiet and args.format == "text":
        out = "".join(out.splitlines(keepends=True)[:-1])
    for fmt, dest in [(None, args.output)] + reports:
        text = out if fmt is None else render(fmt, report, workspace=_workspace(fmt))
        try:
            _write(text, dest)
        except OSError as exc:
            print(f"gitlint-flux: cannot write {dest or 'the output'}: {exc.strerror}", file=sys.stderr)
            return 2
    return exit_code(report, args.fail_on, internal)


def _removed_by_commit() -> tuple[str | None, list[str]]:
    """For --pre-commit: the git top level, and the files that the staged changes (or the
    range of `pre-commit run --from-ref A --to-ref B`) delete or rename away."""
    import subprocess

    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True)
    if top.returncode != 0:
        return None, []
    root = os.path.realpath(os.fsdecode(top.stdout.strip()))
    frm, to = os.environ.get("PRE_COMMIT_FROM_REF"), os.environ.get("PRE_COMMIT_TO_REF")
    which = [f"{frm}...{to}"] if frm and to else ["--cached"]
    out = subprocess.run(["git", "-C", root, "diff", "--name-status", "-z", "-M", "--no-ext-diff",
                          "--diff-filter=DR", *which], capture_output=True)
    fields = out.stdout.split(b"\0") if out.returncode == 0 else []
    removed, i = [], 0
    while i + 1 < len(fields):  # "D\0path\0" or "R100\0old\0new\0"
        removed.append(os.path.join(root, os.fsdecode(fields[i + 1])))
        i += 3 if fields[i].startswith(b"R") else 2
    return root, removed


def _graph(args) -> int:
    from .config import ConfigError
    from .workspace import build_graph
    from .graph_export import FORMATS

    try:
        graph = build_graph(args.paths or ["."], args.root, args.config)
    except ConfigError as exc:
        print(f"gitlint-flux: {exc}", file=sys.stderr)
        return 2
    _write(FORMATS[args.format](graph), args.output)
    return 0


def _cache(args) -> int:
    """`cache info` and `cache clean`: the directory `lint` would use, with the cap the
    environment gives (a repository's `cache-max-size` applies when it is linted)."""
    import json

    from .cache import Cache

    cache = Cache(args.cache_dir)
    if args.action == "clean":
        n, size = cache.clean()
        if args.format == "json":
            _write(json.dumps({"location": cache.dir, "removed": n, "bytes": size}) + "\n", None)
        else:
            _write(f"removed {n} entr{'y' if n == 1 else 'ies'} ({_size(size)}) from {cache.dir}\n", None)
        return 0
    info = cache.info()
    if args.format == "json":
        _write(json.dumps(info, sort_keys=True) + "\n", None)
        return 0
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(info["kinds"].items()))
    _write(f"location: {info['location']}{'' if info['exists'] else ' (not created yet)'}\n"
           f"size:     {_size(info['size'])} of {_size(info['max_size'])} (least recently used entries "
           f"are removed beyond it)\n"
           f"entries:  {info['entries']}{f' ({kinds})' if kinds else ''}\n", None)
    return 0


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover


def _rules() -> int:
    from .rules import all_rules

    rows = [(c.code, c.slug, c.severity, c.summary()) for c in all_rules().values()]
    w = max(len(r[1]) for r in rows)
    for code, slug, sev, summary in rows:
        print(f"{code}  {slug:<{w}}  {sev:<7}  {summary}")
    return 0


def _workspace(fmt: str) -> str | None:
    """The CI checkout a format's paths are relative to (``$CI_PROJECT_DIR``,
    ``$GITHUB_WORKSPACE``), read here so that formatters see only the report."""
    from .report.common import WORKSPACE_VARIABLES

    var = WORKSPACE_VARIABLES.get(fmt)
    return os.environ.get(var) or None if var else None


def _explain(key: str) -> int:
    from .rules import lookup

    rule = lookup(key)
    if rule is None:
        print(f"gitlint-flux: unknown rule `{key}` (see `gitlint-flux rules`)", file=sys.stderr)
        return 2
    print(f"{rule.code} {rule.slug} (default severity: {rule.severity})\n")
    print(rule.summary() + "\n")
    print(rule.description())
    if rule.options:
        print("\nOptions:")
        for k, o in rule.options.items():
            print(f"  {k} ({o.type}, default {o.default!r}): {o.doc}")
    print(f"\n{rule.url()}")
    return 0
