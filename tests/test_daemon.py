"""`lint --daemon`: a background process answers as the command would, sees what changed on
disk, survives bad requests, and is reached only through a private directory."""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import CORPUS, flux_ks, git_init, gotk_sync, needs_corpus

from gitlint_flux import daemon
from gitlint_flux.cli import COMMANDS
from gitlint_flux.cli import _main as cli_main

ROOT = Path(__file__).resolve().parent.parent

HELMRELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: apps
spec:
  interval: 30m
  chart:
    spec:
      chart: web
      sourceRef:
        kind: HelmRepository
        name: charts
        namespace: flux-system
"""

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\ndata:\n  a: \"1\"\n"


@pytest.fixture
def tree(repo):
    return git_init(repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": "resources:\n  - settings.yaml\n  - web.yaml\n",
        "apps/settings.yaml": CONFIGMAP,
        "apps/web.yaml": HELMRELEASE,
    }))


@pytest.fixture
def cache_dir():
    """A short cache directory (a socket path is at most 107 bytes); its daemon stopped after."""
    d = tempfile.mkdtemp(prefix="glfd-", dir="/tmp")
    yield d
    ddir = daemon.daemon_dir(d)
    answer = daemon.ask(ddir, {"status": True}, timeout=5) if os.path.isdir(ddir) else None
    if answer is not None:
        daemon.ask(ddir, {"stop": True}, timeout=5)
        _gone(answer["pid"])
    shutil.rmtree(d, ignore_errors=True)


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a child of a test's process (`daemon serve` run directly) is reaped here
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    os.kill(pid, 9)
    return False


def cli(*args, stdin: str | None = None, env: dict | None = None, cwd=None):
    e = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", daemon.ENV)}
    e["PYTHONPATH"] = str(ROOT) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "gitlint_flux", *args], input=stdin, capture_output=True,
                          text=True, env=e, cwd=cwd, timeout=120)


def status(cache: str):
    return daemon.ask(daemon.daemon_dir(cache), {"status": True}, timeout=10)


def started(cache: str, root: Path) -> dict:
    p = cli("daemon", "start", "--cache-dir", cache, "--root", str(root))
    assert p.returncode == 0, p.stderr
    answer = status(cache)
    assert answer is not None and answer["repositories"] == [os.path.realpath(root)]
    return answer


def same(args: list[str], cache: str, stdin: str | None = None, cwd=None):
    """The daemon's answer and the command's own run are the same; the daemon answered."""
    before = status(cache)["requests"]
    by_daemon = cli("lint", "--daemon", "--cache-dir", cache, *args, stdin=stdin, cwd=cwd)
    assert status(cache)["requests"] == before + 1, by_daemon.stderr
    alone = cli("lint", "--no-cache", *args, stdin=stdin, cwd=cwd)
    assert (by_daemon.returncode, by_daemon.stdout, by_daemon.stderr) == \
        (alone.returncode, alone.stdout, alone.stderr)
    return by_daemon


def test_answers_as_the_command(tree, cache_dir):
    started(cache_dir, tree)
    web = str(tree / "apps" / "web.yaml")
    # the HelmRepository the release names exists nowhere: an error, on the editor's buffer
    p = same(["--stdin-filename", web, "-"], cache_dir, stdin=HELMRELEASE)
    assert p.returncode == 1 and "FLX" in p.stdout and "web.yaml:13:" in p.stdout
    # an edited buffer, with a line of non-ASCII text before a new finding
    edited = HELMRELEASE.replace("  interval: 30m\n", "  # ünïcödé ✓\n  interval: 5x\n")
    p = same(["--stdin-filename", web, "-", "--format", "json"], cache_dir, stdin=edited)
    found = {(f["rule"], f["line"]) for f in json.loads(p.stdout)["findings"]}
    assert ("FLX204", 8) in found
    # every format, paths, the selection and the view options: the command's own code runs
    for extra in (["--format", "sarif"], ["--format", "codequality"], ["--format", "junit"],
                  ["--select", "FLX2", "--quiet"], ["--min-severity", "error", "--statistics"]):
        same(["--stdin-filename", web, "-", *extra], cache_dir, stdin=edited)
    same([str(tree)], cache_dir)
    same(["apps/web.yaml", "--format", "json"], cache_dir, cwd=tree)
    # standard error in its place beside standard output (--stats goes to stderr first)
    p = cli("lint", "--daemon", "--cache-dir", cache_dir, "--stats", str(tree))
    assert "the daemon's run" in p.stderr and p.returncode == 1


def test_usage_errors_as_the_command(tree, cache_dir):
    started(cache_dir, tree)
    p = same(["--format", "nope", str(tree)], cache_dir)
    assert p.returncode == 2 and "invalid choice" in p.stderr
    p = same(["--stdin-filename", str(tree / "apps" / "web.yaml"), "a.yaml"], cache_dir)
    assert p.returncode == 2


def test_what_changed_on_disk_is_seen(tree, cache_dir):
    started(cache_dir, tree)
    settings = tree / "apps" / "settings.yaml"
    first = same([str(tree), "--format", "json"], cache_dir)
    assert not [f for f in json.loads(first.stdout)["findings"] if f["path"] == "apps/settings.yaml"]
    # the same size and modification time, another content: the file was read moments
    # ago, so its content is compared (a timestamp tick may hide a change)
    st = settings.stat()
    settings.write_text(CONFIGMAP.replace("name: settings", "name: Settings"))
    os.utime(settings, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert settings.stat().st_size == st.st_size and settings.stat().st_mtime_ns == st.st_mtime_ns
    second = same([str(tree), "--format", "json"], cache_dir)
    assert [f for f in json.loads(second.stdout)["findings"] if f["path"] == "apps/settings.yaml"]
    # a new file (another listing): the repository is loaded again
    (tree / "apps" / "repo.yaml").write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n"
        "  namespace: flux-system\nspec:\n  interval: 1h\n  url: https://charts.example.com\n")
    (tree / "apps" / "kustomization.yaml").write_text("resources:\n  - settings.yaml\n  - web.yaml\n  - repo.yaml\n")
    third = same([str(tree), "--format", "json"], cache_dir)
    assert third.stdout != second.stdout
    # the configuration: read again at every run
    (tree / ".gitlint-flux.yaml").write_text("exclude:\n  - apps/settings.yaml\n")
    fourth = same([str(tree), "--format", "json"], cache_dir)
    assert not [f for f in json.loads(fourth.stdout)["findings"] if f["path"] == "apps/settings.yaml"]
    # a file removed
    (tree / "apps" / "repo.yaml").unlink()
    same([str(tree), "--format", "json"], cache_dir)


def test_the_first_run_starts_it(tree, cache_dir):
    web = str(tree / "apps" / "web.yaml")
    assert status(cache_dir) is None
    env = {daemon.ENV: "1"}
    first = cli("lint", "--cache-dir", cache_dir, "--stdin-filename", web, "-", stdin=HELMRELEASE, env=env)
    alone = cli("lint", "--no-cache", "--stdin-filename", web, "-", stdin=HELMRELEASE)
    assert (first.returncode, first.stdout, first.stderr) == (alone.returncode, alone.stdout, alone.stderr)
    deadline = time.monotonic() + 30
    while status(cache_dir) is None or not status(cache_dir)["repositories"]:
        assert time.monotonic() < deadline, "no daemon started"
        time.sleep(0.1)
    assert status(cache_dir)["repositories"] == [os.path.realpath(tree)]
    n = status(cache_dir)["requests"]
    p = cli("lint", "--cache-dir", cache_dir, "--stdin-filename", web, "-", stdin=HELMRELEASE, env=env)
    assert p.stdout == alone.stdout and status(cache_dir)["requests"] == n + 1
    # --no-daemon wins over the environment; --fix is never handed over
    cli("lint", "--no-daemon", "--cache-dir", cache_dir, str(tree), env=env)
    cli("lint", "--daemon", "--fix", "--diff", "--cache-dir", cache_dir, str(tree))
    assert status(cache_dir)["requests"] == n + 1


def _raw(path: str, payload: bytes) -> bytes:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    try:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:  # closed with the request unread: no answer either
                b = b""
            if not b:
                return b"".join(chunks)
            chunks.append(b)
    finally:
        s.close()


def _framed(obj) -> bytes:
    data = json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data


def test_bad_requests_leave_it_serving(tree, cache_dir):
    started(cache_dir, tree)
    path = os.path.join(daemon.daemon_dir(cache_dir), daemon.SOCKET)
    assert _raw(path, b"") == b""  # closed at once: no answer
    assert _raw(path, b"\xff\xff\xff\xff" + b"x" * 100) == b""  # a length beyond the limit
    assert _raw(path, struct.pack(">I", 10) + b"not json!!") == b""
    assert _raw(path, b"GET / HTTP/1.1\r\n\r\n") == b""
    for bad in ([1, 2], {"protocol": 99}, {"protocol": daemon.PROTOCOL, "argv": "lint", "cwd": "/", "env": {},
                                          "tty": [False, False], "stdin": None},
                {"protocol": daemon.PROTOCOL, "argv": ["lint"], "cwd": "/", "env": {"A": 1},
                 "tty": [False, False], "stdin": None}):
        answer = json.loads(_raw(path, _framed(bad))[4:])
        assert "error" in answer
    # a directory that does not exist: the caller runs it itself
    answer = json.loads(_raw(path, _framed({"protocol": daemon.PROTOCOL, "argv": ["lint", str(tree)],
                                            "cwd": "/nonexistent/dir", "env": {}, "tty": [False, False],
                                            "stdin": None, "umask": 0o22, "package": daemon.PACKAGE}))[4:])
    assert "fallback" in answer
    # another installation's caller is not answered by this one
    answer = json.loads(_raw(path, _framed({"protocol": daemon.PROTOCOL, "argv": ["lint", str(tree)],
                                            "cwd": str(tree), "env": {}, "tty": [False, False], "stdin": None,
                                            "umask": 0o22, "package": "/elsewhere/gitlint_flux"}))[4:])
    assert answer == {"fallback": "a daemon of another installation"}
    # nesting deeper than the decoder's recursion limit
    assert _raw(path, _framed(None)[:0] + struct.pack(">I", 200_000) + b"[" * 200_000) == b""
    assert status(cache_dir) is not None
    same([str(tree)], cache_dir)


def test_only_through_a_private_directory(tree, cache_dir):
    ddir = daemon.daemon_dir(cache_dir)
    os.makedirs(ddir, mode=0o755)
    os.chmod(ddir, 0o755)
    p = cli("daemon", "serve", "--cache-dir", cache_dir, "--idle", "5")
    assert p.returncode == 2 and "0700" in p.stderr
    # the command still runs, in its own process, and starts nothing there
    alone = cli("lint", "--no-cache", str(tree))
    p = cli("lint", "--daemon", "--cache-dir", cache_dir, str(tree))
    assert (p.returncode, p.stdout) == (alone.returncode, alone.stdout)
    assert "--daemon: cannot use" in p.stderr and "closed to others" in p.stderr
    time.sleep(0.5)
    assert not os.path.exists(os.path.join(ddir, daemon.SOCKET))
    assert daemon.connect(ddir) is None


def test_stop_and_idle_exit(tree, cache_dir):
    pid = started(cache_dir, tree)["pid"]
    p = cli("daemon", "stop", "--cache-dir", cache_dir)
    assert p.returncode == 0 and "stopped" in p.stderr
    assert _gone(pid)
    assert cli("daemon", "status", "--cache-dir", cache_dir).returncode == 1
    e = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "gitlint_flux", "daemon", "serve", "--cache-dir", cache_dir,
                             "--idle", "1"], env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while status(cache_dir) is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert proc.wait(timeout=30) == 0  # idle for a second: gone, its socket with it
    assert not os.path.exists(os.path.join(daemon.daemon_dir(cache_dir), daemon.SOCKET))


def test_a_second_daemon_leaves_the_first(tree, cache_dir):
    pid = started(cache_dir, tree)["pid"]
    p = cli("daemon", "serve", "--cache-dir", cache_dir, "--idle", "5")
    assert p.returncode == 0
    assert status(cache_dir)["pid"] == pid


def test_new_code_restarts_it(tree):
    """The installed code changed under a running daemon: it answers nothing and stops."""
    d = daemon.Daemon(None, cli_main, COMMANDS)
    d.stamp = "an older code stamp"
    answer = d.handle({"protocol": daemon.PROTOCOL, "argv": ["lint", str(tree)], "cwd": str(tree), "env": {},
                       "tty": [False, False], "stdin": None, "umask": 0o22, "package": daemon.PACKAGE})
    assert answer == {"fallback": "restart"} and d.stop


def test_a_crash_in_the_daemon_is_the_callers_run(tree, monkeypatch):
    d = daemon.Daemon(None, cli_main, COMMANDS)

    def boom(opts, stats):
        raise RuntimeError("a bug")

    monkeypatch.setattr(d, "run", boom)
    cwd, out = os.getcwd(), sys.stdout
    answer = d.handle({"protocol": daemon.PROTOCOL, "argv": ["lint", str(tree)], "cwd": str(tree),
                       "env": dict(os.environ), "tty": [False, False], "stdin": None, "umask": 0o22,
                       "package": daemon.PACKAGE})
    assert answer["fallback"].startswith("RuntimeError")
    os.chdir(cwd)
    assert sys.stdout is out  # put back as it was


def test_which_runs_are_handed_over():
    assert daemon.wanted(["lint", "--daemon", "."], COMMANDS)
    assert daemon.wanted(["--daemon", "."], COMMANDS)
    assert not daemon.wanted(["graph", "--daemon"], COMMANDS)
    assert not daemon.wanted(["lint", "--daemon", "--fix"], COMMANDS)
    assert not daemon.wanted(["lint", "--daemon", "--no-daemon"], COMMANDS)
    assert not daemon.wanted(["lint", "--", "--daemon"], COMMANDS)


def test_a_change_within_one_timestamp_tick_is_seen(tree, monkeypatch):
    """Two writes within one tick of the file system's clock leave the same stat: a file
    read moments after its last change has its content compared at every run."""
    from gitlint_flux.options import Options, Stats

    d = daemon.Daemon(None, cli_main, COMMANDS)

    def names():
        report, _ = d.run(Options(paths=[str(tree)], root=str(tree)), Stats())
        return {f.rule for f in report.findings if f.path == "apps/settings.yaml"}

    assert names() == set()
    settings = tree / "apps" / "settings.yaml"
    kept = d.repos[os.path.realpath(tree)].sigs["apps/settings.yaml"]
    settings.write_text(CONFIGMAP.replace("name: settings", "name: Settings"))
    real_sig = daemon._sig
    monkeypatch.setattr(daemon, "_sig", lambda p: kept if p == str(settings) else real_sig(p))
    assert names()  # the invalid name, though the stat says nothing changed


@needs_corpus
@pytest.mark.parametrize("name", ["mirceanton+home-ops", "Apocrathia+homeops"])
def test_corpus_runs_answer_as_the_command(name, tmp_path, cache_dir):
    """On real repositories: the whole tree, then an editor's buffers of files of each kind,
    then a file changed on disk; the daemon's output is the command's, byte for byte."""
    work = tmp_path / "r"
    shutil.copytree(CORPUS / name, work)
    started(cache_dir, work)
    same([str(work), "--format", "json"], cache_dir)
    picks = sorted(p for p in work.rglob("*.yaml") if p.name in ("kustomization.yaml", "ks.yaml",
                                                                 "helm-release.yaml", "helmrelease.yaml"))
    seen = set()
    for p in picks:
        if p.name in seen:
            continue
        seen.add(p.name)
        text = p.read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        same(["--stdin-filename", str(p), "-", "--format", "json"], cache_dir, stdin=text)
        same(["--stdin-filename", str(p), "-", "--format", "json"], cache_dir,
             stdin=first + "\n# an edit\n" + rest.replace("interval: ", "interval: x", 1))
    p = picks[0]
    p.write_text(p.read_text(encoding="utf-8") + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: X\n")
    same([str(work), "--format", "json"], cache_dir)


def test_a_generators_env_file_is_read_again(repo, cache_dir):
    """A file kustomize reads as data (a generator's `envs:`) is no manifest the daemon
    keeps: what a build read of it is compared at every run, so an edit is seen."""
    from test_cache import ENV_TREE

    root = git_init(repo(ENV_TREE))
    started(cache_dir, root)
    assert json.loads(same([str(root), "--format", "json"], cache_dir).stdout)["findings"] == []
    env = root / "clusters/prod/vars.env"
    st = env.stat()
    env.write_text("BAR=x\n")
    os.utime(env, ns=(st.st_atime_ns, st.st_mtime_ns))
    p = same([str(root), "--format", "json"], cache_dir)
    assert [f["rule"] for f in json.loads(p.stdout)["findings"]] == ["FLX701"]


def test_abbreviations_umask_and_a_full_output(tree, cache_dir, tmp_path):
    """argparse takes any unambiguous prefix of an option: the buffer of `--stdin-file` is
    sent, a `--dif` is handed back; files are written with the caller's umask; an output
    that cannot be written is said as the command says it."""
    started(cache_dir, tree)
    web = str(tree / "apps" / "web.yaml")
    edited = HELMRELEASE.replace("  interval: 30m\n", "  interval: 5x\n")
    p = same(["--stdin-file", web, "-"], cache_dir, stdin=edited)
    assert p.returncode == 1 and "FLX204" in p.stdout
    n = status(cache_dir)["requests"]
    by_daemon = cli("lint", "--daemon", "--cache-dir", cache_dir, "--dif", str(tree))
    assert status(cache_dir)["requests"] == n + 1  # asked, and handed back: the caller ran it
    alone = cli("lint", "--no-cache", "--dif", str(tree))
    assert (by_daemon.returncode, by_daemon.stdout) == (alone.returncode, alone.stdout)
    out = tmp_path / "report.json"
    e = {k: v for k, v in os.environ.items() if k != daemon.ENV}
    e["PYTHONPATH"] = str(ROOT)
    r = subprocess.run([sys.executable, "-m", "gitlint_flux", "lint", "--daemon", "--cache-dir", cache_dir,
                        "--format", "json", "-o", str(out), str(tree)], env=e, capture_output=True,
                       preexec_fn=lambda: os.umask(0o077), timeout=60)
    assert r.returncode == 1 and status(cache_dir)["requests"] == n + 2
    assert out.stat().st_mode & 0o777 == 0o600 and json.loads(out.read_text())["findings"]
    results = []
    for extra in (["--daemon", "--cache-dir", cache_dir], ["--no-cache"]):
        with open("/dev/full", "w") as full:
            r = subprocess.run([sys.executable, "-m", "gitlint_flux", "lint", *extra, str(tree)], env=e,
                               stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
        results.append((r.returncode, r.stderr))
    assert results[0] == results[1] and results[0][0] == 2 and "cannot write the output" in results[0][1]


def test_a_request_that_trickles_in_is_dropped(tree, cache_dir):
    """A request must come whole within `REQUEST_S`: a caller that sends a byte now and
    then cannot hold the daemon."""
    started(cache_dir, tree)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(daemon.daemon_dir(cache_dir), daemon.SOCKET))
    s.settimeout(30)
    t = time.monotonic()
    s.sendall(struct.pack(">I", 1000))
    closed = False
    while not closed and time.monotonic() - t < 25:
        try:
            s.sendall(b" ")
            time.sleep(1)
            closed = s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
        except BlockingIOError:
            pass
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    s.close()
    assert closed and time.monotonic() - t < daemon.REQUEST_S + 3
    assert status(cache_dir) is not None
