"""Load: a tree of files -> ``SourceFile``s with positioned documents.

Nothing here knows about Flux beyond "is this a Kubernetes object": the graph layer
decides what is applied.  Every listed file ends up either with documents, with a
problem (unreadable, binary, too large, malformed), or with a skip reason.
"""

from __future__ import annotations

import codecs
import os
import stat as stat_mod
import re
import subprocess
import sys
from dataclasses import dataclass, field

from .model import Document, Problem, SourceFile, YMap, YSeq, line_col_after

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
YAML_SUFFIXES = (".yaml", ".yml")
JINJA_SUFFIXES = (".yaml.j2", ".yml.j2", ".j2")
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024

# files that are tools' configuration, never Kubernetes manifests
_TOOL_FILES = {
    ".gitlab-ci.yml": "GitLab CI configuration",
    ".gitlab-ci.yaml": "GitLab CI configuration",
    ".pre-commit-config.yaml": "pre-commit configuration",
    ".pre-commit-hooks.yaml": "pre-commit hook definitions",
    ".yamllint": "yamllint configuration",
    ".yamllint.yaml": "yamllint configuration",
    ".yamllint.yml": "yamllint configuration",
    ".sops.yaml": "SOPS configuration",
    ".travis.yml": "Travis CI configuration",
    ".drone.yml": "Drone CI configuration",
    "appveyor.yml": "AppVeyor configuration",
    "cloudbuild.yaml": "Cloud Build configuration",
    ".goreleaser.yml": "GoReleaser configuration",
    ".goreleaser.yaml": "GoReleaser configuration",
    "Taskfile.yml": "Task configuration",
    "Taskfile.yaml": "Task configuration",
    "mkdocs.yml": "MkDocs configuration",
    "mkdocs.yaml": "MkDocs configuration",
    ".gitlint-flux.yaml": "gitlint-flux configuration",
    "renovate.json5": "Renovate configuration",
    ".fluxschema.yml": "schema tool configuration",
}
_TOOL_DIRS = {
    ".github": "GitHub configuration",
    ".gitlab": "GitLab configuration",
    ".circleci": "CircleCI configuration",
    ".vscode": "editor configuration",
    ".idea": "editor configuration",
}
_JINJA_PAIRS = (("#%", "%#"), ("#{", "}#"))
_JINJA_BLOCK_RE = re.compile(r"\{%-?\s*(?:if|for|set|macro|block|include|raw)\b")



def is_yaml_candidate(name: str) -> bool:
    return name.endswith(YAML_SUFFIXES) or name in KUSTOMIZATION_NAMES or name.endswith(JINJA_SUFFIXES)


_GIT_WARNED: set[str] = set()


def _git_failed(message: str) -> None:
    """git is installed but failed (not merely "not a git repository"): say so once per
    process on stderr, with git's message and, for an ownership refusal, the fix; the run
    goes on without git."""
    msg = message.strip() or "git failed"
    if msg in _GIT_WARNED:
        return
    _GIT_WARNED.add(msg)
    fix = ""
    if "dubious ownership" in msg:
        fix = ("\n  the fix: mark the checkout safe (`git config --global --add safe.directory DIR`; in a CI "
               "container whose checkout another user owns, `safe.directory '*'`), or run as its owner")
    text = "\n  ".join(line.strip() for line in msg.splitlines() if line.strip())
    sys.stderr.write(f"gitlint-flux: git failed, so this run goes on without git (.gitignore is not read, the "
                     f"root is not git's top level):\n  {text}{fix}\n")


def git_toplevel(path: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", path, "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, timeout=10,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None  # no git installed
    if out.returncode != 0:
        if "not a git repository" not in out.stderr:
            _git_failed(out.stderr)
        return None
    top = out.stdout.strip()
    return os.path.realpath(top) if top else None


def _has_config(d: str) -> bool:
    if os.path.isfile(os.path.join(d, ".gitlint-flux.yaml")):
        return True
    pp = os.path.join(d, "pyproject.toml")
    if os.path.isfile(pp):
        try:
            with open(pp, "rb") as fh:
                return b"[tool.gitlint-flux" in fh.read(1 << 20)
        except OSError:
            return False
    return False


_SYNC_PATH = re.compile(r"^\s+path:\s*[\"']?\.?/?([^\"'\s#]*)", re.M)


def bootstrap_root(d: str) -> str | None:
    """The repository root of a Flux bootstrap in ``d`` (``d/flux-system/`` with
    ``gotk-*.yaml`` files): the directory its ``gotk-sync.yaml`` path is relative to (for
    ``path: ./clusters/prod`` in ``REPO/clusters/prod``, ``REPO``), else ``d``; None when
    ``d`` holds no bootstrap."""
    fs = os.path.join(d, "flux-system")
    try:
        names = os.listdir(fs)
    except OSError:
        return None
    if not any(n.startswith("gotk-") and n.endswith((".yaml", ".yml")) for n in names):
        return None
    try:
        with open(os.path.join(fs, "gotk-sync.yaml"), encoding="utf-8", errors="replace") as fh:
            m = _SYNC_PATH.search(fh.read(1 << 16))
    except OSError:
        m = None
    sync = m.group(1).strip("/") if m else ""
    if sync and d.replace(os.sep, "/").endswith("/" + sync):
        return d[: len(d) - len(sync) - 1] or os.sep
    return d


def find_root(paths: list[str], root: str | None) -> tuple[str, bool]:
    """The lint root and whether it lies in a git checkout: ``root`` when given; else,
    from the first linted path, its git top level; outside git, the nearest ancestor
    holding a configuration file or a Flux bootstrap; else the working directory when it
    contains the path; else the path itself (its directory, for a file)."""
    if root:
        root = os.path.realpath(root)
        return root, git_toplevel(root) is not None
    first = os.path.realpath(paths[0] if paths else ".")
    start = first if os.path.isdir(first) else os.path.dirname(first)
    top = git_toplevel(start)
    if top:
        return top, True
    d = start
    while True:
        if _has_config(d):
            return d, False
        found = bootstrap_root(d)
        if found is not None:
            return found, False
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    try:
        cwd = os.path.realpath(os.getcwd())
    except OSError:
        cwd = None
    if cwd and (start == cwd or start.startswith(cwd.rstrip(os.sep) + os.sep)):
        return cwd, False
    return start, False


@dataclass
class Listing:
    files: list[tuple[str, str]] = field(default_factory=list)  # (relpath, abspath)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    sourceignores: list[str] = field(default_factory=list)  # relpaths of .sourceignore files
    names: list[str] = field(default_factory=list)  # every file of the tree (root-relative)


def _rel(root: str, abspath: str) -> str:
    return os.path.relpath(abspath, root).replace(os.sep, "/")


def inside(root: str, abspath: str) -> bool:
    real = os.path.realpath(abspath)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _git_files(root: str) -> list[str] | None:
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            capture_output=True, timeout=60,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        _git_failed(out.stderr.decode("utf-8", "replace"))
        return None
    names = out.stdout.decode("utf-8", "surrogateescape").split("\0")
    return sorted({n for n in names if n})


def _walk_files(root: str, listing: Listing, links: set[str]) -> list[str]:
    out: list[str] = []
    stack = [root]
    prefix = len(root.rstrip(os.sep) + os.sep)  # scandir's paths start with the root: no relpath per file

    def rel_of(path: str) -> str:
        rel = path[prefix:]
        return rel if os.sep == "/" else rel.replace(os.sep, "/")

    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError as exc:
            listing.problems.append(Problem("unreadable", _rel(root, d), 1, 1, f"cannot list directory: {exc.strerror}"))
            continue
        for e in entries:
            if e.name == ".git":
                continue
            try:
                if e.is_symlink():
                    out.append(rel_of(e.path))
                    links.add(out[-1])
                elif e.is_dir():
                    stack.append(e.path)
                else:
                    out.append(rel_of(e.path))
            except OSError:
                out.append(rel_of(e.path))
    return sorted(out)


def list_files(root: str, in_git: bool) -> Listing:
    listing = Listing()
    names = _git_files(root) if in_git else None
    links: set[str] | None = None  # known symlinks (a walk knows them; git's listing does not)
    if names is None:
        links = set()
        names = _walk_files(root, listing, links)
    listing.names = names
    for rel in names:
        shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        if shown != rel:
            # a file name that is not UTF-8: reported by a readable name, read by the real one
            if is_yaml_candidate(rel.rsplit("/", 1)[-1]):
                listing.files.append((shown, os.path.join(root, rel)))
            continue
        base = rel.rsplit("/", 1)[-1]
        if base == ".sourceignore":
            if inside(root, os.path.join(root, rel)):  # a link out of the repository is never read
                listing.sourceignores.append(rel)
            continue
        abspath = os.path.join(root, rel)
        if (rel in links) if links is not None else os.path.islink(abspath):
            if not inside(root, abspath):
                if is_yaml_candidate(base) or os.path.isdir(abspath):
                    listing.problems.append(Problem(
                        "outside-root", rel, 1, 1,
                        f"symlink points outside the repository ({os.readlink(abspath)}); it is not read",
                        hint="Replace the link by the file itself, or move its target into the repository.",
                    ))
                    listing.skipped.append((rel, "symlink pointing outside the repository (not read)"))
                continue
            if os.path.isdir(abspath):
                if is_yaml_candidate(base):
                    listing.skipped.append((rel, "symlink to a directory inside the repository (linted at its target)"))
                continue
        if not is_yaml_candidate(base):
            continue
        if links is None:
            if os.path.isdir(abspath):
                listing.skipped.append((rel, "a directory named like a YAML file"))
                continue
            if not os.path.lexists(abspath):
                continue  # deleted in the working tree but still in the index
        listing.files.append((rel, abspath))
    return listing


def tool_file_reason(rel: str) -> str | None:
    parts = rel.split("/")
    for p in parts[:-1]:
        if p in _TOOL_DIRS:
            return _TOOL_DIRS[p]
    return _TOOL_FILES.get(parts[-1])


def decode(data: bytes) -> tuple[str | None, str | None, int, int]:
    """Decode file bytes: ``(text, error, line, column)``; on error the position (1-based,
    code points) of the first offending character."""
    bom = 0
    if data.startswith(codecs.BOM_UTF8):
        bom, encoding = 3, "utf-8"
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
        if b"\0" in data:
            return (None, "binary", *_line_col(data[:data.index(b"\0")].decode("utf-8", "replace")))
    try:
        text = data[bom:].decode(encoding)
    except UnicodeDecodeError as exc:
        prefix = data[bom:bom + exc.start].decode(encoding, "replace")
        return (None, f"not valid {encoding.upper()}: {exc.reason}", *_line_col(prefix))
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\0" in text:
        return (None, "binary", *_line_col(text[:text.index("\0")]))
    return text, None, 0, 0


def _line_col(prefix: str) -> tuple[int, int]:
    return line_col_after(prefix)


def helm_chart_dir(rel: str, chart_dirs: set[str]) -> str | None:
    parts = rel.split("/")
    for i in range(len(parts) - 1, 0, -1):
        d = "/".join(parts[:i])
        if d in chart_dirs:
            return d
    return None


@dataclass
class ParseCache:
    """Parsed files from an earlier run, by path and content hash; counts what it saves."""

    previous: dict = field(default_factory=dict)  # rel -> (digest, documents, is_template, shared)
    fresh: dict = field(default_factory=dict)
    parsed: int = 0
    reused: int = 0


def read_bytes(sf: SourceFile, max_size: int) -> bytes | None:
    """The file's bytes, or None with a problem (unreadable, too large)."""
    rel = sf.path
    try:
        st = os.stat(sf.abspath)
    except OSError as exc:
        sf.problems.append(Problem("unreadable", rel, 1, 1, f"cannot read file: {exc.strerror}"))
        return None
    sf.size = st.st_size
    if not stat_mod.S_ISREG(st.st_mode):
        sf.problems.append(Problem("unreadable", rel, 1, 1, "not a regular file (a FIFO, socket or device); it is not read"))
        return None
    if st.st_size > max_size:
        sf.problems.append(Problem(
            "too-large", rel, 1, 1,
            f"file is {st.st_size:,} bytes, over the {max_size:,}-byte limit; it is not read",
            hint="Split the file, or raise `max-file-size` in the configuration.",
        ))
        return None
    # os.read of the size the stat gave: a buffered read with a size hint would allocate
    # the whole limit first (measured: 2.6x the memory and 2.5x the time on 21,000 files)
    try:
        fd = os.open(sf.abspath, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        sf.problems.append(Problem("unreadable", rel, 1, 1, f"cannot read file: {exc.strerror}"))
        return None
    parts: list[bytes] = []
    total = 0
    try:
        want = st.st_size + 1  # one byte more: the end of the file, or that it grew
        while total <= max_size:
            b = os.read(fd, min(want, max_size + 1 - total))
            if not b:
                break
            parts.append(b)
            total += len(b)
            want = 1 << 16
    except OSError as exc:
        sf.problems.append(Problem("unreadable", rel, 1, 1, f"cannot read file: {exc.strerror}"))
        return None
    finally:
        os.close(fd)
    if total > max_size:  # it grew past the limit since the stat
        sf.problems.append(Problem(
            "too-large", rel, 1, 1, f"file is over the {max_size:,}-byte limit; it is not read",
            hint="Split the file, or raise `max-file-size` in the configuration."))
        return None
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_file(sf: SourceFile, max_size: int, cache: ParseCache | None = None, data: bytes | None = None) -> bool:
    """Fill ``sf`` with text and documents, or problems; True when a document uses an
    alias (see ``parse_text``)."""
    if data is None:
        data = read_bytes(sf, max_size)
        if data is None:
            return False
    return decode_and_parse(sf, data, cache)


def decode_and_parse(sf: SourceFile, data: bytes, cache: ParseCache | None) -> bool:
    rel = sf.path
    text, err, line, col = decode(data)
    if text is None:
        if err == "binary":
            sf.problems.append(Problem("binary", rel, line, col, "binary file (NUL byte) named like YAML; it is not read",
                                       hint="Remove it from the tree, or give it a name that is not *.yaml/*.yml."))
        else:
            sf.problems.append(Problem("encoding", rel, line, col, f"file is {err}",
                                       hint="Save the file as UTF-8."))
        return False
    sf.text = text
    if cache is None:
        return parse_text(sf, text)
    from .cache import digest

    sf.digest = digest(data)
    hit = cache.previous.get(sf.path)
    if hit is not None and hit[0] == sf.digest:
        sf.documents, sf.is_template, shared = list(hit[1]), hit[2], hit[3]
        cache.reused += 1
    else:
        shared = parse_text(sf, text)
        cache.parsed += 1
    if not sf.problems:  # files with problems are cheap to parse again, and may nest deeply
        cache.fresh[sf.path] = (sf.digest, sf.documents, sf.is_template, shared)
    return shared


def parse_text(sf: SourceFile, text: str) -> bool:
    """Parse into ``sf``; True when a document uses an alias, so two places share one
    value (the file cache keeps such files with their sharing, see runcache.py)."""
    from .yamlcompose import compose_all  # not needed on a cached run

    rel = sf.path
    sharing = [False]
    docs, errors = compose_all(text, sharing)
    for e in errors:
        sf.problems.append(Problem(e.kind, rel, e.line, e.column, e.message))
    if any(e.kind == "syntax" for e in errors) and _has_pair(text, "{{", "}}"):
        sf.is_template = True
    index = 0
    for value, line, col in docs:
        if value is None:
            index += 1
            continue
        doc = Document(rel, index, value, line, col)
        index += 1
        if isinstance(value, YMap) and _is_list_kind(value):
            items = value.get("items")
            if isinstance(items, YSeq):
                for i, item in enumerate(items):
                    l, c, _, _ = items.pos[i]
                    sf.documents.append(Document(rel, doc.index, item, l, c, item=i))
                continue
        sf.documents.append(doc)
    if rel.rsplit("/", 1)[-1] not in KUSTOMIZATION_NAMES:
        _incomplete_objects(sf)
    return sharing[0]


def incomplete_object(value, in_manifests: bool) -> str | None:
    """``"apiVersion"`` or ``"kind"``: the key a mapping lacks (absent, null or empty) to
    be a Kubernetes object, when it reads as one otherwise -- it names the other key and
    has ``metadata``, or sits in a file that holds objects (``in_manifests``). None for
    complete objects, for anything else, and for kustomization documents, whose
    ``apiVersion`` and ``kind`` kustomize fills in."""
    if not isinstance(value, dict):
        return None
    av, kind = value.get("apiVersion"), value.get("kind")
    has_av = isinstance(av, str) and bool(av.strip())
    has_kind = isinstance(kind, str) and bool(kind.strip())
    if has_av == has_kind:
        return None  # complete, or neither: not a manifest
    if not (in_manifests or isinstance(value.get("metadata"), dict)):
        return None
    if has_kind:
        if kind in ("Kustomization", "Component") and "spec" not in value:
            return None  # a kustomization (a Flux Kustomization always has `spec`)
        return "apiVersion"
    if av.startswith("kustomize.config.k8s.io/"):
        return None
    return "kind"


def _incomplete_objects(sf: SourceFile) -> None:
    """A problem for each document that names a kind but no apiVersion (or an apiVersion
    and no kind): kubeconform's "missing 'apiVersion' key" / "missing 'kind' key". The
    file is then linted, not skipped as holding no Kubernetes objects."""
    suspects = []
    for d in sf.documents:
        v = d.value
        if isinstance(v, dict) and ("kind" in v or "apiVersion" in v) and not d.is_object:
            suspects.append(d)
    if not suspects:
        return
    in_manifests = any(d.is_object for d in sf.documents)
    for d in suspects:
        missing = incomplete_object(d.value, in_manifests)
        if missing is None:
            continue
        if missing == "apiVersion":
            what = f"`kind: {d.kind}` but no `apiVersion`"
            hint = "Add the object's `apiVersion` (`v1`, `apps/v1`, `<group>/<version>`)."
        else:
            what = f"`apiVersion: {d.api_version}` but no `kind`" if d.api_version else "no `kind`"
            hint = "Add the object's `kind`."
        key = "kind" if missing == "apiVersion" else ("kind" if "kind" in d.value else "apiVersion")
        loc = d.loc(key, key=True) if key in d.value else None
        line, col = (loc.line, loc.column) if loc is not None else (d.line, d.column)
        sf.problems.append(Problem(
            "incomplete-object", sf.path, line, col,
            f"document has {what}: the API server and kustomize refuse an object without `{missing}`",
            hint=hint))


def _is_list_kind(value: dict) -> bool:
    kind = value.get("kind")
    return (
        isinstance(kind, str)
        and kind.endswith("List")
        and isinstance(value.get("items"), list)
        and value.get("apiVersion") in ("v1", None)
    )


def classify_before_parse(rel: str, text_sample: str | None, chart_dirs: set[str]) -> str | None:
    """A skip reason decided from the path alone."""
    base = rel.rsplit("/", 1)[-1]
    if base.endswith(".j2"):
        return "Jinja template (*.j2)"
    chart = helm_chart_dir(rel, chart_dirs)
    if chart is not None:
        sub = rel[len(chart) + 1:]
        if sub.startswith("templates/"):
            return f"Helm chart template (chart {chart})"
        return f"part of the Helm chart {chart}"
    reason = tool_file_reason(rel)
    if reason:
        return reason
    return None


def _has_pair(text: str, opener: str, closer: str) -> bool:
    """An opener followed by a closer on the same line (linear time, unlike a lazy regex)."""
    start = 0
    while True:
        i = text.find(opener, start)
        if i < 0:
            return False
        end = text.find("\n", i)
        end = len(text) if end < 0 else end
        if text.find(closer, i + len(opener), end) >= 0:
            return True
        start = end + 1


def jinja_reason(text: str, parse_failed: bool) -> str | None:
    """makejinja's ``#% %#`` delimiters hide in YAML comments, so they mark a template
    even when the file parses; ``{% %}`` blocks only when the file does not parse."""
    if any(_has_pair(text, a, b) for a, b in _JINJA_PAIRS):
        return "Jinja template (#% %# delimiters)"
    if parse_failed and _JINJA_BLOCK_RE.search(text):
        return "Jinja template ({% %} blocks)"
    return None


def load_tree(root: str, in_git: bool, max_size: int, exclude=None,
              cache: ParseCache | None = None, listing: Listing | None = None,
              contents: dict[str, bytes] | None = None) -> tuple[dict[str, SourceFile], Listing]:
    """List and read every YAML file under ``root`` (``contents``: bytes already read)."""
    if listing is None:
        listing = list_files(root, in_git)
    chart_dirs = set()
    for rel, _ in listing.files:
        if rel == "Chart.yaml" or rel.endswith("/Chart.yaml"):
            chart_dirs.add(rel.rsplit("/", 1)[0] if "/" in rel else "")
    chart_dirs.discard("")
    files: dict[str, SourceFile] = {}
    todo: list[SourceFile] = []
    for rel, abspath in listing.files:
        sf = SourceFile(rel, abspath)
        files[rel] = sf
        if exclude is not None and exclude(rel):
            sf.skip_reason = "excluded by configuration"
            continue
        reason = classify_before_parse(rel, None, chart_dirs)
        if reason:
            sf.skip_reason = reason
            continue
        sf.is_kustomization = rel.rsplit("/", 1)[-1] in KUSTOMIZATION_NAMES
        todo.append(sf)
    contents = contents or {}
    jobs = _start_parallel(todo, max_size, cache, contents)
    try:
        for sf in todo:
            if sf.text is None and not sf.problems and (jobs is None or sf.path not in jobs.assigned):
                read_file(sf, max_size, cache, contents.get(sf.path))
    except BaseException:
        if jobs is not None:
            _abandon_parallel(jobs)
        raise
    if jobs is not None:
        _finish_parallel(jobs, max_size, cache, contents)
    for sf in todo:
        if sf.text is not None:
            reason = jinja_reason(sf.text, any(p.kind == "syntax" for p in sf.problems))
            if reason:
                sf.problems.clear()
                sf.documents.clear()
                sf.skip_reason = reason
    return files, listing


# The parse is spread over the machine's cores by fork: each child parses a share of the
# files and sends its documents back pickled, while this process parses its own share. A
# child also pays for pickling and this process for unpickling (measured: about 0.34 and
# 0.23 of the parse), so a child's share is 1/(1.34 + children) of the bytes. Below
# PARALLEL_MIN_BYTES of YAML to parse, a fork costs more than it saves.
PARALLEL_MIN_BYTES = 256 * 1024
PARALLEL_MIN_CPUS = 2
PARALLEL_MAX_CHILDREN = 7


def _cpus() -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup v2 CPU quota
    (a CI job in a container sees the host's cores but may run on two)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as fh:
            quota, period = fh.read().split()[:2]
        if quota != "max" and int(period) > 0:
            n = min(n, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return n


@dataclass
class _Jobs:
    assigned: set  # rels a child parses
    children: list  # (pid, read fd, [SourceFile])


def _parse_chunk(items: list[tuple[str, str, bytes | None, int]]) -> list[tuple]:
    out = []
    for rel, abspath, data, max_size in items:
        sf = SourceFile(rel, abspath)
        shared = read_file(sf, max_size, None, data)
        out.append((rel, sf.text is not None, sf.documents, sf.problems, sf.is_template, sf.size, shared))
    return out


def _start_parallel(todo: list[SourceFile], max_size: int, cache: ParseCache | None,
                    contents: dict[str, bytes]) -> _Jobs | None:
    """Fork children that parse shares of the files the cache does not hold; None when
    it would not pay (few bytes, one core, no fork, another thread running)."""
    import pickle
    import threading

    from .cache import digest

    cpus = _cpus()
    if cpus < PARALLEL_MIN_CPUS or not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    pending = []
    total = 0
    for sf in todo:
        data = contents.get(sf.path)
        if data is None:
            continue  # read by the parse itself (a race with the listing): this process does it
        if cache is not None:
            hit = cache.previous.get(sf.path)
            if hit is not None and hit[0] == digest(data):
                continue  # read_file takes it from the cache
        pending.append(sf)
        total += len(data)
    if total < PARALLEL_MIN_BYTES:
        return None
    n = max(1, min(cpus - 1, PARALLEL_MAX_CHILDREN))
    share = total / (1.34 + n)
    jobs = _Jobs(set(), [])
    # interleave the files by size so that every share has big and small ones
    pending.sort(key=lambda sf: -len(contents[sf.path]))
    shares: list[list[SourceFile]] = [[] for _ in range(n)]
    sizes = [0] * n
    for sf in pending:
        i = min(range(n), key=sizes.__getitem__)
        if sizes[i] >= share:
            continue  # this process parses the rest
        shares[i].append(sf)
        sizes[i] += len(contents[sf.path])
    try:
        for stream in (sys.stdout, sys.stderr):  # None when started with it closed
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        pass
    for mine in shares:
        if not mine:
            continue
        try:
            r, w = os.pipe()
        except OSError:
            break
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            break
        if pid == 0:  # the child: parse, send, and leave without running any cleanup
            code = 1
            try:
                os.close(r)
                blob = pickle.dumps(_parse_chunk([(sf.path, sf.abspath, contents[sf.path], max_size) for sf in mine]),
                                    protocol=pickle.HIGHEST_PROTOCOL)
                view = memoryview(blob)
                while view:
                    view = view[os.write(w, view):]
                code = 0
            except BaseException:
                pass
            finally:
                os._exit(code)
        os.close(w)
        jobs.children.append((pid, r, mine))
        jobs.assigned.update(sf.path for sf in mine)
    return jobs if jobs.children else None


def _abandon_parallel(jobs: _Jobs) -> None:
    """This process failed (or was interrupted) before taking the children's work: stop
    them, close their pipes and reap them, so none is left blocked on a full pipe."""
    import signal

    for pid, r, _mine in jobs.children:
        try:
            os.close(r)
        except OSError:
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def _finish_parallel(jobs: _Jobs, max_size: int, cache: ParseCache | None, contents: dict[str, bytes]) -> None:
    """Take the children's documents, exactly as if this process had parsed those files;
    a child that failed has its share parsed here."""
    import pickle

    from .cache import digest

    for pid, r, mine in jobs.children:
        results = None
        try:
            with os.fdopen(r, "rb") as fh:  # unpickled as it streams in: no copy of the whole
                results = pickle.load(fh)
                if fh.read(1):
                    results = None  # more than one pickle: not what a child sends
        except Exception:  # a child that died midway: its share is parsed here
            results = None
        try:
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                results = None
        except ChildProcessError:
            results = None
        if results is None or len(results) != len(mine):
            for sf in mine:
                read_file(sf, max_size, cache, contents.get(sf.path))
            continue
        for sf, (rel, has_text, documents, problems, is_template, size, shared) in zip(mine, results):
            data = contents.get(rel)
            if has_text and data is not None:
                sf.text, _err, _l, _c = decode(data)
            sf.documents, sf.problems, sf.is_template, sf.size = documents, problems, is_template, size
            if sf.text is None:
                continue
            if cache is not None:
                sf.digest = digest(data) if data is not None else ""
                cache.parsed += 1
                if not sf.problems:
                    cache.fresh[rel] = (sf.digest, sf.documents, sf.is_template, shared)
