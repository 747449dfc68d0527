"""JUnit XML, as GitLab's unit test report reads it.

One ``testsuite`` named after the tool.  Each finding is a ``testcase``: ``classname`` is
the file, ``name`` the rule and the message's identity (``model.identity_message``: no
line numbers, no repository-wide counts, so a finding keeps its identity between
pipelines when lines move or unrelated files are added; identical findings of a file are
numbered).  A finding at or above ``fail_on`` (the CLI's ``--fail-on``) is a failed case
with the location, message and hint in the ``failure`` body; a finding below it is a
passing case with that detail in ``system-out`` (so a green job shows no failed test).  Every linted file
without findings is a passing test case, and every skipped file a skipped one, so the
report shows what was checked.  Paths are rebased under ``$CI_PROJECT_DIR`` like the
Code Quality report.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..model import SEVERITY_RANK, RunReport, identity_message
from .common import workspace_path

CLEAN = "no findings"
SKIPPED = "not linted"

# characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        text)


def fails_case(severity: str, fail_on: str) -> bool:
    return fail_on != "never" and SEVERITY_RANK[severity] >= SEVERITY_RANK[fail_on]


def render(report: RunReport, color: bool = False, workspace: str | None = None, fail_on: str = "error") -> str:
    suite = ET.Element("testsuite", name=report.tool_name)
    failures = skipped = tests = 0
    seen: dict[tuple[str, str], int] = {}
    with_findings: set[str] = set()
    for f in report.iter_sorted():
        path = _x(workspace_path(report, f.path, workspace))
        ident = identity_message(f.message)
        name = _x(f"{f.rule} {f.slug}: {ident.splitlines()[0] if ident else ''}")
        n = seen[(path, name)] = seen.get((path, name), 0) + 1
        if n > 1:
            name = f"{name} (#{n})"
        with_findings.add(f.path)
        case = ET.SubElement(suite, "testcase", classname=path, name=name, file=path, time="0")
        body = [f"{f.severity} {f.rule} at {path}:{f.line}:{f.column}", f.message]
        if f.hint:
            body.append(f"hint: {f.hint}")
        if f.url:
            body.append(f.url)
        if fails_case(f.severity, fail_on):
            failure = ET.SubElement(case, "failure", type=f.severity,
                                    message=_x(f"{f.severity} {f.rule} {f.message}"))
            failure.text = _x("\n".join(body))
            failures += 1
        else:
            out = ET.SubElement(case, "system-out")
            out.text = _x("\n".join(body))
        tests += 1
    for rel in report.files:
        if rel in with_findings:
            continue
        path = _x(workspace_path(report, rel, workspace))
        ET.SubElement(suite, "testcase", classname=path, name=CLEAN, file=path, time="0")
        tests += 1
    for s in report.skipped:
        if s.path in with_findings:
            continue
        path = _x(workspace_path(report, s.path, workspace))
        case = ET.SubElement(suite, "testcase", classname=path, name=SKIPPED, file=path, time="0")
        ET.SubElement(case, "skipped", message=_x(s.reason))
        tests += 1
        skipped += 1
    counts = {"tests": str(tests), "failures": str(failures), "errors": "0", "skipped": str(skipped), "time": "0"}
    suite.attrib.update(counts)
    root = ET.Element("testsuites", name=report.tool_name, **counts)
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
