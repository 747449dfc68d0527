"""Secret-operator references are references, not plaintext (FLX501)."""

import pytest
from conftest import gotk_sync, lint

SECRET = """
    apiVersion: v1
    kind: Secret
    metadata:
      name: creds
      namespace: default
    stringData:
      value: {value}
"""


@pytest.mark.parametrize("value,plaintext", [
    ("op://Automation/1password connect/token", False),  # 1Password: spaces in the item name
    ("'op://My Vault/My Item/credentials section/password'", False),  # with a section
    ("ref+vault://secret/data/app#/password", False),  # vals
    ("vault:secret/data/app#password", False),  # bank-vaults webhook
    ("${DB_PASSWORD}", False),  # a Flux variable
    ("op://", True),  # not a reference: no vault or item
    ("hunter2", True),
])
def test_references_are_not_plaintext(repo, value, plaintext):
    root = repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/secret.yaml": SECRET.format(value=value),
    })
    hits = [f for f in lint(root).findings if f.rule == "FLX501"]
    assert bool(hits) == plaintext
    if plaintext:
        assert (hits[0].path, hits[0].line) == ("clusters/prod/secret.yaml", 7)  # the key of the plaintext value
