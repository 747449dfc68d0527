"""SARIF 2.1.0 (OASIS), for GitHub code scanning, GitLab and SARIF viewers.

One run: the rule catalogue in ``tool.driver.rules``, one result per finding.  Locations
are root-relative URIs under the base id ``%SRCROOT%`` (``originalUriBaseIds`` gives the
root as a ``file:`` URI); lines and columns are 1-based and count Unicode code points
(``columnKind``), an end column points just past the region, as SARIF wants.

Levels: error -> ``error``, warning -> ``warning``, info -> ``note``.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath, Path
from urllib.parse import quote

from ..model import ERROR, INFO, WARNING, Finding, RuleInfo, RunReport
from .common import fingerprint

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "gitlintFlux/v1"
INFORMATION_URI = "https://gitlab.com/gitlint-flux/gitlint-flux"

LEVELS = {ERROR: "error", WARNING: "warning", INFO: "note"}


def level(severity: str) -> str:
    return LEVELS.get(severity, "warning")


def uri(path: str) -> str:
    """A root-relative path as a relative URI reference (percent-encoded, "/" kept)."""
    return quote(path, safe="/")


def _root_uri(root: str) -> str:
    u = Path(root).as_uri() if Path(root).is_absolute() else uri(str(PurePosixPath(root)))
    return u if u.endswith("/") else u + "/"


def _region(line: int, column: int, end_line: int | None = None, end_column: int | None = None) -> dict:
    region = {"startLine": max(1, line), "startColumn": max(1, column)}
    if end_line is not None and end_line >= region["startLine"]:
        region["endLine"] = end_line
        if end_column is not None and (end_line > region["startLine"] or end_column >= region["startColumn"]):
            region["endColumn"] = max(1, end_column)
    return region


def _location(path: str, region: dict) -> dict:
    return {"physicalLocation": {"artifactLocation": {"uri": uri(path), "uriBaseId": SRCROOT}, "region": region}}


def _descriptor(info: RuleInfo) -> dict:
    d = {
        "id": info.code,
        "name": info.slug,
        "shortDescription": {"text": info.summary or info.slug},
        "fullDescription": {"text": info.description or info.summary or info.slug},
        "defaultConfiguration": {"level": level(info.severity)},
        "properties": {"tags": ["flux", "kubernetes"]},
    }
    if info.description:
        d["fullDescription"]["markdown"] = info.description
        d["help"] = {"text": info.description, "markdown": info.description}
    if info.url:
        d["helpUri"] = info.url
    return d


def _result(f: Finding, index: int) -> dict:
    loc = _location(f.path, _region(f.line, f.column, f.end_line, f.end_column))
    if f.resource:
        res = f.resource
        ns = f"{res.get('namespace')}/" if res.get("namespace") else ""
        loc["logicalLocations"] = [{
            "name": str(res.get("name", "")),
            "fullyQualifiedName": f"{res.get('kind', '')}/{ns}{res.get('name', '')}",
            "kind": "object",
        }]
    r: dict = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": level(f.severity),
        "message": {"text": f.message},
        "locations": [loc],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f)},
    }
    if f.related:
        r["relatedLocations"] = [
            {"id": i, **_location(rel.path, _region(rel.line, rel.column)),
             **({"message": {"text": rel.message}} if rel.message else {})}
            for i, rel in enumerate(f.related, 1)
        ]
    props = {"slug": f.slug, "severity": f.severity}
    if f.hint:
        props["hint"] = f.hint
    r["properties"] = props
    return r


def as_dict(report: RunReport) -> dict:
    infos = list(report.rules.values())
    index = {info.code: i for i, info in enumerate(infos)}
    results = []
    for f in report.iter_sorted():
        if f.rule not in index:  # a finding of a rule the catalogue does not list
            index[f.rule] = len(infos)
            infos.append(RuleInfo(f.rule, f.slug, f.severity, f.slug, "", f.url))
        results.append(_result(f, index[f.rule]))
    notifications = [
        {"level": "note", "message": {"text": f"not linted: {s.reason}"},
         "locations": [_location(s.path, {"startLine": 1})]}
        for s in report.skipped
    ]
    invocation: dict = {"executionSuccessful": not any(f.rule == "FLX000" for f in report.findings)}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": report.tool_name,
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_descriptor(info) for info in infos],
            }},
            "invocations": [invocation],
            "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(report.root)}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render(report: RunReport, color: bool = False, workspace: str | None = None) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
