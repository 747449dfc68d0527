"""gitlint-flux: a static linter and policy validator for Flux v2 GitOps repositories."""

__version__ = "0.1.0"
