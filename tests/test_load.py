"""Loading through the whole pipeline: encodings, size limit, skips, symlinks, paths."""

from __future__ import annotations

import codecs
import os
import subprocess
import threading

import pytest

from conftest import flux_ks, found, gotk_sync, graph_of, lint

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n"
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
# a Go template that does not parse as YAML (line 5 `{{- if` is a key without ':')
GOTPL = (
    "apiVersion: v1\n"
    "kind: ConfigMap\n"
    "metadata:\n"
    "  name: {{ .Name }}\n"
    "  {{- if .X }}\n"
    "  namespace: x\n"
    "  {{- end }}\n"
)
YAML_NAMES = (".yaml", ".yml", ".j2")


def cm(name: str) -> str:
    return CM.replace("{name}", name)


def skipped(report) -> dict[str, str]:
    return {s.path: s.reason for s in report.skipped}


def names(graph, rel: str) -> list[tuple]:
    return [(d.index, d.item, d.kind, d.name, d.line, d.column) for d in graph.files[rel].documents]


def git_init(root) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True, capture_output=True)


def snapshot(root) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    out["."] = os.lstat(root).st_mtime_ns
    return out


def run_with_timeout(fn, seconds: float = 15.0):
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # pragma: no cover - reported below
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "lint did not finish (hang)"
    if "error" in box:
        raise box["error"]
    return box["value"]


# --------------------------------------------------------------------------- encodings


def test_bom_and_utf16_files_are_parsed_and_linted(repo):
    root = repo({
        "bom.yaml": codecs.BOM_UTF8 + cm("bom").encode(),
        "u16le.yaml": cm("u16-native").replace("a: b", "a: é").encode("utf-16"),  # BOM + native order (LE here)
        "u16be.yaml": codecs.BOM_UTF16_BE + cm("u16be").encode("utf-16-be"),
        "u16le-explicit.yaml": codecs.BOM_UTF16_LE + cm("u16le").encode("utf-16-le"),
        "u32.yaml": cm("u32").encode("utf-32"),
    })
    report = lint(root)
    assert report.findings == []
    assert report.files == ["bom.yaml", "u16be.yaml", "u16le-explicit.yaml", "u16le.yaml", "u32.yaml"]
    assert report.skipped == []
    g = graph_of(root)
    assert names(g, "bom.yaml") == [(0, None, "ConfigMap", "bom", 1, 1)]
    assert names(g, "u16le.yaml") == [(0, None, "ConfigMap", "u16-native", 1, 1)]
    assert names(g, "u16be.yaml") == [(0, None, "ConfigMap", "u16be", 1, 1)]
    assert names(g, "u16le-explicit.yaml") == [(0, None, "ConfigMap", "u16le", 1, 1)]
    assert names(g, "u32.yaml") == [(0, None, "ConfigMap", "u32", 1, 1)]
    # the BOM is not part of the first key
    assert list(g.files["bom.yaml"].documents[0].value)[0] == "apiVersion"


@pytest.mark.parametrize("encode", [
    lambda s: codecs.BOM_UTF8 + s.encode("utf-8"),
    lambda s: s.encode("utf-16"),
    lambda s: codecs.BOM_UTF16_BE + s.encode("utf-16-be"),
], ids=["utf-8-bom", "utf-16", "utf-16-be"])
def test_positions_in_bom_files_are_text_positions(repo, encode):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: é\n  name: y\n"
    root = repo({"dup.yaml": encode(text)})
    assert found(lint(root)) == [("FLX002", "dup.yaml", 5, 3)]


def test_latin1_is_an_encoding_error_at_the_bad_byte(repo):
    root = repo({"latin.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n"})
    report = lint(root)
    assert found(report) == [("FLX004", "latin.yaml", 4, 12)]
    assert report.findings[0].message == "file is not valid UTF-8: invalid continuation byte"
    assert report.files == ["latin.yaml"]
    assert graph_of(root).files["latin.yaml"].documents == []


def test_bad_byte_column_counts_characters_before_it(repo):
    root = repo({"x.yaml": "kind: ConfigMap\nname: ééé".encode() + b"\xff\n"})
    # "name: ééé" is 9 characters (12 bytes): the bad byte is column 10
    assert found(lint(root), "FLX004") == [("FLX004", "x.yaml", 2, 10)]


def test_nul_byte_is_a_binary_file(repo):
    root = repo({"bin.yaml": b"apiVersion: v1\nkind: C\x00onfigMap\n"})
    report = lint(root)
    assert found(report) == [("FLX004", "bin.yaml", 2, 8)]
    assert report.findings[0].message == "binary file (NUL byte) named like YAML; it is not read"
    assert graph_of(root).files["bin.yaml"].documents == []


def test_latin1_after_utf8_bom_position(repo):
    root = repo({"bom-latin.yaml": codecs.BOM_UTF8 + b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n"})
    assert found(lint(root)) == [("FLX004", "bom-latin.yaml", 4, 12)]


def test_invalid_utf16_position(repo):
    data = "apiVersion: v1\nkind: ab".encode("utf-16") + b"\x00\xd8" + "cd\n".encode("utf-16-le")
    root = repo({"u16-bad.yaml": data})
    report = lint(root)
    assert report.findings[0].message == "file is not valid UTF-16: illegal UTF-16 surrogate"
    assert found(report) == [("FLX004", "u16-bad.yaml", 2, 9)]


def test_nul_in_utf16_position(repo):
    root = repo({"u16-nul.yaml": "apiVersion: v1\nkind: ab\0c\n".encode("utf-16")})
    assert found(lint(root)) == [("FLX004", "u16-nul.yaml", 2, 9)]


def test_empty_and_comment_only_files_are_skipped(repo):
    root = repo({"empty.yaml": b"", "comments.yaml": "# just\n# comments\n", "blank.yml": "\n\n"})
    report = lint(root)
    assert report.findings == []
    assert report.files == []
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("blank.yml", "no Kubernetes objects (no apiVersion/kind)"),
        ("comments.yaml", "no Kubernetes objects (no apiVersion/kind)"),
        ("empty.yaml", "no Kubernetes objects (no apiVersion/kind)"),
    ]


def test_crlf_file_positions(repo):
    root = repo({"crlf.yaml": b"apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: a\r\n  name: b\r\n"})
    report = lint(root)
    assert found(report) == [("FLX002", "crlf.yaml", 5, 3)]
    assert report.findings[0].message == 'mapping key "name" already defined at line 4'


def test_multi_document_file_drops_empty_documents(repo):
    root = repo({"multi.yaml": "---\n# nothing\n---\n" + cm("a") + "---\n---\n" + cm("b")})
    report = lint(root)
    assert report.findings == []
    assert report.documents == 2
    assert names(graph_of(root), "multi.yaml") == [
        (1, None, "ConfigMap", "a", 4, 1), (3, None, "ConfigMap", "b", 12, 1)]


def test_alias_bomb_and_deep_nesting_through_the_pipeline(repo):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, n in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{n}: &{n} [" + ", ".join([f"*{prev}"] * 9) + "]")
    root = repo({
        "bomb.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n"
                     + "".join("  " + ln + "\n" for ln in lines),
        "deep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\nx: " + "[" * 20000 + "]" * 20000 + "\n",
    })
    report = lint(root)
    got = found(report)
    assert got[0] == ("FLX003", "bomb.yaml", 11, 14)
    # our nesting limit (500) or libyaml's own (1000, libyaml >= 0.2.6)
    assert got[1:] in ([("FLX003", "deep.yaml", 5, 503)], [("FLX003", "deep.yaml", 5, 1003)])


# --------------------------------------------------------------------------- size limit


def test_file_over_max_file_size_is_not_read(repo):
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  name: dup\ndata:\n  pad: \"x"
    big = head + "x" * (2000 - len(head) - 2) + '"\n'
    assert len(big.encode()) == 2000
    exact = cm("exact")
    exact = exact + "  pad: " + "y" * (1000 - len(exact) - 8) + "\n"
    assert len(exact.encode()) == 1000
    root = repo({".gitlint-flux.yaml": "max-file-size: 1000\n", "big.yaml": big, "exact.yaml": exact})
    report = lint(root)
    assert found(report) == [("FLX005", "big.yaml", 1, 1)]  # no FLX002: the file is not parsed
    assert report.findings[0].message == "file is 2,000 bytes, over the 1,000-byte limit; it is not read"
    assert "big.yaml" in report.files and "exact.yaml" in report.files
    g = graph_of(root)
    assert g.files["big.yaml"].documents == [] and g.files["big.yaml"].text is None
    assert names(g, "exact.yaml") == [(0, None, "ConfigMap", "exact", 1, 1)]


# --------------------------------------------------------------------------- skipped files


def test_non_manifest_files_are_skipped_with_a_reason(repo):
    root = repo({
        "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "chart/values.yaml": "x: 1\n",
        "chart/templates/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.x }}\n",
        "t.yaml.j2": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ x }}\n",
        "mj.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n#% if x %#\n  namespace: b\n#% endif %#\n",
        ".github/workflows/ci.yaml": "on: push\njobs: {}\n",
        ".gitlab-ci.yml": "stages: [a]\n",
        "values.yaml": "replicas: 1\n",
    })
    report = lint(root)
    assert report.findings == []
    assert report.files == []
    assert skipped(report) == {
        ".github/workflows/ci.yaml": "GitHub configuration",
        ".gitlab-ci.yml": "GitLab CI configuration",
        "chart/Chart.yaml": "part of the Helm chart chart",
        "chart/templates/deploy.yaml": "Helm chart template (chart chart)",
        "chart/values.yaml": "part of the Helm chart chart",
        "mj.yaml": "Jinja template (#% %# delimiters)",
        "t.yaml.j2": "Jinja template (*.j2)",
        "values.yaml": "no Kubernetes objects (no apiVersion/kind)",
    }
    assert "Helm" in skipped(report)["chart/templates/deploy.yaml"]


def test_template_braces_inside_a_yaml_string_are_linted(repo):
    root = repo({"cm.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tpl\ndata: {x: "{{ .Foo }}"}\n'})
    report = lint(root)
    assert report.files == ["cm.yaml"]
    assert report.skipped == []
    assert report.findings == []
    doc = graph_of(root).files["cm.yaml"].documents[0]
    assert doc.value["data"] == {"x": "{{ .Foo }}"}
    assert doc.value["data"].pos["x"] == (5, 8, 5, 11, 5, 23)


def test_unreferenced_go_template_is_skipped(repo):
    root = repo({"app/gotpl.yaml": GOTPL})
    report = lint(root)
    assert report.findings == []
    assert report.files == []
    assert skipped(report) == {"app/gotpl.yaml": "Go template (does not parse as YAML)"}


def test_go_template_applied_by_a_root_is_a_syntax_error(repo):
    root = repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./app"),
        "app/kustomization.yaml": KUSTOMIZATION + "resources:\n  - gotpl.yaml\n",
        "app/gotpl.yaml": GOTPL,
    })
    report = lint(root)
    assert found(report, "FLX001") == [("FLX001", "app/gotpl.yaml", 6, 3)]
    assert report.findings[0].message == "could not find expected ':' (while scanning a simple key at line 5, column 3)"
    assert "app/gotpl.yaml" in report.files
    assert "app/gotpl.yaml" not in skipped(report)


def test_go_template_listed_in_a_standalone_kustomization_is_a_syntax_error(repo):
    root = repo({
        "app/kustomization.yaml": KUSTOMIZATION + "resources:\n  - gotpl.yaml\n",
        "app/gotpl.yaml": GOTPL,
    })
    report = lint(root)
    assert found(report, "FLX001") == [("FLX001", "app/gotpl.yaml", 6, 3)]


def test_duplicate_key_in_manifest_with_braces_is_not_a_go_template(repo):
    root = repo({"cm.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tpl\ndata:\n'
                            '  x: "{{ .Foo }}"\n  x: "y"\n'})
    report = lint(root)
    assert skipped(report) == {}
    assert found(report) == [("FLX002", "cm.yaml", 7, 3)]


def test_kind_list_items_become_documents(repo):
    items = (
        "apiVersion: v1\n"
        "kind: List\n"
        "items:\n"
        "  - apiVersion: v1\n"
        "    kind: ConfigMap\n"
        "    metadata:\n"
        "      name: one\n"
        "  - apiVersion: v1\n"
        "    kind: ConfigMap\n"
        "    metadata:\n"
        "      name: two\n"
    )
    root = repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./app"),
        "app/kustomization.yaml": KUSTOMIZATION + "namespace: demo\nresources:\n  - list.yaml\n",
        "app/list.yaml": items,
        "orphan/list.yaml": items,
    })
    report = lint(root)
    assert found(report) == [("FLX107", "orphan/list.yaml", 4, 5)]
    assert report.findings[0].message == "no Flux root applies the 1 file under `orphan/` (2 objects, first ConfigMap/one)"
    g = graph_of(root)
    assert names(g, "app/list.yaml") == [(0, 0, "ConfigMap", "one", 4, 5), (0, 1, "ConfigMap", "two", 8, 5)]
    applied = [[(a.scope, a.namespace, a.name) for a in g.applied(d)] for d in g.files["app/list.yaml"].documents]
    assert applied == [[("clusters/prod", "demo", "one")], [("clusters/prod", "demo", "two")]]
    # the List wrapper itself is no object
    assert all(d.kind != "List" for d in g.files["app/list.yaml"].documents)


# --------------------------------------------------------------------------- symlinks and odd paths


def test_symlink_outside_the_root_is_not_read(repo, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(cm("s") + "  a: dup\n")
    root = repo({"a.yaml": cm("a")})
    os.symlink(outside / "secret.yaml", root / "link.yaml")
    os.symlink(outside, root / "outdir")
    report = lint(root)
    assert found(report) == [("FLX007", "link.yaml", 1, 1), ("FLX007", "outdir", 1, 1)]
    assert report.findings[0].message == (
        f"symlink points outside the repository ({outside / 'secret.yaml'}); it is not read")
    assert report.files == ["a.yaml"]
    g = graph_of(root)
    assert "link.yaml" not in g.files
    assert not any(p.startswith("outdir") for p in g.files)


def test_symlink_outside_the_root_is_accounted_for(repo, tmp_path):
    (tmp_path / "secret.yaml").write_text(cm("s"))
    root = repo({"a.yaml": cm("a")})
    os.symlink(tmp_path / "secret.yaml", root / "link.yaml")
    report = lint(root)
    assert "link.yaml" in set(report.files) | set(skipped(report))


def test_symlink_loops_do_not_hang(repo):
    root = repo({"a.yaml": cm("a")})
    os.symlink(root / "loop1.yaml", root / "loop2.yaml")
    os.symlink(root / "loop2.yaml", root / "loop1.yaml")
    os.symlink("self.yaml", root / "self.yaml")
    os.symlink(".", root / "dirloop")
    os.symlink("dangling-target.yaml", root / "dangling.yaml")
    report = run_with_timeout(lambda: lint(root))
    assert found(report) == [
        ("FLX006", "dangling.yaml", 1, 1),
        ("FLX006", "loop1.yaml", 1, 1),
        ("FLX006", "loop2.yaml", 1, 1),
        ("FLX006", "self.yaml", 1, 1),
    ]
    assert report.findings[0].message == "cannot read file: No such file or directory"
    assert all(f.message.startswith("cannot read file: ") for f in report.findings)
    assert report.files == ["a.yaml", "dangling.yaml", "loop1.yaml", "loop2.yaml", "self.yaml"]


def test_symlink_inside_the_root_is_linted(repo):
    root = repo({"a.yaml": cm("a") + "  a: dup\n"})
    os.symlink("a.yaml", root / "alias.yaml")
    assert found(lint(root)) == [("FLX002", "a.yaml", 7, 3), ("FLX002", "alias.yaml", 7, 3)]


@pytest.mark.parametrize("in_git", [False, True], ids=["walk", "git"])
def test_directory_named_like_yaml(repo, in_git):
    root = repo({"foo.yaml/inner.yaml": cm("inner") + "  a: dup\n", "foo.yml/.keep": ""})
    if in_git:
        git_init(root)
    report = lint(root)
    assert found(report) == [("FLX002", "foo.yaml/inner.yaml", 7, 3)]
    assert report.files == ["foo.yaml/inner.yaml"]
    assert "foo.yaml" not in report.files and "foo.yml" not in report.files
    # the directory itself is not a file: absent from the skips, or skipped as a directory
    for d in ("foo.yaml", "foo.yml"):
        assert skipped(report).get(d, "a directory named like a YAML file") == "a directory named like a YAML file"
    assert graph_of(root).files.keys() == {"foo.yaml/inner.yaml"}


@pytest.mark.parametrize("in_git", [False, True], ids=["walk", "git"])
def test_paths_with_spaces_and_non_ascii(repo, in_git):
    root = repo({
        "my dir/with space.yaml": cm("space") + "  a: dup\n",
        "données/café.yaml": cm("cafe") + "  a: dup\n",
        "日本/設定 1.yml": cm("jp") + "  a: dup\n",
    })
    if in_git:
        git_init(root)
    report = lint(root)
    assert found(report) == [
        ("FLX002", "données/café.yaml", 7, 3),
        ("FLX002", "my dir/with space.yaml", 7, 3),
        ("FLX002", "日本/設定 1.yml", 7, 3),
    ]
    assert report.files == ["données/café.yaml", "my dir/with space.yaml", "日本/設定 1.yml"]
    # a non-ASCII path named on the command line selects its findings
    sel = lint(root, str(root / "données" / "café.yaml"))
    assert found(sel) == [("FLX002", "données/café.yaml", 7, 3)]
    assert sel.files == ["données/café.yaml"]
    g = graph_of(root)
    assert names(g, "日本/設定 1.yml") == [(0, None, "ConfigMap", "jp", 1, 1)]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file(repo):
    root = repo({"a.yaml": cm("a"), "locked.yaml": cm("locked")})
    os.chmod(root / "locked.yaml", 0)
    try:
        report = lint(root)
    finally:
        os.chmod(root / "locked.yaml", 0o644)
    assert found(report) == [("FLX006", "locked.yaml", 1, 1)]
    assert report.findings[0].message == "cannot read file: Permission denied"


def test_unreadable_file_simulated(repo, monkeypatch):
    """The same path without relying on permissions (works as root)."""
    root = repo({"a.yaml": cm("a"), "locked.yaml": cm("locked")})
    real_open = os.open
    target = os.path.realpath(root / "locked.yaml")

    def fake_open(path, *args, **kwargs):
        if isinstance(path, (str, bytes, os.PathLike)) and os.path.realpath(path) == target:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)
    report = lint(root)
    monkeypatch.undo()
    assert found(report) == [("FLX006", "locked.yaml", 1, 1)]
    assert report.findings[0].message == "cannot read file: Permission denied"
    assert report.files == ["a.yaml", "locked.yaml"]


# --------------------------------------------------------------------------- invariants


@pytest.mark.parametrize("in_git", [False, True], ids=["walk", "git"])
def test_linter_writes_nothing_into_the_repository(repo, in_git):
    root = repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./app"),
        "app/kustomization.yaml": KUSTOMIZATION + "resources:\n  - cm.yaml\n  - missing.yaml\n",
        "app/cm.yaml": cm("x") + "  a: dup\n",
        "bad.yaml": "a: [\n",
        "latin.yaml": b"a: caf\xe9\n",
    })
    if in_git:
        git_init(root)
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, capture_output=True)
    before = snapshot(root)
    report = lint(root)
    lint(root, str(root / "app"))
    assert {f.rule for f in report.findings} >= {"FLX001", "FLX002", "FLX004", "FLX101"}
    assert snapshot(root) == before


def test_every_yaml_file_is_linted_or_skipped(repo):
    files = {
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./app"),
        "app/kustomization.yaml": KUSTOMIZATION + "resources:\n  - cm.yaml\n  - gotpl.yaml\n",
        "app/cm.yaml": cm("x"),
        "app/gotpl.yaml": GOTPL,
        "other/gotpl.yaml": GOTPL,
        "other/orphan.yaml": cm("orphan"),
        "other/values.yml": "a: 1\n",
        "other/bad.yaml": "a: [\n",
        "other/empty.yaml": b"",
        "other/bin.yaml": b"\x00\x01",
        "other/latin.yaml": b"a: caf\xe9\n",
        "other/u16.yaml": cm("u16").encode("utf-16"),
        "chart/Chart.yaml": "apiVersion: v2\nname: c\n",
        "chart/templates/x.yaml": "{{ .Values }}\n",
        "tpl.yaml.j2": "a: {{ b }}\n",
        ".github/workflows/ci.yml": "on: push\n",
        ".gitlab-ci.yml": "stages: []\n",
        ".gitlint-flux.yaml": "max-file-size: 100000\n",
        "sp ace/é.yaml": cm("e"),
        "notyaml.json": "{}",
        "README.md": "# x\n",
    }
    root = repo(files)
    os.symlink("app/cm.yaml", root / "inlink.yaml")
    report = lint(root)
    expected = {rel for rel in files if rel.endswith(YAML_NAMES)} | {"inlink.yaml"}
    linted, skip = set(report.files), set(skipped(report))
    assert linted & skip == set()
    assert linted | skip == expected
    assert all(s.reason for s in report.skipped)
    assert "app/gotpl.yaml" in linted and "other/gotpl.yaml" in skip


def test_kustomize_paths_through_linked_directories(repo, tmp_path):
    """A kustomization's path under a directory link is judged where the link resolves:
    one to a directory outside the root is not read (FLX007 at the entry), one to
    a directory inside it is built, and a path under a link that leaves the root and links
    back inside (``out/back``) is inside."""
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "kustomization.yaml").write_text("resources: []\n")
    root = repo({
        "base/kustomization.yaml": "resources:\n  - ../out/sub\n  - ../inner/app\n  - ../out/back/app\n",
        "real/app/kustomization.yaml": "resources:\n  - cm.yaml\n",
        "real/app/cm.yaml": cm("app"),
    })
    os.symlink(outside, root / "out")
    os.symlink(root / "real", root / "inner")
    os.symlink(root / "real", outside / "back")
    report = lint(root)
    outside_root = [(f.path, f.line, f.column) for f in report.findings if "leaves the repository" in f.message]
    assert outside_root == [("base/kustomization.yaml", 2, 5)]
    assert not [f for f in report.findings if "does not exist" in f.message]
