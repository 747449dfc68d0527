"""kustomize ``images:`` overrides (in a kustomization, or a Flux Kustomization's
``spec.images``) applied to a container image reference."""

from __future__ import annotations


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """``(name, tag, digest)`` of an image reference."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        image, tag = image[:colon], image[colon + 1:]
    return image, tag, digest


def apply_images(image: str, overrides: list[dict]) -> str:
    """kustomize ``images:`` overrides (inner kustomization first)."""
    for ov in overrides:
        name, tag, digest = split_image(image)
        if ov.get("name") != name:
            continue
        if isinstance(ov.get("newName"), str):
            name = ov["newName"]
        if ov.get("newTag") is not None:
            tag = str(ov["newTag"])
        if isinstance(ov.get("digest"), str):
            digest = ov["digest"]
            tag = None if ov.get("newTag") is None else tag
        image = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    return image
