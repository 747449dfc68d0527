"""Baselines: adopt gitlint-flux on an existing repository and fail only on new findings.

A baseline is a JSON file of the findings' fingerprints, which ignore line numbers, so
entries survive edits that move lines.
"""

from __future__ import annotations

import json

from .model import RunReport

VERSION = 1


class BaselineError(Exception):
    pass


def write_baseline(path: str, report: RunReport) -> int:
    entries = [{"fingerprint": f.fingerprint, "rule": f.rule, "path": f.path, "message": f.message}
               for f in report.iter_sorted()]
    data = {"version": VERSION, "tool": report.tool_name, "findings": entries}
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    return len(entries)


def read_baseline(path: str) -> set[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise BaselineError(f"cannot read the baseline {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise BaselineError(f"{path} is not a gitlint-flux baseline (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path} is not a gitlint-flux baseline (version {VERSION})")
    return {e["fingerprint"] for e in data["findings"] if isinstance(e, dict) and isinstance(e.get("fingerprint"), str)}
