"""The bundled CRD catalog and the Flux ecosystem's schemas: typos found and located in
the ecosystem's most used kinds, catalog findings capped at warning, the precedence of
schema sources, the schema checks the validators' own suites expect (documents without
apiVersion or kind, Flux versions never served, Go durations), the generated data kept
fresh, and the coverage of ../shared/corpus."""

from __future__ import annotations

import ast
import gzip
import json
import os
from pathlib import Path

import pytest
from conftest import CORPUS, FIXTURES, SHARED, flux_ks, gotk_sync, lint, needs_corpus

from gitlint_flux.schema import generate
from gitlint_flux.schema.catalog import DEFAULT_PRECEDENCE, CrdCatalog
from gitlint_flux.schema.convert import convert_schema
from gitlint_flux.schema.nodes import Compiler
from gitlint_flux.schema.validate import FLUX_DURATION_FIELDS, Validator
from gitlint_flux.schema.values import OPAQUE, is_go_duration

CAT = FIXTURES / "schema" / "catalog"
CATALOG = SHARED / "crds-catalog"
CRDS = SHARED / "flux-crds"
CATALOG_SOURCE = "per the bundled CRD catalog: datreeio/CRDs-catalog@7b1e26ef9dee, release unknown"


def cluster(files: dict) -> dict:
    """A cluster `clusters/prod` whose Kustomization `apps` applies `./apps`."""
    return {"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
            "clusters/prod/apps.yaml": flux_ks("apps", "./apps"), **files}


def s2(report):
    return sorted((f.rule, f.path, f.line, f.column, f.severity) for f in report.findings if f.rule.startswith("FLX2"))


def lint_with(root, monkeypatch, **settings):
    from gitlint_flux import workspace

    real = workspace.load_config

    def patched(*a, **kw):
        cfg = real(*a, **kw)
        for k, v in settings.items():
            setattr(cfg, k, v)
        return cfg

    monkeypatch.setattr(workspace, "load_config", patched)
    return lint(root)


def fixture(name: str) -> str:
    return (CAT / name).read_text()


# --------------------------------------------------------------------------- typos, located

#: fixture -> (text replaced, typo, rule, severity, needle on the reported line, message)
TYPOS = {
    # catalog schemas: an unknown field is a warning (a newer release may have the field)
    "externalsecret.yaml": ("  refreshInterval: 1h", "  refreshIntervl: 1h", "FLX201", "warning", "refreshIntervl",
                            "unknown field `spec.refreshIntervl` (did you mean `refreshInterval`?) (" + CATALOG_SOURCE + ")"),
    "httproute.yaml": ("      sectionName: https", "      sectionNme: https", "FLX201", "warning", "sectionNme",
                       "unknown field `spec.parentRefs[0].sectionNme` (did you mean `sectionName`?) (" + CATALOG_SOURCE + ")"),
    # a type error stays an error whatever the release
    "certificate.yaml": ("  isCA: false", '  isCA: "false"', "FLX202", "error", '"false"',
                         "`spec.isCA` must be a boolean, not the string `\"false\"`"),
    "prometheusrule.yaml": ("          for: 5m", "          fro: 5m", "FLX201", "warning", "fro:",
                            "unknown field `spec.groups[0].rules[0].fro` (did you mean `for`?) (" + CATALOG_SOURCE + ")"),
    # source-watcher's schema is bundled from its CRD (a known release): an error
    "artifactgenerator.yaml": ("  sources:", "  source:", "FLX201", "error", "source:",
                               "unknown field `spec.source` (did you mean `sources`?)"),
}


@pytest.mark.parametrize("name", sorted(TYPOS))
def test_one_typo_is_found_and_located(repo, name):
    old, new, rule, severity, needle, message = TYPOS[name]
    text = fixture(name)
    assert text.count(old) == 1
    root = repo(cluster({f"apps/{name}": text.replace(old, new)}))
    r = lint(root)
    lines = (root / "apps" / name).read_text().splitlines()
    line = next(i for i, t in enumerate(lines, 1) if needle in t)
    col = lines[line - 1].index(needle) + 1
    got = [(f.rule, f.line, f.column, f.severity, f.message) for f in r.findings
           if f.rule.startswith("FLX2") and f.path == f"apps/{name}"]
    # (a misspelt required field, `sources`, is not also reported missing)
    assert got == [(rule, line, col, severity, message)]


def test_the_same_documents_are_clean(repo):
    files = {f"apps/{n}": fixture(n) for n in TYPOS}
    r = lint(repo(cluster(files)))
    assert s2(r) == []


def test_a_catalog_finding_is_capped_at_warning_and_says_how_to_pin(repo):
    text = fixture("externalsecret.yaml").replace("    kind: ClusterSecretStore", "    kind: ClusterStore")
    r = lint(repo(cluster({"apps/es.yaml": text})))
    [f] = [f for f in r.findings if f.rule.startswith("FLX2")]
    assert (f.rule, f.severity) == ("FLX204", "warning")  # an enum value: a release may add it
    assert f.caps == [("warning", "catalog schema")]
    assert f.message.endswith(f"not `ClusterStore` ({CATALOG_SOURCE})")
    assert "`--schema-location DIR`" in f.hint and "committing the project's CRDs" in f.hint


def test_missing_required_fields_stay_errors_with_the_catalog(repo):
    text = fixture("certificate.yaml").replace("  issuerRef:\n    kind: ClusterIssuer\n    name: letsencrypt\n", "")
    r = lint(repo(cluster({"apps/cert.yaml": text})))
    assert [(f.rule, f.severity, f.message) for f in r.findings if f.rule.startswith("FLX2")] == [
        ("FLX203", "error", "missing required field `issuerRef` in `spec`")]


# --------------------------------------------------------------------------- precedence


def test_a_repository_crd_overrides_the_catalog(repo):
    """The committed CRD (the cluster's own release) knows no `isCA`: an error, not
    capped, naming no catalog; the catalog would have accepted it."""
    files = cluster({"apps/cert.yaml": fixture("certificate.yaml"),
                     "apps/crds/certificates.yaml": fixture("certificate-crd.yaml")})
    r = lint(repo(files))
    assert [(f.rule, f.path, f.line, f.severity, f.message) for f in r.findings if f.rule.startswith("FLX2")] == [
        ("FLX201", "apps/cert.yaml", 8, "error", "unknown field `spec.isCA`")]


def test_precedence_repository_then_locations_then_bundled(repo, monkeypatch, tmp_path):
    assert DEFAULT_PRECEDENCE == ("repository", "locations", "bundled", "catalog", "kubernetes")
    loc = tmp_path / "schemas" / "cert-manager.io"
    loc.mkdir(parents=True)
    (loc / "certificate_v1.json").write_text(json.dumps({
        "type": "object", "properties": {"spec": {"type": "object", "additionalProperties": False,
                                                  "properties": {"secretName": {"type": "string"}}}}}))
    root = repo(cluster({"apps/cert.yaml": fixture("certificate.yaml")}))
    # the location beats the catalog: its schema knows only secretName (errors, uncapped)
    r = lint_with(root, monkeypatch, schema_locations=[str(tmp_path / "schemas")])
    assert {(f.rule, f.severity) for f in r.findings if f.rule.startswith("FLX2")} == {("FLX201", "error")}
    # a repository CRD beats the location
    (root / "apps" / "crds").mkdir()
    (root / "apps" / "crds" / "certificates.yaml").write_text(fixture("certificate-crd.yaml"))
    r = lint_with(root, monkeypatch, schema_locations=[str(tmp_path / "schemas")])
    assert [(f.rule, f.message) for f in r.findings if f.rule.startswith("FLX2")] == [
        ("FLX201", "unknown field `spec.isCA`")]
    # schema-order puts the locations first again
    r = lint_with(root, monkeypatch, schema_locations=[str(tmp_path / "schemas")],
                  schema_order=["locations", "repository", "bundled", "catalog", "kubernetes"])
    assert len([f for f in r.findings if f.rule == "FLX201"]) == 3  # isCA, dnsNames, issuerRef


def test_schema_order_accepts_catalog(tmp_path):
    from gitlint_flux.config import ConfigError, load_config

    (tmp_path / ".gitlint-flux.yaml").write_text("schema-order: [catalog, repository]\n")
    assert load_config(str(tmp_path), None, None).schema_order == ["catalog", "repository"]
    (tmp_path / ".gitlint-flux.yaml").write_text("schema-order: [catalogue]\n")
    with pytest.raises(ConfigError, match="catalog"):
        load_config(str(tmp_path), None, None)


def test_schema_location_reads_a_catalog_checkout(repo, monkeypatch):
    """A checkout of the full catalog in its `{group}/{kind}_{version}.json` layout, as
    `--schema-location` takes it; its findings are not capped (the user chose it)."""
    if not CATALOG.is_dir():
        pytest.skip(f"the catalog is absent ({CATALOG})")
    text = fixture("httproute.yaml").replace("      sectionName: https", "      sectionNme: https")
    r = lint_with(repo(cluster({"apps/route.yaml": text})), monkeypatch, schema_locations=[str(CATALOG)])
    assert [(f.rule, f.severity) for f in r.findings if f.rule.startswith("FLX2")] == [("FLX201", "error")]


# --------------------------------------------------------------------------- documents without apiVersion or kind

MANIFEST_NO_API = """\
kind: ReplicationController
metadata:
  name: bob
spec:
  replicas: 2
"""


def test_a_manifest_without_apiversion_or_kind_is_an_error(repo):
    """kubeconform's fixtures missing_apiversion.yaml ("missing 'apiVersion' key") and
    missing_kind_value.yaml ("missing 'kind' key"); kubeconform pkg/resource/resource.go
    Signature() refuses an empty kind or apiVersion."""
    root = repo({
        "manifests/missing_apiversion.yaml": MANIFEST_NO_API,
        "manifests/missing_kind_value.yaml": "apiVersion: v1\nkind:\nmetadata:\n  name: bob\n",
        # in a file that holds manifests, a document naming a kind is one
        "manifests/multi.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\nkind: Secret\n",
    })
    r = lint(root)
    got = sorted((f.rule, f.path, f.line, f.column, f.severity) for f in r.findings if f.rule == "FLX203")
    assert got == [("FLX203", "manifests/missing_apiversion.yaml", 1, 1, "error"),
                   ("FLX203", "manifests/missing_kind_value.yaml", 2, 1, "error"),
                   ("FLX203", "manifests/multi.yaml", 6, 1, "error")]
    msgs = {f.path: f.message for f in r.findings if f.rule == "FLX203"}
    assert msgs["manifests/missing_apiversion.yaml"] == (
        "document has `kind: ReplicationController` but no `apiVersion`: the API server and kustomize refuse "
        "an object without `apiVersion`")
    assert "no `kind`" in msgs["manifests/missing_kind_value.yaml"]
    assert not any(s.path.startswith("manifests/") for s in r.skipped)


def test_kustomization_files_and_other_yaml_without_apiversion_are_left_alone(repo):
    """kustomize fills in a kustomization's apiVersion and kind (api/types/kustomization.go
    FixKustomization), so `kustomization.yaml` and Component files may omit them."""
    root = repo({
        "apps/kustomization.yaml": "resources:\n  - cm.yaml\n",
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        "components/x/kustomization.yaml": "kind: Component\npatches: []\n",
        "base/kustomization.yaml": "kind: Kustomization\nmetadata:\n  name: base\nresources: []\n",
        # Helm values with a top-level `kind` (fluent-bit's chart has one): not a manifest
        "values/fluent-bit.yaml": "kind: DaemonSet\nimage:\n  tag: 3.0\n",
    })
    r = lint(root)
    assert [f for f in r.findings if f.rule.startswith("FLX2")] == []


# --------------------------------------------------------------------------- Flux versions and durations


def test_a_flux_version_never_served_names_the_versions_that_exist(repo):
    """source-watcher serves ArtifactGenerator only as v1beta1 (its CRD in
    ../shared/flux-crds); flux-operator's FluxInstance only as v1."""
    ag = fixture("artifactgenerator.yaml").replace("/v1beta1", "/v1alpha1")
    root = repo(cluster({"apps/ag.yaml": ag}))
    r = lint(root)
    assert [(f.rule, f.line, f.column, f.message) for f in r.findings if f.rule.startswith("FLX2")] == [
        ("FLX207", 1, 13, "`source.extensions.fluxcd.io/v1alpha1` is not an API version of ArtifactGenerator: "
                          "source-watcher (bundled with Flux 2.9) serves `source.extensions.fluxcd.io/v1beta1`")]


OLD_GIT_CRD = (FIXTURES / "schema" / "crds" / "gitrepositories-v1beta2.yaml")


def test_durations_are_go_durations_where_an_old_crd_has_no_pattern(repo):
    """An old GitRepository CRD types `interval` as a plain string; source-controller
    decodes it as a metav1.Duration (time.ParseDuration), so `5min` fails there."""
    git = ("apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: GitRepository\nmetadata:\n  name: {name}\n"
           "  namespace: flux-system\nspec:\n  interval: {interval}\n  url: https://example.com/repo\n")
    files = cluster({
        "clusters/prod/flux-system/gotk-components.yaml": OLD_GIT_CRD.read_text(),
        "apps/bad.yaml": git.format(name="bad", interval="5min"),
        "apps/good.yaml": git.format(name="good", interval="1h30m"),
        "apps/unresolved.yaml": git.format(name="unresolved", interval="${INTERVAL}"),
    })
    r = lint(repo(files))
    assert [(f.rule, f.path, f.line, f.column, f.message) for f in r.findings if f.rule == "FLX204"] == [
        ("FLX204", "apps/bad.yaml", 7, 13, "`spec.interval` value `5min` is not a Go duration: the controller cannot "
                                           "decode the object")]


@pytest.mark.parametrize("s, ok", [
    # Go src/time/format.go ParseDuration and its tests (time_test.go parseDurationTests)
    ("0", True), ("5s", True), ("30m", True), ("1h30m", True), ("1.5h", True), ("-5m", True), ("+5m", True),
    (".5s", True), ("5.s", True), ("100ms", True), ("10us", True), ("10\u00b5s", True), ("10\u03bcs", True),
    ("1ns", True), ("5min", False), ("1d", False), ("", False), ("300", False), ("m", False), (".s", False),
    ("1h 30m", False),
])
def test_go_duration_grammar(s, ok):
    assert is_go_duration(s) is ok


def test_duration_field_names_are_those_the_bundled_crds_pattern():
    names = set()

    def walk(s, name):
        if isinstance(s, dict):
            if "ms|s|m" in str(s.get("pattern", "")):
                names.add(name)
            for k, v in s.items():
                if k == "properties" and isinstance(v, dict):
                    for pk, pv in v.items():
                        walk(pv, pk)
                else:
                    walk(v, name)
        elif isinstance(s, list):
            for v in s:
                walk(v, name)

    for d, dirs, files in os.walk(generate.PACKAGE_SCHEMAS):
        dirs[:] = [x for x in dirs if x != generate.CATALOG_DIR]
        for n in files:
            if n.endswith(".json") and n != "index.json":
                walk(json.loads(Path(d, n).read_text()), "")
    assert names == set(FLUX_DURATION_FIELDS)


def test_a_nested_default_left_unsubstituted_is_opaque():
    from gitlint_flux.substitution import resolve_or_opaque

    # the schema stage's resolver: a nested default needing an unknown variable is opaque
    assert resolve_or_opaque("${A:=${B}}", {}, opaque=OPAQUE) is OPAQUE
    assert resolve_or_opaque("${A:=${B}}", {"B": "b"}, opaque=OPAQUE) == "b"
    assert resolve_or_opaque("$${A}", {}, opaque=OPAQUE) == "${A}"  # an escaped placeholder is literal


# --------------------------------------------------------------------------- Flux ecosystem CEL


@pytest.mark.skipif(not CRDS.is_dir(), reason=f"the Flux CRDs are absent ({CRDS})")
def test_ecosystem_cel_rules(repo):
    """Rules of source-watcher's and flux-operator's CRDs (../shared/flux-crds), evaluated
    as for the controllers' (a name only the operator accepts, exclusive fields)."""
    ag = fixture("artifactgenerator.yaml").replace("    - name: apps\n", "    - name: Apps_1\n")
    inst = ("apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: fleet\n"
            "  namespace: flux-system\nspec:\n  distribution:\n    version: \"2.x\"\n    registry: ghcr.io/fluxcd\n")
    rsip = ("apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSetInputProvider\nmetadata:\n  name: p\n"
            "  namespace: flux-system\nspec:\n  type: Static\n  url: https://example.com\n")
    r = lint(repo(cluster({"apps/ag.yaml": ag, "apps/inst.yaml": inst, "apps/rsip.yaml": rsip})))
    got = sorted((f.rule, f.path, f.message) for f in r.findings if f.rule.startswith("FLX2"))
    assert got == [
        ("FLX205", "apps/ag.yaml", "`spec`: artifact names must be valid Kubernetes object names when pathPattern "
                                   "is not set"),
        ("FLX205", "apps/inst.yaml", "the only accepted name for a FluxInstance is 'flux'"),
        ("FLX205", "apps/rsip.yaml", "`spec`: spec.url must be empty when spec.type is 'Static'"),
    ]
    fixed = {"apps/ag.yaml": fixture("artifactgenerator.yaml"), "apps/inst.yaml": inst.replace("fleet", "flux"),
             "apps/rsip.yaml": rsip.replace("  url: https://example.com\n", "")}
    assert s2(lint(repo(cluster(fixed)))) == []


# --------------------------------------------------------------------------- the generated data


def test_the_catalog_data_is_regenerated_identically():
    if not (CATALOG.is_dir() and CRDS.is_dir()):
        pytest.skip(f"the catalog or the Flux CRDs are absent ({CATALOG}, {CRDS})")
    fresh = generate.render_catalog(str(CATALOG), exclude_groups=generate.flux_groups(str(CRDS)))
    root = Path(generate.PACKAGE_SCHEMAS) / generate.CATALOG_DIR
    have = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert sorted(fresh) == sorted(have), "run `python -m gitlint_flux.schema.generate`"
    stale = []
    for rel, content in fresh.items():
        data = (root / rel).read_bytes()
        if rel.endswith(".gz"):  # compare contents: another zlib may compress differently
            same = json.loads(gzip.decompress(data)) == json.loads(gzip.decompress(content))
        else:
            same = data.decode("utf-8") == content
        if not same:
            stale.append(rel)
    assert not stale, f"stale catalog data {stale[:5]}: run `python -m gitlint_flux.schema.generate`"


def test_the_catalog_data_records_its_source_and_license():
    root = Path(generate.PACKAGE_SCHEMAS) / generate.CATALOG_DIR
    index = json.loads((root / "index.json").read_text())
    assert index["source"] == {"repository": "datreeio/CRDs-catalog", "commit": "7b1e26ef9dee", "date": "2026-08-20",
                               "license": "MIT"}
    assert (root / "LICENSE").read_text().startswith("MIT License")
    payload = json.loads(gzip.decompress((root / "external-secrets.io" / "externalsecret_v1.json.gz").read_bytes()))
    assert payload["commit"] == "7b1e26ef9dee" and payload["version"] == "v1"
    text = json.dumps(payload)
    assert '"description"' not in text and "x-kubernetes-validations" not in text
    assert index["groups"]["external-secrets.io"]["externalsecret"] == ["v1alpha1", "v1beta1", "v1"]  # oldest first
    assert len(index["groups"]) == 97


def test_the_catalog_is_read_per_kind_and_version():
    c = CrdCatalog()
    assert c.node("cert-manager.io", "v1", "Certificate") is not None
    assert c.node("cert-manager.io", "v1", "Certificate") is c.node("cert-manager.io", "v1", "Certificate")
    assert c.node("cert-manager.io", "v2", "Certificate") is None
    assert list(c._payloads) == [("cert-manager.io", "v1", "certificate")]  # nothing else was read


def test_the_wheel_ships_the_catalog():
    import tomllib

    data = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    globs = data["tool"]["setuptools"]["package-data"]["gitlint_flux"]
    assert {"schemas/catalog/LICENSE", "schemas/catalog/README.md", "schemas/catalog/*/*.json.gz",
            "schemas/*/*.json"} <= set(globs)


def test_junctors_are_never_closed():
    """A structural schema's anyOf/oneOf branches add value validations only
    (k8s.io/apiextensions-apiserver structural schema rules: no additionalProperties
    there), e.g. Cilium's `{properties: {ingress: {}}, required: [ingress]}`."""
    s = convert_schema({"type": "object", "properties": {"ingress": {"type": "array"}, "egress": {"type": "array"}},
                        "anyOf": [{"properties": {"ingress": {}}, "required": ["ingress"]},
                                  {"properties": {"egress": {}}, "required": ["egress"]}]}, root=True)
    node = Compiler().compile(s)
    assert Validator().run({"egress": []}, node) == []
    assert [e.kind for e in Validator().run({}, node)] == ["value"]


def test_no_schema_module_imports_a_private_name_of_another():
    """`schema/cel.py` and `schema/validate.py` share their value helpers through
    `schema/values.py`, not each other's private names."""
    pkg = Path(generate.__file__).resolve().parent.parent
    bad = []
    for p in [*pkg.joinpath("schema").glob("*.py"), pkg / "rules" / "schema.py", pkg / "load.py"]:
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom):
                bad += [f"{p.relative_to(pkg)}: {a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
    assert bad == []


# --------------------------------------------------------------------------- the corpus


@needs_corpus
def test_at_most_ten_percent_of_the_corpus_is_left_without_a_schema():
    from gitlint_flux.engine import load
    from gitlint_flux.rules.context import Context
    from gitlint_flux.workspace import finalize_files
    from gitlint_flux.schema.analysis import Analysis

    for name in sorted(os.listdir(CORPUS)):
        d = CORPUS / name
        if not d.is_dir():
            continue
        loaded = load([str(d)], str(d), None)
        linted, _ = finalize_files(loaded.files, loaded.graph)
        a = Analysis(Context(str(d), loaded.files, loaded.graph, loaded.config, [], linted))
        a.run()
        assert a.error is None
        total = a.stats["documents"] + a.stats["kustomizations"] - a.stats["inline patches"]
        missing = sum(len(docs) for docs in a.no_schema.values())
        assert missing <= 0.10 * total, (name, missing, total, sorted(a.no_schema))
