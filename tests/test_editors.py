"""Editors: `--stdin-filename`, and the snippets of docs/integrations.md fed with real text
output (paths with spaces, colons and non-ASCII letters).

Each snippet's pattern is taken from the documentation itself and applied the way its
editor applies it: the errorformat through Vim's own quickfix parser (Neovim or Vim, as
nvim-lint's `from_errorformat` does), flycheck's patterns through flycheck in Emacs, the
VS Code problem matcher's regexp through a JavaScript engine (node).  Where a program is
missing, a faithful translation of the pattern to a Python regex is used instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import flux_ks, git_init, gotk_sync

from gitlint_flux.model import Finding, RunReport
from gitlint_flux.report import text
from gitlint_flux.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "integrations.md").read_text(encoding="utf-8")
# the engine/CLI change that comes with the pre-commit hook (stdin reports only its file)

BAD = "apps/ünï còde/bad: file.yaml"  # a space, a colon, non-ASCII letters


def run_cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}
    env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "gitlint_flux", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", env=env, cwd=cwd, timeout=60)


@pytest.fixture
def fleet(repo):
    return git_init(repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": f'resources:\n  - ok.yaml\n  - "{BAD[5:]}"\n  - notes.yaml\n  - gone.yaml\n',
        "apps/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n",
        BAD: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        "apps/notes.yaml": "just: notes\n",  # not a manifest: a finding on notes.yaml about the kustomization
        "vendor/upstream.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n",
        ".gitlint-flux.yaml": "exclude:\n  - vendor/**\nrules:\n  FLX002: warning\n",
    }))


BUFFER = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n"  # unsaved: a duplicate key


def buffer_output(fleet: Path) -> str:
    r = run_cli("lint", "--quiet", "--no-color", "--stdin-filename", str(fleet / BAD), "-", stdin=BUFFER)
    assert r.returncode == 0, r.stderr  # a warning only
    return r.stdout


def synthetic_output() -> str:
    """The text formatter's output for one finding of each severity, on awkward paths."""
    rules = all_rules()

    def f(code, sev, path, line, col, msg):
        return Finding(code, rules[code].slug, sev, msg, path, line, col)

    findings = [
        f("FLX101", "error", "apps/with space/kustomization.yaml", 3, 5, "resource `a: b.yaml` does not exist"),
        f("FLX002", "warning", "apps/ünï còde/x:1:2.yaml", 12, 7, 'mapping key "name" already defined at line 4'),
        f("FLX107", "info", "clusters/prod/ü.yaml", 1, 1, "no Flux root applies this file (1 object, first Secret/s)"),
    ]
    report = RunReport("gitlint-flux", "0", "/r", findings, [], [], 0, {})
    return "".join(text.render(report).splitlines(keepends=True)[:-1])


EXPECTED_SYNTHETIC = [
    ("error", 3, 5, "FLX101", "apps/with space/kustomization.yaml"),
    ("warning", 12, 7, "FLX002", "apps/ünï còde/x:1:2.yaml"),
    ("info", 1, 1, "FLX107", "clusters/prod/ü.yaml"),
]


# --------------------------------------------------------------------------- --stdin-filename


def test_stdin_buffer_is_linted_in_place_of_the_file(fleet):
    out = buffer_output(fleet)
    assert f"{BAD}:5:3: warning FLX002 " in out  # the buffer's line, under the file's real path
    assert "gone.yaml" not in out  # another file's finding
    r = run_cli("lint", "--quiet", "--no-color", str(fleet / BAD))  # on disk the file is fine
    assert r.returncode == 0 and r.stdout == "", r.stdout


def test_stdin_reports_only_the_buffers_own_findings(fleet):
    """notes.yaml's not-a-manifest finding names the kustomization as its other end: linting
    the kustomization from an editor must not show it at a line of the kustomization."""
    r = run_cli("lint", "--quiet", "--no-color", "--stdin-filename", str(fleet / "apps/kustomization.yaml"), "-",
                stdin=(fleet / "apps/kustomization.yaml").read_text())
    lines = r.stdout.splitlines()
    # the buffer's path as --stdin-filename gave it
    assert lines and all(line.startswith(f"{fleet / 'apps/kustomization.yaml'}:") for line in lines), r.stdout
    assert any("FLX101" in line and "gone.yaml" in line for line in lines)


def test_stdin_excluded_file_is_silent(fleet):
    r = run_cli("lint", "--no-color", "--quiet", "--stdin-filename", str(fleet / "vendor/upstream.yaml"), "-",
                stdin="{ not: [yaml\n")
    assert (r.returncode, r.stdout) == (0, ""), r.stdout + r.stderr


# --------------------------------------------------------------------------- snippets of the documentation


def block(lang: str, n: int = 0) -> str:
    blocks = re.findall(rf"^```{lang}\n(.*?)^```", DOC, flags=re.S | re.M)
    assert len(blocks) > n, f"docs/integrations.md has no ```{lang} block #{n}"
    return blocks[n]


def check(parsed: list[tuple], output: str, expected: list[tuple] | None = None) -> None:
    """``parsed``: (severity, line, column, code, message) per finding line of ``output``."""
    want = []
    for line in output.splitlines():
        m = re.match(r"^(.*):(\d+):(\d+): (error|warning|info) (\S+) (.*)$", line)
        assert m, line
        want.append((m[4], int(m[2]), int(m[3]), m[5], f"{m[5]} {m[6]}"))
    assert len(parsed) == len(want) > 0
    for (sev, line, col, code, msg), (wsev, wline, wcol, wcode, wmsg) in zip(parsed, want):
        assert (sev, line, col) == (wsev, wline, wcol)
        assert code in (wcode, None) and msg in (wmsg, wmsg[len(wcode) + 1:])
    if expected:
        assert [p[:3] for p in parsed] == [e[:3] for e in expected]
        assert [p[3] or p[4].split()[0] for p in parsed] == [e[3] for e in expected]


# ---- Neovim: nvim-lint's from_errorformat = Vim's quickfix parser


def nvim_efm() -> str:
    m = re.search(r'from_errorformat\(\s*"([^"]+)"', block("lua"))
    assert m, "no errorformat in the nvim-lint snippet"
    return m.group(1)


def efm_to_regex(efm: str) -> list[re.Pattern]:
    """Vim's conversion of an errorformat (the items the snippet uses) to regexes."""
    pats = []
    for fmt in re.split(r"(?<!\\),", efm):
        out, i = "^", 0
        while i < len(fmt):
            c = fmt[i]
            if c == "%" and i + 1 < len(fmt):
                k = fmt[i + 1]
                nxt = fmt[i + 2] if i + 2 < len(fmt) else ""
                out += {"l": r"(?P<l>\d+)", "c": r"(?P<c>\d+)", "t": "(?P<t>.)", "m": "(?P<m>.+)",
                        "f": "(?P<f>.+?)" if nxt not in ("", "\\", "%") else r"(?P<f>\S+)",
                        ".": ".", "#": "*", "%": "%"}[k]
                i += 2
            else:
                out += re.escape(c)
                i += 1
        pats.append(re.compile(out + "$"))
    return pats


def qflist(lines: list[str], efm: str, tmp_path: Path) -> list[dict] | None:
    """getqflist({'lines':…, 'efm':…}) from Neovim or Vim; None when neither is installed."""
    (tmp_path / "lines.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "efm.txt").write_text(efm + "\n", encoding="utf-8")
    script = ["let s:l = readfile('lines.txt')", "let s:e = readfile('efm.txt')[0]",
              "call writefile([json_encode(getqflist({'lines': s:l, 'efm': s:e}).items)], 'qf.json')", "qa!"]
    (tmp_path / "qf.vim").write_text("\n".join(script) + "\n", encoding="utf-8")
    env = {**os.environ, "LC_ALL": "C.UTF-8", "HOME": str(tmp_path)}
    if shutil.which("nvim"):
        cmd = ["nvim", "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", "source qf.vim"]
    elif shutil.which("vim"):
        cmd = ["vim", "-u", "NONE", "-i", "NONE", "-N", "-n", "-es", "-c", "set encoding=utf-8", "-c", "source qf.vim"]
    else:
        return None
    subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    return json.loads((tmp_path / "qf.json").read_text(encoding="utf-8"))


SEV_BY_QFTYPE = {"E": "error", "W": "warning", "I": "info"}  # nvim-lint: severity_by_qftype[type:upper()]


@pytest.mark.parametrize("source", ["cli", "synthetic"])
def test_nvim_lint_errorformat(source, fleet, tmp_path):
    out = buffer_output(fleet) if source == "cli" else synthetic_output()
    efm = nvim_efm()
    lines = out.splitlines()
    parsed = []
    for line in lines:
        m = next((m for p in efm_to_regex(efm) if (m := p.match(line))), None)
        assert m, line
        parsed.append((SEV_BY_QFTYPE[m["t"].upper()], int(m["l"]), int(m["c"]), None, m["m"]))
    check(parsed, out, EXPECTED_SYNTHETIC if source == "synthetic" else None)
    items = qflist(lines, efm, tmp_path)
    if items is None:
        pytest.skip("neither nvim nor vim is installed: checked with the Python translation only")
    # nvim-lint keeps valid items of its buffer (no file name: bufnr 0)
    assert all(i["valid"] == 1 and i["bufnr"] == 0 for i in items), items
    real = [(SEV_BY_QFTYPE[i["type"].upper()], i["lnum"], i["col"], None, i["text"].strip()) for i in items]
    assert real == parsed


# ---- Emacs: flycheck


def sexp(src: str):
    """A minimal reader for the snippet: lists, strings, symbols; comments dropped."""
    tokens = re.findall(r'"(?:\\.|[^"\\])*"|[()]|;[^\n]*|[^\s()";]+', src)
    stack: list[list] = [[]]
    for t in tokens:
        if t.startswith(";"):
            continue
        if t == "(":
            stack.append([])
        elif t == ")":
            done = stack.pop()
            stack[-1].append(done)
        elif t.startswith('"'):
            stack[-1].append(("str", json.loads(t)))
        else:
            stack[-1].append(t)
    return stack[0]


def rx(form, lazy: bool = False) -> str:
    """flycheck's rx forms (those the snippet uses) as a Python regex."""
    q = "?" if lazy else ""
    if isinstance(form, tuple):
        return re.escape(form[1])
    if isinstance(form, str):
        return {"line-start": "^", "line-end": "$", "line": r"(?P<line>[0-9]+)", "column": r"(?P<column>[0-9]+)",
                "not-newline": ".", "digit": "[0-9]", "alnum": r"[^\W_]"}[form]
    head, args = form[0], form[1:]
    if head == "minimal-match":
        return "".join(rx(a, True) for a in args)
    if head == "one-or-more":
        return "(?:" + "".join(rx(a, lazy) for a in args) + ")+" + q
    if head == "any":
        return "[" + "".join(re.escape(a[1]) for a in args) + "]"
    if head == "not":
        inner = rx(args[0])
        assert inner.startswith("[")
        return "[^" + inner[1:]
    if head in ("id", "message", "file-name"):
        default = "(?:.)+?" if head != "id" else None
        body = "".join(rx(a, lazy) for a in args) if args else default
        return f"(?P<{head.replace('-', '_')}>{body})"
    raise AssertionError(f"rx form not translated: {form}")


def flycheck_patterns() -> list[tuple[str, re.Pattern]]:
    src = block("elisp")
    define = next(f for f in sexp(src) if isinstance(f, list) and f and f[0] == "flycheck-define-checker")
    pats = define[define.index(":error-patterns") + 1]
    return [(p[0], re.compile("".join(rx(x) for x in p[1:]))) for p in pats]


def flycheck_real(output: str, tmp_path: Path) -> list[tuple] | None:
    emacs = shutil.which("emacs")
    if not emacs:
        return None
    (tmp_path / "snippet.el").write_text(block("elisp"), encoding="utf-8")
    (tmp_path / "out.txt").write_text(output, encoding="utf-8")
    prog = """
(progn
  (require 'package) (package-initialize)
  (setq coding-system-for-read 'utf-8 coding-system-for-write 'utf-8)
  (unless (require 'flycheck nil t) (princ "NO-FLYCHECK") (kill-emacs 0))
  (load (expand-file-name "snippet.el") nil t)
  (let* ((out (with-temp-buffer (insert-file-contents "out.txt") (buffer-string)))
         (errs (flycheck-parse-with-patterns out 'gitlint-flux (current-buffer))))
    (dolist (e errs)
      (princ (format "%s\\t%s\\t%s\\t%s\\t%s\\n" (flycheck-error-level e) (flycheck-error-line e)
                     (flycheck-error-column e) (flycheck-error-id e) (flycheck-error-message e))))))
"""
    r = subprocess.run([emacs, "--batch", "-q", "--eval", prog], cwd=tmp_path, capture_output=True, timeout=120,
                       env={**os.environ, "LC_ALL": "C.UTF-8", "HOME": str(tmp_path)})
    stdout = r.stdout.decode("utf-8")
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")
    if "NO-FLYCHECK" in stdout:
        return None
    rows = []
    for line in stdout.splitlines():
        level, ln, col, ident, msg = line.split("\t")
        rows.append((level, int(ln), int(col), ident, msg))
    return rows


@pytest.mark.parametrize("source", ["cli", "synthetic"])
def test_flycheck_error_patterns(source, fleet, tmp_path):
    out = buffer_output(fleet) if source == "cli" else synthetic_output()
    pats = flycheck_patterns()
    parsed = []
    for line in out.splitlines():
        level, m = next(((lv, m) for lv, p in pats if (m := p.match(line))), (None, None))
        assert m, line
        assert "file_name" not in m.groupdict()  # errors belong to the buffer checked
        parsed.append((level, int(m["line"]), int(m["column"]), m["id"], m["message"]))
    check(parsed, out, EXPECTED_SYNTHETIC if source == "synthetic" else None)
    real = flycheck_real(out, tmp_path)
    if real is None:
        pytest.skip("Emacs with flycheck is not installed: checked with the Python translation only")
    assert real == parsed


# ---- VS Code: a task's problem matcher


def vscode_matchers() -> list[dict]:
    src = re.sub(r'^\s*//.*$|("(?:\\.|[^"\\])*")|//[^\n]*', lambda m: m.group(1) or "", block("jsonc"), flags=re.M)
    tasks = json.loads(src)["tasks"]
    return [t["problemMatcher"] for t in tasks]


def js_matches(regexp: str, lines: list[str]) -> list[list[str] | None] | None:
    node = shutil.which("node")
    if not node:
        return None
    prog = ("const [re, lines] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
            "const r = new RegExp(re);"
            "process.stdout.write(JSON.stringify(lines.map(l => { const m = r.exec(l); return m && Array.from(m); })));")
    r = subprocess.run([node, "-e", prog], input=json.dumps([regexp, lines]), capture_output=True, text=True,
                       encoding="utf-8", timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("source", ["cli", "synthetic"])
def test_vscode_problem_matcher(source, fleet):
    if source == "cli":  # the tasks lint the saved files: the workspace, or ${file}
        (fleet / BAD).write_text(BUFFER, encoding="utf-8")
        r = run_cli("lint", "--quiet", "--no-color", str(fleet), cwd=str(fleet))  # tasks run in the folder
        assert r.returncode == 1
        out = r.stdout
    else:
        out = synthetic_output()
    lines = out.splitlines()
    matchers = vscode_matchers()
    assert len(matchers) == 2
    for pm in matchers:
        assert pm["fileLocation"] == ["relative", "${workspaceFolder}"] and pm["owner"] == "gitlint-flux"
        pat = pm["pattern"]
        groups = js_matches(pat["regexp"], lines)
        engine = "node"
        if groups is None:
            engine = "python"
            groups = [(lambda m: m and [m[0], *m.groups()])(re.match(pat["regexp"], line)) for line in lines]
        parsed = []
        for line, g in zip(lines, groups):
            assert g, f"{engine}: no match for {line!r}"
            assert g[pat["severity"]] in ("error", "warning", "info")  # VS Code's own severity names
            parsed.append((g[pat["severity"]], int(g[pat["line"]]), int(g[pat["column"]]), g[pat["code"]],
                           g[pat["message"]]))
            if source == "cli":
                assert (fleet / g[pat["file"]]).is_file(), g[pat["file"]]  # relative to the workspace folder
        check(parsed, out, EXPECTED_SYNTHETIC if source == "synthetic" else None)
        if source == "synthetic":
            assert [g[pat["file"]] for g in groups] == [e[4] for e in EXPECTED_SYNTHETIC]
        else:
            assert any(g[pat["file"]] == BAD for g in groups)
