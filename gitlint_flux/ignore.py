"""gitignore-style pattern matching, as source-controller applies it to a source
artifact (``.sourceignore`` files, ``spec.ignore`` and its default exclusions)."""

from __future__ import annotations

from functools import lru_cache

# source-controller's default exclusions (VCS, extensions, CI, extra)
SOURCE_DEFAULT_PATTERNS = (
    ".git/", ".gitignore", ".gitmodules", ".gitattributes",
    "*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip",
    ".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml", ".drone.yml",
    "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml",
    "**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml",
)


class _Glob:
    """A glob compiled to tokens and matched by simulating all positions at once
    (linear in the text for each pattern token): no regular expression, so no
    catastrophic backtracking on patterns such as `*a*a*a*b`, and no syntax errors.

    ``*`` matches within a path segment, ``**`` across segments (``**/`` also matches
    nothing), ``?`` one character but ``/``, ``[...]`` a class (``!`` or ``^`` negates).
    """

    __slots__ = ("tokens",)

    def __init__(self, glob: str):
        toks: list[tuple] = []
        i, n = 0, len(glob)
        while i < n:
            c = glob[i]
            if c == "*":
                if glob.startswith("**/", i):
                    if not (toks and toks[-1][0] == "**/"):
                        toks.append(("**/",))
                    i += 3
                    continue
                if glob.startswith("**", i):
                    toks.append(("**",))
                    i += 2
                    while i < n and glob[i] == "*":
                        i += 1
                    continue
                if not (toks and toks[-1][0] == "*"):
                    toks.append(("*",))
            elif c == "?":
                toks.append(("?",))
            elif c == "[":
                j = glob.find("]", i + 2 if glob[i + 1:i + 2] in ("!", "^", "]") else i + 1)
                if j == -1:
                    toks.append(("lit", c))
                else:
                    body = glob[i + 1:j]
                    neg = body[:1] in ("!", "^")
                    if neg:
                        body = body[1:]
                    chars, ranges, k = set(), [], 0
                    while k < len(body):
                        if k + 2 < len(body) and body[k + 1] == "-":
                            ranges.append((body[k], body[k + 2]))
                            k += 3
                        else:
                            chars.add(body[k])
                            k += 1
                    toks.append(("cls", frozenset(chars), tuple(ranges), neg))
                    i = j
            elif c == "\\" and i + 1 < n:
                i += 1
                toks.append(("lit", glob[i]))
            else:
                toks.append(("lit", c))
            i += 1
        self.tokens = tuple(toks)

    def match(self, text: str) -> bool:
        toks = self.tokens
        m = len(toks)
        states = self._closure({0}, text, 0)
        for pos, ch in enumerate(text):
            nxt: set[int] = set()
            for s in states:
                if s >= m:
                    continue
                t = toks[s]
                kind = t[0]
                if kind == "lit":
                    if t[1] == ch:
                        nxt.add(s + 1)
                elif kind == "?":
                    if ch != "/":
                        nxt.add(s + 1)
                elif kind == "*":
                    if ch != "/":
                        nxt.add(s)
                elif kind == "**":
                    nxt.add(s)
                elif kind == "**/":
                    nxt.add(s)  # consume within "any prefix ending in /"
                    if ch == "/":
                        nxt.add(s + 1)
                elif kind == "cls":
                    hit = ch in t[1] or any(a <= ch <= b for a, b in t[2])
                    if hit != t[3] and ch != "/":
                        nxt.add(s + 1)
            if not nxt:
                return False
            states = self._closure(nxt, text, pos + 1)
        return m in states

    def _closure(self, states: set[int], text: str, pos: int) -> set[int]:
        toks = self.tokens
        out = set(states)
        stack = list(states)
        while stack:
            s = stack.pop()
            if s < len(toks) and toks[s][0] in ("*", "**", "**/") and s + 1 not in out:
                # a star may match nothing; `**/` may match nothing only at a segment start
                if toks[s][0] != "**/" or pos == 0 or text[pos - 1] == "/":
                    out.add(s + 1)
                    stack.append(s + 1)
        return out


@lru_cache(maxsize=4096)
def _glob_to_regex(glob: str) -> _Glob:
    """The compiled glob (named for its callers: it has a regex-like ``match``)."""
    return _Glob(glob)


class Pattern:
    __slots__ = ("negate", "dir_only", "anchored", "regex", "base", "line")

    def __init__(self, line: str, base: str = ""):
        self.line = line
        self.negate = line.startswith("!")
        if self.negate:
            line = line[1:]
        self.dir_only = line.endswith("/")
        line = line.rstrip("/")
        self.anchored = "/" in line
        line = line.lstrip("/")
        self.regex = _glob_to_regex(line)
        self.base = base.strip("/")

    def matches(self, path: str, is_dir: bool) -> bool:
        """``path`` is relative to the source root, ``/`` separated."""
        if self.base:
            if not path.startswith(self.base + "/"):
                return False
            path = path[len(self.base) + 1:]
        parts = path.split("/")
        # a pattern matches a path when it matches the path or any of its parent dirs
        for i in range(len(parts), 0, -1):
            sub_is_dir = is_dir or i < len(parts)
            if self.dir_only and not sub_is_dir:
                continue
            candidate = "/".join(parts[:i])
            if self.anchored:
                if self.regex.match(candidate):
                    return True
            elif self.regex.match(parts[i - 1]):
                return True
        return False


def parse_patterns(text: str, base: str = "") -> list[Pattern]:
    out = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        out.append(Pattern(line, base))
    return out


class Matcher:
    """Last matching pattern wins, as in gitignore."""

    def __init__(self, patterns: list[Pattern]):
        self.patterns = patterns
        self._signature: tuple | None = None

    def signature(self) -> tuple:
        """The patterns as plain data (equal signatures: the same decisions)."""
        if self._signature is None:
            self._signature = tuple((p.line, p.base) for p in self.patterns)
        return self._signature

    def ignored(self, path: str, is_dir: bool = False) -> bool:
        result = False
        for p in self.patterns:
            if p.matches(path, is_dir):
                result = not p.negate
        return result


def glob_match(pattern: str, path: str) -> bool:
    """A path glob as the config uses it: ``**`` crosses directories, ``*`` does not; a
    pattern without ``/`` matches the file name anywhere."""
    pattern = pattern.strip()
    if pattern.endswith("/"):
        pattern += "**"
    if "/" not in pattern:
        return bool(_glob_to_regex(pattern).match(path.rsplit("/", 1)[-1]))
    return bool(_glob_to_regex(pattern.lstrip("/")).match(path))
