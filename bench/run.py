#!/usr/bin/env python3
"""Benchmark: `gitlint-flux lint` on every repository of ../shared/corpus, each run a
fresh process, beside the parsing floor (PyYAML's C compose_all over the same files).

    python bench/run.py [--runs N] [--corpus DIR]

Prints a table: median wall time, median CPU time (user+sys of the child), peak RSS,
documents, and the ratio to the parsing floor.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"

FLOOR = r"""
import os, sys, time, yaml
root = sys.argv[1]
names = []
for d, dirs, files in os.walk(root):
    dirs[:] = [x for x in dirs if x != ".git"]
    names += [os.path.join(d, f) for f in files if f.endswith((".yaml", ".yml"))]
t = time.perf_counter()
for n in names:
    try:
        with open(n, encoding="utf-8") as fh:
            for _ in yaml.compose_all(fh.read(), Loader=yaml.CSafeLoader):
                pass
    except Exception:
        pass
print(time.perf_counter() - t)
"""


def timed(cmd: list[str]) -> tuple[float, float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return wall, cpu, after.ru_maxrss, p.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = ap.parse_args()
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    repos = sorted(p for p in args.corpus.iterdir() if p.is_dir())
    print(f"{'repository':<40} {'docs':>6} {'wall s':>8} {'cpu s':>8} {'floor s':>8} {'x floor':>8}")
    for repo in repos:
        walls, cpus, docs = [], [], 0
        for _ in range(args.runs):
            wall, cpu, _rss, out = timed([sys.executable, "-m", "gitlint_flux", "lint", "--format", "json", str(repo)])
            walls.append(wall)
            cpus.append(cpu)
            docs = json.loads(out)["summary"]["documents"]
        floors = [float(subprocess.run([sys.executable, "-c", FLOOR, str(repo)], capture_output=True,
                                       text=True, check=True).stdout) for _ in range(args.runs)]
        wall, cpu, floor = statistics.median(walls), statistics.median(cpus), statistics.median(floors)
        print(f"{repo.name:<40} {docs:>6} {wall:>8.3f} {cpu:>8.3f} {floor:>8.3f} {wall / floor:>8.1f}")
    print(f"(median of {args.runs} fresh processes; floor = PyYAML C compose_all of the same YAML files, "
          f"in-process, without interpreter start-up)")
    print(f"peak RSS of any run: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
