"""Transforms a repository states about its own objects, applied statically:

* a Flux Kustomization's ``spec.patches`` (strategic-merge or JSON 6902, with targets),
* Flux post-build variable substitution (``${VAR}``, ``${VAR:=default}``, ``$${VAR}``),
* kustomize ``images:`` overrides.

Patched values stay ``YMap``/``YSeq`` where the original had positions, so a finding on
an effective value still points into the file.
"""

from __future__ import annotations

import re
from typing import Any

from .model import YMap, YSeq

# --------------------------------------------------------------------------- patches


def _copy_shallow(node):
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


def strategic_merge(base: Any, patch: Any) -> Any:
    """A strategic-merge patch, simplified: maps merge recursively, ``null`` deletes,
    lists of maps with ``name`` merge by name, other lists are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = _copy_shallow(base)
        for k, v in patch.items():
            if k == "$patch":
                continue
            if v is None:
                out.pop(k, None)
            elif k in out:
                out[k] = strategic_merge(out[k], v)
            else:
                out[k] = v
        return out
    if isinstance(base, list) and isinstance(patch, list):
        if base and all(isinstance(x, dict) and "name" in x for x in base) and all(
                isinstance(x, dict) and "name" in x for x in patch):
            out = _copy_shallow(base)
            index = {x["name"]: i for i, x in enumerate(out)}
            for item in patch:
                if item["name"] in index:
                    out[index[item["name"]]] = strategic_merge(out[index[item["name"]]], item)
                else:
                    out.append(item)
            return out
        return patch
    return patch


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise ValueError(path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")] if path != "/" else []


def json6902(base: Any, ops: list) -> Any:
    """Apply JSON 6902 operations (add, replace, remove, copy, move, test)."""
    doc = base
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            continue
        try:
            doc = _apply_op(doc, op)
        except (ValueError, KeyError, IndexError, TypeError):
            continue  # the patch does not apply: kustomize would fail; not our concern here
    return doc


def _apply_op(doc, op):
    kind = op.get("op")
    parts = _pointer(op["path"])
    if kind == "test":
        return doc
    if kind in ("copy", "move"):
        src = _pointer(op.get("from", ""))
        value = _get(doc, src)
        if kind == "move":
            doc = _set(doc, src, None, remove=True)
        return _set(doc, parts, value, add=True)
    if kind == "remove":
        return _set(doc, parts, None, remove=True)
    return _set(doc, parts, op.get("value"), add=(kind == "add"))


def _get(doc, parts):
    for p in parts:
        doc = doc[int(p)] if isinstance(doc, list) else doc[p]
    return doc


def _set(doc, parts, value, add=False, remove=False):
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    out = _copy_shallow(doc)
    if isinstance(out, list):
        if head == "-":
            if rest or remove:
                raise ValueError(head)
            out.append(value)
            if isinstance(out, YSeq):
                out.pos.append((out.line, out.col, out.line, out.col))
            return out
        i = int(head)
        if rest:
            out[i] = _set(out[i], rest, value, add, remove)
        elif remove:
            del out[i]
            if isinstance(out, YSeq):
                del out.pos[i]
        elif add:
            out.insert(i, value)
            if isinstance(out, YSeq):
                out.pos.insert(i, (out.line, out.col, out.line, out.col))
        else:
            out[i] = value
        return out
    if not isinstance(out, dict):
        raise TypeError(head)
    if rest:
        out[head] = _set(out[head], rest, value, add, remove)
    elif remove:
        del out[head]
    else:
        out[head] = value
    return out


def _regex_match(pattern: Any, value: str) -> bool:
    if not isinstance(pattern, str) or not pattern:
        return True
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return pattern == value


def _selector_match(selector: Any, labels: dict) -> bool:
    if not isinstance(selector, str) or not selector.strip():
        return True
    for term in selector.split(","):
        term = term.strip()
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def target_matches(target: Any, value: dict, namespace: str, name: str) -> bool:
    """kustomize patch target selection (group, version, kind, name and namespace are
    regular expressions; label and annotation selectors)."""
    if not isinstance(target, dict):
        return True
    api = value.get("apiVersion") if isinstance(value.get("apiVersion"), str) else ""
    group, _, version = api.rpartition("/")
    if not group and "/" not in api:
        version = api
    kind = value.get("kind") if isinstance(value.get("kind"), str) else ""
    meta = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    return (
        _regex_match(target.get("group"), group)
        and _regex_match(target.get("version"), version)
        and _regex_match(target.get("kind"), kind)
        and _regex_match(target.get("name"), name)
        and _regex_match(target.get("namespace"), namespace)
        and _selector_match(target.get("labelSelector"), {str(k): str(v) for k, v in labels.items()})
        and _selector_match(target.get("annotationSelector"), {str(k): str(v) for k, v in annotations.items()})
    )


def parse_patch(text: str):
    """An inline patch: a list of JSON 6902 operations, or a strategic-merge object."""
    from .yamlcompose import compose_all

    docs, errors = compose_all(text)
    if errors or not docs:
        return None
    return docs[0][0]


def apply_flux_patches(value: Any, patches: Any, namespace: str, name: str) -> Any:
    """Apply a Flux Kustomization's ``spec.patches`` entries that target this object."""
    if not isinstance(patches, list) or not isinstance(value, dict):
        return value
    for p in patches:
        if not isinstance(p, dict) or not isinstance(p.get("patch"), str):
            continue
        body = parse_patch(p["patch"])
        target = p.get("target")
        if isinstance(body, list):
            if target_matches(target, value, namespace, name):
                value = json6902(value, body)
        elif isinstance(body, dict):
            if target is None:
                # without a target, a strategic-merge patch selects by its own kind and name
                pmeta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
                if body.get("kind") != value.get("kind") or pmeta.get("name") != name:
                    continue
            elif not target_matches(target, value, namespace, name):
                continue
            keep_meta = value.get("metadata")
            patched = strategic_merge(value, {k: v for k, v in body.items() if k not in ("apiVersion", "kind")})
            if isinstance(patched, dict) and target is not None and isinstance(keep_meta, dict):
                # a targeted patch's metadata.name is a placeholder (often `_`), not a rename
                bmeta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
                if "name" in bmeta:
                    patched["metadata"] = strategic_merge(keep_meta, {k: v for k, v in bmeta.items() if k != "name"})
            value = patched
    return value


# --------------------------------------------------------------------------- post-build substitution

# Flux (drone/envsubst): ${VAR}, ${VAR:=default}, ${VAR:-default}, ${VAR=default}, ${VAR-default};
# $${VAR} is an escape for a literal ${VAR}
VAR_RE = re.compile(r"(?<!\$)\$\{([_a-zA-Z][_a-zA-Z0-9]*)((?::?[=-])[^}]*)?\}")
ANY_VAR_RE = re.compile(r"\$\{([^}]*)\}")
SUBSTITUTE_DISABLED = "kustomize.toolkit.fluxcd.io/substitute"


def variables_in(value: Any, path: tuple = ()) -> list[tuple[tuple, str, bool]]:
    """``(path, name, has_default)`` of every ``${VAR}`` in string values (keys too)."""
    out: list[tuple[tuple, str, bool]] = []
    stack = [(value, path)]
    while stack:
        node, p = stack.pop()
        if isinstance(node, str):
            if "${" in node:
                for m in VAR_RE.finditer(node):
                    out.append((p, m.group(1), bool(m.group(2))))
        elif isinstance(node, dict):
            for k, v in node.items():
                if isinstance(k, str) and "${" in k:
                    for m in VAR_RE.finditer(k):
                        out.append((p + (k,), m.group(1), bool(m.group(2))))
                stack.append((v, p + (k,)))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                stack.append((v, p + (i,)))
    out.reverse()
    return out


def substitute_text(text: str, variables: dict[str, str]) -> str:
    def repl(m):
        name, rest = m.group(1), m.group(2)
        if name in variables:
            return str(variables[name])
        if rest:
            return rest[2:] if rest[:1] == ":" else rest[1:]
        return m.group(0)
    return VAR_RE.sub(repl, text).replace("$${", "${")


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """``value`` with known variables replaced (unknown ones left as written)."""
    if isinstance(value, str):
        return substitute_text(value, variables) if "$" in value else value
    if isinstance(value, dict):
        out = None
        for k, v in value.items():
            nv = substitute(v, variables)
            if nv is not v:
                if out is None:
                    out = _copy_shallow(value)
                out[k] = nv
        return value if out is None else out
    if isinstance(value, list):
        out = None
        for i, v in enumerate(value):
            nv = substitute(v, variables)
            if nv is not v:
                if out is None:
                    out = _copy_shallow(value)
                out[i] = nv
        return value if out is None else out
    return value


def substitution_disabled(value: Any) -> bool:
    meta = value.get("metadata") if isinstance(value, dict) else None
    for key in ("annotations", "labels"):
        m = meta.get(key) if isinstance(meta, dict) else None
        if isinstance(m, dict) and m.get(SUBSTITUTE_DISABLED) == "disabled":
            return True
    return False


# --------------------------------------------------------------------------- images


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """``(name, tag, digest)`` of an image reference."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        image, tag = image[:colon], image[colon + 1:]
    return image, tag, digest


def apply_images(image: str, overrides: list[dict]) -> str:
    """kustomize ``images:`` overrides (inner kustomization first)."""
    for ov in overrides:
        name, tag, digest = split_image(image)
        if ov.get("name") != name:
            continue
        if isinstance(ov.get("newName"), str):
            name = ov["newName"]
        if ov.get("newTag") is not None:
            tag = str(ov["newTag"])
        if isinstance(ov.get("digest"), str):
            digest = ov["digest"]
            tag = None if ov.get("newTag") is None else tag
        image = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    return image
