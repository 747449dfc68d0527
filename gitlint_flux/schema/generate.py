"""Regenerate the package's schemas: the Flux ecosystem's CRDs and the CRD catalog.

    python -m gitlint_flux.schema.generate [CRD_DIR] [OUT_DIR] [--catalog CATALOG_DIR]

**Flux** (``render``): ``CRD_DIR`` (default ``../shared/flux-crds`` beside the project)
holds the CRDs of the Flux controllers, source-watcher and flux-operator. Writes
``OUT_DIR/{group}/{kind}_{version}.json`` (kind in lower case: flux-schema's catalog
layout) for every served version of every CRD, converted by ``convert`` (CEL rules kept),
``index.json`` (kinds, served versions, plural, scope) and ``README.md``.

**Catalog** (``render_catalog``): ``CATALOG_DIR`` (default ``../shared/crds-catalog``) is a
checkout of a JSON-schema catalog in the ``{group}/{kind}_{version}.json`` layout. What
the package ships, by this criterion: *every kind of every API group of the catalog, every
version the catalog holds* (the catalog keeps only versions its projects still release, and
the whole of it is about 1 MB compressed), except the groups the Flux CRDs above provide
(those come with their CEL rules from ``CRD_DIR``) and files that are not a JSON object.
Each schema goes through the same ``convert_schema`` as a CRD (structural semantics made
explicit, descriptions stripped) and loses its ``x-kubernetes-validations``: the catalog
dropped most of them, so the few it kept are an arbitrary remainder of an unknown release.
Writes ``OUT_DIR/catalog/{group}/{kind}_{version}.json.gz`` (the catalog's own layout, kind
in lower case; one version of one kind, minified and gzip-compressed, with the catalog
commit it came from), ``catalog/index.json`` (the
source, its commit, and the versions of every kind), the catalog's ``LICENSE`` and a
``README.md``.

Generated files that nothing produces any more are removed. The output is deterministic
(sorted keys, gzip without a time stamp), so a test can regenerate it and compare.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys

from .convert import convert_crd, crd_identity, crd_versions, plain

#: the Flux release the bundled schemas describe, and the controller releases of its CRDs
FLUX_RELEASE = "2.9"
CONTROLLERS = [
    ("source-controller", "v1.9.0", "source.toolkit.fluxcd.io"),
    ("kustomize-controller", "v1.9.0", "kustomize.toolkit.fluxcd.io"),
    ("helm-controller", "v1.6.0", "helm.toolkit.fluxcd.io"),
    ("notification-controller", "v1.9.0", "notification.toolkit.fluxcd.io"),
    ("image-reflector-controller", "v1.2.0", "image.toolkit.fluxcd.io (ImageRepository, ImagePolicy)"),
    ("image-automation-controller", "v1.2.0", "image.toolkit.fluxcd.io (ImageUpdateAutomation)"),
    ("source-watcher", "v2.2.0", "source.extensions.fluxcd.io (ArtifactGenerator)"),
    ("flux-operator", "v0.58.1", "fluxcd.controlplane.io (FluxInstance, FluxReport, ResourceSet, "
                                 "ResourceSetInputProvider)"),
]

PACKAGE_SCHEMAS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas")
DEFAULT_CRDS = os.path.join(os.path.dirname(os.path.dirname(PACKAGE_SCHEMAS)), "..", "shared", "flux-crds")
DEFAULT_CATALOG = os.path.join(os.path.dirname(os.path.dirname(PACKAGE_SCHEMAS)), "..", "shared", "crds-catalog")
CATALOG_DIR = "catalog"  # under OUT_DIR
CATALOG_REPOSITORY = "datreeio/CRDs-catalog"
_COMMIT_RE = re.compile(r"commit `([0-9a-f]{7,40})`(?: \((\d{4}-\d{2}-\d{2})\))?")
_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def _dump(obj) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def read_crds(crd_dir: str) -> list[dict]:
    from ..yamlcompose import compose_all

    out = []
    for name in sorted(os.listdir(crd_dir)):
        if not name.endswith((".yaml", ".yml")):
            continue
        with open(os.path.join(crd_dir, name), encoding="utf-8") as fh:
            docs, errors = compose_all(fh.read())
        if errors:
            raise SystemExit(f"{name}: {errors[0].message}")
        for value, _line, _col in docs:
            if isinstance(value, dict) and value.get("kind") == "CustomResourceDefinition":
                out.append(plain(value))
    return out


def render(crd_dir: str) -> dict[str, str]:
    """Relative path -> file content of the whole generated tree."""
    files: dict[str, str] = {}
    index: dict = {}
    for crd in read_crds(crd_dir):
        ident = crd_identity(crd)
        if ident is None:
            continue
        group, kind, plural = ident
        versions = crd_versions(crd)
        served = sorted(v for v, info in versions.items() if info["served"])
        for version, schema in sorted(convert_crd(crd).items()):
            files[f"{group}/{kind.lower()}_{version}.json"] = _dump(schema)
        index.setdefault(group, {})[kind] = {
            "plural": plural,
            "scope": crd.get("spec", {}).get("scope", "Namespaced"),
            "versions": served,
        }
    files["index.json"] = _dump({"flux": FLUX_RELEASE, "groups": index})
    files["README.md"] = _readme(index)
    return files


def _readme(index: dict) -> str:
    lines = [
        "# Bundled Flux schemas (generated)",
        "",
        "Generated by `python -m gitlint_flux.schema.generate` from the CustomResourceDefinitions of",
        f"the Flux {FLUX_RELEASE} controllers (`../shared/flux-crds`); do not edit by hand. A test",
        "regenerates them and fails when they differ.",
        "",
        "| controller | release | API group |",
        "|---|---|---|",
    ]
    lines += [f"| {c} | {r} | {g} |" for c, r, g in CONTROLLERS]
    lines += [
        "",
        "Layout: `{group}/{kind}_{version}.json` (kind in lower case), one JSON Schema per served",
        "version, descriptions stripped, structural semantics explicit (`additionalProperties:",
        "false` except under `x-kubernetes-preserve-unknown-fields`; `x-kubernetes-*` extensions,",
        "enums, patterns, defaults and CEL rules kept). `index.json` lists kinds and served versions.",
        "The CRD catalog's schemas are in `catalog/` (see `catalog/README.md`).",
        "",
        "| group | kind | versions |",
        "|---|---|---|",
    ]
    for group in sorted(index):
        for kind in sorted(index[group]):
            lines.append(f"| {group} | {kind} | {', '.join(index[group][kind]['versions'])} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the CRD catalog


def version_key(version: str) -> tuple:
    """Kubernetes' version priority (``v1`` > ``v1beta2`` > ``v1beta1`` > ``v1alpha1``,
    then other names alphabetically): sorting by it puts the newest last."""
    m = _VERSION_RE.match(version)
    if m is None:
        return (0, 0, 0, 0, version)
    major, pre, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    return (1, major, {"alpha": 0, "beta": 1, None: 2}[pre], minor, "")


def _strip_cel(s):
    if isinstance(s, dict):
        return {k: _strip_cel(v) for k, v in s.items() if k != "x-kubernetes-validations"}
    if isinstance(s, list):
        return [_strip_cel(x) for x in s]
    return s


def catalog_source(catalog_dir: str) -> dict:
    """The catalog's repository and commit, from its README."""
    try:
        with open(os.path.join(catalog_dir, "README.md"), encoding="utf-8") as fh:
            m = _COMMIT_RE.search(fh.read())
    except OSError:
        m = None
    if m is None:
        raise SystemExit(f"generate: {catalog_dir}/README.md names no catalog commit (`commit `<sha>``)")
    return {"repository": CATALOG_REPOSITORY, "commit": m.group(1), "date": m.group(2) or "", "license": "MIT"}


def _gzip(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def render_catalog(catalog_dir: str, exclude_groups=frozenset()) -> dict[str, str | bytes]:
    """Relative path (under ``catalog/``) -> content (text, or gzip bytes)."""
    from .convert import convert_schema

    source = catalog_source(catalog_dir)
    kinds: dict[tuple[str, str], dict[str, dict]] = {}
    for group in sorted(os.listdir(catalog_dir)):
        gdir = os.path.join(catalog_dir, group)
        if not os.path.isdir(gdir) or group in exclude_groups or group.startswith("."):
            continue
        for name in sorted(os.listdir(gdir)):
            stem, ext = os.path.splitext(name)
            kind, sep, version = stem.rpartition("_")
            if ext != ".json" or not sep or not kind or _VERSION_RE.match(version) is None:
                continue
            try:
                with open(os.path.join(gdir, name), encoding="utf-8") as fh:
                    schema = json.load(fh)
            except (OSError, ValueError):
                continue
            if not isinstance(schema, dict):
                continue
            kinds.setdefault((group, kind), {})[version] = convert_schema(_strip_cel(schema), root=True)
    files: dict[str, str | bytes] = {}
    index: dict = {}
    for (group, kind), versions in sorted(kinds.items()):
        for version, schema in sorted(versions.items()):
            payload = {"group": group, "kind": kind, "version": version, "commit": source["commit"], "schema": schema}
            files[f"{group}/{kind}_{version}.json.gz"] = _gzip(json.dumps(payload, sort_keys=True, separators=(",", ":"),
                                                                          ensure_ascii=False))
        index.setdefault(group, {})[kind] = sorted(versions, key=version_key)
    files["index.json"] = json.dumps({"source": source, "groups": index}, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False) + "\n"
    try:
        with open(os.path.join(catalog_dir, "LICENSE"), encoding="utf-8") as fh:
            files["LICENSE"] = fh.read()
    except OSError:
        raise SystemExit(f"generate: {catalog_dir}/LICENSE is missing: the catalog's license must ship with its data")
    files["README.md"] = _catalog_readme(source, index)
    return files


def _catalog_readme(source: dict, index: dict) -> str:
    n_kinds = sum(len(k) for k in index.values())
    n_versions = sum(len(v) for k in index.values() for v in k.values())
    date = f" ({source['date']})" if source["date"] else ""
    lines = [
        "# Bundled CRD catalog schemas (generated)",
        "",
        f"JSON schemas of {n_kinds} kinds ({n_versions} versions) of {len(index)} API groups of the Kubernetes",
        f"ecosystem, from the [{source['repository']}](https://github.com/{source['repository']}) catalog at",
        f"commit `{source['commit']}`{date}, {source['license']} License (`LICENSE` here). Generated by",
        "`python -m gitlint_flux.schema.generate` from a checkout of the catalog (`../shared/crds-catalog`);",
        "do not edit by hand. A test regenerates them and fails when they differ.",
        "",
        "Selection: every kind of every API group of the catalog, every version it holds. Each file",
        "went through the project's CRD converter (descriptions stripped, objects closed unless they",
        "preserve unknown fields) without its `x-kubernetes-validations` (the catalog dropped the CRDs'",
        "CEL rules). A schema here is of an unknown release of its project: findings that a release",
        "difference can explain are warnings (see docs/schemas.md).",
        "",
        "Layout: `{group}/{kind}_{version}.json.gz` (the catalog's, kind in lower case), gzip-compressed",
        "JSON `{group, kind, version, commit, schema}`; `index.json` lists the source, its commit, and",
        "every kind's versions (oldest first).",
        "",
        "| group | kinds |",
        "|---|---|",
    ]
    for group in sorted(index):
        lines.append(f"| {group} | {', '.join(sorted(index[group]))} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- writing


def write(files: dict[str, str | bytes], out_dir: str, keep: tuple[str, ...] = ()) -> list[str]:
    """Write the tree; returns the paths changed (written or removed). Files under the
    ``keep`` prefixes belong to another generated tree and are left alone."""
    changed = []
    existing = set()
    for d, _dirs, names in os.walk(out_dir):
        for n in names:
            existing.add(os.path.relpath(os.path.join(d, n), out_dir).replace(os.sep, "/"))
    for rel, content in sorted(files.items()):
        p = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        old = None
        if os.path.exists(p):
            with open(p, "rb") as fh:
                old = fh.read()
        if old != data:
            with open(p, "wb") as fh:
                fh.write(data)
            changed.append(rel)
    for rel in sorted(existing - set(files)):
        if rel.startswith(keep):
            continue
        if rel.endswith((".json", ".json.gz")) or rel.rsplit("/", 1)[-1] in ("README.md", "LICENSE"):
            os.remove(os.path.join(out_dir, rel))
            changed.append(rel)
    return changed


def flux_groups(crd_dir: str) -> set[str]:
    return {ident[0] for crd in read_crds(crd_dir) if (ident := crd_identity(crd)) is not None}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    catalog_dir = DEFAULT_CATALOG
    if "--catalog" in args:
        i = args.index("--catalog")
        if i + 1 >= len(args):
            print("generate: --catalog needs a directory", file=sys.stderr)
            return 2
        catalog_dir = args[i + 1]
        del args[i:i + 2]
    crd_dir = args[0] if args else DEFAULT_CRDS
    out_dir = args[1] if len(args) > 1 else PACKAGE_SCHEMAS
    for d in (crd_dir, catalog_dir):
        if not os.path.isdir(d):
            print(f"generate: {d}: no such directory", file=sys.stderr)
            return 2
    changed = write(render(crd_dir), out_dir, keep=(CATALOG_DIR + "/",))
    cat = render_catalog(catalog_dir, exclude_groups=flux_groups(crd_dir))
    changed += [f"{CATALOG_DIR}/{rel}" for rel in write(cat, os.path.join(out_dir, CATALOG_DIR))]
    for rel in changed:
        print(rel)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
