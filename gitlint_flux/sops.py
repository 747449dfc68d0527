"""SOPS-encrypted documents, as kustomize-controller recognises them.

kustomize-controller decrypts a resource whose top-level ``sops`` field holds SOPS's
metadata (a non-empty mapping: ``mac``, ``lastmodified``, ``version`` and the key groups);
every value sops encrypted is an ``ENC[...]`` ciphertext. One definition for the graph
(data of encrypted ConfigMaps/Secrets is unknown), the schema stage (the ``sops`` block is
not part of the object; ciphertexts are never judged) and the rules (no plaintext finding,
decryption required).
"""

from __future__ import annotations

from typing import Any

METADATA_KEY = "sops"


def is_encrypted(value: Any) -> bool:
    """A document that carries SOPS metadata at its top level."""
    meta = value.get(METADATA_KEY) if isinstance(value, dict) else None
    return isinstance(meta, dict) and bool(meta)


def is_ciphertext(value: Any) -> bool:
    """A value that sops encrypted (``ENC[AES256_GCM,data:...,type:str]``)."""
    return isinstance(value, str) and value.startswith("ENC[") and value.endswith("]")
