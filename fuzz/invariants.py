"""What must hold for every run, whatever the input (shared by the fuzzer and
tests/robustness): no internal error, every finding has a known rule, a path inside the
root and a position inside its file, every report format renders and is valid, and two
runs give the same output."""

from __future__ import annotations

import importlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SCHEMA = PROJECT / "docs" / "report.schema.json"
SHARED = PROJECT.parent / "shared"
SARIF_SCHEMA = SHARED / "spec-schemas" / "sarif-schema-2.1.0.json"

# libyaml's line breaks (it counts NEL, LS and PS as breaks too)
_BREAKS = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")


class InvariantError(AssertionError):
    pass


def fail(msg: str) -> None:
    raise InvariantError(msg)


@lru_cache(maxsize=1)
def report_validator():
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


@lru_cache(maxsize=1)
def sarif_validator():
    if not SARIF_SCHEMA.is_file():
        return None
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def file_lines(abspath: str) -> list[str] | None:
    """The file's lines as the linter numbers them, or None when it is not a readable
    regular file."""
    try:
        if os.path.islink(abspath) or not os.path.isfile(abspath):
            return None
        if os.path.getsize(abspath) > 16 * 1024 * 1024:
            return None  # not read by the linter either (max-file-size)
        with open(abspath, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    from gitlint_flux.load import decode

    text, err, _, _ = decode(data)
    if text is None:
        text = data.decode("utf-8", "replace")
    return _BREAKS.split(text)


def check_location(root: str, path: str, line: int, column: int, end_line=None, end_column=None,
                   what: str = "finding", lines_cache: dict | None = None) -> None:
    if not isinstance(path, str) or not path:
        fail(f"{what}: empty path")
    if path.startswith("/") or os.path.isabs(path) or "\\" in path:
        fail(f"{what}: path {path!r} is not relative to the root")
    if path != "." and (path.startswith("../") or path == ".." or os.path.normpath(path) != path):
        fail(f"{what}: path {path!r} is not normalised or leaves the root")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        fail(f"{what}: path {path!r} is not valid Unicode")
    ap = os.path.join(root, path)
    if not os.path.lexists(ap):
        fail(f"{what}: path {path!r} does not exist under the root")
    if not (isinstance(line, int) and isinstance(column, int)) or line < 1 or column < 1:
        fail(f"{what}: position {line}:{column} of {path!r} is not 1-based")
    if lines_cache is not None and path in lines_cache:
        lines = lines_cache[path]
    else:
        lines = file_lines(ap)
        if lines_cache is not None:
            lines_cache[path] = lines
    if lines is None:
        return
    if line > len(lines):
        fail(f"{what}: line {line} of {path!r} is past its end ({len(lines)} lines)")
    if column > len(lines[line - 1]) + 1:
        fail(f"{what}: column {column} of {path!r}:{line} is past the end of the line "
             f"({len(lines[line - 1])} characters)")
    if end_line is not None:
        if end_line < line or end_line > len(lines):
            fail(f"{what}: end line {end_line} of {path!r} is outside {line}..{len(lines)}")
        if end_column is not None and (end_column < 1 or end_column > len(lines[end_line - 1]) + 1):
            fail(f"{what}: end column {end_column} of {path!r}:{end_line} is outside the line")


def check_report(root: str, report, internal: bool) -> None:
    from gitlint_flux.rules import all_rules

    rules = all_rules()
    if internal:
        fail("internal error: " + "; ".join(f.message for f in report.findings if f.rule == "FLX000"))
    cache: dict = {}
    for f in report.findings:
        if f.rule == "FLX000":
            fail(f"internal-error finding: {f.message}")
        cls = rules.get(f.rule)
        if cls is None or cls.slug != f.slug:
            fail(f"finding with an unknown rule {f.rule}/{f.slug}")
        if f.severity not in ("error", "warning", "info"):
            fail(f"finding {f.rule} with severity {f.severity!r}")
        check_location(root, f.path, f.line, f.column, f.end_line, f.end_column,
                       what=f"{f.rule} {f.message[:80]!r}", lines_cache=cache)
        for r in f.related:
            check_location(root, r.path, r.line, r.column, what=f"related location of {f.rule}", lines_cache=cache)
    for rel in report.files:
        check_location(root, rel, 1, 1, what="linted file", lines_cache=None)
    for s in report.skipped:
        if not s.reason:
            fail(f"skipped file {s.path!r} has no reason")
        check_location(root, s.path, 1, 1, what="skipped file", lines_cache=None)
    if set(report.files) & {s.path for s in report.skipped}:
        fail("a file is both linted and skipped")


def available_formats() -> dict[str, object]:
    """The formatter modules that exist (others are being written)."""
    from gitlint_flux import report as rp

    out = {}
    for name, mod in rp.FORMATS.items():
        modname = f"{rp.__name__}.{mod}"
        try:
            out[name] = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name != modname:
                raise
    return out


def render_all(report, validate: str = "all") -> dict[str, str]:
    """Render every available format and check that each is valid (``validate``: "all",
    "json" — every format but SARIF against its large schema — or "none"); returns the texts."""
    out = {}
    for name, mod in available_formats().items():
        text = mod.render(report, color=False)
        if not isinstance(text, str):
            fail(f"format {name} returned {type(text).__name__}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            fail(f"format {name} is not encodable as UTF-8: {exc}")
        if validate == "none":
            pass
        elif name == "json":
            errors = sorted(report_validator().iter_errors(json.loads(text)), key=lambda e: list(e.path))
            if errors:
                fail(f"json report does not match docs/report.schema.json: {errors[0].message} at "
                     f"{list(errors[0].path)}")
        elif name == "sarif":
            data = json.loads(text)
            v = sarif_validator() if validate == "all" else None
            if v is not None:
                errors = list(v.iter_errors(data))
                if errors:
                    fail(f"sarif report is not valid SARIF 2.1.0: {errors[0].message}")
        elif name == "codequality":
            if not isinstance(json.loads(text), list):
                fail("codequality report is not a JSON list")
        elif name == "junit":
            import xml.etree.ElementTree as ET

            try:
                ET.fromstring(text.encode("utf-8"))
            except ET.ParseError as exc:
                fail(f"junit report is not well-formed XML: {exc}")
        out[name] = text
    return out


def lint_once(root: str):
    """One in-process run of the whole pipeline (no cache)."""
    from gitlint_flux.engine import Options, run

    return run(Options(paths=[root], root=root))


def check_tree(root: str, twice: bool = True, validate: str = "all") -> dict[str, str]:
    """Lint ``root`` (twice), check every invariant, return the rendered formats.
    A configuration error (exit code 2 on the command line) is a valid outcome."""
    from gitlint_flux.config import ConfigError

    try:
        report, internal = lint_once(root)
    except ConfigError:
        return {}
    check_report(root, report, internal)
    texts = render_all(report, validate)
    if twice:
        report2, internal2 = lint_once(root)
        texts2 = render_all(report2, "none")
        if texts2 != texts:
            diff = [k for k in texts if texts.get(k) != texts2.get(k)]
            fail(f"two runs gave different output ({', '.join(diff)})")
    return texts
