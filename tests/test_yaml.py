"""Unit tests of the YAML composer: positions, typing, anchors, merges, tags, errors."""

from __future__ import annotations

import math
import time
import tracemalloc

import pytest

from gitlint_flux.model import YMap, YSeq
from gitlint_flux.yamlcompose import ALIAS_BUDGET, MAX_DEPTH, ComposeError, compose_all, resolve_plain


def one(text: str):
    """The single document of ``text``, which must compose without error."""
    docs, errors = compose_all(text)
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == []
    assert len(docs) == 1, docs
    return docs[0][0]


def errs(text: str) -> list[tuple[str, int, int]]:
    return [(e.kind, e.line, e.column) for e in compose_all(text)[1]]


def bomb(levels: int = 9) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    prev = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- positions


def test_positions_are_one_based_for_keys_and_values():
    v = one("apiVersion: v1\nmetadata:\n  name: x\n  labels: {a: b}\nlist:\n  - one\n  - two\n")
    assert isinstance(v, YMap)
    assert (v.line, v.col) == (1, 1)
    assert v.pos["apiVersion"] == (1, 1, 1, 13, 1, 15)
    # a block mapping value starts on the next line, at its first key
    assert v.pos["metadata"][:4] == (2, 1, 3, 3)
    md = v["metadata"]
    assert md.pos["name"] == (3, 3, 3, 9, 3, 10)
    assert md.pos["labels"] == (4, 3, 4, 11, 4, 17)
    assert md["labels"].pos["a"] == (4, 12, 4, 15, 4, 16)
    seq = v["list"]
    assert isinstance(seq, YSeq)
    assert seq == ["one", "two"]
    assert seq.pos == [(6, 5, 6, 8), (7, 5, 7, 8)]


def test_columns_count_code_points_after_non_ascii_in_flow():
    # "é" is 2 bytes in UTF-8; byte columns would give 12 / 15
    v = one("x: {a: é, b: c}\n")
    assert v["x"] == {"a": "é", "b": "c"}
    assert v["x"].pos["a"] == (1, 5, 1, 8, 1, 9)
    assert v["x"].pos["b"] == (1, 11, 1, 14, 1, 15)


def test_columns_count_code_points_not_utf16_units():
    # U+1F600 is 4 UTF-8 bytes and 2 UTF-16 code units, but one column
    v = one("k: [\U0001F600, z]\n")
    assert v["k"] == ["\U0001F600", "z"]
    assert v["k"].pos == [(1, 5, 1, 6), (1, 8, 1, 9)]


def test_keys_after_multibyte_characters():
    v = one("é: 1\nfoo: [é, b]\nbé: ü\nключ: {ä: 1, ö: 2}\n")
    assert v.pos["é"] == (1, 1, 1, 4, 1, 5)
    assert v["foo"].pos == [(2, 7, 2, 8), (2, 10, 2, 11)]
    assert v.pos["bé"] == (3, 1, 3, 5, 3, 6)
    assert v.pos["ключ"][:4] == (4, 1, 4, 7)
    assert v["ключ"].pos["ä"] == (4, 8, 4, 11, 4, 12)
    assert v["ключ"].pos["ö"] == (4, 14, 4, 17, 4, 18)


def test_crlf_line_endings_keep_line_numbers():
    v = one("a: 1\r\nb: |\r\n  x\r\n  y\r\nc: [p, q]\r\n")
    assert v == {"a": 1, "b": "x\ny\n", "c": ["p", "q"]}
    assert v.pos["a"] == (1, 1, 1, 4, 1, 5)
    assert v.pos["c"] == (5, 1, 5, 4, 5, 10)
    assert v["c"].pos == [(5, 5, 5, 6), (5, 8, 5, 9)]


# --------------------------------------------------------------------------- typing


@pytest.mark.parametrize("text", ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF", "Y", "N"])
def test_yaml11_booleans_are_strings(text):
    assert resolve_plain(text) == text
    assert one(f"v: {text}\n")["v"] == text


@pytest.mark.parametrize("text,value", [
    ("true", True), ("True", True), ("TRUE", True),
    ("false", False), ("False", False), ("FALSE", False),
])
def test_booleans(text, value):
    assert resolve_plain(text) is value
    assert one(f"v: {text}\n")["v"] is value


@pytest.mark.parametrize("text", ["tRue", "fAlse", "True1"])
def test_bool_lookalikes_are_strings(text):
    assert resolve_plain(text) == text


@pytest.mark.parametrize("text", ["null", "Null", "NULL", "~", ""])
def test_nulls(text):
    assert resolve_plain(text) is None
    assert one(f"v: {text}\n")["v"] is None


@pytest.mark.parametrize("text,value", [
    ("0o17", 15), ("0x1F", 31), ("017", 15), ("-017", -15), ("1_000", 1000), ("+12", 12), ("0", 0),
    ("0b101", 5), ("42", 42),
])
def test_ints(text, value):
    got = resolve_plain(text)
    assert type(got) is int and got == value
    v = one(f"v: {text}\n")["v"]
    assert type(v) is int and v == value


@pytest.mark.parametrize("text,value", [("1.5", 1.5), ("1e3", 1000.0), ("-2.5E-1", -0.25), (".5", 0.5)])
def test_floats(text, value):
    got = resolve_plain(text)
    assert type(got) is float and got == value


def test_special_floats():
    assert resolve_plain(".inf") == math.inf
    assert resolve_plain("-.Inf") == -math.inf
    assert math.isnan(resolve_plain(".nan"))


def test_invalid_octal():
    # quoted "08" is a string
    assert one('v: "08"\n')["v"] == "08"
    # plain 08 is not an int (8 is no octal digit); go-yaml v3 then tries its float
    # pattern, which matches, and decodes 8.0: the composer does the same
    v = one("v: 08\n")["v"]
    assert type(v) is float and v == 8.0
    assert resolve_plain("0o8") == "0o8"
    assert resolve_plain("0x") == "0x"
    assert resolve_plain("1.2.3") == "1.2.3"


def test_quoted_scalars_are_strings():
    v = one("a: \"true\"\nb: 'null'\nc: \"12\"\nd: '1.5'\ne: \"~\"\n")
    assert v == {"a": "true", "b": "null", "c": "12", "d": "1.5", "e": "~"}
    assert all(type(x) is str for x in v.values())


def test_explicit_standard_tags():
    v = one('a: !!str 123\nb: !!int "12"\nc: !!float 1\nd: ! 12\ne: !!null x\nf: !!bool "true"\n')
    assert v == {"a": "123", "b": 12, "c": 1.0, "d": "12", "e": None, "f": True}
    assert type(v["a"]) is str and type(v["b"]) is int and type(v["c"]) is float and type(v["d"]) is str


def test_yaml_version_directive_does_not_bring_back_yaml11_bools():
    assert one("%YAML 1.1\n---\na: yes\n") == {"a": "yes"}


# --------------------------------------------------------------------------- documents


def test_multi_document_file():
    text = "a: 1\n---\n---\n# only a comment\n---\n- x\n- y\n---\nplain scalar\n---\nb: 2\n...\n---\nc: 3\n"
    docs, errors = compose_all(text)
    assert errors == []
    assert [(v, line, col) for v, line, col in docs if v is not None] == [
        ({"a": 1}, 1, 1), (["x", "y"], 6, 1), ("plain scalar", 9, 1), ({"b": 2}, 11, 1), ({"c": 3}, 14, 1),
    ]
    # the two empty documents compose to None (the loader drops them)
    assert [v for v, _, _ in docs] == [{"a": 1}, None, None, ["x", "y"], "plain scalar", {"b": 2}, {"c": 3}]
    assert isinstance(docs[3][0], YSeq) and docs[3][0].pos == [(6, 3, 6, 4), (7, 3, 7, 4)]


@pytest.mark.parametrize("text", ["", "# only\n# comments\n", "\n\n   \n"])
def test_stream_without_documents(text):
    assert compose_all(text) == ([], [])


def test_lone_document_marker_is_an_empty_document():
    docs, errors = compose_all("---\n")
    assert errors == []
    assert [v for v, _, _ in docs] == [None]


# --------------------------------------------------------------------------- anchors and merges


def test_redefined_anchor_alias_refers_to_latest_definition():
    v = one("a: &x 1\nb: *x\nc: &x 2\nd: *x\n")
    assert v == {"a": 1, "b": 1, "c": 2, "d": 2}
    # the alias value is positioned at the alias
    assert v.pos["b"] == (2, 1, 2, 4, 2, 6)
    assert v.pos["d"] == (4, 1, 4, 4, 4, 6)


def test_redefined_anchor_on_collections():
    v = one("a: &x [1]\nb: *x\nc: &x {k: v}\nd: *x\n")
    assert v["b"] == [1]
    assert v["d"] == {"k": "v"}


def test_anchors_do_not_leak_across_documents():
    docs, errors = compose_all("a: &x 1\n---\nb: *x\n---\nc: 3\n")
    assert [v for v, _, _ in docs] == [{"a": 1}, {"c": 3}]
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == [
        ("syntax", 3, 4, 'found undefined alias "x"')]


def test_merge_key_single_map():
    v = one("base: &b {x: 1, y: 2}\nm:\n  y: 3\n  <<: *b\n")
    assert v["m"] == {"x": 1, "y": 3}
    assert "<<" not in v["m"]
    # explicit key keeps its own position; the merged key points at its definition
    assert v["m"].pos["y"] == (3, 3, 3, 6, 3, 7)
    assert v["m"].pos["x"] == (1, 11, 1, 14, 1, 15)


def test_merge_key_list_of_maps_first_wins():
    v = one("a: &a {p: 1}\nb: &b {q: 2, p: 9}\nm:\n  <<: [*a, *b]\n  r: 3\n")
    assert v["m"] == {"p": 1, "q": 2, "r": 3}
    assert v["m"].pos["p"] == (1, 8, 1, 11, 1, 12)
    assert v["m"].pos["q"] == (2, 8, 2, 11, 2, 12)
    assert v["m"].pos["r"] == (5, 3, 5, 6, 5, 7)


@pytest.mark.parametrize("text,key_col", [("a: {<<: {b: 1}, b: 2}\n", 17), ("a: {b: 2, <<: {b: 1}}\n", 5)])
def test_explicit_key_overrides_merged_key_in_any_order(text, key_col):
    docs, errors = compose_all(text)
    assert errors == []  # no duplicate-key error for the override
    m = docs[0][0]["a"]
    assert m == {"b": 2}
    assert m.pos["b"] == (1, key_col, 1, key_col + 3, 1, key_col + 4)


def test_merge_of_a_map_that_itself_merges():
    v = one("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}\n")
    assert v["b"] == {"x": 1, "y": 2}
    assert v["c"] == {"x": 1, "y": 2, "z": 3}


def test_quoted_merge_key_is_a_plain_key():
    v = one('a: 1\n"<<": {b: 2}\n')
    assert v == {"a": 1, "<<": {"b": 2}}


def test_merge_of_a_scalar_is_an_error():
    docs, errors = compose_all("m:\n  <<: 1\n  a: 2\n")
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == [
        ("syntax", 2, 7, "map merge requires a mapping or a list of mappings")]
    assert docs[0][0] == {"m": {"a": 2}}


# --------------------------------------------------------------------------- tags are never constructed


def test_custom_tags_are_not_constructed(tmp_path):
    marker = tmp_path / "pwned"
    text = (
        "a: !Find [a, b]\n"
        "b: !env_var X\n"
        'c: !!python/object/apply:os.system ["echo hi"]\n'
        f'd: !!python/object/apply:os.system ["touch {marker}"]\n'
        'e: !!python/object/new:builtins.open ["/etc/hostname"]\n'
        "f: !Ref {x: 1}\n"
    )
    v = one(text)
    assert v == {
        "a": ["a", "b"], "b": "X", "c": ["echo hi"], "d": [f"touch {marker}"],
        "e": ["/etc/hostname"], "f": {"x": 1},
    }
    assert type(v["a"]) is YSeq and all(type(x) is str for x in v["a"])
    assert type(v["c"]) is YSeq and type(v["c"][0]) is str
    assert type(v["f"]) is YMap
    assert v.pos["c"] == (3, 1, 3, 4, 3, 47)
    assert not marker.exists()


# --------------------------------------------------------------------------- errors


def test_duplicate_key():
    docs, errors = compose_all("a: 1\nb: 2\na: 3\n")
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == [
        ("duplicate-key", 3, 1, 'mapping key "a" already defined at line 1')]
    assert isinstance(errors[0], ComposeError)
    # the document is kept (flagged, not dropped)
    assert docs[0][0] == {"a": 3, "b": 2}


def test_duplicate_key_with_crlf():
    docs, errors = compose_all("kind: X\r\nspec:\r\n  interval: 5m\r\n  interval: 10m\r\n")
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == [
        ("duplicate-key", 4, 3, 'mapping key "interval" already defined at line 3')]


def test_duplicate_key_in_flow_after_non_ascii():
    assert errs("m: {é: 1, é: 2}\n") == [("duplicate-key", 1, 11)]


def test_quoted_and_plain_key_with_the_same_text_are_duplicates():
    # go-yaml compares key nodes by their text, and JSON keys are strings: `"1"` and `1`
    # are the same key
    docs, errors = compose_all('"1": a\n1: b\n')
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == [
        ("duplicate-key", 2, 1, 'mapping key "1" already defined at line 1')]


def test_int_and_bool_keys_are_not_duplicates():
    docs, errors = compose_all("1: a\ntrue: b\n")
    assert errors == []


def test_unterminated_double_quote_at_end_of_stream_points_at_the_quote():
    docs, errors = compose_all('a: "abc\nb: c\n')
    assert docs == []
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == [
        ("syntax", 1, 4, "found unexpected end of stream (while scanning a quoted scalar at line 1, column 4)")]


def test_unterminated_double_quote_before_next_document():
    # libyaml stops at the document marker; the message names the opening quote
    docs, errors = compose_all('key: "unterminated\nother: x\n---\nnext: 1\n')
    assert docs == []
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == [
        ("syntax", 3, 1, "found unexpected document indicator (while scanning a quoted scalar at line 1, column 6)")]


def test_unclosed_flow_sequence():
    docs, errors = compose_all("a: [a, b\n")
    assert docs == []
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == [
        ("syntax", 2, 1, "did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 4)")]


def test_tab_in_indentation():
    assert [(e.kind, e.line, e.column, e.message) for e in compose_all("a:\n\tb: 1\n")[1]] == [
        ("syntax", 2, 1, "found character that cannot start any token (while scanning for the next token at line 2, "
                         "column 1)")]
    assert [(e.kind, e.line, e.column, e.message) for e in compose_all("spec:\n  interval: 5m\n\tpath: x\n")[1]] == [
        ("syntax", 3, 1, "found a tab character that violates indentation (while scanning a plain scalar at line 2, "
                         "column 13)")]


def test_merge_conflict_markers():
    docs, errors = compose_all("a: 1\n<<<<<<< HEAD\nb: 2\n=======\nb: 3\n>>>>>>> x\n")
    assert docs == []
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == [
        ("syntax", 3, 1, "could not find expected ':' (while scanning a simple key at line 2, column 1)")]
    text = 'apiVersion: v1\nkind: ConfigMap\ndata:\n<<<<<<< HEAD\n  a: "1"\n=======\n  a: "2"\n>>>>>>> branch\n'
    assert [(e.kind, e.line, e.column, e.message) for e in compose_all(text)[1]] == [
        ("syntax", 5, 4, "could not find expected ':' (while scanning a simple key at line 4, column 1)")]


def test_syntax_error_stops_the_file_but_keeps_earlier_documents():
    docs, errors = compose_all("a: 1\n---\nb: [\n")
    assert [v for v, _, _ in docs] == [{"a": 1}]
    assert errs("a: 1\n---\nb: [\n") == [("syntax", 4, 1)]


def test_undefined_alias_drops_only_its_document():
    docs, errors = compose_all("first: 1\n---\na: *nope\n---\nb: 1\n")
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == [
        ("syntax", 3, 4, 'found undefined alias "nope"')]
    assert [(v, line, col) for v, line, col in docs] == [({"first": 1}, 1, 1), ({"b": 1}, 5, 1)]


def test_self_referencing_alias_is_undefined():
    assert errs("a: &a {b: *a}\n") == [("syntax", 1, 11)]


def test_control_character_position():
    docs, errors = compose_all("a: 1\n\x07b: 2\n")
    assert [(e.kind, e.line, e.column) for e in errors] == [("syntax", 2, 1)]


def test_control_character_is_a_syntax_error():
    docs, errors = compose_all("a: 1\nb: x\x7f\n")
    assert docs == []
    assert [(e.kind, e.message) for e in errors] == [
        ("syntax", "unacceptable character #x007f: control characters are not allowed")]


# --------------------------------------------------------------------------- resource limits


def test_alias_bomb_is_refused_quickly_and_small():
    text = bomb(9)  # 9 ** 9 = 387 million strings once expanded
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        docs, errors = compose_all(text)
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2.0
    assert peak < 5 * 1024 * 1024
    assert docs == []
    assert [(e.kind, e.line, e.column, e.message) for e in errors] == [
        ("alias-bomb", 6, 12, f"aliases expand this document beyond {ALIAS_BUDGET:,} nodes (an alias bomb?)")]


def test_many_aliases_below_the_budget_are_fine():
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [" + ", ".join(["*a"] * 1000) + "]\n"
    v = one(text)
    assert len(v["b"]) == 1000
    assert v["b"][999] == list(range(1, 11))
    assert v["b"][0] is v["a"]  # aliases share the anchored object


def test_alias_bomb_drops_only_its_document():
    docs, errors = compose_all("first: 1\n---\n" + bomb(9) + "---\nlast: 2\n")
    assert [e.kind for e in errors] == ["alias-bomb"]
    assert [v for v, _, _ in docs] == [{"first": 1}, {"last": 2}]


def test_deep_nesting_is_refused():
    t0 = time.perf_counter()
    docs, errors = compose_all("[" * 20000 + "]" * 20000)
    assert time.perf_counter() - t0 < 2.0
    assert docs == []
    # our limit (500) or, with libyaml >= 0.2.6 which scans ahead, libyaml's own (1000)
    assert [(e.kind, e.line) for e in errors] == [("too-deep", 1)]
    assert errors[0].column in (MAX_DEPTH + 1, 1001)


def test_deep_block_and_flow_mapping_nesting_is_refused():
    assert errs("a: " + "{b: " * 600 + "1" + "}" * 600 + "\n") == [("too-deep", 1, 3 + 4 * (MAX_DEPTH - 1) + 1)]


def test_nesting_limit_boundary():
    assert MAX_DEPTH == 500
    v = one("[" * 500 + "]" * 500)
    depth = 0
    while isinstance(v, list) and v:
        v = v[0]
        depth += 1
    assert depth == 499 and v == []
    assert errs("[" * 501 + "]" * 501) == [("too-deep", 1, 501)]


def test_too_deep_drops_only_its_document():
    docs, errors = compose_all("first: 1\n---\n" + "[" * 600 + "]" * 600 + "\n---\nlast: 2\n")
    assert [(e.kind, e.line) for e in errors] == [("too-deep", 3)]
    assert [v for v, _, _ in docs] == [{"first": 1}, {"last": 2}]


def test_positions_are_stored_compactly_until_asked_for():
    """The composer keeps positions as packed integers; `pos` gives the same dict (or
    list) of tuples on first use, a duplicate key keeps its later position, a copy's edits
    stay its own, and the file cache's pickling keeps the compact form."""
    import pickle

    from gitlint_flux.patches import strategic_merge

    docs, errors = compose_all("a: 1\nb:\n  c: [x, y]\na: 3\n")
    assert [e.kind for e in errors] == ["duplicate-key"]
    m = docs[0][0]
    assert m._pd is None and isinstance(m._pv, bytes)  # not materialized by composing
    assert m["b"]["c"]._pl is None and isinstance(m["b"]["c"]._pv, bytes)
    again = pickle.loads(pickle.dumps(m))
    assert again._pd is None and again._pv == m._pv and again == m
    assert m.pos == {"a": (4, 1, 4, 4, 4, 5), "b": (2, 1, 3, 3, 4, 1)}
    assert m["b"]["c"].pos == [(3, 7, 3, 8), (3, 10, 3, 11)]
    assert again.pos == m.pos and again["b"].pos == m["b"].pos
    patched = strategic_merge(again, {"b": {"d": 1}})
    patched.pos["b"] = (9, 9, 9, 9, 9, 9)
    patched["b"].pos["c"] = (8, 8, 8, 8, 8, 8)
    assert again.pos["b"] == (2, 1, 3, 3, 4, 1) and again["b"].pos == {"c": (3, 3, 3, 6, 3, 12)}


def test_max_file_size_must_fit_the_position_integers():
    from gitlint_flux.config import ConfigError, parse_config

    assert parse_config("c.yaml", {"max-file-size": 2**31 - 1}).max_file_size == 2**31 - 1
    with pytest.raises(ConfigError, match="under 2 GiB"):
        parse_config("c.yaml", {"max-file-size": 2**32})
