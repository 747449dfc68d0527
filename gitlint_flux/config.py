"""Configuration: ``.gitlint-flux.yaml`` or ``[tool.gitlint-flux]`` in ``pyproject.toml``.

Looked up from the lint root upward to the git top level; the first directory that has
one wins, and in one directory ``.gitlint-flux.yaml`` beats ``pyproject.toml``.
``--config FILE`` beats both.  Paths and globs in it are relative to the lint root.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field

from .ignore import glob_match
from .load import DEFAULT_MAX_FILE_SIZE
from .model import SEVERITIES

CONFIG_NAME = ".gitlint-flux.yaml"

KNOWN_KEYS = {
    "extends": "the profile to start from: recommended (default), strict, or a profile file",
    "exclude": "list of path globs never linted (applied to files passed explicitly too)",
    "roots": "directories your clusters sync, each a root scope",
    "sources": "mapping 'GitRepository/<namespace>/<name>' -> directory of this checkout it serves",
    "max-file-size": "files larger than this many bytes are not read",
    "rules": "per-rule overrides: CODE-or-slug: off | error | warning | info | {severity, options}",
    "ignore": "findings to ignore: [{path: glob, rules: [...], resource: Kind/namespace/name glob}]",
    "policies": "directories of custom policy files (YAML)",
    "schema-locations": "directories of JSON schemas, looked up before the bundled ones",
    "schema-order": "precedence of schema sources",
    "kubernetes-version": "Kubernetes version of the core schemas",
    "strict-schemas": "a kind without schema is an error, not info",
    "cache-max-size": "cap of the cache directory: bytes, or a size such as 256MB (default: 256MB)",
    "unapplied": "findings in files no Flux root applies: warning (default, capped), info, off, or error (uncapped)",
    "select": "the rules reported (codes, prefixes such as FLX2, slugs): replaces the profile's selection",
    "extend-select": "rules reported in addition to the selection (codes, prefixes, slugs)",
    "min-severity": "findings below this severity (info | warning | error) are left out of every report",
}
PROFILES = ("recommended", "strict")
PROFILE_KEYS = {"extends", "rules"}


class ConfigError(Exception):
    pass


def did_you_mean(word: str, candidates, cutoff: float = 0.6) -> str:
    """`` (did you mean `x`?)`` for the closest candidate, or an empty string."""
    import difflib

    word = str(word)
    cands = list(candidates)
    lowered = {c.lower(): c for c in cands}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return f" (did you mean `{lowered[close[0]]}`?)" if close else ""


def split_names(value) -> list[str]:
    """Rule names as given: a string or a list of strings, each possibly comma-separated."""
    items = [value] if isinstance(value, str) else list(value or [])
    return [n.strip() for item in items for n in str(item).split(",") if n.strip()]


def expand_names(names: list[str], catalog: dict[str, str]) -> set[str]:
    """Codes named by rule codes, code prefixes (``FLX2``, ``FLX20``) and slugs, given the
    catalog ``{code: slug}``; ``ALL`` names every rule. Raises ``ValueError`` naming the
    first unknown name, with the closest known one."""
    by_slug = {slug: code for code, slug in catalog.items()}
    out: set[str] = set()
    for name in names:
        key = name.strip()
        up, low = key.upper(), key.lower()
        if up == "ALL":
            out.update(catalog)
        elif up in catalog:
            out.add(up)
        elif low in by_slug:
            out.add(by_slug[low])
        elif re.fullmatch(r"[A-Z]+\d{0,3}", up) and any(c.startswith(up) for c in catalog):
            out.update(c for c in catalog if c.startswith(up))
        else:
            raise ValueError(f"unknown rule, prefix or slug `{key}`"
                             + did_you_mean(key, list(catalog) + list(by_slug)))
    return out


def _names(custom: dict | None) -> list[str]:
    cat = rule_catalog(custom)
    return [*cat, *cat.values()]


def rule_catalog(custom: dict | None = None) -> dict[str, str]:
    """``{code: slug}`` of every built-in rule and custom policy."""
    from .rules import all_rules

    out = {code: cls.slug for code, cls in all_rules().items()}
    out.update({spec["code"]: spec["slug"] for spec, _src in (custom or {}).values()})
    return out


@dataclass
class RuleSetting:
    enabled: bool = True
    severity: str | None = None
    options: dict = field(default_factory=dict)


@dataclass
class Ignore:
    path: str | None = None
    rules: set[str] | None = None  # codes; None = every rule
    resource: str | None = None  # Kind/namespace/name glob

    def matches(self, finding) -> bool:
        if self.rules is not None and finding.rule not in self.rules:
            return False
        if self.path is not None and not glob_match(self.path, finding.path):
            return False
        if self.resource is not None:
            res = finding.resource or {}
            ident = f"{res.get('kind', '')}/{res.get('namespace', '')}/{res.get('name', '')}"
            if not res or not fnmatch.fnmatchcase(ident, self.resource):
                return False
        return True


@dataclass
class Config:
    path: str | None = None
    extends: str = "recommended"
    exclude: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    roots_at: list[tuple[int, int]] = field(default_factory=list)  # line, column of each entry
    sources: dict[str, str] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    rules: dict[str, RuleSetting] = field(default_factory=dict)
    ignore: list[Ignore] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)
    custom: dict[str, tuple[dict, str]] = field(default_factory=dict)  # code -> (policy spec, file)
    schema_locations: list[str] = field(default_factory=list)
    schema_order: list[str] | None = None
    kubernetes_version: str | None = None
    strict_schemas: bool = False
    unapplied: str = "warning"  # findings in files no root applies: warning | info | off | error
    cache_max_size: int | None = None  # None: GITLINT_FLUX_CACHE_MAX_SIZE, else 256 MB
    #: ``select:`` / ``extend-select:`` as written (names, checked against the catalog);
    #: the selection itself is resolved by ``findings.choose``
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    min_severity: str | None = None  # ``min-severity:``

    def excluded(self, rel: str) -> bool:
        return any(glob_match(g, rel) for g in self.exclude)

    def ignored(self, finding) -> bool:
        return any(i.matches(finding) for i in self.ignore)


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
            raise ConfigError(f"{path}: unknown configuration key `{key}`{did_you_mean(key, KNOWN_KEYS)} "
                              f"(known keys: {known})")
    cfg = Config(path=path)
    cfg.exclude = _str_list(path, "exclude", data.get("exclude"))
    cfg.roots = _str_list(path, "roots", data.get("roots"))
    seq = data.get("roots")
    pos = getattr(seq, "pos", None)
    cfg.roots_at = [(p[0], p[1]) for p in pos] if isinstance(pos, list) and len(pos) == len(cfg.roots) else \
        [(1, 1)] * len(cfg.roots)
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
    if mfs >= 2**31:  # positions are stored as 32-bit integers
        raise ConfigError(f"{path}: `max-file-size` must be under 2 GiB (2147483648 bytes)")
    cfg.max_file_size = mfs
    cfg.policies = _str_list(path, "policies", data.get("policies"))
    if cfg.policies:
        from .custom import PolicyError, load_policies

        try:
            cfg.custom = load_policies(cfg.policies, os.path.dirname(os.path.abspath(path)), _read_yaml)
        except PolicyError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    extends = data.get("extends", "recommended")
    if not isinstance(extends, str):
        raise ConfigError(f"{path}: `extends` must name a profile ({', '.join(PROFILES)}) or a profile file")
    cfg.extends = extends
    own_rules = parse_rules(path, data.get("rules"), cfg.custom)
    cfg.rules = merge_settings(load_profile(extends, os.path.dirname(path), set()), own_rules)
    cfg.ignore = _parse_ignore(path, data.get("ignore"), cfg.custom)
    cfg.schema_locations = _str_list(path, "schema-locations", data.get("schema-locations"))
    unapplied = data.get("unapplied", "warning")
    if unapplied not in ("warning", "info", "off", "error"):
        raise ConfigError(f"{path}: `unapplied` must be one of warning, info, off, error (got {unapplied!r})")
    cfg.unapplied = unapplied
    if data.get("schema-order") is not None:
        cfg.schema_order = _str_list(path, "schema-order", data.get("schema-order"))
        bad = [s for s in cfg.schema_order if s not in ("repository", "locations", "bundled", "catalog", "kubernetes")]
        if bad or len(set(cfg.schema_order)) != len(cfg.schema_order):
            raise ConfigError(f"{path}: `schema-order` lists each of repository, locations, bundled, catalog, kubernetes "
                              f"at most once (got {', '.join(cfg.schema_order)})")
    kv = data.get("kubernetes-version")
    if kv is not None and not (isinstance(kv, str) and re.match(r"^v?\d+\.\d+(\.\d+)?$", kv.strip())):
        raise ConfigError(f"{path}: `kubernetes-version` must be a quoted version such as \"1.33\" "
                          "(unquoted, YAML reads 1.30 as the number 1.3)")
    cfg.kubernetes_version = None if kv is None else str(kv)
    ss = data.get("strict-schemas", False)
    if not isinstance(ss, bool):
        raise ConfigError(f"{path}: `strict-schemas` must be true or false")
    cfg.strict_schemas = ss
    catalog = None
    for key in ("select", "extend-select"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, (str, list)) or not all(isinstance(v, str) for v in
                                                          ([value] if isinstance(value, str) else value)):
            raise ConfigError(f"{path}: `{key}` must be a list of rule codes, prefixes or slugs")
        names = split_names(value)
        catalog = catalog or rule_catalog(cfg.custom)
        try:
            expand_names(names, catalog)
        except ValueError as exc:
            raise ConfigError(f"{path}: `{key}`: {exc}") from None
        if key == "select":
            cfg.select = names
        else:
            cfg.extend_select = names
        # a rule the profile turns off runs when the configuration selects it (its own
        # `rules: {X: off}` still wins)
        for code in expand_names(names, catalog):
            setting = cfg.rules.get(code)
            if setting is not None and not setting.enabled and code not in own_rules:
                setting.enabled = True
    ms = data.get("min-severity")
    if ms is not None:
        if ms not in SEVERITIES:
            raise ConfigError(f"{path}: `min-severity` must be one of info, warning, error"
                              + did_you_mean(str(ms), SEVERITIES))
        cfg.min_severity = ms
    if data.get("cache-max-size") is not None:
        from .cache import parse_size

        cfg.cache_max_size = parse_size(data["cache-max-size"])
        if cfg.cache_max_size is None:
            raise ConfigError(f"{path}: `cache-max-size` must be a positive number of bytes or a size such as "
                              "256MB (to turn the cache off: --no-cache or GITLINT_FLUX_NO_CACHE=1)")
    return cfg


class _CustomRef:
    def __init__(self, spec: dict):
        self.code = spec["code"]
        self.slug = spec["slug"]
        self.options: dict = {}


def rule_lookup(custom: dict | None = None):
    """Find a rule by code or slug, built-in or custom."""
    from .rules import lookup

    refs = [_CustomRef(spec) for spec, _src in (custom or {}).values()]

    def find(name: str):
        r = lookup(name)
        if r is not None:
            return r
        for c in refs:
            if name.strip().upper() == c.code or name.strip().lower() == c.slug:
                return c
        return None
    return find


def parse_rules(path: str, rules, custom: dict | None = None) -> dict[str, RuleSetting]:
    if rules is None:
        return {}
    if not isinstance(rules, dict):
        raise ConfigError(f"{path}: `rules` must be a mapping of rule code or slug to a setting")
    lookup = rule_lookup(custom)

    out: dict[str, RuleSetting] = {}
    for key, setting in rules.items():
        rule = lookup(str(key))
        if rule is None:
            raise ConfigError(f"{path}: `rules` names an unknown rule `{key}`"
                              f"{did_you_mean(str(key), _names(custom))}")
        rs = RuleSetting()
        if setting in ("off", False, "disable", "disabled"):
            rs.enabled = False
        elif setting in ("on", True, "enable", "enabled"):
            rs.enabled = True
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
            checker = getattr(rule, "checked_options", None)
            if checker is None:  # a custom policy: it has no options
                if opts:
                    raise ConfigError(f"{path}: rules.{key}.options: unknown option `{sorted(opts)[0]}` "
                                      "(options: none)")
                rs.options = {}
            else:
                try:
                    rs.options = checker(opts)
                except ValueError as exc:
                    raise ConfigError(f"{path}: rules.{key}.options: {exc}") from None
        else:
            raise ConfigError(f"{path}: rules.{key} must be off, a severity, or a mapping")
        out[rule.code] = rs
    return out


def merge_settings(base: dict[str, RuleSetting], over: dict[str, RuleSetting]) -> dict[str, RuleSetting]:
    out = {k: RuleSetting(v.enabled, v.severity, dict(v.options)) for k, v in base.items()}
    for code, rs in over.items():
        prev = out.get(code)
        if prev is None:
            out[code] = RuleSetting(rs.enabled, rs.severity, dict(rs.options))
        else:
            out[code] = RuleSetting(rs.enabled, rs.severity or prev.severity, {**prev.options, **rs.options})
    return out


def profile_path(name: str, base_dir: str) -> str:
    if name in PROFILES:
        return os.path.join(os.path.dirname(__file__), "policies", f"{name}.yaml")
    return name if os.path.isabs(name) else os.path.join(base_dir, name)


def load_profile(name: str, base_dir: str, seen: set[str]) -> dict[str, RuleSetting]:
    path = profile_path(name, base_dir)
    if path in seen:
        raise ConfigError(f"{path}: profiles extend each other in a cycle")
    if not os.path.isfile(path):
        raise ConfigError(f"profile `{name}` not found (profiles: {', '.join(PROFILES)}, or a file)")
    data = _read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a profile must be a mapping")
    for key in data:
        if key not in PROFILE_KEYS:
            raise ConfigError(f"{path}: unknown profile key `{key}` (known keys: extends, rules)")
    base = {}
    if data.get("extends"):
        base = load_profile(str(data["extends"]), os.path.dirname(path), seen | {path})
    return merge_settings(base, parse_rules(path, data.get("rules")))


def _parse_ignore(path: str, value, custom=None) -> list[Ignore]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{path}: `ignore` must be a list of {{path, rules, resource}} entries")
    lookup = rule_lookup(custom)

    out = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or not entry or set(entry) - {"path", "rules", "resource", "reason"}:
            raise ConfigError(f"{path}: ignore[{i}] must be a mapping of path, rules, resource (and reason)")
        rules = None
        if entry.get("rules") is not None:
            names = entry["rules"] if isinstance(entry["rules"], list) else [entry["rules"]]
            rules = set()
            for n in names:
                r = lookup(str(n))
                if r is None:
                    raise ConfigError(f"{path}: ignore[{i}] names an unknown rule `{n}`"
                                      f"{did_you_mean(str(n), _names(custom))}")
                rules.add(r.code)
        if entry.get("path") is None and entry.get("resource") is None and rules is None:
            raise ConfigError(f"{path}: ignore[{i}] needs a path, rules or resource")
        out.append(Ignore(entry.get("path"), rules, entry.get("resource")))
    return out


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
        cfg = Config()
        cfg.rules = load_profile("recommended", root, set())
        return cfg
    return parse_config(*found)
