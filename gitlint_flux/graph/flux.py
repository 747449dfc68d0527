"""The per-cluster picture of Flux: which release the cluster runs and which feature gates
its controllers have on, so that rules judge a cluster by the Flux it runs.

Built once per cluster (``Graph.flux_of``) from what the tree holds, first found wins:

1. the header ``# Flux Version: vX.Y.Z`` of a ``gotk-components.yaml`` the cluster applies
   (``flux install --export`` and ``flux bootstrap`` write it), else the controllers'
   ``app.kubernetes.io/version`` label in it;
2. a FluxInstance's ``spec.distribution.version`` (a semver range such as ``2.x``: the
   newest release it admits) — the cluster's root, or one the cluster applies;
3. the ``instance.distribution.version`` value of a flux-instance chart HelmRelease;
4. otherwise the current Flux release (``CURRENT``), said so in ``source``.

Feature gates: ``--feature-gates=Name=bool,...`` in the controllers' arguments (in
``gotk-components.yaml`` itself, or in the patches of a kustomization file, a FluxInstance's
``spec.kustomize.patches`` or the chart's ``instance.kustomize.patches``), and
flux-operator's own: ``ExternalArtifact`` is on where the instance installs
``source-watcher``. A gate not set takes its default for the release (``GATE_DEFAULTS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import Applied, Document
from .vocab import HELM_GROUP, OPERATOR_GROUP

#: the newest Flux release this version of gitlint-flux knows (its bundled schemas)
CURRENT = (2, 9)
#: minor releases of Flux 2 that a version range can select from
RELEASES = tuple((2, m) for m in range(0, CURRENT[1] + 1))

#: gate -> the first release that turns it on by default (None: off in every release)
GATE_DEFAULTS: dict[str, tuple[int, int] | None] = {
    # kustomize-controller 1.9 (Flux 2.9) fails a reconcile on an unset variable without default
    "StrictPostBuildSubstitutions": (2, 9),
    # kustomize-controller and helm-controller accept ExternalArtifact sources only with it
    "ExternalArtifact": None,
}

_VERSION_HEADER = re.compile(r"^#\s*Flux Version:\s*v?(\d+)\.(\d+)(?:\.(\d+))?", re.M)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")
_GATES = re.compile(r"--feature-gates=([A-Za-z0-9=,_ ]+)")
_FLUX_CONTROLLERS = frozenset({
    "source-controller", "kustomize-controller", "helm-controller", "notification-controller",
    "image-reflector-controller", "image-automation-controller", "source-watcher",
})


@dataclass
class FluxPicture:
    """What a cluster's Flux is, as far as the tree tells."""

    version: tuple[int, int, int | None]  # (major, minor, patch or None)
    source: str  # how it was found, for messages ("gotk-components.yaml (Flux v2.7.5)")
    known: bool  # False: nothing in the tree says; the current release is assumed
    gates: dict[str, bool] = field(default_factory=dict)  # gates the tree sets explicitly
    gate_sources: dict[str, str] = field(default_factory=dict)
    components: frozenset[str] = frozenset()  # flux-operator components, when known

    @property
    def release(self) -> tuple[int, int]:
        return self.version[0], self.version[1]

    def version_text(self) -> str:
        major, minor, patch = self.version
        return f"v{major}.{minor}" + (f".{patch}" if patch is not None else "")

    def at_least(self, major: int, minor: int) -> bool:
        return self.release >= (major, minor)

    def gate(self, name: str) -> bool:
        """Whether the cluster's controllers have the feature gate on."""
        if name in self.gates:
            return self.gates[name]
        first = GATE_DEFAULTS.get(name)
        return first is not None and self.release >= first

    def gate_reason(self, name: str) -> str:
        """Why the gate is on or off, for messages."""
        state = "on" if self.gate(name) else "off"
        if name in self.gate_sources:
            return f"{name} is {state} ({self.gate_sources[name]})"
        first = GATE_DEFAULTS.get(name)
        default = (f"the default from Flux v{first[0]}.{first[1]}" if first is not None and self.release >= first
                   else "off by default")
        return f"{name} is {state} ({default}; the cluster runs {self.source})"


def current_picture() -> FluxPicture:
    return FluxPicture((CURRENT[0], CURRENT[1], None), f"Flux v{CURRENT[0]}.{CURRENT[1]} (assumed: the tree does not "
                       "say which release)", known=False)


def parse_range(text: str) -> tuple[int, int] | None:
    """The newest known release a semver range admits (``2.x``, ``2.7.x``, ``~2.7``, ``^2``,
    ``>=2.6 <2.8``, ``2.7.5``); None when it admits none or does not parse."""
    terms = [t for t in re.split(r"[\s,]+", text.strip()) if t]
    if not terms:
        return None
    checks = []
    for t in terms:
        m = re.fullmatch(r"(>=|<=|>|<|=|~|\^)?v?(\d+|x|\*)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?", t)
        if m is None:
            return None
        op, a, b = m.group(1) or "", m.group(2), m.group(3)
        if a in ("x", "*"):
            checks.append(lambda r: True)
            continue
        major = int(a)
        minor = None if b in (None, "x", "*") else int(b)
        if op in ("", "=", "~") or (op == "^" and minor is None):
            checks.append(lambda r, M=major, m_=minor: r[0] == M and (m_ is None or r[1] == m_))
        elif op == "^":
            checks.append(lambda r, M=major, m_=minor: r[0] == M and r[1] >= m_)
        else:
            lo = (major, minor or 0)
            checks.append({
                ">=": lambda r, v=lo: r >= v, ">": lambda r, v=lo, m_=minor: r > v if m_ is not None else r[0] > v[0],
                "<=": lambda r, v=lo: r <= v, "<": lambda r, v=lo: r < v,
            }[op])
    ok = [r for r in RELEASES if all(c(r) for c in checks)]
    return max(ok) if ok else None


def _gates_in(text: str) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for m in _GATES.finditer(text):
        for part in m.group(1).split(","):
            name, _, value = part.strip().partition("=")
            if name and value.strip().lower() in ("true", "false"):
                out[name] = value.strip().lower() == "true"
    return out


def _strings(value, out: list[str], depth: int = 0) -> list[str]:
    if depth > 64:
        return out
    if isinstance(value, str):
        if "--feature-gates=" in value:
            out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out, depth + 1)
    return out


def _instance_spec(doc: Document) -> dict | None:
    """The FluxInstance spec a root or object stands for: a FluxInstance's ``spec``, or
    the flux-instance chart's ``instance`` values."""
    if doc.kind == "FluxInstance" and doc.group == OPERATOR_GROUP:
        return doc.spec
    if doc.kind == "HelmRelease" and doc.group == HELM_GROUP:
        values = doc.spec.get("values")
        inst = values.get("instance") if isinstance(values, dict) else None
        return inst if isinstance(inst, dict) else None
    return None


def picture_of(applied: list[Applied], anchor: Document | None, files: dict, kustomization_texts: list[str],
               gotk_files: list[str] = ()) -> FluxPicture:
    """The picture of one cluster from what it applies (``applied``), the document that
    defines its root (``anchor``), the files (for ``gotk-components.yaml`` headers) and the
    text of the kustomization files next to its Flux components (for gate patches)."""
    pic = None
    gates: dict[str, bool] = {}
    gate_sources: dict[str, str] = {}
    components: frozenset[str] = frozenset()

    def note_gates(text: str, where: str) -> None:
        for name, value in _gates_in(text).items():
            gates[name] = value
            gate_sources[name] = f"--feature-gates in {where}"

    gotk_paths = sorted({a.doc.path for a in applied if a.doc.path.endswith("gotk-components.yaml")} | set(gotk_files))
    for path in gotk_paths:
        sf = files.get(path)
        text = sf.text if sf is not None and sf.text else ""
        m = _VERSION_HEADER.search(text[:4000])
        if m and pic is None:
            pic = FluxPicture((int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None),
                              f"Flux v{m.group(1)}.{m.group(2)}" + (f".{m.group(3)}" if m.group(3) else "")
                              + f" ({path})", known=True)
    for a in applied:
        d = a.doc
        if d.kind == "Deployment" and a.name in _FLUX_CONTROLLERS:
            note_gates("\n".join(_strings(a.value, [])), d.path)
            if pic is None:
                meta = a.value.get("metadata") if isinstance(a.value, dict) else None
                labels = meta.get("labels") if isinstance(meta, dict) else None
                v = labels.get("app.kubernetes.io/version") if isinstance(labels, dict) else None
                m = _VERSION.match(v) if isinstance(v, str) else None
                if m:
                    pic = FluxPicture((int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None),
                                      f"Flux {v} ({d.path})", known=True)
    instances = [anchor] if anchor is not None else []
    instances += [a.doc for a in applied if _instance_spec(a.doc) is not None and a.doc is not anchor]
    for doc in instances:
        spec = _instance_spec(doc)
        if spec is None:
            continue
        dist = spec.get("distribution")
        version = dist.get("version") if isinstance(dist, dict) else None
        if pic is None and isinstance(version, str):
            rel = parse_range(version)
            if rel is not None:
                pic = FluxPicture((rel[0], rel[1], None), f"Flux v{rel[0]}.{rel[1]} (`distribution.version: "
                                  f"{version}` of {doc.kind} `{doc.name}` in {doc.path})", known=True)
        comps = spec.get("components")
        if isinstance(comps, list):
            components = frozenset(c for c in comps if isinstance(c, str))
            if "source-watcher" in components and "ExternalArtifact" not in gates:
                gates["ExternalArtifact"] = True
                gate_sources["ExternalArtifact"] = f"flux-operator installs source-watcher ({doc.path})"
        kust = spec.get("kustomize")
        if isinstance(kust, dict):
            note_gates("\n".join(_strings(kust.get("patches"), [])), doc.path)
    for text in kustomization_texts:
        note_gates(text, "a kustomization patch of the Flux controllers")
    if pic is None:
        pic = current_picture()
    pic.gates, pic.gate_sources, pic.components = gates, gate_sources, components
    return pic
