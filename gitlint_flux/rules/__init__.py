"""Rules: one small class each, grouped by family.

* ``FLX0xx`` (``input``): the files themselves: YAML syntax, encoding, size, links.
* ``FLX1xx`` (``structure``): the repository as Flux applies it: kustomize references,
  Flux Kustomization paths, roots, what is applied.
"""

from .base import REGISTRY, ProblemRule, Rule, all_rules, lookup

__all__ = ["REGISTRY", "ProblemRule", "Rule", "all_rules", "lookup"]
