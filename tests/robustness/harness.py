"""Run the linter in a subprocess under resource limits and read its JSON report.

A hang, a segfault, a C stack overflow or a memory blow-up fails the one test that
caused it instead of the suite: the child runs with RLIMIT_AS and RLIMIT_CPU set in
``preexec_fn``, in its own session (killed whole on timeout), and its peak memory is read
from ``wait4``'s rusage.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SHARED = PROJECT.parent / "shared"
CORPUS = SHARED / "corpus"
HERE = Path(__file__).resolve().parent

MiB = 1024 * 1024
DEFAULT_AS = 1536 * MiB
DEFAULT_CPU = 60
DEFAULT_TIMEOUT = 60.0
# hangs are cut short: the correct behaviour takes well under a second
HANG_TIMEOUT = 5.0

# rule families whose findings the hostile tests assert exactly: the input itself
# (FLX0xx) and the repository structure (FLX1xx); other families (schemas, policies) are
# asserted where a test is about them
CORE = ("FLX0", "FLX1")


def write_tree(root: Path, files: dict) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return root


@dataclass
class Result:
    cmd: list
    rc: int | None
    stdout: str
    stderr: str
    seconds: float
    maxrss_kb: int
    timed_out: bool = False
    signal: int | None = None
    _data: dict | None = field(default=None, repr=False)

    def describe(self) -> str:
        what = "timed out" if self.timed_out else f"exit {self.rc}" + (f" (signal {self.signal})" if self.signal else "")
        return (f"{' '.join(map(str, self.cmd))}: {what} after {self.seconds:.1f}s, peak RSS "
                f"{self.maxrss_kb // 1024} MiB\n--- stderr ---\n{self.stderr[-4000:]}\n--- stdout ---\n"
                f"{self.stdout[-2000:]}")

    @property
    def data(self) -> dict:
        if self._data is None:
            try:
                self._data = json.loads(self.stdout)
            except ValueError:
                raise AssertionError("the output is not JSON:\n" + self.describe()) from None
        return self._data

    def findings(self, families=CORE) -> list[tuple]:
        """(rule, path, line, column) of the findings whose rule starts with one of
        ``families`` (None: all), in report order."""
        return [(f["rule"], f["path"], f["line"], f["column"]) for f in self.data["findings"]
                if families is None or f["rule"].startswith(tuple(families))]

    def messages(self, rule: str) -> list[str]:
        return [f["message"] for f in self.data["findings"] if f["rule"] == rule]

    def skipped(self) -> dict:
        return {s["path"]: s["reason"] for s in self.data["skipped"]}


def _limits(mem: int, cpu: int):
    def apply():
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def run(cmd: list, *, cwd=None, env=None, timeout: float = DEFAULT_TIMEOUT, mem: int = DEFAULT_AS,
        cpu: int = DEFAULT_CPU, stdin: bytes | None = None) -> Result:
    """Run ``cmd`` with limits; never raises on a hang (the process group is killed)."""
    full_env = {**os.environ, "PYTHONPATH": str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as inp:
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        t0 = time.monotonic()
        p = subprocess.Popen([str(c) for c in cmd], stdin=inp, stdout=out, stderr=err, cwd=cwd or PROJECT,
                             env=full_env, preexec_fn=_limits(mem, cpu))
        timed_out = False
        status = rusage = None
        while True:
            pid, status, rusage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                timed_out = True
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                _, status, rusage = os.wait4(p.pid, 0)
                break
            time.sleep(0.01)
        p.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        rc = p.returncode
        return Result(cmd, None if timed_out else rc, out.read().decode("utf-8", "replace"),
                      err.read().decode("utf-8", "replace"), seconds, rusage.ru_maxrss, timed_out,
                      -rc if rc is not None and rc < 0 else None)


def lint(root: Path, *extra: str, paths=None, fmt: str = "json", **kw) -> Result:
    """``python -m gitlint_flux lint --format json --root ROOT ROOT`` under limits."""
    cmd = [sys.executable, "-m", "gitlint_flux", "lint", "--format", fmt, "--root", str(root), *extra,
           *(paths if paths is not None else [str(root)])]
    return run(cmd, **kw)


def audited_lint(root: Path, *extra: str, log: Path, vanish: Path | None = None, watch: Path | None = None,
                 **kw) -> Result:
    """The same run under an audit hook (robustness/audited.py) that logs every file
    the linter opens or lists under ``watch``, and can delete ``vanish`` when it is
    about to be opened (a file removed between listing and reading)."""
    env = {"GLF_AUDIT_LOG": str(log), "GLF_AUDIT_WATCH": str(watch or root.parent)}
    if vanish is not None:
        env["GLF_AUDIT_VANISH"] = str(vanish)
    cmd = [sys.executable, str(HERE / "audited.py"), "lint", "--format", "json", "--root", str(root), *extra,
           str(root)]
    return run(cmd, env={**env, **kw.pop("env", {})}, **kw)


def assert_ran(res: Result, expect_rc: int | tuple = (0, 1)) -> Result:
    """The run finished in time, without a traceback or an internal error, with exit
    code 0 or 1 (never 3), and printed a JSON report."""
    assert not res.timed_out, "the linter hung:\n" + res.describe()
    assert res.signal is None, "the linter was killed by a signal:\n" + res.describe()
    assert "Traceback" not in res.stderr, res.describe()
    codes = expect_rc if isinstance(expect_rc, tuple) else (expect_rc,)
    assert res.rc in codes, res.describe()
    assert not [f for f in res.data["findings"] if f["rule"] == "FLX000"], res.describe()
    return res


def expected_rc(res: Result) -> int:
    return 1 if any(f["severity"] == "error" for f in res.data["findings"]) else 0


_BASELINE: list[int] = []


def baseline_rss_kb(tmp: Path) -> int:
    """Peak RSS of a run on a one-file repository (measured once per session)."""
    if not _BASELINE:
        root = tmp / "baseline"
        write_tree(root, {"cm.yaml": CM.format(name="base")})
        res = assert_ran(lint(root))
        _BASELINE.append(res.maxrss_kb)
    return _BASELINE[0]


def snapshot(root: Path) -> dict:
    """Every path under ``root`` with its type, size, mode and modification time."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    out["."] = os.lstat(root).st_mtime_ns
    return out


# --------------------------------------------------------------------------- fixtures

CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: default
data:
  key: value
"""

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"

from fuzz.pipeline import GOTK_SYNC  # noqa: E402  (one copy of the bootstrap text)


def cm(name: str, extra: str = "") -> str:
    return CM.format(name=name) + extra


def gotk_sync(path: str = "clusters/prod") -> str:
    return GOTK_SYNC.replace("{path}", path)


def flux_ks(name: str, path: str, extra: str = "", namespace: str = "flux-system") -> str:
    return (f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n"
            f"  namespace: {namespace}\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n  wait: true\n"
            f"  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{extra}")


def bootstrap(path: str = "clusters/prod") -> dict:
    """A bootstrap root (gotk-sync.yaml) syncing ``path``."""
    return {f"{path}/flux-system/gotk-sync.yaml": gotk_sync(path),
            f"{path}/flux-system/kustomization.yaml": KUSTOMIZATION + "resources:\n  - gotk-sync.yaml\n"}
