"""A resident checker for editors that start a process per check (``lint --daemon``).

An editor plugin that runs ``gitlint-flux lint --stdin-filename F -`` after every change
pays, each time, for the interpreter, the imports and the graph of a repository that did
not change. With ``--daemon`` (or ``GITLINT_FLUX_DAEMON=1``) the command hands its run to
a background process that keeps every repository it has checked in memory, as the
language server does, and prints what the daemon answers: the same output and exit code
as the command would have (the daemon runs the command's own code, in the caller's
directory and environment, with its resident state in place of the run).

* **Where.** One daemon per user and cache directory, reached through a Unix socket in
  ``<cache dir>/daemon/`` (a directory of mode 0700, checked on both ends; the peer's
  user is checked too). Nothing else is written; nothing is read from the socket but
  JSON, checked field by field.
* **When.** The first ``--daemon`` run finds none: it runs in its own process, then starts
  the daemon (``gitlint-flux daemon serve``, detached) with that repository loaded. The
  daemon exits after ``GITLINT_FLUX_DAEMON_IDLE`` seconds without a request (600), when
  its socket is removed, on ``gitlint-flux daemon stop``, and when the installed code
  changed (the next run starts a new one).
* **Never wrong.** Before each run the daemon lists the tree and reads the configuration
  again (as a run does), and takes again every file whose stat changed (or that changed
  within the last seconds, the cache's "racily clean" rule); another listing or
  configuration loads the repository afresh. Anything it cannot answer (``--fix``, another
  command, an error of its own) is run by the calling process itself.
"""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import struct
import sys
import time

PROTOCOL = 1
ENV = "GITLINT_FLUX_DAEMON"
ENV_IDLE = "GITLINT_FLUX_DAEMON_IDLE"
DEFAULT_IDLE_S = 600.0
#: the largest message either end reads (a buffer is at most the file size limit)
MAX_MESSAGE = 64 << 20
#: repositories kept in memory at once (the least recently checked is dropped)
MAX_REPOS = 3
#: a file whose modification time is this close to when it was read may change again
#: within one timestamp tick: its content is compared at every run
RACY_S = 3.0
CONNECT_TIMEOUT_S = 1.0
#: the caller waits this long for an answer, then runs the check itself
ANSWER_TIMEOUT_S = 120.0
#: collect the garbage of the last runs once the daemon has been idle this long
IDLE_GC_S = 0.3
SOCKET = "socket"
LOCK = "lock"
#: a request comes whole within this long, or is not answered (the next one is served)
REQUEST_S = 10.0
#: how long a new daemon waits for the lock of one that is stopping
LOCK_WAIT_S = 2.0
#: the longest path a Unix socket can be bound to (Linux: 108 bytes with the NUL)
MAX_SOCKET_PATH = 107


#: this installation: a caller is answered only by a daemon of the same package directory
PACKAGE = os.path.dirname(os.path.abspath(__file__))


class DaemonError(Exception):
    pass


class _HandBack(Exception):
    """A run the daemon does not make, found once its arguments are parsed."""


# --------------------------------------------------------------------------- locations


def _flag_value(argv: list[str], name: str) -> str | None:
    """The value of ``--name V`` / ``--name=V`` in ``argv`` (the last one wins)."""
    value = None
    for i, a in enumerate(argv):
        if a == "--":
            break
        if a == name and i + 1 < len(argv):
            value = argv[i + 1]
        elif a.startswith(name + "="):
            value = a[len(name) + 1:]
    return value


def daemon_dir(cache_dir: str | None) -> str:
    if not cache_dir:
        from .cache import default_dir

        cache_dir = default_dir()
    return os.path.join(os.path.abspath(cache_dir), "daemon")


def private_dir(path: str, create: bool) -> bool:
    """Whether ``path`` is a directory of this user that no one else may enter (made so
    when ``create``)."""
    if create:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def socket_path(d: str) -> str | None:
    path = os.path.join(d, SOCKET)
    return path if len(os.fsencode(path)) <= MAX_SOCKET_PATH else None


# --------------------------------------------------------------------------- the wire


def send(sock: socket.socket, obj) -> None:
    data = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    sock.sendall(struct.pack(">I", len(data)) + data)


def _exactly(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    parts, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DaemonError("the message did not come in time")
            sock.settimeout(left)
        b = sock.recv(min(n - got, 1 << 20))
        if not b:
            raise DaemonError("the connection closed")
        parts.append(b)
        got += len(b)
    return b"".join(parts)


def receive(sock: socket.socket, within: float | None = None):
    """One message; ``within``: seconds for all of it (else the socket's timeout per read)."""
    deadline = None if within is None else time.monotonic() + within
    (n,) = struct.unpack(">I", _exactly(sock, 4, deadline))
    if n > MAX_MESSAGE:
        raise DaemonError(f"a message of {n} bytes")
    try:
        return json.loads(_exactly(sock, n, deadline).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DaemonError(f"not JSON: {type(exc).__name__}") from None


def connect(d: str, timeout: float = CONNECT_TIMEOUT_S) -> socket.socket | None:
    """A connection to the daemon of ``d``, or None (none runs, or the directory is not
    private)."""
    path = socket_path(d)
    if path is None or not private_dir(d, create=False):
        return None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        uid = _peer_uid(s)
    except OSError:
        s.close()
        return None
    if uid is not None and uid != os.getuid():  # not our daemon: never sent a buffer
        s.close()
        return None
    return s


def ask(d: str, request: dict, timeout: float = 10.0):
    """Send one request to the daemon of ``d``; its answer, or None."""
    s = connect(d)
    if s is None:
        return None
    try:
        s.settimeout(timeout)
        send(s, {"protocol": PROTOCOL, **request})
        return receive(s)
    except (OSError, DaemonError, struct.error):
        return None
    finally:
        s.close()


# --------------------------------------------------------------------------- the caller


def _flags(argv: list[str]) -> list[str]:
    return argv[:argv.index("--")] if "--" in argv else argv


def handed_over(argv: list[str], commands) -> bool:
    """A run the daemon makes: `lint` (the command line's ``commands`` name the others),
    without ``--fix`` (which writes files) or ``--no-daemon``."""
    if argv and argv[0] in commands and argv[0] != "lint":
        return False
    flags = _flags(argv)
    return "--no-daemon" not in flags and "--fix" not in flags


def wanted(argv: list[str], commands) -> bool:
    """A `lint` run that asks for the daemon (``--daemon`` or the environment)."""
    return handed_over(argv, commands) and ("--daemon" in _flags(argv) or os.environ.get(ENV, "").strip().lower()
                                  not in ("", "0", "false", "no", "off"))


class Caller:
    """The calling side: ask the daemon, else say so (the caller runs the check itself and
    then ``start`` s one)."""

    def __init__(self, argv: list[str]):
        self.argv = argv
        self.dir = daemon_dir(_flag_value(argv, "--cache-dir"))
        self.start_after = False

    def run(self) -> int | None:
        """The exit code of the daemon's run (its output written), or None."""
        data = None
        # argparse takes any unambiguous prefix of an option
        if any(len(a.split("=", 1)[0]) > 4 and "--stdin-filename".startswith(a.split("=", 1)[0])
               for a in _flags(self.argv)):
            data = sys.stdin.buffer.read()
            # the run in this process reads the same bytes
            sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
        s = connect(self.dir)
        if s is None:
            self.start_after = True
            return None
        try:
            s.settimeout(ANSWER_TIMEOUT_S)
            mask = os.umask(0o022)
            os.umask(mask)
            send(s, {"protocol": PROTOCOL, "package": PACKAGE, "argv": self.argv, "cwd": os.getcwd(),
                     "env": dict(os.environ), "umask": mask, "tty": [_isatty(sys.stdout), _isatty(sys.stderr)],
                     "stdin": None if data is None else data.decode("utf-8", "surrogateescape")})
            answer = receive(s)
        except (OSError, DaemonError, struct.error):
            return None
        finally:
            s.close()
        if not isinstance(answer, dict):
            return None
        output = answer.get("output")
        if not isinstance(answer.get("exit"), int) or not isinstance(output, list) \
                or not all(isinstance(c, list) and len(c) == 2 and c[0] in (1, 2) and isinstance(c[1], str)
                           for c in output):
            self.start_after = answer.get("fallback") == "restart"
            return None
        for fd, text in output:
            stream = sys.stdout if fd == 1 else sys.stderr
            try:
                stream.write(text)
                stream.flush()  # before the other stream's next chunk
            except OSError as exc:  # as the command says it (a closed pipe, a full disk)
                print(f"gitlint-flux: cannot write the output: {exc.strerror}", file=sys.stderr)
                return 2
        return answer["exit"]


def _isatty(stream) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def start(d: str, warm: str | None = None, wait: float = 0.0) -> bool:
    """Start a daemon for ``d`` in the background (``warm``: a repository root to load
    first); with ``wait``, until it answers. Whether one answers (True when not waiting)."""
    import subprocess

    if socket_path(d) is None or not private_dir(d, create=True):
        return False
    env = dict(os.environ)
    # the daemon runs this very package, wherever it was imported from
    env["PYTHONPATH"] = os.path.dirname(PACKAGE) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, "-m", "gitlint_flux", "daemon", "serve", "--cache-dir", os.path.dirname(d)]
    if warm:
        cmd += ["--root", warm]
    try:
        subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         cwd="/", env=env, start_new_session=True, close_fds=True)
    except OSError:
        return False
    deadline = time.monotonic() + wait
    while wait:
        if ask(d, {"status": True}, timeout=1.0) is not None:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# --------------------------------------------------------------------------- the daemon


class _Out(io.TextIOBase):
    """Standard output or error of a run in the daemon: what is written goes to a journal
    shared by both, in order (the caller writes it back in the same order)."""

    def __init__(self, fd: int, tty: bool, journal: list):
        super().__init__()
        self._fd, self._tty, self._journal = fd, tty, journal

    def write(self, s: str) -> int:
        if s:
            j = self._journal
            if j and j[-1][0] == self._fd:
                j[-1][1] += s
            else:
                j.append([self._fd, s])
        return len(s)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._tty


class Repo:
    """One repository as the daemon keeps it: the listing and configuration it was
    loaded with, every file's parse and the stat it was read at, the memo of its checks."""

    def __init__(self, prep, use_cache: bool, cache_dir: str | None, previous=None):
        from .load import ParseCache
        from .memo import Memo
        from .workspace import load, read_contents

        self.root, self.in_git, self.config, self.listing = prep.root, prep.in_git, prep.config, prep.listing
        if previous is not None:
            pcache = ParseCache(previous={**previous.pcache.previous, **previous.pcache.fresh})
        elif use_cache:
            pcache = _file_cache(prep, cache_dir)
        else:
            pcache = ParseCache()
        self.sigs = {}
        for rel, abspath in prep.listing.files:
            self.sigs[rel] = _sig(abspath)  # before the read: a later change is seen
        read_contents(prep)
        self.read_at = time.time()
        self.racy = {rel: prep.contents.get(rel) for rel, sig in self.sigs.items()
                     if sig is not None and self.read_at - sig[0] / 1e9 < RACY_S}
        self.files = load([prep.root], prep.root, None, prepared=prep, cache=pcache, graph=False).files
        prep.contents.clear()
        self.pcache = pcache
        self.memo = Memo()

    def same_tree(self, prep) -> bool:
        return prep.in_git == self.in_git and prep.config == self.config and prep.listing == self.listing

    def refresh(self, prep) -> int:
        """Take again the files that changed on disk since they were read; how many."""
        from .load import Listing, ParseCache, load_tree, read_bytes
        from .model import SourceFile

        changed = []
        now = time.time()
        for rel, abspath in self.listing.files:
            sig = _sig(abspath)
            if sig != self.sigs.get(rel):
                changed.append((rel, abspath, sig))
            elif rel in self.racy:
                if _read(abspath) != self.racy[rel]:
                    changed.append((rel, abspath, sig))
                elif sig is None or now - sig[0] / 1e9 >= RACY_S:
                    del self.racy[rel]  # its time is now well behind: a change moves it
        if not changed:
            return 0
        charts = [(rel, ap) for rel, ap in self.listing.files if rel == "Chart.yaml" or rel.endswith("/Chart.yaml")]
        names = {rel for rel, _, _ in changed}
        pcache = ParseCache(previous={**self.pcache.previous, **self.pcache.fresh})
        config = self.config
        contents = {}
        for rel, abspath, _ in changed:  # read as a run reads them (the loader reports a failure)
            if not config.excluded(rel):
                data = read_bytes(SourceFile(rel, abspath), config.max_file_size)
                if data is not None:
                    contents[rel] = data
        # the files alone, with the listing's charts (which files a chart holds is by path)
        files, _ = load_tree(self.root, self.in_git, config.max_file_size, exclude=config.excluded,
                             cache=pcache, listing=Listing(files=[(r, a) for r, a, _ in changed]
                                                           + [c for c in charts if c[0] not in names]),
                             contents=contents)
        read_at = time.time()
        for rel, abspath, sig in changed:
            self.files[rel] = files[rel]
            self.sigs[rel] = sig
            if sig is not None and read_at - sig[0] / 1e9 < RACY_S:
                self.racy[rel] = contents.get(rel)  # the very bytes parsed
            else:
                self.racy.pop(rel, None)
        self.pcache = pcache
        return len(changed)


def _sig(abspath: str):
    try:
        st = os.stat(abspath)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns, st.st_mode)


def _read(abspath: str) -> bytes | None:
    try:
        with open(abspath, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _file_cache(prep, cache_dir: str | None):
    """The parse of the files from the CLI's file cache (read only: the daemon writes no
    cache entry)."""
    from .cache import Cache
    from .load import ParseCache
    from .runcache import files_key

    cache = Cache(cache_dir, max_size=prep.config.cache_max_size)
    key = files_key(prep.root)
    previous = cache.get("files-shared", key) or {}
    previous.update(cache.get("files", key) or {})
    return ParseCache(previous=previous)


class Daemon:
    """``entry``: the command line's own entry point (``cli._main``), called with each
    request's arguments and ``runner=`` this daemon's ``run``; ``commands``: its command
    names."""

    def __init__(self, cache_dir: str | None, entry, commands):
        self.cache_dir = cache_dir
        self.entry, self.commands = entry, commands
        self.repos: dict[str, Repo] = {}  # root -> kept repository, least recently used first
        self.stop = False
        self.requests = 0
        self.started = time.time()
        self.stamp = None

    # ------------------------------------------------------------------ a run

    def run(self, opts, stats):
        """What ``engine.run`` does, over the kept repository."""
        import gc

        from .engine import check, inputs, prepare_run
        from .graph import Graph
        from .schema.validate import forget_slow_patterns
        from .workspace import Loaded, inject_stdin, located_roots

        forget_slow_patterns()
        paths, stdin = inputs(opts)
        prep = prepare_run(opts, paths, stats)
        stats.run_cache = "not used (the daemon's run)"
        t = time.perf_counter()
        repo = self.repos.pop(prep.root, None)
        if repo is None or not repo.same_tree(prep):
            repo = Repo(prep, opts.use_cache, opts.cache_dir, previous=repo)
            stats.timings["daemon load"] = time.perf_counter() - t
            stats.parsed = repo.pcache.parsed
        else:
            stats.parsed = repo.refresh(prep)
            stats.timings["daemon refresh"] = time.perf_counter() - t
        self.repos[prep.root] = repo
        while len(self.repos) > MAX_REPOS:
            del self.repos[next(iter(self.repos))]
        gc_was = gc.isenabled()
        gc.disable()
        try:
            t = time.perf_counter()
            files = {rel: sf.copy() for rel, sf in repo.files.items()}  # the stages mark copies
            if stdin is not None:
                inject_stdin(prep.root, files, stdin[0], stdin[1], prep.config)
            t1 = time.perf_counter()
            repo.memo.next_generation()
            graph = Graph(prep.root, files, located_roots(prep.root, prep.config), prep.config.sources,
                          sourceignores=prep.listing.sourceignores, memo=repo.memo).build()
            stats.timings.update(parse=t1 - t, graph=time.perf_counter() - t1)
            loaded = Loaded(prep.root, prep.config, files, prep.listing, graph)
            report, internal = check(loaded, opts, paths, stats)
        finally:
            if gc_was:
                gc.enable()
        stats.documents = report.documents
        return report, internal

    # ------------------------------------------------------------------ a request

    def handle(self, req) -> dict:
        if not isinstance(req, dict) or req.get("protocol") != PROTOCOL:
            return {"error": "not a request of this protocol"}
        if req.get("stop") is True:
            self.stop = True
            return {"stopped": True, "pid": os.getpid()}
        if req.get("status") is True:
            return {"pid": os.getpid(), "since": self.started, "requests": self.requests,
                    "repositories": list(self.repos)}
        argv, cwd, env, tty, data, mask = (req.get(k) for k in ("argv", "cwd", "env", "tty", "stdin", "umask"))
        if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv) and isinstance(cwd, str)
                and isinstance(mask, int) and not isinstance(mask, bool) and 0 <= mask <= 0o777
                and isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
                and isinstance(tty, list) and len(tty) == 2 and all(isinstance(x, bool) for x in tty)
                and (data is None or isinstance(data, str))):
            return {"error": "a malformed request"}
        if req.get("package") != PACKAGE:  # another installation shares the cache directory
            return {"fallback": "a daemon of another installation"}
        if self.stamp is None:
            self.stamp = _fresh_stamp()
        if _fresh_stamp() != self.stamp:
            self.stop = True  # the installed code changed: the next run starts a daemon of it
            return {"fallback": "restart"}
        if not handed_over(argv, self.commands):
            return {"fallback": "not a run the daemon makes"}
        self.requests += 1
        return self._run(argv, cwd, env, tty, data, mask)

    def _vet(self, args, data) -> None:
        """After the command line parsed the arguments: hand back what the daemon does
        not make (a fix, however its flags were abbreviated; a buffer it was not sent)."""
        if getattr(args, "fix", False) or getattr(args, "diff", False) or getattr(args, "command", "lint") != "lint":
            raise _HandBack("a fix")
        if getattr(args, "stdin_filename", None) and data is None:
            raise _HandBack("the buffer was not sent")

    def _run(self, argv, cwd, env, tty, data, mask) -> dict:
        saved_env = dict(os.environ)
        saved_mask = os.umask(mask)
        saved = sys.stdin, sys.stdout, sys.stderr
        journal: list = []
        out, err = _Out(1, tty[0], journal), _Out(2, tty[1], journal)
        try:
            os.chdir(cwd)
        except OSError as exc:
            return {"fallback": f"cannot enter {cwd}: {exc.strerror}"}
        try:
            os.environ.clear()
            os.environ.update(env)
            raw = (data or "").encode("utf-8", "surrogateescape")
            sys.stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
            sys.stdout, sys.stderr = out, err
            try:
                code = self.entry(list(argv), runner=self.run, vet=lambda args: self._vet(args, data))
            except SystemExit as exc:  # a usage error: argparse exits
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        except _HandBack as exc:
            return {"fallback": str(exc)}
        except Exception as exc:  # the caller runs it itself: its own output, its own error
            return {"fallback": f"{type(exc).__name__}: {exc}"}
        finally:
            os.umask(saved_mask)
            sys.stdin, sys.stdout, sys.stderr = saved
            os.environ.clear()
            os.environ.update(saved_env)
            try:
                os.chdir("/")
            except OSError:  # pragma: no cover
                pass
        return {"exit": code, "output": journal}


def _fresh_stamp() -> str:
    from . import cache

    cache._STAMP = None  # recomputed: the package's files may have been rewritten under us
    return cache.code_stamp()


def _peer_uid(conn: socket.socket) -> int | None:
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:  # pragma: no cover - not Linux: the private directory alone guards
        return None
    _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i")))
    return uid


def serve(entry, commands, cache_dir: str | None, idle: float | None = None, warm: str | None = None) -> int:
    """The daemon's loop (``gitlint-flux daemon serve``): 0 when it ends on its own or
    another daemon already serves the directory, 2 when it cannot."""
    import fcntl
    import gc

    d = daemon_dir(cache_dir)
    path = socket_path(d)
    if path is None:
        print(f"gitlint-flux daemon: {d}: too long a path for a socket; use a shorter --cache-dir", file=sys.stderr)
        return 2
    if not private_dir(d, create=True):
        print(f"gitlint-flux daemon: {d}: not a directory of this user closed to others (mode 0700)",
              file=sys.stderr)
        return 2
    if idle is None:
        try:
            idle = float(os.environ.get(ENV_IDLE) or DEFAULT_IDLE_S)
        except ValueError:
            idle = DEFAULT_IDLE_S
    lock = os.open(os.path.join(d, LOCK), os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            # a daemon stopping for new code may still hold it for a moment
            if time.monotonic() > deadline or ask(d, {"status": True}, timeout=1.0) is not None:
                os.close(lock)
                return 0  # another daemon serves this directory
            time.sleep(0.05)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o077)
    try:
        srv.bind(path)
    finally:
        os.umask(old)
    srv.listen(16)
    ino = os.stat(path).st_ino
    daemon = Daemon(cache_dir, entry, commands)
    daemon.stamp = _fresh_stamp()  # the code it runs, before anything can change it
    os.chdir("/")
    if warm:
        _warm(daemon, warm)
    gc.collect()
    gc.freeze()
    last = time.monotonic()
    gc_due = False
    try:
        while not daemon.stop:
            srv.settimeout(IDLE_GC_S if gc_due else min(idle, 5.0))
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                if gc_due:  # the garbage of the last runs, once they stopped coming
                    gc.unfreeze()
                    gc.collect()
                    gc.freeze()
                    gc_due = False
                if time.monotonic() - last > idle or not _still_ours(path, ino):
                    break
                continue
            last = time.monotonic()
            try:
                with conn:
                    _serve_one(daemon, conn)
            except Exception:  # pragma: no cover - _serve_one answers every error itself
                pass
            gc_due = True
    finally:
        if _still_ours(path, ino):
            try:
                os.unlink(path)
            except OSError:  # pragma: no cover
                pass
        srv.close()
        os.close(lock)
    return 0


def _serve_one(daemon: Daemon, conn: socket.socket) -> None:
    try:
        uid = _peer_uid(conn)
        if uid is not None and uid != os.getuid():
            return  # another user: not answered
        req = receive(conn, within=REQUEST_S)
    except Exception:  # a request that cannot be read: no answer, the next one is served
        return
    try:
        answer = daemon.handle(req)
    except Exception as exc:  # never a dead daemon: the caller runs it itself
        answer = {"fallback": f"{type(exc).__name__}: {exc}"}
    try:
        conn.settimeout(ANSWER_TIMEOUT_S)
        send(conn, answer)
    except (OSError, ValueError):
        pass


def _warm(daemon: Daemon, root: str) -> None:
    """Load ``root`` before the first request (as a run over it would)."""
    from .options import Options, Stats

    try:
        daemon.run(Options(paths=[root], root=root), Stats())
    except Exception:  # the first request reports whatever this was
        daemon.repos.clear()


def _still_ours(path: str, ino: int) -> bool:
    try:
        return os.stat(path).st_ino == ino
    except OSError:
        return False


# --------------------------------------------------------------------------- the command


def command(args, entry, commands) -> int:
    """``gitlint-flux daemon start|stop|status|serve`` (``entry``, ``commands``: as ``Daemon``)."""
    d = daemon_dir(args.cache_dir)
    if args.action == "serve":
        return serve(entry, commands, args.cache_dir, args.idle, args.root and os.path.realpath(args.root))
    if args.action == "start":
        if ask(d, {"status": True}) is not None:
            print(f"gitlint-flux: a daemon already serves {d}", file=sys.stderr)
            return 0
        if socket_path(d) is None:
            print(f"gitlint-flux: {d}: too long a path for a socket; use a shorter --cache-dir", file=sys.stderr)
            return 2
        ok = start(d, args.root and os.path.realpath(args.root), wait=30.0)
        if not ok:
            print(f"gitlint-flux: the daemon did not start ({d})", file=sys.stderr)
            return 2
        print(f"gitlint-flux: daemon started ({d})", file=sys.stderr)
        return 0
    if args.action == "stop":
        answer = ask(d, {"stop": True})
        print(f"gitlint-flux: {'daemon stopped' if answer else 'no daemon runs'} ({d})", file=sys.stderr)
        return 0
    answer = ask(d, {"status": True})
    if answer is None:
        print(f"no daemon runs ({d})")
        return 1
    roots = answer.get("repositories") or []
    print(f"pid {answer.get('pid')}, {answer.get('requests')} runs answered, "
          f"{len(roots)} repositor{'y' if len(roots) == 1 else 'ies'} kept ({d})")
    for r in roots:
        print(f"  {r}")
    return 0
