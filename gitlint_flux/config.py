"""Configuration: ``.gitlint-flux.yaml`` or ``[tool.gitlint-flux]`` in ``pyproject.toml``.

Looked up from the lint root upward to the git top level; the first directory that has
one wins, and in one directory ``.gitlint-flux.yaml`` beats ``pyproject.toml``.
``--config FILE`` beats both.  Paths and globs in it are relative to the lint root.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .ignore import glob_match
from .model import SEVERITIES

CONFIG_NAME = ".gitlint-flux.yaml"
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024

KNOWN_KEYS = {
    "exclude": "list of path globs never linted (applied to files passed explicitly too)",
    "roots": "directories your clusters sync, each a root scope",
    "sources": "mapping 'GitRepository/<namespace>/<name>' -> directory of this checkout it serves",
    "max-file-size": "files larger than this many bytes are not read",
    "rules": "per-rule overrides: CODE-or-slug: off | error | warning | info | {severity, options}",
}


class ConfigError(Exception):
    pass


@dataclass
class RuleSetting:
    enabled: bool = True
    severity: str | None = None
    options: dict = field(default_factory=dict)


@dataclass
class Config:
    path: str | None = None
    exclude: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    rules: dict[str, RuleSetting] = field(default_factory=dict)

    def excluded(self, rel: str) -> bool:
        return any(glob_match(g, rel) for g in self.exclude)


def _read_yaml(path: str) -> object:
    from .yamlcompose import compose_all

    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    docs, errors = compose_all(text)
    if errors:
        e = errors[0]
        raise ConfigError(f"{path}:{e.line}:{e.column}: invalid YAML: {e.message}")
    return docs[0][0] if docs else {}


def _read_pyproject(path: str) -> object | None:
    import tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    tool = data.get("tool")
    if isinstance(tool, dict) and "gitlint-flux" in tool:
        return tool["gitlint-flux"]
    return None


def find_config(root: str, top: str | None) -> tuple[str, object] | None:
    d = root
    stop = top or root
    while True:
        cand = os.path.join(d, CONFIG_NAME)
        if os.path.isfile(cand):
            return cand, _read_yaml(cand)
        pp = os.path.join(d, "pyproject.toml")
        if os.path.isfile(pp):
            data = _read_pyproject(pp)
            if data is not None:
                return pp, data
        if os.path.realpath(d) == os.path.realpath(stop):
            return None
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _str_list(path: str, key: str, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: `{key}` must be a list of strings")
    return list(value)


def parse_config(path: str, data: object) -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping")
    for key in data:
        if key not in KNOWN_KEYS:
            known = ", ".join(sorted(KNOWN_KEYS))
            raise ConfigError(f"{path}: unknown configuration key `{key}` (known keys: {known})")
    cfg = Config(path=path)
    cfg.exclude = _str_list(path, "exclude", data.get("exclude"))
    cfg.roots = _str_list(path, "roots", data.get("roots"))
    sources = data.get("sources") or {}
    if not isinstance(sources, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in sources.items()):
        raise ConfigError(f"{path}: `sources` must map 'GitRepository/<namespace>/<name>' to a directory")
    for k in sources:
        if len([p for p in k.split("/") if p]) not in (2, 3):
            raise ConfigError(f"{path}: `sources` key `{k}` must be '<Kind>/<namespace>/<name>' or '<namespace>/<name>'")
    cfg.sources = dict(sources)
    mfs = data.get("max-file-size", DEFAULT_MAX_FILE_SIZE)
    if not isinstance(mfs, int) or isinstance(mfs, bool) or mfs <= 0:
        raise ConfigError(f"{path}: `max-file-size` must be a positive number of bytes")
    cfg.max_file_size = mfs
    rules = data.get("rules") or {}
    if not isinstance(rules, dict):
        raise ConfigError(f"{path}: `rules` must be a mapping of rule code or slug to a setting")
    from .rules import lookup

    for key, setting in rules.items():
        rule = lookup(str(key))
        if rule is None:
            raise ConfigError(f"{path}: `rules` names an unknown rule `{key}`")
        rs = RuleSetting()
        if setting in ("off", False, "disable", "disabled"):
            rs.enabled = False
        elif isinstance(setting, str) and setting in SEVERITIES:
            rs.severity = setting
        elif isinstance(setting, dict):
            for k in setting:
                if k not in ("severity", "options", "enabled"):
                    raise ConfigError(f"{path}: rules.{key}: unknown setting `{k}`")
            sev = setting.get("severity")
            if sev is not None and sev not in SEVERITIES:
                raise ConfigError(f"{path}: rules.{key}.severity must be one of {', '.join(SEVERITIES)}")
            rs.severity = sev
            rs.enabled = setting.get("enabled", True) is not False
            opts = setting.get("options") or {}
            if not isinstance(opts, dict):
                raise ConfigError(f"{path}: rules.{key}.options must be a mapping")
            unknown = set(opts) - set(rule.options)
            if unknown:
                raise ConfigError(f"{path}: rules.{key}.options: unknown option `{sorted(unknown)[0]}`")
            rs.options = dict(opts)
        else:
            raise ConfigError(f"{path}: rules.{key} must be off, a severity, or a mapping")
        cfg.rules[rule.code] = rs
    return cfg


def load_config(root: str, top: str | None, explicit: str | None) -> Config:
    if explicit:
        if not os.path.isfile(explicit):
            raise ConfigError(f"{explicit}: configuration file not found")
        if explicit.endswith(".toml"):
            data = _read_pyproject(explicit)
            return parse_config(explicit, data or {})
        return parse_config(explicit, _read_yaml(explicit))
    found = find_config(root, top)
    if found is None:
        return Config()
    return parse_config(*found)
