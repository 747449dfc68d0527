"""Fuzz the whole pipeline: bytes -> a small repository -> load, graph, every rule, every
report format -> invariants (fuzz/invariants.py).

    python -m fuzz.pipeline --engine random --runs 250 --seconds 25   # short campaign (CI)
    python -m fuzz.pipeline --engine random --runs 120000             # long, no dependency
    python -m fuzz.pipeline --engine atheris --runs 100000            # long, coverage-guided
    python -m fuzz.pipeline replay /tmp/gitlint-flux-fuzz/crashes/*.bin

Seeds are read at run time from ../shared/corpus (never copied into the project) plus a
few built-in repositories.  Engines: ``atheris`` (libFuzzer, coverage-guided; needs
``pip install atheris``) and ``random`` (mutation-based, no dependency), chosen by
``--engine`` (default: atheris when importable).  A crash or an invariant violation is
recorded (one input per signature under ``--out``, default /tmp/gitlint-flux-fuzz) and
the campaign goes on; a hang or a dead process is caught by a supervisor that restarts
the fuzzing process.  Exit status 1 when anything was found.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

from fuzz.codec import materialize, pack, unpack, corpus_seeds

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CORPUS = os.path.join(os.path.dirname(PROJECT), "shared", "corpus")
DEFAULT_OUT = os.path.join(tempfile.gettempdir(), "gitlint-flux-fuzz")

_WORK: str | None = None
_FAST = True
_COUNT = [0]
SARIF_EVERY = 25  # validating SARIF against its schema costs more than the run itself
TWICE_EVERY = 4  # determinism (two runs, same output) on every 4th input


def _workdir() -> str:
    global _WORK
    if _WORK is None or not os.path.isdir(_WORK):
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        _WORK = tempfile.mkdtemp(prefix="glf-fuzz-", dir=base)
    return _WORK


def _no_git() -> None:
    """The fuzz trees are never git checkouts: skip the `git rev-parse` per run."""
    import gitlint_flux.load as load_mod

    load_mod.git_toplevel = lambda path: None
    try:
        import gitlint_flux.engine as engine_mod

        engine_mod.git_toplevel = lambda path: None
    except Exception:  # pragma: no cover
        pass


def one_input(data: bytes) -> None:
    """Run the whole pipeline on the repository packed in ``data``; raise on any
    violated invariant (fuzz/invariants.py)."""
    from fuzz.invariants import check_tree

    if _FAST:
        _no_git()
    work = _workdir()
    root = os.path.join(work, "repo")
    if os.path.lexists(root):
        shutil.rmtree(root)
    os.mkdir(root)
    materialize(root, unpack(data))
    _COUNT[0] += 1
    n = _COUNT[0]
    full = os.environ.get("GLF_FUZZ_FULL") == "1"
    check_tree(os.path.realpath(root), twice=full or n % TWICE_EVERY == 1,
               validate="all" if full or n % SARIF_EVERY == 1 else "json")


# --------------------------------------------------------------------------- seeds

# the bootstrap sync objects of a repository whose cluster syncs `{path}` (shared with the
# robustness tests)
GOTK_SYNC = """---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: ssh://git@github.com/example/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./{path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
GOTK = GOTK_SYNC.replace("{path}", "clusters/prod")

KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 10m
  path: {path}
  prune: true
  dependsOn:
    - name: {dep}
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: vars
  sourceRef:
    kind: GitRepository
    name: flux-system
"""

HR = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: 6.5.0
      sourceRef:
        kind: HelmRepository
        name: podinfo
  valuesFrom:
    - kind: ConfigMap
      name: podinfo-values
  values: &v
    replicas: 2
    <<: {a: 1}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 1h
  url: https://stefanprodan.github.io/podinfo
"""

CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: apps
data:
  key: "${{VAR:=x}}"
"""


def builtin_seeds() -> list[bytes]:
    k = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    return [
        pack({
            "clusters/prod/flux-system/gotk-sync.yaml": GOTK,
            "clusters/prod/flux-system/kustomization.yaml": k + "resources:\n  - gotk-sync.yaml\n",
            "clusters/prod/infra.yaml": KS.format(name="infra", path="./infra", dep="apps"),
            "clusters/prod/apps.yaml": KS.format(name="apps", path="./apps", dep="infra"),
            "infra/kustomization.yaml": k + "namespace: apps\nresources:\n  - cm.yaml\n  - ../apps/missing.yaml\n"
                                            "configMapGenerator:\n  - name: vars\n    literals: [A=b]\n",
            "infra/cm.yaml": CM.format(name="vars"),
            "apps/release.yaml": HR,
            "apps/values.yaml": "replicas: 1\n",
            ".sourceignore": "*.md\n/apps/ignored/\n!keep.yaml\n",
        }),
        pack({
            "kubernetes/flux/cluster/ks.yaml": KS.format(name="cluster-apps", path="./kubernetes/apps", dep="x"),
            "kubernetes/apps/kustomization.yaml": k + "components:\n  - ../components/common\nresources:\n  - ./ns\n",
            "kubernetes/apps/ns/kustomization.yaml": k + "resources: [ns.yaml]\n",
            "kubernetes/apps/ns/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
            "kubernetes/components/common/kustomization.yaml":
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cm.yaml]\n",
            "kubernetes/components/common/cm.yaml": CM.format(name="common"),
            ".gitlint-flux.yaml": "roots:\n  - kubernetes/flux/cluster\nrules:\n  FLX107: off\n",
        }),
        pack({"a.yaml": "a: &a [1, 2]\nb: *a\nc: !Tag {x: 1}\n---\n- 1\n---\nscalar\n",
              "b.yml": "x: \"unterminated\n", "Kustomization": k + "resources: [a.yaml, /etc/passwd, ../x]\n"}),
    ]


TOKENS = [
    b"\n---\n", b"&a ", b"*a", b"<<: ", b"!!python/object/apply:os.system ", b"!Ref ", b"{", b"}", b"[", b"]",
    b"\t", b'"', b"'", b"\n%%% ", b"kustomization.yaml\n", b"\n%%% clusters/prod/x.yaml\n", b"../", b"/", b"\xef\xbb\xbf",
    b"\xff", b"\x00", b"\r\n", b"dependsOn:\n  - name: ", b"dependsOn: 5", b"path: ./", b"resources:\n  - ",
    b"sourceRef:\n    kind: ", b"kind: Kustomization", b"apiVersion: kustomize.toolkit.fluxcd.io/v1",
    b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", b"namespace: ", b"name: ", b"${VAR}", b"{{ .X }}",
    b"#% if x %#", b"? [a, b]\n: c\n", b"0x" + b"f" * 20, b"\n<<<<<<< HEAD\n", b"- ", b": ", b"\n  ", b"~", b"null",
    b"components:\n  - ", b"configMapGenerator:\n  - name: g\n    files: [", b"targetNamespace: ", b"kubeConfig:\n",
    b".sourceignore\n", b"spec:\n  ignore: |\n    ", b"valuesFrom:\n  - kind: ", b"chartRef:\n    kind: ",
]


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(8)
        pos = rng.randint(0, len(b))
        if op == 0 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1:
            b[pos:pos] = rng.choice(TOKENS)
        elif op == 2 and b:
            end = min(len(b), pos + rng.randint(1, 64))
            del b[pos:end]
        elif op == 3 and b:
            start = rng.randrange(len(b))
            chunk = b[start:start + rng.randint(1, 256)]
            b[pos:pos] = chunk
        elif op == 4 and pool:
            other = rng.choice(pool)
            if other:
                s = rng.randrange(len(other))
                b[pos:pos] = other[s:s + rng.randint(1, 2048)]
        elif op == 5 and b:
            del b[pos:]
        elif op == 6:
            b[pos:pos] = bytes([rng.choice(b"\n \t:-[]{}&*!|>'\"#%@`,?")]) * rng.randint(1, 8)
        else:
            b[pos:pos] = str(rng.choice([0, -1, 2**31, 10**30, 1.5, "yes", "on"])).encode()
    return bytes(b[:300_000])


# --------------------------------------------------------------------------- findings


class Recorder:
    def __init__(self, out: str):
        self.out = out
        os.makedirs(os.path.join(out, "crashes"), exist_ok=True)
        self.seen: dict[str, int] = {}
        path = os.path.join(out, "findings.jsonl")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    rec = json.loads(line)
                    self.seen[rec["signature"]] = self.seen.get(rec["signature"], 0) + 1

    def record(self, status: str, signature: str, detail: str, data: bytes) -> bool:
        new = signature not in self.seen
        self.seen[signature] = self.seen.get(signature, 0) + 1
        # a hang whose stack could not be read is kept every time: it may be several bugs
        if new or signature.endswith("@?"):
            h = hashlib.sha1(data).hexdigest()[:12]
            name = f"{status}-{h}.bin"
            with open(os.path.join(self.out, "crashes", name), "wb") as fh:
                fh.write(data)
            with open(os.path.join(self.out, "findings.jsonl"), "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"status": status, "signature": signature, "input": name,
                                     "detail": detail[-4000:]}) + "\n")
            print(f"[fuzz] NEW {status}: {signature} -> {name}", file=sys.stderr, flush=True)
        return new


def _seeds(corpus: str) -> list[bytes]:
    return builtin_seeds() + corpus_seeds(corpus)


def run_random(args) -> int:
    from fuzz.worker import Worker

    rng = random.Random(args.seed)
    seeds = _seeds(args.corpus)
    rec = Recorder(args.out)
    pool = list(seeds)
    t0 = time.monotonic()
    n = 0
    with Worker(timeout=args.timeout, mem_mb=args.mem_mb) as w:
        while n < args.runs and time.monotonic() - t0 < args.seconds:
            base = seeds[n] if n < len(seeds) else rng.choice(pool)
            data = base if n < len(seeds) else mutate(rng, base, pool)
            res = w.run(data)
            n += 1
            if not res.ok:
                rec.record(res.status, res.signature, res.detail, data)
            elif rng.random() < 0.02 and len(pool) < 5000:
                pool.append(data)
            if n % 1000 == 0:
                print(f"[fuzz] {n} inputs, {time.monotonic() - t0:.0f}s, {len(rec.seen)} signatures",
                      file=sys.stderr, flush=True)
    return _summary(args, rec, n, t0)


def _summary(args, rec: Recorder, n: int, t0: float) -> int:
    summary = {"engine": args.engine, "inputs": n, "seconds": round(time.monotonic() - t0, 1),
               "signatures": rec.seen}
    with open(os.path.join(args.out, "summary.json"), "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=2)
    print(json.dumps(summary, indent=2))
    return 1 if rec.seen else 0


# --------------------------------------------------------------------------- atheris


def _atheris_child(args, extra: list[str]) -> None:
    """Runs inside the supervised process: libFuzzer drives ``one_input``; exceptions
    are recorded and swallowed so that the campaign goes on."""
    import faulthandler
    import traceback

    import atheris

    from fuzz.worker import signature_of

    with atheris.instrument_imports():
        import gitlint_flux.engine  # noqa: F401
        import gitlint_flux.graph  # noqa: F401
        import gitlint_flux.kustomize  # noqa: F401
        import gitlint_flux.load  # noqa: F401
        import gitlint_flux.yamlcompose  # noqa: F401
        from gitlint_flux.rules import all_rules

        all_rules()
    rec = Recorder(args.out)
    count_path = os.path.join(args.out, "count")
    seen_path = os.path.join(args.out, f"seen-{os.getpid()}.json")
    hang_log = open(os.path.join(args.out, "hang-trace.txt"), "w")
    state = {"n": 0}

    def test_one(data: bytes) -> None:
        state["n"] += 1
        if state["n"] % 200 == 0:
            with open(count_path, "w") as fh:
                fh.write(str(state["n"]))
            with open(seen_path, "w") as fh:
                json.dump(rec.seen, fh)
        hang_log.seek(0)
        hang_log.truncate()
        with open(os.path.join(args.out, "current.bin"), "wb") as fh:
            fh.write(data)
        faulthandler.dump_traceback_later(max(args.timeout - 1, 1), exit=False, file=hang_log)
        try:
            one_input(data)
        except Exception as exc:  # noqa: BLE001
            tb = traceback.format_exc()
            rec.record("crash", signature_of("crash", tb, type(exc).__name__, str(exc)), tb, data)
        finally:
            faulthandler.cancel_dump_traceback_later()

    for seed in builtin_seeds():  # warm up (imports, schemas) before the first timed input
        try:
            one_input(seed)
        except Exception:  # noqa: BLE001 - reported when libFuzzer runs it
            pass

    import atexit

    atexit.register(lambda: open(count_path, "w").write(str(state["n"])))
    atheris.Setup([sys.argv[0]] + extra, test_one)
    atheris.Fuzz()


def run_atheris(args) -> int:
    """Supervisor: restarts the libFuzzer process after a hang or a death until ``--runs``
    inputs have run or ``--seconds`` have passed."""
    rec = Recorder(args.out)
    corpus_dir = os.path.join(args.out, "corpus")
    os.makedirs(corpus_dir, exist_ok=True)
    if not os.listdir(corpus_dir):
        for s in _seeds(args.corpus):
            with open(os.path.join(corpus_dir, hashlib.sha1(s).hexdigest()), "wb") as fh:
                fh.write(s)
    dict_path = os.path.join(args.out, "yaml.dict")
    with open(dict_path, "w", encoding="utf-8") as fh:
        for t in TOKENS:
            fh.write('"' + "".join(f"\\x{c:02x}" for c in t) + '"\n')
    t0 = time.monotonic()
    total = 0
    count_path = os.path.join(args.out, "count")
    while total < args.runs and time.monotonic() - t0 < args.seconds:
        if os.path.exists(count_path):
            os.unlink(count_path)
        left = int(args.seconds - (time.monotonic() - t0))
        cmd = [sys.executable, "-m", "fuzz.pipeline", "--engine", "atheris", "--child", "--out", args.out,
               "--timeout", str(args.timeout), "--", f"-runs={args.runs - total}", f"-max_total_time={max(left, 1)}",
               f"-timeout={int(args.timeout)}", f"-rss_limit_mb={args.mem_mb}", f"-dict={dict_path}",
               "-max_len=65536", "-print_final_stats=1", f"-seed={args.seed + total}",
               f"-artifact_prefix={os.path.join(args.out, 'artifacts')}{os.sep}", corpus_dir]
        os.makedirs(os.path.join(args.out, "artifacts"), exist_ok=True)
        env = {**os.environ, "PYTHONPATH": PROJECT + os.pathsep + os.environ.get("PYTHONPATH", "")}
        p = subprocess.run(cmd, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           errors="replace")
        try:
            with open(count_path) as fh:
                done = int(fh.read() or 0)
        except (OSError, ValueError):
            done = 0
        total += done
        tail = p.stderr[-6000:]
        if p.returncode != 0:
            cur = os.path.join(args.out, "current.bin")
            data = open(cur, "rb").read() if os.path.exists(cur) else b""
            status = "hang" if "timeout" in tail.lower() else "died"
            trace = open(os.path.join(args.out, "hang-trace.txt")).read() if status == "hang" else tail
            from fuzz.worker import signature_of

            rec.record(status, signature_of(status, trace) if status == "hang" else f"died:rc {p.returncode}",
                       trace + "\n" + tail, data)
            total += 1
        print(f"[fuzz] atheris process ended (rc {p.returncode}); {total} inputs so far", file=sys.stderr, flush=True)
        if done == 0 and p.returncode == 0:
            break
    # what the fuzzing processes recorded (per-process counts of each signature)
    merged: dict[str, int] = {}
    for name in os.listdir(args.out):
        if name.startswith("seen-") and name.endswith(".json"):
            with open(os.path.join(args.out, name), encoding="utf-8") as fh:
                for sig, n in json.load(fh).items():
                    merged[sig] = merged.get(sig, 0) + n
    for sig, n in rec.seen.items():
        merged[sig] = max(merged.get(sig, 0), n)
    for sig in Recorder(args.out).seen:
        merged.setdefault(sig, 1)
    rec.seen = merged
    return _summary(args, rec, total, t0)


# --------------------------------------------------------------------------- replay


def replay(paths: list[str], timeout: float, mem_mb: int) -> int:
    from fuzz.worker import Worker

    bad = 0
    with Worker(timeout=timeout, mem_mb=mem_mb) as w:
        for p in paths:
            with open(p, "rb") as fh:
                res = w.run(fh.read())
            print(f"{p}: {res.status} {res.signature}")
            if not res.ok:
                bad += 1
                print(res.detail[-3000:])
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    if argv[:1] == ["replay"]:
        ap = argparse.ArgumentParser(prog="python -m fuzz.pipeline replay")
        ap.add_argument("files", nargs="+")
        ap.add_argument("--timeout", type=float, default=20.0)
        ap.add_argument("--mem-mb", type=int, default=2048)
        a = ap.parse_args(argv[1:])
        return replay(a.files, a.timeout, a.mem_mb)
    ap = argparse.ArgumentParser(prog="python -m fuzz.pipeline", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    try:
        import atheris  # noqa: F401
        default_engine = "atheris"
    except ImportError:
        default_engine = "random"
    ap.add_argument("--engine", choices=("atheris", "random"), default=default_engine)
    ap.add_argument("--runs", type=int, default=100_000, help="number of inputs (default 100000)")
    ap.add_argument("--seconds", type=float, default=24 * 3600, help="stop after this long")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", default=DEFAULT_CORPUS, help="real repositories to seed from (read at run time)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="crashes, findings.jsonl, summary.json")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per input before it is a hang")
    ap.add_argument("--mem-mb", type=int, default=2048, help="address-space limit of the fuzzed process")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.child:
        _atheris_child(args, extra)
        return 0
    if args.engine == "atheris":
        return run_atheris(args)
    return run_random(args)


if __name__ == "__main__":
    sys.exit(main())
