"""The structure of a rule's docstring, parsed.

A rule's docstring is its documentation (``gitlint-flux rules``, ``explain``,
docs/rules.md, SARIF). It is Markdown in this order::

    Summary: the first paragraph (it may wrap over several lines; it is joined into
    one line).

    Why: one or more paragraphs that explain what is checked and why it matters.

    **Fix:** how to fix it (this paragraph, up to the examples, may hold a code block).

    Failing:
    ```yaml
    # file: clusters/prod/app.yaml
    ...
    # file: clusters/prod/flux-system/gotk-sync.yaml
    ...
    ```
    Passing:
    ```yaml
    ...
    ```

Examples are complete and runnable (tests/test_rule_docs.py lints each one): a
``Failing:`` or ``Passing:`` line, alone, followed by a fenced ``yaml`` block. A block
without ``# file: path`` lines is one file, ``example.yaml``; otherwise its first line is
a ``# file: path`` line and each such line starts a new file. A file named
``.gitlint-flux.yaml`` is the example's configuration (``Example.config``), not one of
its ``files``. A rule whose defect cannot be shown in a fixture declares, instead of
examples, one paragraph ``Example: none (reason)``.
"""

from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass, field

CONFIG_FILE = ".gitlint-flux.yaml"
DEFAULT_FILE = "example.yaml"
FIX = "**Fix:**"

#: the root that examples of rules about applied objects share: the bootstrap
#: `gotk-sync.yaml` of `flux bootstrap --path=clusters/prod`, shortened to its two objects.
#: It applies `./clusters/prod`, not `./`: with no kustomization.yaml there, Flux applies
#: every `.yaml` file under the path, dotfiles included (fluxcd/pkg
#: kustomize/kustomize_generator.go, `generateKustomization`), so an example's
#: `.gitlint-flux.yaml` at the top would be applied too (and rightly reported, FLX104)
ROOT_PATH = "clusters/prod/flux-system/gotk-sync.yaml"
ROOT_TEXT = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 1m, url: https://github.com/example/fleet, ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
"""

_MARKER = re.compile(r"^(Failing|Passing):\s*$")
_NONE = re.compile(r"^Example:\s*none\b")
_FILE = re.compile(r"^#\s*file:\s*(\S.*?)\s*$")
_FENCE_OPEN = re.compile(r"^```(\w*)\s*$")


class DocError(ValueError):
    """A docstring that does not follow the structure (the message says where)."""


@dataclass
class Example:
    kind: str  # "failing" | "passing"
    files: dict[str, str]  # path (relative to the repository) -> text
    config: str | None = None  # the text of .gitlint-flux.yaml, when the example has one

    def source(self) -> str:
        """The example's block text again (files in order, configuration last)."""
        return _join(self.files, self.config)


@dataclass
class RuleDoc:
    summary: str  # the first paragraph, one line
    body: str  # the Markdown after the summary and before the examples (why and fix)
    why: str  # the explanation: the body before the fix paragraph
    fix: str  # the fix text, without the `**Fix:**` prefix ("" when absent)
    examples: list[Example] = field(default_factory=list)
    no_example: str | None = None  # the reason of `Example: none (reason)`

    def of_kind(self, kind: str) -> list[Example]:
        return [e for e in self.examples if e.kind == kind]

    def examples_markdown(self, shared_root: str | None = None) -> str:
        """The examples as Markdown: one fenced block per file, each under its path.

        With ``shared_root``, a file that is exactly the shared root (``ROOT_PATH`` with
        ``ROOT_TEXT``) is not repeated: ``shared_root`` is written instead of its text."""
        out: list[str] = []
        if self.no_example is not None:
            return f"Example: none ({self.no_example})."
        for e in self.examples:
            out.append(f"**{e.kind.capitalize()}:**")
            out.append("")
            files = dict(e.files)
            if e.config is not None:
                files[CONFIG_FILE] = e.config
            for path, text in files.items():
                if shared_root is not None and path == ROOT_PATH and text == ROOT_TEXT:
                    out += [f"`{path}`: {shared_root}", ""]
                    continue
                out += [f"`{path}`:", "", "```yaml", text.rstrip("\n"), "```", ""]
        return "\n".join(out).rstrip()

    def description(self) -> str:
        """Everything after the summary as Markdown: the body, then the examples."""
        parts = [self.body]
        if self.no_example is not None or self.examples:
            parts.append(self.examples_markdown())
        return "\n\n".join(p for p in parts if p).strip()


def _join(files: dict[str, str], config: str | None) -> str:
    out = []
    items = list(files.items()) + ([(CONFIG_FILE, config)] if config is not None else [])
    for path, text in items:
        out.append(f"# file: {path}")
        out.append(text.rstrip("\n"))
    return "\n".join(out) + "\n"


def _paragraphs_end(lines: list[str], start: int) -> int:
    i = start
    while i < len(lines) and lines[i].strip():
        i += 1
    return i


def _files(block: list[str], where: str) -> tuple[dict[str, str], str | None]:
    named = [i for i, ln in enumerate(block) if _FILE.match(ln)]
    if not named:
        text = "\n".join(block).strip("\n")
        if not text.strip():
            raise DocError(f"{where}: empty example")
        return {DEFAULT_FILE: text + "\n"}, None
    first = next((i for i, ln in enumerate(block) if ln.strip()), None)
    if first != named[0]:
        raise DocError(f"{where}: a multi-file example must start with a `# file: path` line")
    files: dict[str, str] = {}
    config = None
    for n, i in enumerate(named):
        path = _FILE.match(block[i]).group(1)  # type: ignore[union-attr]
        end = named[n + 1] if n + 1 < len(named) else len(block)
        text = "\n".join(block[i + 1:end]).strip("\n") + "\n"
        if path in files or (path == CONFIG_FILE and config is not None):
            raise DocError(f"{where}: file `{path}` given twice")
        if path.startswith("/") or ".." in path.split("/"):
            raise DocError(f"{where}: file `{path}` must be a relative path inside the repository")
        if path == CONFIG_FILE:
            config = text
        else:
            files[path] = text
    if not files:
        raise DocError(f"{where}: the example has no file besides its configuration")
    return files, config


@functools.lru_cache(maxsize=512)
def parse(doc: str) -> RuleDoc:
    """Parse a rule's docstring (raw ``__doc__`` or already cleaned) into its parts.

    Raises ``DocError`` when an example is malformed (a marker without a fenced block,
    an unclosed fence, a multi-file block that does not start with `# file:`), or when
    the docstring both declares `Example: none` and gives examples."""
    lines = inspect.cleandoc(doc or "").split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    end = _paragraphs_end(lines, i)
    summary = " ".join(ln.strip() for ln in lines[i:end])
    rest = lines[end:]

    body: list[str] = []
    examples: list[Example] = []
    no_example: str | None = None
    j = 0
    in_fence = False
    while j < len(rest):
        ln = rest[j]
        if ln.startswith("```"):
            in_fence = not in_fence
        if not in_fence and _MARKER.match(ln):
            break
        if not in_fence and _NONE.match(ln):
            break
        body.append(ln)
        j += 1
    # the examples section
    while j < len(rest):
        ln = rest[j]
        where = f"line {end + j + 1}"
        if not ln.strip():
            j += 1
            continue
        m = _MARKER.match(ln)
        if m:
            k = j + 1
            while k < len(rest) and not rest[k].strip():
                k += 1
            fm = _FENCE_OPEN.match(rest[k]) if k < len(rest) else None
            if fm is None or fm.group(1) not in ("yaml", "yml"):
                raise DocError(f"{where}: `{m.group(1)}:` must be followed by a fenced ```yaml block")
            close = next((x for x in range(k + 1, len(rest)) if rest[x].strip() == "```"), None)
            if close is None:
                raise DocError(f"{where}: the example's fenced block is not closed")
            files, config = _files(rest[k + 1:close], where)
            examples.append(Example(m.group(1).lower(), files, config))
            j = close + 1
            continue
        if _NONE.match(ln):
            stop = _paragraphs_end(rest, j)
            text = " ".join(x.strip() for x in rest[j:stop])
            mm = re.match(r"^Example:\s*none\s*\((.*)\)\.?$", text)
            if mm is None or not mm.group(1).strip():
                raise DocError(f"{where}: write `Example: none (reason)`")
            if no_example is not None:
                raise DocError(f"{where}: `Example: none` given twice")
            no_example = mm.group(1).strip()
            j = stop
            continue
        raise DocError(f"{where}: only `Failing:`/`Passing:` examples may follow the first example, "
                       f"not {ln.strip()[:40]!r}")
    if no_example is not None and examples:
        raise DocError("a docstring with `Example: none` cannot give examples")

    body_text = "\n".join(body).strip()
    why, fix = body_text, ""
    at = _fix_start(body)
    if at is not None:
        why = "\n".join(body[:at]).strip()
        fix = "\n".join(body[at:]).strip()[len(FIX):].strip()
    return RuleDoc(summary=summary, body=body_text, why=why, fix=fix, examples=examples, no_example=no_example)


def _fix_start(body: list[str]) -> int | None:
    in_fence = False
    for n, ln in enumerate(body):
        if ln.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and ln.startswith(FIX):
            return n
    return None
