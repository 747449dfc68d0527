"""An isolated process that runs ``fuzz.pipeline.one_input`` on demand.

A crash is reported with its traceback; a hang is reported with the stack the child was
stuck in (``faulthandler``), then the child is killed and restarted; so is a child that
dies (a segfault, a C stack overflow, the address-space limit).  The parent never runs
the linter itself.
"""

from __future__ import annotations

import json
import os
import re
import resource
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Outcome:
    status: str  # ok, crash, hang, died
    signature: str = ""
    detail: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


_FRAME = re.compile(r'File "([^"]*)", line (\d+)(?:, in | in )(\S+)')


def signature_of(kind: str, text: str, exc_type: str = "", message: str = "") -> str:
    """``kind:Type@module.py:function`` from the innermost frame of the project."""
    frames = _FRAME.findall(text)
    if kind == "hang":
        frames = list(reversed(frames))  # faulthandler prints the innermost frame first
    where = ""
    for path, _line, func in reversed(frames):
        if f"{os.sep}gitlint_flux{os.sep}" in path:
            where = f"{os.path.basename(path)}:{func}"
            break
    if exc_type == "InvariantError":
        msg = re.sub(r"'[^']*'|\"[^\"]*\"|\b\d+\b", "", message)
        return f"invariant:{msg[:70]}"
    return f"{kind}:{exc_type}@{where}" if exc_type else f"{kind}@{where or '?'}"


def _limits(mem_mb: int):
    def apply():
        os.setsid()
        if mem_mb:
            resource.setrlimit(resource.RLIMIT_AS, (mem_mb * 1024 * 1024, mem_mb * 1024 * 1024))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


class Worker:
    def __init__(self, timeout: float = 10.0, mem_mb: int = 2048, env: dict | None = None, recycle: int = 300):
        self.timeout = timeout
        self.mem_mb = mem_mb
        self.env = env or {}
        # a fresh process every `recycle` inputs: in-process runs accumulate memory
        # (docs/robustness.md, BUG-21), which must not turn into false MemoryErrors
        self.recycle = recycle
        self.served = 0
        self.proc: subprocess.Popen | None = None
        self.stderr_path = ""

    def start(self) -> None:
        fd, self.stderr_path = tempfile.mkstemp(prefix="glf-worker-", suffix=".err")
        env = {**os.environ, "PYTHONPATH": PROJECT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "GLF_WORKER_TIMEOUT": str(self.timeout), **self.env}
        self.proc = subprocess.Popen([sys.executable, "-m", "fuzz.worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=fd, cwd=PROJECT, env=env,
                                     preexec_fn=_limits(self.mem_mb))
        os.close(fd)
        # the worker warms up (imports, schemas, profiles) before the first timed input
        ready = select.select([self.proc.stdout], [], [], 180)[0]
        if not ready or os.read(self.proc.stdout.fileno(), 1) != b"R":
            detail = self._stderr()
            self.stop()
            raise RuntimeError("the fuzz worker did not start:\n" + detail)

    def stop(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
            self.proc = None
        if self.stderr_path:
            try:
                os.unlink(self.stderr_path)
            except OSError:
                pass
            self.stderr_path = ""

    def _stderr(self) -> str:
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as fh:
                return fh.read()[-20000:]
        except OSError:
            return ""

    def run(self, data: bytes) -> Outcome:
        if self.proc is None or self.proc.poll() is not None or (self.recycle and self.served >= self.recycle):
            self.stop()
            self.start()
            self.served = 0
        self.served += 1
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        t0 = time.monotonic()
        try:
            self.proc.stdin.write(struct.pack(">I", len(data)) + data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            detail = self._stderr()
            self.stop()
            return Outcome("died", signature_of("died", detail, "died"), detail)
        out = self.proc.stdout
        deadline = t0 + self.timeout + 2.0
        buf = b""
        while len(buf) < 4 or len(buf) < 4 + struct.unpack(">I", buf[:4])[0]:
            left = deadline - time.monotonic()
            ready = select.select([out], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                time.sleep(0.2)  # let faulthandler finish its dump
                detail = self._stderr()
                self.stop()
                return Outcome("hang", signature_of("hang", detail), detail, time.monotonic() - t0)
            chunk = os.read(out.fileno(), 1 << 16)
            if not chunk:
                self.proc.wait()
                detail = self._stderr() + f"\n(exit status {self.proc.returncode})"
                rc = self.proc.returncode
                self.stop()
                return Outcome("died", f"died:signal {-rc}" if rc and rc < 0 else f"died:exit {rc}", detail,
                               time.monotonic() - t0)
            buf += chunk
        msg = json.loads(buf[4:].decode("utf-8"))
        return Outcome(msg["status"], msg.get("signature", ""), msg.get("detail", ""), time.monotonic() - t0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _serve() -> None:
    import faulthandler

    from fuzz.codec import pack
    from fuzz.pipeline import builtin_seeds, one_input

    timeout = float(os.environ.get("GLF_WORKER_TIMEOUT", "10"))
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    for seed in builtin_seeds() + [pack({".gitlint-flux.yaml": "rules:\n  FLX107: off\n"})]:
        try:
            one_input(seed)
        except Exception:  # noqa: BLE001 - reported when the input is run for real
            pass
    out.write(b"R")
    out.flush()
    while True:
        head = inp.read(4)
        if len(head) < 4:
            return
        data = inp.read(struct.unpack(">I", head)[0])
        faulthandler.dump_traceback_later(timeout, exit=False)
        try:
            one_input(data)
            reply = {"status": "ok"}
        except Exception as exc:  # noqa: BLE001 - every escape is a finding
            tb = traceback.format_exc()
            reply = {"status": "crash", "detail": tb[-20000:],
                     "signature": signature_of("crash", tb, type(exc).__name__, str(exc))}
        finally:
            faulthandler.cancel_dump_traceback_later()
        body = json.dumps(reply).encode("utf-8")
        out.write(struct.pack(">I", len(body)) + body)
        out.flush()


if __name__ == "__main__":
    _serve()
