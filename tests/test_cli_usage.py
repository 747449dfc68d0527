"""The command line as a user calls it (subprocess): rule selection and its precedence,
--min-severity, --statistics, stable fingerprints, root discovery, paths, failures that
say what happened, version and help, the graph's default outline."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import flux_ks, git_init, gotk_sync, write_tree

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path | str | None = None, env: dict | None = None, stdin: str | None = None):
    e = {**os.environ, "PYTHONPATH": str(ROOT), "GITLINT_FLUX_NO_CACHE": "1", **(env or {})}
    e.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "gitlint_flux", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, env=e, input=stdin, timeout=120)


WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\n"

#: an error (FLX101), a warning (FLX601 prune: false), an info (FLX209: a kind without schema)
TREE = {
    "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
    "clusters/prod/apps.yaml": flux_ks("apps", "./apps").replace("prune: true", "prune: false"),
    "apps/kustomization.yaml": "resources:\n  - ok.yaml\n  - gone.yaml\n  - widget.yaml\n",
    "apps/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n",
    "apps/widget.yaml": WIDGET.format(name="w"),
}


@pytest.fixture
def tree(repo):
    return git_init(repo(TREE))


def findings(r) -> list[tuple[str, str]]:
    return sorted((f["rule"], f["severity"]) for f in json.loads(r.stdout)["findings"])


# --------------------------------------------------------------------------- selection


def test_select_extend_select_ignore_codes_prefixes_slugs(tree):
    everything = findings(cli("lint", "--format", "json", str(tree)))
    assert everything == [("FLX101", "error"), ("FLX209", "info"), ("FLX601", "warning")]
    r = cli("lint", "--format", "json", "--select", "FLX1", str(tree))  # a prefix
    assert findings(r) == [("FLX101", "error")] and r.returncode == 1
    r = cli("lint", "--format", "json", "--select", "prune-enabled,no-schema", str(tree))  # slugs, comma-separated
    assert findings(r) == [("FLX209", "info"), ("FLX601", "warning")] and r.returncode == 0
    r = cli("lint", "--format", "json", "--select", "FLX101", "--select", "FLX601", str(tree))  # repeatable
    assert [c for c, _ in findings(r)] == ["FLX101", "FLX601"]
    r = cli("lint", "--format", "json", "--ignore", "FLX2", "--ignore", "missing-reference", str(tree))
    assert findings(r) == [("FLX601", "warning")] and r.returncode == 0
    r = cli("lint", "--format", "json", "--select", "FLX1", "--extend-select", "FLX601", str(tree))
    assert [c for c, _ in findings(r)] == ["FLX101", "FLX601"]


def test_selection_precedence_profile_configuration_command_line(tree):
    (tree / ".gitlint-flux.yaml").write_text("select: [FLX2]\nextend-select: [prune-enabled]\n")
    assert [c for c, _ in findings(cli("lint", "--format", "json", str(tree)))] == ["FLX209", "FLX601"]
    # --extend-select adds to the configuration's selection, --ignore removes from it, last
    r = cli("lint", "--format", "json", "--extend-select", "FLX101", "--ignore", "FLX209", str(tree))
    assert [c for c, _ in findings(r)] == ["FLX101", "FLX601"]
    # --select replaces it
    r = cli("lint", "--format", "json", "--select", "FLX101", str(tree))
    assert [c for c, _ in findings(r)] == ["FLX101"]
    # `rules: {X: off}` turns a rule off: it does not run, and naming it on the command line says so
    (tree / ".gitlint-flux.yaml").write_text("rules:\n  FLX601: off\n")
    r = cli("lint", "--format", "json", "--select", "FLX601", str(tree))
    assert findings(r) == [] and "FLX601 (prune-enabled): turned off" in r.stderr


def test_configuration_select_runs_a_rule_the_profile_turns_off(repo):
    files = {"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
             "clusters/prod/flux-system/kustomization.yaml": "resources:\n  - gotk-sync.yaml\n  - base.yaml\n",
             "clusters/prod/flux-system/base.yaml":
                 "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: base\n"
                 "  namespace: flux-system\nspec:\n  interval: 10m\n  url: https://example.com/base.git\n"
                 "  ref:\n    branch: main\n"}
    root = git_init(repo(files))
    assert "FLX304" not in cli("lint", str(root)).stdout  # git-branch-tracking: off in `recommended`
    (root / ".gitlint-flux.yaml").write_text("extend-select: [git-branch-tracking]\n")
    assert "FLX304" in cli("lint", str(root)).stdout  # the base GitRepository follows a branch


def test_unknown_names_get_did_you_mean(tree):
    r = cli("lint", "--select", "missing-referense", str(tree))
    assert r.returncode == 2 and "did you mean `missing-reference`?" in r.stderr and r.stdout == ""
    r = cli("lint", "--ignore", "FLX99", str(tree))
    assert r.returncode == 2 and "unknown rule, prefix or slug `FLX99`" in r.stderr
    (tree / ".gitlint-flux.yaml").write_text("exlude: [vendor/**]\n")
    r = cli("lint", str(tree))
    assert r.returncode == 2 and "unknown configuration key `exlude` (did you mean `exclude`?)" in r.stderr
    (tree / ".gitlint-flux.yaml").write_text("rules:\n  prune-enabeld: off\n")
    r = cli("lint", str(tree))
    assert r.returncode == 2 and "did you mean `prune-enabled`?" in r.stderr
    (tree / ".gitlint-flux.yaml").write_text("select: [FLX1, plaintext-secrets]\n")
    r = cli("lint", str(tree))
    assert r.returncode == 2 and "did you mean `plaintext-secret`?" in r.stderr
    r = cli("lnt", str(tree))
    assert r.returncode == 2 and "unknown command `lnt` (did you mean `lint`?)" in r.stderr


# --------------------------------------------------------------------------- severity shown, statistics


def test_min_severity_hides_but_still_decides_the_exit_code(tree):
    r = cli("lint", "--no-color", "--min-severity", "warning", str(tree), cwd=tree)
    assert [line.split()[2] for line in r.stdout.splitlines()[:-1]] == ["FLX101", "FLX601"]
    assert r.stdout.splitlines()[-1].endswith("1 error, 1 warning, 0 info (1 info hidden by --min-severity warning)")
    # the hidden info finding fails the run with --fail-on info: the summary says so
    r = cli("lint", "--no-color", "--min-severity", "error", "--fail-on", "warning", str(tree), cwd=tree)
    assert r.returncode == 1
    r = cli("lint", "--no-color", "--min-severity", "error", "--ignore", "FLX101", "--fail-on", "info", str(tree),
            cwd=tree)
    assert r.returncode == 1 and r.stdout.count("\n") == 1
    assert r.stdout.strip().endswith("0 errors, 0 warnings, 0 info (1 warning, 1 info hidden by --min-severity "
                                     "error); the run fails on them (1 warning, 1 info hidden, --fail-on info)")
    # no report gets them either
    out = tree / "cq.json"
    cli("lint", "--min-severity", "error", "--report", f"codequality={out}", str(tree))
    assert [i["check_name"] for i in json.loads(out.read_text())] == ["FLX101"]
    (tree / ".gitlint-flux.yaml").write_text("min-severity: error\n")
    assert findings(cli("lint", "--format", "json", str(tree))) == [("FLX101", "error")]
    assert len(findings(cli("lint", "--format", "json", "--min-severity", "info", str(tree)))) == 3


def test_statistics(repo):
    root = git_init(repo({**TREE, "apps/kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\n  - ok.yaml\n"}))
    r = cli("lint", "--statistics", str(root))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert re.split(r"\s+", lines[0].strip()) == ["count", "code", "slug", "severity"]
    assert re.split(r"\s+", lines[1].strip()) == ["2", "FLX101", "missing-reference", "error"]
    rows = [re.split(r"\s+", line.strip()) for line in lines[2:-1]]
    assert ["1", "FLX601", "prune-enabled", "warning"] in rows and all(r[0] == "1" for r in rows)
    assert re.match(r"\d+ files linted", lines[-1])
    data = json.loads(cli("lint", "--statistics", "--format", "json", str(root)).stdout)
    assert data[0] == {"code": "FLX101", "slug": "missing-reference", "count": 2, "severity": "error"}


# --------------------------------------------------------------------------- reports CI tools read


def test_fingerprints_do_not_change_when_an_unrelated_file_is_added(repo):
    """FLX209's message counts documents and files over the whole repository; adding a file
    (here one more Widget, in a file that sorts after the first) changes that count, never
    a fingerprint nor a JUnit test name."""
    files = {**TREE, "apps/kustomization.yaml": "resources:\n  - ok.yaml\n  - gone.yaml\n  - widget.yaml\n"
                                                "  - widget2.yaml\n",
             "apps/widget2.yaml": WIDGET.format(name="w2")}
    root = git_init(repo(files))

    def run():
        junit = root / "junit.xml"
        r = cli("lint", "--format", "json", "--report", f"junit={junit}", "--fail-on", "info", str(root))
        names = {(c.get("classname"), c.get("name")) for c in ET.parse(junit).getroot().iter("testcase")
                 if c.find("failure") is not None}
        return {f["fingerprint"]: f for f in json.loads(r.stdout)["findings"]}, names

    before, names_before = run()
    assert any("2 documents in 2 files" in f["message"] for f in before.values())
    (root / "apps/zz-more.yaml").write_text(WIDGET.format(name="w3"))
    (root / "apps/kustomization.yaml").write_text((root / "apps/kustomization.yaml").read_text()
                                                   + "  - zz-more.yaml\n")
    after, names_after = run()
    assert any("3 documents in 3 files" in f["message"] for f in after.values())
    assert set(before) <= set(after), [before[k]["message"] for k in set(before) - set(after)]
    assert names_before <= names_after


def test_junit_of_a_run_with_only_info_findings_has_no_failed_case(repo):
    root = git_init(repo({**TREE, "apps/kustomization.yaml": "resources:\n  - ok.yaml\n  - widget.yaml\n",
                          "clusters/prod/apps.yaml": flux_ks("apps", "./apps")}))
    junit = root / "junit.xml"
    r = cli("lint", "--report", f"junit={junit}", str(root))
    assert r.returncode == 0 and "info FLX209" in r.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "0" and not list(suite.iter("failure"))
    case = next(c for c in suite.iter("testcase") if c.get("classname") == "apps/widget.yaml")
    assert "FLX209" in case.find("system-out").text
    r = cli("lint", "--report", f"junit={junit}", "--fail-on", "info", str(root))
    assert r.returncode == 1 and ET.parse(junit).getroot().get("failures") == "1"


# --------------------------------------------------------------------------- roots, paths, failures


def test_text_paths_are_relative_to_the_working_directory(tree):
    r = cli("lint", "--no-color", "apps", cwd=tree)
    assert r.stdout.startswith("apps/kustomization.yaml:3:5: error FLX101 ")
    r = cli("lint", "--no-color", ".", cwd=tree / "apps")
    assert r.stdout.startswith("kustomization.yaml:3:5: error FLX101 ")
    r = cli("lint", "--no-color", str(tree / "apps"), cwd=tree / "clusters")  # outside the cwd: absolute
    assert r.stdout.startswith(f"{os.path.realpath(tree)}/apps/kustomization.yaml:3:5: ")
    data = json.loads(cli("lint", "--format", "json", ".", cwd=tree / "apps").stdout)  # reports: root-relative
    assert {f["path"] for f in data["findings"]} >= {"apps/kustomization.yaml"}
    r = cli("lint", "--no-color", "--stdin-filename", "apps/kustomization.yaml", "-", cwd=tree,
            stdin=(tree / "apps/kustomization.yaml").read_text())
    assert r.stdout.startswith("apps/kustomization.yaml:3:5: error FLX101")


def test_root_discovery_outside_git(tmp_path):
    """Outside any git checkout, a file is linted in its repository's context: the nearest
    ancestor with a configuration file or a Flux bootstrap is the root."""
    files = {k: v for k, v in TREE.items()}
    repo_dir = write_tree(tmp_path / "fleet", files)  # no git: flux-system/gotk-sync.yaml marks the root
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # the directory gotk-sync.yaml's `path: ./clusters/prod` is relative to
    data = json.loads(cli("lint", "--format", "json", str(repo_dir / "clusters/prod/apps.yaml"), cwd=elsewhere).stdout)
    assert data["root"] == str(repo_dir.resolve())
    plain = write_tree(tmp_path / "plain", {"x/kustomization.yaml": "resources:\n  - gone.yaml\n",
                                            ".gitlint-flux.yaml": "{}\n"})
    data = json.loads(cli("lint", "--format", "json", str(plain / "x/kustomization.yaml"), cwd=elsewhere).stdout)
    assert data["root"] == str(plain.resolve())
    assert [f["path"] for f in data["findings"]] == ["x/kustomization.yaml"]
    bare = write_tree(tmp_path / "bare", {"a/b/kustomization.yaml": "resources:\n  - gone.yaml\n"})
    data = json.loads(cli("lint", "--format", "json", "a/b/kustomization.yaml", cwd=bare).stdout)
    assert data["root"] == str(bare.resolve())  # the working directory contains the path
    data = json.loads(cli("lint", "--format", "json", str(bare / "a/b/kustomization.yaml"), cwd=elsewhere).stdout)
    assert data["root"] == str((bare / "a/b").resolve())  # else the file's directory


def test_git_failure_is_said_once_and_the_run_goes_on(tree, tmp_path):
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "git").write_text("#!/bin/sh\necho \"fatal: detected dubious ownership in repository at '$PWD'\" >&2\n"
                              "exit 128\n")
    (fake / "git").chmod(0o755)
    r = cli("lint", "--no-color", str(tree / "apps"), cwd=tree, env={"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert r.returncode == 1
    assert r.stderr.count("git failed") == 1 and "dubious ownership" in r.stderr and "safe.directory" in r.stderr
    assert "apps/kustomization.yaml:3:5: error FLX101" in r.stdout


def test_usage_errors(tree, tmp_path):
    r = cli("lint", str(tree / "nope"))
    assert r.returncode == 2 and "nope: no such file or directory" in r.stderr
    empty = tmp_path / "empty"
    write_tree(empty, {"README.md": "# nothing\n"})
    r = cli("lint", str(empty))
    assert r.returncode == 2 and "no YAML file in" in r.stderr and r.stdout == ""
    r = cli("lint", "--kubernetes-version", "1.99", str(tree))
    assert r.returncode == 2 and re.search(r"the bundled schemas know \d+\.\d+ to \d+\.\d+", r.stderr)
    r = cli("lint", "--kubernetes-version", "latest", str(tree))
    assert r.returncode == 2 and "not a version" in r.stderr
    r = cli("lint", "--bad-flag", str(tree))
    assert r.returncode == 2 and r.stderr.startswith("usage: gitlint-flux lint ") and "--bad-flag" in r.stderr
    r = cli("graph", "--bad-flag")
    assert r.returncode == 2 and r.stderr.startswith("usage: gitlint-flux graph ")


def test_every_file_excluded_says_so_and_exits_0(tree):
    (tree / ".gitlint-flux.yaml").write_text("exclude: ['apps/**']\n")
    r = cli("lint", "--pre-commit", "apps/kustomization.yaml", "apps/ok.yaml", cwd=tree)
    assert r.returncode == 0 and "excluded by the configuration" in r.stderr and "all 2 files" in r.stderr


def test_version_help_and_exit_codes(tree):
    from gitlint_flux import __version__

    for args in (["version"], ["--version"]):
        r = cli(*args)
        lines = r.stdout.splitlines()
        assert r.returncode == 0 and lines[0] == f"gitlint-flux {__version__}"
        assert re.match(r"Kubernetes schemas: \d+\.\d+ to \d+\.\d+ \(kubernetes-validate ", lines[1])
        index = json.loads((ROOT / "gitlint_flux/schemas/index.json").read_text())
        assert lines[2] == f"Flux CRD schemas: {index['flux']}"
        assert lines[3].startswith("CRD catalog: ")
    r = cli("help")
    assert r.returncode == 0 and "exit codes:" in r.stdout and "COMMAND" in r.stdout
    r = cli("help", "lint")
    assert r.returncode == 0 and r.stdout.startswith("usage: gitlint-flux lint") and "--min-severity" in r.stdout
    assert "exit codes:" in cli("lint", "--help").stdout and "exit codes:" in cli("--help").stdout
    r = cli("help", "grap")
    assert r.returncode == 2 and "did you mean `graph`?" in r.stderr


def test_summary_plurals(repo):
    root = git_init(repo({"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"}))
    r = cli("lint", str(root))
    assert r.stdout.splitlines()[-1] == "1 file linted, 0 skipped, 1 document: 0 errors, 0 warnings, 0 info"


# --------------------------------------------------------------------------- graph


def test_graph_outline_by_default_and_all(repo):
    files = {
        **TREE,
        "clusters/prod/infra.yaml": flux_ks("infra", "./apps"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", extra="  dependsOn:\n    - name: infra\n"
                                           "    - name: nowhere\n"),
        "clusters/prod/release.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
                                      "  name: r\n  namespace: flux-system\nspec:\n  interval: 1h\n  chart:\n"
                                      "    spec:\n      chart: c\n      version: 1.0.0\n      sourceRef:\n"
                                      "        kind: HelmRepository\n        name: charts\n",
    }
    root = git_init(repo(files))
    data = json.loads(cli("graph", "--format", "json", str(root)).stdout)
    kinds = {n["kind"] for n in data["nodes"]}
    assert kinds == {"GitRepository", "Kustomization"}
    deps = {(e["from"].split("|")[3], e["target"].split("/")[-1], e["to"] is None)
            for e in data["edges"] if e["kind"] == "dependsOn"}
    assert deps == {("apps", "infra", False), ("apps", "nowhere", True)}
    data = json.loads(cli("graph", "--all", "--format", "json", str(root)).stdout)
    assert "HelmRelease" in {n["kind"] for n in data["nodes"]}
    mermaid = cli("graph", str(root)).stdout
    assert mermaid.startswith("flowchart LR") and "-- dependsOn -->" in mermaid and "missing: " in mermaid
    assert "HelmRelease" not in mermaid
    help_text = cli("graph", "--help").stdout
    for option in ("--format", "--all", "--output", "--root", "--config", "PATH"):
        assert option in help_text
