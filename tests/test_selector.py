"""Label selectors and kustomize patch targets (gitlint_flux.selector).

Sources named in the rows:
  selector.go = k8s.io/apimachinery/pkg/labels/selector.go (Lexer, Parser, NewRequirement, Requirement.Matches)
  validation  = k8s.io/apimachinery/pkg/util/validation (IsQualifiedName, IsValidLabelValue)
  kselector   = sigs.k8s.io/kustomize api/types/selector.go (SelectorRegex, anchorRegex)
  reswrangler = sigs.k8s.io/kustomize api/resmap/reswrangler.go (Select)
  resid       = sigs.k8s.io/kustomize api/resid/resid.go (EffectiveNamespace)
  goregexp    = Go regexp/syntax (RE2) parse errors
"""

from __future__ import annotations

import time

import pytest

from gitlint_flux.selector import SelectorError, go_regex, parse, target_matches

# (id, selector, labels, matches) -- selector.go Parse + Requirement.Matches
MATCH = [
    ("equals", "app=web", {"app": "web"}, True),
    ("equals-other-value", "app=web", {"app": "db"}, False),
    ("equals-absent", "app=web", {}, False),
    ("double-equals", "app==web", {"app": "web"}, True),
    ("not-equals-absent-matches", "app!=web", {}, True),  # Matches: NotEquals, key absent -> true
    ("not-equals-other", "app!=web", {"app": "db"}, True),
    ("not-equals-same", "app!=web", {"app": "web"}, False),
    ("exists", "app", {"app": ""}, True),
    ("exists-absent", "app", {}, False),
    ("not-exists", "!app", {}, True),
    ("not-exists-present", "!app", {"app": "x"}, False),
    ("in", "env in (dev,prod)", {"env": "prod"}, True),
    ("in-absent", "env in (dev,prod)", {}, False),
    ("notin-absent-matches", "env notin (dev)", {}, True),
    ("notin-member", "env notin (dev)", {"env": "dev"}, False),
    ("in-empty-parens-is-empty-value", "env in ()", {"env": ""}, True),  # parseValues: "()" -> {""}
    ("in-empty-member", "env in (a,,b)", {"env": ""}, True),  # parseIdentifiersList ",,"
    ("gt", "n > 3", {"n": "4"}, True),
    ("gt-equal", "n > 3", {"n": "3"}, False),
    ("lt", "n<3", {"n": "2"}, True),
    ("gt-non-integer-label", "n > 3", {"n": "x"}, False),  # Matches: ParseInt fails -> false
    ("gt-absent", "n > 3", {}, False),
    ("empty-value", "app=", {"app": ""}, True),  # parseExactValue: end -> ""
    ("and", "a=1,b=2", {"a": "1", "b": "2"}, True),
    ("and-one-fails", "a=1,b=2", {"a": "1"}, False),
    ("whitespace", "  a = 1 ,\tb  ", {"a": "1", "b": "x"}, True),  # isWhitespace: space, tab, \r, \n
    ("empty-selects-all", "", {"x": "y"}, True),
    ("blank-selects-all", "   ", {}, True),
    ("in-keyword-as-key-and-value", "in in (in)", {"in": "in"}, True),  # lookahead(Values)
    ("prefixed-key", "app.kubernetes.io/name=web", {"app.kubernetes.io/name": "web"}, True),
]


@pytest.mark.parametrize("sel,labels,ok", [r[1:] for r in MATCH], ids=[r[0] for r in MATCH])
def test_match(sel, labels, ok):
    assert parse(sel).matches(labels) is ok


# (id, selector, error offset) -- selector.go parser errors and NewRequirement/validation checks
ERRORS = [
    ("trailing-comma", "a=b,", 4),  # "expected: identifier after ','"
    ("not-with-value", "!a=b", 2),  # '!' makes a unary requirement: '=' is unexpected
    ("missing-close", "a in (x", 7),
    ("missing-open", "a in x", 5),
    ("two-values", "a=b c", 4),
    ("gt-not-integer", "n > x", 4),  # NewRequirement: Gt/Lt value must be an integer
    ("gt-negative-is-not-a-label-value", "n > -1", 4),  # validation: must start alphanumeric
    ("key-too-long", "x" * 64 + "=a", 0),  # validation: name part <= 63
    ("uppercase-prefix", "Foo.com/b=c", 0),  # validation: prefix is a lowercase DNS subdomain
    ("empty-prefix", "/b=c", 0),
    ("two-slashes", "a/b/c=d", 0),
    ("bad-key-chars", "a_=b", 0),  # must end alphanumeric
    ("value-too-long", "a=" + "v" * 64, 2),
    ("bad-value-chars", "a=b@c", 2),
    ("starts-with-operator", "=a", 0),
    ("double-operator", "a<=3", 2),  # lexer: "<" then "=": '=' is no value
]


@pytest.mark.parametrize("sel,offset", [r[1:] for r in ERRORS], ids=[r[0] for r in ERRORS])
def test_errors(sel, offset):
    with pytest.raises(SelectorError) as e:
        parse(sel)
    assert e.value.offset == offset


def test_error_messages():
    # selector.go parse(): "unable to parse requirement: ..." wraps requirement errors
    with pytest.raises(SelectorError, match=r"^unable to parse requirement: found '', expected: ',' or '\)'"):
        parse("a in (x")
    with pytest.raises(SelectorError, match=r"^found '', expected: identifier after ','"):
        parse("a=b,")


# (id, target, object fields, matches) -- kselector / reswrangler Select / resid EffectiveNamespace
DEPLOY = dict(group="apps", version="v1", kind="Deployment", name="web", namespace="apps",
              labels={"app": "web"}, annotations={"team": "a"})
TARGETS = [
    ("empty-target-matches-all", {}, DEPLOY, True),
    ("kind", {"kind": "Deployment"}, DEPLOY, True),
    ("kind-anchored", {"kind": "Deploy"}, DEPLOY, False),  # anchorRegex ^(?:...)$
    ("kind-regex", {"kind": "Deploy.*"}, DEPLOY, True),
    ("kind-alternation-anchored-whole", {"kind": "Service|Deployment"}, DEPLOY, True),
    ("group", {"group": "apps"}, DEPLOY, True),
    ("core-group-empty", {"group": "apps"}, dict(DEPLOY, group=""), False),
    ("version", {"version": "v1"}, DEPLOY, True),
    ("name-regex", {"name": "w.b"}, DEPLOY, True),
    ("name-original-or-current", {"name": "old"}, dict(DEPLOY, name=["old", "prefix-old"]), True),
    ("namespace", {"namespace": "apps"}, DEPLOY, True),
    ("empty-namespace-is-default", {"namespace": "default"}, dict(DEPLOY, namespace=""), True),
    ("cluster-scoped-not-default", {"namespace": "default"},
     dict(DEPLOY, kind="ClusterRole", namespace="", cluster_scoped=True), False),
    ("cluster-scoped-any-namespace", {"namespace": ".*"},
     dict(DEPLOY, kind="ClusterRole", namespace="", cluster_scoped=True), True),
    ("label-selector", {"labelSelector": "app=web"}, DEPLOY, True),
    ("label-selector-fails", {"labelSelector": "app=db"}, DEPLOY, False),
    ("annotation-selector", {"annotationSelector": "team in (a,b)"}, DEPLOY, True),
    ("annotation-selector-fails", {"annotationSelector": "!team"}, DEPLOY, False),
    ("all-fields", {"group": "apps", "version": "v1", "kind": "Deployment", "name": "web", "namespace": "apps",
                    "labelSelector": "app", "annotationSelector": "team=a"}, DEPLOY, True),
    # reswrangler Select: a selector is parsed only for objects that pass name/namespace/GVK
    ("bad-selector-not-reached", {"kind": "Service", "labelSelector": "a=b,"}, DEPLOY, False),
]


@pytest.mark.parametrize("target,obj,ok", [r[1:] for r in TARGETS], ids=[r[0] for r in TARGETS])
def test_targets(target, obj, ok):
    assert target_matches(target, **obj) is ok


def test_invalid_targets_raise():
    # kselector NewSelectorRegex fails the build; reswrangler returns labels.Parse's error
    with pytest.raises(SelectorError) as e:
        target_matches({"name": "a(b"}, **DEPLOY)
    assert e.value.field == "name" and not e.value.unsupported
    with pytest.raises(SelectorError) as e:
        target_matches({"labelSelector": "a=b,"}, **DEPLOY)
    assert e.value.field == "labelSelector"


# (id, Go pattern, subject, matches or "error" / "unsupported") -- goregexp, translated to Python re
REGEX = [
    ("posix-class", "[[:alpha:]]+", "Deploy", True),
    ("perl-digit-is-ascii", "\\d+", "١٢", False),  # RE2 \d is [0-9]
    ("inline-flag", "(?i)deployment", "Deployment", True),
    ("inline-flag-mid-pattern", "a(?i)b|c", "C", True),  # the flag covers the rest of the group
    ("braces-without-count-are-literal", "a{,3}", "a{,3}", True),
    ("dollar-is-end-of-text", "web$", "web\n", False),
    ("named-group-go-syntax", "(?<n>web)", "web", True),
    ("quoted-literal", "\\Qa.b\\E", "a.b", True),
    ("octal-escape", "\\101", "A", True),
    ("backreference-is-error", "(a)\\1", "aa", "error"),
    ("lookahead-is-error", "(?=a)a", "a", "error"),
    ("possessive-is-error", "a*+", "a", "error"),
    ("repeat-over-1000-is-error", "a{1001}", "a", "error"),
    ("unknown-escape-is-error", "\\y", "y", "error"),
    ("unicode-class-unsupported", "\\pL+", "a", "unsupported"),
    ("ungreedy-flag-unsupported", "(?U)a+", "a", "unsupported"),
    ("nested-repetition-unsupported", "(a+)+$", "a", "unsupported"),  # would backtrack exponentially
]


@pytest.mark.parametrize("pattern,subject,expected", [r[1:] for r in REGEX], ids=[r[0] for r in REGEX])
def test_go_regex(pattern, subject, expected):
    if expected in ("error", "unsupported"):
        with pytest.raises(SelectorError) as e:
            go_regex(pattern)
        assert e.value.unsupported is (expected == "unsupported")
    else:
        assert (go_regex(pattern).match(subject) is not None) is expected


def test_regex_never_hangs():
    # the accepted patterns stay fast on the longest names (253 characters)
    subject = "a" * 253 + "!"
    t = time.perf_counter()
    for pattern in ("a*a*a*b", ".*a.*a.*b", "(?:a|b)c*"):
        go_regex(pattern).match(subject)
    assert time.perf_counter() - t < 2.0
