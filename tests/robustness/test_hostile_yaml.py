"""Hostile and broken YAML, each linted in a subprocess under resource limits, with the
exact finding (rule, path, line, column) and the exit code."""

from __future__ import annotations

import codecs

import pytest

from .harness import (
    HANG_TIMEOUT, KUSTOMIZATION, MiB, assert_ran, baseline_rss_kb, bootstrap, cm, expected_rc, lint,
)

HEAD = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\n"


def check(tree, files, expected, rc=None, **kw):
    root = tree(files)
    res = assert_ran(lint(root, **kw))
    assert res.findings() == expected, res.describe()
    assert res.rc == (expected_rc(res) if rc is None else rc), res.describe()
    return res


# --------------------------------------------------------------------------- syntax

SYNTAX = {
    "unterminated-double-quote": (HEAD + 'data:\n  a: "unterminated\n  b: c\n', [("FLX001", "f.yaml", 7, 6)]),
    "unterminated-single-quote-in-flow": (HEAD + "data: {a: 'x, b: c}\n", [("FLX001", "f.yaml", 6, 11)]),
    "unclosed-flow-mapping": (HEAD + "data: {a: b\n", [("FLX001", "f.yaml", 7, 1)]),
    "unclosed-flow-sequence-then-document": (HEAD + "data:\n  a: [1, 2\n---\n" + cm("y"), [("FLX001", "f.yaml", 8, 1)]),
    "tab-indentation": (HEAD + "data:\n\ta: b\n", [("FLX001", "f.yaml", 7, 1)]),
    "merge-conflict-markers": (HEAD + 'data:\n<<<<<<< HEAD\n  a: "1"\n=======\n  a: "2"\n>>>>>>> feature\n',
                               [("FLX001", "f.yaml", 8, 4)]),
    "undefined-alias": (HEAD + "data:\n  a: *nope\n", [("FLX001", "f.yaml", 7, 6)]),
    "control-character": (HEAD + "data:\n  a: b\x07\n", [("FLX001", "f.yaml", 7, 7)]),
}


@pytest.mark.parametrize("name", sorted(SYNTAX))
def test_syntax_errors_are_one_finding_at_the_right_place(tree, name):
    text, expected = SYNTAX[name]
    check(tree, {"f.yaml": text}, expected, rc=1)


def test_error_at_end_of_a_file_without_final_newline_points_inside_the_file(tree):
    # 6 lines, no final newline: the key `b` on line 6 has no ':'
    root = tree({"f.yaml": HEAD + "b"})
    res = assert_ran(lint(root))
    got = res.findings()
    assert len(got) == 1 and got[0][:3] == ("FLX001", "f.yaml", 6), res.describe()
    assert got[0][3] in (1, 2)


def test_duplicate_key_points_at_the_second_key(tree):
    res = check(tree, {"f.yaml": HEAD + "data:\n  a: b\n  a: c\n"}, [("FLX002", "f.yaml", 8, 3)], rc=1)
    assert res.messages("FLX002") == ['mapping key "a" already defined at line 7']


def test_merge_key_override_is_not_a_duplicate(tree):
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: merged\n  namespace: default\n"
            "data:\n  <<: {a: from-merge, b: kept}\n  a: explicit\n")
    check(tree, {"f.yaml": text}, [], rc=0)


def test_duplicate_key_across_a_merge_and_two_explicit_keys_is_one_finding(tree):
    text = HEAD + "data:\n  <<: {a: m}\n  a: one\n  a: two\n"
    check(tree, {"f.yaml": text}, [("FLX002", "f.yaml", 9, 3)], rc=1)


# --------------------------------------------------------------------------- resource limits


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    prev = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "".join("  " + ln + "\n" for ln in lines)


def test_billion_laughs_is_capped_fast_and_small(tree, tmp_path):
    root = tree({"bomb.yaml": HEAD + "data:\n" + billion_laughs(9), "ok.yaml": cm("ok")})
    res = assert_ran(lint(root, timeout=30, mem=768 * MiB))
    assert res.findings() == [("FLX003", "bomb.yaml", 12, 14)], res.describe()
    assert res.rc == 1
    assert res.seconds < 15
    assert res.maxrss_kb < baseline_rss_kb(tmp_path) + 64 * 1024, res.describe()


@pytest.mark.parametrize("shape", ["flow-sequence", "flow-mapping", "block-sequence"])
def test_20000_levels_of_nesting(tree, shape):
    n = 20000
    if shape == "flow-sequence":
        body = "data: " + "[" * n + "]" * n + "\n"
    elif shape == "flow-mapping":
        body = "data: " + "{a: " * n + "b" + "}" * n + "\n"
    else:
        body = "data:\n" + "  " + "- " * n + "x\n"
    root = tree({"deep.yaml": HEAD + body, "ok.yaml": cm("ok")})
    res = assert_ran(lint(root, timeout=30))
    got = res.findings()
    assert len(got) == 1 and got[0][:3] == ("FLX003", "deep.yaml", 6 if shape != "block-sequence" else 7), \
        res.describe()
    assert res.rc == 1
    assert "ok.yaml" not in res.skipped()


def test_60_mb_file_is_refused_without_being_read(tree, tmp_path):
    root = tree({"ok.yaml": cm("ok")})
    # a real manifest whose value makes it 60 MB: read whole, it would cost > 60 MB
    with open(root / "huge.yaml", "w", encoding="utf-8") as fh:
        fh.write(HEAD + "data:\n  blob: ")
        chunk = "x" * MiB
        for _ in range(60):
            fh.write(chunk)
        fh.write("\n  blob: duplicate\n")
    res = assert_ran(lint(root, timeout=30))
    assert res.findings() == [("FLX005", "huge.yaml", 1, 1)], res.describe()
    assert res.rc == 1
    # peak memory stays far below the file's size
    assert res.maxrss_kb < baseline_rss_kb(tmp_path) + 20 * 1024, res.describe()


def test_60_mb_sourceignore_is_not_read_whole(tree, tmp_path):
    root = tree({"ok.yaml": cm("ok"), **bootstrap()})
    with open(root / ".sourceignore", "w", encoding="utf-8") as fh:
        for _ in range(60):
            fh.write(("#" + "x" * 1023 + "\n") * 1024)
    res = assert_ran(lint(root, timeout=30))
    assert res.maxrss_kb < baseline_rss_kb(tmp_path) + 20 * 1024, res.describe()


# --------------------------------------------------------------------------- tags


def test_unknown_and_python_tags_are_never_constructed(tree, tmp_path):
    marker = tmp_path / "pwned"
    text = (HEAD + "data:\n"
            "  a: !Find [a, b]\n"
            f'  b: !!python/object/apply:os.system ["touch {marker}"]\n'
            f'  c: !!python/object/new:builtins.open ["{marker}", "w"]\n'
            "  d: !!python/name:os.system\n"
            "  e: !Ref {x: 1}\n"
            "  f: !<tag:example.com,2000:app/foo> bar\n")
    root = tree({"tags.yaml": text})
    res = assert_ran(lint(root))
    assert res.findings() == [], res.describe()
    assert not marker.exists()
    assert "tags.yaml" not in res.skipped()


# --------------------------------------------------------------------------- encodings and odd files


def test_non_utf8_bytes(tree):
    check(tree, {"latin.yaml": HEAD.encode() + b"data:\n  a: caf\xe9\n"}, [("FLX004", "latin.yaml", 7, 9)], rc=1)


def test_nul_bytes(tree):
    check(tree, {"bin.yaml": HEAD.encode() + b"data:\n  a: b\x00c\n"}, [("FLX004", "bin.yaml", 7, 7)], rc=1)


def test_binary_blob_named_yaml(tree):
    check(tree, {"blob.yaml": bytes(range(256)) * 64}, [("FLX004", "blob.yaml", 1, 1)], rc=1)


@pytest.mark.parametrize("content", [b"", b"# only\n# comments\n", b"---\n", b"---\n...\n---\n", b"\n\n\n"],
                         ids=["empty", "comments", "marker", "markers", "blank"])
def test_files_without_documents_are_skipped_with_a_reason(tree, content):
    root = tree({"odd.yaml": content, "ok.yaml": cm("ok")})
    res = assert_ran(lint(root), 0)
    assert res.findings(None) == [], res.describe()
    assert res.skipped() == {"odd.yaml": "no Kubernetes objects (no apiVersion/kind)"}


@pytest.mark.parametrize("content", ["just a scalar\n", "- a\n- b\n", "42\n", "[1, 2]\n"],
                         ids=["scalar", "list", "int", "flow-list"])
def test_scalar_or_list_document(tree, content):
    root = tree({"odd.yaml": content})
    res = assert_ran(lint(root), 0)
    assert res.findings(None) == []
    assert res.skipped() == {"odd.yaml": "no Kubernetes objects (no apiVersion/kind)"}


@pytest.mark.parametrize("content", ["just a scalar\n", "- a\n- b\n"], ids=["scalar", "list"])
def test_scalar_or_list_document_applied_by_kustomize_is_not_a_manifest(tree, content):
    check(tree, {"kustomization.yaml": KUSTOMIZATION + "resources:\n  - odd.yaml\n", "odd.yaml": content},
          [("FLX104", "odd.yaml", 1, 1)], rc=1)


@pytest.mark.parametrize("encode", [
    lambda s: s.encode("utf-16"),
    lambda s: codecs.BOM_UTF16_BE + s.encode("utf-16-be"),
    lambda s: codecs.BOM_UTF16_LE + s.encode("utf-16-le"),
    lambda s: codecs.BOM_UTF8 + s.encode("utf-8"),
], ids=["utf-16", "utf-16-be", "utf-16-le", "utf-8-bom"])
def test_utf16_with_bom_parses(tree, encode):
    text = cm("ütf", "  ключ: значение\n  dup: 1\n  dup: 2\n")
    res = check(tree, {"u.yaml": encode(text)}, [("FLX002", "u.yaml", 10, 3)], rc=1)
    assert res.data["summary"]["documents"] == 1


def test_lone_carriage_returns_count_as_line_breaks(tree):
    text = (HEAD + "data:\n  a: b\n  a: c\n").replace("\n", "\r")
    check(tree, {"cr.yaml": text.encode()}, [("FLX002", "cr.yaml", 8, 3)], rc=1)


def test_many_documents(tree):
    docs = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: default\n"
                   for i in range(20000))
    root = tree({"many.yaml": docs + "---\nx: [\n"})
    res = assert_ran(lint(root, timeout=60))
    assert res.findings() == [("FLX001", "many.yaml", 120003, 1)], res.describe()


# --------------------------------------------------------------------------- found by this suite


def test_collection_key_with_a_huge_integer(tree):
    check(tree, {"k.yaml": HEAD + "data:\n  ? [0x" + "f" * 4000 + "]\n  : v\n"}, [])


def test_duplicate_tagged_huge_integer_keys(tree):
    key = "!!int 0x" + "f" * 4000  # an explicit key: a simple key may not exceed 1024 characters
    check(tree, {"k.yaml": HEAD + f"data:\n  ? {key}\n  : a\n  ? {key}\n  : b\n"}, [("FLX002", "k.yaml", 9, 5)],
          rc=1)


def test_long_line_of_template_braces_in_a_broken_file(tree):
    root = tree({"t.yaml": "data: [" + "{{ " * 100_000 + "\n"})
    res = assert_ran(lint(root, timeout=HANG_TIMEOUT, cpu=int(HANG_TIMEOUT)))
    # 100,000 nested flow mappings: refused as too deep (by us at 500 levels, or by
    # libyaml >= 0.2.6 at 1,000), in bounded time
    assert [(r, p) for r, p, _l, _c in res.findings()] == [("FLX003", "t.yaml")], res.describe()


def test_long_comment_of_jinja_openers(tree):
    root = tree({"j.yaml": cm("j") + "# " + "#% " * 100_000 + "\n"})
    res = assert_ran(lint(root, timeout=HANG_TIMEOUT, cpu=int(HANG_TIMEOUT)))
    assert res.findings() == [], res.describe()


def test_end_column_of_a_collection_key_stays_on_its_line(tree):
    from fuzz.invariants import check_location

    text = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: k\n"
            "  namespace: flux-system\nspec:\n  ? {name: flux-system}\n  : x\n  interval: 10m\n  path: ./\n"
            "  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n")
    root = tree({"ks.yaml": text})
    res = assert_ran(lint(root))
    keyed = [f for f in res.data["findings"] if f["line"] == 7]
    assert keyed, res.describe()
    for f in keyed:
        check_location(str(root), f["path"], f["line"], f["column"], f["end_line"], f["end_column"])


@pytest.mark.parametrize("content,rule", [
    ((HEAD + 'data:\n  a: "\x85\x7f"\n').encode(), "FLX001"),
    (HEAD.replace("\n", "\r").encode() + b"data:\r  a: b\x00\r", "FLX004"),
    (HEAD.replace("\n", "\r").encode() + b"data:\r  a: caf\xe9\r", "FLX004"),
], ids=["reader-error-after-NEL", "binary-after-CR", "latin1-after-CR"])
def test_positions_of_errors_found_outside_libyaml_count_lines_as_libyaml(tree, content, rule):
    from fuzz.invariants import check_location

    root = tree({"f.yaml": content})
    res = assert_ran(lint(root))
    got = res.findings()
    assert len(got) == 1 and got[0][0] == rule, res.describe()
    check_location(str(root), *got[0][1:])


# --------------------------------------------------------------------------- the editor buffer and the configuration


@pytest.mark.parametrize("buffer,expected", [
    ((HEAD + "data:\n" + billion_laughs(9)).encode(), [("FLX003", "app/cm.yaml", 12, 14)]),
    (("data: " + "[" * 20000 + "]" * 20000 + "\n").encode(), "FLX003"),
    (HEAD.encode() + b"data:\n  a: b\x00\n", None),
    (b"\xff\xfe\x00garbage", None),
], ids=["bomb", "deep", "nul", "bytes"])
def test_hostile_editor_buffer_on_stdin(tree, buffer, expected):
    root = tree({"app/cm.yaml": cm("a")})
    res = assert_ran(lint(root, "--stdin-filename", str(root / "app" / "cm.yaml"), paths=["-"], stdin=buffer))
    got = res.findings()
    if isinstance(expected, list):
        assert got == expected, res.describe()
    elif isinstance(expected, str):
        assert [g[0] for g in got] == [expected], res.describe()
    assert all(p == "app/cm.yaml" for _, p, _, _ in got)


@pytest.mark.parametrize("config", [
    "".join(line.strip() + "\n" for line in billion_laughs(9).splitlines()).encode(),
    b"roots: " + b"[" * 20000 + b"]" * 20000 + b"\n",
    b"\x00\x01\x02",
    b"rules: {FLX001: off, FLX001: error}\n",
    "roots:\n  - ../../../../etc\nsources:\n  GitRepository/flux-system/x: /etc\n".encode(),
], ids=["bomb", "deep", "binary", "duplicate", "outside"])
def test_hostile_configuration_is_a_usage_error_or_a_run(tree, config):
    root = tree({".gitlint-flux.yaml": config, "cm.yaml": cm("a")})
    res = lint(root, timeout=30)
    assert not res.timed_out and res.signal is None and "Traceback" not in res.stderr, res.describe()
    assert res.rc in (0, 1, 2), res.describe()
    if res.rc == 2:
        assert ".gitlint-flux.yaml" in res.stderr


def test_file_just_under_the_size_limit_stays_within_a_few_hundred_mb(tree, tmp_path):
    root = tree({})
    with open(root / "list.yaml", "w", encoding="utf-8") as fh:
        fh.write("- a\n" * ((10 * MiB - 64) // 4))
    res = lint(root, timeout=60, mem=3072 * MiB)
    assert_ran(res)
    assert res.maxrss_kb < baseline_rss_kb(tmp_path) + 300 * 1024, res.describe()
