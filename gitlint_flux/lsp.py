"""`gitlint-flux lsp`: a language server over standard input and output.

The protocol is spoken here, without a library: JSON-RPC 2.0 messages framed by a
``Content-Length`` header (the Language Server Protocol's base protocol). One server
handles every workspace folder; each repository root (found as the CLI finds it) gets a
``Repo``: its configuration, listing and loaded files kept in memory, so a change parses
the edited buffer only and runs the later stages (graph, schema analysis, rules, findings
pipeline) over the kept files with that one replaced.

Diagnostics are pushed (``textDocument/publishDiagnostics``) for every file of the
repository that has findings, open or not, and cleared when its findings are gone.
Positions are converted from the loader's code points to the encoding the client
negotiated (``positionEncoding``: UTF-16 unless the client offers UTF-32 or UTF-8).

Nothing is imported from the linter until a repository is opened; nothing is written
and nothing read is executed.
"""

from __future__ import annotations

import json
import os
import re
import queue
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlparse

SOURCE = "gitlint-flux"
#: how long the client is quiet before the server collects the garbage of its checks
IDLE_GC_SECONDS = 0.3
SEVERITY = {"error": 1, "warning": 2, "info": 3}
FULL_SYNC = 1

# JSON-RPC and LSP error codes
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_NOT_INITIALIZED = -32002

YAML_SUFFIXES = (".yaml", ".yml")
CONFIG_NAMES = (".gitlint-flux.yaml", "pyproject.toml")


class Malformed(Exception):
    """A message that is not a JSON-RPC message (answered with an error, never fatal)."""


# --------------------------------------------------------------------------- positions


def uri_to_path(uri: str) -> str | None:
    """The local path of a ``file:`` URI (None for any other scheme)."""
    p = urlparse(uri)
    if p.scheme != "file":
        return None
    path = unquote(p.path)
    if os.name == "nt" and path.startswith("/") and len(path) > 2 and path[2] == ":":  # pragma: no cover
        path = path[1:]
    return os.path.normpath(path)


def path_to_uri(path: str) -> str:
    return "file://" + quote(os.path.abspath(path).replace(os.sep, "/"), safe="/:@!$&'()*+,;=-._~")


def units(s: str, encoding: str) -> int:
    """Length of ``s`` in the code units of the negotiated encoding."""
    if encoding == "utf-32" or s.isascii():
        return len(s)
    if encoding == "utf-8":
        return len(s.encode("utf-8", "surrogatepass"))
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def from_units(line: str, n: int, encoding: str) -> int:
    """The code-point index of ``n`` code units into ``line`` (clamped to the line)."""
    if encoding == "utf-32" or line.isascii():
        return max(0, min(n, len(line)))
    count = 0
    for i, ch in enumerate(line):
        if count >= n:
            return i
        o = ord(ch)
        if encoding == "utf-8":
            count += 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
        else:
            count += 2 if o >= 0x10000 else 1
    return len(line)


#: line breaks as the protocol counts them, and as libyaml (hence the loader's positions) does
LSP_BREAKS = re.compile("\r\n|[\r\n]")
YAML_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _starts(text: str, breaks: re.Pattern) -> list[int]:
    return [0] + [m.end() for m in breaks.finditer(text)]


class Lines:
    """A text with its line starts twice over: as the loader counts lines (its findings'
    1-based lines and code-point columns) and as the protocol does (0-based lines, columns in
    the negotiated code units). They differ where the text holds U+0085, U+2028 or U+2029."""

    def __init__(self, text: str, encoding: str):
        self.text = text
        self.encoding = encoding
        self.ystarts = _starts(text, YAML_BREAKS)
        self.pstarts = _starts(text, LSP_BREAKS)
        self.lines = [YAML_BREAKS.sub("", text[a:b]) for a, b in zip(self.ystarts, self.ystarts[1:] + [len(text)])]

    def _offset_of(self, line: int, column: int) -> int:
        i = min(max(line, 1), len(self.ystarts)) - 1
        return self.ystarts[i] + min(max(column, 1) - 1, len(self.lines[i]))

    def at(self, offset: int) -> dict:
        """LSP position of a code-point offset into the text."""
        import bisect

        offset = max(0, min(offset, len(self.text)))
        li = bisect.bisect_right(self.pstarts, offset) - 1
        return {"line": li, "character": units(self.text[self.pstarts[li]:offset], self.encoding)}

    def position(self, line: int, column: int) -> dict:
        """LSP position of the loader's 1-based line and code-point column."""
        return self.at(self._offset_of(line, column))

    def offset(self, pos: dict) -> int:
        """Code-point offset into the text of an LSP position (clamped to its line)."""
        li = max(0, min(int(pos.get("line", 0)), len(self.pstarts) - 1))
        start = self.pstarts[li]
        end = self.pstarts[li + 1] if li + 1 < len(self.pstarts) else len(self.text)
        line = LSP_BREAKS.sub("", self.text[start:end])
        return start + from_units(line, int(pos.get("character", 0)), self.encoding)

    def column(self, pos: dict) -> tuple[int, int]:
        """The loader's (1-based line, 1-based code-point column) of an LSP position."""
        import bisect

        off = self.offset(pos)
        li = bisect.bisect_right(self.ystarts, off) - 1
        return li + 1, off - self.ystarts[li] + 1

    def at_offset(self, text: str, offset: int) -> dict:
        """LSP position of a code-point offset into ``text`` (the text these lines are of)."""
        return self.at(offset)

    def text_line(self, line: int) -> str:
        """The loader's line ``line`` without its break ("" past the end)."""
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""


def finding_range(f, lines: Lines) -> dict:
    """The range of a finding: its end when it has one, else to the end of its line's text
    (at least one character)."""
    start = lines.position(f.line, f.column)
    if f.end_line is not None and f.end_column is not None and (f.end_line, f.end_column) > (f.line, f.column):
        end = lines.position(f.end_line, f.end_column)
    else:
        s = lines.text_line(f.line)
        stop = len(s.rstrip())
        c = min(max(f.column, 1) - 1, len(s))
        end_col = stop if stop > c else min(c + 1, len(s))
        end = {"line": start["line"], "character": units(s[:end_col], lines.encoding)}
    return {"start": start, "end": end}


def _before(a: dict, b: dict) -> bool:
    return (a["line"], a["character"]) < (b["line"], b["character"])


def overlaps(r: dict, q: dict) -> bool:
    """Whether two ranges touch (an empty range at a position inside the other counts)."""
    return not _before(r["end"], q["start"]) and not _before(q["end"], r["start"])


# --------------------------------------------------------------------------- the repository in memory


@dataclass
class Buffer:
    """An open document."""

    uri: str
    path: str  # real path
    version: int | None
    text: str
    repo: "Repo | None" = None
    rel: str = ""
    parsed: Any = None  # the SourceFile of this text (kept while the text does not change)
    parsed_text: str | None = None


@dataclass
class Published:
    """What was published for one file: its diagnostics and the findings behind them."""

    uri: str
    diagnostics: list[dict] = field(default_factory=list)
    findings: list = field(default_factory=list)


class Repo:
    """One repository root: its configuration, listing and loaded files, kept in memory."""

    def __init__(self, root: str, server: "Server"):
        self.root = root
        self.server = server
        self.files: dict = {}  # rel -> SourceFile as the loader left it (disk content)
        self.contents: dict[str, bytes] = {}  # rel -> bytes read (for fixes)
        self.pcache = None
        self.prep = None
        self.config = None
        self.load_error: str | None = None
        self.published: dict[str, Published] = {}  # uri -> what was published
        self.last_files: dict = {}
        self.timings: dict[str, float] = {}
        self.generation = 0  # counts the checks: a code action is computed once per check
        self.fix_memo: dict = {}
        self.memo = None
        self.reload()

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        """Configuration, listing and files read again; unchanged files keep their parse
        (by content hash, as the file cache does)."""
        from .load import ParseCache
        from .memo import Memo
        from .workspace import load, prepare, read_contents

        t = time.perf_counter()
        pcache = ParseCache()
        if self.pcache is not None:
            pcache.previous = {**self.pcache.previous, **self.pcache.fresh}
        try:
            prep = prepare([self.root], self.root, None)
            read_contents(prep)
            contents = dict(prep.contents)
            # the files only: each check builds its own graph (over copies of them)
            loaded = load([self.root], self.root, None, prepared=prep, cache=pcache, graph=False)
        except Exception as exc:  # a configuration error: a diagnostic on the configuration
            self.load_error = f"{type(exc).__name__}: {exc}" if not str(exc).startswith(".") else str(exc)
            self.server.log(f"gitlint-flux: {self.root}: {exc}")
            return
        self.load_error = None
        self.prep, self.config, self.pcache = prep, loaded.config, pcache
        self.listing = loaded.listing
        self.files = loaded.files
        self.contents = contents
        self.memo = Memo()  # what the checks keep for each other; a reload starts afresh (the listing may differ)
        self.timings["load"] = time.perf_counter() - t
        import gc

        gc.collect()
        gc.freeze()  # the kept files: never scanned again by the collector

    def rel_of(self, path: str) -> str | None:
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        return None if rel == ".." or rel.startswith("../") else rel

    def parsed(self, buf: Buffer):
        """The SourceFile of an open buffer (parsed again only when its text changed)."""
        if buf.parsed is not None and buf.parsed_text == buf.text:
            return buf.parsed
        from .model import SourceFile
        from .workspace import inject_stdin

        kept = self.files.get(buf.rel)
        one = {buf.rel: kept.copy()} if kept is not None else {}
        inject_stdin(self.root, one, os.path.join(self.root, buf.rel), buf.text, self.config)
        sf = one.get(buf.rel)
        if sf is None:  # pragma: no cover - inject_stdin adds it
            sf = SourceFile(buf.rel, os.path.join(self.root, buf.rel))
        buf.parsed, buf.parsed_text = sf, buf.text
        return sf

    # ------------------------------------------------------------------ checking

    def check(self, buffers: list[Buffer]):
        """The report of the kept files with the open buffers in place of their files."""
        import gc

        gc_was = gc.isenabled()
        gc.disable()  # the stages allocate many acyclic containers: collecting in between is wasted work
        try:
            return self._check(buffers)
        finally:
            if gc_was:
                gc.enable()

    def _check(self, buffers: list[Buffer]):
        from .engine import check
        from .graph import Graph
        from .options import Options
        from .workspace import Loaded, located_roots

        t0 = time.perf_counter()
        files = {rel: sf.copy() for rel, sf in self.files.items()}  # the stages mark copies
        for buf in buffers:
            files[buf.rel] = self.parsed(buf).copy()
        t1 = time.perf_counter()
        if self.memo is not None:
            self.memo.next_generation()
        graph = Graph(self.root, files, located_roots(self.root, self.config), self.config.sources,
                      sourceignores=self.listing.sourceignores, memo=self.memo).build()
        t2 = time.perf_counter()
        loaded = Loaded(self.root, self.config, files, self.listing, graph)
        report, _internal = check(loaded, Options(paths=[self.root], root=self.root), [self.root])
        self.last_files = files  # the texts the findings' positions are in
        self.generation += 1
        self.fix_memo.clear()
        self.timings.update(parse=t1 - t0, graph=t2 - t1, check=time.perf_counter() - t2)
        if os.environ.get("GITLINT_FLUX_LSP_TIMINGS"):
            memo = f", memo {self.memo.hits} hits, {self.memo.misses} misses" if self.memo is not None else ""
            self.server.log("gitlint-flux lsp: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in self.timings.items())
                            + memo)
        return self.view(report)

    def view(self, report):
        """The configuration's selection and `min-severity:`, as the CLI applies them."""
        from .config import rule_catalog
        from .findings import Layer, View, choose, view

        try:
            chosen = choose(rule_catalog(self.config.custom), [Layer(self.config.select, self.config.extend_select)])
        except ValueError:
            chosen = None
        return view(report, View(chosen, self.config.min_severity))


# --------------------------------------------------------------------------- the server


class Server:
    def __init__(self, rfile, wfile, log=None):
        self.rfile = rfile
        self.wfile = wfile
        self.wlock = threading.Lock()
        self.logfile = log if log is not None else sys.stderr
        self.inbox: queue.Queue = queue.Queue()
        self.initialized = False
        self.shutting_down = False
        self.encoding = "utf-16"
        self.folders: list[str] = []
        self.repos: dict[str, Repo] = {}
        self.buffers: dict[str, Buffer] = {}  # uri -> open buffer
        self.dirty: set[str] = set()  # roots to check again
        self.settings: dict = {"schemaDiagnostics": True}
        self.exit_code: int | None = None
        self.can_watch = False  # the client registers file watchers for us

    # ------------------------------------------------------------------ the wire

    def log(self, message: str) -> None:
        try:
            print(message, file=self.logfile, flush=True)
        except (OSError, ValueError):  # pragma: no cover
            pass

    def read_message(self) -> Any:
        """The next message (a dict), a ``Malformed`` exception object, or None at the end."""
        length = None
        while True:
            line = self.rfile.readline()
            if not line:
                return None
            line = line.strip()
            if not line:
                if length is None:
                    continue  # blank lines between messages
                break
            name, sep, value = line.partition(b":")
            if not sep:
                return Malformed(f"not a header line: {line[:60]!r}")
            if name.strip().lower() == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    return Malformed(f"bad Content-Length: {value.strip()[:40]!r}")
        if length < 0 or length > 1 << 30:
            return Malformed(f"bad Content-Length: {length}")
        body = self.rfile.read(length)
        if len(body) < length:
            return None
        try:
            msg = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return Malformed(f"not JSON: {exc}")
        if not isinstance(msg, dict):
            return Malformed("a message is a JSON object")
        return msg

    def send(self, msg: dict) -> None:
        msg["jsonrpc"] = "2.0"
        body = json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with self.wlock:
            self.wfile.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.wfile.flush()

    def respond(self, mid, result=None, error: tuple[int, str] | None = None) -> None:
        if error is not None:
            self.send({"id": mid, "error": {"code": error[0], "message": error[1]}})
        else:
            self.send({"id": mid, "result": result})

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def notify_watch(self) -> None:
        """Ask the client to watch the YAML files and the configuration (when it can)."""
        globs = ("**/*.yaml", "**/*.yml", "**/.sourceignore", "**/pyproject.toml")
        self.send({"id": "gitlint-flux-watch", "method": "client/registerCapability", "params": {"registrations": [{
            "id": "gitlint-flux-files", "method": "workspace/didChangeWatchedFiles",
            "registerOptions": {"watchers": [{"globPattern": g} for g in globs]}}]}})

    def _reader(self) -> None:
        try:
            while True:
                msg = self.read_message()
                self.inbox.put(msg)
                if msg is None:
                    return
        except Exception as exc:  # pragma: no cover - the input closed under us
            self.log(f"gitlint-flux lsp: reading: {exc}")
            self.inbox.put(None)

    # ------------------------------------------------------------------ the loop

    def serve(self) -> int:
        threading.Thread(target=self._reader, daemon=True).start()
        gc_due = False
        while self.exit_code is None:
            if self.dirty and self.inbox.empty():
                self.flush()
                gc_due = True
                continue
            if gc_due:
                # a check leaves cyclic garbage (the graph's objects point at each other):
                # collected once the client has said nothing for a moment (not between the
                # keystrokes of a burst, where the next change would wait for it), the
                # memory stays flat
                try:
                    msg = self.inbox.get(timeout=IDLE_GC_SECONDS)
                except queue.Empty:
                    import gc

                    # what the server keeps (files, the memo) survives the collection: frozen,
                    # later collections skip it; thawed first, so that what the memo dropped
                    # since is collected too
                    gc.unfreeze()
                    gc.collect()
                    gc.freeze()
                    gc_due = False
                    continue
            else:
                msg = self.inbox.get()
            if msg is None:  # the input ended: what was asked for is still answered
                if self.dirty:
                    try:
                        self.flush()
                    except OSError:
                        pass
                return 0 if self.shutting_down else 1
            self.dispatch(msg)
        return self.exit_code

    def dispatch(self, msg: Any) -> None:
        if isinstance(msg, Malformed):
            self.respond(None, error=(PARSE_ERROR, str(msg)))
            return
        method = msg.get("method")
        mid = msg.get("id")
        is_request = "id" in msg
        if not isinstance(method, str):
            if is_request and ("result" in msg or "error" in msg):
                return  # a response to a request of ours
            self.respond(mid if isinstance(mid, (int, str)) else None,
                         error=(INVALID_REQUEST, "a request needs a method"))
            return
        if is_request and not isinstance(mid, (int, str)):
            self.respond(None, error=(INVALID_REQUEST, "a request id is an integer or a string"))
            return
        params = msg.get("params")
        if params is None:
            params = {}
        if method == "exit":
            self.exit_code = 0 if self.shutting_down else 1
            return
        if not self.initialized and method != "initialize":
            if is_request:
                self.respond(mid, error=(SERVER_NOT_INITIALIZED, "initialize first"))
            return
        if self.shutting_down and is_request:
            self.respond(mid, error=(INVALID_REQUEST, "the server is shutting down"))
            return
        handler = HANDLERS.get(method)
        if handler is None:
            if is_request:
                self.respond(mid, error=(METHOD_NOT_FOUND, f"unknown method {method}"))
            return  # notifications the server does not handle ($/cancelRequest, ...)
        try:
            if not isinstance(params, dict):
                raise TypeError("params must be an object")
            result = handler(self, params)
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            if is_request:
                self.respond(mid, error=(INVALID_PARAMS, f"{method}: invalid params: {type(exc).__name__}: {exc}"))
            else:
                self.log(f"gitlint-flux lsp: {method}: invalid params: {exc}")
            return
        except Exception as exc:
            self.log(f"gitlint-flux lsp: {method}: {traceback.format_exc()}")
            if is_request:
                self.respond(mid, error=(INTERNAL_ERROR, f"{method}: {type(exc).__name__}: {exc}"))
            return
        if is_request:
            self.respond(mid, result)

    # ------------------------------------------------------------------ repositories

    def repo_for(self, path: str) -> Repo | None:
        """The repository of a path: the deepest root already open that holds it, else the
        root the CLI would find for it."""
        best = None
        for root, repo in self.repos.items():
            if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
                if best is None or len(root) > len(best.root):
                    best = repo
        if best is not None:
            return best
        from .load import find_root

        root, in_git = find_root([path], None)
        if not in_git and os.path.realpath(root) == os.path.realpath(os.getcwd()) and root not in self.folders \
                and root != path:
            # the CLI's last resort (the working directory) is too wide for a file opened from
            # anywhere (a home directory): outside git, a configuration or a bootstrap, the
            # file's own directory is its repository
            root = path
        return self.open_repo(root)

    def open_repo(self, root: str) -> Repo:
        root = os.path.realpath(root)
        repo = self.repos.get(root)
        if repo is None:
            repo = self.repos[root] = Repo(root, self)
            self.dirty.add(root)
        return repo

    def flush(self) -> None:
        """Check every repository that changed and publish its diagnostics (with the
        cyclic garbage collector off: the checks allocate many containers, and a collection
        in the middle of one walks everything the server keeps; ``serve`` collects when the
        client is quiet)."""
        import gc

        roots, self.dirty = sorted(self.dirty), set()
        was = gc.isenabled()
        gc.disable()
        try:
            for root in roots:
                repo = self.repos.get(root)
                if repo is not None:
                    self.publish(repo)
        finally:
            if was:
                gc.enable()

    def publish(self, repo: Repo) -> None:
        t0 = time.perf_counter()
        self._publish(repo)
        if os.environ.get("GITLINT_FLUX_LSP_TIMINGS"):
            total = time.perf_counter() - t0
            stages = sum(repo.timings.get(k, 0) for k in ("parse", "graph", "check"))
            self.log(f"gitlint-flux lsp: published in {total * 1000:.0f} ms "
                     f"(diagnostics and messages {max(0.0, total - stages) * 1000:.0f} ms)")

    def _publish(self, repo: Repo) -> None:
        buffers = [b for b in self.buffers.values() if b.repo is repo and b.rel]
        by_uri: dict[str, Published] = {}
        uri_of = {b.rel: b.uri for b in buffers}
        version_of = {b.uri: b.version for b in buffers}
        if repo.load_error is not None:
            cfg = os.path.join(repo.root, CONFIG_NAMES[0])
            uri = path_to_uri(cfg)
            by_uri[uri] = Published(uri, [{
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "severity": 1, "source": SOURCE, "code": "config", "message": repo.load_error}])
        else:
            try:
                report = repo.check(buffers)
            except Exception as exc:  # the CLI's internal error, as a diagnostic on the open buffers
                self.log(f"gitlint-flux lsp: checking {repo.root}: {traceback.format_exc()}")
                for b in buffers:
                    by_uri[b.uri] = Published(b.uri, [{
                        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}},
                        "severity": 1, "source": SOURCE, "code": "FLX000",
                        "message": f"internal error: {type(exc).__name__}: {exc}"}])
                report = None
            if report is not None:
                self._diagnostics(repo, report, uri_of, by_uri)
        for uri, pub in by_uri.items():
            before = repo.published.get(uri)
            if uri not in version_of and before is not None and before.diagnostics == pub.diagnostics:
                continue  # a file that is not open and whose diagnostics did not change
            self.notify("textDocument/publishDiagnostics", self._params(uri, pub.diagnostics, version_of))
        for uri in repo.published:
            if uri not in by_uri:
                self.notify("textDocument/publishDiagnostics", self._params(uri, [], version_of))
        # open buffers without findings get an (empty) answer to their version too
        for b in buffers:
            if b.uri not in by_uri and b.uri not in repo.published:
                self.notify("textDocument/publishDiagnostics", self._params(b.uri, [], version_of))
        repo.published = {u: p for u, p in by_uri.items() if p.diagnostics}

    @staticmethod
    def _params(uri: str, diagnostics: list, version_of: dict) -> dict:
        params: dict = {"uri": uri, "diagnostics": diagnostics}
        if version_of.get(uri) is not None:
            params["version"] = version_of[uri]
        return params

    def _diagnostics(self, repo: Repo, report, uri_of: dict, by_uri: dict) -> None:
        lines_of: dict[str, Lines] = {}

        def lines(rel: str) -> Lines:
            ln = lines_of.get(rel)
            if ln is None:
                sf = repo.last_files.get(rel)
                ln = lines_of[rel] = Lines(sf.text if sf is not None and sf.text else "", self.encoding)
            return ln

        def uri(rel: str) -> str:
            return uri_of.get(rel) or path_to_uri(os.path.join(repo.root, rel if rel != "." else ""))

        schemas = self.settings.get("schemaDiagnostics", True) is not False
        for f in report.findings:
            if not schemas and f.rule.startswith("FLX2"):
                continue
            d: dict = {"range": finding_range(f, lines(f.path)), "severity": SEVERITY.get(f.severity, 3),
                       "code": f.rule, "source": SOURCE,
                       "message": f.message + (f"\n{f.hint}" if f.hint else "")}
            if f.url:
                d["codeDescription"] = {"href": f.url}
            if f.related:
                d["relatedInformation"] = [
                    {"location": {"uri": uri(r.path), "range": finding_range(At(r.line, r.column), lines(r.path))},
                     "message": r.message or "related"} for r in f.related]
            d["data"] = {"slug": f.slug, "fingerprint": f.fingerprint}
            u = uri(f.path)
            pub = by_uri.setdefault(u, Published(u))
            pub.diagnostics.append(d)
            pub.findings.append(f)

    def published_at(self, uri: str) -> tuple[Repo | None, Published | None]:
        for repo in self.repos.values():
            pub = repo.published.get(uri)
            if pub is not None:
                return repo, pub
        return None, None

    def lines_of(self, uri: str) -> Lines | None:
        buf = self.buffers.get(uri)
        if buf is not None:
            return Lines(buf.text, self.encoding)
        path = uri_to_path(uri)
        if path is None:
            return None
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                return Lines(fh.read().lstrip("\ufeff"), self.encoding)
        except OSError:
            return None


@dataclass
class At:
    """A position as a finding has it (a related location has no end)."""

    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None


# --------------------------------------------------------------------------- handlers


def _initialize(s: Server, p: dict) -> dict:
    caps = p.get("capabilities") or {}
    offered = ((caps.get("general") or {}).get("positionEncodings")) or []
    for enc in ("utf-32", "utf-8", "utf-16"):
        if enc in offered:
            s.encoding = enc
            break
    else:
        s.encoding = "utf-16"
    folders = [f.get("uri") for f in (p.get("workspaceFolders") or []) if isinstance(f, dict)]
    if not folders and p.get("rootUri"):
        folders = [p["rootUri"]]
    elif not folders and p.get("rootPath"):
        folders = [path_to_uri(p["rootPath"])]
    s.folders = [x for x in (uri_to_path(u) for u in folders if isinstance(u, str)) if x]
    _settings(s, p.get("initializationOptions"))
    watch = ((caps.get("workspace") or {}).get("didChangeWatchedFiles") or {})
    s.can_watch = bool(watch.get("dynamicRegistration"))
    s.initialized = True
    from . import __version__

    return {
        "capabilities": {
            "positionEncoding": s.encoding,
            "textDocumentSync": {"openClose": True, "change": FULL_SYNC, "save": {"includeText": False}},
            "hoverProvider": True,
            "codeActionProvider": {"codeActionKinds": ["quickfix"]},
            "workspace": {"workspaceFolders": {"supported": True, "changeNotifications": True}},
        },
        "serverInfo": {"name": "gitlint-flux", "version": __version__},
    }


def _settings(s: Server, opts: Any) -> None:
    if isinstance(opts, dict):
        opts = opts.get("gitlint-flux", opts)
        if isinstance(opts, dict) and "schemaDiagnostics" in opts:
            s.settings["schemaDiagnostics"] = bool(opts["schemaDiagnostics"])


def _initialized(s: Server, p: dict) -> None:
    for folder in s.folders:
        if os.path.isdir(folder):
            from .load import find_root

            root, _ = find_root([folder], None)
            s.open_repo(root)
    if s.can_watch:
        s.notify_watch()


def _shutdown(s: Server, p: dict) -> None:
    s.shutting_down = True
    return None


def _did_open(s: Server, p: dict) -> None:
    td = p["textDocument"]
    uri, text = td["uri"], td["text"]
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    buf = Buffer(uri, "", td.get("version"), text)
    s.buffers[uri] = buf
    _attach(s, buf)


def _attach(s: Server, buf: Buffer) -> None:
    path = uri_to_path(buf.uri)
    if path is None or not path.endswith(YAML_SUFFIXES):
        return  # not a YAML file of a repository: nothing to say
    real = os.path.realpath(path)
    buf.path = real
    repo = s.repo_for(os.path.dirname(real) if not os.path.isdir(real) else real)
    if repo is None:
        return
    rel = repo.rel_of(real)
    if rel is None:
        return
    buf.repo, buf.rel = repo, rel
    s.dirty.add(repo.root)


def _did_change(s: Server, p: dict) -> None:
    td = p["textDocument"]
    buf = s.buffers.get(td["uri"])
    if buf is None:
        return
    changes = p.get("contentChanges") or []
    if not isinstance(changes, list):
        raise TypeError("contentChanges must be a list")
    for ch in changes:
        if ch.get("range") is not None:
            ln = Lines(buf.text, s.encoding)
            a, b = ln.offset(ch["range"]["start"]), ln.offset(ch["range"]["end"])
            buf.text = buf.text[:a] + ch["text"] + buf.text[max(a, b):]
        else:
            buf.text = ch["text"]
    buf.version = td.get("version", buf.version)
    if buf.repo is not None:
        s.dirty.add(buf.repo.root)


def _did_save(s: Server, p: dict) -> None:
    buf = s.buffers.get(p["textDocument"]["uri"])
    if buf is None or buf.repo is None:
        return
    if isinstance(p.get("text"), str):
        buf.text = p["text"]
    repo = buf.repo
    name = os.path.basename(buf.path)
    if name in CONFIG_NAMES or (repo.config is not None and repo.config.path
                                and os.path.realpath(repo.config.path) == buf.path):
        repo.reload()
    else:
        # the file on disk is now the buffer: it stays so once the buffer is closed
        repo.files[buf.rel] = repo.parsed(buf)
        repo.contents[buf.rel] = buf.text.encode("utf-8")
    s.dirty.add(repo.root)


def _did_close(s: Server, p: dict) -> None:
    buf = s.buffers.pop(p["textDocument"]["uri"], None)
    if buf is not None and buf.repo is not None:
        s.dirty.add(buf.repo.root)


def _watched(s: Server, p: dict) -> None:
    touched: set[str] = set()
    for ch in p.get("changes") or []:
        path = uri_to_path(ch.get("uri", ""))
        if path is None:
            continue
        real = os.path.realpath(path)
        for root, repo in s.repos.items():
            if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
                touched.add(root)
        if os.path.basename(real) in CONFIG_NAMES and not touched:
            for root in s.repos:
                if root.startswith(os.path.dirname(real)):
                    touched.add(root)
    for root in touched:
        repo = s.repos[root]
        repo.reload()
        for b in s.buffers.values():
            if b.repo is repo:
                b.parsed = None  # the configuration may have changed what a buffer is
        s.dirty.add(root)


def _did_change_config(s: Server, p: dict) -> None:
    _settings(s, p.get("settings"))
    s.dirty.update(s.repos)


def _did_change_folders(s: Server, p: dict) -> None:
    ev = p.get("event") or {}
    for f in ev.get("added") or []:
        path = uri_to_path(f.get("uri", ""))
        if path and os.path.isdir(path):
            from .load import find_root

            s.open_repo(find_root([path], None)[0])


def _hover(s: Server, p: dict) -> dict | None:
    uri = p["textDocument"]["uri"]
    pos = p["position"]
    _repo, pub = s.published_at(uri)
    if pub is None:
        return None
    q = {"start": pos, "end": pos}
    from .rules import all_rules

    registry = all_rules()
    for d, f in zip(pub.diagnostics, pub.findings):
        if overlaps(d["range"], q):
            cls = registry.get(f.rule)
            if cls is None:
                text = f"**{f.rule}** {f.slug}\n\n{f.message}"
            else:
                info = cls.info()
                text = f"**{info.code} {info.slug}** ({f.severity}): {info.summary}\n\n{info.description}\n\n" \
                       f"[Documentation]({info.url})"
            return {"contents": {"kind": "markdown", "value": text}, "range": d["range"]}
    return None


def _code_action(s: Server, p: dict) -> list[dict]:
    uri = p["textDocument"]["uri"]
    rng = p["range"]
    repo, pub = s.published_at(uri)
    if pub is None or repo is None:
        return []
    lines = s.lines_of(uri)
    if lines is None:
        return []
    actions: list[dict] = []
    seen: set[tuple] = set()
    for d, f in zip(pub.diagnostics, pub.findings):
        if not overlaps(d["range"], rng):
            continue
        if f.rule not in ("FLX000",):
            key = ("line", f.rule, f.line)
            if key not in seen:
                seen.add(key)
                edit = suppress_line_edit(lines, f.line, f.rule)
                if edit is not None:
                    actions.append({"title": f"Suppress {f.rule} ({f.slug}) on this line", "kind": "quickfix",
                                    "diagnostics": [d], "edit": {"changes": {uri: [edit]}}})
            key = ("file", f.rule)
            if key not in seen:
                seen.add(key)
                actions.append({"title": f"Suppress {f.rule} ({f.slug}) in this file", "kind": "quickfix",
                                "diagnostics": [d], "edit": {"changes": {uri: [suppress_file_edit(lines, f.rule)]}}})
        fix = fix_action(s, repo, uri, d, f)
        if fix is not None:
            actions.insert(0, fix)
    return actions


def _indent(s: str) -> str:
    return s[: len(s) - len(s.lstrip(" \t"))]


def _directive(line: str, kind: str):
    return re.search(r"#\s*gitlint-flux:\s*" + kind + r"\s*=\s*([^\s#]+(?:\s*,\s*[^\s#]+)*)", line)


def suppress_line_edit(lines: Lines, line: int, code: str) -> dict | None:
    """A comment suppressing ``code`` on ``line``: the rule added to a comment already on
    the line or above it, else a comment alone on the line above (with the line's indent)."""
    for ln in (line, line - 1):
        s = lines.text_line(ln)
        m = _directive(s, "disable")
        if m and (ln == line or not s[: s.find("#")].strip()):
            pos = lines.position(ln, m.end(1) + 1)
            return {"range": {"start": pos, "end": pos}, "newText": f",{code}"}
    target = lines.text_line(line)
    pos = lines.position(line, 1)
    return {"range": {"start": pos, "end": pos}, "newText": f"{_indent(target)}# gitlint-flux: disable={code}\n"}


def suppress_file_edit(lines: Lines, code: str) -> dict:
    for i, s in enumerate(lines.lines, 1):
        m = _directive(s, "disable-file")
        if m:
            pos = lines.position(i, m.end(1) + 1)
            return {"range": {"start": pos, "end": pos}, "newText": f",{code}"}
    pos = {"line": 0, "character": 0}
    return {"range": {"start": pos, "end": pos}, "newText": f"# gitlint-flux: disable-file={code}\n"}


def fix_action(s: Server, repo: Repo, uri: str, d: dict, f) -> dict | None:
    """The rule's automatic fix as a code action, checked as `--fix` checks it (the tree
    rebuilt with the edits: objects as built unchanged but for the fix, schemas, the finding
    gone); None when the rule has none or the fix is refused."""
    from .rules import all_rules

    cls = all_rules().get(f.rule)
    if cls is None or getattr(cls, "fix", None) is None:
        return None
    key = (uri, f.rule, f.path, f.line, f.column, f.message, repo.generation)
    if key in repo.fix_memo:
        return repo.fix_memo[key]
    action = None
    try:
        action = _fix_action(s, repo, d, f, cls)
    except Exception:  # a fixer's bug: no action, the server goes on
        s.log(f"gitlint-flux lsp: fix of {f.rule}: {traceback.format_exc()}")
    repo.fix_memo[key] = action
    return action


def _fix_action(s: Server, repo: Repo, d: dict, f, cls) -> dict | None:
    from . import fix, fixers
    from .options import Options

    files = dict(repo.files)
    texts: dict[str, str] = {}
    data = dict(repo.contents)
    buffers = {b.rel: b for b in s.buffers.values() if b.repo is repo and b.rel}
    for rel, b in buffers.items():
        files[rel] = repo.parsed(b)
        data[rel] = b.parsed.text.encode("utf-8") if b.parsed.text is not None else b.text.encode("utf-8")
    for rel, sf in files.items():
        if sf.text is not None:
            texts[rel] = sf.text
    snaps = {rel: fix.Snap.of(sf) for rel, sf in files.items()}
    base = fix.Base(repo.root, repo.config, repo.listing, Options(paths=[repo.root], root=repo.root), [repo.root])
    base.find_aliases(files)
    tree = fix.Tree(base, snaps, texts, data)
    wanted = fixers.finding_key(f)
    match = [g for g in tree.report().findings if fixers.finding_key(g) == wanted]
    if not match:
        return None
    p = fixers.propose(match[0], fixers.FixContext(tree), cls.fix.safe)
    if p is None or p.reason or not p.edits:
        return None
    fix.guard(p, tree)
    if p.reason:
        return None
    new_tree, failed = fix.verify(tree, [p])
    if failed or new_tree is None or p.reason:
        return None
    changes: dict[str, list[dict]] = {}
    for e in sorted(p.edits, key=lambda e: (e.path, e.start)):
        text = tree.texts[e.path]
        new = e.new.replace("\n", fixers.Text(text).newline_at(e.start)) if "\n" in e.new else e.new
        ln = Lines(text, s.encoding)
        target = buffers[e.path].uri if e.path in buffers else path_to_uri(os.path.join(repo.root, e.path))
        changes.setdefault(target, []).append({"range": {"start": ln.at_offset(text, e.start),
                                                         "end": ln.at_offset(text, e.end)}, "newText": new})
    label = p.summary or cls.fix.summary
    return {"title": f"Fix {f.rule}: {label}" + ("" if cls.fix.safe else " (unsafe)"), "kind": "quickfix",
            "diagnostics": [d], "isPreferred": bool(cls.fix.safe), "edit": {"changes": changes}}


HANDLERS = {
    "initialize": _initialize,
    "initialized": _initialized,
    "shutdown": _shutdown,
    "textDocument/didOpen": _did_open,
    "textDocument/didChange": _did_change,
    "textDocument/didSave": _did_save,
    "textDocument/didClose": _did_close,
    "workspace/didChangeWatchedFiles": _watched,
    "workspace/didChangeConfiguration": _did_change_config,
    "workspace/didChangeWorkspaceFolders": _did_change_folders,
    "textDocument/hover": _hover,
    "textDocument/codeAction": _code_action,
}


def main() -> int:
    """Serve on standard input and output until ``exit`` (0 after ``shutdown``, else 1)."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but the protocol on standard output
    return Server(stdin, stdout).serve()
