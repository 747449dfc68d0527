"""Custom policies: rules written as YAML, without Python.

A policy file holds ``code``, ``slug``, ``severity``, ``message`` (and ``hint``), a
``select``or (``apiVersion``, ``kind``, ``namespace``, ``name`` as globs, with ``{a,b}``
alternatives; ``labels`` as a mapping of label to glob) and a JSON ``schema`` that every
selected object, as Flux applies it, must satisfy.
"""

from __future__ import annotations

import fnmatch
import os
import re

from .model import SEVERITIES, Related
from .rules.base import REGISTRY, Rule

_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,9}\d{3}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
KEYS = {"code", "slug", "severity", "message", "hint", "select", "schema", "description"}
SELECT_KEYS = {"apiVersion", "kind", "namespace", "name", "labels"}


class PolicyError(Exception):
    pass


def _expand(pattern: str) -> list[str]:
    m = re.search(r"\{([^{}]*)\}", pattern)
    if not m:
        return [pattern]
    out = []
    for alt in m.group(1).split(","):
        out.extend(_expand(pattern[:m.start()] + alt + pattern[m.end():]))
    return out


def _glob(pattern, value: str) -> bool:
    if pattern is None:
        return True
    return any(fnmatch.fnmatchcase(value, p) for p in _expand(str(pattern)))


class CustomPolicy(Rule):
    """A user's policy, loaded from YAML (its documentation is its `description`)."""

    def __init__(self, spec: dict, source: str, severity: str | None = None, options: dict | None = None):
        self.spec = spec
        self.source = source
        self.code = spec["code"]  # type: ignore[misc]
        self.slug = spec["slug"]  # type: ignore[misc]
        self.severity = spec.get("severity", "warning")  # type: ignore[misc]
        super().__init__(severity, options)
        self._validator = None

    def doc(self) -> str:  # type: ignore[override]
        return f"{self.spec['message']}\n\n{self.spec.get('description', '')}\n\nCustom policy from `{self.source}`."

    def summary(self) -> str:  # type: ignore[override]
        return str(self.spec["message"])

    def description(self) -> str:  # type: ignore[override]
        return self.doc().split("\n", 1)[1].strip()

    def url(self) -> str:  # type: ignore[override]
        return self.source

    def info(self):  # type: ignore[override]
        from .model import RuleInfo
        return RuleInfo(self.code, self.slug, self.severity, self.summary(), self.description(), self.url())

    def selects(self, a) -> bool:
        sel = self.spec.get("select") or {}
        doc = a.doc
        if not (_glob(sel.get("apiVersion"), doc.api_version) and _glob(sel.get("kind"), doc.kind)
                and _glob(sel.get("namespace"), a.namespace) and _glob(sel.get("name"), a.name)):
            return False
        labels = sel.get("labels")
        if isinstance(labels, dict):
            meta = a.value.get("metadata") if isinstance(a.value, dict) else None
            have = meta.get("labels") if isinstance(meta, dict) else None
            have = have if isinstance(have, dict) else {}
            for k, pattern in labels.items():
                if k not in have or not _glob(pattern, str(have[k])):
                    return False
        return True

    def check(self, ctx):
        if self._validator is None:
            import jsonschema

            cls = jsonschema.validators.validator_for(self.spec["schema"])
            self._validator = cls(self.spec["schema"])
        for a in ctx.applied():
            if not self.selects(a):
                continue
            for err in sorted(self._validator.iter_errors(_plain(a.value)), key=lambda e: list(e.absolute_path)):
                path = tuple(err.absolute_path)
                where = "/".join(str(p) for p in path) or "(document)"
                # a missing field is reported at the key of the mapping that lacks it
                yield self.at(a, path, f"{self.spec['message']} ({where}: {err.message})",
                              key=err.validator == "required" and bool(path),
                              hint=str(self.spec.get("hint", "")),
                              related=[Related(self.source, 1, 1, "policy defined here")]
                              if not os.path.isabs(self.source) else None)


def _plain(v):
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def load_policies(dirs: list[str], root: str, read_yaml) -> dict[str, dict]:
    """Policy specs (code -> (spec, source)) from the directories, validated."""
    out: dict[str, tuple[dict, str]] = {}
    for d in dirs:
        absd = d if os.path.isabs(d) else os.path.join(root, d)
        if not os.path.isdir(absd):
            raise PolicyError(f"policies directory `{d}` not found")
        for name in sorted(os.listdir(absd)):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(absd, name)
            spec = read_yaml(path)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            src = rel if not rel.startswith("../") else path
            _validate(spec, src)
            if spec["code"] in out or spec["code"] in REGISTRY:
                raise PolicyError(f"{src}: policy code `{spec['code']}` is already used")
            out[spec["code"]] = (spec, src)
    return out


def _validate(spec, src: str) -> None:
    if not isinstance(spec, dict):
        raise PolicyError(f"{src}: a policy must be a mapping")
    unknown = set(spec) - KEYS
    if unknown:
        raise PolicyError(f"{src}: unknown policy key `{sorted(unknown)[0]}` (keys: {', '.join(sorted(KEYS))})")
    for k in ("code", "slug", "message", "schema"):
        if k not in spec:
            raise PolicyError(f"{src}: policy needs `{k}`")
    if not isinstance(spec["code"], str) or not _CODE.match(spec["code"]):
        raise PolicyError(f"{src}: policy code `{spec['code']}` must look like ORG001 (letters, then 3 digits)")
    if spec["code"].startswith("FLX"):
        raise PolicyError(f"{src}: policy codes starting with FLX are reserved for built-in rules")
    if not isinstance(spec["slug"], str) or not _SLUG.match(spec["slug"]):
        raise PolicyError(f"{src}: policy slug must be lowercase words joined by '-'")
    if spec.get("severity", "warning") not in SEVERITIES:
        raise PolicyError(f"{src}: severity must be one of {', '.join(SEVERITIES)}")
    sel = spec.get("select", {})
    if not isinstance(sel, dict) or set(sel) - SELECT_KEYS:
        raise PolicyError(f"{src}: `select` takes {', '.join(sorted(SELECT_KEYS))}")
    if not isinstance(spec["schema"], dict):
        raise PolicyError(f"{src}: `schema` must be a JSON schema (a mapping)")
    import jsonschema

    try:
        jsonschema.validators.validator_for(spec["schema"]).check_schema(_plain(spec["schema"]))
    except jsonschema.SchemaError as exc:
        raise PolicyError(f"{src}: invalid schema: {exc.message}") from None
