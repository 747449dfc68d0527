"""CustomResourceDefinition -> JSON Schema, one per version.

The same code converts the Flux CRDs into the bundled schemas (``generate``) and a
repository's own CRDs at run time. It keeps the semantics the API server gives a
structural schema:

* objects are closed (``additionalProperties: false``) unless they declare
  ``additionalProperties`` (a map) or ``x-kubernetes-preserve-unknown-fields: true``; an
  object schema without properties is closed too (the API server prunes every field of
  it);
* ``x-kubernetes-int-or-string``, ``nullable``, ``x-kubernetes-embedded-resource``,
  ``enum``, ``pattern``, ``format``, ``required``, ``default``, limits, list types and
  ``x-kubernetes-validations`` (CEL) are kept;
* the root always allows ``apiVersion``, ``kind`` and ``metadata`` (ObjectMeta is checked
  separately);
* descriptions, examples, titles and external docs are stripped.

Accepts ``apiextensions.k8s.io/v1`` (per-version ``schema``) and ``v1beta1`` CRDs (a
top-level ``validation`` shared by all versions).
"""

from __future__ import annotations

from typing import Any

_DROP = frozenset(("description", "example", "externalDocs", "title", "$schema", "x-kubernetes-patch-strategy",
                   "x-kubernetes-patch-merge-key", "x-kubernetes-map-type"))
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "additionalItems")


def plain(v: Any) -> Any:
    """YMap/YSeq -> dict/list (positions dropped), recursively."""
    if isinstance(v, dict):
        return {str(k) if not isinstance(k, str) else k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def convert_schema(s: Any, *, root: bool = False, junctor: bool = False) -> Any:
    """One openAPIV3Schema -> JSON Schema with structural semantics made explicit.

    ``junctor``: ``s`` sits under ``allOf``/``anyOf``/``oneOf``/``not``, where a structural
    schema only adds value validations (``{properties: {ingress: {}}, required: [ingress]}``)
    and may not say ``additionalProperties``: nothing there is closed, or every other field
    of the object would be refused."""
    if not isinstance(s, dict):
        return s
    out: dict = {}
    for k, v in s.items():
        if k in _DROP:
            continue
        if k in _SCHEMA_MAPS and isinstance(v, dict):
            out[k] = {str(pk): convert_schema(pv, junctor=junctor) for pk, pv in v.items()}
        elif k in _SCHEMA_LISTS and isinstance(v, list):
            out[k] = [convert_schema(x, junctor=True) for x in v]
        elif k == "not" and isinstance(v, dict):
            out[k] = convert_schema(v, junctor=True)
        elif k in _SCHEMA_ONE and isinstance(v, dict):
            out[k] = convert_schema(v, junctor=junctor)
        else:
            out[k] = plain(v)
    preserve = out.get("x-kubernetes-preserve-unknown-fields") is True
    embedded = out.get("x-kubernetes-embedded-resource") is True
    is_object = out.get("type") == "object" or ("properties" in out and "type" not in out)
    if root:
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", {"type": "object"})
        out.setdefault("type", "object")
        is_object = True
    if root:
        # the API server validates a custom resource's metadata as ObjectMeta, whatever the
        # CRD declares there (only name constraints would apply)
        out["properties"]["metadata"] = {"type": "object"}
    if is_object and not preserve and not junctor and "additionalProperties" not in out:
        if embedded:
            props = out.setdefault("properties", {})
            props.setdefault("apiVersion", {"type": "string"})
            props.setdefault("kind", {"type": "string"})
            props.setdefault("metadata", {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
        out["additionalProperties"] = False
    return out


def crd_identity(crd: Any) -> tuple[str, str, str] | None:
    """(group, kind, plural) of a CRD value, or None."""
    if not isinstance(crd, dict):
        return None
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return None
    names = spec.get("names")
    group = spec.get("group")
    if not isinstance(names, dict) or not isinstance(group, str) or not isinstance(names.get("kind"), str):
        return None
    plural = names.get("plural") if isinstance(names.get("plural"), str) else ""
    return group, names["kind"], plural


def crd_versions(crd: Any) -> dict[str, dict]:
    """Every version of a CRD: ``{name: {"served", "deprecated", "warning", "raw"}}``
    where ``raw`` is its openAPIV3Schema as written (None when it has none)."""
    out: dict[str, dict] = {}
    if not isinstance(crd, dict):
        return out
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return out
    shared = None
    val = spec.get("validation")
    if isinstance(val, dict) and isinstance(val.get("openAPIV3Schema"), dict):
        shared = val["openAPIV3Schema"]
    versions = spec.get("versions")
    if isinstance(versions, list) and versions:
        for v in versions:
            if not isinstance(v, dict) or not isinstance(v.get("name"), str):
                continue
            sch = v.get("schema")
            raw = sch.get("openAPIV3Schema") if isinstance(sch, dict) else None
            out[v["name"]] = {
                "served": v.get("served", True) is not False,
                "deprecated": v.get("deprecated") is True,
                "warning": v.get("deprecationWarning") if isinstance(v.get("deprecationWarning"), str) else "",
                "raw": raw if isinstance(raw, dict) else shared,
            }
    elif isinstance(spec.get("version"), str):
        out[spec["version"]] = {"served": True, "deprecated": False, "warning": "", "raw": shared}
    return out


def convert_crd(crd: Any) -> dict[str, dict]:
    """``{version: converted schema}`` for every served version that has a schema."""
    out = {}
    for name, v in crd_versions(crd).items():
        if v["served"] and v["raw"] is not None:
            out[name] = convert_schema(v["raw"], root=True)
    return out
