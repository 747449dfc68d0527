"""The Flux vocabulary the graph speaks: API groups and kinds, layers, source URLs and refs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Document

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
NOTIFICATION_GROUP = "notification.toolkit.fluxcd.io"
IMAGE_GROUP = "image.toolkit.fluxcd.io"
OPERATOR_GROUP = "fluxcd.controlplane.io"
SOURCE_EXTENSIONS_GROUP = "source.extensions.fluxcd.io"
#: Flux's API groups and the kinds each serves
FLUX_KINDS: dict[str, frozenset[str]] = {
    SOURCE_GROUP: frozenset({"GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket", "ExternalArtifact"}),
    KUSTOMIZE_GROUP: frozenset({"Kustomization"}),
    HELM_GROUP: frozenset({"HelmRelease"}),
    NOTIFICATION_GROUP: frozenset({"Alert", "Provider", "Receiver"}),
    IMAGE_GROUP: frozenset({"ImageRepository", "ImagePolicy", "ImageUpdateAutomation"}),
    OPERATOR_GROUP: frozenset({"FluxInstance", "ResourceSet", "ResourceSetInputProvider", "FluxReport"}),
    SOURCE_EXTENSIONS_GROUP: frozenset({"ArtifactGenerator"}),
}
NOT_APPLIED = "(not applied)"
#: the one cluster of a tree where no root is found
FALLBACK = "(fallback)"
BOOTSTRAP_SECRETS = {("flux-system", "flux-system")}

_LAYER_RE = re.compile(r"^(\d{1,3})-([A-Za-z0-9][\w.-]*)$")
_GENERIC_LAYERS = {
    "clusters": 0, "cluster": 0, "bootstrap": 0, "flux": 0,
    "infrastructure": 1, "infra": 1, "platform": 1, "core": 1, "components": 1,
    "apps": 2, "applications": 2, "tenants": 2, "workloads": 2,
}


def is_flux(doc: Document) -> bool:
    return doc.kind in FLUX_KINDS.get(doc.group, ())


def is_flux_ks(doc: Document) -> bool:
    return doc.kind == "Kustomization" and doc.group == KUSTOMIZE_GROUP


@dataclass(frozen=True)
class Layer:
    order: int | None
    name: str

    def __str__(self) -> str:
        return self.name


def layer_of(path: str) -> Layer | None:
    """The layer a path belongs to: ``0N-<name>`` directories (ordered), else a generic
    top-level layout directory."""
    parts = path.split("/")
    for p in parts[:-1]:
        m = _LAYER_RE.match(p)
        if m:
            return Layer(int(m.group(1)), p)
    dirs = parts[:-1]
    if dirs and dirs[0] == "kubernetes" and len(dirs) > 1:
        dirs = dirs[1:]
    if dirs:
        if dirs[0] in ("clusters", "cluster") and len(dirs) > 1:
            return Layer(None, f"{dirs[0]}/{dirs[1]}")
        if dirs[0] in _GENERIC_LAYERS:
            return Layer(None, dirs[0])
    return None


def norm_url(url: str) -> str:
    u = url.strip().lower()
    u = re.sub(r"^[a-z+]+://", "", u)
    u = re.sub(r"^[^@/]+@", "", u)
    if ":" in u.split("/", 1)[0]:
        host, _, rest = u.partition(":")
        if not rest.split("/", 1)[0].isdigit():
            u = f"{host}/{rest}"
        else:
            u = f"{host}/{rest.split('/', 1)[1] if '/' in rest else ''}"
    u = u.rstrip("/")
    if u.endswith(".git"):
        u = u[:-4]
    return u


def git_ref(spec: dict) -> str:
    ref = spec.get("ref")
    if not isinstance(ref, dict):
        return "branch:master"
    for k in ("commit", "name", "semver", "tag", "branch"):
        v = ref.get(k)
        if isinstance(v, str) and v:
            if k == "name" and v.startswith("refs/heads/"):
                return "branch:" + v[len("refs/heads/"):]
            return f"{k}:{v}"
    return "branch:master"




def string_field(value, default: str = "") -> str:
    """A string field, or the default when it is missing, empty or of another type."""
    return value if isinstance(value, str) and value else default


def list_field(value) -> list:
    return value if isinstance(value, list) else []
