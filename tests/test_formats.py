"""Report formats: sarif, codequality, junit, github — parsed back, required fields checked,
on real runs and on a synthetic report with every severity and awkward paths."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
from conftest import SHARED, flux_ks, git_init, gotk_sync

from gitlint_flux.engine import assign_fingerprints
from gitlint_flux.model import Finding, Related, RunReport, Skipped
from gitlint_flux.report import render
from gitlint_flux.report import github as gh
from gitlint_flux.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = SHARED / "spec-schemas" / "sarif-schema-2.1.0.json"
LEVELS = {"error": ("error", "major", "error"), "warning": ("warning", "minor", "warning"),
          "info": ("note", "info", "notice")}  # SARIF, Code Quality, GitHub
BAD = "apps/ünï còde/bad file.yaml"


@pytest.fixture(autouse=True)
def _no_ci_env(monkeypatch):
    for var in ("CI_PROJECT_DIR", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(var, raising=False)


def run_cli(*args, cwd=None, env=None):
    e = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for var in ("CI_PROJECT_DIR", "GITHUB_WORKSPACE"):
        if var not in (env or {}):
            e.pop(var, None)
    return subprocess.run([sys.executable, "-m", "gitlint_flux", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, env=e, timeout=60)


KUSTOMIZATION = "resources:\n  - ok.yaml\n  - gone.yaml\n  - ünï còde/bad file.yaml\n  - gone.yaml\n"


@pytest.fixture
def fleet(repo):
    """Two identical findings in one file (gone.yaml twice), a finding on a path with a
    space and non-ASCII letters, clean files, and a skipped file."""
    return git_init(repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": KUSTOMIZATION,
        "apps/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n",
        BAD: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n",
        "charts/x/Chart.yaml": "apiVersion: v2\nname: x\nversion: 0.1.0\n",
        "charts/x/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.n }}\n",
    }))


def synthetic() -> RunReport:
    """Every severity, ends known and unknown, related locations, characters to escape."""
    rules = all_rules()

    def f(code, sev, path, line, col, msg, **kw):
        return Finding(code, rules[code].slug, sev, msg, path, line, col, url=rules[code].url(), **kw)

    findings = [
        f("FLX105", "error", "clusters/a,b:c.yaml", 4, 9, "spec.path `./x` does not exist\n100% sure\r",
          end_line=4, end_column=14, resource={"kind": "Kustomization", "namespace": "flux-system", "name": "apps"},
          hint="Fix the path, or create the directory."),
        f("FLX002", "warning", BAD, 5, 3, 'mapping key "name" already defined at line 4', end_line=7, end_column=2),
        f("FLX104", "info", "apps/notes.yaml", 1, 1, "not a manifest \x01 (control)",
          related=[Related("apps/kustomization.yaml", 3, 5, "applied from here")]),
        f("FLX104", "info", "apps/notes.yaml", 9, 1, "not a manifest \x01 (control)"),
    ]
    assign_fingerprints(findings)
    return RunReport("gitlint-flux", "0.1.0", "/srv/fleet", findings,
                     ["apps/kustomization.yaml", "apps/notes.yaml", "apps/ok.yaml", BAD, "clusters/a,b:c.yaml"],
                     [Skipped("charts/x/templates/cm.yaml", "Helm chart template")], 4,
                     {code: cls.info() for code, cls in rules.items()})


# --------------------------------------------------------------------------- SARIF


def sarif_validate(data: dict) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the shared SARIF schema is absent ({SARIF_SCHEMA})")
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(data)


def uri_ok(u: str) -> bool:
    """An RFC 3986 relative reference: only unreserved, reserved and %XX."""
    return bool(re.fullmatch(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})+", u))


def test_sarif_synthetic_fields():
    report = synthetic()
    data = json.loads(render("sarif", report))
    sarif_validate(data)
    assert data["version"] == "2.1.0" and data["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = data["runs"]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///srv/fleet/"
    driver = run["tool"]["driver"]
    assert driver["name"] == "gitlint-flux" and driver["version"] == "0.1.0"
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted(report.rules)  # the whole catalogue, not only the rules that fired
    for desc in driver["rules"]:
        info = report.rules[desc["id"]]
        assert desc["name"] == info.slug and desc["helpUri"] == info.url
        assert desc["shortDescription"]["text"] == info.summary and desc["fullDescription"]["text"]
        assert desc["defaultConfiguration"]["level"] == LEVELS[info.severity][0]
    results = run["results"]
    assert len(results) == 4
    for res, f in zip(results, report.iter_sorted()):
        assert res["ruleId"] == f.rule and driver["rules"][res["ruleIndex"]]["id"] == f.rule
        assert res["level"] == LEVELS[f.severity][0]
        assert res["message"]["text"] == f.message
        assert res["partialFingerprints"] == {"gitlintFlux/v1": f.fingerprint}
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        u = loc["artifactLocation"]["uri"]
        assert uri_ok(u) and unquote(u) == f.path and not urlsplit(u).scheme
        assert loc["region"]["startLine"] == f.line and loc["region"]["startColumn"] == f.column
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["FLX105"]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 4, "startColumn": 9, "endLine": 4, "endColumn": 14}
    assert by_rule["FLX002"]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 5, "startColumn": 3, "endLine": 7, "endColumn": 2}
    assert by_rule["FLX105"]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == \
        "Kustomization/flux-system/apps"
    related = results[0]["relatedLocations"]  # the first FLX104 (sorted by path: apps/notes.yaml:1)
    assert results[0]["ruleId"] == "FLX104" and "relatedLocations" not in results[1]
    assert related[0]["physicalLocation"]["artifactLocation"]["uri"] == "apps/kustomization.yaml"
    assert related[0]["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 5}
    assert related[0]["message"]["text"] == "applied from here"
    assert len({r["partialFingerprints"]["gitlintFlux/v1"] for r in results}) == 4
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "charts/x/templates/cm.yaml"


def test_sarif_real_run_validates(fleet, tmp_path):
    out = tmp_path / "r.sarif"
    r = run_cli("lint", "--report", f"sarif={out}", str(fleet))
    assert r.returncode == 1 and "error FLX101" in r.stdout  # text on stdout, SARIF in the file
    data = json.loads(out.read_text(encoding="utf-8"))
    sarif_validate(data)
    results = data["runs"][0]["results"]
    uris = [unquote(x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for x in results]
    assert uris == ["apps/kustomization.yaml", "apps/kustomization.yaml", BAD]
    assert "apps/%C3%BCn%C3%AF%20c%C3%B2de/bad%20file.yaml" in json.dumps(data)
    assert Path(urlsplit(data["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]).path) == fleet.resolve()
    assert {x["ruleId"] for x in results} == {"FLX101", "FLX002"}
    assert len({x["partialFingerprints"]["gitlintFlux/v1"] for x in results}) == 3


# --------------------------------------------------------------------------- Code Quality


def test_codequality_synthetic_fields():
    report = synthetic()
    issues = json.loads(render("codequality", report))
    assert isinstance(issues, list) and len(issues) == 4
    for issue, f in zip(issues, report.iter_sorted()):
        assert issue["check_name"] == f.rule and f.message in issue["description"]
        assert issue["severity"] == LEVELS[f.severity][1]
        assert issue["fingerprint"] == f.fingerprint
        assert issue["location"]["path"] == f.path and issue["location"]["lines"]["begin"] == f.line
    assert len({i["fingerprint"] for i in issues}) == 4  # the two FLX104 of notes.yaml are distinct


def test_codequality_file_has_no_bom_and_fingerprints_survive_moved_lines(fleet, tmp_path):
    out = tmp_path / "cq.json"
    assert run_cli("lint", "--report", f"codequality={out}", str(fleet)).returncode == 1
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and raw.lstrip()[:1] == b"["
    before = json.loads(raw.decode("utf-8"))
    gone = [i for i in before if i["check_name"] == "FLX101"]
    assert len(gone) == 2 and gone[0]["fingerprint"] != gone[1]["fingerprint"]  # identical findings
    # lines above the findings move; nothing else changes
    (fleet / "apps/kustomization.yaml").write_text("# moved\n\n" + KUSTOMIZATION)
    assert run_cli("lint", "--format", "codequality", "-o", str(out), str(fleet)).returncode == 1
    after = json.loads(out.read_text(encoding="utf-8"))
    assert len(after) == len(before) == 3
    assert [i["location"]["lines"]["begin"] for i in after] == [i["location"]["lines"]["begin"] + d
                                                                for i, d in zip(before, (2, 2, 0))]
    assert [i["fingerprint"] for i in after] == [i["fingerprint"] for i in before]


def test_codequality_duplicate_key_fingerprint_survives_moved_lines(fleet, tmp_path):
    before = json.loads(run_cli("lint", "--format", "codequality", str(fleet / BAD)).stdout)
    (fleet / BAD).write_text("# a comment\n" + (fleet / BAD).read_text())
    after = json.loads(run_cli("lint", "--format", "codequality", str(fleet / BAD)).stdout)
    assert [i["location"]["lines"]["begin"] for i in after] == [6]
    assert [i["fingerprint"] for i in after] == [i["fingerprint"] for i in before]


def test_codequality_paths_under_ci_project_dir(fleet, tmp_path, monkeypatch):
    report = synthetic()
    report.root = str(tmp_path / "project" / "flux")
    (tmp_path / "project" / "flux").mkdir(parents=True)
    ws = str(tmp_path / "project")
    paths = {i["location"]["path"] for i in json.loads(render("codequality", report, workspace=ws))}
    assert paths == {"flux/clusters/a,b:c.yaml", f"flux/{BAD}", "flux/apps/notes.yaml"}
    ws = str(tmp_path / "project" / "flux")  # the root itself
    assert {i["location"]["path"] for i in json.loads(render("codequality", report, workspace=ws))} == \
        {"clusters/a,b:c.yaml", BAD, "apps/notes.yaml"}


# --------------------------------------------------------------------------- JUnit


def test_junit_synthetic():
    report = synthetic()
    xml = render("junit", report)
    root = ET.fromstring(xml.encode("utf-8"))  # parses: the control character was escaped
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    pairs = [(c.get("classname"), c.get("name")) for c in cases]
    assert len(pairs) == len(set(pairs))  # unique (classname, name), identical findings included
    failed = [c for c in cases if c.find("failure") is not None]
    # --fail-on error (the default): warnings and info are passing cases, detail in system-out
    assert {c.find("failure").get("type") for c in failed} == {"error"} and suite.get("failures") == str(len(failed))
    passed_findings = [c for c in cases if c.find("system-out") is not None]
    assert len(failed) + len(passed_findings) == 4
    assert all(c.find("failure") is None for c in passed_findings)
    root = ET.fromstring(render("junit", report, fail_on="info").encode("utf-8"))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 4 and suite.get("failures") == "4" and root.get("failures") == "4"
    assert {c.find("failure").get("type") for c in failed} == {"error", "warning", "info"}
    notes = [c.get("name") for c in failed if c.get("classname") == "apps/notes.yaml"]
    assert notes[0] != notes[1] and notes[1].endswith("(#2)")
    assert all(":1:" not in n and " 9:" not in n for n in notes)  # no line numbers in names
    passing = {c.get("classname") for c in cases if len(c) == 0}
    assert passing == {"apps/kustomization.yaml", "apps/ok.yaml"}  # clean linted files
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert [c.get("classname") for c in skipped] == ["charts/x/templates/cm.yaml"] and suite.get("skipped") == "1"
    assert suite.get("tests") == str(len(cases)) == "7"
    body = next(c for c in failed if c.get("classname") == "clusters/a,b:c.yaml").find("failure").text
    assert "clusters/a,b:c.yaml:4:9" in body and "Fix the path" in body and "100% sure" in body


def test_junit_real_run(fleet, tmp_path):
    out = tmp_path / "junit.xml"
    assert run_cli("lint", "--report", f"junit={out}", str(fleet)).returncode == 1
    root = ET.parse(out).getroot()
    cases = root.findall(".//testcase")
    pairs = [(c.get("classname"), c.get("name")) for c in cases]
    assert len(pairs) == len(set(pairs))
    failed = [c for c in cases if c.find("failure") is not None]
    assert sorted(c.get("classname") for c in failed) == ["apps/kustomization.yaml", "apps/kustomization.yaml", BAD]
    passing = {c.get("classname") for c in cases if len(c) == 0}
    assert {"apps/ok.yaml", "clusters/prod/apps.yaml", "clusters/prod/flux-system/gotk-sync.yaml"} <= passing
    assert root.find("testsuite").get("tests") == str(len(cases))


# --------------------------------------------------------------------------- GitHub annotations

ANNOTATION = re.compile(r"^::(error|warning|notice) ((?:[A-Za-z]+=[^,:]*)(?:,[A-Za-z]+=[^,:]*)*)::(.*)$")


def unescape_data(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(s: str) -> str:
    return unescape_data(s.replace("%3A", ":").replace("%2C", ","))


def parse_annotation(line: str) -> tuple[str, dict, str]:
    m = ANNOTATION.match(line)
    assert m, line
    props = dict(p.split("=", 1) for p in m[2].split(","))
    return m[1], {k: unescape_property(v) for k, v in props.items()}, unescape_data(m[3])


def test_github_synthetic():
    report = synthetic()
    lines = render("github", report).splitlines()
    assert lines[-1].startswith("5 files linted") and not lines[-1].startswith("::")
    parsed = [parse_annotation(line) for line in lines[:-1]]
    for (cmd, props, msg), f in zip(parsed, report.iter_sorted()):
        assert cmd == LEVELS[f.severity][2]
        assert props["file"] == f.path and props["line"] == str(f.line) and props["col"] == str(f.column)
        assert props["title"] == f"{f.rule} {f.slug}"
        assert msg.startswith(f.message)
    cmd, props, msg = parsed[3]  # FLX105 on clusters/a,b:c.yaml, a one-line region
    assert props["file"] == "clusters/a,b:c.yaml" and (props["endLine"], props["endColumn"]) == ("4", "13")
    assert msg == "spec.path `./x` does not exist\n100% sure\r\nFix the path, or create the directory."
    assert "file=clusters/a%2Cb%3Ac.yaml," in lines[3] and "%0A100%25 sure%0D%0AFix" in lines[3]
    assert parsed[2][1]["title"] == "FLX002 duplicate-key" and "endLine" not in parsed[2][1]  # lines 5-7
    assert parsed[0][0] == "notice"


def test_github_real_run_and_workspace(fleet, tmp_path):
    r = run_cli("lint", "--format", "github", str(fleet), env={"GITHUB_WORKSPACE": str(fleet.parent)})
    assert r.returncode == 1
    ann = [parse_annotation(line) for line in r.stdout.splitlines()[:-1]]
    assert [(c, p["file"], p["line"]) for c, p, _ in ann] == [
        ("error", f"{fleet.name}/apps/kustomization.yaml", "3"), ("error", f"{fleet.name}/apps/kustomization.yaml", "5"),
        ("error", f"{fleet.name}/{BAD}", "5")]


def test_github_escaping_functions():
    assert gh.escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert gh.escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"


def test_every_format_from_one_run(fleet, tmp_path):
    """--report FORMAT=FILE, repeated: one run, every format; text stays on stdout."""
    args = []
    for fmt in ("json", "sarif", "codequality", "junit", "github"):
        args += ["--report", f"{fmt}={tmp_path / ('r.' + fmt)}"]
    r = run_cli("lint", *args, str(fleet))
    assert r.returncode == 1 and r.stdout.splitlines()[-1].endswith("3 errors, 0 warnings, 0 info")
    fps = [f["fingerprint"] for f in json.loads((tmp_path / "r.json").read_text())["findings"]]
    assert [i["fingerprint"] for i in json.loads((tmp_path / "r.codequality").read_text())] == fps
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    assert [x["partialFingerprints"]["gitlintFlux/v1"] for x in sarif["runs"][0]["results"]] == fps
    ET.parse(tmp_path / "r.junit")
    assert (tmp_path / "r.github").read_text().startswith("::error ")
