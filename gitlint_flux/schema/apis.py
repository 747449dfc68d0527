"""Removed and deprecated API versions, with the release that removed them and the
replacement."""

from __future__ import annotations

#: the Flux controllers' groups: every kind of them is bundled
FLUX_TOOLKIT_GROUPS = frozenset((
    "source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io",
    "notification.toolkit.fluxcd.io", "image.toolkit.fluxcd.io",
))

#: Flux's ecosystem beside the controllers -> the component that serves it (a newer
#: release may add kinds, so an unknown kind of these groups is not an error)
FLUX_ECOSYSTEM = {
    "source.extensions.fluxcd.io": "source-watcher",
    "fluxcd.controlplane.io": "flux-operator",
}

FLUX_GROUPS = FLUX_TOOLKIT_GROUPS | frozenset(FLUX_ECOSYSTEM)

#: (group, version) -> the Flux release that stopped serving it
FLUX_REMOVED = {
    ("source.toolkit.fluxcd.io", "v1beta1"): "2.7",
    ("kustomize.toolkit.fluxcd.io", "v1beta1"): "2.7",
    ("notification.toolkit.fluxcd.io", "v1beta1"): "2.7",
    ("image.toolkit.fluxcd.io", "v1beta1"): "2.7",
    ("helm.toolkit.fluxcd.io", "v2beta1"): "2.7",
    ("source.toolkit.fluxcd.io", "v1beta2"): "2.8",
    ("kustomize.toolkit.fluxcd.io", "v1beta2"): "2.8",
    ("helm.toolkit.fluxcd.io", "v2beta2"): "2.8",
    ("image.toolkit.fluxcd.io", "v1beta2"): "2.9",
    ("notification.toolkit.fluxcd.io", "v1beta2"): "2.9",
}

FLUX_MIGRATE_HINT = ("Run `flux migrate -f <path>` (Flux CLI) to rewrite the apiVersions of the manifests under "
                     "<path>, then review the changed fields; or edit `apiVersion` by hand.")

_V1_22 = (1, 22)

#: (group, version) -> {kind or "*": (removed in (major, minor), replacement apiVersion or "", note)}
KUBE_REMOVED: dict[tuple[str, str], dict[str, tuple[tuple[int, int], str, str]]] = {
    ("extensions", "v1beta1"): {
        "Deployment": ((1, 16), "apps/v1", ""), "DaemonSet": ((1, 16), "apps/v1", ""),
        "ReplicaSet": ((1, 16), "apps/v1", ""), "NetworkPolicy": ((1, 16), "networking.k8s.io/v1", ""),
        "PodSecurityPolicy": ((1, 16), "policy/v1beta1", "itself removed in 1.25; use Pod Security Admission"),
        "Ingress": (_V1_22, "networking.k8s.io/v1", "`backend.serviceName`/`servicePort` became `service.name`/`service.port`, and `pathType` is required"),
    },
    ("apps", "v1beta1"): {"*": ((1, 16), "apps/v1", "`spec.selector` is required in apps/v1")},
    ("apps", "v1beta2"): {"*": ((1, 16), "apps/v1", "`spec.selector` is required in apps/v1")},
    ("networking.k8s.io", "v1beta1"): {"*": (_V1_22, "networking.k8s.io/v1",
                                             "Ingress: `backend.serviceName`/`servicePort` became `service.name`/`service.port`, and `pathType` is required")},
    ("batch", "v1beta1"): {"CronJob": ((1, 25), "batch/v1", "")},
    ("policy", "v1beta1"): {
        "PodDisruptionBudget": ((1, 25), "policy/v1", "an empty `selector` now selects every pod of the namespace"),
        "PodSecurityPolicy": ((1, 25), "", "use Pod Security Admission (namespace labels) or a policy engine"),
    },
    ("autoscaling", "v2beta1"): {"HorizontalPodAutoscaler": ((1, 25), "autoscaling/v2", "")},
    ("autoscaling", "v2beta2"): {"HorizontalPodAutoscaler": ((1, 26), "autoscaling/v2", "")},
    ("discovery.k8s.io", "v1beta1"): {"EndpointSlice": ((1, 25), "discovery.k8s.io/v1", "")},
    ("events.k8s.io", "v1beta1"): {"Event": ((1, 25), "events.k8s.io/v1", "")},
    ("node.k8s.io", "v1beta1"): {"RuntimeClass": ((1, 25), "node.k8s.io/v1", "")},
    ("storage.k8s.io", "v1beta1"): {
        "CSIStorageCapacity": ((1, 27), "storage.k8s.io/v1", ""),
        "*": (_V1_22, "storage.k8s.io/v1", ""),
    },
    ("flowcontrol.apiserver.k8s.io", "v1beta1"): {"*": ((1, 26), "flowcontrol.apiserver.k8s.io/v1", "")},
    ("flowcontrol.apiserver.k8s.io", "v1beta2"): {"*": ((1, 29), "flowcontrol.apiserver.k8s.io/v1", "")},
    ("flowcontrol.apiserver.k8s.io", "v1beta3"): {"*": ((1, 32), "flowcontrol.apiserver.k8s.io/v1", "")},
    ("admissionregistration.k8s.io", "v1beta1"): {
        "MutatingWebhookConfiguration": (_V1_22, "admissionregistration.k8s.io/v1", ""),
        "ValidatingWebhookConfiguration": (_V1_22, "admissionregistration.k8s.io/v1", ""),
    },
    ("apiextensions.k8s.io", "v1beta1"): {"*": (_V1_22, "apiextensions.k8s.io/v1",
                                                "every version needs its own `schema`, and schemas must be structural")},
    ("apiregistration.k8s.io", "v1beta1"): {"*": (_V1_22, "apiregistration.k8s.io/v1", "")},
    ("authentication.k8s.io", "v1beta1"): {"*": (_V1_22, "authentication.k8s.io/v1", "")},
    ("authorization.k8s.io", "v1beta1"): {"*": (_V1_22, "authorization.k8s.io/v1", "")},
    ("certificates.k8s.io", "v1beta1"): {"*": (_V1_22, "certificates.k8s.io/v1", "")},
    ("coordination.k8s.io", "v1beta1"): {"*": (_V1_22, "coordination.k8s.io/v1", "")},
    ("rbac.authorization.k8s.io", "v1beta1"): {"*": (_V1_22, "rbac.authorization.k8s.io/v1", "")},
    ("rbac.authorization.k8s.io", "v1alpha1"): {"*": (_V1_22, "rbac.authorization.k8s.io/v1", "")},
    ("scheduling.k8s.io", "v1beta1"): {"*": (_V1_22, "scheduling.k8s.io/v1", "")},
}


def kube_removed(group: str, version: str, kind: str) -> tuple[tuple[int, int], str, str] | None:
    table = KUBE_REMOVED.get((group, version))
    if table is None:
        return None
    return table.get(kind) or table.get("*")


def fmt_version(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"
