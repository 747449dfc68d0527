"""The cache is data: hostile, truncated and mistyped entries are ignored; entries round
trip exactly; the directory is capped (least recently used first), shown and cleared."""

import json
import math
import os
import pickle
import subprocess
import sys
import time

import pytest
from conftest import CORPUS, flux_ks, gotk_sync, needs_corpus

from gitlint_flux import cache as cache_mod
from gitlint_flux import codec
from gitlint_flux.cache import HEADER, MAGIC, Cache, code_stamp, default_dir, parse_size
from gitlint_flux.config import ConfigError, parse_config
from gitlint_flux.model import Document, Finding, Related, RuleInfo, RunReport, Skipped, YMap, YSeq


@pytest.fixture
def tree(repo):
    return repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\n  - c.yaml\n",
        "apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        # a duplicate key: a finding, so that a forged entry hiding it would show
        "apps/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  name: c\n",
        "apps/c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n  labels: &l {app: c}\n"
                       "  annotations: *l\n",
    })


def lint(root, cache_dir, *extra, env=None):
    r = subprocess.run([sys.executable, "-m", "gitlint_flux", "lint", "--format", "json", "--stats",
                        "--cache-dir", str(cache_dir), *extra, str(root)], capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode in (0, 1), r.stderr
    stats = next(x for x in r.stderr.splitlines() if x.startswith("stats:"))
    return json.loads(r.stdout)["findings"], stats


def entry_files(cache_dir):
    return sorted(p for p in cache_dir.rglob("*") if p.is_file() and p.name != "usage")


def header(kind: str) -> bytes:
    return MAGIC + bytes((codec.FORMAT,)) + codec.CODECS[kind][2] + code_stamp().encode() + b"\0"


class _RunsACommand:
    """Unpickling this runs a shell command (what a hostile cache entry would do)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_runs_a_command_is_never_loaded(tree, tmp_path):
    cache = tmp_path / "cache"
    cold, _ = lint(tree, cache, "--no-cache")
    assert {f["rule"] for f in cold} == {"FLX002"}
    lint(tree, cache)
    files = entry_files(cache)
    assert {p.parts[-3] for p in files} == {"runs", "files", "files-shared"}
    marker = tmp_path / "pwned"
    hostile = pickle.dumps((code_stamp(), _RunsACommand(marker)))
    pickle.loads(hostile)  # the payload works: it runs the command when unpickled
    assert marker.exists()
    marker.unlink()
    for variant in (lambda kind: header(kind) + hostile,  # today's header, a pickle after it
                    lambda kind: b"GLFC1" + hostile):  # the earlier format's magic
        for p in files:
            p.write_bytes(variant(p.parts[-3]))
        findings, stats = lint(tree, cache)
        assert findings == cold
        assert "run cache miss" in stats and "6 parsed" in stats
        assert not marker.exists()


def test_truncated_entries_are_ignored_and_rebuilt(tree, tmp_path):
    cache = tmp_path / "cache"
    cold, _ = lint(tree, cache)
    for cut in (HEADER - 1, HEADER + 5, None):
        for p in entry_files(cache):
            data = p.read_bytes()
            p.write_bytes(data[:cut if cut is not None else len(data) // 2])
        findings, stats = lint(tree, cache)
        assert findings == cold and "run cache miss" in stats and "6 parsed" in stats
    findings, stats = lint(tree, cache)
    assert findings == cold and "run cache hit" in stats  # rebuilt


def test_entries_of_the_wrong_type_are_ignored(tree, tmp_path):
    cache = tmp_path / "cache"
    cold, _ = lint(tree, cache)
    by_kind = {p.parts[-3]: p for p in entry_files(cache)}
    payload = {k: p.read_bytes()[HEADER:] for k, p in by_kind.items()}
    # a run entry where a file entry goes and the other way round, each with the header
    # its place expects
    by_kind["runs"].write_bytes(header("runs") + payload["files"])
    by_kind["files"].write_bytes(header("files") + payload["runs"])
    by_kind["files-shared"].write_bytes(header("files-shared") + payload["runs"])
    findings, stats = lint(tree, cache)
    assert findings == cold and "run cache miss" in stats and "6 parsed" in stats


def _valid_report() -> tuple:
    f = Finding("FLX002", "duplicate-key", "error", "key `name` twice", "apps/b.yaml", 5, 3, 5, 7,
                {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "", "name": "b"}, "hint", "https://x",
                [Related("apps/a.yaml", 1, 1, "first")], "f" * 32, [("warning", "in a template")])
    rules = {"FLX002": RuleInfo("FLX002", "duplicate-key", "error", "s", "d", "https://x")}
    return RunReport("gitlint-flux", "1.0", "/r", [f], ["apps/b.yaml"], [Skipped("x.yaml", "excluded")], 3,
                     rules), False, 3, {"apps/b.yaml": "ab" * 16, "gone.yaml": None}


def test_run_entry_round_trips_exactly_and_any_wrong_type_is_refused():
    value = _valid_report()
    back = codec.decode_run(codec.encode_run(value))
    assert back == value  # dataclass equality: every field, related and caps included
    assert back[0].findings[0].caps == [("warning", "in a template")]
    good = json.loads(codec.encode_run(value))
    # one wrong type anywhere: the whole entry is refused
    mutations = [
        lambda d: d[1][3][0].__setitem__(5, "5"),  # a finding's line as text
        lambda d: d[1][3][0].__setitem__(2, "fatal"),  # a severity that does not exist
        lambda d: d[1][3][0].__setitem__(9, {"kind": ["x"]}),  # a resource value that is a list
        lambda d: d[1][3][0][12][0].pop(),  # a related entry one field short
        lambda d: d[1][3][0][14].append(["error"]),  # a cap without its reason
        lambda d: d[1][4].append(7),  # a file name that is a number
        lambda d: d.__setitem__(2, 0),  # internal as an integer
        lambda d: d[4].__setitem__("x", 1),  # a racy digest that is a number
        lambda d: d.__setitem__(0, codec.FORMAT + 1),  # another format
        lambda d: d[1].append(None),  # a report with a field too many
    ]
    for mutate in mutations:
        d = json.loads(json.dumps(good))
        mutate(d)
        with pytest.raises((codec.CodecError, ValueError, TypeError)):
            codec.decode_run(json.dumps(d).encode())


def _file_value():
    m = YMap(1, 1)
    m["apiVersion"], m["kind"], m[7], m[None], m["f"], m["nan"] = "v1", "ConfigMap", True, None, 1.5, math.nan
    m._pv = b"".join(int(i).to_bytes(4, sys.byteorder, signed=True) for i in range(36))
    seq = YSeq(2, 3)
    seq.extend(["a", 2])
    seq.pos = [(2, 5, 2, 6), (3, 5, 3, 6)]  # unpacked: packed again on the way
    inner = YMap(4, 3)
    inner["x"] = "y"
    inner.pos = {"x": (4, 3, 4, 6, 4, 7)}
    seq.append(inner)
    seq._pl.append((4, 3, 5, 1))
    m["items"] = seq
    m.pos  # noqa: B018 - unpack the mapping's positions (as a finding would)
    m.pos["items"] = (6, 1, 6, 8, 9, 1)
    return {"a.yaml": ("d" * 32, [Document("a.yaml", 0, m, 1, 1), Document("a.yaml", 1, "text", 9, 1, 0, "", True)],
                       False, False)}


def same(a, b) -> bool:
    """Exactly equal: types, keys in order, values, line/col and every position."""
    if type(a) is not type(b):
        return False
    if isinstance(a, YMap):
        return (a.line, a.col) == (b.line, b.col) and [(type(k), k) for k in a] == [(type(k), k) for k in b] \
            and a.pos == b.pos and all(same(a[k], b[k]) for k in a)
    if isinstance(a, YSeq):
        return (a.line, a.col) == (b.line, b.col) and len(a) == len(b) and a.pos == b.pos \
            and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def same_files(a: dict, b: dict) -> bool:
    if list(a) != list(b):
        return False
    for rel in a:
        (da, docs_a, ta, sa), (db, docs_b, tb, sb) = a[rel], b[rel]
        if (da, ta, sa, len(docs_a)) != (db, tb, sb, len(docs_b)):
            return False
        for x, y in zip(docs_a, docs_b):
            fields = ("path", "index", "line", "column", "item", "origin", "name_hash")
            if [getattr(x, f) for f in fields] != [getattr(y, f) for f in fields] or not same(x.value, y.value):
                return False
    return True


def test_file_entry_round_trips_exactly_and_a_wrong_shape_is_refused():
    import msgspec

    value = _file_value()
    back = codec.decode_files(codec.encode_files_bytes(value))
    assert back["a.yaml"][1][0].value._pv is not None  # packed again
    assert same_files(value, back)
    top = msgspec.msgpack.decode(codec.encode_files_bytes(value))
    f = top[1]["a.yaml"]
    nodes = f[1]
    bad = []
    for mutate in (
        lambda n, f: n[-1].__setitem__(3, b"\0" * 23),  # positions one byte short
        lambda n, f: n[-1][4].__setitem__("apiVersion", ["v1"]),  # a list where a scalar goes
        lambda n, f: n[-1][6].__setitem__(0, 99),  # a node that does not exist
        lambda n, f: n[-1][6].__setitem__(0, -1),  # a negative index
        lambda n, f: n[-1][6].__setitem__(0, len(n) - 1),  # a node that contains itself
        lambda n, f: n[-1][5].__setitem__(0, "other"),  # a container under a key it does not have
        lambda n, f: n[-1].__setitem__(0, 9),  # an unknown kind of node
        lambda n, f: f[2][0].__setitem__(4, "1"),  # a document line as text
        lambda n, f: f.__setitem__(3, 1),  # is_template as an integer
    ):
        t = msgspec.msgpack.decode(codec.encode_files_bytes(value))
        mutate(t[1]["a.yaml"][1], t[1]["a.yaml"])
        try:
            codec.decode_files(msgspec.msgpack.encode(t))
        except Exception:
            continue
        bad.append(mutate)
    assert not bad
    assert nodes[-1][0] == 0  # the document's mapping is the last node (post-order)


def test_values_the_format_cannot_hold_leave_their_file_out():
    m = YMap(1, 1)
    m["n"] = 2 ** 70  # go-yaml would not read it as an int either, this parser does
    m._pv = bytes(24)
    value = {"big.yaml": ("d" * 32, [Document("big.yaml", 0, m, 1, 1)], False, False),
             "b\udcff.yaml": ("d" * 32, [Document("b\udcff.yaml", 0, "x", 1, 1)], False, False)}
    value.update(_file_value())
    assert list(codec.decode_files(codec.encode_files_bytes(value))) == ["a.yaml"]


@needs_corpus
def test_every_corpus_parse_round_trips_exactly():
    from gitlint_flux.engine import load, prepare, read_contents
    from gitlint_flux.load import ParseCache

    repos = sorted(p for p in CORPUS.iterdir() if p.is_dir())
    assert repos
    total = 0
    for root in repos:
        prep = prepare([str(root)], str(root), None)
        read_contents(prep)
        pcache = ParseCache()
        load([str(root)], str(root), None, prepared=prep, cache=pcache)
        fresh = pcache.fresh
        for kind, shared in (("files", False), ("files-shared", True)):
            part = {rel: v for rel, v in fresh.items() if v[3] == shared}
            back = codec.decode_files(codec.encode_files_bytes(part))
            assert len(back) == len(part), root.name  # no file left out
            assert same_files(part, back), root.name
        total += len(fresh)
    assert total > 2000


def _small_run(i: int) -> tuple:
    report, internal, docs, racy = _valid_report()
    report.root = f"/r{i}" + "x" * 2000
    return report, internal, docs, racy


def test_the_cap_evicts_the_least_recently_used(tmp_path):
    c = Cache(str(tmp_path / "c"), max_size=10**9)
    for i in range(6):
        c.put("runs", f"{i:02d}" + "0" * 38, _small_run(i))
    paths = sorted(p for p in (tmp_path / "c").rglob("*") if p.is_file() and p.name != "usage")
    size = paths[0].stat().st_size
    now = time.time()
    for i, p in enumerate(paths):  # entry 0 the oldest ... entry 5 the newest
        os.utime(p, (now - 1000 + i, now - 1000 + i))
    assert c.get("runs", "00" + "0" * 38) is not None  # a read makes entry 0 the most recent
    c.max_size = int(size * 6.5)  # room for six, and the seventh exceeds the cap
    c.put("runs", "06" + "0" * 38, _small_run(6))
    left = {e[0].rsplit("/", 1)[1][:2] for e in c.entries()}
    # down to three quarters of the cap: the four most recently used remain
    assert left == {"00", "04", "05", "06"}
    assert c.info()["size"] <= c.max_size * cache_mod.LOW_WATER
    assert int((tmp_path / "c" / "usage").read_text()) == c.info()["size"]


def test_the_running_total_is_counted_again_when_it_is_not_a_number(tmp_path):
    c = Cache(str(tmp_path / "c"))
    c.put("runs", "a" * 40, _small_run(0))
    (tmp_path / "c" / "usage").write_text("lots")
    c.put("runs", "b" * 40, _small_run(1))
    assert int((tmp_path / "c" / "usage").read_text()) == c.info()["size"] > 0


def test_the_cap_comes_from_the_environment_then_the_configuration(monkeypatch, tmp_path):
    assert Cache(None).max_size == 256 * 1024 * 1024
    assert Cache(None, max_size=1000).max_size == 1000
    monkeypatch.setenv("GITLINT_FLUX_CACHE_MAX_SIZE", "1G")
    assert Cache(None, max_size=1000).max_size == 1024 ** 3
    monkeypatch.setenv("GITLINT_FLUX_CACHE_MAX_SIZE", "lots")  # not a size: ignored
    assert Cache(None, max_size=1000).max_size == 1000
    assert [parse_size(v) for v in (1, "512", "64k", "256 MB", "2GiB", "0", -1, "1.5G", True, "10 MiBs")] == \
        [1, 512, 64 * 1024, 256 * 1024 ** 2, 2 * 1024 ** 3, None, None, None, None, None]
    assert parse_config("c.yaml", {"cache-max-size": "64MB"}).cache_max_size == 64 * 1024 ** 2
    with pytest.raises(ConfigError, match="cache-max-size"):
        parse_config("c.yaml", {"cache-max-size": "big"})


def test_the_environment_turns_the_cache_off(tree, tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "GITLINT_FLUX_NO_CACHE": "1"}
    lint(tree, cache, env=env)
    _, stats = lint(tree, cache, env=env)
    assert "0 from cache" in stats and not cache.exists()


def test_xdg_cache_home_is_honoured_unless_relative(monkeypatch, tmp_path):
    # XDG Base Directory Specification: a relative path in these variables is invalid and ignored
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_dir() == str(tmp_path / "xdg" / "gitlint-flux")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")
    assert default_dir() == str(tmp_path / "home" / ".cache" / "gitlint-flux")
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert default_dir() == str(tmp_path / "home" / ".cache" / "gitlint-flux")


def test_a_key_authenticates_entries(monkeypatch, tmp_path):
    key = "a" * 40
    monkeypatch.setenv("GITLINT_FLUX_CACHE_KEY", "secret")
    c = Cache(str(tmp_path / "c"))
    c.put("runs", key, _valid_report())
    assert c.get("runs", key) == _valid_report()
    path = tmp_path / "c" / "runs" / "aa" / key
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 1  # one bit of the payload changed: the MAC no longer matches
    path.write_bytes(bytes(blob))
    assert Cache(str(tmp_path / "c")).get("runs", key) is None
    c.put("runs", key, _valid_report())
    monkeypatch.setenv("GITLINT_FLUX_CACHE_KEY", "another")
    assert Cache(str(tmp_path / "c")).get("runs", key) is None
    monkeypatch.delenv("GITLINT_FLUX_CACHE_KEY")
    Cache(str(tmp_path / "c")).put("runs", key, _valid_report())  # written without a key
    monkeypatch.setenv("GITLINT_FLUX_CACHE_KEY", "secret")
    assert Cache(str(tmp_path / "c")).get("runs", key) is None  # a key asks for a MAC


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "gitlint_flux", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_cache_info_and_clean(tree, tmp_path):
    cache = tmp_path / "cache"
    r = cli("cache", "info", "--cache-dir", str(cache))
    assert r.returncode == 0 and "(not created yet)" in r.stdout and "entries:  0" in r.stdout
    lint(tree, cache)
    r = cli("cache", "info", "--cache-dir", str(cache), "--format", "json")
    info = json.loads(r.stdout)
    size = sum(p.stat().st_size for p in entry_files(cache))
    assert info["location"] == str(cache) and info["entries"] == 3 and info["size"] == size
    assert info["kinds"] == {"files": 1, "files-shared": 1, "runs": 1}
    r = cli("cache", "info", "--cache-dir", str(cache))
    assert f"location: {cache}\n" in r.stdout and "entries:  3 (files 1, files-shared 1, runs 1)" in r.stdout
    (cache / "notes.txt").write_text("mine")  # not the cache's: left alone
    r = cli("cache", "clean", "--cache-dir", str(cache))
    assert r.returncode == 0 and r.stdout.startswith("removed 3 entries")
    assert [p.name for p in cache.rglob("*")] == ["notes.txt"]
    assert json.loads(cli("cache", "info", "--cache-dir", str(cache), "--format", "json").stdout)["entries"] == 0
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}  # the default location
    assert f"location: {tmp_path / 'xdg' / 'gitlint-flux'}" in cli("cache", "info", env=env).stdout
