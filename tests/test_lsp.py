"""`gitlint-flux lsp`, driven through its stdio protocol in a subprocess: initialize, the
text synchronisation notifications, diagnostics (ranges in the negotiated encoding, related
information, clearing), watched files, hover, code actions, shutdown, malformed input.

Protocol behaviour comes from the Language Server Protocol specification 3.17
(microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/):
"Base Protocol" (Content-Length framing, JSON-RPC error codes), "Position" /
"PositionEncodingKind" (UTF-16 by default, the server picks from the client's
``general.positionEncodings``), "Lifecycle Messages" (``exit`` after ``shutdown`` is 0, else 1;
requests before ``initialize`` answer -32002).
"""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import pytest

from conftest import git_init, write_tree

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_lsp", HERE.parent / "bench" / "lsp.py")
bench_lsp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_lsp)
Client, path_uri = bench_lsp.Client, bench_lsp.path_uri

APPS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/web
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  dependsOn: [{name: "😀x"}, {name: ghost}]
"""

INFRA = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infra
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/web
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""

TREE = {
    "clusters/prod/apps.yaml": APPS,
    "clusters/prod/infra.yaml": INFRA,
    "apps/web/kustomization.yaml": """\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - deploy.yaml
        """,
    "apps/web/deploy.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web
          namespace: default
        data:
          greeting: "héllo 😀"
        """,
}


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    write_tree(root, TREE)
    git_init(root)
    return root.resolve()


@pytest.fixture
def client(tree):
    c = Client(cwd=str(tree))
    yield c
    c.close()


def by_code(diags: list, code: str) -> list:
    return [d for d in diags if d.get("code") == code]


def ghost(diags: list) -> dict:
    (d,) = [d for d in by_code(diags, "FLX402") if "ghost" in d["message"]]
    return d


def apply(text: str, edit: dict) -> str:
    """Apply one TextEdit given in UTF-16 (the default encoding) to ``text``."""
    lines = text.splitlines(keepends=True) + [""]

    def off(pos: dict) -> int:
        line = lines[pos["line"]]
        n, cu = 0, 0
        while cu < pos["character"]:
            cu += 2 if ord(line[n]) >= 0x10000 else 1
            n += 1
        return sum(len(x) for x in lines[: pos["line"]]) + n

    a, b = off(edit["range"]["start"]), off(edit["range"]["end"])
    return text[:a] + edit["newText"] + text[b:]


# --------------------------------------------------------------------------- diagnostics


def test_diagnostics_on_open_in_utf16(client, tree):
    res = client.initialize(tree)
    assert res["capabilities"]["positionEncoding"] == "utf-16"  # the protocol's default
    assert res["capabilities"]["textDocumentSync"]["change"] == 1  # full
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    _t, diags = client.diagnostics(uri, 1)
    d = ghost(diags)
    # `  dependsOn: [{name: "😀x"}, {name: ghost}]`: the loader says column 36 (code points);
    # the emoji before it is two UTF-16 code units
    assert d["range"] == {"start": {"line": 12, "character": 36}, "end": {"line": 12, "character": 41}}
    assert d["severity"] in (1, 2) and d["source"] == "gitlint-flux"
    assert d["codeDescription"]["href"].endswith("#flx402-missing-dependency") or \
        "flx402" in d["codeDescription"]["href"]


def test_utf32_when_the_client_offers_it(client, tree):
    res = client.initialize(tree, encodings=["utf-32", "utf-16"])
    assert res["capabilities"]["positionEncoding"] == "utf-32"
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    _t, diags = client.diagnostics(uri, 1)
    assert ghost(diags)["range"]["start"] == {"line": 12, "character": 35}


def test_utf8_positions(client, tree):
    res = client.initialize(tree, encodings=["utf-8"])
    assert res["capabilities"]["positionEncoding"] == "utf-8"
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    _t, diags = client.diagnostics(uri, 1)
    assert ghost(diags)["range"]["start"] == {"line": 12, "character": 38}  # the emoji is 4 bytes


def test_change_reparses_and_clears(client, tree):
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    _t, diags = client.diagnostics(uri, 1)
    assert ghost(diags)
    fixed = APPS.replace('[{name: "😀x"}, {name: ghost}]', "[{name: infra}]")
    client.change(uri, fixed, 2)
    _t, diags = client.diagnostics(uri, 2)
    assert by_code(diags, "FLX402") == []
    client.change(uri, APPS, 3)
    _t, diags = client.diagnostics(uri, 3)
    assert ghost(diags)


def test_findings_of_other_files_published_and_cleared(client, tree):
    client.initialize(tree)
    infra = path_uri(tree / "clusters/prod/infra.yaml")
    # the first check publishes every file with findings, open or not
    _t, diags = client.diagnostics(infra)
    (dup,) = by_code(diags, "FLX408")
    related = {r["location"]["uri"] for r in dup["relatedInformation"]}
    assert path_uri(tree / "clusters/prod/apps.yaml") in related
    assert path_uri(tree / "apps/web/deploy.yaml") in related
    # an edit of apps.yaml that stops it applying the same directory clears infra.yaml
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    client.diagnostics(uri, 1)
    client.change(uri, APPS.replace("./apps/web", "./apps/nowhere"), 2)
    client.diagnostics(uri, 2)  # the batch of this change: apps.yaml's, then the other files'
    _t, diags = client.diagnostics(infra)
    assert by_code(diags, "FLX408") == []


def test_buffer_that_is_not_yaml_and_syntax_errors(client, tree):
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", "key: [unclosed\n  - x: {\n", 1)
    _t, diags = client.diagnostics(uri, 1)
    assert diags and all(d["range"]["start"]["line"] >= 0 for d in diags)
    # a file that is not YAML gets nothing, and the server goes on
    txt = tree / "README.txt"
    txt.write_text("hello\n", encoding="utf-8")
    client.open(txt, "hello\n", 1)
    assert client.request("textDocument/hover", {"textDocument": {"uri": path_uri(txt)},
                                                 "position": {"line": 0, "character": 0}})["result"] is None


def test_did_save_and_close_keep_the_saved_text(client, tree):
    client.initialize(tree)
    p = tree / "clusters/prod/apps.yaml"
    uri = client.open(p, APPS, 1)
    client.diagnostics(uri, 1)
    fixed = APPS.replace('[{name: "😀x"}, {name: ghost}]', "[{name: infra}]")
    client.change(uri, fixed, 2)
    client.diagnostics(uri, 2)
    p.write_text(fixed, encoding="utf-8")
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    _t, diags = client.diagnostics(uri, 2)
    assert by_code(diags, "FLX402") == []
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    # closed: its findings come from the file as saved (none of FLX402)
    res = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 12, "character": 20}})
    assert res["result"] is None


# --------------------------------------------------------------------------- watched files and configuration


def test_watched_files_relint(client, tree):
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    _t, diags = client.diagnostics(uri, 1)
    assert ghost(diags)
    # a file written outside the editor (a `git checkout`) that defines `ghost`
    (tree / "clusters/prod/ghost.yaml").write_text(INFRA.replace("name: infra", "name: ghost"), encoding="utf-8")
    client.notify("workspace/didChangeWatchedFiles", {"changes": [
        {"uri": path_uri(tree / "clusters/prod/ghost.yaml"), "type": 1}]})
    _t, diags = client.diagnostics(uri, 1)
    assert [d for d in by_code(diags, "FLX402") if "ghost" in d["message"]] == []


def test_configuration_file_change(client, tree):
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    _t, diags = client.diagnostics(uri, 1)
    assert by_code(diags, "FLX402")
    cfg = tree / ".gitlint-flux.yaml"
    cfg.write_text("rules:\n  FLX402: off\n", encoding="utf-8")
    client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": path_uri(cfg), "type": 1}]})
    _t, diags = client.diagnostics(uri, 1)
    assert by_code(diags, "FLX402") == []


def test_schema_family_can_be_turned_off(tree):
    (tree / "apps/web/deploy.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: default\ndata:\n  n: [1]\n",
        encoding="utf-8")
    for on in (True, False):
        c = Client(cwd=str(tree))
        try:
            c.initialize(tree, options={"schemaDiagnostics": on})
            uri = c.open(tree / "apps/web/deploy.yaml", version=1)
            _t, diags = c.diagnostics(uri, 1)
            schema = [d for d in diags if str(d.get("code", "")).startswith("FLX2")]
            assert bool(schema) == on, diags
        finally:
            c.close()


# --------------------------------------------------------------------------- hover and code actions


def test_hover_shows_the_rule_documentation(client, tree):
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    _t, diags = client.diagnostics(uri, 1)
    d = ghost(diags)
    res = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": d["range"]["start"]})
    value = res["result"]["contents"]["value"]
    assert "FLX402" in value and res["result"]["contents"]["kind"] == "markdown"
    assert d["codeDescription"]["href"] in value
    miss = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 3, "character": 2}})
    assert miss["result"] is None


@pytest.mark.parametrize("title", ["on this line", "in this file"])
def test_suppress_code_actions(client, tree, title):
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    _t, diags = client.diagnostics(uri, 1)
    d = ghost(diags)
    res = client.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": d["range"],
                                                     "context": {"diagnostics": [d]}})
    (action,) = [a for a in res["result"] if title in a["title"] and "FLX402" in a["title"]]
    (edit,) = action["edit"]["changes"][uri]
    text = apply(APPS, edit)
    assert "# gitlint-flux: disable" in text
    client.change(uri, text, 2)
    _t, diags = client.diagnostics(uri, 2)
    # suppressed, and the comment is used (no FLX901 "suppresses nothing")
    assert by_code(diags, "FLX402") == [] and by_code(diags, "FLX901") == []


def test_suppress_on_line_extends_an_existing_comment(client, tree):
    text = APPS.replace("  dependsOn:", "  # gitlint-flux: disable=FLX106\n  dependsOn:")
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", text, 1)
    _t, diags = client.diagnostics(uri, 1)
    d = ghost(diags)
    res = client.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": d["range"],
                                                     "context": {"diagnostics": [d]}})
    (action,) = [a for a in res["result"] if "on this line" in a["title"]]
    new = apply(text, action["edit"]["changes"][uri][0])
    assert "# gitlint-flux: disable=FLX106,FLX402\n" in new


# --------------------------------------------------------------------------- lifecycle and malformed input


def test_malformed_input_never_kills_the_server(client, tree):
    # before initialize: ServerNotInitialized
    assert client.request("textDocument/hover", {})["error"]["code"] == -32002
    client.initialize(tree)
    client.raw(b"Content-Length: 9\r\n\r\n{not json")
    _t, m = client.wait(lambda m: "error" in m and m.get("id") is None)
    assert m["error"]["code"] == -32700
    client.raw(b"Content-Length: 2\r\n\r\n[]")
    _t, m = client.wait(lambda m: "error" in m and m.get("id") is None)
    assert m["error"]["code"] == -32700
    assert client.request("no/such/method", {})["error"]["code"] == -32601
    assert client.request("textDocument/hover", {"textDocument": {}})["error"]["code"] == -32602
    client.notify("textDocument/didOpen", {"textDocument": {"uri": 5}})  # logged, not fatal
    client.notify("textDocument/didChange", {"textDocument": {"uri": "file:///nowhere.yaml"}, "contentChanges": 3})
    client.send({"id": {"an": "object"}, "method": "shutdown"})
    _t, m = client.wait(lambda m: "error" in m and m.get("id") is None)
    assert m["error"]["code"] == -32600
    # still alive
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    _t, diags = client.diagnostics(uri, 1)
    assert ghost(diags)
    assert client.request("shutdown")["result"] is None
    assert client.request("textDocument/hover", {})["error"]["code"] == -32600  # after shutdown
    client.notify("exit", {})
    assert client.proc.wait(timeout=20) == 0


def test_exit_without_shutdown_is_1(client, tree):
    client.initialize(tree)
    client.notify("exit", {})
    assert client.proc.wait(timeout=20) == 1


def test_stdout_carries_only_the_protocol(client, tree):
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    client.diagnostics(uri, 1)
    assert client.request("shutdown")["result"] is None  # every message parsed as framed JSON


def test_the_repository_is_not_written(client, tree):
    before = {p: p.stat().st_mtime_ns for p in tree.rglob("*") if ".git" not in p.parts}
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    client.diagnostics(uri, 1)
    client.change(uri, APPS + "# more\n", 2)
    client.diagnostics(uri, 2)
    after = {p: p.stat().st_mtime_ns for p in tree.rglob("*") if ".git" not in p.parts}
    assert after == before


# --------------------------------------------------------------------------- in process


def test_internal_error_is_a_diagnostic(tree, monkeypatch):
    from gitlint_flux import lsp

    def frame(msg: dict) -> bytes:
        body = json.dumps({"jsonrpc": "2.0", **msg}).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    uri = path_uri(tree / "clusters/prod/apps.yaml")
    msgs = [
        {"id": 1, "method": "initialize", "params": {"capabilities": {}, "rootUri": path_uri(tree)}},
        {"method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "version": 1, "text": APPS}}},
    ]
    inp = io.BytesIO(b"".join(frame(m) for m in msgs))
    out = io.BytesIO()

    def boom(self, buffers):
        raise RuntimeError("a rule's bug")

    monkeypatch.setattr(lsp.Repo, "check", boom)
    server = lsp.Server(inp, out, log=io.StringIO())
    assert server.serve() == 1  # the input ended without shutdown
    data = out.getvalue()
    found = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        n = int(head.split(b":")[1])
        found.append(json.loads(rest[:n]))
        data = rest[n:]
    pubs = [m["params"] for m in found if m.get("method") == "textDocument/publishDiagnostics"]
    (pub,) = [p for p in pubs if p["uri"] == uri]
    assert pub["version"] == 1
    assert pub["diagnostics"][0]["code"] == "FLX000" and "a rule's bug" in pub["diagnostics"][0]["message"]


def test_units_conversion_round_trip():
    from gitlint_flux.lsp import Lines

    ln = Lines('a: "é😀"  # x\n', "utf-16")
    pos = ln.position(1, 8)  # after the emoji: code points a,:,space,",é,😀 ,"
    assert pos == {"line": 0, "character": 8}
    assert ln.column(pos) == (1, 8)


def test_lsp_module_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys; import gitlint_flux.lsp; "
            "print(sorted(m for m in sys.modules if m.startswith('gitlint_flux.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(HERE.parent), check=True).stdout
    assert json.loads(out.replace("'", '"')) == ["gitlint_flux.lsp"]


def test_fix_code_action(client, tree):
    # FLX211: `commonLabels` is deprecated since kustomize v5 (its replacement `labels` with
    # includeSelectors: true; kustomize v5.0.0 release notes), a safe fix (docs/fix.md)
    kfile = tree / "apps/web/kustomization.yaml"
    text = ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            "commonLabels:\n  app: wéb\nresources:\n  - deploy.yaml\n")
    client.initialize(tree)
    uri = client.open(kfile, text, 1)
    _t, diags = client.diagnostics(uri, 1)
    (d,) = by_code(diags, "FLX211")
    res = client.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": d["range"],
                                                     "context": {"diagnostics": [d]}})
    (action,) = [a for a in res["result"] if a["title"].startswith("Fix FLX211")]
    assert action["isPreferred"] is True
    new = text
    for edit in sorted(action["edit"]["changes"][uri], key=lambda e: (e["range"]["start"]["line"],
                                                                      e["range"]["start"]["character"]), reverse=True):
        new = apply(new, edit)
    assert "commonLabels" not in new and "labels:" in new
    client.change(uri, new, 2)
    _t, diags = client.diagnostics(uri, 2)
    assert by_code(diags, "FLX211") == []
    assert not (kfile.read_text(encoding="utf-8") == new)  # the server never writes the file


def test_incremental_change_in_utf16(client, tree):
    # a client that sends a range change anyway (the server asks for full sync): the range is
    # in UTF-16, after the emoji on the same line
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    _t, diags = client.diagnostics(uri, 1)
    d = ghost(diags)
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"range": d["range"], "text": "infra"}]})
    _t, diags = client.diagnostics(uri, 2)
    assert [x for x in by_code(diags, "FLX402") if "ghost" in x["message"]] == []
    assert len(by_code(diags, "FLX402")) == 1  # the emoji one is still there


def test_settings_change_at_run_time(client, tree):
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS.replace("interval: 10m", "interval: [10m]"), 1)
    _t, diags = client.diagnostics(uri, 1)
    assert [d for d in diags if d["code"].startswith("FLX2")]
    client.notify("workspace/didChangeConfiguration", {"settings": {"gitlint-flux": {"schemaDiagnostics": False}}})
    _t, diags = client.diagnostics(uri, 1)
    assert [d for d in diags if d["code"].startswith("FLX2")] == [] and ghost(diags)


def test_configuration_error_is_a_diagnostic(client, tree):
    cfg = tree / ".gitlint-flux.yaml"
    cfg.write_text("no-such-key: 1\n", encoding="utf-8")
    client.initialize(tree)
    _t, diags = client.diagnostics(path_uri(cfg))
    assert diags and diags[0]["severity"] == 1 and "no-such-key" in diags[0]["message"]
    cfg.write_text("rules:\n  FLX402: off\n", encoding="utf-8")
    client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": path_uri(cfg), "type": 2}]})
    _t, diags = client.diagnostics(path_uri(cfg))
    assert diags == []


def test_rapid_changes_end_with_the_last_version(client, tree):
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", APPS, 1)
    client.diagnostics(uri, 1)
    for v in range(2, 8):
        client.change(uri, APPS + f"# {v}\n", v)
    fixed = APPS.replace('[{name: "😀x"}, {name: ghost}]', "[{name: infra}]")
    client.change(uri, fixed, 8)
    _t, diags = client.diagnostics(uri, 8)
    assert by_code(diags, "FLX402") == []
    # every diagnostic published for the buffer carries a version it was sent
    versions = [m["params"].get("version") for m in client.seen
                if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri]
    assert all(v in (None, *range(1, 9)) for v in versions)


def test_line_separator_counts_as_a_line_for_the_loader_only(client, tree):
    # libyaml counts U+2028 as a line break (YAML 1.1 line breaks; libyaml's scanner.c
    # IS_BREAK), the protocol does not (Position: "\n", "\r\n" and "\r" only)
    text = APPS.replace("  namespace: flux-system", '  namespace: flux-system\n  annotations: {note: "a\u2028b"}')
    client.initialize(tree)
    uri = client.open(tree / "clusters/prod/apps.yaml", text, 1)
    _t, diags = client.diagnostics(uri, 1)
    # the loader says line 15 (one line more than the text has for the protocol)
    assert ghost(diags)["range"]["start"] == {"line": 13, "character": 36}


def test_two_workspace_folders_two_repositories(tmp_path):
    roots = []
    for name in ("one", "two"):
        r = tmp_path / name
        r.mkdir()
        write_tree(r, TREE)
        git_init(r)
        roots.append(r.resolve())
    (roots[1] / "clusters/prod/ghost.yaml").write_text(INFRA.replace("name: infra", "name: ghost"), encoding="utf-8")
    c = Client(cwd=str(tmp_path))
    try:
        c.send({"id": 1, "method": "initialize", "params": {"capabilities": {}, "workspaceFolders": [
            {"uri": path_uri(r), "name": r.name} for r in roots]}})
        c.wait(lambda m: m.get("id") == 1)
        c.notify("initialized", {})
        one = c.open(roots[0] / "clusters/prod/apps.yaml", APPS, 1)
        two = c.open(roots[1] / "clusters/prod/apps.yaml", APPS, 1)
        _t, d1 = c.diagnostics(one, 1)
        _t, d2 = c.diagnostics(two, 1)
        assert ghost(d1)  # each repository its own context: `ghost` is defined in the second only
        assert [d for d in by_code(d2, "FLX402") if "ghost" in d["message"]] == []
    finally:
        c.close()
