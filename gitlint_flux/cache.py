"""A cache that is never wrong, and only ever data.

Two levels, both under the user's cache directory (``$XDG_CACHE_HOME/gitlint-flux`` or
``~/.cache/gitlint-flux``; ``--cache-dir``; off with ``--no-cache`` or
``GITLINT_FLUX_NO_CACHE=1``):

* **files**: per repository root, the parse of each file (documents with positions,
  problems) keyed by the file's content hash; valid for one tool version.
* **runs**: the whole report of a run, keyed by everything it depends on — tool version,
  the configuration's text, the options, every listed path with the content hash of every
  YAML and ``.sourceignore`` file, and the existence of every other file (references to
  non-YAML files). Any change anywhere recomputes the run; unchanged files still come
  from the file cache.

An entry is a header (magic, format version, kind, the code stamp, an optional MAC) and
data in a format whose decoder builds nothing but the project's own values
(``codec.py``): never a pickle. An entry that does not decode to the expected shape is
ignored and rebuilt. Anyone who can write the directory can at worst change or hide the
findings of a run that reads it (as they could by editing the repository): where that
matters, turn the cache off, or set ``GITLINT_FLUX_CACHE_KEY`` so that only entries
written with the same key are read (a keyed BLAKE2b MAC).

The directory is capped (``cache-max-size``, ``GITLINT_FLUX_CACHE_MAX_SIZE``; 256 MB):
each write adds its size to a running total (the ``usage`` file) and, past the cap, the
least recently used entries (a read refreshes an entry's time) are removed down to three
quarters of it, the total then counted again from the directory.

Writes are atomic (a temporary file renamed into place), so two runs at once are safe;
two writers may each miss the other's size in the total, which the next eviction's count
corrects. A cache directory that cannot be written means a run without cache, said once
on stderr.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys
import tempfile
import time

from . import __version__

MAGIC = b"GLFC"
#: magic, format version (1 byte), kind (1 byte), code stamp (32 hex digits), MAC length (1 byte)
HEADER = len(MAGIC) + 1 + 1 + 32 + 1

DEFAULT_MAX_SIZE = 256 * 1024 * 1024
#: an eviction removes entries down to this share of the cap, so that it is rare
LOW_WATER = 0.75
USAGE = "usage"
#: leftovers of a writer that was killed are removed by an eviction after this long
STALE_TMP_S = 3600

ENV_OFF = "GITLINT_FLUX_NO_CACHE"
ENV_MAX_SIZE = "GITLINT_FLUX_CACHE_MAX_SIZE"
ENV_KEY = "GITLINT_FLUX_CACHE_KEY"


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
    """``$XDG_CACHE_HOME/gitlint-flux``, else ``~/.cache/gitlint-flux`` (a relative
    ``XDG_CACHE_HOME`` is ignored, as the XDG Base Directory specification says)."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gitlint-flux")


_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)


def parse_size(value) -> int | None:
    """A size in bytes from ``268435456``, ``"256M"``, ``"256 MB"``, ``"1GiB"`` (K, M, G,
    T are powers of 1024); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if not isinstance(value, str):
        return None
    m = _SIZE.match(value)
    if m is None:
        return None
    n = int(m.group(1)) * 1024 ** "_kmgt".index(m.group(2).lower() or "_")
    return n if n > 0 else None


def env_max_size() -> int | None:
    return parse_size(os.environ.get(ENV_MAX_SIZE, "")) if os.environ.get(ENV_MAX_SIZE) else None


def _env_off() -> bool:
    return os.environ.get(ENV_OFF, "").strip().lower() not in ("", "0", "false", "no", "off")


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Cache:
    def __init__(self, directory: str | None, enabled: bool = True, max_size: int | None = None):
        """``max_size``: the configuration's cap; ``GITLINT_FLUX_CACHE_MAX_SIZE`` wins over
        it, 256 MB without either. ``GITLINT_FLUX_NO_CACHE=1`` turns the cache off."""
        self.dir = directory or default_dir()
        self.enabled = enabled and not _env_off()
        self.max_size = env_max_size() or max_size or DEFAULT_MAX_SIZE
        key = os.environ.get(ENV_KEY)
        self._mac_key = hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=32).digest() \
            if key else None
        self._warned = False
        self._errno: int | None = None

    def _path(self, kind: str, key: str) -> str:
        return os.path.join(self.dir, kind, key[:2], key)

    def _warn(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            print(f"gitlint-flux: cache disabled for this run: {why}", file=sys.stderr)

    def _mac(self, header: bytes, payload: bytes) -> bytes:
        h = hashlib.blake2b(key=self._mac_key, digest_size=32)
        h.update(header)
        h.update(payload)
        return h.digest()

    def get(self, kind: str, key: str):
        """The value stored under ``key``, or None: absent, of another tool build or format,
        not authenticated when a key is set, or not decoding to the value ``kind`` holds."""
        if not self.enabled:
            return None
        from .codec import CODECS, FORMAT

        _encode, decode, code = CODECS[kind]
        path = self._path(kind, key)
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
        except OSError:
            return None
        if len(blob) < HEADER or not blob.startswith(MAGIC) or blob[4] != FORMAT or blob[5:6] != code \
                or blob[6:38] != code_stamp().encode():
            return None
        maclen = blob[38]
        payload = blob[HEADER + maclen:]
        if self._mac_key is not None:
            if maclen != 32 or not hmac.compare_digest(blob[HEADER:HEADER + 32], self._mac(blob[:HEADER], payload)):
                return None
        try:
            value = decode(payload)
        except Exception:  # corrupt, foreign or forged: ignore it, it is rebuilt
            return None
        try:
            os.utime(path)  # recently used: the last to be evicted
        except OSError:
            pass
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
        """Store ``value`` atomically, then keep the directory under its cap. ``fast`` is
        accepted for the callers of the earlier format and changes nothing. A value the
        format cannot hold is not stored."""
        if not self.enabled:
            return
        from .codec import CODECS, FORMAT, CodecError

        encode, _decode, code = CODECS[kind]
        try:
            payload = encode(value)
        except (CodecError, TypeError, ValueError, OverflowError, RecursionError, ImportError):
            return
        header = MAGIC + bytes((FORMAT,)) + code + code_stamp().encode() + bytes((32 if self._mac_key else 0,))
        streamed = not isinstance(payload, (bytes, bytearray))
        mac = self._mac(header, payload) if self._mac_key is not None and not streamed else \
            (bytes(32) if self._mac_key is not None else b"")
        path = self._path(kind, key)
        try:
            if not os.path.isdir(self.dir):
                os.makedirs(self.dir, mode=0o700, exist_ok=True)  # a shared home: readable by its owner
            os.makedirs(os.path.dirname(path), exist_ok=True)
            try:
                old = os.stat(path).st_size
            except OSError:
                old = 0
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            try:
                with os.fdopen(fd, "w+b") as fh:
                    fh.write(header)
                    fh.write(mac)
                    if not streamed:
                        fh.write(payload)
                        size = len(payload)
                    else:
                        # written as encoded; the head (and the MAC over everything) after
                        fh.write(payload.head)
                        size = len(payload.head)
                        for chunk in payload.chunks():
                            fh.write(chunk)
                            size += len(chunk)
                        fixed = payload.fix()
                        fh.seek(len(header) + len(mac))
                        fh.write(fixed)
                        if self._mac_key is not None:
                            fh.flush()
                            fh.seek(len(header) + len(mac))
                            h = hashlib.blake2b(key=self._mac_key, digest_size=32)
                            h.update(header)
                            for block in iter(lambda: fh.read(1 << 20), b""):
                                h.update(block)
                            mac = h.digest()
                            fh.seek(len(header))
                            fh.write(mac)
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as exc:
            self.enabled = False
            self._errno = exc.errno if 0 < (exc.errno or 0) < 256 else None
            self._warn(f"cannot write to {self.dir} ({exc.strerror or exc})")
            return
        self._account(len(header) + len(mac) + size - old)

    # ----------------------------------------------------------------------- the cap

    def _account(self, delta: int) -> None:
        """Add ``delta`` bytes to the running total; past the cap, evict."""
        usage = os.path.join(self.dir, USAGE)
        total = None
        try:
            with open(usage, "rb") as fh:
                text = fh.read(32)
            if text.isdigit():
                total = int(text) + delta
        except OSError:
            pass
        if total is None:  # first write, or a total that is not a number: count
            total = sum(e[1] for e in self.entries())
        if total > self.max_size:
            total = self.evict(int(self.max_size * LOW_WATER))
        self._write_usage(total)

    def _write_usage(self, total: int) -> None:
        usage = os.path.join(self.dir, USAGE)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(str(max(total, 0)).encode())
            os.replace(tmp, usage)
        except OSError:
            pass

    def entries(self, stale_tmp: bool = False) -> list[tuple[str, int, float, str]]:
        """Every entry of the directory as ``(path, size, last use, kind)``: the files of
        the kinds' directories named as keys (and, with ``stale_tmp``, temporary files a
        killed writer left over an hour ago, as kind ``tmp``). Nothing else is touched."""
        from .codec import CODECS

        out = []
        now = time.time()
        for kind in CODECS:
            try:
                subs = [e for e in os.scandir(os.path.join(self.dir, kind)) if _is_shard(e.name)]
            except OSError:
                continue
            for sub in subs:
                try:
                    names = list(os.scandir(sub.path))
                except OSError:
                    continue
                for e in names:
                    is_key = _is_key(e.name)
                    if not is_key and not (stale_tmp and e.name.startswith(".tmp-")):
                        continue
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if not e.is_file(follow_symlinks=False):
                        continue
                    if is_key:
                        out.append((e.path, st.st_size, st.st_mtime, kind))
                    elif now - st.st_mtime > STALE_TMP_S:
                        out.append((e.path, st.st_size, st.st_mtime, "tmp"))
        return out

    def evict(self, target: int) -> int:
        """Remove the least recently used entries until at most ``target`` bytes are
        left; returns the bytes left."""
        found = self.entries(stale_tmp=True)
        total = sum(e[1] for e in found)
        for path, size, _used, kind in sorted(found, key=lambda e: (e[3] != "tmp", e[2])):
            if total <= target:
                break
            try:
                os.unlink(path)
                total -= size
            except FileNotFoundError:
                total -= size
            except OSError:
                pass
        return total

    def info(self) -> dict:
        """Location, size and entries (by kind) of the directory."""
        found = self.entries()
        kinds: dict[str, int] = {}
        for e in found:
            kinds[e[3]] = kinds.get(e[3], 0) + 1
        return {"location": self.dir, "exists": os.path.isdir(self.dir), "size": sum(e[1] for e in found),
                "entries": len(found), "kinds": kinds, "max_size": self.max_size}

    def clean(self) -> tuple[int, int]:
        """Remove every entry (and the temporary files, the running total, the emptied
        directories); anything else in the directory is left alone. Returns (entries,
        bytes) removed."""
        from .codec import CODECS

        n = size = 0
        for path, sz, _used, kind in self.entries(stale_tmp=True):
            try:
                os.unlink(path)
            except OSError:
                continue
            if kind != "tmp":
                n += 1
            size += sz
        try:
            os.unlink(os.path.join(self.dir, USAGE))
        except OSError:
            pass
        for kind in CODECS:
            top = os.path.join(self.dir, kind)
            try:
                subs = [e.path for e in os.scandir(top) if _is_shard(e.name)]
            except OSError:
                continue
            for sub in subs:
                try:
                    os.rmdir(sub)
                except OSError:
                    pass
            try:
                os.rmdir(top)
            except OSError:
                pass
        return n, size


_HEX = frozenset("0123456789abcdef")


def _is_shard(name: str) -> bool:
    return len(name) == 2 and set(name) <= _HEX


def _is_key(name: str) -> bool:
    return len(name) == 40 and set(name) <= _HEX


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
