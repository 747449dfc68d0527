"""FLX3xx: version pinning of charts, OCI artifacts, images and Git sources."""

from __future__ import annotations

import re

from ..model import WARNING
from ..images import apply_images, split_image
from .base import Option, Rule

_EXACT_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_FLUX_VARIABLE = re.compile(r"\$\{[^}]*\}")
_POD_KINDS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def _has_placeholder(value) -> bool:
    return isinstance(value, str) and bool(_FLUX_VARIABLE.search(value))


class ChartVersionPinned(Rule):
    """A HelmRelease's chart version is not an exact version.

    `spec.chart.spec.version` accepts semver ranges; a range (`*`, `>=1.0.0`, `^1.2`,
    `~1.2`, `1.x`) or a missing version (Flux then takes the latest) means the chart
    changes under you whenever the repository publishes, without a commit. Applies to
    charts from a HelmRepository (HTTP or OCI), and to HelmChart objects; the version is
    ignored by Flux for charts from a GitRepository or Bucket, so those are not judged.
    Charts through `chartRef` are judged by the OCI ref rule (FLX302).

    **Fix:** pin the exact version and let Renovate or Flux image automation bump it.

    Failing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: HelmRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec: {interval: 1h, url: https://stefanprodan.github.io/podinfo}
    ---
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 30m
      chart:
        spec:
          chart: podinfo
          version: ">=6.0.0"
          sourceRef: {kind: HelmRepository, name: podinfo}
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    ```
    Passing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: HelmRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec: {interval: 1h, url: https://stefanprodan.github.io/podinfo}
    ---
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 30m
      chart:
        spec:
          chart: podinfo
          version: 6.9.2
          sourceRef: {kind: HelmRepository, name: podinfo}
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    ```
    """

    code = "FLX301"
    slug = "chart-version-pinned"
    severity = WARNING

    def check(self, ctx):
        for a in ctx.applied(("HelmRelease", "HelmChart")):
            if a.doc.kind == "HelmRelease":
                chart = a.spec.get("chart")
                spec = chart.get("spec") if isinstance(chart, dict) else None
                base = ("spec", "chart", "spec")
            else:
                spec = a.spec
                base = ("spec",)
            if not isinstance(spec, dict):
                continue
            sref = spec.get("sourceRef")
            if isinstance(sref, dict) and sref.get("kind") in ("GitRepository", "Bucket"):
                continue
            version = spec.get("version")
            name = spec.get("chart", "?")
            if version is None:
                yield self.at(a, base + ("chart",),
                              f"chart `{name}` has no version: Flux installs the latest release",
                              hint="Set spec.chart.spec.version to an exact version, e.g. `1.2.3`.")
                continue
            v = str(version).strip()
            if _has_placeholder(v) or _EXACT_SEMVER.match(v):
                continue
            yield self.at(a, base + ("version",),
                          f"chart `{name}` version `{v}` is a range, not an exact version",
                          hint="Pin an exact version such as `1.2.3`.")


class OciRefPinned(Rule):
    """An OCIRepository does not pin its artifact.

    Without `spec.ref`, or with `ref.tag: latest` or a `ref.semver` range, the artifact
    (a Helm chart through `chartRef`, or manifests) changes without a commit. With the
    option `require-digest` (the `strict` profile), only `ref.digest` passes: tags can be
    moved.

    **Fix:** pin a version tag (`ref.tag: 6.9.2`), or a digest.

    Failing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 10m
      url: oci://ghcr.io/stefanprodan/charts/podinfo
      ref:
        tag: latest
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    ```
    Passing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 10m
      url: oci://ghcr.io/stefanprodan/charts/podinfo
      ref:
        tag: 6.9.2
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    ```
    Failing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 10m
      url: oci://ghcr.io/stefanprodan/charts/podinfo
      ref:
        tag: 6.9.2
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    # file: .gitlint-flux.yaml
    rules:
      oci-ref-pinned: {options: {require-digest: true}}   # as in the strict profile
    ```
    Passing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      interval: 10m
      url: oci://ghcr.io/stefanprodan/charts/podinfo
      ref:
        digest: sha256:0b3e8e2e4ce4fc2fbcc4bb4e6b6b2b1e8d51c4c4e5b6f1ad6d2a8c6b0b6f0e3a
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    # file: .gitlint-flux.yaml
    rules:
      oci-ref-pinned: {options: {require-digest: true}}   # as in the strict profile
    ```
    """

    code = "FLX302"
    slug = "oci-ref-pinned"
    severity = WARNING
    options = {"require-digest": Option("bool", False, "Only `ref.digest` passes: tags can be moved.")}

    def check(self, ctx):
        for a in ctx.applied(("OCIRepository",)):
            if a.doc.group != "source.toolkit.fluxcd.io":
                continue
            ref = a.spec.get("ref")
            if not isinstance(ref, dict):
                yield self.at(a, ("spec", "url"), "OCIRepository has no ref: Flux pulls the `latest` tag",
                              hint="Add `ref.tag` with a version (or `ref.digest`).")
                continue
            if isinstance(ref.get("digest"), str) and ref["digest"]:
                continue
            if self.opts["require-digest"]:
                yield self.at(a, ("spec", "ref"), "OCIRepository ref is not a digest (tags can be moved)",
                              hint="Pin `ref.digest: sha256:...`.")
                continue
            semver = ref.get("semver")
            tag = ref.get("tag")
            if semver is not None and not _has_placeholder(str(semver)):
                if not _EXACT_SEMVER.match(str(semver).strip().lstrip("=")):
                    yield self.at(a, ("spec", "ref", "semver"),
                                  f"OCIRepository follows the semver range `{semver}`",
                                  hint="Pin `ref.tag` to an exact version.")
            elif tag is not None:
                if str(tag) == "latest":
                    yield self.at(a, ("spec", "ref", "tag"), "OCIRepository pins the `latest` tag",
                                  hint="Pin a version tag or a digest.")
            else:
                yield self.at(a, ("spec", "ref"), "OCIRepository ref names no tag, semver or digest: Flux pulls `latest`",
                              hint="Add `ref.tag` with a version.")


class ImageTagPinned(Rule):
    """A container image in an applied manifest has no tag, or the tag `latest`.

    Such an image changes on every pull, and nodes end up running different builds. The
    image is judged after the kustomize `images:` overrides (and a Flux Kustomization's
    `spec.images`) that apply to it. A digest always passes.

    **Fix:** use a version tag or a digest (`image: nginx:1.27.2` or
    `image: nginx@sha256:...`), or set `newTag` in the kustomization's `images:`.

    Failing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: podinfo, namespace: default}
    spec:
      selector: {matchLabels: {app: podinfo}}
      template:
        metadata: {labels: {app: podinfo}}
        spec:
          containers:
            - name: app
              image: ghcr.io/example/app:latest
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    ```
    Passing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: podinfo, namespace: default}
    spec:
      selector: {matchLabels: {app: podinfo}}
      template:
        metadata: {labels: {app: podinfo}}
        spec:
          containers:
            - name: app
              image: ghcr.io/example/app:1.4.0
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    ```
    Passing:
    ```yaml
    # file: clusters/prod/podinfo/kustomization.yaml
    resources: [deployment.yaml]
    images:
      - name: ghcr.io/example/app
        newTag: 1.4.0   # what the cluster runs
    # file: clusters/prod/podinfo/deployment.yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: podinfo, namespace: default}
    spec:
      selector: {matchLabels: {app: podinfo}}
      template:
        metadata: {labels: {app: podinfo}}
        spec:
          containers:
            - name: app
              image: ghcr.io/example/app:latest
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    ```
    """

    code = "FLX303"
    slug = "image-tag-pinned"
    severity = WARNING

    def check(self, ctx):
        for a in ctx.applied(tuple(_POD_KINDS)):
            if a.doc.group not in ("", "apps", "batch"):
                continue
            pod = a.value
            for step in _POD_KINDS[a.doc.kind]:
                pod = pod.get(step) if isinstance(pod, dict) else None
            if not isinstance(pod, dict):
                continue
            for field in ("initContainers", "containers", "ephemeralContainers"):
                cs = pod.get(field)
                if not isinstance(cs, list):
                    continue
                for i, c in enumerate(cs):
                    if not isinstance(c, dict) or not isinstance(c.get("image"), str):
                        continue
                    image = apply_images(c["image"], list(a.images))
                    if _has_placeholder(image):
                        continue
                    _, tag, digest = split_image(image)
                    if digest:
                        continue
                    path = _POD_KINDS[a.doc.kind] + (field, i, "image")
                    shown = image if image == c["image"] else f"{c['image']} (after images: {image})"
                    if tag is None:
                        yield self.at(a, path, f"image `{shown}` has no tag: it runs whatever `latest` is",
                                      hint="Use a version tag or a digest.")
                    elif tag == "latest":
                        yield self.at(a, path, f"image `{shown}` uses the `latest` tag",
                                      hint="Use a version tag or a digest.")


class GitBranchTracking(Rule):
    """A GitRepository follows a branch (strict profile).

    `ref.branch` deploys whatever is pushed to the branch. The bootstrap repository is
    exempt: GitOps means following it. Other sources (shared bases, vendored charts) are
    safer pinned to a tag, a semver range you control, or a commit.

    **Fix:** use `ref.tag`, `ref.semver` or `ref.commit`.

    Failing:
    ```yaml
    # file: clusters/prod/platform-base.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: platform-base, namespace: flux-system}
    spec:
      interval: 10m
      url: https://github.com/example/platform-base
      ref:
        branch: main
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    # file: .gitlint-flux.yaml
    rules:
      git-branch-tracking: warning   # on in the strict profile only
    ```
    Passing:
    ```yaml
    # file: clusters/prod/platform-base.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: platform-base, namespace: flux-system}
    spec:
      interval: 10m
      url: https://github.com/example/platform-base
      ref:
        tag: v2.3.1
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
    # file: .gitlint-flux.yaml
    rules:
      git-branch-tracking: warning   # on in the strict profile only
    ```
    """

    code = "FLX304"
    slug = "git-branch-tracking"
    severity = WARNING

    def check(self, ctx):
        graph = ctx.graph
        for a in ctx.applied(("GitRepository",)):
            key = ("GitRepository", a.namespace, a.name)
            if key in graph.local_sources:
                continue  # this repository itself: following its branch is GitOps
            ref = a.spec.get("ref")
            if not isinstance(ref, dict):
                yield self.at(a, ("spec", "url"), "GitRepository has no ref: it follows the default branch",
                              hint="Pin `ref.tag`, `ref.semver` or `ref.commit`.")
                continue
            if any(ref.get(k) for k in ("tag", "semver", "commit")) or (
                    isinstance(ref.get("name"), str) and not ref["name"].startswith("refs/heads/")):
                continue
            if ref.get("branch") or ref.get("name"):
                field = "branch" if ref.get("branch") else "name"
                yield self.at(a, ("spec", "ref", field), f"GitRepository follows the branch `{ref.get(field)}`",
                              hint="Pin `ref.tag`, `ref.semver` or `ref.commit`.")
