#!/usr/bin/env python3
"""Benchmark `gitlint-flux lsp`: a scripted client over the server's standard input and output.

    python bench/lsp.py                        # the largest corpus repository (by YAML files)
    python bench/lsp.py --repo PATH --edits 20

It starts the server, opens the repository as the workspace folder and measures:

* initial: from `initialized` to the last publishDiagnostics of the first check (beside a
  cold CLI run of the same repository, `--no-cache`);
* per edit: 20 one-line edits to each of a leaf manifest, a `kustomization.yaml` and a
  Flux Kustomization's file, each `didChange` paced so that it gets its own version-matched
  publishDiagnostics, timed from the `didChange` to those diagnostics (median and maximum);
* memory: the server's peak RSS (VmHWM) beside the CLI run's peak (`wait4`).

Only the standard library and the package itself are used.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
DEFAULT_CORPUS = PROJECT.parent / "shared" / "corpus"


def path_uri(path: str | os.PathLike) -> str:
    from urllib.parse import quote

    return "file://" + quote(os.path.realpath(path))


class Client:
    """A minimal LSP client: requests, notifications, and the messages the server sends."""

    def __init__(self, cwd: str | os.PathLike | None = None, env: dict | None = None,
                 cmd: list[str] | None = None):
        e = dict(os.environ)
        e["PYTHONPATH"] = str(PROJECT) + os.pathsep + e.get("PYTHONPATH", "")
        e.update(env or {})
        self.proc = subprocess.Popen(cmd or [sys.executable, "-m", "gitlint_flux", "lsp"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=e)
        self.messages: queue.Queue = queue.Queue()
        self.next_id = 0
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._err, daemon=True).start()

    def _err(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.messages.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                k, _, v = line.partition(b":")
                if k.lower() == b"content-length":
                    length = int(v)
            body = out.read(length or 0)
            self.messages.put((time.perf_counter(), json.loads(body)))

    def raw(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, msg: dict) -> None:
        msg = {"jsonrpc": "2.0", **msg}
        body = json.dumps(msg).encode("utf-8")
        self.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: dict) -> float:
        t = time.perf_counter()
        self.send({"method": method, "params": params})
        return t

    def request(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        """Send a request and wait for its response (other messages are kept in ``seen``)."""
        self.next_id += 1
        mid = self.next_id
        self.send({"id": mid, "method": method, "params": params if params is not None else {}})
        return self.wait(lambda m: m.get("id") == mid and "method" not in m, timeout)[1]

    seen: list

    def wait(self, pred, timeout: float = 60) -> tuple[float, dict]:
        """The next message that ``pred`` accepts (the others go to ``self.seen``)."""
        if not hasattr(self, "seen"):
            self.seen = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no such message from the server")
            try:
                item = self.messages.get(timeout=left)
            except queue.Empty:
                raise TimeoutError("no such message from the server") from None
            if item is None:
                raise EOFError("the server closed its output: " + b"".join(self.stderr[-20:]).decode(errors="replace"))
            t, msg = item
            if msg.get("method") == "client/registerCapability" and "id" in msg:
                self.send({"id": msg["id"], "result": None})
            if pred(msg):
                return t, msg
            self.seen.append(msg)

    def diagnostics(self, uri: str, version: int | None = None, timeout: float = 60) -> tuple[float, list]:
        """The next publishDiagnostics for ``uri`` (of ``version`` when given)."""
        t, m = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"]["uri"] == uri
                         and (version is None or m["params"].get("version") == version), timeout)
        return t, m["params"]["diagnostics"]

    def initialize(self, root: str | os.PathLike | None, encodings: list[str] | None = None,
                   options: dict | None = None) -> dict:
        caps: dict = {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}}}
        if encodings is not None:
            caps["general"] = {"positionEncodings": encodings}
        params: dict = {"processId": os.getpid(), "capabilities": caps}
        if root is not None:
            params["rootUri"] = path_uri(root)
            params["workspaceFolders"] = [{"uri": path_uri(root), "name": "root"}]
        if options is not None:
            params["initializationOptions"] = options
        res = self.request("initialize", params)
        self.notify("initialized", {})
        return res.get("result") or res

    def open(self, path: str | os.PathLike, text: str | None = None, version: int = 1) -> str:
        uri = path_uri(path)
        if text is None:
            text = Path(path).read_text(encoding="utf-8")
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": version,
                                                              "text": text}})
        return uri

    def change(self, uri: str, text: str, version: int) -> float:
        return self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                      "contentChanges": [{"text": text}]})

    def close(self, timeout: float = 20) -> int:
        try:
            self.request("shutdown", timeout=timeout)
            self.notify("exit", {})
        except (OSError, EOFError, TimeoutError):
            pass
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def peak_mb(self) -> float:
        try:
            with open(f"/proc/{self.proc.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")


# --------------------------------------------------------------------------- the benchmark


def largest(corpus: Path) -> Path:
    def count(d: Path) -> int:
        return sum(1 for p in d.rglob("*") if p.suffix in (".yaml", ".yml") and ".git" not in p.parts)

    return max((d for d in corpus.iterdir() if d.is_dir()), key=count)


def cli_run(repo: Path) -> tuple[float, float]:
    """(wall s, peak RSS MB) of a cold CLI run."""
    env = dict(os.environ, PYTHONPATH=str(PROJECT))
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "gitlint_flux", "lint", "--no-cache", "--format", "json", str(repo)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _pid, _status, ru = os.wait4(p.pid, 0)
    return time.perf_counter() - t, ru.ru_maxrss / 1024


def pick_files(repo: Path) -> dict[str, Path]:
    """A leaf manifest, a kustomization.yaml and a Flux Kustomization's file."""
    out: dict[str, Path] = {}
    for p in sorted(repo.rglob("*.y*ml")):
        if ".git" in p.parts:
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "flux" in out and "kustomization" in out and "leaf" in out:
            break
        if p.name == "kustomization.yaml" and "kustomize.config.k8s.io" in text and "kustomization" not in out:
            out["kustomization"] = p
        elif "kustomize.toolkit.fluxcd.io" in text and "kind: Kustomization" in text and "flux" not in out:
            out["flux"] = p
        elif (p.name != "kustomization.yaml" and "kind: Deployment" in text or "kind: ConfigMap" in text) \
                and "leaf" not in out and "fluxcd.io" not in text:
            out["leaf"] = p
    return out


def edited(text: str, i: int) -> str:
    """A one-line edit: a comment line changed (its content differs each time)."""
    lines = text.splitlines(keepends=True)
    return "".join(lines[:1]) + f"# edit {i}\n" + "".join(lines[1:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, help="the repository (default: the largest of ../shared/corpus)")
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--timings", action="store_true", help="print the server's stage timings of each check (stderr)")
    args = ap.parse_args()
    repo = args.repo or largest(DEFAULT_CORPUS)
    nfiles = sum(1 for p in repo.rglob("*") if p.suffix in (".yaml", ".yml") and ".git" not in p.parts)
    cli_run(repo)  # untimed: the OS file cache
    cli_wall, cli_peak = cli_run(repo)
    print(f"repository {repo.name}: {nfiles} YAML files; cold CLI run {cli_wall:.2f} s, peak {cli_peak:.0f} MB")

    c = Client(cwd=str(repo), env={"GITLINT_FLUX_LSP_TIMINGS": "1"} if args.timings else None)
    t0 = time.perf_counter()
    c.initialize(repo)
    # the first check publishes every file with findings; then an open buffer gets its own
    files = pick_files(repo)
    first = last = None
    try:
        t_first, _ = c.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics", 120)
        first = last = t_first - t0
        while True:  # the rest of the first check's batch
            t_next, _ = c.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics", 0.5)
            last = t_next - t0
    except TimeoutError:
        pass
    if first is None:
        print("initial diagnostics: none published (no findings)")
    else:
        print(f"initial diagnostics: first {first:.2f} s, last {last:.2f} s after initialize "
              f"(= {last / cli_wall:.2f}x the cold CLI run)")
    rows = []
    for kind, path in files.items():
        text = path.read_text(encoding="utf-8")
        uri = c.open(path, text, 1)
        c.diagnostics(uri, 1, 120)
        lat = []
        for i in range(args.edits):
            v = i + 2
            t = c.change(uri, edited(text, i), v)
            t_pub, _d = c.diagnostics(uri, v, 60)
            lat.append((t_pub - t) * 1000)
        c.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        rows.append((kind, path.relative_to(repo), statistics.median(lat), max(lat)))
    peak = c.peak_mb()
    c.close()
    if args.timings:
        sys.stderr.write(b"".join(c.stderr).decode(errors="replace"))
    print("| file | path | median ms | max ms |")
    print("|---|---|---:|---:|")
    for kind, rel, med, mx in rows:
        print(f"| {kind} | `{rel}` | {med:.0f} | {mx:.0f} |")
    print(f"server peak RSS {peak:.0f} MB = {peak / cli_peak:.2f}x the CLI run's peak ({cli_peak:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
