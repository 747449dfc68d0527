"""A process that lints again and again (an editor integration, a server, the engine used
as a library) must not grow with every run."""

from __future__ import annotations

import sys


from .harness import KUSTOMIZATION, cm, run

SCRIPT = """
import sys
from gitlint_flux.engine import Options, run
root = sys.argv[1]
def rss():
    with open("/proc/self/status") as f:
        return int(dict(l.split(":", 1) for l in f)["VmRSS"].split()[0])
for _ in range(20):
    run(Options(paths=[root], root=root))
base = rss()
for _ in range(300):
    report, internal = run(Options(paths=[root], root=root))
    assert not internal
print(rss() - base)
"""


def test_repeated_runs_in_one_process_do_not_grow(tree):
    root = tree({"cm.yaml": cm("a"), "kustomization.yaml": KUSTOMIZATION + "resources: [cm.yaml, missing.yaml]\n"})
    res = run([sys.executable, "-c", SCRIPT, str(root)], timeout=120, cpu=120)
    assert res.rc == 0 and not res.timed_out, res.describe()
    growth_kb = int(res.stdout.split()[-1])
    assert growth_kb < 4 * 1024, f"RSS grew by {growth_kb} KiB over 300 runs"
