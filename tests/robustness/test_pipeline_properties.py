"""Property-based tests over the whole pipeline (load, graph, every rule, every report
format) on generated mini repositories and on random edits of real ones.

Each example runs in an isolated worker process (fuzz/worker.py): a hang or a crash of
the interpreter fails the example instead of the suite.  The invariants are those of
fuzz/invariants.py: no exception escapes (the run has no internal error), every finding
has a known rule, a path inside the root and a position inside its file, the JSON report
matches docs/report.schema.json, every available format renders (SARIF is validated
against the shared SARIF 2.1.0 schema when present), and two runs give the same output.
"""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from fuzz.codec import pack
from fuzz.known import known_bug
from fuzz.worker import Worker

from .harness import CORPUS, GOTK_SYNC, KUSTOMIZATION

EXAMPLES = int(os.environ.get("GLF_PROPERTY_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def worker():
    with Worker(timeout=15.0, mem_mb=768, env={"GLF_FUZZ_FULL": "1"}) as w:
        yield w


def check(worker, files: dict) -> None:
    data = pack(files)
    res = worker.run(data)
    if res.ok:
        return
    bug = known_bug(res.signature)
    note(f"{res.status} {res.signature}")
    if bug:
        note(f"known bug {bug}; see tests/robustness and docs/robustness.md")
        return
    raise AssertionError(f"{res.status}: {res.signature}\n{res.detail[-3000:]}\ninput:\n{data[:4000]!r}")


# --------------------------------------------------------------------------- generated repositories

DIRS = ["apps", "apps/podinfo", "infra", "infra/base", "clusters/prod", "my dir", "données", "k/a/b"]
NAMES = ["apps", "infra", "podinfo", "flux-system", "cm", "vars", "x"]
NAMESPACES = ["flux-system", "apps", "default", ""]

name = st.sampled_from(NAMES)
weird = st.one_of(st.integers(-5, 10**6), st.just(None), st.booleans(), st.lists(st.sampled_from(NAMES), max_size=2),
                  st.dictionaries(st.sampled_from(["a", "name"]), st.sampled_from(NAMES), max_size=2),
                  st.text(max_size=12))


def maybe_weird(strategy, p_weird=True):
    return st.one_of(strategy, weird) if p_weird else strategy


def ref_path(dirs):
    return st.one_of(
        st.sampled_from(dirs).map(lambda d: "./" + d),
        st.sampled_from(["./missing", "../../../etc", "/", "./", "/clusters/prod", "apps/../infra", "./apps/cm.yaml"]),
    )


def resource_entry(dirs):
    return st.one_of(
        st.sampled_from(["cm.yaml", "release.yaml", "missing.yaml", "../base", "../../../../etc/passwd", "/etc/passwd",
                         "https://github.com/x/y//d?ref=v1", ".", "./sub", "values.yaml", "ks.yaml"]),
        st.sampled_from(dirs).map(lambda d: "../" + d.split("/")[-1]),
    )


def yaml_scalar(v) -> str:
    import json
    return json.dumps(v, ensure_ascii=False)


@st.composite
def flux_ks(draw, dirs, wrong_types: bool):
    lines = ["apiVersion: kustomize.toolkit.fluxcd.io/v1", "kind: Kustomization", "metadata",
             f"  name: {draw(name)}"]
    lines[2] = "metadata:"
    ns = draw(st.sampled_from(NAMESPACES))
    if ns:
        lines.append(f"  namespace: {ns}")
    lines += ["spec:", "  interval: 10m", f"  path: {yaml_scalar(draw(maybe_weird(ref_path(dirs), wrong_types)))}",
              "  prune: true", "  sourceRef:",
              f"    kind: {draw(st.sampled_from(['GitRepository', 'OCIRepository', 'Bucket', 'ExternalArtifact']))}",
              f"    name: {yaml_scalar(draw(maybe_weird(st.sampled_from(['flux-system', 'other']), wrong_types)))}"]
    deps = draw(st.lists(name, max_size=3))
    if deps:
        lines.append("  dependsOn:")
        lines += [f"    - name: {d}" for d in deps]
    if draw(st.booleans()):
        lines.append(f"  targetNamespace: {draw(st.sampled_from(NAMESPACES[:3]))}")
    if draw(st.booleans()):
        lines += ["  postBuild:", "    substituteFrom:", "      - kind: ConfigMap", f"        name: {draw(name)}"]
    if draw(st.booleans()):
        lines += ["  components:", f"    - {draw(resource_entry(dirs))}"]
    if draw(st.integers(0, 9)) == 0:
        lines += ["  kubeConfig:", "    secretRef:", f"      name: {draw(name)}"]
    return "\n".join(lines) + "\n"


@st.composite
def kustomization(draw, dirs):
    out = KUSTOMIZATION
    if draw(st.booleans()):
        out += f"namespace: {draw(st.sampled_from(NAMESPACES[:3]))}\n"
    if draw(st.booleans()):
        out += "namePrefix: p-\n"
    res = draw(st.lists(resource_entry(dirs), max_size=5))
    if res:
        out += "resources:\n" + "".join(f"  - {yaml_scalar(r)}\n" for r in res)
    if draw(st.booleans()):
        out += ("configMapGenerator:\n  - name: " + draw(name) + "\n    files:\n      - "
                + draw(st.sampled_from(["cfg.txt", "k=missing.txt", "../../../etc/hosts"])) + "\n")
    if draw(st.booleans()):
        out += "patches:\n  - path: " + draw(resource_entry(dirs)) + "\n"
    return out


@st.composite
def helm_release(draw, wrong_types: bool):
    ns = draw(st.sampled_from(NAMESPACES))
    body = (f"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {draw(name)}\n"
            + (f"  namespace: {ns}\n" if ns else "") + "spec:\n  interval: 10m\n")
    if draw(st.booleans()):
        body += (f"  chart:\n    spec:\n      chart: podinfo\n      version: {draw(st.sampled_from(['6.5.0', '>=1', '*']))}\n"
                 f"      sourceRef:\n        kind: HelmRepository\n        name: {draw(name)}\n")
    else:
        body += f"  chartRef:\n    kind: OCIRepository\n    name: {yaml_scalar(draw(maybe_weird(name, wrong_types)))}\n"
    if draw(st.booleans()):
        body += f"  valuesFrom:\n    - kind: ConfigMap\n      name: {draw(name)}\n      optional: {draw(st.booleans())}\n"
    if draw(st.booleans()):
        body += "  values: &v\n    a: 1\n    <<: {b: 2}\n"
    return body


@st.composite
def source(draw):
    kind = draw(st.sampled_from(["GitRepository", "HelmRepository", "OCIRepository"]))
    url = draw(st.sampled_from(["ssh://git@github.com/example/fleet", "https://example.com/charts",
                                "oci://ghcr.io/x/y"]))
    return (f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: {kind}\nmetadata:\n  name: {draw(name)}\n"
            f"  namespace: flux-system\nspec:\n  interval: 1h\n  url: {url}\n  ref:\n    branch: main\n")


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\ndata:\n  k: \"${{VAR}}\"\n"


@st.composite
def repository(draw, wrong_types: bool = False):
    dirs = draw(st.lists(st.sampled_from(DIRS), min_size=1, max_size=5, unique=True))
    files: dict[str, str | bytes] = {}
    if draw(st.booleans()):
        c = draw(st.sampled_from(["clusters/prod", "clusters/staging"]))
        files[f"{c}/flux-system/gotk-sync.yaml"] = GOTK_SYNC.replace("{path}", c)
        if draw(st.booleans()):
            files[f"{c}/flux-system/kustomization.yaml"] = KUSTOMIZATION + "resources:\n  - gotk-sync.yaml\n"
        dirs.append(c)
    for d in dirs:
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["ks", "kustomization", "hr", "source", "cm", "values", "junk", "multi"]))
            fname = draw(st.sampled_from(["ks.yaml", "kustomization.yaml", "release.yaml", "cm.yaml", "values.yaml",
                                          "a b.yaml", "é.yml", "Kustomization", "x.yaml"]))
            if kind == "ks":
                text = draw(flux_ks(dirs, wrong_types))
            elif kind == "kustomization":
                text = draw(kustomization(dirs))
                fname = draw(st.sampled_from(["kustomization.yaml", "kustomization.yml", "Kustomization"]))
            elif kind == "hr":
                text = draw(helm_release(wrong_types))
            elif kind == "source":
                text = draw(source())
            elif kind == "cm":
                text = CM.format(n=draw(name))
            elif kind == "values":
                text = "replicas: 1\n"
            elif kind == "multi":
                text = "---\n".join([draw(flux_ks(dirs, wrong_types)), CM.format(n=draw(name)), "- a\n", "s\n"])
            else:
                text = draw(st.sampled_from(["a: [\n", "a: 1\na: 2\n", "{{ .X }}\n", "#% if %#\n", "\t- x\n",
                                             "\xff", "\0", ""]))
            files[f"{d}/{fname}"] = files.get(f"{d}/{fname}", "") + text
    if draw(st.booleans()):
        files[".sourceignore"] = draw(st.sampled_from(["*.md\n", "/apps/\n!apps/podinfo/\n", "values.yaml\n",
                                                       "# c\n\n**/x.yaml\n"]))
    if draw(st.integers(0, 4)) == 0:
        files[".gitlint-flux.yaml"] = draw(st.sampled_from([
            "roots:\n  - clusters/prod\n", "exclude:\n  - infra/**\n", "rules:\n  FLX107: off\n",
            "sources:\n  GitRepository/flux-system/other: apps\n", "max-file-size: 200\n", "bogus: 1\n"]))
    return files


@SETTINGS
@given(files=repository())
def test_generated_repositories(worker, files):
    check(worker, files)


@SETTINGS
@given(files=repository(wrong_types=True))
def test_generated_repositories_with_wrong_types(worker, files):
    check(worker, files)


@SETTINGS
@given(data=st.binary(max_size=3000), extra=st.sampled_from(["kustomization.yaml", "ks.yaml", "Kustomization"]))
def test_random_bytes_as_manifests(worker, data, extra):
    check(worker, {"clusters/prod/flux-system/gotk-sync.yaml": GOTK_SYNC.replace("{path}", "clusters/prod"),
                   "clusters/prod/" + extra: data})


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#%\n\t ,?<=~.\\0123\u00e9\ufeff\u2028")),
                    max_size=400))
def test_yaml_like_text(worker, text):
    check(worker, {"clusters/prod/flux-system/gotk-sync.yaml": GOTK_SYNC.replace("{path}", "clusters/prod"),
                   "clusters/prod/doc.yaml": text})


# --------------------------------------------------------------------------- edits of real repositories


def _corpus_files() -> list[tuple[str, str]]:
    if not CORPUS.is_dir():
        return []
    out = []
    for repo in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        for d, dirs, names in os.walk(repo):
            dirs[:] = sorted(x for x in dirs if x != ".git")
            for n in sorted(names):
                p = os.path.join(d, n)
                if n.endswith((".yaml", ".yml")) and not os.path.islink(p) and 0 < os.path.getsize(p) < 20000:
                    out.append((str(repo), os.path.relpath(p, repo)))
    return out


CORPUS_FILES = _corpus_files()


@st.composite
def edited_corpus_repo(draw):
    repo, rel = draw(st.sampled_from(CORPUS_FILES))
    # the file, its directory's other YAML files and the repository's gotk-sync files
    files: dict[str, bytes] = {}
    d = os.path.dirname(rel)
    for n in sorted(os.listdir(os.path.join(repo, d) if d else repo)):
        p = os.path.join(repo, d, n)
        if n.endswith((".yaml", ".yml")) and os.path.isfile(p) and os.path.getsize(p) < 20000:
            files[os.path.join(d, n)] = open(p, "rb").read()
    for dd, dirs, names in os.walk(repo):
        if "gotk-sync.yaml" in names:
            files[os.path.relpath(os.path.join(dd, "gotk-sync.yaml"), repo)] = \
                open(os.path.join(dd, "gotk-sync.yaml"), "rb").read()
            break
    data = bytearray(files[rel])
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 8))):
        op = rng.randrange(6)
        pos = rng.randint(0, len(data))
        if op == 0:
            del data[pos:pos + rng.randint(1, 40)]
        elif op == 1:
            data[pos:pos] = rng.choice([b"\t", b"---\n", b"&x ", b"*x", b"<<: *x\n", b"{", b"\"", b"\n  - ../..\n",
                                        b": :", b"\xff", b"dependsOn: 5\n", b"\n<<<<<<< HEAD\n"])
        elif op == 2 and data:
            s = rng.randrange(len(data))
            data[pos:pos] = data[s:s + rng.randint(1, 200)]
        elif op == 3:
            del data[pos:]
        elif op == 4:
            lines = data.split(b"\n")
            rng.shuffle(lines)
            data = bytearray(b"\n".join(lines))
        else:
            data = data.replace(b"  ", b" ", 1)
    files[rel] = bytes(data)
    note(f"{os.path.basename(repo)}: {rel}")
    return files


@pytest.mark.skipif(not CORPUS_FILES, reason="the shared corpus is absent (../shared/corpus)")
@SETTINGS
@given(files=edited_corpus_repo() if CORPUS_FILES else st.nothing())
def test_random_edits_of_corpus_files(worker, files):
    check(worker, files)
