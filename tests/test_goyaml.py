"""go-yaml v2 facts (gopkg.in/yaml.v2, as vendored by sigs.k8s.io/yaml): plain-scalar
resolution, scalar styles, double quoting. Each row names the upstream function."""

from __future__ import annotations

import math

import pytest

from gitlint_flux import goyaml

RESOLVE = [
    # resolve.go resolveMap: YAML 1.1 words
    ("yes", True), ("On", True), ("y", True), ("NO", False), ("off", False),
    ("~", None), ("", None), ("Null", None),
    # resolve.go resolveMap: "<<" is the merge tag; decoded into interface{} it is its text
    ("<<", "<<"),
    # resolve.go hint 'D'/'S': ParseInt(plain, 0, 64), underscores removed first
    ("0x1F", 31), ("0o17", 15), ("0755", 493), ("0b101", 5), ("1_000", 1000), ("-0x10", -16),
    # resolve.go: ParseInt fails, ParseUint takes it (2^64 - 1)
    ("18446744073709551615", 18446744073709551615),
    # resolve.go: ParseUint takes no sign, so "+2^63" is a yamlStyleFloat
    ("+9223372036854775808", 9.223372036854775808e18),
    # resolve.go: "08" is no octal, but a yamlStyleFloat
    ("08", 8.0),
    # resolve.go: yamlStyleFloat then ParseFloat; out of range (ErrRange) stays a string
    ("1.5e3", 1500.0), ("1e999", "1e999"),
    # resolve.go hint '.': ParseFloat on the text itself, underscores not removed
    (".5", 0.5), (".5_0", ".5_0"),
    # resolve.go: parseTimestamp; decode.go keeps a timestamp as its text for interface{}
    ("2024-01-02", "2024-01-02"),
    # resolve.go: no hint (first byte), so a string
    ("hello", "hello"), ("True!", "True!"),
]


@pytest.mark.parametrize("text,want", RESOLVE)
def test_resolve_plain(text, want):
    got = goyaml.resolve_plain(text)
    assert type(got) is type(want) and got == want


def test_resolve_special_floats():
    # resolve.go resolveMap: .inf/.nan words
    assert goyaml.resolve_plain("-.Inf") == -math.inf
    assert math.isnan(goyaml.resolve_plain(".NaN"))
    assert goyaml.resolve_tag("2024-01-02")[0] == "timestamp"


STYLES = [
    # encode.go stringv: resolves as a string -> plain requested, kept when allowed
    ("hello world", False, "plain"),
    # encode.go stringv: would read as another type -> double quotes
    ("true", False, "double"), ("123", False, "double"), ("", False, "double"),
    ("2024-01-02", False, "double"),
    # encode.go isBase60Float: quoted for YAML 1.1 readers
    ("1:20", False, "double"),
    # emitterc.go analyze_scalar: first-character indicators -> not block plain -> single
    ("*x", False, "single"), ("- a", False, "single"), ("@x", False, "single"),
    # emitterc.go analyze_scalar: "---"/"..." at the start, whatever follows
    ("---foo", False, "single"), ("...x", False, "single"),
    # emitterc.go analyze_scalar: ": " and " #" inside; "-x" and "a:b" stay plain
    ("a: b", False, "single"), ("a #b", False, "single"), ("-x", False, "plain"), ("a:b", False, "plain"),
    # emitterc.go analyze_scalar: leading/trailing space -> single
    (" a", False, "single"), ("a ", False, "single"),
    # emitterc.go analyze_scalar: not printable (tab, U+0085, beyond the BMP) -> double
    ("a\tb", False, "double"), ("a\x85b", False, "double"), ("a\U0001F600", False, "double"),
    # encode.go stringv: a newline asks for literal; select_scalar_style keeps it when
    # block_allowed (no trailing space, no space before a break)
    ("a\nb", False, "literal"), ("a\nb ", False, "double"), ("a \nb", False, "double"),
    # emitterc.go select_scalar_style: a multi-line simple key is double-quoted
    ("a\nb", True, "double"),
    # emitterc.go select_scalar_style: a key is styled like a value otherwise
    ("a: b", True, "single"), ("plain", True, "plain"),
]


@pytest.mark.parametrize("text,key,want", STYLES)
def test_scalar_style(text, key, want):
    assert goyaml.scalar_style(text, key) == want


QUOTED = [
    # emitterc.go write_double_quoted_scalar: short escapes, breaks, quote, backslash
    ('a"b\\c', '"a\\"b\\\\c"'), ("\n\t\x1b\x85\u2028", '"\\n\\t\\e\\N\\L"'),
    # emitterc.go write_double_quoted_scalar: U+00A0 is printable, so written as is
    ("a\xa0b", '"a\xa0b"'),
    # emitterc.go write_double_quoted_scalar: \x, \u, \U by size; the BOM escaped
    ("\x01\ufeff\U0001F600", '"\\x01\\uFEFF\\U0001F600"'),
    # emitterc.go write_double_quoted_scalar: other non-ASCII printable text is kept (unicode mode)
    ("é", '"é"'),
]


@pytest.mark.parametrize("text,want", QUOTED)
def test_double_quoted(text, want):
    assert goyaml.double_quoted(text) == want


def test_single_quoted():
    # emitterc.go write_single_quoted_scalar: a quote is written twice
    assert goyaml.single_quoted("it's") == "'it''s'"
