"""A fuzz input is a small repository packed in one text-friendly byte string:

    %%% clusters/prod/flux-system/gotk-sync.yaml
    <content>
    %%% apps/kustomization.yaml
    <content>

Byte-level mutations (atheris/libFuzzer, the random engine) edit paths and contents
alike; ``unpack`` turns any bytes into a safe tree: relative paths only, no ``..``, no
symlinks, bounded size and count.  Bytes before the first header belong to
``fuzz.yaml``.
"""

from __future__ import annotations

import os
import re

HEADER = b"%%% "
MAX_FILES = 24
MAX_TOTAL = 256 * 1024
MAX_DEPTH = 6
MAX_COMPONENT = 60

_SPLIT = re.compile(rb"(?:^|\n)%%% ([^\n]*)\n")


def pack(files: dict[str, bytes | str]) -> bytes:
    out = []
    for rel, content in files.items():
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogatepass")
        out.append(HEADER + rel.encode("utf-8", "surrogateescape") + b"\n" + content)
    return b"\n".join(out)


def safe_path(raw: bytes) -> str:
    """A relative, normalised path: valid UTF-8 (tree hostility such as undecodable names
    and symlinks is covered by tests/robustness, not by the fuzzer)."""
    text = raw.replace(b"\0", b"").decode("utf-8", "replace").replace("\ufffd", "_")
    parts = []
    for p in text.replace("\\", "/").split("/"):
        p = p.strip()
        if p in ("", ".", ".."):
            continue
        if p == ".git":
            p = "_git"
        parts.append(p[:MAX_COMPONENT])
    parts = parts[-MAX_DEPTH:]
    return "/".join(parts) or "fuzz.yaml"


def unpack(data: bytes) -> dict[str, bytes]:
    pieces = _SPLIT.split(data)
    files: dict[str, bytes] = {}
    total = 0

    def add(rel: str, content: bytes) -> None:
        nonlocal total
        if len(files) >= MAX_FILES or total >= MAX_TOTAL:
            return
        content = content[: MAX_TOTAL - total]
        # a path that is both a file and a directory: keep the first
        for other in files:
            if other.startswith(rel + "/") or rel.startswith(other + "/"):
                return
        files[rel] = files.get(rel, b"") + content
        total += len(content)

    if pieces[0]:
        add("fuzz.yaml", pieces[0])
    for i in range(1, len(pieces) - 1, 2):
        add(safe_path(pieces[i]), pieces[i + 1])
    return files


def materialize(root: str, files: dict[str, bytes]) -> None:
    for rel, content in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p) or root, exist_ok=True)
        with open(p, "wb") as fh:
            fh.write(content)


def corpus_seeds(corpus: str, max_bytes: int = 48 * 1024) -> list[bytes]:
    """Seeds read at run time from the shared corpus (never copied into the project):
    per directory, its YAML files (with their repository paths) plus the repository's
    bootstrap files, so that roots, kustomizations and Flux objects meet."""
    seeds: list[bytes] = []
    if not os.path.isdir(corpus):
        return seeds
    for repo in sorted(os.listdir(corpus)):
        top = os.path.join(corpus, repo)
        if not os.path.isdir(top):
            continue
        boot: dict[str, bytes] = {}
        by_dir: dict[str, dict[str, bytes]] = {}
        for d, dirs, names in os.walk(top):
            dirs[:] = sorted(x for x in dirs if x != ".git")
            for n in sorted(names):
                if not n.endswith((".yaml", ".yml")) and n not in ("Kustomization", ".sourceignore"):
                    continue
                ap = os.path.join(d, n)
                if os.path.islink(ap) or os.path.getsize(ap) > max_bytes:
                    continue
                rel = os.path.relpath(ap, top).replace(os.sep, "/")
                with open(ap, "rb") as fh:
                    data = fh.read()
                if n in ("gotk-sync.yaml",):
                    boot[rel] = data
                by_dir.setdefault(os.path.dirname(rel), {})[rel] = data
        for d, files in sorted(by_dir.items()):
            seed = dict(boot)
            size = sum(len(v) for v in seed.values())
            for rel, data in files.items():
                if size + len(data) > max_bytes or len(seed) >= MAX_FILES:
                    break
                seed[rel] = data
                size += len(data)
            seeds.append(pack(seed))
    return seeds
