"""Our schema for kustomization files (``kustomize.config.k8s.io`` Kustomization and
Component), after kustomize v5's ``types.Kustomization``.

kustomize decodes a kustomization strictly (an unknown field fails the build) but with
Go's case-insensitive field matching, so ``Resources:`` works and ``resource:`` does not;
the schema is compiled case-insensitive accordingly.
"""

from __future__ import annotations

from .nodes import Compiler, Node

KUSTOMIZE_GROUP = "kustomize.config.k8s.io"
API_VERSIONS = {"Kustomization": f"{KUSTOMIZE_GROUP}/v1beta1", "Component": f"{KUSTOMIZE_GROUP}/v1alpha1"}

#: deprecated field -> (replacement, how)
DEPRECATED = {
    "bases": ("resources", "list the same entries under `resources`"),
    "patchesStrategicMerge": ("patches", "move each entry to `patches` as `- path: <file>` (or `- patch: |` for inline patches)"),
    "patchesJson6902": ("patches", "move each entry to `patches` (`path`/`patch` with the same `target`)"),
    "commonLabels": ("labels", "use `labels: [{pairs: {...}, includeSelectors: true}]` (false keeps selectors unchanged, "
                               "which is usually what you want for new labels)"),
    "vars": ("replacements", "rewrite each var as a `replacements` entry (source and targets)"),
    "imageTags": ("images", "rename the field to `images`"),
    "helmChartInflationGenerator": ("helmCharts", "move each entry to `helmCharts` (and `helmGlobals`)"),
}
GENERATOR_DEPRECATED = {"env": ("envs", "Use `envs: [<file>]`.")}

_S = {"type": "string"}
_B = {"type": "boolean"}
_I = {"type": "integer"}
_SL = {"type": "array", "items": _S}
_MAP = {"type": "object", "additionalProperties": _S}
_ANY = {"x-kubernetes-preserve-unknown-fields": True}


def _obj(props: dict, required: tuple = ()) -> dict:
    out = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        out["required"] = list(required)
    return out


_GVK = {"group": _S, "version": _S, "kind": _S}
_RESID = {**_GVK, "name": _S, "namespace": _S}
_SELECTOR = _obj({**_RESID, "labelSelector": _S, "annotationSelector": _S})
_TARGET = _obj({**_RESID, "labelSelector": _S, "annotationSelector": _S})
_PATCH = _obj({"path": _S, "patch": _S, "target": _TARGET,
               "options": _obj({"allowNameChange": _B, "allowKindChange": _B})})
_GEN_OPTIONS = _obj({"labels": _MAP, "annotations": _MAP, "disableNameSuffixHash": _B, "immutable": _B})
_GENERATOR = {"name": _S, "namespace": _S, "behavior": {"type": "string", "enum": ["create", "replace", "merge"]},
              "literals": _SL, "files": _SL, "envs": _SL, "env": _S, "options": _GEN_OPTIONS}
_FIELD_SPEC = _obj({**_GVK, "path": _S, "create": _B})
_FIELD_OPTIONS = _obj({"delimiter": _S, "index": _I, "encoding": _S, "create": _B})
_REPLACEMENT = _obj({
    "path": _S,
    "source": _obj({**_RESID, "fieldPath": _S, "options": _FIELD_OPTIONS}),
    "targets": {"type": "array", "items": _obj({
        "select": _SELECTOR, "reject": {"type": "array", "items": _SELECTOR},
        "fieldPaths": _SL, "options": _FIELD_OPTIONS})},
})
_HELM_CHART = _obj({
    "name": _S, "version": _S, "repo": _S, "releaseName": _S, "namespace": _S, "additionalValuesFiles": _SL,
    "valuesFile": _S, "valuesInline": _ANY, "valuesMerge": {"type": "string", "enum": ["merge", "override", "replace"]},
    "includeCRDs": _B, "skipHooks": _B, "apiVersions": _SL, "kubeVersion": _S, "nameTemplate": _S, "skipTests": _B,
    "debug": _B, "devel": _B,
})
_HELM_ARGS = _obj({
    "chartName": _S, "chartVersion": _S, "chartRepoUrl": _S, "chartHome": _S, "chartRepoName": _S, "helmBin": _S,
    "helmHome": _S, "values": _S, "valuesLocal": _ANY, "valuesMerge": _S, "releaseName": _S, "releaseNamespace": _S,
    "extraArgs": _SL,
})

KUSTOMIZATION_SCHEMA = _obj({
    "apiVersion": _S,
    "kind": {"type": "string", "enum": ["Kustomization", "Component"]},
    "metadata": _obj({"name": _S, "namespace": _S, "labels": _MAP, "annotations": _MAP}),
    "openapi": _MAP,
    "namePrefix": _S,
    "nameSuffix": _S,
    "namespace": _S,
    "commonLabels": _MAP,
    "labels": {"type": "array", "items": _obj({
        "pairs": _MAP, "includeSelectors": _B, "includeTemplates": _B, "includeVolumeClaimTemplates": _B,
        "fields": {"type": "array", "items": _FIELD_SPEC}})},
    "commonAnnotations": _MAP,
    "patchesStrategicMerge": _SL,
    "patchesJson6902": {"type": "array", "items": _PATCH},
    "patches": {"type": "array", "items": _PATCH},
    "images": {"type": "array", "items": _obj({"name": _S, "newName": _S, "newTag": _S, "digest": _S, "tagSuffix": _S})},
    "imageTags": {"type": "array", "items": _obj({"name": _S, "newName": _S, "newTag": _S, "digest": _S, "tagSuffix": _S})},
    "replacements": {"type": "array", "items": _REPLACEMENT},
    "replicas": {"type": "array", "items": _obj({"name": _S, "count": _I})},
    "vars": {"type": "array", "items": _obj({
        "name": _S,
        "objref": _obj({"apiVersion": _S, **_RESID}),
        "fieldref": _obj({"fieldpath": _S})})},
    "sortOptions": _obj({"order": {"type": "string", "enum": ["legacy", "fifo"]},
                         "legacySortOptions": _obj({"orderFirst": _SL, "orderLast": _SL})}),
    "resources": _SL,
    "components": _SL,
    "crds": _SL,
    "bases": _SL,
    "configMapGenerator": {"type": "array", "items": _obj(_GENERATOR)},
    "secretGenerator": {"type": "array", "items": _obj({**_GENERATOR, "type": _S})},
    "helmGlobals": _obj({"chartHome": _S, "configHome": _S}),
    "helmCharts": {"type": "array", "items": _HELM_CHART},
    "helmChartInflationGenerator": {"type": "array", "items": _HELM_ARGS},
    "generatorOptions": _GEN_OPTIONS,
    "configurations": _SL,
    "generators": _SL,
    "transformers": _SL,
    "validators": _SL,
    "buildMetadata": {"type": "array", "items": {
        "type": "string", "enum": ["originAnnotations", "transformerAnnotations", "managedByLabel"]}},
})

_NODE: Node | None = None


def kustomization_node() -> Node:
    global _NODE
    if _NODE is None:
        _NODE = Compiler(case_insensitive=True).compile(KUSTOMIZATION_SCHEMA)
    return _NODE
