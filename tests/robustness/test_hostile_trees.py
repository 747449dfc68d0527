"""Hostile trees: links, paths that leave the root, odd files, odd names, big trees.
Each run is a subprocess under limits; the audited runs also prove that nothing outside
the root is opened or listed."""

from __future__ import annotations

import os
import subprocess

import pytest

from .harness import (
    HANG_TIMEOUT, KUSTOMIZATION, assert_ran, audited_lint, bootstrap, cm, flux_ks, lint,
)

MODES = ["walk", "git"]


def git_init(root) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True, capture_output=True)


def opened_outside(log, root) -> list[str]:
    """Lines of the audit log naming a path under the watched directory but outside the root."""
    if not log.exists():
        return []
    r = os.path.realpath(root)
    out = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        path = line.split(" ", 2)[2]
        real = os.path.realpath(path)
        if not (real == r or real.startswith(r + os.sep)) or not (path == str(root) or path.startswith(str(root) + os.sep)):
            out.append(line)
    return out


# --------------------------------------------------------------------------- symlinks


@pytest.mark.parametrize("mode", MODES)
def test_symlink_loops(tree, mode):
    root = tree({"a.yaml": cm("a")})
    os.symlink("loop2.yaml", root / "loop1.yaml")
    os.symlink("loop1.yaml", root / "loop2.yaml")
    os.symlink(".", root / "dirloop")
    os.makedirs(root / "d/e")
    os.symlink("../..", root / "d/e/up")
    if mode == "git":
        git_init(root)
    res = assert_ran(lint(root, timeout=30))
    assert res.findings() == [("FLX006", "loop1.yaml", 1, 1), ("FLX006", "loop2.yaml", 1, 1)], res.describe()
    assert res.rc == 1


def test_two_self_links_under_a_flux_path(tree):
    root = tree({**bootstrap(), "clusters/prod/apps.yaml": flux_ks("apps", "./apps"), "apps/cm.yaml": cm("a")})
    os.symlink(".", root / "apps/x")
    os.symlink(".", root / "apps/y")
    res = assert_ran(lint(root, timeout=HANG_TIMEOUT, cpu=int(HANG_TIMEOUT)))
    assert res.findings() == [], res.describe()


@pytest.mark.parametrize("mode", MODES)
def test_symlinks_to_a_file_and_a_directory_outside_the_root(tree, tmp_path, mode):
    outside = tmp_path / "outside"
    (outside / "secret.yaml").write_text(cm("secret", "  dup: 1\n  dup: 2\n"))
    root = tree({**bootstrap(), "clusters/prod/apps.yaml": flux_ks("apps", "./apps")})
    os.makedirs(root / "apps")
    os.symlink(outside / "secret.yaml", root / "link.yaml")
    os.symlink(outside, root / "outdir")
    os.symlink(outside, root / "apps/outdir")
    os.symlink(outside / "secret.yaml", root / "apps/secret.yaml")
    if mode == "git":
        git_init(root)
    log = tmp_path / "audit.log"
    res = assert_ran(audited_lint(root, log=log, watch=tmp_path))
    assert res.findings() == [
        ("FLX007", "apps/outdir", 1, 1), ("FLX007", "apps/secret.yaml", 1, 1),
        ("FLX007", "link.yaml", 1, 1), ("FLX007", "outdir", 1, 1),
    ], res.describe()
    assert res.rc == 1
    assert opened_outside(log, root) == []


def test_sourceignore_symlink_outside_is_not_read(tree, tmp_path):
    (tmp_path / "outside" / "ignore").write_text("*.yaml\n")
    root = tree({**bootstrap(), "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
                 "apps/values.yaml": "replicas: 1\n"})
    os.symlink(tmp_path / "outside" / "ignore", root / ".sourceignore")
    log = tmp_path / "audit.log"
    res = assert_ran(audited_lint(root, log=log, watch=tmp_path))
    assert opened_outside(log, root) == []
    # the outside patterns did not hide apps/values.yaml from the generated kustomization
    assert ("FLX104", "apps/values.yaml", 1, 1) in res.findings(), res.describe()


# --------------------------------------------------------------------------- references that leave the root

ESCAPES = """resources:
  - ../../../../etc/passwd
  - /etc/passwd
  - https://github.com/example/repo//deploy?ref=v1.0.0
  - file:///etc/passwd
  - ./ok.yaml
configMapGenerator:
  - name: g
    files:
      - key=../../../../etc/hostname
    envs:
      - /etc/environment
patches:
  - path: ../../../../etc/shadow
"""


def test_kustomization_references_outside_the_root_are_findings_and_never_read(tree, tmp_path):
    root = tree({"app/kustomization.yaml": KUSTOMIZATION + ESCAPES, "app/ok.yaml": cm("ok")})
    log = tmp_path / "audit.log"
    res = assert_ran(audited_lint(root, log=log, watch="/etc"))
    assert res.findings() == [
        ("FLX007", "app/kustomization.yaml", 4, 5),
        ("FLX007", "app/kustomization.yaml", 5, 5),
        ("FLX007", "app/kustomization.yaml", 12, 13),
        ("FLX007", "app/kustomization.yaml", 14, 9),
        ("FLX007", "app/kustomization.yaml", 16, 11),
    ], res.describe()
    assert res.rc == 1
    assert not log.exists() or log.read_text() == ""


def test_flux_paths_outside_the_root(tree, tmp_path):
    root = tree({**bootstrap(),
                 "clusters/prod/up.yaml": flux_ks("up", "../../../../etc"),
                 "clusters/prod/abs.yaml": flux_ks("abs", "/etc", extra="  components:\n    - /etc/x\n")})
    log = tmp_path / "audit.log"
    res = assert_ran(audited_lint(root, log=log, watch="/etc"))
    # a leading `/` is the source's root (Flux): /etc is `etc` in the repository, missing
    assert res.findings() == [("FLX105", "clusters/prod/abs.yaml", 8, 9), ("FLX007", "clusters/prod/up.yaml", 8, 9)], \
        res.describe()
    assert not log.exists() or log.read_text() == ""


def test_nul_byte_in_a_reference(tree):
    root = tree({"kustomization.yaml": KUSTOMIZATION + 'resources:\n  - "a\\0b.yaml"\n  - "x\\0/../../etc"\n'})
    res = assert_ran(lint(root))
    # `x\0/../../etc` normalises to `../etc`: it leaves the root
    assert res.findings() == [("FLX101", "kustomization.yaml", 4, 5), ("FLX007", "kustomization.yaml", 5, 5)], \
        res.describe()


# --------------------------------------------------------------------------- odd files


@pytest.mark.parametrize("mode", MODES)
def test_directory_named_like_a_yaml_file(tree, mode):
    root = tree({"dir.yaml/cm.yaml": cm("inner"), "kustomization.yaml/x.txt": "",
                 "app/kustomization.yaml": KUSTOMIZATION + "resources:\n  - ../dir.yaml\n"})
    if mode == "git":
        git_init(root)
    res = assert_ran(lint(root))
    assert res.findings() == [("FLX102", "app/kustomization.yaml", 4, 5)], res.describe()
    assert res.skipped().get("dir.yaml", "a directory named like a YAML file") == "a directory named like a YAML file"


@pytest.mark.parametrize("name", ["pipe.yaml", ".sourceignore"])
def test_fifo_does_not_block(tree, name):
    root = tree({"a.yaml": cm("a")})
    os.mkfifo(root / name)
    res = assert_ran(lint(root, timeout=HANG_TIMEOUT))
    assert res.findings() in ([], [("FLX006", name, 1, 1)]) or name in res.skipped(), res.describe()


def test_file_removed_between_listing_and_reading(tree, tmp_path):
    root = tree({"a.yaml": cm("a"), "gone.yaml": cm("gone")})
    res = assert_ran(audited_lint(root, log=tmp_path / "audit.log", vanish=root / "gone.yaml"))
    assert res.findings() == [("FLX006", "gone.yaml", 1, 1)], res.describe()
    assert res.messages("FLX006") == ["cannot read file: No such file or directory"]
    assert res.rc == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file; covered by the FIFO and vanish tests")
def test_permission_denied(tree):
    root = tree({"a.yaml": cm("a"), "locked.yaml": cm("locked")})
    os.chmod(root / "locked.yaml", 0)
    try:
        res = assert_ran(lint(root))
    finally:
        os.chmod(root / "locked.yaml", 0o644)
    assert res.findings() == [("FLX006", "locked.yaml", 1, 1)]


def test_ten_thousand_empty_files(tree):
    root = tree({"a.yaml": cm("a")})
    d = root / "empty"
    d.mkdir()
    for i in range(10_000):
        (d / f"f{i:05d}.yaml").touch()
    res = assert_ran(lint(root, timeout=60), 0)
    assert res.findings(None) == []
    assert len(res.skipped()) == 10_000
    assert set(res.skipped().values()) == {"no Kubernetes objects (no apiVersion/kind)"}
    assert res.seconds < 30, res.describe()


@pytest.mark.parametrize("mode", MODES)
def test_spaces_and_non_ascii_names_through_kustomize_and_flux(tree, mode):
    root = tree({
        **bootstrap(),
        "clusters/prod/apps.yaml": flux_ks("apps", '"./my apps/données"'),
        "my apps/données/kustomization.yaml": KUSTOMIZATION + 'resources:\n  - "café au lait.yaml"\n'
                                                             '  - 日本/設定 1.yml\n  - "missing é.yaml"\n',
        "my apps/données/café au lait.yaml": cm("cafe"),
        "my apps/données/日本/設定 1.yml": cm("jp", "  dup: 1\n  dup: 2\n"),
    })
    if mode == "git":
        git_init(root)
    res = assert_ran(lint(root))
    assert res.findings() == [
        ("FLX101", "my apps/données/kustomization.yaml", 6, 5),
        ("FLX002", "my apps/données/日本/設定 1.yml", 9, 3),
    ], res.describe()


@pytest.mark.parametrize("mode", MODES)
def test_file_name_that_is_not_utf8(tree, mode):
    root = tree({"a.yaml": cm("a")})
    with open(os.path.join(os.fsencode(root), b"caf\xe9.yaml"), "wb") as fh:
        fh.write(cm("latin", "  dup: 1\n  dup: 2\n").encode())
    if mode == "git":
        git_init(root)
    res = assert_ran(lint(root))
    got = res.findings()
    assert len(got) == 1 and got[0][0] == "FLX002" and got[0][2:] == (9, 3), res.describe()


def test_1500_nested_directories(tree):
    root = tree({"a.yaml": cm("a")})
    deep = str(root)
    for _ in range(1500):  # os.makedirs itself recurses once per level
        deep = os.path.join(deep, "d")
        os.mkdir(deep)
    with open(os.path.join(deep, "cm.yaml"), "w") as fh:
        fh.write(cm("deep", "  dup: 1\n  dup: 2\n"))
    try:
        res = assert_ran(lint(root, timeout=60))
        got = res.findings()
        assert len(got) == 1 and got[0][0] == "FLX002" and got[0][1].count("/") == 1500, res.describe()
    finally:  # shutil.rmtree (pytest's clean-up) recurses once per level too
        os.unlink(os.path.join(deep, "cm.yaml"))
        while deep != str(root):
            os.rmdir(deep)
            deep = os.path.dirname(deep)


# --------------------------------------------------------------------------- ignore patterns


@pytest.mark.parametrize("pattern", ["[z-a].yaml", "[!]", "[]]"])
def test_invalid_bracket_expression_in_sourceignore(tree, pattern):
    root = tree({**bootstrap(), ".sourceignore": pattern + "\n", "clusters/prod/cm.yaml": cm("a")})
    res = assert_ran(lint(root), 0)
    assert res.findings() == []


def test_invalid_bracket_range_in_config_exclude(tree):
    root = tree({".gitlint-flux.yaml": 'exclude: ["[z-a]"]\n', "cm.yaml": cm("a")})
    res = lint(root)
    assert not res.timed_out and "Traceback" not in res.stderr, res.describe()
    assert res.rc in (0, 2), res.describe()


@pytest.mark.parametrize("pattern", ["*a" * 14 + "b", "/" + "**/" * 12 + "x"], ids=["stars", "double-stars"])
def test_sourceignore_pattern_redos(tree, pattern):
    files = {**bootstrap(), ".sourceignore": pattern + "\n",
             "clusters/prod/" + "/".join(["a" * 30] * 14) + "/" + "a" * 40 + ".yaml": cm("a")}
    root = tree(files)
    res = assert_ran(lint(root, timeout=HANG_TIMEOUT, cpu=int(HANG_TIMEOUT)))
    assert res.findings() == []
