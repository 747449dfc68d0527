"""FLX0xx: the files themselves."""

from __future__ import annotations

from ..model import ERROR
from .base import ProblemRule, Rule


class InternalError(Rule):
    """A rule failed on a document; the run went on without it.

    This finding is a bug in gitlint-flux, not in your repository. It names the rule and
    the document, and the exit code is 3.

    **Fix:** run with `--debug` to see the traceback, and report it with the document that
    triggers it.

    Example: none (a bug in a rule is not a property of the files: no fixture shows it).
    """

    code = "FLX000"
    slug = "internal-error"
    severity = ERROR

    def check(self, ctx):
        return ()


class YamlSyntax(ProblemRule):
    """The file is not valid YAML.

    kustomize and Flux refuse the whole file, so nothing in it is applied. The finding
    points at the position where the parser gave up, with its message. Files that fail to
    parse because they are Go or Jinja templates are skipped with a reason instead, unless
    Flux or kustomize applies them.

    **Fix:** correct the YAML at the given position (an unclosed quote or bracket, a tab
    in indentation, a merge-conflict marker, a wrong indentation level).

    Failing:
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: "podinfo
    ```
    Passing:
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: "podinfo"
    ```
    """

    code = "FLX001"
    slug = "yaml-syntax"
    problem_kinds = ("syntax",)


class DuplicateKey(ProblemRule):
    """A mapping defines the same key twice.

    YAML forbids it and go-yaml (hence kustomize and Flux) rejects the document; parsers
    that accept it silently keep one of the values. The finding points at the second key.
    A `<<:` merge key that brings a key in again is not a duplicate: the explicit key
    overrides the merged one.

    **Fix:** remove one of the keys.

    Failing:
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: podinfo
    data:
      interval: 5m
      interval: 10m
    ```
    Passing:
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: podinfo
    data:
      interval: 10m
    ```
    Passing:
    ```yaml
    # a key brought in by a merge key, then set explicitly, is an override
    x-defaults: &defaults {interval: 5m, timeout: 1m}
    spec:
      <<: *defaults
      interval: 10m
    ```
    """

    code = "FLX002"
    slug = "duplicate-key"
    problem_kinds = ("duplicate-key",)


class YamlComplexity(ProblemRule):
    """A document's aliases expand beyond a safe size, or it nests too deeply.

    An "alias bomb" (billion laughs) is a few lines of anchors that expand into billions
    of nodes; documents nested hundreds of levels deep exhaust parsers' stacks. Neither
    occurs in a real manifest. The document is not read further.

    **Fix:** write the values out, or reduce the nesting.

    Failing:
    ```yaml
    # each line is ten times the last: a million nodes in six lines
    a: &a [x, x, x, x, x, x, x, x, x, x]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
    ```
    Passing:
    ```yaml
    defaults: &defaults {interval: 10m}
    spec:
      <<: *defaults
    ```
    """

    code = "FLX003"
    slug = "yaml-complexity"
    problem_kinds = ("alias-bomb", "too-deep")


class FileEncoding(ProblemRule):
    """The file is binary, or its text is not UTF-8 (or UTF-16/32 with a byte-order mark).

    kustomize reads manifests as UTF-8; a binary committed under a `.yaml` name, or a file
    saved in a legacy encoding, breaks the build of every kustomization that includes it.
    The finding points at the first offending byte. For instance a file `secret.yaml` that
    holds a ZIP archive, or Latin-1 text such as `caf\\xe9`, fails; the same text saved as
    UTF-8 passes.

    **Fix:** save the file as UTF-8, or remove the binary from the tree.

    Example: none (the defect is in the bytes of a file, which a text example cannot hold).
    """

    code = "FLX004"
    slug = "file-encoding"
    problem_kinds = ("encoding", "binary")


class FileTooLarge(ProblemRule):
    """The file is larger than the configured limit (`max-file-size`, default 10 MB).

    Such a file is almost always generated output committed by mistake (a 60 MB
    `all-crds.yaml`); it is not read, so the rest of the run stays fast and bounded.

    **Fix:** remove or split the file, or raise `max-file-size` in `.gitlint-flux.yaml`.

    Failing:
    ```yaml
    # file: crds.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: crds-a}
    data: {note: "imagine a few megabytes of CRDs here"}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: crds-b}
    data: {note: "and a few more megabytes here"}
    # file: .gitlint-flux.yaml
    max-file-size: 200   # bytes, to keep the example short
    ```
    Passing:
    ```yaml
    # file: crds-a.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: crds-a}
    data: {note: "imagine a few megabytes of CRDs here"}
    # file: crds-b.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: crds-b}
    data: {note: "and a few more megabytes here"}
    # file: .gitlint-flux.yaml
    max-file-size: 200   # bytes, to keep the example short
    ```
    """

    code = "FLX005"
    slug = "file-too-large"
    problem_kinds = ("too-large",)


class UnreadableFile(ProblemRule):
    """A file or directory could not be read (permission denied, vanished during the run).

    An unreadable file is not linted at all, so the defects it may hold go unseen; when Flux
    applies it, the reconcile fails too (`chmod 000 app.yaml` fails, `chmod 644 app.yaml`
    passes).

    **Fix:** check the file's permissions.

    Example: none (permissions are not part of a file's text).
    """

    code = "FLX006"
    slug = "unreadable-file"
    problem_kinds = ("unreadable",)


class PathOutsideRoot(ProblemRule):
    """A symlink, a kustomize reference or a Flux path leaves the repository.

    `../` inside the repository is normal (Flux builds without kustomize's load
    restrictions), but a path that climbs out of the repository, or an absolute path,
    points at something Flux's source artifact does not contain. gitlint-flux never reads
    it.

    **Fix:** keep every referenced file inside the repository.

    Failing:
    ```yaml
    # file: apps/kustomization.yaml
    resources:
      - ../../../../etc/passwd
    ```
    Passing:
    ```yaml
    # file: apps/kustomization.yaml
    resources:
      - ../base
    # file: base/kustomization.yaml
    resources:
      - configmap.yaml
    # file: base/configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: podinfo}
    ```
    """

    code = "FLX007"
    slug = "path-outside-root"
    problem_kinds = ("outside-root",)
