"""The package's shape, checked against the code: no import cycle (type-checking imports
included), no module importing another module's private name, and the module table of
docs/architecture.md naming exactly the modules that exist, with the imports it allows."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "gitlint_flux"
DOC = PKG.parent / "docs" / "architecture.md"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(mod: str, is_pkg: bool, level: int, name: str | None) -> str:
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports() -> dict[str, set[tuple[str, str | None]]]:
    """module -> {(imported module, imported name or None)}, every import statement
    anywhere in the module (functions and TYPE_CHECKING blocks included)."""
    mods = _modules()
    out: dict[str, set] = {}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("gitlint_flux"):
                        found.add((a.name, None))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(mod, is_pkg, node.level, node.module) if node.level else (node.module or "")
                if not target.startswith("gitlint_flux"):
                    continue
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if sub in mods:
                        found.add((sub, None))  # `from . import x`: the module x
                    else:
                        found.add((target, a.name))
        out[mod] = found
    return out


def _edges() -> dict[str, set[str]]:
    mods = set(_modules())
    g: dict[str, set[str]] = {}
    for mod, imps in imports().items():
        deps = set()
        for target, _name in imps:
            while target and target not in mods:
                target = target.rpartition(".")[0]
            if target and target != mod:
                deps.add(target)
        g[mod] = deps
    return g


def _cycles(g: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            strong(v)
    return out


def _importers(g, mod):
    return {m for m, deps in g.items() if mod in deps}


def test_no_import_cycle():
    g = _edges()
    # a package's __init__ importing its own submodules is not a cycle of meaning: the
    # submodules import their siblings, never the package for its re-exports
    for mod in list(g):
        g[mod] = {d for d in g[mod] if not (mod.startswith(d + ".") and _modules()[d].name == "__init__.py")}
    assert _cycles(g) == []


def test_no_private_imports_across_modules():
    bad = []
    for mod, imps in imports().items():
        for target, name in imps:
            if name and name.startswith("_") and not name.startswith("__") and target != mod:
                bad.append(f"{mod} imports {target}.{name}")
    assert bad == []


def _documented() -> dict[str, set[str]]:
    """The module table of docs/architecture.md: module -> the project modules it may import."""
    rows = {}

    def module(text: str) -> str:
        return "gitlint_flux." + text.strip().strip("`").removesuffix(".py").replace("/", ".").rstrip(".")

    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| (`[\w/.]+`(?:, `[\w/.]+`)*) \|.*\| ([^|]*) \|$", line)
        if not m:
            continue
        allowed = {module(a) for a in re.split(r",\s*", m.group(2)) if a.strip() and a.strip() not in ("—", "-")}
        for name in re.findall(r"`([\w/.]+)`", m.group(1)):
            rows[module(name)] = allowed
    return rows


def _covered_by(mod: str, names) -> str | None:
    """The documented row a module belongs to: itself, or its package (`schema/`)."""
    while mod:
        if mod in names:
            return mod
        mod = mod.rpartition(".")[0]
    return None


def test_architecture_table_names_every_module_and_its_imports():
    rows = _documented()
    assert rows, "docs/architecture.md has no module table"
    g = _edges()
    missing = sorted(m for m in g if m != "gitlint_flux" and _covered_by(m, rows) is None)
    assert missing == [], f"modules not in docs/architecture.md: {missing}"
    stale = sorted(r for r in rows if not any(m == r or m.startswith(r + ".") for m in g))
    assert stale == [], f"docs/architecture.md names modules that do not exist: {stale}"
    wrong = []
    for mod, deps in g.items():
        row = _covered_by(mod, rows)
        if row is None:
            continue
        for d in deps:
            drow = _covered_by(d, rows) or d
            if drow == row or drow == "gitlint_flux":
                continue
            if drow not in rows[row]:
                wrong.append(f"{mod} imports {d} (not allowed for `{row}` in docs/architecture.md)")
    assert wrong == []


def test_core_model_imports_nothing_of_the_project():
    assert {t for t, _ in imports()["gitlint_flux.model"]} == set()


def test_formatters_see_only_the_report():
    """A formatter never reads the environment or the disk: the CLI hands it the workspace."""
    for path in sorted((PKG / "report").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "os.environ" not in text and "getenv" not in text and "open(" not in text, path.name
