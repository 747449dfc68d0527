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
from conftest import flux_ks, git_init, gotk_sync, write_tree

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


def test_template_pins_the_package_version():
    """The template installs its own release: GITLINT_FLUX_VERSION is the package's version
    (ci/release-version writes it at release), and the include examples name its tag."""
    from gitlint_flux import __version__

    j = job()
    assert j["variables"]["GITLINT_FLUX_VERSION"] == __version__
    assert j["variables"]["GITLINT_FLUX_PACKAGE"] == "gitlint-flux==$GITLINT_FLUX_VERSION"
    text = TEMPLATE.read_text(encoding="utf-8")
    assert f"/-/raw/v{__version__}/ci/gitlint-flux.gitlab-ci.yml" in text
    r = subprocess.run([sys.executable, str(ROOT / "ci" / "release-version"), "--check"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    import runpy

    release = runpy.run_path(str(ROOT / "ci" / "release-version"))
    bumped = release["pinned"](text, "9.8.7")
    assert 'GITLINT_FLUX_VERSION: "9.8.7"' in bumped and "/-/raw/v9.8.7/ci/" in bumped
    assert release["pinned"](bumped, __version__) == text


def test_template_caches_pip_and_gitlint_flux():
    """`cache:` keeps pip's downloads and gitlint-flux's cache (both under XDG_CACHE_HOME,
    which must lie in the project directory: GitLab caches only paths inside it), keyed by
    the tool's version and the configuration file (GitLab CI reference, `cache:key:files`,
    `cache:key:prefix`)."""
    j = job()
    assert j["variables"]["XDG_CACHE_HOME"] == "$CI_PROJECT_DIR/.cache"
    assert set(j["cache"]["paths"]) == {".cache/pip", ".cache/gitlint-flux", ".cache/venv"}
    assert ".gitlint-flux.yaml" in j["cache"]["key"]["files"]
    assert "$GITLINT_FLUX_VERSION" in j["cache"]["key"]["prefix"]
    assert j["cache"]["when"] == "always"  # a failing job (findings) still saves the cache


def expand(value: str, env: dict[str, str]) -> str:
    """A job variable as the runner expands it: `$VAR` and `${VAR}` from the variables
    defined so far (GitLab docs, "Use CI/CD variables in other variables")."""
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda m: env.get(m.group(1) or m.group(2), ""), value)


def runner_env(project: Path, bin_dir: Path, variables: dict[str, str], pythonpath: str | None = None
               ) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CI", "GITLAB", "GITLINT_FLUX", "PIP_", "XDG_", "PYTHON"))}
    env.update(CI="true", GITLAB_CI="true", CI_PROJECT_DIR=str(project), CI_PIPELINE_SOURCE="merge_request_event",
               CI_DEFAULT_BRANCH="main", PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
               PYTHONPATH=str(ROOT) if pythonpath is None else pythonpath)
    for k, v in variables.items():
        env[k] = expand(str(v), env)
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


def test_job_lints_several_paths(repo, tmp_path):
    files = {**FLEET, "apps/kustomization.yaml": "resources:\n  - ok.yaml\n", "other/gone.yaml": "a: [\n"}
    del files["apps/ünï còde/bad file.yaml"]
    project = git_init(repo(files))
    r = run_script(project, tmp_path, {"GITLINT_FLUX_PATH": "clusters apps"})
    assert r.returncode == 0, r.stdout + r.stderr
    cases = {c.get("classname") for c in reports(project)[1].findall(".//testcase")}
    assert {"apps/ok.yaml", "clusters/prod/apps.yaml"} <= cases and "other/gone.yaml" not in cases
    r = run_script(project, tmp_path, {"GITLINT_FLUX_PATH": "clusters other"})
    # other/ is applied by no root: its syntax error is reported, capped at warning
    assert r.returncode == 0 and "other/gone.yaml:" in r.stdout and "warning FLX001" in r.stdout


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from this checkout, offline: without build isolation when the
    environment has setuptools' wheel support, else with it (from the local index)."""
    out = tmp_path_factory.mktemp("wheel")
    for extra in (["--no-build-isolation"], []):
        r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *extra, "-w", str(out),
                            str(ROOT)], capture_output=True, text=True, timeout=300)
        found = sorted(out.glob("gitlint_flux-*.whl"))
        if r.returncode == 0 and found:
            return found[0]
    pytest.skip(f"cannot build a wheel of the checkout offline: {r.stderr.strip().splitlines()[-1:]}")


def run_job(project: Path, tmp_path: Path, wheel: Path, overrides: dict[str, str] | None = None):
    """`before_script:` and `script:` as the runner runs them: pip installs the package
    (here the wheel of this checkout, offline and without its dependencies, which come from
    this environment's site-packages, never from the checkout) in the job's virtual
    environment, then the lint."""
    import sysconfig

    bin_dir = tmp_path / "runner-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "python3").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "python3").chmod(0o755)
    j = job()
    variables = {**j["variables"], "GITLINT_FLUX_PACKAGE": str(wheel), **(overrides or {})}
    # the dependencies come from this environment's site-packages, without the gitlint-flux
    # that CI installs there with its test extras (pip would take it as already installed)
    deps = tmp_path / "runner-deps"
    if not deps.exists():
        deps.mkdir()
        purelib = Path(sysconfig.get_paths()["purelib"])
        for entry in purelib.iterdir():
            if not entry.name.lower().replace("-", "_").startswith(("gitlint_flux", "__editable__")):
                (deps / entry.name).symlink_to(entry)
    env = runner_env(project, bin_dir, variables, pythonpath=str(deps))
    env.update(PIP_NO_DEPS="1", PIP_NO_INDEX="1")
    script = "set -eo pipefail\n" + "\n".join(j["before_script"] + j["script"]) + "\n"
    r = subprocess.run(["bash", "-c", script], cwd=project, env=env, capture_output=True, text=True,
                       encoding="utf-8", timeout=300)
    return r, env


def test_job_from_a_wheel_keeps_its_cache_between_jobs(repo, tmp_path, wheel):
    """The whole job twice, as two pipelines: the second starts from a fresh checkout at the
    same project directory with the `cache:` paths the first left (what the runner
    restores), and reads gitlint-flux's cache; a run with info findings only passes, and its
    JUnit report has no failed case."""
    files = {**FLEET, "apps/kustomization.yaml": "resources:\n  - ok.yaml\n  - widget.yaml\n",
             "apps/widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"}
    del files["apps/ünï còde/bad file.yaml"]
    project = git_init(repo(files))
    r, env = run_job(project, tmp_path, wheel, {"GITLINT_FLUX_ARGS": "--stats"})
    assert r.returncode == 0, r.stdout + r.stderr
    # the installed package ran, not this checkout
    assert str(ROOT) not in env["PYTHONPATH"] and list((project / ".cache" / "venv").rglob("gitlint_flux/cli.py"))
    assert "info FLX209" in r.stdout and "0 errors, 0 warnings, 1 info" in r.stdout
    junit = reports(project)[1]
    assert junit.find("testsuite").get("failures") == "0"
    info = [c for c in junit.findall(".//testcase") if c.get("classname") == "apps/widget.yaml"]
    assert len(info) == 1 and info[0].find("failure") is None and "FLX209" in info[0].find("system-out").text
    cache = project / ".cache" / "gitlint-flux"
    assert cache.is_dir() and any(cache.rglob("*"))
    # the next pipeline: a fresh checkout, the cache paths restored
    kept = tmp_path / "kept"
    for path in job()["cache"]["paths"]:
        if (project / path).exists():
            shutil.copytree(project / path, kept / path, symlinks=True)
    shutil.rmtree(project)
    project.mkdir()
    project = git_init(write_tree(project, files))  # the same CI_PROJECT_DIR, as on a runner
    for path in job()["cache"]["paths"]:
        if (kept / path).exists():
            shutil.copytree(kept / path, project / path, symlinks=True)
    r, _ = run_job(project, tmp_path, wheel, {"GITLINT_FLUX_ARGS": "--stats"})
    assert r.returncode == 0, r.stdout + r.stderr
    stats = next(line for line in r.stderr.splitlines() if line.startswith("stats:"))
    assert "run cache hit" in stats or re.search(r"[1-9]\d* from cache", stats), stats
