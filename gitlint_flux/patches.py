"""Patches as kustomize applies them: strategic-merge and JSON 6902 patches, their
targets, and kustomize ``replacements``.

Used for kustomize's ``patches``, ``patchesStrategicMerge``, ``patchesJson6902`` and
``replacements`` (in a kustomization or a Component) and for a Flux Kustomization's
``spec.patches``. Functions that can fail as kustomize fails raise ``PatchError`` with
kustomize's reason; the caller turns it into a problem at the patch's line.

Patched values stay ``YMap``/``YSeq`` where the original had positions; values a patch
adds carry the patch file's positions (rules locate findings through the original
document, so those are never used for another file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .model import YMap, YSeq


class PatchError(Exception):
    """A patch that fails the build (kustomize's reason in the message); ``unsupported``:
    a target this module cannot evaluate (no finding, the patch is left out)."""

    def __init__(self, message: str, unsupported: bool = False):
        super().__init__(message)
        self.unsupported = unsupported


# --------------------------------------------------------------------------- values


def copy_shallow(node):
    if isinstance(node, YMap):
        m = YMap(node.line, node.col)
        m.update(node)
        m.copy_positions(node)
        return m
    if isinstance(node, YSeq):
        s = YSeq(node.line, node.col)
        s.extend(node)
        s.pos = list(node.pos)  # items are inserted and removed: the list form
        return s
    if isinstance(node, dict):
        return dict(node)
    if isinstance(node, list):
        return list(node)
    return node


# list fields whose items merge by a key other than `name` (Kubernetes' patchMergeKey)
_MERGE_KEYS = {"ports": ("containerPort", "port"), "volumeMounts": ("mountPath",), "volumeDevices": ("devicePath",),
               "imagePullSecrets": ("name",), "tolerations": ()}


def _merge_key(field: Any, base: list, patch: list) -> str | None:
    candidates = _MERGE_KEYS.get(field, ("name",)) if isinstance(field, str) else ("name",)
    for key in candidates:
        if base and all(isinstance(x, dict) and key in x for x in base) and all(
                isinstance(x, dict) and (key in x or x.get("$patch")) for x in patch):
            return key
    return None


def strategic_merge(base: Any, patch: Any, field: Any = None) -> Any:
    """A strategic-merge patch: maps merge recursively, ``null`` deletes a key, ``$patch:
    delete`` / ``$patch: replace`` as Kubernetes defines them; lists of maps merge by
    their merge key (``name``, ``containerPort``, ``mountPath``), other lists are replaced."""
    if isinstance(patch, dict) and patch.get("$patch") == "delete":
        return None
    if isinstance(base, dict) and isinstance(patch, dict):
        if patch.get("$patch") == "replace":
            out = copy_shallow(patch)
            out.pop("$patch", None)
            return out
        out = copy_shallow(base)
        for k, v in patch.items():
            if isinstance(k, str) and k.startswith("$"):
                continue  # directives ($patch, $retainKeys, $setElementOrder/...)
            if v is None:
                out.pop(k, None)
            elif k in out:
                merged = strategic_merge(out[k], v, k)
                if merged is None:
                    out.pop(k, None)
                else:
                    out[k] = merged
            elif not (isinstance(v, dict) and v.get("$patch") == "delete"):
                out[k] = v
        return out
    if isinstance(base, list) and isinstance(patch, list):
        key = _merge_key(field, base, patch)
        if key is None:
            return patch
        out = copy_shallow(base)
        for item in patch:
            index = {x.get(key): i for i, x in enumerate(out) if isinstance(x, dict)}
            at = index.get(item.get(key))
            if item.get("$patch") == "delete":
                if at is not None:
                    del out[at]
                    if isinstance(out, YSeq):
                        del out.pos[at]
            elif at is not None:
                out[at] = strategic_merge(out[at], item)
            else:
                out.append(item)
                if isinstance(out, YSeq):
                    out.pos.append((out.line, out.col, out.line, out.col))
        return out
    return patch


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"`{path}` is not a JSON pointer (it must start with `/`)")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json6902(base: Any, ops: list) -> Any:
    """Apply JSON 6902 operations (add, remove, replace, move, copy, test); an operation
    that cannot apply raises ``PatchError`` (kustomize fails the build)."""
    doc = base
    for i, op in enumerate(ops):
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise PatchError(f"operation {i + 1} has no `path`")
        kind = op.get("op")
        if kind not in ("add", "remove", "replace", "move", "copy", "test"):
            raise PatchError(f"operation {i + 1}: unknown op `{kind}`")
        try:
            doc = _apply_op(doc, op)
        except PatchError as exc:
            raise PatchError(f"operation {i + 1} (`{kind} {op['path']}`): {exc}") from None
    return doc


def _apply_op(doc, op):
    kind = op["op"]
    parts = _pointer(op["path"])
    if kind == "test":
        if _get(doc, parts) != op.get("value"):
            raise PatchError("the test failed")
        return doc
    if kind in ("copy", "move"):
        if not isinstance(op.get("from"), str):
            raise PatchError("it has no `from`")
        src = _pointer(op["from"])
        value = _get(doc, src)
        if kind == "move":
            doc = _set(doc, src, None, mode="remove")
        return _set(doc, parts, value, mode="add")
    if kind == "add" and "value" not in op:
        raise PatchError("it has no `value`")
    return _set(doc, parts, op.get("value"), mode=kind)


def _get(doc, parts):
    for p in parts:
        if isinstance(doc, list):
            doc = doc[_index(p, len(doc))]
        elif isinstance(doc, dict):
            if p not in doc:
                raise PatchError(f"`{p}` does not exist")
            doc = doc[p]
        else:
            raise PatchError(f"`{p}` does not exist")
    return doc


def _index(p: str, n: int, allow_end: bool = False) -> int:
    if not re.fullmatch(r"0|[1-9][0-9]*", p):
        raise PatchError(f"`{p}` is not an index of the list")
    i = int(p)
    if i > n or (i == n and not allow_end):
        raise PatchError(f"index {i} is out of range (the list has {n} items)")
    return i


def _set(doc, parts, value, mode):
    if not parts:
        if mode == "remove":
            raise PatchError("the document itself cannot be removed")
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(doc, list):
        out = copy_shallow(doc)
        if rest:
            i = _index(head, len(out))
            out[i] = _set(out[i], rest, value, mode)
            return out
        if mode == "add":
            i = len(out) if head == "-" else _index(head, len(out), allow_end=True)
            out.insert(i, value)
            if isinstance(out, YSeq):
                out.pos.insert(i, (out.line, out.col, out.line, out.col))
            return out
        i = _index(head, len(out))
        if mode == "remove":
            del out[i]
            if isinstance(out, YSeq):
                del out.pos[i]
        else:
            out[i] = value
        return out
    if not isinstance(doc, dict):
        raise PatchError(f"`{head}` does not exist (its parent is not a mapping)")
    out = copy_shallow(doc)
    if rest:
        if head not in out:
            raise PatchError(f"`{head}` does not exist")
        out[head] = _set(out[head], rest, value, mode)
    elif mode == "remove":
        if head not in out:
            raise PatchError(f"`{head}` does not exist")
        del out[head]
    elif mode == "replace" and head not in out:
        raise PatchError(f"`{head}` does not exist (replace needs an existing value; use add)")
    else:
        out[head] = value
    return out


def parse_patch(text: str) -> tuple[list, str | None]:
    """The documents of an inline patch (a list of JSON 6902 operations, or strategic
    merge objects), or an error."""
    from .yamlcompose import compose_all

    docs, errors = compose_all(text)
    if errors:
        return [], str(errors[0])
    return [d[0] for d in docs if d[0] is not None], None


# --------------------------------------------------------------------------- targets


@dataclass(slots=True)
class Obj:
    """An object as a patch target sees it at that point of the build."""

    value: Any
    kind: str
    name: str
    namespace: str
    group: str = ""
    version: str = ""
    orig_name: str = ""
    orig_namespace: str = ""
    cluster_scoped: bool = False

    @property
    def labels(self) -> dict:
        return _str_map(self.value, "labels")

    @property
    def annotations(self) -> dict:
        return _str_map(self.value, "annotations")


def _str_map(value, key) -> dict:
    meta = value.get("metadata") if isinstance(value, dict) else None
    m = meta.get(key) if isinstance(meta, dict) else None
    return {str(k): "" if v is None else str(v) for k, v in m.items()} if isinstance(m, dict) else {}


def split_api_version(api: Any) -> tuple[str, str]:
    api = api if isinstance(api, str) else ""
    group, _, version = api.rpartition("/")
    return group, version


def target_matches(target: Any, obj: Obj) -> bool:
    """kustomize's patch target selection: group, version, kind, name and namespace as
    anchored regular expressions, label and annotation selectors (raises ``PatchError``
    for a selector kustomize refuses)."""
    from .selector import SelectorError
    from .selector import target_matches as match

    if not isinstance(target, dict):
        return True
    names = (obj.name, obj.orig_name) if obj.orig_name and obj.orig_name != obj.name else obj.name
    namespaces = (obj.namespace, obj.orig_namespace) if obj.orig_namespace != obj.namespace else obj.namespace
    try:
        return match(target, group=obj.group, version=obj.version, kind=obj.kind, name=names,
                     namespace=namespaces, labels=obj.labels, annotations=obj.annotations,
                     cluster_scoped=obj.cluster_scoped)
    except SelectorError as exc:
        raise PatchError(f"invalid target: {exc.message}", unsupported=exc.unsupported) from None


def smp_matches(body: dict, obj: Obj) -> bool:
    """A strategic-merge patch without a target selects by its own apiVersion, kind, name
    (and namespace, when it names one)."""
    group, version = split_api_version(body.get("apiVersion"))
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    if body.get("kind") != obj.kind or meta.get("name") != obj.name or group != obj.group:
        return False
    if version and obj.version and version != obj.version:
        return False
    ns = meta.get("namespace")
    return not isinstance(ns, str) or not ns or ns == obj.namespace


def apply_body(value: Any, body: Any, targeted: bool) -> Any:
    """One patch document applied to one matched object."""
    if isinstance(body, list):
        return json6902(value, body)
    if not isinstance(body, dict):
        raise PatchError("the patch is neither a list of JSON 6902 operations nor an object")
    keep_meta = value.get("metadata") if isinstance(value, dict) else None
    patched = strategic_merge(value, {k: v for k, v in body.items() if k not in ("apiVersion", "kind")})
    if isinstance(patched, dict) and targeted and isinstance(keep_meta, dict):
        # a targeted patch's metadata.name is a placeholder (often `_`), not a rename
        bmeta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        if "name" in bmeta:
            patched["metadata"] = strategic_merge(keep_meta, {k: v for k, v in bmeta.items() if k != "name"})
    return patched


# --------------------------------------------------------------------------- replacements


def field_get(value: Any, path: list[str]) -> tuple[bool, Any]:
    """(found, value) at a kustomize field path (``spec.path``, ``a.[name=x].b``, ``a.0``)."""
    node = value
    for step in path:
        step = _bracket_key(step)
        m = re.fullmatch(r"\[([^=\]]+)=([^\]]*)\]", step)
        if m and isinstance(node, list):
            node = next((x for x in node if isinstance(x, dict) and str(x.get(m.group(1))) == m.group(2)), None)
            if node is None:
                return False, None
        elif isinstance(node, list) and step.isdigit():
            if int(step) >= len(node):
                return False, None
            node = node[int(step)]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return False, None
    return True, node


def field_set(value: Any, path: list[str], new: Any, create: bool) -> Any:
    """``value`` with ``new`` at ``path`` (copies on the way); PatchError when a step is
    missing and ``create`` is off, or the path cannot be created."""
    if not path:
        return new
    step, rest = _bracket_key(path[0]), path[1:]
    m = re.fullmatch(r"\[([^=\]]+)=([^\]]*)\]", step)
    if isinstance(value, list):
        out = copy_shallow(value)
        if m:
            for i, x in enumerate(out):
                if isinstance(x, dict) and str(x.get(m.group(1))) == m.group(2):
                    out[i] = field_set(x, rest, new, create)
                    return out
            raise PatchError(f"no list item with {m.group(1)}={m.group(2)}")
        if step.isdigit() and int(step) < len(out):
            out[int(step)] = field_set(out[int(step)], rest, new, create)
            return out
        raise PatchError(f"`{step}` does not exist")
    if not isinstance(value, dict):
        raise PatchError(f"`{step}` does not exist")
    out = copy_shallow(value)
    if step in out and out[step] is not None:
        out[step] = field_set(out[step], rest, new, create)
    elif create and not m:
        out[step] = field_set({}, rest, new, create)
    else:
        raise PatchError(f"`{step}` does not exist")
    return out


def _bracket_key(step: str) -> str:
    """``[config.toml]`` (a key with dots, kustomize's bracket form) -> ``config.toml``;
    ``[name=x]`` (a list item selector) stays as it is."""
    if step.startswith("[") and step.endswith("]") and "=" not in step:
        return step[1:-1]
    return step


def split_field_path(path: str) -> list[str]:
    """``a.b.[name=x].c`` -> ['a', 'b', '[name=x]', 'c'] (dots inside brackets kept)."""
    out, cur, depth = [], "", 0
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "." and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [p for p in out if p != ""]


def replace_in(value: Any, path: list[str], source: Any, options: dict, create: bool) -> Any:
    """One replacement target field: the whole value, or one part of it (``delimiter``
    and ``index``)."""
    delimiter = options.get("delimiter") if isinstance(options.get("delimiter"), str) else ""
    if delimiter:
        found, old = field_get(value, path)
        if found and isinstance(old, str):
            parts = old.split(delimiter)
            index = options.get("index") if isinstance(options.get("index"), int) else 0
            if index < 0 or index >= len(parts):
                parts = [str(source)] + parts if index < 0 else parts + [str(source)]
            else:
                parts[index] = str(source)
            source = delimiter.join(parts)
    return field_set(value, path, source, create)
