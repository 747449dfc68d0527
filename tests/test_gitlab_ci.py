"""The GitLab CI template: valid against GitLab's CI schema, as the issue describes it, and
its script run as a runner would (bash, `set -eo pipefail`, in $CI_PROJECT_DIR, with the
job's variables), on fixture repositories: exit code, job log, both report files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from conftest import flux_ks, git_init, gotk_sync

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "ci" / "gitlint-flux.gitlab-ci.yml"
GITLAB_DEFAULT_STAGES = {".pre", "build", "test", "deploy", ".post"}


def job() -> dict:
    config = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    assert list(config) == ["gitlint-flux"]
    return config["gitlint-flux"]


def test_template_validates_against_the_gitlab_ci_schema():
    pytest.importorskip("check_jsonschema")
    r = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci",
                        str(TEMPLATE)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_template_job_as_documented():
    j = job()
    assert j["stage"] in GITLAB_DEFAULT_STAGES
    rules = [r["if"] for r in j["rules"]]
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in rules
    assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in rules
    assert j["artifacts"]["when"] == "always"
    assert j["artifacts"]["reports"] == {"codequality": "gl-code-quality-report.json",
                                         "junit": "gitlint-flux-junit.xml"}
    assert j.get("allow_failure", False) is False
    script = " ".join(j["script"])
    assert "--format" not in script  # the job log gets the text report
    assert '"$GITLINT_FLUX_PACKAGE"' in " ".join(j["before_script"])


def runner_env(project: Path, bin_dir: Path, variables: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI", "GITLAB", "GITLINT_FLUX"))}
    env.update({k: str(v) for k, v in variables.items()})
    env.update(CI="true", GITLAB_CI="true", CI_PROJECT_DIR=str(project), CI_PIPELINE_SOURCE="merge_request_event",
               CI_DEFAULT_BRANCH="main", PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(ROOT))
    env.pop("NO_COLOR", None)
    return env


def run_script(project: Path, tmp_path: Path, overrides: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The job's `script:` lines, one bash like GitLab's runner uses, `gitlint-flux` being
    this checkout (the `before_script:` pip install is what makes it so in CI)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "gitlint-flux"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gitlint_flux "$@"\n')
    shim.chmod(0o755)
    j = job()
    env = runner_env(project, bin_dir, {**j["variables"], **(overrides or {})})
    script = "set -eo pipefail\n" + "\n".join(j["script"]) + "\n"
    return subprocess.run(["bash", "-c", script], cwd=project, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)


FLEET = {
    "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
    "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
    "apps/kustomization.yaml": "resources:\n  - ok.yaml\n  - gone.yaml\n  - ünï còde/bad file.yaml\n",
    "apps/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n",
    "apps/ünï còde/bad file.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n",
    "README.md": "# fleet\n",
}

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def reports(project: Path) -> tuple[list[dict], ET.Element]:
    raw = (project / "gl-code-quality-report.json").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    cq = json.loads(raw.decode("utf-8"))
    junit = ET.parse(project / "gitlint-flux-junit.xml").getroot()
    return cq, junit


def test_job_script_fails_on_errors_and_writes_both_reports(repo, tmp_path):
    project = git_init(repo(FLEET))
    r = run_script(project, tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    log = r.stdout.splitlines()
    assert "apps/kustomization.yaml:3:5: error FLX101 resource `gone.yaml` does not exist" in log[0]
    assert log[1].startswith("apps/ünï còde/bad file.yaml:5:3: error FLX002 ")
    assert re.fullmatch(r"\d+ files linted, .*: 2 errors, 0 warnings, 0 info", log[-1])
    assert "\033[" not in r.stdout
    cq, junit = reports(project)
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"], i["severity"]) for i in cq] == [
        ("FLX101", "apps/kustomization.yaml", 3, "major"),
        ("FLX002", "apps/ünï còde/bad file.yaml", 5, "major"),
    ]
    assert all(i["description"] and len(i["fingerprint"]) == 32 for i in cq)
    cases = junit.findall(".//testcase")
    failed = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None}
    assert len(failed) == 2 and {c for c, _ in failed} == {"apps/kustomization.yaml", "apps/ünï còde/bad file.yaml"}
    passed = {c.get("classname") for c in cases if len(c) == 0}
    assert "apps/ok.yaml" in passed and "clusters/prod/apps.yaml" in passed


def test_job_script_passes_on_a_clean_repository(repo, tmp_path):
    files = {**FLEET, "apps/kustomization.yaml": "resources:\n  - ok.yaml\n"}
    del files["apps/ünï còde/bad file.yaml"]
    project = git_init(repo(files))
    r = run_script(project, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    cq, junit = reports(project)
    assert cq == []
    assert junit.find("testsuite").get("failures") == "0" and len(junit.findall(".//testcase")) >= 3


def test_job_variables_path_and_fail_on(repo, tmp_path):
    """A Flux tree in a sub-directory with a warning only: paths stay relative to the
    project directory (what GitLab needs to place Code Quality findings), and the job fails
    on the warning only when told to."""
    files = {f"flux/{k}": v for k, v in FLEET.items()}
    files["flux/apps/kustomization.yaml"] = "resources:\n  - ok.yaml\n  - ünï còde/bad file.yaml\n"
    files["flux/.gitlint-flux.yaml"] = "rules:\n  FLX002: warning\n"
    project = git_init(repo(files))
    settings = {"GITLINT_FLUX_PATH": "flux", "GITLINT_FLUX_ARGS": "--root flux"}
    r = run_script(project, tmp_path, settings)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "apps/ünï còde/bad file.yaml:5:3: warning FLX002" in r.stdout
    cq, junit = reports(project)
    assert [(i["location"]["path"], i["severity"]) for i in cq] == [("flux/apps/ünï còde/bad file.yaml", "minor")]
    assert {c.get("file") for c in junit.findall(".//testcase")} >= {"flux/apps/ok.yaml",
                                                                       "flux/apps/ünï còde/bad file.yaml"}
    r = run_script(project, tmp_path, {**settings, "GITLINT_FLUX_FAIL_ON": "warning"})
    assert r.returncode == 1, r.stdout + r.stderr
