"""The command line: a thin layer over the engine, the formatters and the rules."""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__

COMMANDS = ("lint", "graph", "roots", "rules", "explain", "cache", "lsp", "daemon", "version", "help")

#: the root of the last `lint` run of this process (the daemon started after it loads it)
LAST_ROOT: str | None = None
FORMAT_NAMES = ("text", "json", "sarif", "codequality", "junit", "github")
FAIL_LEVELS = ("error", "warning", "info", "never")
SEVERITY_NAMES = ("info", "warning", "error")

EXIT_CODES = """exit codes:
  0  no finding at or above --fail-on (also: every file given was excluded by the configuration)
  1  findings at or above --fail-on (error by default), shown or hidden by --min-severity
  2  usage or configuration error (unknown option, rule or key; a path that does not exist;
     a tree without any YAML file)
  3  internal error (a rule crashed: reported as FLX000 internal-error; traceback with --debug)"""

SELECTION_HELP = """selection (codes such as FLX101, prefixes such as FLX2, slugs such as missing-reference;
repeatable or comma-separated): the profile's rules, then the configuration's `select:` and
`extend-select:`, then --select (replaces the selection), --extend-select (adds to it) and
--ignore (removes from it), in that order."""


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 2 with the usage of the (sub)command that was given."""


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    p = _Parser(
        prog="gitlint-flux",
        description="Lint a Flux v2 GitOps repository: YAML, kustomize references, the Flux graph, schemas "
                    "and policies. `gitlint-flux PATH` is `gitlint-flux lint PATH`.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="store_true", help="print the version and the bundled schema versions")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subs: dict[str, argparse.ArgumentParser] = {}

    lint = subs["lint"] = sub.add_parser(
        "lint", help="lint a repository, directories or files (default command)",
        description="Lint a repository, directories or files. Files are linted in the context of their "
                    "whole repository; only their findings are reported.",
        epilog=SELECTION_HELP + "\n\n" + EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    lint.add_argument("--select", action="append", metavar="RULES",
                      help="report only these rules: codes, prefixes (FLX2) or slugs; replaces the selection")
    lint.add_argument("--extend-select", action="append", default=[], metavar="RULES",
                      help="report these rules too")
    lint.add_argument("--ignore", action="append", default=[], metavar="RULES",
                      help="do not report these rules")
    lint.add_argument("--min-severity", choices=SEVERITY_NAMES,
                      help="leave findings below this severity out of the output and every report "
                           "(they still count for --fail-on; default: info, or `min-severity:`)")
    lint.add_argument("--statistics", action="store_true",
                      help="print a table of counts per rule (code, slug, severity, count) instead of the findings")
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
                      help="write every current (selected) finding to FILE as the baseline, and exit 0")
    lint.add_argument("--schema-location", action="append", default=[], metavar="DIR",
                      help="a directory of JSON schemas ({group}/{kind}_{version}.json or "
                           "{kind}-{group}-{version}.json), looked up first (repeatable)")
    lint.add_argument("--kubernetes-version", metavar="X.Y",
                      help="Kubernetes version of the core schemas and removed APIs, one the bundled schemas know "
                           "(`gitlint-flux version` lists them; default: the newest)")
    lint.add_argument("--strict-schemas", action="store_true",
                      help="a kind without a schema is an error (FLX209), not information")
    lint.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    lint.add_argument("--cache-dir", metavar="DIR",
                      help="cache directory (default: $XDG_CACHE_HOME/gitlint-flux or ~/.cache/gitlint-flux)")
    lint.add_argument("--daemon", action="store_true",
                      help="hand the run to a background process that keeps the repository in memory (started "
                           "by the first such run; also GITLINT_FLUX_DAEMON=1); same output, a fraction of the time")
    lint.add_argument("--no-daemon", action="store_true", help="run in this process even with GITLINT_FLUX_DAEMON=1")
    lint.add_argument("--stats", action="store_true",
                      help="print how many files were parsed, taken from the cache and validated (stderr)")

    graph = subs["graph"] = sub.add_parser(
        "graph", help="print the Flux graph as Flux will apply it",
        description="Print the Flux graph: by default the sources and the Flux Kustomizations, grouped by "
                    "cluster and layer, with what applies what and `dependsOn` (dashed red when it "
                    "dangles); --all adds every other Flux object (HelmReleases, notifications, image "
                    "automation...) and their source references.")
    graph.add_argument("paths", nargs="*", metavar="PATH",
                       help="a directory or file of the repository (default: the working directory)")
    _common(graph)
    graph.add_argument("--format", default="mermaid", choices=("mermaid", "dot", "json"),
                       help="mermaid (default: paste into Markdown), dot (Graphviz) or json (every node and "
                            "edge, with paths and lines)")
    graph.add_argument("--all", action="store_true",
                       help="every Flux object, not only sources and Kustomizations")
    graph.add_argument("--output", "-o", metavar="FILE", help="write the graph to FILE instead of stdout")

    roots = subs["roots"] = sub.add_parser("roots", help="show how each root was found, the clusters, and what no "
                                           "root applies", description="Show how each root was found (file and line, "
                                           "kind, source, sync path, the directory its source maps to and why), the "
                                           "clusters with the Flux they run, the directory trees no root applies, and "
                                           "in fallback mode the configuration that makes the run exact.")
    roots.add_argument("paths", nargs="*", metavar="PATH")
    _common(roots)
    roots.add_argument("--format", default="text", choices=("text", "json"), help="text (default) or json (versioned)")
    roots.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")

    subs["rules"] = sub.add_parser("rules", help="list the rules", description="List the rules: code, slug, "
                                   "default severity, summary.")
    ex = subs["explain"] = sub.add_parser("explain", help="print a rule's documentation",
                                          description="Print a rule's documentation, options and examples.")
    ex.add_argument("rule", metavar="CODE|SLUG")

    cache = subs["cache"] = sub.add_parser("cache", help="show or clear the cache (`cache info`, `cache clean`)",
                                           description="Show or clear the cache.")
    cache.add_argument("action", choices=("info", "clean"),
                       help="info: location, size and entries; clean: remove every entry")
    cache.add_argument("--cache-dir", metavar="DIR",
                       help="cache directory (default: $XDG_CACHE_HOME/gitlint-flux or ~/.cache/gitlint-flux)")
    cache.add_argument("--format", default="text", choices=("text", "json"), help="output format (default: text)")
    subs["lsp"] = sub.add_parser("lsp", help="run the language server (LSP over standard input and output)",
                                 description="Run the language server: the editor starts it and speaks the "
                                             "Language Server Protocol over standard input and output "
                                             "(docs/integrations.md).")
    dm = subs["daemon"] = sub.add_parser(
        "daemon", help="start, stop or show the background process of `lint --daemon`",
        description="The background process that `lint --daemon` hands its runs to: it keeps each repository it "
                    "checked in memory and exits after GITLINT_FLUX_DAEMON_IDLE seconds without a run (600). "
                    "`start` (with --root: that repository loaded), `stop`, `status`; `serve` runs it in the "
                    "foreground.")
    dm.add_argument("action", choices=("start", "stop", "status", "serve"))
    dm.add_argument("--cache-dir", metavar="DIR",
                    help="the cache directory whose daemon/ holds its socket (default: as `lint`)")
    dm.add_argument("--root", metavar="DIR", help="start: a repository to load before the first run")
    dm.add_argument("--idle", type=float, metavar="SECONDS",
                    help="exit after this long without a run (default: GITLINT_FLUX_DAEMON_IDLE, else 600)")
    subs["version"] = sub.add_parser("version", help="print the version and the bundled schema versions",
                                     description="Print the version of gitlint-flux and of its bundled schemas "
                                                 "(Kubernetes, Flux, CRD catalog).")
    hp = subs["help"] = sub.add_parser("help", help="show the help of gitlint-flux or of a command",
                                       description="Show the help of gitlint-flux, or of COMMAND.")
    hp.add_argument("topic", nargs="?", metavar="COMMAND")
    return p, subs


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", metavar="DIR",
                   help="repository root (default: the git top level; outside git, the nearest directory "
                        "with a configuration file or a Flux bootstrap; else the working directory)")
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
        argv = list(sys.argv[1:])
        caller = None
        code = None
        if "--daemon" in argv or os.environ.get("GITLINT_FLUX_DAEMON"):
            from .daemon import Caller, wanted

            if wanted(argv, COMMANDS):
                caller = Caller(argv)
                code = caller.run()
        if code is None:
            code = _main(argv, exits_after=True)
            if caller is not None and caller.start_after and LAST_ROOT:
                from .daemon import start

                if not start(caller.dir, LAST_ROOT):
                    print(f"gitlint-flux: --daemon: cannot use {caller.dir} (it must be a directory of this user "
                          "closed to others, at a path short enough for a socket): this run was made without it",
                          file=sys.stderr)
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


def _main(argv: list[str], exits_after: bool = False, runner=None, vet=None) -> int:
    """``runner``: in place of ``engine.run`` (the daemon's run over its kept repository);
    ``vet``: called with the parsed arguments before anything runs (it may raise)."""
    if not argv:
        argv = ["lint"]
    elif argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version"):
        if not argv[0].startswith("-") and not os.path.exists(argv[0]) and argv[0] != "-":
            from .config import did_you_mean

            hint = did_you_mean(argv[0], COMMANDS, cutoff=0.7)
            if hint:  # a typo of a command, not a path
                print(f"gitlint-flux: unknown command `{argv[0]}`{hint} (commands: {', '.join(COMMANDS)})",
                      file=sys.stderr)
                return 2
        argv.insert(0, "lint")
    parser, subs = _parser()
    from . import fixcli  # the --fix flags; the fixer itself is loaded only when a fix is asked for

    fixcli.add_arguments(parser)
    args, extra = parser.parse_known_args(argv)
    if extra:  # an unknown option of a command: that command's usage
        (subs.get(args.command) or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    args.exits_after = exits_after
    if vet is not None:
        vet(args)
    try:
        if fixcli.handles(args):
            return fixcli.main(args, lint=_lint)
        if args.version or args.command == "version":
            return _version()
        if args.command == "help":
            if args.topic is None:
                parser.print_help()
                return 0
            if args.topic not in subs:
                from .config import did_you_mean

                print(f"gitlint-flux: unknown command `{args.topic}`{did_you_mean(args.topic, COMMANDS)} "
                      f"(commands: {', '.join(COMMANDS)})", file=sys.stderr)
                return 2
            subs[args.topic].print_help()
            return 0
        if args.command == "rules":
            return _rules()
        if args.command == "explain":
            return _explain(args.rule)
        if args.command == "graph":
            return _graph(args)
        if args.command == "cache":
            return _cache(args)
        if args.command == "roots":
            return _roots(args)
        if args.command == "lsp":
            from .lsp import main as lsp_main

            return lsp_main()
        if args.command == "daemon":
            from .daemon import command

            return command(args, _main, COMMANDS)
        return _lint(args, runner)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


def _usage(message: str) -> int:
    print(f"gitlint-flux: {message}", file=sys.stderr)
    return 2


def _names(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    from .config import split_names

    return split_names(values)


def kubernetes_versions() -> list[str]:
    """The Kubernetes minor versions the bundled core schemas know (oldest first): the
    ``v{X.Y}.0-local-strict`` directories of kubernetes-validate, found without importing
    it or the schema stage (``--version`` stays light)."""
    import importlib.util
    import re

    try:
        spec = importlib.util.find_spec("kubernetes_validate")
    except (ImportError, ValueError):
        spec = None
    found = set()
    for loc in (spec.submodule_search_locations or ()) if spec else ():
        d = os.path.join(loc, "kubernetes-json-schema")
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for n in names:
            m = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", n)
            if m and os.path.isfile(os.path.join(d, n, "_definitions.json")):
                found.add((int(m.group(1)), int(m.group(2))))
    return [f"{a}.{b}" for a, b in sorted(found)]


def _check_kubernetes_version(value: str) -> str | None:
    """An error message, or None when ``value`` names a version the bundled schemas know."""
    import re

    known = kubernetes_versions()
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", value.strip())
    span = f"{known[0]} to {known[-1]}" if known else "none: kubernetes-validate is not installed"
    if m is None:
        return f"--kubernetes-version {value}: not a version such as 1.33 (the bundled schemas know {span})"
    if known and f"{int(m.group(1))}.{int(m.group(2))}" not in known:
        return f"--kubernetes-version {value}: the bundled schemas know {span}"
    return None


def _lint(args, runner=None) -> int:
    global LAST_ROOT
    from .config import ConfigError, load_config, rule_catalog
    from .engine import Options, Stats, run
    from .findings import Layer, View, choose, fails, select_rules, view
    from .report import render
    from .workspace import git_toplevel

    stdin_text = None
    paths = list(args.paths)
    if args.stdin_filename:
        if paths not in ([], ["-"]):
            return _usage("with --stdin-filename, give no PATH or '-'")
        stdin_text = sys.stdin.buffer.read().decode("utf-8", "replace")
        paths = [args.stdin_filename]
    elif "-" in paths:
        return _usage("reading from stdin ('-') needs --stdin-filename PATH")
    if args.statistics and args.format not in ("text", "json"):
        return _usage("--statistics prints a table (text) or a list (json): use it with --format text or json")
    if args.kubernetes_version:
        err = _check_kubernetes_version(args.kubernetes_version)
        if err:
            return _usage(err)
    cli_layer = Layer(_names(args.select), _names(args.extend_select) or [], _names(args.ignore) or [])
    builtin = rule_catalog()
    for name in (cli_layer.select or []) + cli_layer.extend + cli_layer.ignore:
        try:
            choose(builtin, [Layer([name])])
        except ValueError as exc:
            if name.upper().startswith("FLX"):  # else maybe a custom policy: checked once the config is read
                return _usage(f"--select/--extend-select/--ignore: {exc}")
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
            from .config import did_you_mean

            return _usage(f"--report {spec}: takes FORMAT=FILE with FORMAT one of {', '.join(FORMAT_NAMES)}"
                          + (did_you_mean(fmt, FORMAT_NAMES) if sep else ""))
        reports.append((fmt, dest))
    for p in paths:
        if not os.path.exists(p) and not args.stdin_filename and p not in removed:
            return _usage(f"{p}: no such file or directory")
    if args.root and not os.path.isdir(args.root):
        return _usage(f"--root {args.root}: not a directory")
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
                    return _usage(f"{p}: outside the root {args.root}")
    for d in args.schema_location:
        if not os.path.isdir(d):
            return _usage(f"--schema-location {d}: not a directory")
    baseline = None
    if args.baseline:
        from .baseline import BaselineError, read_baseline

        try:
            baseline = read_baseline(args.baseline)
        except BaselineError as exc:
            return _usage(str(exc))
    opts = Options(paths=paths, root=args.root, config=args.config, debug=args.debug,
                   stdin_filename=args.stdin_filename, stdin_text=stdin_text,
                   inline_suppressions=not args.no_inline_suppressions, baseline=baseline,
                   use_cache=not args.no_cache, cache_dir=args.cache_dir,
                   freeze_gc=args.exits_after, background_writes=args.exits_after,
                   schema_locations=args.schema_location, kubernetes_version=args.kubernetes_version,
                   strict_schemas=args.strict_schemas, select=cli_layer.select, extend_select=cli_layer.extend,
                   ignore=cli_layer.ignore, min_severity=args.min_severity)
    stats = Stats()
    try:
        full, internal = (runner or run)(opts, stats)
        LAST_ROOT = full.root
        # what the user chose to see: a view of the run (cached or not), from the configuration
        # (read again: it is small) and the command line
        config = stats.config if stats.config is not None else \
            load_config(full.root, git_toplevel(full.root), args.config)
    except ConfigError as exc:
        return _usage(str(exc))
    if args.stats:
        print(stats.render(), file=sys.stderr)
    catalog = rule_catalog(config.custom)
    try:
        chosen = choose(catalog, [Layer(config.select, config.extend_select), cli_layer])
    except ValueError as exc:
        return _usage(f"--select/--extend-select/--ignore: {exc}")
    _note_rules_off(config, cli_layer, catalog)
    chosen_view = View(chosen, opts.min_severity or config.min_severity)
    empty = _nothing_to_lint(full, paths, args)
    if empty is not None:
        return empty
    if args.write_baseline:
        from .baseline import write_baseline

        try:
            n = write_baseline(args.write_baseline, select_rules(full, chosen_view))
        except OSError as exc:
            return _usage(f"cannot write {args.write_baseline}: {exc.strerror}")
        print(f"gitlint-flux: wrote {n} finding{'' if n == 1 else 's'} to the baseline {args.write_baseline}",
              file=sys.stderr)
        return 3 if internal else 0
    report = view(full, chosen_view)
    stdin_path = None
    if args.stdin_filename:
        rel = os.path.relpath(os.path.realpath(args.stdin_filename), report.root).replace(os.sep, "/")
        stdin_path = (rel, args.stdin_filename)
    main_fmt = "statistics" if args.statistics and args.format == "text" else args.format
    if args.statistics and args.format == "json":
        from .report.statistics import render_json

        out = render_json(report)
    else:
        out = render(main_fmt, report, color=_use_color(args), workspace=_workspace(main_fmt),
                     fail_on=args.fail_on, stdin_path=stdin_path)
    if args.quiet and main_fmt in ("text", "statistics"):
        out = "".join(out.splitlines(keepends=True)[:-1])
    for fmt, dest in [(None, args.output)] + reports:
        text = out if fmt is None else render(fmt, report, workspace=_workspace(fmt), fail_on=args.fail_on)
        try:
            _write(text, dest)
        except OSError as exc:
            return _usage(f"cannot write {dest or 'the output'}: {exc.strerror}")
    if internal:
        return 3
    return 1 if fails(report, args.fail_on) else 0


def _note_rules_off(config, layer, catalog: dict[str, str]) -> None:
    """A rule named on the command line that the profile or configuration turns off did
    not run: say so (``rules: {X: on}`` or the configuration's ``select:`` runs it)."""
    from .config import expand_names

    off = []
    for name in (layer.select or []) + layer.extend:
        codes = expand_names([name], catalog)
        if len(codes) == 1:
            code = next(iter(codes))
            setting = config.rules.get(code)
            if setting is not None and not setting.enabled:
                off.append(f"{code} ({catalog[code]})")
    if off:
        print(f"gitlint-flux: {', '.join(sorted(set(off)))}: turned off by the profile or the configuration's "
              "`rules:`, so not run; turn it on there (`rules: {SLUG: on}`) or name it in the configuration's "
              "`select:`/`extend-select:`", file=sys.stderr)


def _nothing_to_lint(report, paths: list[str], args) -> int | None:
    """A run that linted nothing: no YAML file at all is a usage error (2); every file
    excluded by the configuration is said on stderr, and the (empty) reports are written
    (exit 0). None otherwise."""
    if report.files or report.findings or args.stdin_filename:
        return None
    excluded = [s for s in report.skipped if s.reason == "excluded by configuration"]
    if report.skipped and len(excluded) == len(report.skipped):
        n = len(excluded)
        print(f"gitlint-flux: nothing to lint: {'the' if n == 1 else 'all'} {n} file{'' if n == 1 else 's'} "
              f"given {'is' if n == 1 else 'are'} excluded by the configuration's `exclude:`", file=sys.stderr)
        return None
    if not report.skipped:
        where = ", ".join(paths) if paths else "."
        print(f"gitlint-flux: no YAML file in {where} (nothing to lint; give the repository or a directory "
              "of manifests)", file=sys.stderr)
        return 2
    return None


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

    for p in args.paths:
        if not os.path.exists(p):
            return _usage(f"{p}: no such file or directory")
    if args.root and not os.path.isdir(args.root):
        return _usage(f"--root {args.root}: not a directory")
    try:
        graph = build_graph(args.paths or ([args.root] if args.root else ["."]), args.root, args.config)
    except ConfigError as exc:
        print(f"gitlint-flux: {exc}", file=sys.stderr)
        return 2
    _write(FORMATS[args.format](graph, all_objects=args.all), args.output)
    return 0


def _roots(args) -> int:
    """`gitlint-flux roots`: how each root was found, the clusters, what no root applies."""
    from .config import ConfigError
    from .roots_report import build, render_json, render_text
    from .workspace import build_graph

    try:
        graph = build_graph(args.paths or ["."], args.root, args.config)
    except ConfigError as exc:
        print(f"gitlint-flux: {exc}", file=sys.stderr)
        return 2
    data = build(graph)
    _write(render_json(data) if args.format == "json" else render_text(data), args.output)
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


def version_lines() -> list[str]:
    """The tool's version and its bundled schemas' (Kubernetes, Flux, CRD catalog)."""
    import json
    from importlib import metadata

    here = os.path.join(os.path.dirname(__file__), "schemas")

    def index(*parts: str) -> dict:
        try:
            with open(os.path.join(here, *parts, "index.json"), encoding="utf-8") as fh:
                data = json.load(fh)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    kube = kubernetes_versions()
    try:
        kv = f"kubernetes-validate {metadata.version('kubernetes-validate')}"
    except metadata.PackageNotFoundError:
        kv = "kubernetes-validate not installed"
    flux = index().get("flux")
    cat = index("catalog")
    src = cat.get("source") if isinstance(cat.get("source"), dict) else {}
    groups = cat.get("groups") if isinstance(cat.get("groups"), dict) else {}
    lines = [f"gitlint-flux {__version__}",
             f"Kubernetes schemas: {kube[0]} to {kube[-1]} ({kv})" if kube else f"Kubernetes schemas: none ({kv})",
             f"Flux CRD schemas: {flux}" if flux else "Flux CRD schemas: not installed"]
    if src:
        when = f", {src['date']}" if src.get("date") else ""
        lines.append(f"CRD catalog: {src.get('repository', '?')} {src.get('commit', '?')}{when} "
                     f"({len(groups)} API groups)")
    else:
        lines.append("CRD catalog: not installed")
    return lines


def _version() -> int:
    _write("\n".join(version_lines()) + "\n", None)
    return 0


def _rules() -> int:
    from .rules import all_rules

    rows = [(c.code, c.slug, c.severity, c.summary()) for c in all_rules().values()]
    w = max(len(r[1]) for r in rows)
    for code, slug, sev, summary in rows:
        print(f"{code}  {slug:<{w}}  {sev:<7}  {summary}")
    return 0


def _workspace(fmt: str) -> str | None:
    """The directory a format's paths are relative to: the working directory for the text
    output (as ruff and eslint print paths), the CI checkout for the CI formats
    (``$CI_PROJECT_DIR``, ``$GITHUB_WORKSPACE``); read here so that formatters see only the
    report."""
    from .report.common import WORKSPACE_VARIABLES

    if fmt in ("text", "statistics"):
        try:
            return os.getcwd()
        except OSError:  # the working directory was removed: root-relative paths
            return None

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
