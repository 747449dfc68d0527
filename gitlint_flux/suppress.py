"""Inline suppressions in YAML comments.

* ``# gitlint-flux: disable=RULE[,RULE] -- reason`` at the end of a line suppresses those
  rules on that line; alone on a line, on the next line that holds YAML.
* ``# gitlint-flux: disable-file=RULE[,RULE]`` suppresses them in the whole file.
* ``# gitlint-flux: disable-block[=RULE,...]`` ... ``# gitlint-flux: enable-block[=RULE,...]``
  suppresses them (all rules without ``=``) on the lines between.

Rules are named by code or slug; ``all`` names every rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(
    r"#\s*gitlint-flux:\s*(disable-file|disable-block|enable-block|disable)\b\s*(?:=\s*([^\s#]+(?:\s*,\s*[^\s#]+)*))?"
    r"(?:\s*--\s*(.*))?\s*$")


@dataclass
class Suppression:
    path: str
    line: int  # line of the comment
    column: int
    kind: str  # line, file, block
    rules: set[str] | None  # codes (None = all rules)
    names: list[str]
    first: int = 0  # first line covered
    last: int = 0  # last line covered
    reason: str = ""
    used: bool = False
    unknown: list[str] = field(default_factory=list)

    def covers(self, code: str, line: int) -> bool:
        return (self.rules is None or code in self.rules) and self.first <= line <= self.last


def parse(path: str, text: str, lookup) -> list[Suppression]:
    """Suppressions of one file; ``lookup(name)`` maps a code or slug to a rule (or None)."""
    if "gitlint-flux:" not in text:
        return []
    lines = text.splitlines()
    out: list[Suppression] = []
    open_blocks: list[Suppression] = []
    for i, raw in enumerate(lines):
        if "gitlint-flux:" not in raw:
            continue
        hash_at = raw.find("#")
        if hash_at < 0:
            continue
        m = _DIRECTIVE.search(raw, hash_at)
        if not m:
            continue
        kind, names_s, reason = m.group(1), m.group(2), (m.group(3) or "").strip()
        names = [n.strip() for n in names_s.split(",")] if names_s else []
        rules: set[str] | None = None
        unknown = []
        if names and "all" not in names:
            rules = set()
            for n in names:
                r = lookup(n)
                if r is None:
                    unknown.append(n)
                else:
                    rules.add(r.code)
        line = i + 1
        col = m.start() + 1
        if kind == "enable-block":
            for blk in reversed(open_blocks):
                if blk.rules == rules or rules is None:
                    blk.last = line
                    open_blocks.remove(blk)
                    break
            continue
        s = Suppression(path, line, col, kind.replace("disable-", "").replace("disable", "line"), rules, names,
                        reason=reason, unknown=unknown)
        if s.kind == "file":
            s.first, s.last = 1, len(lines) + 1
        elif s.kind == "block":
            s.first, s.last = line, len(lines) + 1
            open_blocks.append(s)
        else:
            before = raw[:hash_at].strip()
            if before:
                s.first = s.last = line
            else:
                target = line + 1
                while target <= len(lines) and (not lines[target - 1].strip()
                                                or lines[target - 1].lstrip().startswith("#")):
                    target += 1
                s.first = s.last = target
        out.append(s)
    return out
