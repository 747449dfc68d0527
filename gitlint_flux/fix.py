"""Automatic fixes (`gitlint-flux lint --fix`, `--diff`, `--unsafe-fixes`).

Loaded only when a fix is asked for. The run:

1. lint the tree as a plain run does (the findings pipeline decides which findings are
   left: inline suppressions, `ignore:`, the path selection and the baseline apply);
2. each finding of a rule that declares a fix (``Rule.fix``) gets a ``Proposal`` from
   ``gitlint_flux.fixers``: text edits (spans of the file's decoded text, from the loader's
   positions) and what the fix means to change in the objects as built;
3. the proposals are checked together, and one by one when the batch fails: edits are
   applied to the text, the file is encoded again and compared byte for byte outside the
   edited spans (its BOM, encoding and line endings are kept), the edited files are parsed
   again, the graph is built again and the schema stage runs again. A proposal passes
   when every object as built (kustomize builds and what each Flux Kustomization applies)
   is the same as before, apart from the change the fix declares, when the objects it
   changes validate against the schemas the cluster serves, and when its finding is gone;
4. passing proposals are kept and the tree is linted again (a fix can make another one
   possible), a few rounds at most; a proposal that fails stays a finding with the reason.

Files are written only when their content changes, atomically (a temporary file in the
same directory, renamed over the file), keeping their mode; never a file outside the
root, never through a symbolic link, never a SOPS-encrypted file.
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from . import findings as findings_mod
from . import fixers
from .engine import check
from .fixers import DocId, Edit, Proposal, Text, doc_id, finding_key
from .graph import Graph
from .load import decode, parse_text
from .model import Document, Finding, SourceFile
from .options import Options
from .rules import all_rules
from .rules.context import Context
from .schema.analysis import analysis
from .sops import is_encrypted
from .workspace import Loaded, apply_options, finalize_files, load, located_roots, prepare, read_contents

#: schema findings that make an object invalid: a fix that leaves one on what it changed fails
BLOCKING = frozenset(("FLX201", "FLX202", "FLX203", "FLX204", "FLX205", "FLX206", "FLX207", "FLX210"))
MAX_ROUNDS = 4

def encoding_of(data: bytes) -> tuple[bytes, str] | None:
    """(BOM, codec) that encodes the file's text back to ``data``; None when it cannot."""
    if data.startswith(codecs.BOM_UTF8):
        return codecs.BOM_UTF8, "utf-8"
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return None
    if data.startswith(codecs.BOM_UTF16_LE):
        return codecs.BOM_UTF16_LE, "utf-16-le"
    if data.startswith(codecs.BOM_UTF16_BE):
        return codecs.BOM_UTF16_BE, "utf-16-be"
    return b"", "utf-8"


class ByteError(Exception):
    pass


def apply_edits(data: bytes, text: str, edits: list[Edit]) -> tuple[str, bytes]:
    """The new text and bytes: the original bytes outside the edited spans, byte for byte,
    the replacements encoded as the file is (its line ending for ``\\n``)."""
    enc = encoding_of(data)
    if enc is None:
        raise ByteError("the file's encoding (UTF-32) is not written back")
    bom, codec = enc
    if bom + text.encode(codec) != data:
        raise ByteError("the file does not encode back to its own bytes (mixed encodings or a second BOM)")
    t = Text(text)
    edits = sorted(set(edits), key=lambda e: (e.start, e.end))
    for a, b in zip(edits, edits[1:]):
        if b.start < a.end:
            raise ByteError("two edits overlap")
    out_text: list[str] = []
    out_bytes: list[bytes] = [bom]
    pos = 0
    bpos = len(bom)
    for e in edits:
        keep = text[pos:e.start]
        kb = keep.encode(codec)
        if data[bpos:bpos + len(kb)] != kb:
            raise ByteError("bytes outside the edit changed")  # pragma: no cover - by construction
        new = e.new.replace("\n", t.newline_at(e.start)) if "\n" in e.new else e.new
        out_text += [keep, new]
        out_bytes += [data[bpos:bpos + len(kb)], new.encode(codec)]
        bpos += len(kb) + len(text[e.start:e.end].encode(codec))
        pos = e.end
    out_text.append(text[pos:])
    out_bytes.append(data[bpos:])
    new_text, new_bytes = "".join(out_text), b"".join(out_bytes)
    # what the loader reads back is exactly the text the edits produce
    back, err, _l, _c = decode(new_bytes)
    if err is not None or back != new_text:
        raise ByteError("the edited file does not decode to the edited text")
    return new_text, new_bytes


# --------------------------------------------------------------------------- the tree, rebuilt


@dataclass
class Snap:
    """A file as the loader left it (before a run marks it linted or skipped)."""

    path: str
    abspath: str
    size: int
    text: str | None
    documents: list
    problems: list
    skip_reason: str | None
    is_kustomization: bool
    is_template: bool
    digest: str

    @classmethod
    def of(cls, sf: SourceFile) -> "Snap":
        return cls(sf.path, sf.abspath, sf.size, sf.text, list(sf.documents), list(sf.problems), sf.skip_reason,
                   sf.is_kustomization, sf.is_template, sf.digest)

    def file(self) -> SourceFile:
        return SourceFile(self.path, self.abspath, self.size, self.text, list(self.documents), list(self.problems),
                          self.skip_reason, self.is_kustomization, self.is_template, self.digest)

    def reparsed(self, text: str) -> "Snap":
        sf = SourceFile(self.path, self.abspath, self.size, is_kustomization=self.is_kustomization)
        sf.text = text
        parse_text(sf, text)
        return Snap.of(sf)


class Tree:
    """One state of the tree: its files (as snapshots), the graph built over them, and on
    demand the schema analysis and the lint report."""

    def __init__(self, base: "Base", snaps: dict[str, Snap], texts: dict[str, str], data: dict[str, bytes]):
        self.base = base
        self.snaps = snaps
        self.texts = texts  # path -> decoded text (edited files: the new text)
        self.data = data  # path -> bytes (edited files: the new bytes)
        self.files = {p: s.file() for p, s in snaps.items()}
        self.graph = Graph(base.root, self.files, located_roots(base.root, base.config), base.config.sources,
                           sourceignores=base.listing.sourceignores).build()
        self._analysis = None
        self._report = None
        self._linted = None

    def linted(self) -> list[str]:
        if self._linted is None:
            self._linted, _ = finalize_files(self.files, self.graph)
        return self._linted

    def analysis(self):
        if self._analysis is None:
            from .engine import collect_problems

            linted = self.linted()
            loaded = Loaded(self.base.root, self.base.config, self.files, self.base.listing, self.graph)
            ctx = Context(self.base.root, self.files, self.graph, self.base.config, collect_problems(loaded, linted),
                          linted)
            self._analysis = analysis(ctx)
        return self._analysis

    def report(self):
        """The lint report of this state, as a plain run makes it."""
        if self._report is None:
            loaded = Loaded(self.base.root, self.base.config, self.files, self.base.listing, self.graph)
            self._report, _internal = check(loaded, self.base.opts, self.base.paths)
        return self._report

    def built(self) -> dict[tuple, tuple[DocId, Any, tuple | None]]:
        """Every object as built: kustomize's builds and what each Flux Kustomization
        applies (before post-build substitution), by a key that a fix keeps."""
        out: dict[tuple, tuple[DocId, Any, tuple | None]] = {}

        def put(key: tuple, doc: Document, value: Any, by: Document | None = None) -> None:
            n = 0
            while key + (n,) in out:
                n += 1
            out[key + (n,)] = (doc_id(doc), plain(value), ("by",) + doc_id(by) if by is not None else None)

        for name, scope in sorted(self.graph.scopes.items()):
            for a in scope.applied:
                put(("applied", name, doc_id(a.doc), a.doc.kind, a.namespace, a.name), a.doc, a.built_value, a.by)
        for kb in self.graph.resolver.builds():
            for b in kb.docs:
                put(("build", kb.dir, doc_id(b.doc), b.doc.kind, b.namespace, b.name), b.doc, b.current)
        return out


def plain(value: Any, depth: int = 0) -> Any:
    """A built value as plain data (positions dropped), for comparison."""
    if depth > 200:
        return value
    if isinstance(value, dict):
        return {k: plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, depth + 1) for v in value]
    return value


@dataclass
class Base:
    root: str
    config: Any
    listing: Any
    opts: Options
    paths: list[str]
    #: path -> the other paths of the tree that are the same file (through a symbolic link)
    aliases: dict[str, list[str]] = field(default_factory=dict)

    def find_aliases(self, files: dict[str, SourceFile]) -> None:
        by_real: dict[str, list[str]] = {}
        for p, sf in files.items():
            with contextlib.suppress(OSError):
                by_real.setdefault(os.path.realpath(sf.abspath), []).append(p)
        self.aliases = {p: [q for q in ps if q != p] for ps in by_real.values() if len(ps) > 1 for p in ps}


# --------------------------------------------------------------------------- the request and its result


@dataclass
class FixRequest:
    paths: list[str]
    root: str | None = None
    config: str | None = None
    baseline: set[str] | None = None
    inline_suppressions: bool = True
    schema_locations: list[str] = field(default_factory=list)
    kubernetes_version: str | None = None
    strict_schemas: bool = False
    unsafe: bool = False
    write: bool = True

    @classmethod
    def of(cls, opts: Options) -> "FixRequest":
        """The request a run's ``Options`` make (``fix``, ``fix_diff``, ``unsafe_fixes``)."""
        return cls(paths=list(opts.paths or ["."]), root=opts.root, config=opts.config, baseline=opts.baseline,
                   inline_suppressions=opts.inline_suppressions, schema_locations=list(opts.schema_locations),
                   kubernetes_version=opts.kubernetes_version, strict_schemas=opts.strict_schemas,
                   unsafe=opts.unsafe_fixes, write=opts.fix and not opts.fix_diff)


@dataclass
class FixResult:
    root: str
    original: dict[str, bytes] = field(default_factory=dict)  # path -> bytes read
    changed: dict[str, bytes] = field(default_factory=dict)  # path -> bytes written (or that --diff shows)
    applied: list[Proposal] = field(default_factory=list)
    refused: list[Proposal] = field(default_factory=list)
    unsafe_available: int = 0
    write_errors: list[str] = field(default_factory=list)
    written: bool = False
    fixed: int = 0  # findings of the first run that the fixes made go away

    def diff(self) -> str:
        """The unified diff of every changed file (a/ and b/ paths, as git shows them)."""
        out: list[str] = []
        for path in sorted(self.changed):
            old, new = _shown(self.original[path]), _shown(self.changed[path])
            out.extend(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}"))
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)

    def summary(self) -> str:
        lines = []
        n = self.fixed
        verb = "fixed" if self.written else "would fix"
        if n:
            lines.append(f"gitlint-flux: {verb} {n} finding{'s' if n != 1 else ''} in {len(self.changed)} "
                         f"file{'s' if len(self.changed) != 1 else ''}")
        for p in self.refused:
            f = p.finding
            lines.append(f"gitlint-flux: {f.path}:{f.line}:{f.column}: {f.rule} not fixed: {p.reason}")
        if self.unsafe_available:
            lines.append(f"gitlint-flux: {self.unsafe_available} unsafe fix{'es' if self.unsafe_available != 1 else ''} "
                         "available with --unsafe-fixes")
        lines.extend(f"gitlint-flux: {e}" for e in self.write_errors)
        return "".join(line + "\n" for line in lines)


def _shown(data: bytes) -> list[str]:
    text, _err, _l, _c = decode(data)
    if text is None:  # pragma: no cover - only decodable files are edited
        text = data.decode("utf-8", "replace")
    return text.splitlines(keepends=True)


@contextlib.contextmanager
def annotate_refusals(result: FixResult) -> Iterator[None]:
    """While it is active, the findings pipeline adds to each refused finding why it was not
    fixed (a step after the others: it changes no severity and no fingerprint)."""
    reasons = {finding_key(p.finding): p.reason for p in result.refused}

    def refusals(run: findings_mod.Findings) -> list[Finding]:
        for f in run.findings:
            why = reasons.get(finding_key(f))
            if why:
                f.hint = (f.hint + " " if f.hint else "") + f"Not fixed automatically: {why}."
        return run.findings

    steps = findings_mod.STEPS
    findings_mod.STEPS = steps + (refusals,)
    try:
        yield
    finally:
        findings_mod.STEPS = steps


# --------------------------------------------------------------------------- the run


def run_fixes(req: FixRequest) -> FixResult:
    opts = Options(paths=req.paths, root=req.root, config=req.config, inline_suppressions=req.inline_suppressions,
                   baseline=req.baseline, schema_locations=req.schema_locations,
                   kubernetes_version=req.kubernetes_version, strict_schemas=req.strict_schemas)
    prep = prepare(req.paths, req.root, req.config)
    apply_options(prep.config, opts)
    read_contents(prep)
    data = dict(prep.contents)
    loaded = load(req.paths, req.root, req.config, prepared=prep)
    base = Base(loaded.root, loaded.config, loaded.listing, opts, req.paths)
    base.find_aliases(loaded.files)
    snaps = {p: Snap.of(sf) for p, sf in loaded.files.items()}
    texts = {p: sf.text for p, sf in loaded.files.items() if sf.text is not None}
    tree = Tree(base, snaps, texts, data)
    result = FixResult(base.root)
    result.original = data
    registry = all_rules()
    refused: dict[tuple, Proposal] = {}
    fixable = {finding_key(f) for f in tree.report().findings
               if getattr(registry.get(f.rule), "fix", None) is not None}
    for _round in range(MAX_ROUNDS):
        fctx = fixers.FixContext(tree)
        proposals: list[Proposal] = []
        unsafe = 0
        for f in tree.report().findings:
            cls = registry.get(f.rule)
            if cls is None or cls.fix is None or finding_key(f) in refused:
                continue
            p = fixers.propose(f, fctx, cls.fix.safe)
            if p is None:
                continue
            if not cls.fix.safe and not req.unsafe:
                unsafe += bool(p.edits) and not p.reason
                continue
            if not p.reason:
                guard(p, tree)
            if p.reason:
                refused[finding_key(f)] = p
                continue
            if p.edits:
                proposals.append(p)
        result.unsafe_available = unsafe
        chosen, deferred = choose(proposals)
        if not chosen:
            break
        new_tree, failed = verify(tree, chosen)
        for p, why in failed:
            p.refused(why)
            refused[finding_key(p.finding)] = p
        accepted = [p for p in chosen if not p.reason]
        if accepted and new_tree is not None:
            result.applied.extend(accepted)
            tree = new_tree
        elif not deferred:
            break
    still = {finding_key(f) for f in tree.report().findings}
    result.refused = [p for k, p in refused.items() if k in still]
    result.fixed = len(fixable - still)
    real_root = os.path.realpath(base.root)
    result.changed = {p: b for p, b in tree.data.items() if p in data and b != data[p]
                      and unsafe_path(real_root, p) is None}  # a file's other names are not written
    if req.write:
        write_all(result, base.root)
        result.written = bool(result.changed) and not result.write_errors
    return result


def guard(p: Proposal, tree: Tree) -> None:
    """Refuse edits the fixer never makes: outside the root, through a symbolic link, a
    SOPS-encrypted file, a file that is not text the loader decoded."""
    root = os.path.realpath(tree.base.root)
    for path in sorted(p.paths):
        sf = tree.files.get(path)
        if sf is None or path not in tree.texts or path not in tree.data:
            p.refused(f"`{path}` is not a file the linter read")
            return
        if any(is_encrypted(d.value) for d in sf.documents):
            p.refused(f"`{path}` is SOPS-encrypted: editing it would break its MAC (decrypt with `sops`, fix, "
                      "encrypt again)")
            return
        why = unsafe_path(root, path)
        if why:
            p.refused(why)
            return


def unsafe_path(root: str, rel: str) -> str | None:
    """Why the file at ``rel`` is not written (None: it may be)."""
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return f"`{rel}` is not a plain path inside the root"
    cur = root
    for part in parts:
        cur = os.path.join(cur, part)
        if os.path.islink(cur):
            return f"`{rel}` is reached through a symbolic link ({os.path.relpath(cur, root)}): not edited"
    real = os.path.realpath(cur)
    if not real.startswith(root.rstrip(os.sep) + os.sep):
        return f"`{rel}` is outside the root"
    return None


def choose(proposals: list[Proposal]) -> tuple[list[Proposal], list[Proposal]]:
    """Proposals whose edits agree (identical edits are shared; overlapping ones wait for the
    next round, as does a second structural rewrite of one file)."""
    taken: dict[str, list[Edit]] = {}
    exclusive: set[str] = set()
    chosen, deferred = [], []
    for p in sorted(proposals, key=lambda p: (p.exclusive, p.finding.path, p.finding.line, p.finding.column)):
        ok = True
        for e in p.edits:
            if e.path in exclusive or (p.exclusive and e.path in taken):
                ok = False
                break
            for o in taken.get(e.path, ()):
                if o != e and o.start < e.end + (e.start == e.end) and e.start < o.end + (o.start == o.end):
                    ok = False
                    break
        if not ok:
            deferred.append(p)
            continue
        for e in p.edits:
            taken.setdefault(e.path, []).append(e)
        if p.exclusive:
            exclusive |= p.paths
        chosen.append(p)
    return chosen, deferred


def verify(tree: Tree, chosen: list[Proposal]) -> tuple[Tree | None, list[tuple[Proposal, str]]]:
    """Check the proposals together; when that fails, one by one, then the passing ones
    together (adding them one at a time if they disagree). Returns the tree with the
    accepted fixes applied and the failed proposals with their reasons."""
    new, why = attempt(tree, chosen)
    if new is not None:
        return new, []
    if len(chosen) == 1:
        return None, [(chosen[0], why)]
    failed: list[tuple[Proposal, str]] = []
    passing: list[Proposal] = []
    for p in chosen:
        t, w = attempt(tree, [p])
        if t is None:
            failed.append((p, w))
        else:
            passing.append(p)
    if not passing:
        return None, failed
    new, why = attempt(tree, passing)
    if new is not None:
        return new, failed
    kept: list[Proposal] = []
    current = None
    for p in passing:
        t, w = attempt(tree, kept + [p])
        if t is None:
            failed.append((p, f"it does not combine with the other fixes: {w}"))
        else:
            kept.append(p)
            current = t
    return current, failed


def attempt(tree: Tree, props: list[Proposal]) -> tuple[Tree | None, str]:
    """The tree with ``props`` applied, or None and why a check failed."""
    by_file: dict[str, list[Edit]] = {}
    for p in props:
        for e in p.edits:
            by_file.setdefault(e.path, []).append(e)
    snaps = dict(tree.snaps)
    texts = dict(tree.texts)
    data = dict(tree.data)
    for path, edits in by_file.items():
        try:
            new_text, new_bytes = apply_edits(tree.data[path], tree.texts[path], edits)
        except ByteError as exc:
            return None, f"`{path}`: {exc}"
        snap = tree.snaps[path].reparsed(new_text)
        broken = [pr for pr in snap.problems if pr.kind not in {q.kind for q in tree.snaps[path].problems}]
        if broken:
            b = broken[0]
            return None, f"the edited `{path}` does not parse: {b.message} (line {b.line})"
        if len(snap.documents) != len(tree.snaps[path].documents):
            return None, f"the edited `{path}` has another number of documents"
        snaps[path], texts[path], data[path] = snap, new_text, new_bytes
        for alias in tree.base.aliases.get(path, ()):  # the same file under another name changes too
            if alias in tree.snaps:
                snaps[alias], texts[alias], data[alias] = tree.snaps[alias].reparsed(new_text), new_text, new_bytes
    try:
        new = Tree(tree.base, snaps, texts, data)
    except Exception as exc:  # pragma: no cover - the graph reports problems, it does not raise
        return None, f"the tree does not build after the edit: {exc}"
    why = compare(tree, new, props)
    if why:
        return None, why
    why = revalidate(tree, new, props)
    if why:
        return None, why
    return new, ""


def compare(old: Tree, new: Tree, props: list[Proposal]) -> str:
    """Why the objects as built differ other than the fixes declare ('' when they do not)."""
    changes: dict[DocId, list[Callable]] = {}
    for p in props:
        for d, fns in p.changes.items():
            changes.setdefault(d, []).extend(fns)
            if d and d[0] != "by":  # the same document under the file's other names
                for alias in old.base.aliases.get(d[0], ()):
                    changes.setdefault((alias,) + tuple(d[1:]), []).extend(fns)
    before, after = old.built(), new.built()
    if before.keys() != after.keys():
        gone = sorted(set(before) - set(after), key=repr)
        added = sorted(set(after) - set(before), key=repr)
        k = (gone or added)[0]
        return (f"the build changes: {_obj(k)} is {'no longer built' if gone else 'built in addition'} "
                f"({'in ' + k[1] if k[1] else 'at the root'})")
    for key, (did, value, by) in before.items():
        expected = value
        for fn in changes.get(did, ()):
            expected = fn(expected)
        for fn in changes.get(by, ()) if by is not None else ():
            expected = fn(expected)  # what the applying Kustomization's fix means for what it applies
        got = after[key][1]
        if got != expected:
            return f"the build changes {_obj(key)} ({'cluster ' if key[0] == 'applied' else 'kustomization in '}" \
                   f"`{key[1] or '.'}`): {_first_difference(expected, got)}"
    return ""


def _obj(key: tuple) -> str:
    return f"{key[3]} `{key[5]}`"


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if a.get(k, _MISSING) != b.get(k, _MISSING):
                return _first_difference(a.get(k, _MISSING), b.get(k, _MISSING), f"{path}.{k}" if path else str(k))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    shown = lambda v: "absent" if v is _MISSING else f"`{str(v)[:60]}`"  # noqa: E731
    return f"`{path or '.'}` would be {shown(b)} instead of {shown(a)}"


_MISSING = object()


def revalidate(old: Tree, new: Tree, props: list[Proposal]) -> str:
    """Why an object a fix changes does not validate after it ('' when every one does),
    and that each fixed schema finding is gone."""
    before = {(i.code, i.path, i.message) for issues in old.analysis().issues.values() for i in issues}
    an = new.analysis()
    if an.error is not None:
        return f"the schema stage fails on the edited tree: {an.error}"
    paths = set()
    for p in props:
        paths |= p.paths
    for code in sorted(BLOCKING):
        for i in an.of(code):
            if i.path in paths and (i.code, i.path, i.message) not in before:
                return f"the schema rejects the result: {i.message} ({i.path}:{i.line}; {i.code})"
    after = {(i.code, i.path, i.message) for issues in an.issues.values() for i in issues}
    for p in props:
        if p.gone is not None and p.gone in after:
            return "the finding is still reported after the edit"
    return ""


# --------------------------------------------------------------------------- writing


def write_all(result: FixResult, root: str) -> None:
    real_root = os.path.realpath(root)
    for path in sorted(result.changed):
        why = unsafe_path(real_root, path)
        if why:
            result.write_errors.append(f"not written: {why}")
            continue
        full = os.path.join(real_root, *path.split("/"))
        try:
            with open(full, "rb") as fh:
                if fh.read() != result.original[path]:
                    result.write_errors.append(f"not written: `{path}` changed while it was being fixed")
                    continue
            write_atomic(full, result.changed[path])
        except OSError as exc:
            result.write_errors.append(f"cannot write `{path}`: {exc.strerror}")


def write_atomic(full: str, data: bytes) -> None:
    """Write ``data`` to ``full`` through a temporary file in its directory, renamed over
    it, with the file's mode."""
    st = os.stat(full)
    d = os.path.dirname(full)
    fd, tmp = tempfile.mkstemp(prefix=".gitlint-fix-", dir=d)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        os.replace(tmp, full)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


__all__ = ["BLOCKING", "ByteError", "Edit", "FixRequest", "FixResult", "Proposal", "Text", "annotate_refusals",
           "apply_edits", "doc_id", "plain", "run_fixes", "write_atomic"]
