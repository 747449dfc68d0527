"""The command line: formats, exit codes, configuration, selection, stdin."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import flux_ks, git_init, gotk_sync

from gitlint_flux.cli import main
from gitlint_flux.docgen import rules_markdown

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "homelab"
SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text())


def run_cli(*args, stdin=None, env=None, cwd=None):
    e = {**os.environ, **(env or {})}
    e.pop("NO_COLOR", None) if env is None or "NO_COLOR" not in env else None
    return subprocess.run([sys.executable, "-m", "gitlint_flux", *args], input=stdin, capture_output=True,
                          text=True, env=e, cwd=cwd, timeout=60)


@pytest.fixture
def broken(repo):
    return git_init(repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": "resources:\n  - ok.yaml\n  - gone.yaml\n  - ünï còde/bad file.yaml\n",
        "apps/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n",
        "apps/ünï còde/bad file.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n",
    }))


def test_example_repository_text_output():
    """The first run: one finding of each family, each on the line after its `deliberate
    defect` comment; paths relative to the working directory."""
    r = run_cli("lint", "--root", "examples/homelab", "examples/homelab", cwd=str(ROOT))
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:-1] == sorted(lines[:-1], key=lambda s: (s.split(":")[0], int(s.split(":")[1]), int(s.split(":")[2])))
    codes = [line.split()[2] for line in lines[:-1]]
    assert codes == ["FLX105", "FLX402", "FLX301", "FLX101", "FLX002", "FLX501", "FLX701", "FLX201", "FLX104",
                     "FLX001"]
    assert lines[0] == ("examples/homelab/flux/manifests/01-bootstrap/flux-system/layers.yaml:44:9: error FLX105 "
                        "spec.path `./flux/manifests/04-app` does not exist in this repository (resolved to "
                        "`flux/manifests/04-app`) [path-missing]")
    for line in lines[:-1]:
        path, ln = line.split(":")[0], int(line.split(":")[1])
        text = (ROOT / path).read_text().splitlines()
        if not line.split()[2] in ("FLX104",):  # a Helm values file: the whole file is the defect
            assert any("deliberate defect" in t for t in text[max(0, ln - 4):ln - 1]), line
    assert lines[-1] == "20 files linted, 0 skipped, 23 documents: 7 errors, 3 warnings, 0 info"
    assert "\033[" not in r.stdout
    readme = (ROOT / "README.md").read_text()
    assert r.stdout in readme  # the README shows the real output


def test_json_format_matches_its_schema(broken):
    r = run_cli("lint", "--format", "json", str(broken))
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    jsonschema.validate(data, SCHEMA)
    assert data["version"] == 1 and data["tool"]["name"] == "gitlint-flux"
    rules = {(f["rule"], f["path"], f["line"], f["column"]) for f in data["findings"]}
    assert rules == {("FLX101", "apps/kustomization.yaml", 3, 5), ("FLX002", "apps/ünï còde/bad file.yaml", 5, 3)}
    assert data["summary"]["errors"] == 2
    f101 = next(f for f in data["findings"] if f["rule"] == "FLX101")
    assert f101["url"].endswith("#flx101-missing-reference") and f101["hint"]
    assert len({f["fingerprint"] for f in data["findings"]}) == 2


def test_fingerprint_ignores_line_moves(repo):
    files = {
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/kustomization.yaml": "resources:\n  - flux-system\n  - gone.yaml\n",
    }
    root = repo(files)
    a = json.loads(run_cli("lint", "--format", "json", str(root)).stdout)["findings"]
    (root / "clusters/prod/kustomization.yaml").write_text("# moved\n\nresources:\n  - flux-system\n  - gone.yaml\n")
    b = json.loads(run_cli("lint", "--format", "json", str(root)).stdout)["findings"]
    assert a[0]["line"] != b[0]["line"]
    assert a[0]["fingerprint"] == b[0]["fingerprint"]


def test_exit_codes_and_fail_on(broken, repo, tmp_path):
    assert run_cli("lint", str(broken), "--fail-on", "never").returncode == 0
    assert run_cli("lint", str(broken), "--fail-on", "warning").returncode == 1
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    r = run_cli("lint", str(clean))
    assert r.returncode == 0 and r.stdout.strip().endswith("0 errors, 0 warnings, 0 info")
    assert run_cli("lint", str(tmp_path / "nope")).returncode == 2
    assert run_cli("lint", "--format", "xml", str(clean)).returncode == 2


def test_selected_file_reports_only_its_findings(broken):
    r = run_cli("lint", "--format", "json", str(broken / "apps" / "kustomization.yaml"))
    data = json.loads(r.stdout)
    assert [(f["rule"], f["path"]) for f in data["findings"]] == [("FLX101", "apps/kustomization.yaml")]
    assert r.returncode == 1


def test_output_file_and_quiet(broken, tmp_path):
    out = tmp_path / "report.txt"
    r = run_cli("lint", "-q", "-o", str(out), str(broken))
    assert r.stdout == "" and r.returncode == 1
    text = out.read_text()
    assert len(text.splitlines()) == 2 and "files linted" not in text


def test_color_only_on_request(broken):
    from gitlint_flux.report import render
    from gitlint_flux.engine import Options, run
    report, _ = run(Options(paths=[str(broken)]))
    assert "\033[31m" in render("text", report, color=True)
    r = run_cli("lint", str(broken), env={"NO_COLOR": "1"})
    assert "\033[" not in r.stdout


def test_stdin_filename_replaces_the_file(broken):
    target = broken / "apps" / "ok.yaml"
    buf = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  name: dup\n"
    r = run_cli("lint", "--format", "json", "--stdin-filename", str(target), "-", stdin=buf)
    data = json.loads(r.stdout)
    assert [(f["rule"], f["path"], f["line"]) for f in data["findings"]] == [("FLX002", "apps/ok.yaml", 5)]
    assert target.read_text().count("name:") == 1  # the file on disk is untouched


def test_config_unknown_key_is_a_usage_error(broken):
    (broken / ".gitlint-flux.yaml").write_text("exclud:\n  - x\n")
    r = run_cli("lint", str(broken))
    assert r.returncode == 2
    assert "unknown configuration key `exclud`" in r.stderr and ".gitlint-flux.yaml" in r.stderr


def test_config_exclude_applies_to_explicit_files(broken):
    (broken / ".gitlint-flux.yaml").write_text("exclude:\n  - 'apps/ünï còde/**'\n")
    r = run_cli("lint", "--format", "json", str(broken / "apps" / "ünï còde" / "bad file.yaml"))
    assert json.loads(r.stdout)["findings"] == []


def test_config_in_pyproject_and_rule_override(broken):
    (broken / "pyproject.toml").write_text('[tool.gitlint-flux]\nrules = { FLX002 = "warning", missing-reference = "off" }\n')
    data = json.loads(run_cli("lint", "--format", "json", str(broken)).stdout)
    assert [(f["rule"], f["severity"]) for f in data["findings"]] == [("FLX002", "warning")]
    (broken / ".gitlint-flux.yaml").write_text("{}\n")  # beats pyproject.toml in the same directory
    data = json.loads(run_cli("lint", "--format", "json", str(broken)).stdout)
    assert sorted(f["rule"] for f in data["findings"]) == ["FLX002", "FLX101"]


def test_rules_and_explain(capsys):
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "FLX101  missing-reference" in out
    assert main(["explain", "missing-reference"]) == 0
    assert "Flux applies nothing of that Kustomization" in capsys.readouterr().out
    assert main(["explain", "FLX999"]) == 2


def test_graph_command_formats(broken):
    r = run_cli("graph", "--format", "json", str(broken))
    data = json.loads(r.stdout)
    assert [root["path"] for root in data["roots"]] == ["clusters/prod"]
    assert {(n["kind"], n["name"]) for n in data["nodes"] if n["scope"] == "clusters/prod"} >= {
        ("Kustomization", "flux-system"), ("Kustomization", "apps"), ("GitRepository", "flux-system")}
    m = run_cli("graph", str(broken)).stdout
    assert m.startswith("flowchart LR") and 'subgraph s0["clusters/prod"]' in m
    d = run_cli("graph", "--format", "dot", str(broken)).stdout
    assert d.startswith("digraph flux {") and d.rstrip().endswith("}")


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("gitlint-flux ")


def test_docs_rules_md_is_current():
    assert (ROOT / "docs" / "rules.md").read_text() == rules_markdown(), \
        "docs/rules.md is stale: run `python -m gitlint_flux.docgen > docs/rules.md`"


def test_a_failing_rule_becomes_an_internal_error_finding(broken, monkeypatch, capsys):
    from gitlint_flux.rules.structure import NotApplied

    def boom(self, ctx):
        for sf in ctx.linted_files():
            if sf.objects:
                ctx.current = sf.objects[0]
                raise KeyError("spec")
        return iter(())

    monkeypatch.setattr(NotApplied, "check", boom)
    assert main(["lint", "--format", "json", str(broken)]) == 3
    data = json.loads(capsys.readouterr().out)
    ie = [f for f in data["findings"] if f["rule"] == "FLX000"]
    assert len(ie) == 1 and "rule FLX107 (not-applied) failed on" in ie[0]["message"]
    assert "KeyError" in ie[0]["message"] and "Traceback" not in ie[0]["message"]
    # the other rules still ran
    assert {f["rule"] for f in data["findings"]} >= {"FLX101", "FLX002"}
    assert main(["lint", "--debug", "--format", "json", str(broken)]) == 3
    assert "Traceback" in capsys.readouterr().out


def test_root_alone_lints_that_root_from_anywhere(tmp_path):
    """`--root DIR` without a PATH lints DIR even when run from another directory; a PATH
    outside the root is a usage error, not an empty report."""
    r = run_cli("lint", "--root", str(EXAMPLE), cwd=str(tmp_path), env={"PYTHONPATH": str(ROOT)})
    assert r.returncode == 1, r.stderr
    assert r.stdout.splitlines()[-1].endswith("7 errors, 3 warnings, 0 info")
    r = run_cli("lint", "--root", str(EXAMPLE), str(tmp_path))
    assert r.returncode == 2 and "outside the root" in r.stderr and r.stdout == ""


def test_pre_commit_with_a_root_ignores_what_the_commit_touches_beside_it(repo, monkeypatch, capsys):
    """`args: [--root, flux]` in pre-commit: a commit that deletes (or stages) files beside
    the Flux tree has nothing to report there; one in the tree is still checked."""
    import gitlint_flux.cli as cli_mod

    root = repo({
        "flux/clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "flux/clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "flux/apps/kustomization.yaml": "resources:\n  - ok.yaml\n",
        "flux/apps/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n",
        "docs/notes.yaml": "a: 1\n",
    })
    monkeypatch.chdir(root)
    monkeypatch.setattr(cli_mod, "_removed_by_commit", lambda: (str(root), ["docs/old.md"]))
    assert main(["lint", "--pre-commit", "--no-cache", "--root", "flux"]) == 0
    assert main(["lint", "--pre-commit", "--no-cache", "--root", "flux", "docs/notes.yaml"]) == 0
    (root / "flux/apps/ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n")
    assert main(["lint", "--pre-commit", "--no-cache", "--root", "flux", "docs/notes.yaml", "flux/apps/ok.yaml"]) == 1
    assert "apps/ok.yaml:5:3: error FLX002" in capsys.readouterr().out


def test_closed_standard_output_is_a_message_not_a_traceback(broken, tmp_path):
    r = subprocess.run(["sh", "-c", f'"{sys.executable}" -m gitlint_flux lint --cache-dir "{tmp_path}/c" "{broken}" >&-'],
                       capture_output=False, stderr=subprocess.PIPE, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "standard output is closed" in r.stderr
