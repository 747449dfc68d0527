"""The command line of automatic fixes: `lint --fix`, `--diff`, `--unsafe-fixes`, and the
fix column of `rules`.

This module is imported by every run of the CLI, so it imports nothing heavy: the fixer
(``gitlint_flux.fix``) is loaded only when a fix is asked for.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The fix flags, on the `lint` sub-command of ``parser``."""
    lint = _subcommand(parser, "lint")
    if lint is None:  # pragma: no cover - the CLI always has `lint`
        return
    g = lint.add_argument_group("automatic fixes")
    g.add_argument("--fix", action="store_true",
                   help="apply the safe fixes of the findings, then report what is left")
    g.add_argument("--diff", action="store_true",
                   help="print the fixes as a unified diff and write nothing (exit 1 when something would change)")
    g.add_argument("--unsafe-fixes", action="store_true",
                   help="with --fix or --diff, apply the unsafe fixes too")


def _subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:  # argparse keeps sub-parsers on their action
        choices = getattr(action, "choices", None)
        if isinstance(choices, dict) and name in choices:
            return choices[name]
    return None


def handles(args) -> bool:
    """Whether this module runs the command: `lint` with a fix flag, and `rules`."""
    if args.command == "rules":
        return True
    return args.command == "lint" and bool(getattr(args, "fix", False) or getattr(args, "diff", False))


def main(args, lint: Callable[[object], int]) -> int:
    if args.command == "rules":
        return rules()
    return fix_command(args, lint)


def rules() -> int:
    """`gitlint-flux rules`: code, slug, default severity, summary, and the fix a rule has."""
    from .rules import all_rules

    rows = [(c.code, c.slug, c.severity, c.summary(), c.fix) for c in all_rules().values()]
    w = max(len(r[1]) for r in rows)
    for code, slug, sev, summary, fix in rows:
        mark = f"  [{fix.label()}]" if fix is not None else ""
        print(f"{code}  {slug:<{w}}  {sev:<7}  {summary}{mark}")
    return 0


def fix_command(args, lint: Callable[[object], int]) -> int:
    """`lint --fix` / `lint --diff`: compute and check the fixes, print the diff or write the
    files, then (for `--fix`) lint again through the ordinary `lint` path, so that what is
    left is reported exactly as a plain run reports it; refused fixes are named in their
    findings' hints."""
    if args.stdin_filename or args.pre_commit:
        print("gitlint-flux: --fix and --diff work on the files of the tree (not with --stdin-filename or "
              "--pre-commit)", file=sys.stderr)
        return 2
    paths = list(args.paths)
    if args.root and not paths:
        paths = [args.root]
    for p in paths:
        if not os.path.exists(p) or (args.root and not os.path.isdir(args.root)):
            return lint(args)  # the ordinary path reports the usage error
    baseline = None
    if args.baseline:
        from .baseline import BaselineError, read_baseline

        try:
            baseline = read_baseline(args.baseline)
        except BaselineError:
            return lint(args)
    from .config import ConfigError
    from .fix import FixRequest, annotate_refusals, run_fixes
    from .options import Options

    opts = Options(paths=paths or ["."], root=args.root, config=args.config, baseline=baseline,
                   inline_suppressions=not args.no_inline_suppressions, schema_locations=list(args.schema_location),
                   kubernetes_version=args.kubernetes_version, strict_schemas=args.strict_schemas,
                   fix=args.fix, fix_diff=args.diff, unsafe_fixes=args.unsafe_fixes)
    try:
        result = run_fixes(FixRequest.of(opts))
    except ConfigError as exc:
        print(f"gitlint-flux: {exc}", file=sys.stderr)
        return 2
    if args.diff:
        text = result.diff()
        if text:
            sys.stdout.write(text)
            sys.stdout.flush()
        sys.stderr.write(result.summary())
        return 1 if text else 0
    sys.stderr.write(result.summary())
    args.fix = False
    args.no_cache = True  # the refusals are added to the findings by the run itself
    with annotate_refusals(result):
        return lint(args)
