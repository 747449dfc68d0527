"""FLX6xx: how Flux reconciles: prune, intervals, suspend, force, remediation, health."""

from __future__ import annotations

import functools
import re

from ..model import ERROR, WARNING
from .base import Option, Rule

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(ms|s|m|h))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}

FLUX_KINDS = ("Kustomization", "HelmRelease", "GitRepository", "OCIRepository", "HelmRepository", "Bucket",
              "HelmChart", "ImageRepository", "ImageUpdateAutomation", "ExternalArtifact")


def seconds(value) -> float | None:
    """A Go duration (``1h30m``, ``10m0s``, ``500ms``) in seconds; None when invalid."""
    return _seconds(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=4096)  # a repository writes the same few durations everywhere
def _seconds(value: str) -> float | None:
    if not _DURATION.match(value.strip()):
        return None
    return sum(float(n) * _UNIT[u] for n, u in _PART.findall(value.strip()))


def _fmt(sec: float) -> str:
    if sec % 3600 == 0:
        return f"{int(sec // 3600)}h"
    if sec % 60 == 0:
        return f"{int(sec // 60)}m"
    return f"{sec:g}s"


def _flux(a) -> bool:
    return a.doc.group.endswith(".toolkit.fluxcd.io")


class PruneEnabled(Rule):
    """A Flux Kustomization sets `prune: false`.

    Without pruning, objects removed from Git stay in the cluster forever: the cluster
    drifts from the repository and deleted workloads keep running. (A missing `prune` is
    a schema error: the field is required.) Option `allow`: names (`name` or
    `namespace/name`) of Kustomizations allowed to disable it, e.g. one that applies CRDs.

    **Fix:** set `prune: true`; protect individual objects with the annotation
    `kustomize.toolkit.fluxcd.io/prune: disabled` instead.

    Failing:
    ```yaml
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: false
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
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
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
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

    code = "FLX601"
    slug = "prune-enabled"
    severity = WARNING
    options = {"allow": Option("list[str]", [], "Kustomizations allowed not to prune, as `name` or `namespace/name`.")}

    def check(self, ctx):
        allow = set(self.opts["allow"] or [])
        for a in ctx.applied(("Kustomization",)):
            if not _flux(a) or a.spec.get("prune") is not False:
                continue
            if a.name in allow or f"{a.namespace}/{a.name}" in allow:
                continue
            yield self.at(a, ("spec", "prune"), f"Kustomization `{a.name}` does not prune",
                          hint="Set `prune: true`, and protect single objects with the "
                               "`kustomize.toolkit.fluxcd.io/prune: disabled` annotation.")


class IntervalBounds(Rule):
    """An `interval`, `timeout` or `retryInterval` is outside sensible bounds.

    A very short interval (a source polled every few seconds) hammers Git hosts and
    registries (and gets you rate-limited); a very long one leaves drift uncorrected. The
    options give minimum and maximum durations per kind (`*` for any Flux kind); the
    defaults only catch the accidental (`interval` under 1m); the `strict` profile asks
    for GitRepository >= 1m, Kustomization >= 10m, HelmRelease >= 30m.

    **Fix:** pick an interval within the bounds; use webhooks (a Receiver) for speed.

    Failing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      url: https://github.com/stefanprodan/podinfo
      ref: {tag: 6.9.2}
      interval: 5s
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
    kind: GitRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      url: https://github.com/stefanprodan/podinfo
      ref: {tag: 6.9.2}
      interval: 1m
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

    code = "FLX602"
    slug = "interval-bounds"
    severity = WARNING
    options = {
        "min": Option("bounds", {"*": {"interval": "1m"}}, "Minimum durations per kind (`*`: any Flux kind)."),
        "max": Option("bounds", {}, "Maximum durations per kind (`*`: any Flux kind)."),
    }

    def _bound(self, which: str, kind: str, field: str) -> float | None:
        key = (which, kind, field)
        cache = self.__dict__.setdefault("_bounds", {})
        if key not in cache:
            cache[key] = self._read_bound(which, kind, field)
        return cache[key]

    def _read_bound(self, which: str, kind: str, field: str) -> float | None:
        table = self.opts.get(which) or {}
        for k in (kind, "*"):
            entry = table.get(k)
            if isinstance(entry, dict) and field in entry:
                return seconds(str(entry[field]))
        return None

    def check(self, ctx):
        for a in ctx.applied(FLUX_KINDS):
            if not _flux(a):
                continue
            for field in ("interval", "timeout", "retryInterval"):
                raw = a.spec.get(field)
                sec = seconds(raw)
                if sec is None:
                    continue
                lo = self._bound("min", a.doc.kind, field)
                hi = self._bound("max", a.doc.kind, field)
                if lo is not None and sec < lo:
                    yield self.at(a, ("spec", field),
                                  f"{a.doc.kind} `{a.name}` {field} {raw} is shorter than {_fmt(lo)}",
                                  hint=f"Use at least {_fmt(lo)}; a Receiver webhook gives fast updates.")
                elif hi is not None and sec > hi:
                    yield self.at(a, ("spec", field),
                                  f"{a.doc.kind} `{a.name}` {field} {raw} is longer than {_fmt(hi)}",
                                  hint=f"Use at most {_fmt(hi)}.")


class Suspended(Rule):
    """A Flux object is committed with `suspend: true`.

    Suspending is an operational switch (`flux suspend`) for an incident; committed, it
    silently stops reconciliation until someone notices.

    **Fix:** remove `suspend: true` (suspend from the CLI when needed), or delete the
    object if it is no longer wanted.

    Failing:
    ```yaml
    # file: clusters/prod/podinfo.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      url: https://github.com/stefanprodan/podinfo
      ref: {tag: 6.9.2}
      interval: 10m
      suspend: true
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
    kind: GitRepository
    metadata: {name: podinfo, namespace: flux-system}
    spec:
      url: https://github.com/stefanprodan/podinfo
      ref: {tag: 6.9.2}
      interval: 10m
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

    code = "FLX603"
    slug = "suspended"
    severity = WARNING

    def check(self, ctx):
        for a in ctx.applied():
            if _flux(a) and a.spec.get("suspend") is True:
                yield self.at(a, ("spec", "suspend"), f"{a.doc.kind} `{a.name}` is committed suspended",
                              hint="Remove `suspend: true`; use `flux suspend` for temporary stops.")


class ForceApply(Rule):
    """A Kustomization or HelmRelease forces changes (`spec.force: true`).

    `force` deletes and recreates objects whose immutable fields changed — Jobs, but also
    StatefulSets and PVC-backed workloads — on every such change, without review.

    **Fix:** remove `force: true`, and annotate the few objects that need recreation with
    `kustomize.toolkit.fluxcd.io/force: enabled`.

    Failing:
    ```yaml
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
      force: true
    # file: apps/db-migrate.yaml
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: db-migrate
      namespace: default
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: migrate, image: "ghcr.io/example/migrate:1.4.0"}]
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
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: apps/db-migrate.yaml
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: db-migrate
      namespace: default
      annotations:
        kustomize.toolkit.fluxcd.io/force: enabled   # recreated when its spec changes
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: migrate, image: "ghcr.io/example/migrate:1.4.0"}]
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

    code = "FLX604"
    slug = "force-apply"
    severity = WARNING

    def check(self, ctx):
        for a in ctx.applied(("Kustomization", "HelmRelease")):
            if not _flux(a):
                continue
            if a.spec.get("force") is True:
                yield self.at(a, ("spec", "force"), f"{a.doc.kind} `{a.name}` sets force: true",
                              hint="Remove it; annotate single objects with kustomize.toolkit.fluxcd.io/force.")
            for stage in ("upgrade",):
                st = a.spec.get(stage)
                if a.doc.kind == "HelmRelease" and isinstance(st, dict) and st.get("force") is True:
                    yield self.at(a, ("spec", stage, "force"), f"HelmRelease `{a.name}` forces {stage}s",
                                  hint="Remove `force: true` from the upgrade settings.")


class HelmRemediation(Rule):
    """A HelmRelease has no install or upgrade remediation retries (strict profile).

    Without `install.remediation.retries` and `upgrade.remediation.retries`, a failed
    install or upgrade stays failed until someone intervenes. Judged on the HelmRelease as
    applied, after the patches of the Kustomizations that apply it (a root that patches
    every HelmRelease with remediation settings satisfies this rule for all of them).

    **Fix:** set `spec.install.remediation.retries` and `spec.upgrade.remediation.retries`
    (with `remediateLastFailure: true` to roll a failed upgrade back), on the HelmRelease or
    in a patch of the Kustomization that applies it.

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
        spec: {chart: podinfo, version: 6.9.2, sourceRef: {kind: HelmRepository, name: podinfo}}
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
      helm-remediation: warning   # on in the strict profile only
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
        spec: {chart: podinfo, version: 6.9.2, sourceRef: {kind: HelmRepository, name: podinfo}}
      install:
        remediation: {retries: 3}
      upgrade:
        remediation: {retries: 3, remediateLastFailure: true}
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
      helm-remediation: warning   # on in the strict profile only
    ```
    """

    code = "FLX605"
    slug = "helm-remediation"
    severity = WARNING

    def check(self, ctx):
        for a in ctx.applied(("HelmRelease",)):
            if not _flux(a):
                continue
            missing = []
            for stage in ("install", "upgrade"):
                st = a.spec.get(stage)
                rem = st.get("remediation") if isinstance(st, dict) else None
                retries = rem.get("retries") if isinstance(rem, dict) else None
                strategy = st.get("strategy") if isinstance(st, dict) else None
                if isinstance(strategy, dict) and strategy.get("name") == "RetryOnFailure":
                    continue
                if not isinstance(retries, int) or retries == 0:
                    missing.append(stage)
            if missing:
                yield self.at(a, ("spec",), f"HelmRelease `{a.name}` has no {' or '.join(missing)} remediation retries",
                              key=True,
                              hint="Set install.remediation.retries and upgrade.remediation.retries.")


class KustomizationHealth(Rule):
    """A Kustomization neither waits for what it applies nor names health checks
    (strict profile).

    Without `wait: true` or `healthChecks`, the Kustomization is Ready as soon as the
    objects are applied; Kustomizations that depend on it start before it works. The
    bootstrap `flux-system` Kustomization is judged too (the examples give it `wait: true`).

    **Fix:** set `wait: true` (all applied objects must become ready), or list
    `healthChecks`.

    Failing:
    ```yaml
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system},
           wait: true}
    # file: .gitlint-flux.yaml
    rules:
      kustomization-health: warning   # on in the strict profile only
    ```
    Passing:
    ```yaml
    # file: clusters/prod/apps.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
      wait: true
    # file: apps/podinfo.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo, namespace: default}
    # file: clusters/prod/flux-system/gotk-sync.yaml
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: flux-system, namespace: flux-system}
    spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system},
           wait: true}
    # file: .gitlint-flux.yaml
    rules:
      kustomization-health: warning   # on in the strict profile only
    ```
    """

    code = "FLX606"
    slug = "kustomization-health"
    severity = WARNING

    def check(self, ctx):
        for a in ctx.applied(("Kustomization",)):
            if not _flux(a):
                continue
            if a.spec.get("wait") is True or a.spec.get("healthChecks") or a.spec.get("healthCheckExprs"):
                continue
            yield self.at(a, ("spec",), f"Kustomization `{a.name}` neither waits nor has health checks", key=True,
                          hint="Set `wait: true` or list `healthChecks`.")


del ERROR
