"""``python audited.py lint ...``: gitlint-flux's command line under an audit hook.

GLF_AUDIT_LOG: file receiving one line per ``open``/``os.scandir``/``os.listdir`` of a
path under GLF_AUDIT_WATCH (``open <mode> <path>``).  GLF_AUDIT_VANISH: a file deleted
just before the linter opens it (a file removed between listing and reading).
"""

import os
import sys

LOG = os.environ.get("GLF_AUDIT_LOG")
WATCH = os.path.realpath(os.environ.get("GLF_AUDIT_WATCH", "/nonexistent"))
VANISH = os.environ.get("GLF_AUDIT_VANISH")
_log = open(LOG, "a", encoding="utf-8", errors="surrogateescape") if LOG else None


def _path(p):
    if isinstance(p, int) or p is None:
        return None
    if isinstance(p, bytes):
        p = os.fsdecode(p)
    try:
        return os.path.abspath(os.fspath(p))
    except (TypeError, ValueError):
        return None


def hook(event, args):
    if event not in ("open", "os.scandir", "os.listdir"):
        return
    p = _path(args[0] if args else None)
    if p is None:
        return
    if VANISH and event == "open" and p == VANISH and os.path.lexists(p):
        os.unlink(p)
    if _log is not None and (p == WATCH or p.startswith(WATCH + os.sep)):
        mode = args[1] if event == "open" and len(args) > 1 else ""
        _log.write(f"{event} {mode} {p}\n")
        _log.flush()


sys.addaudithook(hook)
sys.argv = ["gitlint-flux"] + sys.argv[1:]
from gitlint_flux.cli import main  # noqa: E402

sys.exit(main())
