"""One definition of a SOPS-encrypted document (gitlint_flux/sops.py), used by the graph,
the schema stage and the rules alike."""

from conftest import gotk_sync, lint

from gitlint_flux.sops import is_ciphertext, is_encrypted

ENC = "ENC[AES256_GCM,data:Tr7o1Q==,iv:aaaa,tag:bbbb,type:str]"


def test_sops_metadata_at_the_top_level_is_encryption():
    # kustomize-controller decrypts a resource whose top-level `sops` field holds metadata
    assert is_encrypted({"kind": "Secret", "sops": {"mac": ENC, "lastmodified": "2024-01-01T00:00:00Z"}})
    assert is_encrypted({"kind": "Secret", "sops": {"age": [{"recipient": "age1x"}], "version": "3.8.1"}})
    assert not is_encrypted({"kind": "Secret", "sops": {}})
    assert not is_encrypted({"kind": "Secret", "data": {"sops": ENC}})
    assert not is_encrypted(["sops"])
    assert is_ciphertext(ENC) and not is_ciphertext("ENC[") and not is_ciphertext(3)


def test_an_encrypted_secret_is_neither_plaintext_nor_schema_checked(repo):
    root = repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/secret.yaml": f"""
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
              namespace: default
            stringData:
              password: {ENC}
            sops:
              age:
                - recipient: age1qwwzsz6z2mmu6hpmjt2he7nepmnhutmhehvkva7l5zy5xzf08d5s5n4d6n
              lastmodified: "2024-01-01T00:00:00Z"
              version: 3.8.1
        """,
    })
    rules = {f.rule for f in lint(root).findings}
    assert "FLX501" not in rules and "FLX201" not in rules
    # the root Kustomization applies it without `spec.decryption`: that is the finding
    assert "FLX503" in rules
