"""A cache that is never wrong.

Two levels, both under the user's cache directory (``$XDG_CACHE_HOME/gitlint-flux`` or
``~/.cache/gitlint-flux``; ``--cache-dir``; off with ``--no-cache``):

* **files**: per repository root, the parse of each file (documents with positions,
  problems) keyed by the file's content hash; valid for one tool version.
* **runs**: the whole report of a run, keyed by everything it depends on — tool version,
  the configuration's text, the options, every listed path with the content hash of every
  YAML and ``.sourceignore`` file, and the existence of every other file (references to
  non-YAML files). Any change anywhere recomputes the run; unchanged files still come
  from the file cache.

Writes are atomic (a temporary file renamed into place), so two runs at once are safe.
A corrupt, foreign or unreadable entry is ignored and rebuilt; a cache directory that
cannot be written means a run without cache, said once on stderr.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile

from . import __version__

MAGIC = b"GLFC1"


_STAMP: str | None = None


#: installed packages whose files decide results: the YAML parser (libyaml's limits) and
#: the Kubernetes schemas of kubernetes-validate (read as data, never imported)
DEPENDENCIES = ("yaml", "kubernetes_validate")


def _dependency_parts() -> list[str]:
    """Where each dependency is installed and when: an upgrade or reinstall changes it,
    found without importing anything."""
    import importlib.util

    parts = []
    for name in DEPENDENCIES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            parts.append(f"{name}:absent")
            continue
        # the package's __init__ (rewritten by any install) and kubernetes-validate's schema
        # directory; not the package directory, whose time changes when __pycache__ appears
        paths = [spec.origin] if spec.origin else []
        for loc in spec.submodule_search_locations or ():
            paths.append(os.path.join(loc, "kubernetes-json-schema"))
        for path in paths:
            try:
                st = os.stat(path)
                parts.append(f"{name}:{path}:{st.st_size}:{st.st_mtime_ns}")
            except OSError:
                pass
    return parts


def code_stamp() -> str:
    """The tool version plus the size and modification time of the package's own files:
    a development checkout or a reinstall with the same version number still invalidates;
    likewise an upgrade of the dependencies whose data decide results."""
    global _STAMP
    if _STAMP is None:
        pkg = os.path.dirname(os.path.abspath(__file__))
        parts = [__version__, *_dependency_parts()]
        for dirpath, dirs, names in os.walk(pkg):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for n in sorted(names):
                if n.endswith((".py", ".yaml", ".json")):
                    try:
                        st = os.stat(os.path.join(dirpath, n))
                    except OSError:
                        continue
                    parts.append(f"{os.path.relpath(os.path.join(dirpath, n), pkg)}:{st.st_size}:{st.st_mtime_ns}")
        _STAMP = digest("\n".join(parts).encode())
    return _STAMP


def default_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gitlint-flux")


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Cache:
    def __init__(self, directory: str | None, enabled: bool = True):
        self.dir = directory or default_dir()
        self.enabled = enabled
        self._warned = False
        self._errno: int | None = None

    def _path(self, kind: str, key: str) -> str:
        return os.path.join(self.dir, kind, key[:2], key)

    def _warn(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            print(f"gitlint-flux: cache disabled for this run: {why}", file=sys.stderr)

    def get(self, kind: str, key: str):
        if not self.enabled:
            return None
        path = self._path(kind, key)
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
        except OSError:
            return None
        if not blob.startswith(MAGIC):
            return None
        try:
            version, value = pickle.loads(blob[len(MAGIC):])
        except Exception:  # corrupt or foreign entry: ignore, it is rebuilt
            return None
        if version != code_stamp():
            return None
        return value

    def put_in_background(self, entries: list[tuple]) -> bool:
        """Write ``(kind, key, value, fast)`` entries from a forked child while this
        process goes on (the child shares the values copy-on-write); ``wait_for_writers``
        reaps it. False when it cannot fork (no ``os.fork``, or another thread runs):
        then nothing was written."""
        if not self.enabled:
            return True
        import threading

        if not hasattr(os, "fork") or threading.active_count() > 1:
            return False
        try:
            for stream in (sys.stdout, sys.stderr):  # None when started with it closed
                if stream is not None:
                    stream.flush()
            pid = os.fork()
        except (OSError, ValueError):
            return False
        if pid == 0:  # the child: write, and report a failure by its exit status
            code = 0
            try:
                self._warned = True  # the parent says it, once
                for kind, key, value, fast in entries:
                    self.put(kind, key, value, fast=fast)
                code = 0 if self.enabled else (self._errno or 1)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        _WRITERS.append((pid, self))
        return True

    def put(self, kind: str, key: str, value, *, fast: bool = False) -> None:
        """Store ``value`` atomically. ``fast``: pickle without the memo (twice as fast
        to write, a third slower to read, and no memory for the memo), for values whose
        objects are never shared nor cyclic: a shared object would be written once per
        reference."""
        if not self.enabled:
            return
        path = self._path(kind, key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(MAGIC)
                    pickler = pickle.Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL)
                    pickler.fast = fast
                    pickler.dump((code_stamp(), value))
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except (OSError, pickle.PicklingError, RecursionError, ValueError) as exc:
            self.enabled = False
            self._errno = getattr(exc, "errno", None) if 0 < (getattr(exc, "errno", None) or 0) < 256 else None
            self._warn(f"cannot write to {self.dir} ({getattr(exc, 'strerror', None) or exc})")


_WRITERS: list[tuple[int, Cache]] = []


def wait_for_writers() -> None:
    """Reap the background writers; a failed one disables its cache, said once."""
    while _WRITERS:
        pid, cache = _WRITERS.pop()
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            continue
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            cache.enabled = False
            why = os.strerror(code) if code > 1 else "the writer failed"
            cache._warn(f"cannot write to {cache.dir} ({why})")


def key_of(*parts) -> str:
    h = hashlib.blake2b(digest_size=20)
    for p in parts:
        h.update(repr(p).encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()
