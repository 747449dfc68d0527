"""FLX9xx: about gitlint-flux's own controls."""

from __future__ import annotations

from ..model import WARNING
from .base import Rule


class UnusedSuppression(Rule):
    """An inline suppression that suppresses nothing, or names an unknown rule.

    A `# gitlint-flux: disable=...` comment that no longer matches a finding (the defect
    was fixed, the line moved, the rule name is misspelt) hides nothing today but will
    hide a real finding tomorrow. Reported by the engine after suppressions are applied;
    `--no-inline-suppressions` ignores all inline suppressions (for CI).

    **Fix:** remove the comment, or correct the rule name or its position.

    Failing:
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: podinfo  # gitlint-flux: disable=invalid-metadata -- was `Podinfo`, since renamed
    ```
    Passing:
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: podinfo
    ```
    """

    code = "FLX901"
    slug = "unused-suppression"
    severity = WARNING

    def check(self, ctx):
        return ()  # reported by the engine once suppressions are matched
