"""The Flux graph, one module per job:

* ``vocab`` — Flux's API groups and kinds, layers, source URLs and refs;
* ``scopes`` — roots (clusters), scopes, sources that are this checkout;
* ``roots`` — finding the roots;
* ``walk`` — what each Flux Kustomization applies, as the controllers build it;
* ``refs`` — the reference table and resolution per cluster;
* ``cycles`` — ``dependsOn`` cycles;
* ``flux`` — the per-cluster picture of Flux's version and feature gates;
* ``core`` — ``Graph``, which runs them in order and is what rules read.
"""

from .core import Graph
from .flux import CURRENT, GATE_DEFAULTS, FluxPicture
from .refs import REFERENCES, RefSpec, flux_references, related_for
from .scopes import LocalSource, Root, Scope
from .vocab import (
    FALLBACK, FLUX_KINDS, HELM_GROUP, IMAGE_GROUP, KUSTOMIZE_GROUP, NOT_APPLIED, NOTIFICATION_GROUP, OPERATOR_GROUP,
    SOURCE_GROUP, Layer, is_flux, is_flux_ks, layer_of, norm_url,
)

__all__ = [
    "CURRENT", "GATE_DEFAULTS", "FluxPicture",
    "FALLBACK", "FLUX_KINDS", "Graph", "HELM_GROUP", "IMAGE_GROUP", "KUSTOMIZE_GROUP", "NOT_APPLIED", "NOTIFICATION_GROUP",
    "OPERATOR_GROUP", "REFERENCES", "SOURCE_GROUP", "Layer", "LocalSource", "RefSpec", "Root", "Scope",
    "flux_references", "is_flux", "is_flux_ks", "layer_of", "norm_url", "related_for",
]
