"""gitignore-style pattern matching, as source-controller applies it to a source
artifact (``.sourceignore`` files, ``spec.ignore`` and its default exclusions)."""

from __future__ import annotations

import re
from functools import lru_cache

# source-controller's default exclusions (VCS, extensions, CI, extra)
SOURCE_DEFAULT_PATTERNS = (
    ".git/", ".gitignore", ".gitmodules", ".gitattributes",
    "*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip",
    ".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml", ".drone.yml",
    "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml",
    "**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml",
)


@lru_cache(maxsize=4096)
def _glob_to_regex(glob: str) -> re.Pattern:
    i, n, out = 0, len(glob), []
    while i < n:
        c = glob[i]
        if c == "*":
            if glob[i:i + 3] == "**/":
                out.append("(?:.*/)?")
                i += 3
                continue
            if glob[i:i + 2] == "**":
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = glob.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = glob[i + 1:j].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


class Pattern:
    __slots__ = ("negate", "dir_only", "anchored", "regex", "base")

    def __init__(self, line: str, base: str = ""):
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
