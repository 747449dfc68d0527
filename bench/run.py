#!/usr/bin/env python3
"""Benchmark gitlint-flux, with its peers and the parsing floor, in one run.

    python bench/run.py                       # corpus + synthetic x1,x4,x16,x32, peers on the seed
    python bench/run.py --runs 3 --scales 1,4 --repos Apocrathia+homelab
    python bench/run.py --quick               # corpus only, 3 runs, no synthetic, no peers

For every repository (each of ../shared/corpus, and the seed repository replicated N
times with renamed namespaces and paths), each measured as the median of --runs fresh
processes, after one untimed run of every command (ours and the peers'):

* cold: empty cache directory (the OS file cache may be warm);
* warm: nothing changed since the last run;
* one-file: one YAML file changed since the last run;
* stdin: `--stdin-filename` check of one file, warm, the buffer as on disk (the run cache
  answers);
* stdin-edit: the same with an edited buffer (a comment line, different each run), warm:
  what an editor runs after a change;
* --daemon edit: the same edits with `--daemon`, the daemon started beforehand with the
  repository loaded (CPU: the calling process; memory: the daemon's peak);

with wall time, CPU time (user+sys of the process) and peak RSS (of that process). On the
seed repository (and with --peers-all, on every repository) the same files go through
`yamllint` and `kubernetes-validate --strict`, beside the bare PyYAML C `compose_all` of
every file (the parsing floor, including interpreter start-up); ratios are printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
DEFAULT_CORPUS = PROJECT.parent / "shared" / "corpus"
SEED = "Apocrathia+homelab"

FLOOR = r"""
import os, sys, yaml
for d, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [x for x in dirs if x != ".git"]
    for f in files:
        if f.endswith((".yaml", ".yml")):
            try:
                with open(os.path.join(d, f), encoding="utf-8") as fh:
                    for _ in yaml.compose_all(fh.read(), Loader=yaml.CSafeLoader):
                        pass
            except Exception:
                pass
"""


def measure(cmd: list[str], stdin: bytes | None = None, env=None) -> tuple[float, float, float]:
    """(wall s, cpu s, peak RSS MB) of one process (gitlint-flux runs get LINT_ENV)."""
    if env is None and cmd[1:3] == ["-m", "gitlint_flux"]:
        env = LINT_ENV
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    if stdin is not None:
        p.stdin.write(stdin)
        p.stdin.close()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def med(samples: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    return tuple(statistics.median(s[i] for s in samples) for i in range(3))  # type: ignore[return-value]


def yaml_files(root: Path) -> list[str]:
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != ".git"]
        out += [os.path.join(d, f) for f in files if f.endswith((".yaml", ".yml"))]
    return sorted(out)


def synthesize(seed: Path, n: int, dest: Path) -> Path:
    """The seed repository replicated n times: copy i lives in r{i}/, its Flux paths and
    the flux-system namespace (with its directories, so that references still hold)
    renamed, so each copy is its own cluster with the seed's findings and no more."""
    dest.mkdir(parents=True)
    for i in range(n):
        target = dest / f"r{i}"
        shutil.copytree(seed, target, ignore=shutil.ignore_patterns(".git"))
        for d, dirs, _files in os.walk(target, topdown=False):
            for x in dirs:
                if x == "flux-system":
                    os.rename(os.path.join(d, x), os.path.join(d, f"flux-system-{i}"))
        for f in yaml_files(target):
            p = Path(f)
            try:
                text = p.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            new = text.replace("path: ./flux/", f"path: ./r{i}/flux/").replace("flux-system", f"flux-system-{i}")
            if new != text:
                p.write_text(new, encoding="utf-8")
    return dest


def _loadable(path: str) -> bool:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            list(yaml.load_all(fh, Loader=yaml.CSafeLoader))
        return True
    except Exception:
        return False


# the tool runs as installed: pip writes bytecode at install time, so the measured runs get
# bytecode too (in a private prefix; the peers' installed packages already have theirs) —
# without it, an environment with PYTHONDONTWRITEBYTECODE recompiles every module each run
LINT_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def lint_cmd(repo: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "gitlint_flux", "lint", "--format", "json", "--cache-dir", str(cache),
            "--root", str(repo), *extra]


def bench_repo(name: str, repo: Path, runs: int, peers: bool) -> dict:
    res: dict = {"name": name}
    files = yaml_files(repo)
    res["files"] = len(files)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # one untimed run first, for everyone: "cold" is an empty tool cache, while the OS
        # file cache may be warm (as it is for the peers' second and later runs)
        measure(lint_cmd(repo, tmp / "warmup", str(repo)))
        cold = []
        for i in range(runs):
            cold.append(measure(lint_cmd(repo, tmp / f"cold{i}", str(repo))))
        res["cold"] = med(cold)
        cache = tmp / "warm"
        measure(lint_cmd(repo, cache, str(repo)))
        res["warm"] = med([measure(lint_cmd(repo, cache, str(repo))) for _ in range(runs)])
        # one-file change: a copy of the repository, one file edited before each run
        work = tmp / "work"
        shutil.copytree(repo, work, symlinks=True)
        target = edit_target(yaml_files(work))
        measure(lint_cmd(work, cache, str(work)))
        one = []
        for i in range(runs):
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(f"# edit {i}\n")
            one.append(measure(lint_cmd(work, cache, str(work))))
        res["one"] = med(one)
        buf = target.read_bytes()
        measure(lint_cmd(work, cache, "--stdin-filename", str(target), "-"), stdin=buf)
        res["stdin"] = med([measure(lint_cmd(work, cache, "--stdin-filename", str(target), "-"), stdin=buf)
                            for _ in range(runs)])
        res["stdin_edit"] = med([measure(lint_cmd(work, cache, "--stdin-filename", str(target), "-"),
                                         stdin=edited_buffer(buf, i)) for i in range(runs)])
        # the same edits handed to the daemon (`lint --daemon`), started beforehand with the
        # repository loaded; CPU is the calling process's, memory the daemon's peak (VmHWM)
        daemon_cmd = [sys.executable, "-m", "gitlint_flux", "daemon"]
        subprocess.run(daemon_cmd + ["start", "--cache-dir", str(cache), "--root", str(work)], env=LINT_ENV,
                       check=True, capture_output=True)
        try:
            measure(lint_cmd(work, cache, "--daemon", "--stdin-filename", str(target), "-"), stdin=buf)
            daemon = [measure(lint_cmd(work, cache, "--daemon", "--stdin-filename", str(target), "-"),
                              stdin=edited_buffer(buf, 100 + i)) for i in range(runs)]
            res["daemon_edit"] = med(daemon)[:2] + (_daemon_peak(cache),)
        finally:
            subprocess.run(daemon_cmd + ["stop", "--cache-dir", str(cache)], env=LINT_ENV, capture_output=True)
    measure([sys.executable, "-c", FLOOR, str(repo)])  # untimed
    res["floor"] = med([measure([sys.executable, "-c", FLOOR, str(repo)]) for _ in range(runs)])
    if peers:
        peer_runs = max(1, min(runs, 3))
        if shutil.which("yamllint"):
            measure(["yamllint", "-f", "parsable", *files])  # untimed, as for gitlint-flux
            res["yamllint"] = med([measure(["yamllint", "-f", "parsable", *files]) for _ in range(peer_runs)])
        if shutil.which("kubernetes-validate"):
            # it stops at the first file PyYAML cannot load (custom tags, templates): give it
            # the files it can read, so it validates as many documents as it is able to
            kv_files = [f for f in files if _loadable(f)]
            res["kv_files"] = len(kv_files)
            measure(["kubernetes-validate", "--strict", "--quiet", *kv_files])  # untimed
            res["kubernetes-validate"] = med([measure(["kubernetes-validate", "--strict", "--quiet", *kv_files])
                                              for _ in range(peer_runs)])
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repos", default="", help="comma-separated corpus repositories (default: all)")
    ap.add_argument("--scales", default="1,4,16,32", help="synthetic replications of the seed ('' for none)")
    ap.add_argument("--peers-all", action="store_true", help="run the peers on every repository")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--quick", action="store_true", help="corpus only, 3 runs, no synthetic, no peers")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.scales, args.no_peers = 3, "", True
    args.corpus = args.corpus.resolve()
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    os.chdir(PROJECT)
    pycache = tempfile.mkdtemp(prefix="gitlint-flux-bench-pyc-")
    LINT_ENV["PYTHONPYCACHEPREFIX"] = pycache
    subprocess.run([sys.executable, "-m", "compileall", "-q", "gitlint_flux"], env=LINT_ENV, check=True)
    try:
        return _bench(args)
    finally:
        shutil.rmtree(pycache, ignore_errors=True)


def _bench(args) -> int:
    repos = sorted(p for p in args.corpus.iterdir() if p.is_dir())
    if args.repos:
        wanted = set(args.repos.split(","))
        repos = [r for r in repos if r.name in wanted]
    results = []
    for repo in repos:
        peers = not args.no_peers and (args.peers_all or repo.name == SEED)
        results.append(bench_repo(repo.name, repo, args.runs, peers))
        _print_row(results[-1])
    scales = [int(x) for x in args.scales.split(",") if x.strip()]
    if scales:
        with tempfile.TemporaryDirectory() as tmp:
            for n in scales:
                syn = synthesize(args.corpus / SEED, n, Path(tmp) / f"x{n}")
                results.append(bench_repo(f"synthetic x{n}", syn, max(1, args.runs if n < 16 else 3), False))
                _print_row(results[-1])
                shutil.rmtree(syn)
    print()
    print(f"median of {args.runs} fresh processes (3 for x16/x32); wall / cpu seconds, peak RSS MB; "
          f"floor = PyYAML C compose_all of every YAML file in a fresh interpreter")
    for r in results:
        if "yamllint" in r or "kubernetes-validate" in r:
            c = r["cold"][0]
            for peer in ("yamllint", "kubernetes-validate"):
                if peer in r:
                    note = f" ({r['kv_files']} of {r['files']} files it can load)" if peer == "kubernetes-validate" else ""
                    print(f"{r['name']}: {peer}{note} {r[peer][0]:.2f}s = {r[peer][0] / c:.1f}x gitlint-flux cold")
            print(f"{r['name']}: gitlint-flux cold = {c / r['floor'][0]:.2f}x the parsing floor")
    return 0


def edit_target(files: list[str]) -> Path:
    """The file the one-file and stdin figures edit: a HelmRelease's file, else the first
    file that holds a Kubernetes object."""
    for f in files:
        if os.path.basename(f) in ("helmrelease.yaml", "helm-release.yaml"):
            return Path(f)
    for f in files:
        try:
            text = Path(f).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "apiVersion:" in text and "kind:" in text:
            return Path(f)
    return Path(files[0])


def _daemon_peak(cache: Path) -> float:
    """The peak RSS (MB) of the daemon serving ``cache``, from /proc (0 elsewhere)."""
    out = subprocess.run([sys.executable, "-m", "gitlint_flux", "daemon", "status", "--cache-dir", str(cache)],
                         env=LINT_ENV, capture_output=True, text=True).stdout
    try:
        pid = int(out.split()[1].rstrip(","))
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (IndexError, ValueError, OSError):
        pass
    return 0.0


def edited_buffer(buf: bytes, i: int) -> bytes:
    """The buffer with a comment line added under its first line (different for each i)."""
    first, nl, rest = buf.partition(b"\n")
    return first + nl + f"# bench edit {i}\n".encode() + rest


def _fmt(t):
    return f"{t[0]:6.2f} {t[1]:5.2f} {t[2]:5.0f}"


_HEADER = False


def _print_row(r: dict) -> None:
    global _HEADER
    if not _HEADER:
        print(f"{'repository':<38} {'files':>6} | {'cold wall cpu MB':>18} | {'warm':>18} | {'one-file':>18} | "
              f"{'stdin':>18} | {'stdin-edit':>18} | {'--daemon edit':>18} | {'floor':>7}")
        _HEADER = True
    print(f"{r['name']:<38} {r['files']:>6} | {_fmt(r['cold']):>18} | {_fmt(r['warm']):>18} | "
          f"{_fmt(r['one']):>18} | {_fmt(r['stdin']):>18} | {_fmt(r['stdin_edit']):>18} | "
          f"{_fmt(r['daemon_edit']):>18} | {r['floor'][0]:7.2f}",
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
