"""The language server's memo (``memo.py``): what one check keeps for the next.

The invariant: a check that takes results from the memo reports exactly what a check
without one reports over the same texts — findings, severities, positions, messages,
related locations. Each test below edits a buffer the way a user does (a value, a name a
patch targets, a cycle, a generator input, a CRD, a component) and compares the two.
"""

from __future__ import annotations

import os
import random
import re

import pytest

from conftest import CORPUS, flux_ks, git_init, gotk_sync, needs_corpus, widget_crd, write_tree
from gitlint_flux import lsp
from gitlint_flux.memo import MISSING, Memo


class _Server:
    def log(self, message: str) -> None:
        pass


def findings(report) -> list[tuple]:
    return sorted((f.rule, f.severity, f.path, f.line, f.column, f.end_line, f.end_column, f.message, f.hint,
                   tuple((r.path, r.line, r.column, r.message) for r in f.related)) for f in report.findings)


class Session:
    """One repository in memory, as the server keeps it, with open buffers."""

    def __init__(self, root):
        self.repo = lsp.Repo(str(root), _Server())
        self.buffers: dict[str, lsp.Buffer] = {}
        self.check()

    def edit(self, rel: str, text: str) -> None:
        buf = self.buffers.get(rel)
        if buf is None:
            path = os.path.join(self.repo.root, rel)
            buf = self.buffers[rel] = lsp.Buffer("file://" + path, path, 1, text, self.repo, rel)
        buf.text = text

    def check(self):
        return self.repo.check(list(self.buffers.values()))

    def compare(self) -> list[tuple]:
        """The memo's answer, asserted equal to the answer without one."""
        got = findings(self.check())
        kept, self.repo.memo = self.repo.memo, None
        try:
            want = findings(self.check())
        finally:
            self.repo.memo = kept
        assert got == want
        return got


def rules_of(found: list[tuple]) -> list[tuple]:
    return sorted((f[0], f[2], f[3]) for f in found)


# --------------------------------------------------------------------------- the memo itself


def test_memo_keys_on_identity_and_keeps_one_check():
    m = Memo()
    a, b = {"x": 1}, {"x": 1}  # equal, not the same object
    calls = []

    def compute(v):
        calls.append(v)
        return len(calls)

    assert m.get("step", (a,), None, lambda: compute(a)) == 1
    assert m.get("step", (a,), None, lambda: compute(a)) == 1  # kept
    assert m.get("step", (b,), None, lambda: compute(b)) == 2  # another object: computed
    assert m.get("step", (a,), "other data", lambda: compute(a)) == 3
    m.next_generation()
    assert m.get("step", (a,), None, lambda: compute(a)) == 1  # used by the check before: kept
    m.next_generation()  # the last check used only (a, None)
    assert m.lookup("step", (b,), None) is MISSING
    assert m.lookup("step", (a,), None) == 1
    assert len(m) == 1


def test_memo_entry_holds_its_inputs_so_an_identity_is_never_taken_by_another_object():
    m = Memo()
    m.get("step", ({"k": "old"},), None, lambda: "old")
    # the first input is kept alive by the entry: a new object cannot get its id
    for _ in range(200):
        fresh = {"k": "new"}
        assert m.get("step", (fresh,), None, lambda: "new") == "new"
        m.next_generation()


# --------------------------------------------------------------------------- checks with and without


TREE = {
    "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
    "clusters/prod/apps.yaml": flux_ks("apps", "./apps/prod", extra=(
        "  postBuild:\n    substitute:\n      REPLICAS: \"2\"\n    substituteFrom:\n"
        "      - kind: ConfigMap\n        name: vars\n")),
    "clusters/prod/vars.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: vars
          namespace: flux-system
        data:
          TEAM: blue
        """,
    "clusters/prod/infra.yaml": flux_ks("infra", "./infra", extra="  components:\n    - ../components/labels\n"),
    "apps/prod/kustomization.yaml": """\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ../base
        patches:
          - target:
              kind: Deployment
              name: web
            patch: |
              - op: replace
                path: /spec/replicas
                value: 3
          - patch: |
              apiVersion: apps/v1
              kind: Deployment
              metadata:
                name: web
              spec:
                template:
                  metadata:
                    annotations: {checked: "yes"}
        configMapGenerator:
          - name: settings
            files:
              - settings.yaml
        """,
    "apps/prod/settings.yaml": "colour: ${TEAM}\n",
    "apps/base/kustomization.yaml": """\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: web
        resources:
          - deploy.yaml
          - widget.yaml
          - crd.yaml
        """,
    "apps/base/deploy.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: ${REPLICAS}
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web, team: "${TEAM}"}
            spec:
              containers:
                - name: web
                  image: nginx:1.27
        """,
    "apps/base/widget.yaml": """\
        apiVersion: example.com/v1
        kind: Widget
        metadata:
          name: w
        spec:
          size: 3
        """,
    "apps/base/crd.yaml": widget_crd("size: {type: integer}"),
    # no namespace anywhere: the cluster's default one while the kind is namespaced
    "clusters/prod/widget.yaml": """\
        apiVersion: example.com/v1
        kind: Widget
        metadata:
          name: infra-w
        spec:
          size: 1
        """,
    "infra/ns.yaml": """\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: web
        """,
    "components/labels/kustomization.yaml": """\
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        labels:
          - pairs: {tier: infra}
        """,
}


@pytest.fixture
def session(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    write_tree(root, TREE)
    git_init(root)
    return Session(root.resolve())


def text_of(s: Session, rel: str) -> str:
    buf = s.buffers.get(rel)
    return buf.text if buf is not None else s.repo.files[rel].text


def test_an_unchanged_check_is_taken_from_the_memo(session):
    first = session.compare()
    again = findings(session.check())
    assert again == first
    memo = session.repo.memo
    # every build, substitution, listing, inline patch and object check is taken again
    assert memo.hits > 10
    assert memo.missed == {}


def test_a_renamed_patch_target_fails_the_build_and_the_fix_clears_it(session):
    before = session.compare()
    assert not [f for f in before if f[0] == "FLX108"]
    deploy = text_of(session, "apps/base/deploy.yaml")
    session.edit("apps/base/deploy.yaml", deploy.replace("name: web\nspec", "name: webx\nspec"))
    broken = session.compare()
    assert [f[2] for f in broken if f[0] == "FLX108"] == ["apps/prod/kustomization.yaml"]
    session.edit("apps/base/deploy.yaml", deploy)
    assert session.compare() == before


def test_a_value_edit_in_a_leaf_reaches_the_schema_stage(session):
    widget = text_of(session, "apps/base/widget.yaml")
    session.edit("apps/base/widget.yaml", widget.replace("size: 3", "size: three"))
    got = session.compare()
    assert ("FLX202", "apps/base/widget.yaml", 6) in rules_of(got)
    session.edit("apps/base/widget.yaml", widget)
    assert ("FLX202", "apps/base/widget.yaml", 6) not in rules_of(session.compare())


def test_a_crd_edit_changes_what_its_objects_are_validated_against(session):
    session.compare()
    crd = text_of(session, "apps/base/crd.yaml")
    session.edit("apps/base/crd.yaml", crd.replace("size: {type: integer}", "size: {type: string}"))
    assert ("FLX202", "apps/base/widget.yaml", 6) in rules_of(session.compare())


def test_a_kustomization_cycle_appears_and_goes(session):
    base = text_of(session, "apps/base/kustomization.yaml")
    session.compare()
    session.edit("apps/base/kustomization.yaml", base.replace("  - crd.yaml\n", "  - crd.yaml\n  - ../prod\n"))
    cyc = session.compare()
    assert any("cycle" in f[7] for f in cyc)
    session.edit("apps/base/kustomization.yaml", base)
    assert not any("cycle" in f[7] for f in session.compare())


def test_substitution_variables_and_generator_inputs_follow_their_edits(session):
    session.compare()
    vars_text = text_of(session, "clusters/prod/vars.yaml")
    session.edit("clusters/prod/vars.yaml", vars_text.replace("TEAM: blue", "OTHER: blue"))
    session.compare()  # ${TEAM} is now unset: whatever the rules say, with and without the memo alike
    session.edit("apps/prod/settings.yaml", "colour: ${MISSING_TOO}\n")
    session.compare()
    apps = text_of(session, "clusters/prod/apps.yaml")
    session.edit("clusters/prod/apps.yaml", apps.replace('REPLICAS: "2"', 'REPLICAS: "two"'))
    session.compare()


def test_a_component_edit_reaches_the_kustomization_that_includes_it(session):
    session.compare()
    comp = text_of(session, "components/labels/kustomization.yaml")
    session.edit("components/labels/kustomization.yaml", comp + "resources:\n  - missing.yaml\n")
    got = session.compare()
    assert any(f[2] == "components/labels/kustomization.yaml" and "missing.yaml" in f[7] for f in got)


def test_a_flux_kustomization_path_edit_moves_what_it_applies(session):
    session.compare()
    infra = text_of(session, "clusters/prod/infra.yaml")
    session.edit("clusters/prod/infra.yaml", infra.replace("path: ./infra", "path: ./nowhere"))
    assert any(f[2] == "clusters/prod/infra.yaml" and "nowhere" in f[7] for f in session.compare())
    session.edit("clusters/prod/infra.yaml", infra.replace("path: ./infra", "path: ./apps/base"))
    session.compare()


# --------------------------------------------------------------------------- the corpus


@needs_corpus
@pytest.mark.parametrize("name", ["fluxcd+flux2-multi-tenancy", "budimanjojo+home-cluster", "zhorvath83+home-ops",
                                  "mirceanton+home-ops"])
def test_corpus_edits_answer_as_a_check_without_the_memo(name):
    """Value edits in kustomizations, Flux Kustomizations, patches and components of real
    repositories: the memo never changes the answer."""
    root = CORPUS / name
    s = Session(root)
    rng = random.Random(7)
    rels = sorted(rel for rel, sf in s.repo.files.items() if sf.text and sf.skip_reason is None and any(
        k in sf.text for k in ("kind: Kustomization", "patches", "kind: Component", "postBuild")))
    for rel in rng.sample(rels, min(6, len(rels))):
        text = s.repo.files[rel].text
        lines = text.splitlines(keepends=True)
        values = [i for i, ln in enumerate(lines) if re.search(r":\s+\S", ln) and not ln.lstrip().startswith("#")]
        for i in rng.sample(values, min(2, len(values))):
            m = re.search(r"(:\s+)(\S[^\n]*?)(\s*)$", lines[i])
            new = lines[i][:m.start(2)] + rng.choice(["x" + m.group(2), "${FOO}", "changed"]) + lines[i][m.end(2):]
            s.edit(rel, "".join(lines[:i] + [new] + lines[i + 1:]))
            s.compare()
        s.edit(rel, text)
        s.compare()


@needs_corpus
def test_a_leaf_edit_under_a_flux_instance_root_builds_only_what_reads_the_leaf():
    """The root a flux-instance chart describes is a synthetic document: it is the one of
    the check before while it says the same, so the build it roots (every namespace of the
    repository) is replayed; a leaf edit makes again only the builds that read the leaf."""
    s = Session(CORPUS / "mirceanton+home-ops")
    rel = "apps/home-automation/zigbee2mqtt/app/scaled-object.yaml"
    text = s.repo.files[rel].text
    s.edit(rel, text)
    s.compare()
    s.edit(rel, "# an edit\n" + text)
    s.compare()  # the memo's counters are those of its own check (the second one runs without it)
    # every Flux build is found in the memo (the leaf's own one is then made again: it read the leaf)
    assert "flux-build" not in s.repo.memo.missed, s.repo.memo.missed


def _parent(name: str, ns: str) -> str:
    return flux_ks(name, "./shared", extra=(
        f"  targetNamespace: {ns}\n  patches:\n    - target:\n        kind: Kustomization\n        name: child\n      patch: |\n"
        f"        - op: add\n          path: /spec/targetNamespace\n          value: {ns}\n"))


def test_one_kustomization_applied_by_two_parents_gets_each_parents_patches(tmp_path):
    """Two parents apply the same child Kustomization file, each in its own namespace and
    patching its targetNamespace: each application builds the child's path with its own
    spec (a build is kept per application, never handed to the other), with and without
    the memo."""
    from conftest import graph_of

    root = tmp_path / "repo"
    root.mkdir()
    write_tree(root, {
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/parent-a.yaml": _parent("parent-a", "team-a"),
        "clusters/prod/parent-b.yaml": _parent("parent-b", "team-b"),
        "shared/child.yaml": flux_ks("child", "./app", namespace=None).replace(
            "    name: flux-system\n", "    name: flux-system\n    namespace: flux-system\n"),
        "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n",
    })
    git_init(root)
    g = graph_of(root)
    namespaces = sorted(a.namespace for sc in g.scopes.values() for a in sc.applied if a.doc.kind == "ConfigMap")
    assert namespaces == ["team-a", "team-b"]
    s = Session(root.resolve())
    s.compare()
    s.edit("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: c\n")
    s.compare()


def test_a_build_taken_from_an_earlier_includer_is_made_when_that_includer_goes(tmp_path):
    """`b` took `shared`'s build that `a` made first; once `a` no longer builds it, `b`
    taken from the memo makes it (its role, its problems), as a check without the memo."""
    root = tmp_path / "repo"
    root.mkdir()
    write_tree(root, {
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/a.yaml": flux_ks("a", "./apps/a"),
        "clusters/prod/b.yaml": flux_ks("b", "./apps/b"),
        "apps/a/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                                     "resources:\n  - ../shared\n",
        "apps/b/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                                     "resources:\n  - ../shared\n",
        # a broken field: judged at the severity of a file a cluster applies (error)
        "apps/shared/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                                          "resources:\n  - cm.yaml\nlabels: {app: x}\n",
        "apps/shared/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n",
    })
    git_init(root)
    s = Session(root.resolve())

    def shared(found):
        return [(f[0], f[1]) for f in found if f[2] == "apps/shared/kustomization.yaml"]

    assert shared(s.compare()) == [("FLX210", "error")]
    s.edit("clusters/prod/a.yaml", flux_ks("a", "./apps/elsewhere"))
    assert shared(s.compare()) == [("FLX210", "error")]


def test_a_source_file_copy_has_every_field_and_its_own_lists():
    import dataclasses

    from gitlint_flux.model import Document, Problem, SourceFile

    sf = SourceFile("a.yaml", "/r/a.yaml", 3, "x: 1\n", [Document("a.yaml", 0, {"x": 1}, 1, 1)],
                    [Problem("syntax", "a.yaml", 1, 1, "m")], "why", True, True, "d1")
    c = sf.copy()
    for f in dataclasses.fields(SourceFile):
        assert getattr(c, f.name) == getattr(sf, f.name), f.name
    assert c.documents is not sf.documents and c.problems is not sf.problems
    assert c.documents[0] is sf.documents[0]


_K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


def _cycle_tree(tmp_path, extra: dict | None = None) -> Session:
    root = tmp_path / "repo"
    root.mkdir()
    write_tree(root, {
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/x.yaml": flux_ks("x", "./a"),
        "a/kustomization.yaml": _K + "resources:\n  - ../b\n  - cm.yaml\n",
        "a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n",
        "b/kustomization.yaml": _K + "resources:\n  - ../a\n",
        **(extra or {}),
    })
    git_init(root)
    return Session(root.resolve())


def test_a_build_recorded_inside_a_cycle_is_not_replayed_from_elsewhere(tmp_path):
    """`b`, built inside `a` (which `b` includes back), met the cycle at `a`; built from
    `b` itself, the cycle is met at `b` and `a`'s objects are applied."""
    s = _cycle_tree(tmp_path)
    s.compare()
    s.edit("clusters/prod/x.yaml", flux_ks("x", "./b"))
    got = s.compare()
    assert [f[2] for f in got if "kustomization cycle" in f[7]] == ["a/kustomization.yaml"]


def test_a_build_that_took_a_cycle_bound_build_is_built_again(tmp_path):
    s = _cycle_tree(tmp_path, {"clusters/prod/y.yaml": flux_ks("y", "./c"),
                               "c/kustomization.yaml": _K + "resources:\n  - ../b\n"})
    s.compare()
    s.edit("clusters/prod/x.yaml", flux_ks("x", "./nowhere"))  # `y` and `c` unchanged
    s.compare()


def test_crds_whose_schema_has_no_canonical_form_are_never_mixed_up(tmp_path):
    """A CRD schema with keys of mixed types (`!!int 1:` beside strings) is compiled on its
    own; switching its type back and forth, each check validates against the current one."""
    import gc

    def crd(t: str) -> str:
        return widget_crd(f"size: {{type: {t}}}", "!!int 1: {type: string}")

    root = tmp_path / "repo"
    root.mkdir()
    write_tree(root, {
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": _K + "resources:\n  - crd.yaml\n  - w.yaml\n",
        "apps/crd.yaml": crd("integer"),
        "apps/w.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: default\n"
                       "spec:\n  size: 3\n",
    })
    git_init(root)
    s = Session(root.resolve())
    for i in range(40):
        t = ("string", "integer")[i % 2]
        s.edit("apps/crd.yaml", crd(t))
        gc.collect()
        got = s.compare()
        assert any(f[0] == "FLX202" and f[2] == "apps/w.yaml" for f in got) == (t == "string")


# --------------------------------------------------------------------------- kept objects as applied


def _graphs(s: Session):
    """The graph of the session's texts built with its memo (as a check does), and built
    without one."""
    from gitlint_flux.graph import Graph
    from gitlint_flux.workspace import located_roots

    repo = s.repo

    def files():
        out = {rel: sf.copy() for rel, sf in repo.files.items()}
        for b in s.buffers.values():
            out[b.rel] = repo.parsed(b).copy()
        return out

    repo.memo.next_generation()
    args = (repo.root, files(), located_roots(repo.root, repo.config), repo.config.sources)
    kept = Graph(*args, sourceignores=repo.listing.sourceignores, memo=repo.memo).build()
    args = (repo.root, files(), located_roots(repo.root, repo.config), repo.config.sources)
    fresh = Graph(*args, sourceignores=repo.listing.sourceignores, memo=None).build()
    return kept, fresh


def _applied(graph) -> list[tuple]:
    import json

    def plain(v):
        return json.dumps(v, sort_keys=True, default=str)

    return sorted((a.doc.path, a.doc.index, a.scope, a.namespace, a.name, a.by.path if a.by is not None else "",
                   plain(a.value), plain(a.built_value), plain(list(a.images)),
                   plain(a.variables), a.variables_complete) for a in graph.applied_objects(unapplied=True))


def test_objects_kept_as_applied_are_those_a_check_without_the_memo_makes(session):
    """The objects of a build are kept from the check before while the build, the
    substitution and the cluster are the same; an edit to any of them (a substituteFrom
    value, the Kustomization's images, a CRD's scope) makes them again."""
    kept, fresh = _graphs(session)
    assert _applied(kept) == _applied(fresh)
    again, _ = _graphs(session)
    before = {id(a) for a in kept.applied_objects(unapplied=True)}
    # nothing changed: the very same objects
    assert [str(a) for a in again.applied_objects(unapplied=True) if id(a) not in before] == []
    # the root's patches change what `apps` applies while its file stays the same
    root_patch = ("    name: flux-system\n  patches:\n    - target:\n        kind: Kustomization\n        name: apps\n"
                  "      patch: |\n        - op: add\n          path: /spec/images\n"
                  "          value: [{name: nginx, newTag: \"1.28\"}]\n")
    sync = "clusters/prod/flux-system/gotk-sync.yaml"
    edits = [
        ("clusters/prod/vars.yaml", "TEAM: blue", "TEAM: red"),
        (sync, "    name: flux-system\n", root_patch),
        (sync, "value: [{name: nginx", "value: [{name: nginx, newName: mirror/nginx"),
        (sync, "path: /spec/images", "path: /spec/targetNamespace\n          value: other\n        - op: add\n"
                                     "          path: /spec/images"),
        ("apps/base/crd.yaml", "scope: Namespaced", "scope: Cluster"),
    ]
    for rel, old, new in edits:
        text = text_of(session, rel)
        assert old in text, (rel, old)
        session.edit(rel, text.replace(old, new, 1))
        kept, fresh = _graphs(session)
        assert _applied(kept) == _applied(fresh), (rel, new)
    (widget,) = [x for x in _applied(kept) if x[0] == "clusters/prod/widget.yaml"]
    assert widget[3] == ""  # cluster-scoped now
    deploy = [x for x in _applied(kept) if x[0] == "apps/base/deploy.yaml"]
    assert deploy and all('"team": "red"' in x[6] and "mirror/nginx" in x[8] and x[3] == "other"
                          for x in deploy), deploy


def test_a_kustomization_applied_twice_in_a_check_gets_objects_of_its_own(tmp_path):
    """Two parents apply one child Kustomization (each with its targetNamespace): the
    child's build is applied twice into the cluster, as two sets of objects, with the
    memo as without it (the second application does not take the first one's objects)."""
    root = tmp_path / "repo"
    child = flux_ks("child", "./app", namespace=None).replace(
        "    name: flux-system\n", "    name: flux-system\n    namespace: flux-system\n")
    write_tree(root, {
        "clusters/prod/flux-system/gotk-sync.yaml": gotk_sync("clusters/prod"),
        "clusters/prod/parent-a.yaml": flux_ks("parent-a", "./shared", extra="  targetNamespace: team-a\n"),
        "clusters/prod/parent-b.yaml": flux_ks("parent-b", "./shared", extra="  targetNamespace: team-b\n"),
        "shared/child.yaml": child,
        "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\n",
    })
    git_init(root)
    s = Session(root.resolve())
    s.compare()
    for _ in range(2):  # the second time from the memo
        kept, fresh = _graphs(s)
        assert _applied(kept) == _applied(fresh)
        objs = [a for a in kept.applied_objects() if a.doc.path == "app/cm.yaml"]
        assert len(objs) == 2 and objs[0] is not objs[1]
