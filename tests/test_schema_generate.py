"""The bundled schemas are the converter's output for ../shared/flux-crds, and the
converter keeps CRD semantics."""

from __future__ import annotations

import json
import os

import pytest
from conftest import SHARED

from gitlint_flux.schema import generate
from gitlint_flux.schema.convert import convert_crd, convert_schema, crd_versions
from gitlint_flux.schema.nodes import Compiler
from gitlint_flux.schema.validate import Validator

CRDS = SHARED / "flux-crds"


def committed() -> dict[str, str]:
    """The Flux tree (the catalog under ``catalog/`` is tests/test_schema_catalog.py's)."""
    out = {}
    for d, dirs, names in os.walk(generate.PACKAGE_SCHEMAS):
        if d == generate.PACKAGE_SCHEMAS:
            dirs[:] = [x for x in dirs if x != generate.CATALOG_DIR]
        for n in names:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, generate.PACKAGE_SCHEMAS).replace(os.sep, "/")
            with open(p, encoding="utf-8") as fh:
                out[rel] = fh.read()
    return out


@pytest.mark.skipif(not CRDS.is_dir(), reason=f"the Flux CRDs are absent ({CRDS})")
def test_bundled_schemas_are_regenerated_identically():
    fresh = generate.render(str(CRDS))
    have = committed()
    assert sorted(fresh) == sorted(have), "run `python -m gitlint_flux.schema.generate`"
    stale = [rel for rel in fresh if fresh[rel] != have[rel]]
    assert not stale, f"stale bundled schemas {stale}: run `python -m gitlint_flux.schema.generate`"


@pytest.mark.skipif(not CRDS.is_dir(), reason=f"the Flux CRDs are absent ({CRDS})")
def test_generator_writes_only_what_changed(tmp_path):
    files = generate.render(str(CRDS))
    assert generate.write(files, str(tmp_path)) == sorted(files)
    assert generate.write(files, str(tmp_path)) == []
    (tmp_path / "stale.json").write_text("{}")
    assert generate.write(files, str(tmp_path)) == ["stale.json"]
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "kept.json").write_text("{}")  # another tree's: left alone
    assert generate.write(files, str(tmp_path), keep=("catalog/",)) == []
    assert (tmp_path / "catalog" / "kept.json").exists()


def test_bundled_index_and_readme():
    with open(os.path.join(generate.PACKAGE_SCHEMAS, "index.json"), encoding="utf-8") as fh:
        index = json.load(fh)
    assert index["flux"] == "2.9"
    groups = index["groups"]
    assert groups["helm.toolkit.fluxcd.io"]["HelmRelease"]["versions"] == ["v2"]
    assert groups["notification.toolkit.fluxcd.io"]["Alert"]["versions"] == ["v1beta3"]
    assert groups["notification.toolkit.fluxcd.io"]["Receiver"]["versions"] == ["v1"]
    with open(os.path.join(generate.PACKAGE_SCHEMAS, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    assert "helm-controller | v1.6.0" in readme and "descriptions stripped" in readme
    # descriptions are stripped
    assert all('"description"' not in text for text in committed().values())


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "versions": [
            {"name": "v1", "served": True, "schema": {"openAPIV3Schema": {
                "type": "object",
                "description": "stripped",
                "properties": {
                    "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 5}}},
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"x-kubernetes-int-or-string": True},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        "empty": {"type": "object"},
                        "note": {"type": "string", "nullable": True},
                        "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                                     "x-kubernetes-preserve-unknown-fields": True},
                        "pod": {"type": "object", "x-kubernetes-embedded-resource": True,
                                "properties": {"spec": {"type": "object"}}},
                    }},
                }}}},
            {"name": "v1beta1", "served": False, "schema": {"openAPIV3Schema": {"type": "object"}}},
            {"name": "v1alpha1", "served": True, "deprecated": True, "deprecationWarning": "use v1"},
        ],
    },
}


def test_converter_keeps_structural_semantics():
    out = convert_crd(CRD)
    assert sorted(out) == ["v1"]  # not served, and without schema, are left out
    s = out["v1"]
    assert s["additionalProperties"] is False and s["properties"]["metadata"] == {"type": "object"}
    assert set(s["properties"]) >= {"apiVersion", "kind", "metadata", "spec"}
    spec = s["properties"]["spec"]
    assert spec["additionalProperties"] is False
    assert spec["properties"]["labels"]["additionalProperties"] == {"type": "string"}
    assert "additionalProperties" not in spec["properties"]["free"]
    assert spec["properties"]["empty"]["additionalProperties"] is False
    assert spec["properties"]["pod"]["properties"]["kind"] == {"type": "string"}
    assert "description" not in json.dumps(s)
    info = crd_versions(CRD)
    assert info["v1beta1"]["served"] is False and info["v1alpha1"]["deprecated"] is True


def test_converted_schema_validates_as_the_api_server():
    node = Compiler().compile(convert_crd(CRD)["v1"])
    ok = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
          "spec": {"size": "10%", "note": None, "free": {"x": {"y": 1}}, "labels": {"a": "b"},
                   "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {}},
                   "pod": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}}}
    assert Validator().run(ok, node) == []
    bad = {"apiVersion": "example.com/v1", "kind": "Widget",
           "spec": {"size": 1.5, "empty": {"x": 1}, "labels": {"a": 1}, "mode": "c", "template": {"kind": "X"},
                    "pod": {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "status": {}}}}
    got = sorted((e.kind, ".".join(map(str, e.path))) for e in Validator().run(bad, node))
    assert got == [
        ("required", "spec.template.apiVersion"),
        ("type", "spec.labels.a"),
        ("type", "spec.size"),
        ("unknown", "spec.empty.x"),
        ("unknown", "spec.pod.status"),
        ("value", "spec.mode"),
    ]


def test_v1beta1_crds_share_their_validation():
    crd = {"spec": {"group": "g", "names": {"kind": "K"}, "version": "v1",
                    "validation": {"openAPIV3Schema": {"properties": {"spec": {"properties": {"a": {"type": "string"}}}}}}}}
    s = convert_crd(crd)["v1"]
    assert s["properties"]["spec"]["additionalProperties"] is False
    assert convert_schema({"type": "object"}, root=True)["properties"]["metadata"] == {"type": "object"}
