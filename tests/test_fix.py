"""`lint --fix`, `--diff`, `--unsafe-fixes`: each fix on a fixture before and after (byte for
byte), idempotence, what is refused and why, encodings and line endings kept, and the files
that are never written."""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, gotk_sync, write_tree
from gitlint_flux.cli import main
from gitlint_flux.fix import Edit, FixRequest, apply_edits, run_fixes

CASES = FIXTURES / "fix"
ROOT = Path(__file__).resolve().parent.parent


def files_of(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def copy_case(case: str, tmp_path: Path) -> Path:
    dest = tmp_path / case
    shutil.copytree(CASES / case / "before", dest)
    return dest


def cli(*argv: str) -> int:
    return main(list(argv))


# --------------------------------------------------------------------------- each fix, before and after


@pytest.mark.parametrize("case", [
    # HelmRelease v2beta2 -> v2 with its overlay's strategic-merge patch, the Flux Kustomization's
    # patch target and inline patch, and its health check; `chart.spec.valuesFile` -> `valuesFiles`
    # (helm-controller's v2 API removed valuesFile; v2beta2 merged it before the valuesFiles items)
    "helm-overlay",
    # kustomize v1beta2 -> v1, GitRepository/OCIRepository v1beta2 -> v1, Alert/Provider
    # v1beta2 -> v1beta3, Receiver v1beta2 -> v1 (the versions the bundled Flux serves)
    "api-versions",
    # bases -> resources (appended after them, as kustomize's FixKustomization does),
    # patchesStrategicMerge -> patches (first), patchesJson6902 -> patches (last), commonLabels
    # -> labels with includeSelectors (kustomize's labels field spec)
    "kustomization-fields",
    # `$${VAR}` is kustomize-controller's escape for a literal `${VAR}` (envsubst's `$$`)
    "shell-variable",
    # Kustomization v1 and HelmRelease v2 (post-renderers) removed patchesStrategicMerge and
    # patchesJson6902 and keep `patches` (kustomize-controller v1 and helm-controller v2 API
    # docs); kustomize applies strategic-merge patches first, JSON 6902 patches last
    "flux-patch-fields",
])
def test_fix_before_after(case, tmp_path, capsys):
    root = copy_case(case, tmp_path)
    before = files_of(root)
    assert cli("lint", str(root), "--root", str(root), "--no-cache", "--fix", "--unsafe-fixes") in (0, 1)
    after_dir = CASES / case / "after"
    expected = dict(before)
    expected.update(files_of(after_dir))
    got = files_of(root)
    assert got.keys() == expected.keys(), "a file was created or removed (a temporary file left behind?)"
    for path in expected:
        assert got[path] == expected[path], f"{case}: {path} differs from the expected file"
    assert any(before[p] != got[p] for p in got)
    # idempotence: a second --fix changes nothing, and --diff has nothing to show
    capsys.readouterr()
    cli("lint", str(root), "--root", str(root), "--no-cache", "--fix", "--unsafe-fixes")
    assert files_of(root) == got
    capsys.readouterr()
    assert cli("lint", str(root), "--root", str(root), "--no-cache", "--diff", "--unsafe-fixes") == 0
    assert capsys.readouterr().out == ""


def test_fixed_findings_are_gone(tmp_path, capsys):
    root = copy_case("helm-overlay", tmp_path)
    cli("lint", str(root), "--root", str(root), "--no-cache", "--fix")
    out = capsys.readouterr().out
    assert "FLX207" not in out and "FLX201" not in out, out


def test_diff_writes_nothing_and_exits_1(tmp_path, capsys):
    root = copy_case("api-versions", tmp_path)
    before = files_of(root)
    assert cli("lint", str(root), "--root", str(root), "--no-cache", "--diff") == 1
    out = capsys.readouterr().out
    assert files_of(root) == before
    assert "--- a/clusters/prod/infra.yaml\n+++ b/clusters/prod/infra.yaml\n" in out
    assert "-apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\n+apiVersion: kustomize.toolkit.fluxcd.io/v1\n" in out


def test_unsafe_fix_needs_the_flag(tmp_path, capsys):
    root = copy_case("shell-variable", tmp_path)
    before = files_of(root)
    cli("lint", str(root), "--root", str(root), "--no-cache", "--fix")
    assert files_of(root) == before
    assert "1 unsafe fix available with --unsafe-fixes" in capsys.readouterr().err


# --------------------------------------------------------------------------- bytes, encodings, line endings

SOURCES = (
    "# sources, ünïcödé 🚀\n"
    "apiVersion: source.toolkit.fluxcd.io/v1beta2   # keep this comment\n"
    "kind: GitRepository\n"
    "metadata: {name: podinfo, namespace: flux-system}  # flow style\n"
    "spec:\n"
    "  interval: 5m\n"
    "  timeout: \"60s\"\n"
    "  url: 'https://github.com/stefanprodan/podinfo'\n"
    "  ref: {tag: 6.9.2}\n"
    "---\n"
    "apiVersion: 'source.toolkit.fluxcd.io/v1beta2'\n"
    "kind: HelmRepository\n"
    "metadata:\n"
    "    name: podinfo      # four spaces, as written\n"
    "    namespace: flux-system\n"
    "spec:\n"
    "    interval: &every 1m  # an anchor\n"
    "    timeout: *every\n"
    "    url: https://stefanprodan.github.io/podinfo\n"
)
SCRIPT = (
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: tool, namespace: default}\n"
    "spec:\n"
    "  containers:\n"
    "    - name: tool  # é\n"
    "      image: alpine:3.20\n"
    "      command: [\"/bin/sh\", \"-c\"]\n"
    "      args:\n"
    "        - |\n"
    "          echo \"é 🚀 ${HOME} and ${CLUSTER}\"\n"
)
APPS_KS = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\n"
    "spec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef: {kind: GitRepository, name: flux-system}\n"
    "  postBuild:\n    substitute: {CLUSTER: prod}\n"
)
KFILE = (
    "# the apps\n"
    "bases:\n"
    "  - tool.yaml   # é\n"
    "patchesStrategicMerge:\n"
    "  - |\n"
    "    apiVersion: v1\n"
    "    kind: Pod\n"
    "    metadata: {name: tool, namespace: default}\n"
    "    spec: {priority: 0}\n"
)


def encoded(text: str, bom: bytes, codec: str, newline: str) -> bytes:
    return bom + text.replace("\n", newline).encode(codec)


@pytest.mark.parametrize("bom,codec,newline", [
    (b"", "utf-8", "\n"),
    (codecs.BOM_UTF8, "utf-8", "\r\n"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "\r\n"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "\n"),
])
def test_bytes_outside_the_edits_are_kept(tmp_path, bom, codec, newline):
    root = write_tree(tmp_path / "repo", {
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": APPS_KS,
        "clusters/prod/sources.yaml": encoded(SOURCES, bom, codec, newline),
        "apps/tool.yaml": encoded(SCRIPT, bom, codec, newline),
        "apps/kustomization.yaml": encoded(KFILE, bom, codec, newline),
    })
    cli("lint", str(root), "--root", str(root), "--no-cache", "--fix", "--unsafe-fixes")
    want_sources = SOURCES.replace("source.toolkit.fluxcd.io/v1beta2", "source.toolkit.fluxcd.io/v1")
    assert (root / "clusters/prod/sources.yaml").read_bytes() == encoded(want_sources, bom, codec, newline)
    want_script = SCRIPT.replace("${HOME}", "$${HOME}")
    assert (root / "apps/tool.yaml").read_bytes() == encoded(want_script, bom, codec, newline)
    want_k = ("# the apps\n"
              "resources:\n"
              "  - tool.yaml   # é\n"
              "patches:\n"
              "  - patch: |\n"
              "      apiVersion: v1\n"
              "      kind: Pod\n"
              "      metadata: {name: tool, namespace: default}\n"
              "      spec: {priority: 0}\n")
    assert (root / "apps/kustomization.yaml").read_bytes() == encoded(want_k, bom, codec, newline)


def test_apply_edits_keeps_every_byte_outside():
    text = "a: é\r\nb: x\r\n"
    data = codecs.BOM_UTF8 + text.encode()
    new_text, new = apply_edits(data, text, [Edit("f", 9, 10, "y\nz")])
    assert new_text == "a: é\r\nb: y\r\nz\r\n"
    assert new == codecs.BOM_UTF8 + b"a: \xc3\xa9\r\nb: y\r\nz\r\n"


# --------------------------------------------------------------------------- refused, and left alone

HR_V2BETA2 = """
apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: default
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: 6.9.2
      sourceRef: {kind: HelmRepository, name: podinfo}
"""


def fix_and_lint(root: Path, capsys, *flags: str) -> tuple[str, str]:
    """The JSON report after `--fix` (with the hints), and the fix summary."""
    capsys.readouterr()
    cli("lint", str(root), "--root", str(root), "--no-cache", "--fix", "--format", "json", *flags)
    cap = capsys.readouterr()
    return cap.out, cap.err


def test_sops_file_is_left_alone(repo, capsys):
    sops = ("\nsops:\n  mac: ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]\n  lastmodified: '2024-01-01T00:00:00Z'\n"
            "  version: 3.8.1\n  age:\n    - recipient: age1example\n")
    root = repo({"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
                 "clusters/prod/release.yaml": HR_V2BETA2.lstrip("\n") + sops.lstrip("\n")})
    before = files_of(root)
    out, err = fix_and_lint(root, capsys)
    assert files_of(root) == before
    assert "SOPS-encrypted" in err
    assert "Not fixed automatically: `clusters/prod/release.yaml` is SOPS-encrypted" in out


def test_refused_when_the_newer_schema_rejects_the_object(repo, capsys):
    # source-controller's GitRepository v1 removed `spec.gitImplementation` (v1beta2 had it)
    root = repo({"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
                 "clusters/prod/podinfo.yaml": """
                     apiVersion: source.toolkit.fluxcd.io/v1beta2
                     kind: GitRepository
                     metadata: {name: podinfo, namespace: flux-system}
                     spec:
                       interval: 5m
                       url: https://github.com/stefanprodan/podinfo
                       gitImplementation: go-git
                     """})
    before = files_of(root)
    out, err = fix_and_lint(root, capsys)
    assert files_of(root) == before
    assert "FLX207" in out and "the schema rejects the result" in err and "gitImplementation" in err


def test_refused_when_the_cluster_flux_does_not_serve_the_newer_version(repo, capsys):
    # HelmRelease v2 is served from Flux 2.3 (helm-controller v1.0); the committed
    # gotk-components.yaml pins Flux v2.2.0
    root = repo({
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/flux-system/gotk-components.yaml": """
            ---
            # This manifest was generated by flux. DO NOT EDIT.
            # Flux Version: v2.2.0
            # Components: source-controller,kustomize-controller,helm-controller
            apiVersion: v1
            kind: Namespace
            metadata:
              name: flux-system
            """,
        "clusters/prod/flux-system/kustomization.yaml": """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources: [gotk-components.yaml, gotk-sync.yaml]
            """,
        "clusters/prod/release.yaml": HR_V2BETA2,
    })
    before = files_of(root)
    out, err = fix_and_lint(root, capsys)
    assert files_of(root) == before
    assert "upgrade Flux first: cluster `clusters/prod` runs Flux v2.2.0" in err
    assert "does not serve `helm.toolkit.fluxcd.io/v2` (Flux 2.3 and later do)" in err
    assert "Not fixed automatically: upgrade Flux first" in out


@pytest.mark.parametrize("spec,why", [
    # helm-controller v2: valuesFile removed; with valuesFiles also set the order is for the author to choose
    ("      valuesFile: a.yaml\n      valuesFiles: [b.yaml]\n", "`spec.chart.spec.valuesFile` and `valuesFiles`"),
])
def test_refused_helm_fields(repo, capsys, spec, why):
    root = repo({"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
                 "clusters/prod/release.yaml": HR_V2BETA2.lstrip("\n").replace(
                     "      sourceRef:", spec + "      sourceRef:")})
    before = files_of(root)
    _out, err = fix_and_lint(root, capsys)
    assert files_of(root) == before
    assert why in err


def test_refused_post_renderer_patches_in_flow_style(repo, capsys):
    # helm-controller v2 removed postRenderers[].kustomize.patchesStrategicMerge: converted
    # from block style only (the text of each entry becomes a `patch: |`)
    root = repo({"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
                 "clusters/prod/release.yaml": HR_V2BETA2 + """
                     postRenderers:
                       - kustomize:
                           patchesStrategicMerge: [{apiVersion: apps/v1, kind: Deployment, metadata: {name: x}}]
                     """.replace("\n                     ", "\n  ")})
    before = files_of(root)
    _out, err = fix_and_lint(root, capsys)
    assert files_of(root) == before
    assert "`spec.postRenderers.0.kustomize`: the patches are written in flow style" in err


def test_refused_common_labels_beside_the_same_label(repo, capsys):
    root = repo({"kustomization.yaml": """
                     resources: [cm.yaml]
                     labels:
                       - pairs: {team: a}
                     commonLabels:
                       team: b
                     """,
                 "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
    before = files_of(root)
    _out, err = fix_and_lint(root, capsys)
    assert files_of(root) == before
    assert "`team` is set by both `commonLabels` and `labels`" in err


def test_suppressed_ignored_and_unselected_findings_are_not_fixed(repo, capsys):
    root = repo({"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
                 "clusters/prod/a.yaml": HR_V2BETA2.replace(
                     "v2beta2\n", "v2beta2  # gitlint-flux: disable=FLX207 -- migrated later\n", 1),
                 "clusters/prod/b/release.yaml": HR_V2BETA2.replace("podinfo\n  namespace", "b\n  namespace", 1),
                 "clusters/prod/c/release.yaml": HR_V2BETA2.replace("podinfo\n  namespace", "c\n  namespace", 1),
                 ".gitlint-flux.yaml": "ignore:\n  - path: clusters/prod/c/**\n    rules: [FLX207]\n"})
    before = files_of(root)
    # the selection: only b/ is linted, so only b/ is fixed
    assert cli("lint", str(root / "clusters/prod/b"), "--root", str(root), "--no-cache", "--fix") in (0, 1)
    after = files_of(root)
    changed = {p for p in after if after[p] != before[p]}
    assert changed == {"clusters/prod/b/release.yaml"}
    # the whole tree: the suppressed and the ignored findings stay as they are
    cli("lint", str(root), "--root", str(root), "--no-cache", "--fix")
    again = files_of(root)
    assert again["clusters/prod/a.yaml"] == before["clusters/prod/a.yaml"]
    assert again["clusters/prod/c/release.yaml"] == before["clusters/prod/c/release.yaml"]


def test_baseline_findings_are_not_fixed(repo, tmp_path, capsys):
    root = repo({"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
                 "clusters/prod/release.yaml": HR_V2BETA2})
    base = tmp_path / "baseline.json"
    assert cli("lint", str(root), "--root", str(root), "--no-cache", "--write-baseline", str(base)) == 0
    before = files_of(root)
    cli("lint", str(root), "--root", str(root), "--no-cache", "--fix", "--baseline", str(base))
    assert files_of(root) == before


def test_never_through_a_symlink_nor_outside_the_root(tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "release.yaml").write_text(HR_V2BETA2.lstrip("\n"))
    root = write_tree(tmp_path / "repo", {"clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod")})
    os.symlink(outside / "release.yaml", root / "clusters/prod/release.yaml")
    os.symlink(outside, root / "clusters/prod/linked")
    # inside the root: the file is fixed under its own name, the link stays a link
    real = root / "clusters/prod/real/repo.yaml"
    real.parent.mkdir()
    real.write_text("apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: GitRepository\n"
                    "metadata: {name: podinfo, namespace: flux-system}\n"
                    "spec: {interval: 5m, url: https://github.com/stefanprodan/podinfo}\n")
    os.symlink("real/repo.yaml", root / "clusters/prod/link.yaml")
    cli("lint", str(root), "--root", str(root), "--no-cache", "--fix")
    err = capsys.readouterr().err
    assert (outside / "release.yaml").read_text() == HR_V2BETA2.lstrip("\n")
    assert os.path.islink(root / "clusters/prod/release.yaml")
    assert os.path.islink(root / "clusters/prod/link.yaml")
    assert real.read_text().startswith("apiVersion: source.toolkit.fluxcd.io/v1\n")
    assert "link.yaml:1:13: FLX207 not fixed" not in err  # fixed with the file it names


def test_write_keeps_the_mode(tmp_path, capsys):
    root = copy_case("api-versions", tmp_path)
    f = root / "clusters/prod/infra.yaml"
    os.chmod(f, 0o640)
    cli("lint", str(root), "--root", str(root), "--no-cache", "--fix")
    assert b"kustomize.toolkit.fluxcd.io/v1\n" in f.read_bytes()
    assert (os.stat(f).st_mode & 0o777) == 0o640


def test_run_fixes_api(tmp_path):
    root = copy_case("api-versions", tmp_path)
    result = run_fixes(FixRequest(paths=[str(root)], root=str(root), write=False))
    assert result.fixed == 6 and sorted(result.changed) == [
        "clusters/prod/infra.yaml", "clusters/prod/notifications.yaml", "clusters/prod/sources.yaml"]
    assert result.diff().count("\n+apiVersion:") == 6
    assert (root / "clusters/prod/infra.yaml").read_bytes() == (CASES / "api-versions/before/clusters/prod/infra.yaml"
                                                               ).read_bytes()


# --------------------------------------------------------------------------- the CLI


def test_rules_and_explain_show_the_fix(capsys):
    assert cli("rules") == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("FLX207"))
    assert line.endswith("[safe fix]")
    assert next(ln for ln in out.splitlines() if ln.startswith("FLX701")).endswith("[unsafe fix (--unsafe-fixes)]")
    assert not next(ln for ln in out.splitlines() if ln.startswith("FLX101")).endswith("]")
    assert cli("explain", "FLX211") == 0
    assert "**Automatic fix** (safe fix):" in capsys.readouterr().out


def test_a_plain_lint_run_does_not_load_the_fixer(tmp_path):
    root = copy_case("api-versions", tmp_path)
    code = ("import sys\nfrom gitlint_flux.cli import main\nmain(['lint', sys.argv[1], '--no-cache', '-q'])\n"
            "print(sorted(m for m in sys.modules if m in ('gitlint_flux.fix', 'gitlint_flux.fixers')))\n")
    r = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.strip().splitlines()[-1] == "[]", r.stderr


def test_refused_when_the_build_changes(repo, capsys):
    # kustomize applies patchesJson6902 after namePrefix and `patches` before it (the
    # transformer order of accumulateTarget): a target naming the prefixed object matches
    # only in the old place, so the conversion would drop the patch
    root = repo({"kustomization.yaml": """
                     namePrefix: pre-
                     resources: [cm.yaml]
                     patchesJson6902:
                       - target: {version: v1, kind: ConfigMap, name: pre-settings}
                         patch: |-
                           - op: add
                             path: /data/b
                             value: "2"
                     """,
                 "cm.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: "1"}\n'})
    before = files_of(root)
    out, err = fix_and_lint(root, capsys)
    assert files_of(root) == before
    assert "the build changes ConfigMap `pre-settings`" in err and "`data.b` would be absent" in err
    assert "Not fixed automatically: the build changes" in out
