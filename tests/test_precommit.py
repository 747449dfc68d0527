"""pre-commit, for real: the hooks of .pre-commit-hooks.yaml installed by pre-commit from
this checkout, run by `git commit` in temporary git repositories.

pre-commit installs a hook repository from a commit, so the hooks are taken from a
snapshot commit of the working tree (tracked and untracked files, as `git ls-files -co
--exclude-standard` lists them): what is tested is what is on disk, committed or not.
One PRE_COMMIT_HOME is shared by the session, so the hook's environment (`pip install`
of the project, which fetches PyYAML and the build backend from the package index) is
built once; the tests skip with the reason when that build fails for want of a network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import flux_ks, gotk_sync, write_tree


ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
NETWORK_ERRORS = (
    "Temporary failure in name resolution", "Name or service not known", "Network is unreachable",
    "NewConnectionError", "Max retries exceeded", "Connection refused", "ConnectTimeout", "ReadTimeout",
    "No matching distribution found", "Could not find a version that satisfies", "ProxyError", "SSLError",
)
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
# the hook runs `gitlint-flux lint --pre-commit`: the engine/CLI change that comes with it


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1", TERM="dumb")
    env.update(extra)
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    r = _run(["git", *args], cwd, env or _env())
    assert r.returncode == 0, r.stderr
    return r


# --------------------------------------------------------------------------- session fixtures


@pytest.fixture(scope="session")
def git_config(tmp_path_factory) -> Path:
    """An empty global git configuration: no user hooks, templates or signing."""
    p = tmp_path_factory.mktemp("gitconfig") / "config"
    p.write_text("[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n")
    return p


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory, git_config) -> tuple[Path, str]:
    """A git repository whose single commit is this checkout's working tree."""
    env = _env(GIT_CONFIG_GLOBAL=str(git_config))
    snap = tmp_path_factory.mktemp("hook-repo")
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT, env)
    if listed.returncode == 0:
        for rel in filter(None, listed.stdout.split("\0")):
            src = ROOT / rel
            if src.is_file():
                (snap / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, snap / rel)
    else:  # not a git checkout (an unpacked source archive)
        shutil.copytree(ROOT, snap, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".benchmarks"))
    _git(snap, "init", "-q", env=env)
    _git(snap, "add", "-A", env=env)
    _git(snap, "commit", "-q", "--no-verify", "-m", "snapshot", env=env)
    return snap, _git(snap, "rev-parse", "HEAD", env=env).stdout.strip()


@pytest.fixture(scope="session")
def pc_env(tmp_path_factory, hook_repo, git_config) -> dict[str, str]:
    """The environment for pre-commit, with the hook environment built once."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = _env(PRE_COMMIT_HOME=str(home), GIT_CONFIG_GLOBAL=str(git_config))
    probe = tmp_path_factory.mktemp("probe")
    _git(probe, "init", "-q", env=env)
    (probe / ".pre-commit-config.yaml").write_text(_config(hook_repo))
    r = _run([*PRE_COMMIT, "install-hooks"], probe, env, timeout=600)
    if r.returncode != 0:
        log = (home / "pre-commit.log").read_text(errors="replace") if (home / "pre-commit.log").exists() else ""
        output = r.stdout + r.stderr + log
        if any(e in output for e in NETWORK_ERRORS):
            pytest.skip("pre-commit could not build the hook environment (pip install of the project needs the "
                        "package index, unreachable here): " + next(e for e in NETWORK_ERRORS if e in output))
        pytest.fail(f"pre-commit install-hooks failed:\n{output}")
    return env


def _config(hook_repo: tuple[Path, str]) -> str:
    path, rev = hook_repo
    return yaml.safe_dump({"repos": [{
        "repo": str(path), "rev": rev,
        "hooks": [{"id": "gitlint-flux"}, {"id": "gitlint-flux-all", "stages": ["manual"]}],
    }]}, sort_keys=False)


# --------------------------------------------------------------------------- a Flux repository

HELMREPO = """
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 1h
  url: https://stefanprodan.github.io/podinfo
"""

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: default
data:
  greeting: hello
"""

RELEASE = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 10m
  targetNamespace: default
  chart:
    spec:
      chart: podinfo
      version: 6.7.1
      sourceRef:
        kind: HelmRepository
        name: podinfo
        namespace: flux-system
"""

BASE = {
    "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
    "clusters/prod/infra.yaml": flux_ks("infra", "./infra"),
    "clusters/prod/apps.yaml": flux_ks("apps", "./apps", extra="  dependsOn:\n    - name: infra\n"),
    "infra/kustomization.yaml": "resources:\n  - sources.yaml\n",
    "infra/sources.yaml": HELMREPO,
    "apps/kustomization.yaml": "resources:\n  - config.yaml\n",
    "apps/config.yaml": CONFIGMAP.replace("{name}", "config"),
    # an error already in the repository, in a file no commit below touches (applied: a
    # file no root applies has its findings capped at warning)
    "clusters/prod/legacy.yaml": flux_ks("legacy", "./legacy"),
    "legacy/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n  name: older\n",
    ".gitlint-flux.yaml": "exclude:\n  - vendor/**\n",
}


class Repo:
    def __init__(self, path: Path, env: dict[str, str]):
        self.path, self.env = path, env

    def write(self, files: dict[str, str]) -> None:
        write_tree(self.path, files)

    def git(self, *args: str) -> subprocess.CompletedProcess:
        return _git(self.path, *args, env=self.env)

    def commit(self) -> subprocess.CompletedProcess:
        """`git commit` with the installed hook; returncode, and stdout+stderr as .out."""
        r = _run(["git", "commit", "-q", "-m", "change"], self.path, self.env)
        r.out = r.stdout + r.stderr
        return r


@pytest.fixture
def flux_repo(tmp_path, hook_repo, pc_env) -> Repo:
    repo = Repo(tmp_path / "fleet", pc_env)
    repo.path.mkdir()
    repo.git("init", "-q")
    repo.write({**BASE, ".pre-commit-config.yaml": _config(hook_repo)})
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "fleet")
    r = _run([*PRE_COMMIT, "install"], repo.path, pc_env)
    assert r.returncode == 0, r.stdout + r.stderr
    return repo


# --------------------------------------------------------------------------- the hook definitions


def test_hook_manifest_is_valid_and_as_documented():
    r = subprocess.run([*PRE_COMMIT, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    h = hooks["gitlint-flux"]
    assert h["language"] == "python" and "types_or" not in h and h["require_serial"] is True
    files = re.compile(h["files"])
    assert all(files.search(p) for p in ("a.yaml", "apps/b.yml", "Kustomization", "apps/Kustomization"))
    assert not any(files.search(p) for p in ("README.md", "apps/kustomization.yaml.bak", "MyKustomization"))
    assert h.get("pass_filenames", True) is True
    assert h["entry"].split()[:2] == ["gitlint-flux", "lint"] and "--pre-commit" in h["entry"].split()
    assert h["always_run"] is True  # a commit that only deletes files is checked too
    a = hooks["gitlint-flux-all"]
    assert a["language"] == "python" and a["pass_filenames"] is False and "--pre-commit" not in a["entry"]


# --------------------------------------------------------------------------- the six scenarios, by git commit


def test_extensionless_kustomization_file_is_checked(flux_repo):
    """kustomize also reads a file named `Kustomization`; pre-commit does not type it as
    YAML, so the hook's `files:` pattern names it."""
    flux_repo.git("rm", "-q", "apps/kustomization.yaml")
    flux_repo.write({"apps/Kustomization": "resources:\n  - config.yaml\n  - missing.yaml\n"})
    flux_repo.git("add", "apps")
    r = flux_repo.commit()
    assert r.returncode != 0, r.out
    assert "apps/Kustomization:3:5: error FLX101" in r.out


def test_clean_commit_passes(flux_repo):
    flux_repo.write({"apps/more.yaml": CONFIGMAP.replace("{name}", "more"),
                     "apps/kustomization.yaml": "resources:\n  - config.yaml\n  - more.yaml\n"})
    flux_repo.git("add", "apps")
    r = flux_repo.commit()
    assert r.returncode == 0, r.out
    assert "gitlint-flux" in r.out and "Passed" in r.out


def test_broken_manifest_fails_with_the_finding(flux_repo):
    flux_repo.write({"apps/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
                     "apps/kustomization.yaml": "resources:\n  - config.yaml\n  - bad.yaml\n"})
    flux_repo.git("add", "apps")
    r = flux_repo.commit()
    assert r.returncode != 0, r.out
    assert "Failed" in r.out
    assert "apps/bad.yaml:5:3: error FLX002" in r.out
    assert "legacy/broken.yaml" not in r.out  # the untouched file's error is not this commit's


def test_error_in_an_untouched_file_does_not_fail_the_commit(flux_repo):
    flux_repo.write({"apps/config.yaml": CONFIGMAP.replace("{name}", "config").replace("hello", "bonjour")})
    flux_repo.git("add", "apps/config.yaml")
    r = flux_repo.commit()
    assert r.returncode == 0, r.out
    assert "legacy/broken.yaml" not in r.out
    # ...while the whole-repository hook does see it
    m = _run([*PRE_COMMIT, "run", "--hook-stage", "manual", "gitlint-flux-all"], flux_repo.path, flux_repo.env)
    assert m.returncode == 1, m.stdout + m.stderr
    assert "legacy/broken.yaml:5:3: error FLX002" in m.stdout


def test_staged_file_referencing_committed_objects_has_no_dangling_reference(flux_repo):
    flux_repo.write({"apps/release.yaml": RELEASE,
                     "apps/kustomization.yaml": "resources:\n  - config.yaml\n  - release.yaml\n",
                     # a new Flux Kustomization that depends on a committed one
                     "clusters/prod/extra.yaml": flux_ks("extra", "./extra", extra="  dependsOn:\n    - name: infra\n"),
                     "extra/kustomization.yaml": "resources:\n  - config.yaml\n",
                     "extra/config.yaml": CONFIGMAP.replace("{name}", "extra")})
    flux_repo.git("add", "-A")
    r = flux_repo.commit()
    assert r.returncode == 0, r.out
    assert "dangling" not in r.out and "FLX" not in r.out


def test_excluded_file_passed_explicitly_is_silent(flux_repo):
    flux_repo.write({"vendor/upstream.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n"})
    flux_repo.git("add", "vendor")
    r = flux_repo.commit()
    assert r.returncode == 0, r.out
    assert "vendor/" not in r.out and "FLX" not in r.out


def test_deleting_a_referenced_file_is_caught(flux_repo):
    flux_repo.git("rm", "-q", "apps/config.yaml")  # the commit stages no YAML file at all
    r = flux_repo.commit()
    assert r.returncode != 0, r.out
    assert "apps/kustomization.yaml:2:5: error FLX101" in r.out and "config.yaml" in r.out
    assert "legacy/broken.yaml" not in r.out


def test_renaming_a_referenced_file_is_caught(flux_repo):
    flux_repo.git("mv", "apps/config.yaml", "apps/settings.yaml")
    r = flux_repo.commit()
    assert r.returncode != 0, r.out
    assert "apps/kustomization.yaml:2:5: error FLX101" in r.out


# --------------------------------------------------------------------------- try-repo, as the README says


def test_try_repo(tmp_path, hook_repo, pc_env):
    """`pre-commit try-repo` against the project checkout when it is committed as is (CI's
    clone); in a working tree with uncommitted files, against the snapshot (try-repo only
    carries staged and modified tracked files, never untracked ones)."""
    clean = _run(["git", "status", "--porcelain", "--untracked-files=normal"], ROOT, {**pc_env, "GIT_OPTIONAL_LOCKS": "0"})
    source = ROOT if clean.returncode == 0 and not clean.stdout.strip() else hook_repo[0]
    repo = Repo(tmp_path / "fleet", pc_env)
    repo.path.mkdir()
    repo.git("init", "-q")
    repo.write({**BASE, "apps/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
                "apps/kustomization.yaml": "resources:\n  - config.yaml\n  - bad.yaml\n"})
    repo.git("add", "-A")
    r = _run([*PRE_COMMIT, "try-repo", str(source), "gitlint-flux", "--files", "apps/bad.yaml", "apps/config.yaml"],
             repo.path, pc_env, timeout=600)
    out = r.stdout + r.stderr
    if r.returncode not in (0, 1) or "An error has occurred" in out:
        if any(e in out for e in NETWORK_ERRORS):
            pytest.skip("pre-commit try-repo could not build the hook environment (no network)")
        pytest.fail(out)
    assert r.returncode == 1, out
    assert "apps/bad.yaml:5:3: error FLX002" in out and "legacy/" not in out


# --------------------------------------------------------------------------- --pre-commit without pre-commit (fast)


def _cli(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gitlint_flux", "lint", "--pre-commit", *args], cwd=repo,
                          capture_output=True, text=True, env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
                          timeout=60)


@pytest.fixture
def plain_repo(tmp_path, git_config) -> Repo:
    repo = Repo(tmp_path / "fleet", _env(GIT_CONFIG_GLOBAL=str(git_config)))
    repo.path.mkdir()
    repo.git("init", "-q")
    repo.write(BASE)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "fleet")
    return repo


def test_pre_commit_mode_with_nothing_to_check_is_silent(plain_repo):
    r = _cli(plain_repo.path)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_pre_commit_mode_deleted_flux_path_directory(plain_repo):
    plain_repo.git("rm", "-q", "-r", "apps")  # every file the `apps` Kustomization's spec.path names
    r = _cli(plain_repo.path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "clusters/prod/apps.yaml:" in r.stdout and "FLX105" in r.stdout
    assert "legacy/" not in r.stdout


def test_pre_commit_mode_from_ref_to_ref(plain_repo):
    """`pre-commit run --from-ref A --to-ref B` (CI) names the range in the environment."""
    plain_repo.git("rm", "-q", "apps/config.yaml")
    plain_repo.git("commit", "-q", "-m", "drop config")
    r = _cli(plain_repo.path, env={"PRE_COMMIT_FROM_REF": "HEAD~1", "PRE_COMMIT_TO_REF": "HEAD"})
    assert r.returncode == 1 and "apps/kustomization.yaml:2:5: error FLX101" in r.stdout, r.stdout + r.stderr
    assert _cli(plain_repo.path).stdout == ""  # nothing staged: nothing to say
