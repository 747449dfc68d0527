"""The cache (tested by counters, not timings) and the parallel parse."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import flux_ks, gotk_sync, widget_crd

from gitlint_flux import load as load_mod
from gitlint_flux.engine import Options, Stats, run


@pytest.fixture
def tree(repo):
    return repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\n",
        "apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        "apps/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
    })


def lint_stats(root, cache_dir, *extra):
    r = subprocess.run([sys.executable, "-m", "gitlint_flux", "lint", "--format", "json", "--stats",
                        "--cache-dir", str(cache_dir), *extra, str(root)], capture_output=True, text=True, timeout=60)
    assert r.returncode in (0, 1), r.stderr
    line = next(x for x in r.stderr.splitlines() if x.startswith("stats:"))
    nums = dict(part.strip().split(" ", 1)[::-1] for part in line[len("stats: "):].split(", ")
                if part.strip()[0].isdigit())
    return {k: int(v) for k, v in nums.items()}, line, json.loads(r.stdout)


def test_warm_run_parses_nothing_and_one_change_parses_one(tree, tmp_path):
    cache = tmp_path / "cache"
    cold, line, out1 = lint_stats(tree, cache)
    assert cold["parsed"] == 5 and "run cache miss" in line
    warm, line, out2 = lint_stats(tree, cache)
    assert warm["parsed"] == 0 and "run cache hit" in line
    assert out1 == out2
    (tree / "apps/b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  name: c\n")
    one, line, out3 = lint_stats(tree, cache)
    assert one["parsed"] == 1 and one["from cache"] == 4 and "run cache miss" in line
    assert [f["rule"] for f in out3["findings"]] == ["FLX002"]


def test_no_cache_writes_nothing(tree, tmp_path):
    cache = tmp_path / "cache"
    stats, line, _ = lint_stats(tree, cache, "--no-cache")
    assert "run cache off" in line and not cache.exists()


def test_configuration_change_invalidates_the_run(tree, tmp_path):
    cache = tmp_path / "cache"
    lint_stats(tree, cache)
    (tree / ".gitlint-flux.yaml").write_text("rules:\n  FLX107: off\n")
    stats, line, _ = lint_stats(tree, cache)
    assert "run cache miss" in line and stats["parsed"] == 0  # files still come from the cache


def test_tool_version_change_invalidates_everything(tree, tmp_path, monkeypatch):
    import gitlint_flux.cache as cache_mod

    cache = tmp_path / "cache"
    st = Stats()
    run(Options(paths=[str(tree)], use_cache=True, cache_dir=str(cache)), st)
    assert st.parsed == 5
    monkeypatch.setattr(cache_mod, "code_stamp", lambda: "another build")
    st2 = Stats()
    run(Options(paths=[str(tree)], use_cache=True, cache_dir=str(cache)), st2)
    assert st2.parsed == 5 and st2.run_cache == "miss"


def test_non_yaml_reference_target_invalidates_the_run(tree, tmp_path):
    cache = tmp_path / "cache"
    (tree / "apps/kustomization.yaml").write_text(
        "resources:\n  - a.yaml\n  - b.yaml\nconfigMapGenerator:\n  - name: g\n    files:\n      - conf.txt\n")
    _, _, out = lint_stats(tree, cache)
    assert [f["rule"] for f in out["findings"]] == ["FLX101"]
    (tree / "apps/conf.txt").write_text("x")
    _, line, out = lint_stats(tree, cache)
    assert "run cache miss" in line and out["findings"] == []


ENV_TREE = {
    "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
    "clusters/prod/kustomization.yaml": "resources:\n  - flux-system/gotk-sync.yaml\n  - apps.yaml\n"
                                        "configMapGenerator:\n  - name: vars\n    namespace: flux-system\n"
                                        "    envs:\n      - vars.env\ngeneratorOptions:\n"
                                        "  disableNameSuffixHash: true\n",
    "clusters/prod/vars.env": "FOO=x\n",
    "clusters/prod/apps.yaml": flux_ks("apps", "./apps", extra="  postBuild:\n    substituteFrom:\n"
                                                               "      - kind: ConfigMap\n        name: vars\n"),
    "apps/kustomization.yaml": "resources:\n  - cm.yaml\n",
    "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\n"
                    "data:\n  value: ${FOO}\n",
}


def test_a_generators_env_file_is_part_of_the_run(repo, tmp_path):
    """kustomize reads a generator's `envs:` file as data (not a manifest): the stored run
    holds only while it holds the same bytes, whatever its stat says."""
    root = repo(ENV_TREE)
    cache = tmp_path / "cache"
    _, line, out = lint_stats(root, cache)
    assert out["findings"] == []
    env = root / "clusters/prod/vars.env"
    st = env.stat()
    env.write_text("BAR=x\n")  # the same size; FOO is no longer defined
    os.utime(env, ns=(st.st_atime_ns, st.st_mtime_ns))
    _, line, out = lint_stats(root, cache)
    assert "run cache miss" in line and [f["rule"] for f in out["findings"]] == ["FLX701"]
    _, line, again = lint_stats(root, cache)
    assert "run cache hit" in line and again == out


def test_corrupt_and_foreign_entries_are_ignored(tree, tmp_path):
    cache = tmp_path / "cache"
    lint_stats(tree, cache)
    for dirpath, _dirs, names in os.walk(cache):
        for n in names:
            with open(os.path.join(dirpath, n), "wb") as fh:
                fh.write(b"garbage")
    stats, line, out = lint_stats(tree, cache)
    assert stats["parsed"] == 5 and "run cache miss" in line
    stats, line, _ = lint_stats(tree, cache)
    assert stats["parsed"] == 0  # rebuilt


def test_read_only_cache_directory_means_no_cache_said_once(tree, tmp_path):
    if os.geteuid() == 0:
        cache = tmp_path / "file-not-dir"
        cache.write_text("x")  # a file where the directory should be: unwritable even for root
    else:
        cache = tmp_path / "ro"
        cache.mkdir()
        cache.chmod(0o500)
    r = subprocess.run([sys.executable, "-m", "gitlint_flux", "lint", "--cache-dir", str(cache), str(tree)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert r.stderr.count("cache disabled for this run") == 1


def test_concurrent_runs_share_a_cache_safely(tree, tmp_path):
    cache = tmp_path / "cache"
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: lint_stats(tree, cache)[2], range(6)))
    assert all(r == results[0] for r in results)
    stats, line, _ = lint_stats(tree, cache)
    assert stats["parsed"] == 0 and "run cache hit" in line


def test_parallel_parse_gives_identical_output(tree, monkeypatch):
    from gitlint_flux.report.json import as_dict

    (tree / "apps/b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  name: c\n")
    (tree / "apps/bin.yaml").write_bytes(b"\x00\x01binary")
    monkeypatch.setattr(load_mod, "PARALLEL_MIN_BYTES", 10**12)
    single = run(Options(paths=[str(tree)]))[0]
    monkeypatch.setattr(load_mod, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(load_mod, "PARALLEL_MIN_CPUS", 0)
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    parallel = run(Options(paths=[str(tree)]))[0]
    assert forks, "no child parsed anything"
    assert as_dict(single) == as_dict(parallel)
    assert {f.rule for f in single.findings} >= {"FLX002", "FLX004"}  # duplicate key, binary file
    # a child that dies: its share is parsed by this process, with the same result
    monkeypatch.setattr(load_mod, "_parse_chunk", lambda items: os._exit(3))
    assert as_dict(run(Options(paths=[str(tree)]))[0]) == as_dict(single)


def test_parallel_parse_leaves_no_child_behind_when_this_process_fails(tree, monkeypatch):
    """Interrupted while parsing its own share, this process stops and reaps the children
    (otherwise blocked on full pipes for as long as a library caller lives)."""
    for i in range(40):  # enough for the children's pickles to fill their pipes
        (tree / f"apps/big{i}.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n"
                                                 + "".join(f"  k{j}: v{j}\n" for j in range(2000)))
    monkeypatch.setattr(load_mod, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(load_mod, "PARALLEL_MIN_CPUS", 0)
    monkeypatch.setattr(load_mod, "_cpus", lambda: 4)
    parent = os.getpid()
    real = load_mod.read_file

    def interrupted(*args, **kwargs):
        if os.getpid() == parent:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(load_mod, "read_file", interrupted)
    fds = set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    with pytest.raises(KeyboardInterrupt):
        run(Options(paths=[str(tree)]))
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left, reaped or running
    if fds is not None:
        assert set(os.listdir("/proc/self/fd")) <= fds


SAVE_PATH_PROBE = """
import sys
from gitlint_flux.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("jsonschema", "ruamel", "celpy", "kubernetes_validate")
               or m.startswith("gitlint_flux.schema"))
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
"""


def _heavy(args, stdin=None):
    r = subprocess.run([sys.executable, "-c", SAVE_PATH_PROBE, *args], input=stdin, capture_output=True,
                       text=True, timeout=60)
    line = next(x for x in r.stderr.splitlines() if x.startswith("HEAVY:"))
    return line[len("HEAVY:"):]


def test_save_path_imports_nothing_heavy(tree, tmp_path):
    assert _heavy(["--version"]) == ""
    assert _heavy(["rules"]) == ""
    assert _heavy(["explain", "FLX201"]) == ""
    target = tree / "apps" / "a.yaml"
    args = ["lint", "--cache-dir", str(tmp_path / "c"), "--root", str(tree), "--stdin-filename", str(target), "-"]
    assert _heavy(args, target.read_text()) != ""  # the first check validates: schemas are loaded
    assert _heavy(args, target.read_text()) == ""  # the same buffer again: the cached result


def test_run_key_does_not_depend_on_the_clock_and_a_racy_rewrite_is_caught(tree, tmp_path, monkeypatch):
    """Files changed in the last seconds are 'racy': their stat may survive another
    write within one timestamp tick. The stored run keeps their content hashes and a hit
    is checked against them; once the files age, the same key still hits."""
    from gitlint_flux import engine, runcache

    cache = str(tmp_path / "cache")

    def once():
        stats = Stats()
        report, _ = run(Options(paths=[str(tree)], root=str(tree), use_cache=True, cache_dir=cache), stats)
        return stats, report

    first, _ = once()  # the files were just written: all racy
    assert first.run_cache == "miss"
    monkeypatch.setattr(runcache, "RACY_NS", 0)  # now nothing is recent: the key must not move
    aged, _ = once()
    assert aged.run_cache == "hit"
    monkeypatch.undo()

    # a coarse-timestamp file system: a rewrite that leaves size and times as they were
    real = runcache.stat_signature
    frozen = real(engine.prepare([str(tree)], str(tree), None))
    (tree / "apps/b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  name: X\n")
    monkeypatch.setattr(runcache, "stat_signature", lambda prep: frozen)
    again, report = once()
    assert again.run_cache == "miss" and "FLX002" in {f.rule for f in report.findings}


def test_files_with_aliases_are_cached_with_their_sharing(tree, tmp_path):
    """Files whose documents share a value through a YAML alias go to their own entry,
    which writes each shared container and long string once (an alias bomb under the
    budget must not be written out once per reference), and a cached run reads both back
    with the sharing intact."""
    from gitlint_flux.cache import Cache, key_of

    (tree / "apps/kustomization.yaml").write_text("resources:\n  - a.yaml\n  - b.yaml\n  - c.yaml\n  - s.yaml\n")
    (tree / "apps/c.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: &l\n    app: c\n"
        "  annotations: *l\ndata:\n  k: v\n")
    # an alias to a long scalar: without sharing it would be written once per alias
    big = "x" * 100_000
    (tree / "apps/s.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a: &s " + big + "\n"
        + "".join(f"  k{i}: *s\n" for i in range(200)))
    cache = tmp_path / "cache"
    cold, _, out1 = lint_stats(tree, cache)
    c = Cache(str(cache))
    files_key = key_of("files", os.path.realpath(tree))
    entries = {kind: c.get(kind, files_key) for kind in ("files", "files-shared")}
    assert set(entries["files-shared"]) == {"apps/c.yaml", "apps/s.yaml"}
    assert "apps/a.yaml" in entries["files"] and "apps/c.yaml" not in entries["files"]
    assert sum(p.stat().st_size for p in cache.glob("files*/*/*")) < 1_000_000
    (cm,) = entries["files-shared"]["apps/c.yaml"][1]
    assert cm.value["metadata"]["labels"] is cm.value["metadata"]["annotations"]
    (sm,) = entries["files-shared"]["apps/s.yaml"][1]
    assert all(sm.value["data"][f"k{i}"] is sm.value["data"]["a"] for i in range(200))
    (tree / "apps/a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a2\n")
    one, _, out2 = lint_stats(tree, cache)
    assert one["parsed"] == 1 and one["from cache"] == 6
    uncached = subprocess.run([sys.executable, "-m", "gitlint_flux", "lint", "--format", "json", "--no-cache",
                               str(tree)], capture_output=True, text=True, timeout=60)
    assert out2["findings"] == json.loads(uncached.stdout)["findings"]


def test_dependency_upgrade_changes_the_stamp(tmp_path, monkeypatch):
    """A new kubernetes-validate (its schema files) invalidates cached results, found
    without importing it."""
    import importlib
    import time

    from gitlint_flux import cache as cache_mod

    pkg = tmp_path / "site" / "kubernetes_validate"
    (pkg / "kubernetes-json-schema" / "v1.30.0-local-strict").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()

    def stamp():
        monkeypatch.setattr(cache_mod, "_STAMP", None)
        return cache_mod.code_stamp()

    before = stamp()
    assert stamp() == before
    assert any(str(pkg) in p for p in cache_mod._dependency_parts())
    (pkg / "kubernetes-json-schema" / "v1.31.0-local-strict").mkdir()  # an upgrade adds a version
    os.utime(pkg / "kubernetes-json-schema", ns=(time.time_ns(), time.time_ns() + 10**9))
    assert stamp() != before




def test_crd_change_elsewhere_revalidates_the_documents_of_its_kind(tree, tmp_path):
    """The Widget file is unchanged and comes from the file cache; the CRD defining its
    kind changed, so the Widgets are validated again against the new schema."""
    (tree / "apps/kustomization.yaml").write_text("resources:\n  - a.yaml\n  - b.yaml\n  - crd.yaml\n  - w.yaml\n")
    (tree / "apps/crd.yaml").write_text(widget_crd("size: {type: integer}"))
    (tree / "apps/w.yaml").write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
                                      "  namespace: apps\nspec:\n  size: 3\n")
    cache = tmp_path / "cache"
    cold, _, out = lint_stats(tree, cache)
    assert [f["rule"] for f in out["findings"]] == []
    warm, line, _ = lint_stats(tree, cache)
    assert "run cache hit" in line and warm["parsed"] == 0
    (tree / "apps/crd.yaml").write_text(widget_crd("size: {type: string}"))
    after, line, out = lint_stats(tree, cache)
    assert "run cache miss" in line and after["parsed"] == 1 and after["from cache"] == 6
    assert after["validated"] >= 2  # the CRD and the Widget
    assert [(f["rule"], f["path"], f["line"]) for f in out["findings"]] == [("FLX202", "apps/w.yaml", 7)]


@pytest.mark.parametrize("cpu_max, cap", [("150000 100000\n", 2), ("50000 100000\n", 1), ("max 100000\n", None)])
def test_parallel_parse_respects_a_cgroup_cpu_quota(monkeypatch, cpu_max, cap):
    import io

    real_open = open

    def fake_open(path, *args, **kwargs):
        if path == "/sys/fs/cgroup/cpu.max":
            return io.StringIO(cpu_max)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    monkeypatch.setattr(load_mod, "open", fake_open, raising=False)
    assert load_mod._cpus() == (cap if cap is not None else 64)
