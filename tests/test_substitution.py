"""The reference table of Flux post-build substitution (gitlint_flux.substitution).

Each row names the upstream source that justifies it:
  envsubst = fluxcd/pkg envsubst (parse/scan.go, parse/parse.go, template.go, funcs.go, eval_test.go)
  varsub   = fluxcd/pkg kustomize/kustomize_varsub.go (SubstituteVariables, varSubstitution)
  docs     = fluxcd.io/flux/components/kustomize/kustomizations/#post-build-variable-substitution
  goyaml   = go-yaml v2 resolve.go / emitterc.go, as sigs.k8s.io/yaml uses it (YAMLToJSON)
"""

from __future__ import annotations

import math

import pytest

from gitlint_flux.model import YMap, YSeq
from gitlint_flux.substitution import (
    UNRESOLVED, SubstitutionError, invalid_names, is_disabled, name_error, prepare_variables, references,
    resolve_or_opaque, substitute_object, substitute_text, substitution_runs, valid_name, variables_in,
)

SET = {"A": "abc"}
EMPTY = {"A": ""}
UNSET: dict = {}

# (id, text, variables, expected) -- non-strict substitute_text
TEXT = [
    # envsubst parse.go parseFunc / template.go evalFunc: a bare variable
    ("bare-set", "${A}", SET, "abc"),
    ("bare-empty", "${A}", EMPTY, ""),
    ("bare-unset", "${A}", UNSET, ""),  # varsub: non-strict mapping returns "" for unset
    # envsubst funcs.go toDefault: every default operator takes the default when unset OR empty
    ("assign-default-set", "${A:=d}", SET, "abc"),
    ("assign-default-empty", "${A:=d}", EMPTY, "d"),
    ("assign-default-unset", "${A:=d}", UNSET, "d"),
    ("colon-minus-set", "${A:-d}", SET, "abc"),
    ("colon-minus-empty", "${A:-d}", EMPTY, "d"),
    ("colon-minus-unset", "${A:-d}", UNSET, "d"),
    ("equals-set", "${A=d}", SET, "abc"),
    ("equals-empty", "${A=d}", EMPTY, "d"),  # Flux's fork: not bash's "unset only"
    ("equals-unset", "${A=d}", UNSET, "d"),
    # envsubst parse.go parseDefaultOrSubstr accepts :? and :+, template.go maps them to toDefault
    ("colon-question-is-a-default", "${A:?msg}", EMPTY, "msg"),
    ("colon-plus-is-a-default", "${A:+alt}", SET, "abc"),
    ("empty-default", "${A:=}", UNSET, ""),
    # envsubst parse.go parseDefaultFunc: a default is text and nested expressions, joined
    ("nested-default", "${A:=${B}}", {"B": "b"}, "b"),
    ("nested-default-of-default", "${A:-${B:=x}}", UNSET, "x"),
    ("default-mixes-text", "${A=pre-${B}-post}", {"B": "b"}, "pre-b-post"),  # eval_test.go
    # envsubst scan.go scanEscaped/skip: $$ is an escaped $, anywhere in the text
    ("escape", "$${A}", SET, "${A}"),
    ("escape-text", "$$x", SET, "$x"),
    ("escape-then-expression", "$$${A}", SET, "$abc"),
    ("escape-pairs", "$$$${A}", SET, "$${A}"),
    ("escape-inside-default-is-literal", "${X:=$${A}}", SET, "$abc"),  # no scanEscape in defaults
    # envsubst scan.go scanLbrack: only "${" opens an expression
    ("dollar-name-is-text", "$A and $A", SET, "$A and $A"),
    ("dollar-at-end", "cost$", SET, "cost$"),
    ("braces-alone", "{A} }", SET, "{A} }"),
    # envsubst template.go lookupFunc / funcs.go: the operators (eval_test.go TestExpand)
    ("length", "${#A}", SET, "3"),
    ("length-bytes", "${#A}", {"A": "é"}, "2"),  # funcs.go toLen: len() of a Go string
    ("upper-first", "${A^}", SET, "Abc"),
    ("upper", "${A^^}", SET, "ABC"),
    ("lower-first", "${A,}", {"A": "ABC"}, "aBC"),
    ("lower", "${A,,}", {"A": "ABC"}, "abc"),
    ("mixed-casing-op-is-identity", "${A,^}", SET, "abc"),  # lookupFunc default: toDefault
    ("substr-pos", "${A:1}", SET, "bc"),
    ("substr-pos-len", "${A:1:1}", SET, "b"),
    ("substr-negative-pos-needs-space", "${A: -1}", SET, "abc"),  # " -1": strconv.Atoi fails: s
    ("substr-negative-pos-via-nested", "${A:${N}}", {"A": "abc", "N": "-1"}, "c"),
    ("substr-negative-pos-clamps", "${A:${N}}", {"A": "abc", "N": "-9"}, "abc"),
    ("substr-pos-past-end", "${A:5}", SET, ""),
    ("substr-len-past-end", "${A:1:9}", SET, "bc"),
    ("substr-negative-len", "${A:1:-1}", SET, "b"),
    ("substr-negative-len-before-pos", "${A:2:-2}", SET, ""),
    ("substr-bad-pos", "${A:x}", SET, "abc"),
    ("substr-bad-len", "${A:1:2:3}", SET, "abc"),  # the length arg is "2:3"
    ("trim-shortest-prefix", "${F#*.}", {"F": "bash.string.txt"}, "string.txt"),
    ("trim-longest-prefix", "${F##*.}", {"F": "bash.string.txt"}, "txt"),
    ("trim-shortest-suffix", "${F%.*}", {"F": "bash.string.txt"}, "bash.string"),
    ("trim-longest-suffix", "${F%%.*}", {"F": "bash.string.txt"}, "bash"),
    ("glob-star-crosses-slash", "${F##*/}", {"F": "path/to/file"}, "file"),  # envsubst path.Match fork
    ("glob-class", "${F#[a-c]}", {"F": "bx"}, "x"),
    ("glob-negated-class", "${F#[^a]}", {"F": "bx"}, "x"),
    ("glob-question", "${F#?}", {"F": "bx"}, "x"),
    ("glob-bad-pattern-keeps-value", "${F#[}", {"F": "[x"}, "[x"),
    ("trim-star-drops-one-char", "${F#*}", {"F": "abc"}, "bc"),  # trimShortest never tries ""
    ("replace-first", "${S/abc/xyz}", {"S": "abcABCabc"}, "xyzABCabc"),
    ("replace-all", "${S//abc/xyz}", {"S": "abcABCabc"}, "xyzABCxyz"),
    ("replace-prefix", "${S/#abc/X}", {"S": "abcABCabc"}, "XABCabc"),
    ("replace-suffix", "${S/%abc/X}", {"S": "abcABCabc"}, "abcABCX"),
    ("replace-prefix-empty-pattern", "${S/#/p-}", {"S": "v"}, "p-v"),
    ("replace-suffix-empty-pattern", "${S/%/-s}", {"S": "v"}, "v-s"),
    ("replace-delete", "${S/./}", {"S": "foo.bar"}, "foobar"),
    ("replace-prefix-needs-replacement", "${S/#a/}", {"S": "ab"}, "ab"),  # replacePrefix: len(args) != 2
    ("replace-escaped-slash", "${S//\\//-}", {"S": "a/b/c"}, "a-b-c"),
    ("replace-nested-pattern", "${S//${P}/${R}}", {"S": "a.b", "P": ".", "R": "-"}, "a-b"),
    ("nested-transform", "${X=${A^^}}", SET, "ABC"),
    ("name-may-start-with-digit", "${1A}", {"1A": "v"}, "v"),  # acceptIdent; varsub rejects defining it
    ("text-around", "x ${A} y", SET, "x abc y"),
    ("backslashes-outside-are-text", "\\\\ ${A}", SET, "\\\\ abc"),  # eval_test.go
]


@pytest.mark.parametrize("text,variables,expected", [r[1:] for r in TEXT], ids=[r[0] for r in TEXT])
def test_text(text, variables, expected):
    assert substitute_text(text, variables) == expected


# (id, text, message) -- what does not parse fails the object (envsubst parse.go errors)
PARSE_ERRORS = [
    ("minus-without-colon", "${A-d}", "missing closing brace"),  # parseFunc: '-' is no operator
    ("plus-without-colon", "${A+d}", "missing closing brace"),
    ("question-without-colon", "${A?d}", "missing closing brace"),
    ("unclosed", "x ${A", "missing closing brace"),
    ("dot-in-name", "${A.B}", "missing closing brace"),
    ("empty", "${}", "unable to parse variable name"),
    ("no-name", "${-A}", "unable to parse variable name"),
    ("unclosed-default", "${A:=x", "unable to parse substitution within function"),
    ("colon-at-end", "${A:", "bad substitution"),
    ("empty-substr", "${A:}", "unable to parse substitution within function"),
    ("double-colon", "${A::1}", "unable to parse substitution within function"),
    ("text-after-length", "${#A:1}", "bad substitution"),
    ("empty-length", "${#}", "bad substitution"),
    ("empty-trim-pattern", "${A#}", "unable to parse substitution within function"),
    ("trim-pattern-then-expression", "${A#x${B}}", "bad substitution"),
    ("three-carets", "${A^^^}", "bad substitution"),
    ("replace-without-second-slash", "${A/x}", "bad substitution"),
    ("non-ascii-after-colon", "${A:é}", "bad substitution"),  # parseDefaultOrSubstr unread width
]


@pytest.mark.parametrize("text,message", [r[1:] for r in PARSE_ERRORS], ids=[r[0] for r in PARSE_ERRORS])
def test_parse_errors(text, message):
    with pytest.raises(SubstitutionError) as e:
        substitute_text(text, SET)
    assert e.value.message == message and e.value.kind == "parse"
    assert e.value.offset == text.index("${")
    assert e.value.flux_message == "envsubst error: variable substitution failed: " + message


# (id, text, variables, expected or the unset name) -- strict mode (template.go evalFunc, isDefaultOp;
# eval_test.go TestExpandStrict; varsub: strict mapping reports existence)
STRICT = [
    ("unset-fails", "${A}", UNSET, "A"),
    ("empty-is-set", "${A}", EMPTY, ""),
    ("default-tolerates-unset", "${A:=d}", UNSET, "d"),
    ("equals-tolerates-unset", "${A=d}", UNSET, "d"),
    ("length-of-unset-fails", "${#A}", UNSET, "A"),  # fluxcd/flux2#5836
    ("upper-of-unset-fails", "${A^^}", UNSET, "A"),
    ("substr-of-unset-fails", "${A:0:1}", UNSET, "A"),
    ("replace-of-unset-fails", "${A/x/y}", UNSET, "A"),
    ("trim-of-unset-fails", "${A%x}", UNSET, "A"),
    ("nested-in-default-fails-even-when-set", "${A:=${B}}", SET, "B"),  # args evaluated first
    ("escaped-is-no-reference", "$${A}", UNSET, "${A}"),
]


@pytest.mark.parametrize("text,variables,expected", [r[1:] for r in STRICT], ids=[r[0] for r in STRICT])
def test_strict(text, variables, expected):
    if text.count("${") - text.count("$${") and expected in ("A", "B"):
        with pytest.raises(SubstitutionError) as e:
            substitute_text(text, variables, strict=True)
        assert e.value.kind == "unset" and e.value.name == expected
        assert e.value.message == f'variable not set (strict mode): "{expected}"'
        assert text[e.value.offset:e.value.offset + 2] == "${"
    else:
        assert substitute_text(text, variables, strict=True) == expected


# (id, name, valid) -- varsub varsubRegex ^[_[:alpha:]][_[:alpha:][:digit:]]*$ (RE2 classes are ASCII)
NAMES = [
    ("letters", "cluster_env", True),
    ("underscore-first", "_X1", True),
    ("digit-first", "1X", False),
    ("dash", "my-var", False),
    ("dot", "a.b", False),
    ("empty", "", False),
    ("non-ascii-letter", "é", False),
]


@pytest.mark.parametrize("name,ok", [r[1:] for r in NAMES], ids=[r[0] for r in NAMES])
def test_names(name, ok):
    assert valid_name(name) is ok
    assert invalid_names([name]) == ([] if ok else [name])


def test_name_error_message():
    # varsub varSubstitution
    assert name_error("my-var") == "'my-var' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"


# (id, postBuild, resolved variables, runs) -- varsub SubstituteVariables: len(vars) > 0 or Always;
# the CRD's substituteStrategy enum (WithVariables default, Always)
RUNS = [
    ("no-postbuild", None, {}, False),
    ("postbuild-without-variables", {}, {}, False),
    ("postbuild-with-variables", {"substitute": {"A": "1"}}, {"A": "1"}, True),
    ("empty-valued-variable-counts", {"substitute": {"A": ""}}, {"A": ""}, True),
    ("always-without-variables", {"substituteStrategy": "Always"}, {}, True),
    ("with-variables-strategy", {"substituteStrategy": "WithVariables"}, {}, False),
    ("only-missing-optional-source", {"substituteFrom": [{"kind": "ConfigMap", "name": "x", "optional": True}]},
     {}, False),
]


@pytest.mark.parametrize("postbuild,resolved,runs", [r[1:] for r in RUNS], ids=[r[0] for r in RUNS])
def test_substitution_runs(postbuild, resolved, runs):
    assert substitution_runs(postbuild, resolved) is runs


def test_prepare_variables():
    # varsub LoadVariables / SubstituteVariables: later sources win, inline wins, "\n" removed
    got = prepare_variables({"B": "inline\n"}, [{"A": "1", "B": "cm"}, {"A": "2\n"}])
    assert got == {"A": "2", "B": "inline"}


# (id, object, disabled) -- varsub SubstituteVariables: label OR annotation, value exactly "disabled"
DISABLED = [
    ("annotation", {"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}}}, True),
    ("label", {"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}}}, True),
    ("other-value", {"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/substitute": "Disabled"}}}, False),
    ("none", {"metadata": {"name": "x"}}, False),
    ("not-an-object", "x", False),
]


@pytest.mark.parametrize("obj,disabled", [r[1:] for r in DISABLED], ids=[r[0] for r in DISABLED])
def test_is_disabled(obj, disabled):
    assert is_disabled(obj) is disabled


# (id, string value, variables, result) -- substitute_object: the YAML round trip (varsub
# varSubstitution: res.AsYAML, envsubst, yaml.YAMLToJSON; goyaml emitter style and resolve.go)
TYPES = [
    ("int", "${R}", {"R": "3"}, 3),
    ("quoted-in-source-still-int", "${R}", {"R": "3"}, 3),  # the parsed value carries no quotes
    ("bool-true", "${B}", {"B": "true"}, True),
    ("yaml11-bool-yes", "${B}", {"B": "yes"}, True),  # goyaml v2 resolveMapList
    ("yaml11-bool-y", "${B}", {"B": "y"}, True),
    ("yaml11-bool-off", "${B}", {"B": "off"}, False),
    ("empty-is-null", "${E}", {"E": ""}, None),  # fluxcd/pkg kustomize test: "from-inline: null"
    ("tilde-is-null", "${E}", {"E": "~"}, None),
    ("float", "${F}", {"F": "1.5"}, 1.5),
    ("integral-float-is-int", "${F}", {"F": "1e3"}, 1000),
    ("octal", "${O}", {"O": "0777"}, 511),  # strconv.ParseInt(s, 0, 64)
    ("hex", "${O}", {"O": "0x1F"}, 31),
    ("underscores", "${O}", {"O": "1_000"}, 1000),
    ("not-octal-is-float-then-int", "${O}", {"O": "08"}, 8),
    ("text", "${S}", {"S": "hello"}, "hello"),
    ("concatenated-int", "${A}${B}", {"A": "1", "B": "2"}, 12),
    ("quote-trick", "${Q}${N}${Q}", {"Q": '"', "N": "123"}, "123"),  # docs: numbers and booleans
    ("quoted-value-in-variable", "${P}", {"P": '"9797"'}, "9797"),  # fluxcd/pkg testdata/configmap.yaml
    ("flow-list", "${L}", {"L": "[a, 1]"}, ["a", 1]),
    ("comment-truncates", "${C}", {"C": "a #b"}, "a"),
    ("leading-star-single-quoted", "*.${D}", {"D": "3"}, "*.3"),  # emitter: indicator, single-quoted
    ("colon-space-single-quoted", "${A}: x", {"A": "1"}, "1: x"),
    ("multiline-literal-stays-string", "a\n${N}", {"N": "3"}, "a\n3"),
    ("escape-only", "$${A}", {}, "${A}"),
    ("unrelated-dollar-untouched", "$HOME", {"HOME": "x"}, "$HOME"),
]


@pytest.mark.parametrize("value,variables,expected", [r[1:] for r in TYPES], ids=[r[0] for r in TYPES])
def test_types(value, variables, expected):
    got = substitute_object({"k": value}, variables)["k"]
    assert got == expected and type(got) is type(expected)


def test_yaml_breaking_value_is_an_error():
    # varsub varSubstitution: YAMLToJSON fails on what the substituted text became
    with pytest.raises(SubstitutionError) as e:
        substitute_object({"spec": {"k": "${V}"}}, {"V": "a: b"})
    assert e.value.kind == "yaml" and e.value.path == ("spec", "k")


def test_keys_and_positions():
    m = YMap(1, 1)
    m["name-${N}"] = "${N}"
    m["plain"] = "x"
    m.pos = {"name-${N}": (1, 1, 1, 9, 1, 13), "plain": (2, 1, 2, 8, 2, 9)}
    seq = YSeq(3, 1)
    seq.append("${N}")
    seq.pos = [(3, 3, 3, 7)]
    top = {"m": m, "s": seq, "same": ["x"]}
    out = substitute_object(top, {"N": "7"})
    assert isinstance(out["m"], YMap) and out["m"] == {"name-7": 7, "plain": "x"}
    assert out["m"].pos["name-7"] == (1, 1, 1, 9, 1, 13)
    assert isinstance(out["s"], YSeq) and out["s"] == [7] and out["s"].pos == [(3, 3, 3, 7)]
    assert out["same"] is top["same"]  # unchanged subtrees are shared
    assert type(out) is dict
    plain = {"a": "b"}
    assert substitute_object(plain, {"N": "7"}) is plain


def test_object_strict_error_has_path():
    with pytest.raises(SubstitutionError) as e:
        substitute_object({"a": [{"b": "x-${MISSING}"}]}, {}, strict=True)
    assert e.value.path == ("a", 0, "b") and e.value.name == "MISSING" and e.value.offset == 2


def test_references():
    refs = references("a ${A:=${B}} $${C} ${#D} ${E")
    assert [(r.name, r.op, r.has_default, r.offset, r.length) for r in refs[:3]] == [
        ("A", ":=", True, 2, 10), ("D", "#", False, 19, 5), ("E", "", False, 25, 3)]
    assert [(n.name, n.has_default, n.offset) for n in refs[0].nested] == [("B", False, 7)]
    assert refs[0].error is None and refs[2].error == "missing closing brace"
    assert references("no expression $x $${Y}") == []


def test_variables_in():
    obj = {"a": ["${A} ${B:=x}"], "${K}": {"b": "${C:-${D}}"}}
    got = [(p, r.name, r.has_default) for p, r in variables_in(obj)]
    assert got == [(("a", 0), "A", False), (("a", 0), "B", True), (("${K}",), "K", False),
                   (("${K}", "b"), "C", True), (("${K}", "b"), "D", False)]


def test_resolve_or_opaque():
    # schema stage: an unknown variable without default makes the value opaque; a default is used
    assert resolve_or_opaque("${U}-x", {}) is UNRESOLVED
    sentinel = object()
    assert resolve_or_opaque("${U}", {}, opaque=sentinel) is sentinel
    assert resolve_or_opaque("${U:=5}", {}) == "5"
    assert resolve_or_opaque("${U:=5}", {}, typed=True) == 5
    assert resolve_or_opaque("${A}", {"A": "x"}) == "x"
    assert resolve_or_opaque("${A", {"A": "x"}) is UNRESOLVED
    assert resolve_or_opaque("plain", {}) == "plain"


def test_non_finite_floats_are_kept():
    # documented approximation: NaN/inf come back as floats
    assert math.isnan(substitute_object({"k": "${F}"}, {"F": ".nan"})["k"])


def test_fast_path_and_cache():
    # strings without "${"/"$$" are returned as they are (the same object)
    s = "a long $tring without expressions"
    assert substitute_object({"k": s}, {"A": "1"})["k"] is s
    assert substitute_text(s, {}) is s
