"""CEL: for every `x-kubernetes-validations` rule of the Flux controllers' CRDs in ../shared/flux-crds,
a document that breaks it and one that satisfies it, through the linter; each decision is
cross-checked against cel-python when it is installed. Plus unit tests of the evaluator."""

from __future__ import annotations

import copy

import pytest
from conftest import SHARED, flux_ks, gotk_sync, lint, write_tree

from gitlint_flux.schema import cel
from gitlint_flux.schema.apis import FLUX_TOOLKIT_GROUPS
from gitlint_flux.schema.catalog import Bundled
from gitlint_flux.yamlcompose import compose_all

CRDS = SHARED / "flux-crds"
needs_crds = pytest.mark.skipif(not CRDS.is_dir(), reason=f"the Flux CRDs are absent ({CRDS})")


def crd_rules() -> list[tuple[str, str, str, tuple, str, str]]:
    """(group, kind, version, path of the node, rule, message) of every rule of the Flux
    controllers' CRDs (source-watcher's and flux-operator's: tests/test_schema_catalog.py)."""
    if not CRDS.is_dir():
        return []
    out = []

    def walk(node, path, emit):
        if not isinstance(node, dict):
            return
        for r in node.get("x-kubernetes-validations") or ():
            emit(path, r["rule"], r.get("message", ""))
        for k, v in (node.get("properties") or {}).items():
            walk(v, path + (k,), emit)
        if isinstance(node.get("items"), dict):
            walk(node["items"], path + ("[]",), emit)

    for f in sorted(CRDS.glob("*.yaml")):
        docs, _ = compose_all(f.read_text())
        for value, _l, _c in docs:
            if not isinstance(value, dict) or value.get("kind") != "CustomResourceDefinition":
                continue
            spec = value["spec"]
            if spec["group"] not in FLUX_TOOLKIT_GROUPS:
                continue
            for v in spec["versions"]:
                walk(v["schema"]["openAPIV3Schema"], (),
                     lambda p, r, m, g=spec["group"], k=spec["names"]["kind"], ver=v["name"]:
                     out.append((g, k, ver, p, r, m)))
    return out


BASE = {
    "HelmRelease": {"interval": "10m", "chartRef": {"kind": "OCIRepository", "name": "podinfo"}},
    "ImagePolicy": {"imageRepositoryRef": {"name": "podinfo"}, "policy": {"semver": {"range": ">=1.0.0"}}},
    # an OCI source: these Kustomizations are only validated, not walked
    "Kustomization": {"interval": "10m", "prune": True, "path": "./",
                      "sourceRef": {"kind": "OCIRepository", "name": "elsewhere"}},
    "Provider": {"type": "github", "address": "https://github.com/org/repo", "secretRef": {"name": "token"}},
    "Receiver": {"type": "github", "events": ["ping", "push"], "secretRef": {"name": "token"},
                 "resources": [{"kind": "GitRepository", "name": "webapp"}]},
    "Bucket": {"interval": "5m", "bucketName": "b", "endpoint": "minio.example.com"},
    "GitRepository": {"interval": "5m", "url": "https://github.com/org/repo"},
    "HelmChart": {"interval": "5m", "chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}},
}
OIDC = [{"issuerURL": "https://token.actions.githubusercontent.com", "audience": "flux",
         "validations": [{"expression": "claims.sub != ''", "message": "no subject"}]}]
AWS_STS = {"provider": "aws", "endpoint": "https://sts.amazonaws.com"}
LDAP_STS = {"provider": "ldap", "endpoint": "https://ldap.example.com"}
DROP = None  # a patch value that removes the key

#: (kind, message, rule prefix) -> (patch that breaks the rule, patch that satisfies it);
#: patches are merged into BASE[kind] (the spec)
CASES = {
    ("HelmRelease", "(has(self.chart)"): (
        {"chart": {"spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}}}, {}),
    ("HelmRelease", "!has(self.retryInterval) || self.name != 'RemediateOnFailure'"): (
        {"install": {"strategy": {"name": "RemediateOnFailure", "retryInterval": "1m"}}},
        {"install": {"strategy": {"name": "RetryOnFailure", "retryInterval": "1m"}}}),
    ("HelmRelease", "has(self.configMapRef) || has(self.secretRef)"): (
        {"kubeConfig": {}}, {"kubeConfig": {"secretRef": {"name": "kc"}}}),
    ("HelmRelease", "!has(self.configMapRef) || !has(self.secretRef)"): (
        {"kubeConfig": {"secretRef": {"name": "kc"}, "configMapRef": {"name": "kc"}}},
        {"kubeConfig": {"configMapRef": {"name": "kc"}}}),
    ("HelmRelease", "!has(self.retryInterval) || self.name == 'RetryOnFailure'"): (
        {"upgrade": {"strategy": {"name": "RemediateOnFailure", "retryInterval": "1m"}}},
        {"upgrade": {"strategy": {"name": "RemediateOnFailure"}}}),
    ("ImagePolicy", "!has(self.interval)"): (
        {"interval": "5m"}, {"interval": "5m", "digestReflectionPolicy": "Always"}),
    ("ImagePolicy", "has(self.interval) ||"): (
        {"digestReflectionPolicy": "Always"}, {"digestReflectionPolicy": "IfNotPresent"}),
    ("Kustomization", "has(self.configMapRef) || has(self.secretRef)"): (
        {"kubeConfig": {}}, {"kubeConfig": {"secretRef": {"name": "kc"}}}),
    ("Kustomization", "!has(self.configMapRef) || !has(self.secretRef)"): (
        {"kubeConfig": {"secretRef": {"name": "kc"}, "configMapRef": {"name": "kc"}}},
        {"kubeConfig": {"configMapRef": {"name": "kc"}}}),
    ("Provider", "self.type == 'github'"): (
        {"type": "slack", "commitStatusExpr": "event.metadata.app"}, {"commitStatusExpr": "event.metadata.app"}),
    ("Receiver", "self.type != 'generic-oidc' || (has(self.oidcProviders)"): (
        {"type": "generic-oidc", "secretRef": DROP}, {"type": "generic-oidc", "secretRef": DROP, "oidcProviders": OIDC}),
    ("Receiver", "self.type == 'generic-oidc' || !has(self.oidcProviders)"): ({"oidcProviders": OIDC}, {}),
    ("Receiver", "self.type != 'generic-oidc' || !has(self.secretRef)"): (
        {"type": "generic-oidc", "oidcProviders": OIDC},
        {"type": "generic-oidc", "secretRef": DROP, "oidcProviders": OIDC}),
    ("Receiver", "self.type == 'generic-oidc' || has(self.secretRef)"): ({"secretRef": DROP}, {}),
    ("Bucket", "self.provider == 'aws' || self.provider == 'generic'"): (
        {"provider": "gcp", "sts": AWS_STS}, {"provider": "aws", "sts": AWS_STS}),
    ("Bucket", "self.provider != 'aws' || !has(self.sts) || self.sts.provider"): (
        {"provider": "aws", "sts": LDAP_STS}, {"provider": "aws", "sts": AWS_STS}),
    ("Bucket", "self.provider != 'generic' || !has(self.sts)"): ({"sts": AWS_STS}, {"sts": LDAP_STS}),
    ("Bucket", "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)"): (
        {"provider": "aws", "sts": {**AWS_STS, "secretRef": {"name": "s"}}},
        {"sts": {**LDAP_STS, "secretRef": {"name": "s"}}}),
    ("Bucket", "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)"): (
        {"provider": "aws", "sts": {**AWS_STS, "certSecretRef": {"name": "s"}}},
        {"sts": {**LDAP_STS, "certSecretRef": {"name": "s"}}}),
    ("Bucket", "self.provider != 'generic' || !has(self.serviceAccountName)"): (
        {"serviceAccountName": "sa"}, {"provider": "aws", "serviceAccountName": "sa"}),
    ("Bucket", "!has(self.secretRef) || !has(self.serviceAccountName)"): (
        {"provider": "aws", "secretRef": {"name": "s"}, "serviceAccountName": "sa"},
        {"provider": "aws", "secretRef": {"name": "s"}}),
    ("GitRepository", "!has(self.serviceAccountName)"): (
        {"serviceAccountName": "sa"}, {"provider": "azure", "serviceAccountName": "sa"}),
    ("HelmChart", "!has(self.verify)"): (
        {"sourceRef": {"kind": "GitRepository", "name": "podinfo"}, "verify": {"provider": "cosign"}},
        {"verify": {"provider": "cosign"}}),
}


def case_for(kind: str, rule: str):
    hits = [v for (k, prefix), v in CASES.items() if k == kind and rule.startswith(prefix)]
    assert len(hits) == 1, f"no single test case for {kind} rule {rule!r}: add one to CASES"
    return hits[0]


def merge(base, patch):
    out = copy.deepcopy(base)
    for k, v in patch.items():
        if v is DROP:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict) and v:
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def to_yaml(value, indent=0) -> str:
    import json

    pad = " " * indent
    lines = []
    for k, v in value.items():
        if isinstance(v, dict) and v:
            lines.append(f"{pad}{k}:")
            lines.append(to_yaml(v, indent + 2))
        else:
            lines.append(f"{pad}{k}: {json.dumps(v)}")
    return "\n".join(lines)


def document(group, kind, version, spec) -> str:
    return (f"apiVersion: {group}/{version}\nkind: {kind}\nmetadata:\n  name: subject\n  namespace: flux-system\n"
            f"spec:\n{to_yaml(spec, 2)}\n")


RULES = crd_rules()


def test_the_flux_crds_carry_23_rules():
    if not RULES:
        pytest.skip("the Flux CRDs are absent")
    assert len(RULES) == 23


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """One repository with a breaking and a satisfying document per rule, linted once."""
    root = tmp_path_factory.mktemp("cel") / "repo"
    files = {"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
             "clusters/prod/apps.yaml": flux_ks("apps", "./apps")}
    for i, (group, kind, version, _path, rule, _msg) in enumerate(RULES):
        bad, good = case_for(kind, rule)
        files[f"apps/rule{i:02d}-break.yaml"] = document(group, kind, version, merge(BASE[kind], bad))
        files[f"apps/rule{i:02d}-satisfy.yaml"] = document(group, kind, version, merge(BASE[kind], good))
    write_tree(root, files)
    report = lint(root)
    by_file: dict[str, list] = {}
    for f in report.findings:
        if f.rule.startswith("FLX2"):
            by_file.setdefault(f.path, []).append(f)
    return by_file


@needs_crds
@pytest.mark.parametrize("i", range(len(RULES)), ids=[f"{r[1]}:{'.'.join(r[3]) or 'root'}:{r[4][:40]}" for r in RULES])
def test_every_rule_breaks_and_holds(i, outcomes):
    group, kind, version, path, rule, message = RULES[i]
    broken = outcomes.get(f"apps/rule{i:02d}-break.yaml", [])
    assert [(f.rule, f.message) for f in broken] == [("FLX205", f"`{'.'.join(path)}`: {message}")], broken
    assert "rule: `" + rule + "`" in broken[0].hint
    assert outcomes.get(f"apps/rule{i:02d}-satisfy.yaml", []) == []


@needs_crds
@pytest.mark.parametrize("i", range(len(RULES)), ids=[f"{r[1]}:{r[4][:40]}" for r in RULES])
def test_decisions_agree_with_cel_python(i):
    celpy = pytest.importorskip("celpy")
    group, kind, version, path, rule, _msg = RULES[i]
    node = Bundled().node(group, version, kind)
    for sub in ("spec",) + tuple(path[1:]):
        node = node.props[sub]
    env = celpy.Environment()
    program = env.program(env.compile(rule))
    for patch, want in zip(case_for(kind, rule), (False, True)):
        spec = merge(BASE[kind], patch)
        value = spec
        for sub in path[1:]:
            value = value.get(sub, {})
        ours = cel.evaluate(rule, value, node)
        seen = cel._plain(cel.Env(None).wrap(value, node))  # the object after structural defaulting
        theirs = bool(program.evaluate({"self": celpy.json_to_cel(seen)}))
        assert ours == theirs == want, (rule, seen)


# --------------------------------------------------------------------------- the evaluator


@pytest.mark.parametrize("expr, self_value, want", [
    ("self.a + 1 == 3", {"a": 2}, True),
    ("self.a / 2 == 2 && self.a % 3 == 1", {"a": 4}, True),
    ("-7 / 2 == -3 && -7 % 2 == -1", {}, True),
    ("self.s.startsWith('ab') && self.s.endsWith('yz') && self.s.contains('mm')", {"s": "abmmyz"}, True),
    ("self.s.matches('^[a-z]+$')", {"s": "abc1"}, False),
    ("self.s.lowerAscii() == 'abc' && self.s.upperAscii() == 'ABC'", {"s": "aBc"}, True),
    ("size(self.l) == 3 && self.l.size() == 3 && size('héé') == 3", {"l": [1, 2, 3]}, True),
    ("self.l.all(x, x > 0) && self.l.exists(x, x == 2) && self.l.exists_one(x, x > 2)", {"l": [1, 2, 3]}, True),
    ("self.l.map(x, x * 2) == [2, 4, 6] && self.l.filter(x, x > 1) == [2, 3]", {"l": [1, 2, 3]}, True),
    ("self.l.map(x, x > 1, x * 10) == [20, 30]", {"l": [1, 2, 3]}, True),
    ("'b' in self.m && !('z' in self.m) && 2 in self.l", {"m": {"b": 1}, "l": [1, 2]}, True),
    ("self.m.all(k, k.startsWith('x'))", {"m": {"xa": 1, "xb": 2}}, True),
    ("has(self.a) ? self.a : 'none'", {}, None),  # a string result is not a decision
    ("(has(self.a) ? self.a : 0) == 0", {}, True),
    ("self.missing == 1 || true", {}, True),  # || absorbs the error, as cel-go
    ("true && self.missing == 1", {}, None),  # undecided: an error
    ("self.l[1] == 'b' && self.m['k'] == 'v'", {"l": ["a", "b"], "m": {"k": "v"}}, True),
    ("int('42') == 42 && string(7) == '7' && double(1) == 1.0 && 1 == 1.0", {}, True),
    ("r'\\d' == '\\\\d' && \"\"\"a\nb\"\"\".size() == 3 && '\\u00e9' == 'é'", {}, True),
    ("[1, 2] + [3] == [1, 2, 3] && 'a' + 'b' == 'ab'", {}, True),
    ("self.s.split(',') == ['a', 'b'] && ['a', 'b'].join('-') == 'a-b'", {"s": "a,b"}, True),
    ("self.s.substring(1, 3) == 'bc' && self.s.indexOf('c') == 2 && self.s.replace('b', 'x') == 'axcd'",
     {"s": "abcd"}, True),
    ("quantity(self.q).isGreaterThan(quantity('1Gi'))", {"q": "2Gi"}, None),  # outside the subset
    ("self.x == oldSelf.x", {"x": 1}, None),  # transition rule
    ("self.a ==", {}, None),  # does not parse
])
def test_evaluator(expr, self_value, want):
    assert cel.evaluate(expr, self_value, None) is want


def test_placeholders_leave_a_rule_undecided():
    assert cel.evaluate("self.provider == 'aws'", {"provider": "${PROVIDER}"}, None) is None
    resolve = lambda s: s.replace("${PROVIDER}", "aws")  # noqa: E731
    assert cel.evaluate("self.provider == 'aws'", {"provider": "${PROVIDER}"}, None, resolve) is True
    assert cel.evaluate("!has(self.p) || self.p == 'x'", {"p": "ENC[AES256_GCM,data:x]"}, None) is None


def test_self_fields():
    assert cel.self_fields("has(self.chart) && !has(self.chartRef)") == {"chart", "chartRef"}
    assert cel.self_fields("self.sts.provider == 'aws'") == {"sts"}
    assert cel.self_fields("size(self) > 0") is None
