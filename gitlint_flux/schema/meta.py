"""Object metadata as the API server checks it.

* ``metadata.name``: a DNS-1123 subdomain for most kinds; a DNS-1123 label for a
  Namespace; a DNS-1035 label for a Service; a path segment for the RBAC kinds (so
  ``system:`` names are valid); ``<plural>.<group>`` for a CustomResourceDefinition; at most
  52 characters for a CronJob (its Jobs append a suffix).
* ``metadata.generateName`` instead of ``name``: validated as a prefix.
* ``metadata.namespace``: a DNS-1123 label.
* label keys and annotation keys: qualified names (``[prefix/]name``, prefix a DNS-1123
  subdomain, name at most 63 characters); label values at most 63 characters of
  ``[A-Za-z0-9._-]``, starting and ending alphanumeric; all annotations together at most
  256 KiB.

``OBJECT_META`` is the ObjectMeta schema applied to custom resources (a CRD declares
``metadata`` as a bare object; the API server validates it as ObjectMeta).
"""

from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
ANNOTATIONS_MAX = 256 * 1024

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_KINDS = frozenset(("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"))

_STR = {"type": "string"}
OBJECT_META = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": _STR,
        "generateName": _STR,
        "namespace": _STR,
        "labels": {"type": "object", "additionalProperties": _STR},
        "annotations": {"type": "object", "additionalProperties": _STR},
        "finalizers": {"type": "array", "items": _STR},
        "ownerReferences": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "name", "uid"],
            "properties": {"apiVersion": _STR, "kind": _STR, "name": _STR, "uid": _STR,
                           "controller": {"type": "boolean"}, "blockOwnerDeletion": {"type": "boolean"}}}},
        "uid": _STR,
        "resourceVersion": _STR,
        "generation": {"type": "integer", "format": "int64"},
        "creationTimestamp": {"type": ["string", "null"]},
        "deletionTimestamp": {"type": ["string", "null"]},
        "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
        "selfLink": _STR,
        "managedFields": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    },
}

_SUBDOMAIN = ("a DNS-1123 subdomain: at most 253 characters, lower-case letters, digits, `-` and `.`, "
              "starting and ending with a letter or digit")
_LABEL = "a DNS-1123 label: at most 63 characters, lower-case letters, digits and `-`, starting and ending with a letter or digit"
_DNS1035 = ("a DNS-1035 label: at most 63 characters, lower-case letters, digits and `-`, starting with a letter "
            "and ending with a letter or digit")
_SEGMENT = "a path segment: not `.` or `..`, and without `/` or `%`"


class MetaError(NamedTuple):
    path: tuple
    message: str
    hint: str
    key: bool = False


def is_subdomain(s: str) -> bool:
    return len(s) <= 253 and DNS1123_SUBDOMAIN.match(s) is not None


def is_label(s: str) -> bool:
    return len(s) <= 63 and DNS1123_LABEL.match(s) is not None


def is_dns1035(s: str) -> bool:
    return len(s) <= 63 and DNS1035_LABEL.match(s) is not None


def is_segment(s: str) -> bool:
    return s not in (".", "..") and "/" not in s and "%" not in s


def qualified_name_error(key: str) -> str:
    """Why ``key`` is not a qualified name (label or annotation key), or ''."""
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return "its prefix (before `/`) is empty"
        if not is_subdomain(prefix):
            return f"its prefix `{prefix}` is not a DNS-1123 subdomain (lower-case letters, digits, `-`, `.`)"
    else:
        return "it has more than one `/`"
    if not name:
        return "its name is empty"
    if len(name) > 63:
        return f"its name part is {len(name)} characters long (at most 63)"
    if not QUALIFIED_NAME.match(name):
        return "its name part must be letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
    return ""


def label_value_error(v: str) -> str:
    if len(v) > 63:
        return f"it is {len(v)} characters long (at most 63)"
    if not LABEL_VALUE.match(v):
        return "it must be empty or letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
    return ""


def _name_rule(kind: str, group: str, doc_value: Any) -> tuple[Callable[[str], bool], str, int | None]:
    if group == "" and kind == "Namespace":
        return is_label, _LABEL, None
    if group == "" and kind == "Service":
        return is_dns1035, _DNS1035, None
    if group == RBAC_GROUP and kind in RBAC_KINDS:
        return is_segment, _SEGMENT, None
    if group == "batch" and kind == "CronJob":
        return is_subdomain, _SUBDOMAIN, 52
    return is_subdomain, _SUBDOMAIN, None


def _mask_trailing_dash(s: str) -> str:
    return s[:-1] + "a" if len(s) > 1 and s.endswith("-") else s


def check_metadata(value: Any, kind: str, group: str, resolve: Callable[[str], Any], *, partial: bool = False,
                   final_names: list[str] | None = None, renamed: bool = False) -> list[MetaError]:
    """Errors of ``metadata`` of an object (``value`` is the whole object).

    ``partial``: a kustomize patch, whose name only selects its target (a patch with a
    ``target`` selector often uses a placeholder name); ``renamed``: the build gives the
    object its final name (a Namespace under kustomize's ``namespace:`` or Flux's
    ``targetNamespace``), so the written name is not checked."""
    from .validate import OPAQUE

    out: list[MetaError] = []
    meta = value.get("metadata") if isinstance(value, dict) else None
    if not isinstance(meta, dict):
        if not partial and meta is None:
            out.append(MetaError((), f"missing `metadata.name`: every {kind} needs a name", "Add `metadata: {name: ...}`."))
        return out

    def text(v: Any) -> str | None:
        if not isinstance(v, str):
            return None
        if "${" in v or v.startswith("ENC["):
            r = resolve(v) if not v.startswith("ENC[") else OPAQUE
            return None if r is OPAQUE else r
        return v

    valid, what, max_len = _name_rule(kind, group, value)
    name = meta.get("name")
    gen = meta.get("generateName")
    if partial or renamed:
        pass
    elif name is None or name == "":
        if isinstance(gen, str) and gen:
            g = text(gen)
            if g is not None and not valid(_mask_trailing_dash(g)):
                out.append(MetaError(("metadata", "generateName"),
                                     f"`metadata.generateName` `{gen}` is not a valid prefix for a {kind} name: it must be {what}",
                                     "Use lower-case letters, digits and `-`."))
        else:
            where = ("metadata",) if "metadata" in value else ()
            out.append(MetaError(where, f"missing `metadata.name`: every {kind} needs a name",
                                 "Add `metadata.name`.", bool(where)))
    else:
        n = text(name)
        if n is not None:
            if kind == "CustomResourceDefinition" and group == "apiextensions.k8s.io":
                spec = value.get("spec") if isinstance(value.get("spec"), dict) else {}
                names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
                plural, grp = names.get("plural"), spec.get("group")
                if isinstance(plural, str) and isinstance(grp, str) and "${" not in plural + grp:
                    want = f"{plural}.{grp}"
                    if n != want:
                        out.append(MetaError(("metadata", "name"),
                                             f"`metadata.name` of a CustomResourceDefinition must be `<plural>.<group>`: `{want}`, not `{n}`",
                                             f"Rename it to `{want}`."))
            elif not valid(n):
                out.append(MetaError(("metadata", "name"), f"`metadata.name` `{n}` is not a valid {kind} name: it must be {what}",
                                     _name_hint(n)))
            elif max_len is not None and len(n) > max_len:
                out.append(MetaError(("metadata", "name"),
                                     f"`metadata.name` `{n}` is {len(n)} characters long; a {kind} name may have at most {max_len}",
                                     "Shorten the name."))
            else:
                for fn in final_names or ():
                    if fn != n and "${" not in fn and not valid(fn):
                        out.append(MetaError(("metadata", "name"),
                                             f"`metadata.name` becomes `{fn}` after kustomize's namePrefix/nameSuffix, "
                                             f"which is not a valid {kind} name: it must be {what}", "Shorten the name or the prefix/suffix."))
                        break
    ns = meta.get("namespace")
    if isinstance(ns, str) and ns:
        t = text(ns)
        if t is not None and not is_label(t):
            out.append(MetaError(("metadata", "namespace"), f"`metadata.namespace` `{ns}` is not a valid namespace: it must be {_LABEL}",
                                 _name_hint(t)))
    labels = meta.get("labels")
    if isinstance(labels, dict):
        for k, v in labels.items():
            ks = k if isinstance(k, str) else str(k)
            kt = text(ks)
            if kt is not None:
                why = qualified_name_error(kt)
                if why:
                    out.append(MetaError(("metadata", "labels", k), f"label key `{ks}` is invalid: {why}", "", True))
                    continue
            vt = text(v) if isinstance(v, str) else None
            if vt is not None:
                why = label_value_error(vt)
                if why:
                    out.append(MetaError(("metadata", "labels", k), f"the value of label `{ks}` is invalid: {why}",
                                         "Label values are short identifiers; put free text in an annotation."))
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        total = 0
        for k, v in annotations.items():
            ks = k if isinstance(k, str) else str(k)
            kt = text(ks)
            if kt is not None:
                why = qualified_name_error(kt.lower())
                if why:
                    out.append(MetaError(("metadata", "annotations", k), f"annotation key `{ks}` is invalid: {why}", "", True))
            total += len(ks) + (len(v) if isinstance(v, str) else 0)
        if total > ANNOTATIONS_MAX:
            out.append(MetaError(("metadata", "annotations"), f"annotations total {total} bytes; at most {ANNOTATIONS_MAX} are allowed",
                                 "Move large content into a ConfigMap.", True))
    return out


def _name_hint(n: str) -> str:
    low = re.sub(r"[^a-z0-9.-]+", "-", n.lower()).strip("-.")
    if low and low != n:
        return f"e.g. `{low}`"
    return ""
