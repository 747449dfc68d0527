"""Walking a cluster: what each Flux Kustomization applies, as the controllers build it.

A Kustomization's ``spec.path`` is resolved in this checkout when its source is this
repository; what kustomize builds there is transformed as kustomize-controller does
(``targetNamespace``, ``spec.patches``, post-build substitution) into ``Applied`` objects of
the cluster's scope, and the Kustomizations among them are walked in turn.
"""

from __future__ import annotations

import os
import posixpath
from collections import deque
from dataclasses import dataclass

from ..kustomize import FluxOverlay, images_of
from ..memo import Memo
from ..model import Applied, Document, Problem, resource_of
from ..substitution import SubstitutionError, is_disabled, substitute_object, substitution_runs
from .artifacts import artifacts_of, resolve as resolve_artifact
from .refs import data_of, scalar_text
from .scopes import LocalSource, Scope
from .vocab import OPERATOR_GROUP, SOURCE_GROUP, git_ref, is_flux_ks, list_field as _list, norm_url, string_field as _s


@dataclass
class Substitution:
    """Post-build substitution for what one Flux Kustomization applies: whether it runs,
    and the variables (name -> value; None: defined, value unknown, e.g. encrypted)."""

    runs: bool
    variables: dict
    known: dict  # the variables whose values are known
    complete: bool  # every non-optional substituteFrom source is in the repository
    memo: Memo | None = None

    def _key(self) -> tuple:
        return (tuple(sorted(self.known.items())), tuple(sorted(k for k, v in self.variables.items() if v is None)),
                self.complete)

    def apply(self, value):
        """The object substituted as far as the repository tells: a string that needs a
        variable whose value is unknown (or, when a source is outside the repository, one
        that is not defined here) is left as written; an expression Flux cannot parse
        leaves the object as built (the reconcile fails: a rule reports it)."""
        if self.memo is not None and isinstance(value, (dict, list)):
            key = getattr(self, "_k", None)
            if key is None:
                key = self._k = self._key()
            return self.memo.get("substitute", (value,), key, lambda: self._apply(value))
        return self._apply(value)

    def _apply(self, value):
        unknown = [k for k, v in self.variables.items() if v is None]
        try:
            return substitute_object(value, self.known, unknown=unknown, keep_unset=not self.complete)
        except SubstitutionError:
            return value

    def text(self, text: str) -> str:
        """A name or namespace substituted; left as written when it needs an unknown value."""
        out = self.apply(text)
        return out if isinstance(out, str) else text


def external_secret_keys(es: Applied) -> tuple[dict, bool]:
    """The keys of the Secret an ExternalSecret creates (values None: fetched at run time,
    or the literal of a template entry without ``{{``), and whether that is all of them:
    a template's ``data`` alone (external-secrets' default ``mergePolicy: Replace``), else
    ``spec.data[].secretKey`` — ``dataFrom`` brings keys not known here."""
    spec = es.spec
    target = spec.get("target") if isinstance(spec.get("target"), dict) else {}
    template = target.get("template") if isinstance(target.get("template"), dict) else None
    out: dict = {}
    if template is not None and isinstance(template.get("data"), dict):
        for k, v in template["data"].items():
            out[str(k)] = v if isinstance(v, str) and "{{" not in v else None
        if template.get("mergePolicy") != "Merge":
            return out, not template.get("templateFrom")
    for item in _list(spec.get("data")):
        if isinstance(item, dict) and isinstance(item.get("secretKey"), str):
            out.setdefault(item["secretKey"], None)
    return out, not spec.get("dataFrom") and not (template or {}).get("templateFrom")


def flux_overlay(ks: Applied) -> FluxOverlay | None:
    """What a Flux Kustomization adds to its build (as applied: a parent's patches may
    have changed its spec)."""
    spec = ks.spec
    comps = [(c, ("spec", "components", i)) for i, c in enumerate(_list(spec.get("components"))) if isinstance(c, str)]
    patches = bool(_list(spec.get("patches")))
    tns = spec.get("targetNamespace") if isinstance(spec.get("targetNamespace"), str) and spec.get(
        "targetNamespace") else None
    cm = spec.get("commonMetadata") if isinstance(spec.get("commonMetadata"), dict) else {}
    labels = {str(k): str(v) for k, v in cm.get("labels").items()} if isinstance(cm.get("labels"), dict) else {}
    annotations = {str(k): str(v) for k, v in cm.get("annotations").items()} if isinstance(
        cm.get("annotations"), dict) else {}
    if not (comps or patches or tns or labels or annotations):
        return None
    own = None
    if ks.effective is not None:  # a parent's patches changed the spec: which entries are the file's own
        own_spec = ks.doc.spec
        own = [e for e in _list(own_spec.get("patches"))] if isinstance(own_spec, dict) else []
    return FluxOverlay(_as_doc(ks), comps, patches, own_patches=own, target_namespace=tns, labels=labels,
                       annotations=annotations)


def _as_doc(ks: Applied) -> Document:
    """The Kustomization's document, with its spec as applied (a parent's patches), so
    that the overlay reads what the controller reads and locates problems in its file."""
    if ks.effective is None:
        return ks.doc
    d = ks.doc
    return Document(d.path, d.index, ks.effective, d.line, d.column, item=d.item, origin=d.origin)


class Walker:
    """The walking part of ``Graph`` (a mixin: it works on the graph's state)."""

    def _register(self, scope: Scope, a: Applied) -> None:
        scope.add(a)
        self.applied_by_doc.setdefault(id(a.doc), []).append(a)

    def _scope_for(self, scope: Scope, ks: Applied) -> Scope:
        kc = ks.doc.spec.get("kubeConfig")
        if not isinstance(kc, dict):
            return scope
        sr = kc.get("secretRef")
        secret = sr.get("name") if isinstance(sr, dict) else None
        # remote clusters are named from the root cluster, never nested: a Kustomization
        # that (re)applies itself through a kubeConfig must not create clusters forever
        home = scope
        while home.parent is not None:
            home = self.scopes[home.parent]
        name = f"{home.name} -> {ks.namespace}/{secret or 'kubeconfig'}"
        if name not in self.scopes:
            self.scopes[name] = Scope(name, None, parent=home.name)
        return self.scopes[name]

    def _local(self, key: tuple) -> LocalSource | None:
        return self.local_sources.get(key)

    def walk(self, roots: list | None = None) -> None:
        """Apply what the roots (all of them, or those given) apply, recursively."""
        roots = self.roots if roots is None else roots
        pending: list[tuple[Scope, Applied]] = []
        done: set[tuple] = set()
        queue: deque[tuple[Scope, Applied]] = deque()
        for r in roots:
            queue.append((self.scopes[r.applied.scope], r.applied))
        while True:
            while queue:
                scope, ks = queue.popleft()
                dkey = (scope.name, id(ks.doc), ks.namespace, ks.name)
                if dkey in done:
                    continue
                result = self._apply(scope, ks)
                if result is None:
                    pending.append((scope, ks))
                    continue
                done.add(dkey)
                for a in result:
                    if is_flux_ks(a.doc):
                        queue.append((self.scopes[a.scope], a))
            # a GitRepository applied meanwhile may point at this repository; an
            # ArtifactGenerator applied meanwhile may produce a pending ExternalArtifact
            gens = sum(len(sc.of_kind("ArtifactGenerator")) for sc in self.scopes.values())
            progressed = self._discover_local_sources() or gens != getattr(self, "_seen_generators", 0)
            self._seen_generators = gens
            if not progressed or not pending:
                break
            queue.extend(pending)
            pending = []
        for scope, ks in pending:
            self._note_external(ks, "its source is not this repository")
        # a root (and its source) is part of its scope even when its path does not
        # include the file that defines it
        for r in roots:
            scope = self.scopes[r.applied.scope]
            for doc in (r.applied.doc, r.source_doc):
                if doc is None:
                    continue
                if not any(a.scope == scope.name for a in self.applied_by_doc.get(id(doc), [])):
                    self._register(scope, Applied(doc, doc.namespace or r.applied.namespace, doc.name, scope.name, None))

    def _discover_local_sources(self) -> bool:
        known = {(ls.url, ls.ref) for ls in self.local_sources.values() if ls.url}
        progressed = False
        for scope in list(self.scopes.values()):
            for a in scope.applied:
                if a.doc.kind != "GitRepository" or a.doc.group != SOURCE_GROUP:
                    continue
                key = ("GitRepository", a.namespace, a.name)
                if key in self.local_sources:
                    continue
                spec = a.doc.spec
                url = norm_url(spec["url"]) if isinstance(spec.get("url"), str) else ""
                if url and (url, git_ref(spec)) in known:
                    self.local_sources[key] = LocalSource(key, "", self._matcher(spec.get("ignore")), url, git_ref(spec))
                    progressed = True
        return progressed

    def _note_external(self, ks: Applied, reason: str) -> None:
        self.external_paths.append((ks, reason))

    def _apply(self, scope: Scope, ks: Applied) -> list[Applied] | None:
        spec = ks.spec  # as applied: a parent's patches may have changed it
        sref = spec.get("sourceRef")
        if not isinstance(sref, dict):
            return []
        skind = sref.get("kind") if isinstance(sref.get("kind"), str) else ""
        sns = sref.get("namespace") if isinstance(sref.get("namespace"), str) and sref.get("namespace") else ks.namespace
        sname = sref.get("name") if isinstance(sref.get("name"), str) else ""
        skey = (skind, sns, sname)
        src = self._local(skey)
        raw = spec.get("path")
        path = raw if isinstance(raw, str) else "./"
        doc = ks.doc
        loc = doc.loc("spec", "path")
        if src is None and skind == "ExternalArtifact":
            found = self._artifact_dir(scope, sns, sname, path)
            if found is None:
                return None  # the generator's source may become local later
            rel, matcher, reason = found
            if rel is None:
                if reason.startswith("missing"):
                    self.problems.append(Problem(
                        "path-missing", doc.path, loc.line, loc.column,
                        f"spec.path `{path}` is not in ExternalArtifact `{sname}`: {reason[len('missing: '):]}",
                        hint="Fix the path, or the ArtifactGenerator's copy operations.", resource=resource_of(doc),
                        end_line=loc.end_line, end_column=loc.end_column))
                else:
                    self._note_external(ks, f"its ExternalArtifact `{sname}` is not resolved here: {reason}")
                return []
            src = LocalSource(skey, "", matcher, reason=reason)
            path = rel or "./"
        if src is None:
            if skind == "GitRepository":
                return None  # may become local once more GitRepositories are known
            self._note_external(ks, f"its source is a {skind or 'source'}, not this checkout")
            return []
        rel = posixpath.normpath(posixpath.join(src.dir, path.lstrip("/"))) if path.strip("/.") else (src.dir or ".")
        if not self.resolver.contained(rel):
            self.problems.append(Problem("outside-root", doc.path, loc.line, loc.column,
                                         f"spec.path `{path}` leaves the repository", resource=resource_of(doc)))
            return []
        rel_dir = "" if rel == "." else rel
        if not os.path.isdir(self.resolver.abspath(rel_dir)):
            self._path_missing(doc, path, rel_dir)
            return []
        self.ks_paths[id(doc)] = rel_dir
        built = self.resolver.flux_build(rel_dir, doc, src.matcher, flux_overlay(ks))
        tscope = self._scope_for(scope, ks)
        flux_images = images_of(spec.get("images"))
        subst = self._substitution(scope, ks)
        memo = self.memo
        if memo is None:
            out = self._applied(built, tscope, doc, flux_images, subst)
        else:
            # the very objects of the check before when it applied the same build, with
            # the same substitution, into the same cluster (the stages after key on them)
            data = (tscope.name, subst.runs, subst.complete, tuple(sorted(subst.variables.items())),
                    self._kinds_token())
            images = spec.get("images")

            def objects():  # a build made again: most of its objects are still those of the check before
                # (by what a built object holds: a file a generated kustomization lists
                # gives new ones each time)
                return [memo.get("applied-object", (b.doc, b.value, doc, images) + b.images,
                                 (data, b.namespace, b.name),
                                 lambda b=b: self._applied([b], tscope, doc, flux_images, subst)[0]) for b in built]

            out = list(memo.get("applied", (built, doc, images), data, objects))
            if any(id(a) in self._handed for a in out):
                # the same Kustomization applied a second time in this check (two parents):
                # objects of its own, as a check without the memo makes them
                out = self._applied(built, tscope, doc, flux_images, subst)
            else:
                self._handed.update(map(id, out))
        for a in out:
            self._register(tscope, a)
        # what the ResourceSets among them render is applied by the same Kustomization
        # (flux-operator applies it in the ResourceSet's namespace unless it sets one)
        for rs in [a for a in out if a.doc.kind == "ResourceSet" and a.doc.group == OPERATOR_GROUP]:
            out.extend(self._render(tscope, rs, doc))
        return out

    def _applied(self, built: list, tscope: Scope, by: Document, flux_images: tuple,
                 subst: "Substitution") -> list[Applied]:
        """The objects of a build as the Kustomization ``by`` applies them into ``tscope``:
        post-build substitution, the default namespace, the images it overrides."""
        out = []
        for b in built:
            cluster = self.is_cluster_scoped(b.doc.kind)
            ns, name, value = b.namespace, b.name, b.current
            if subst.runs and not is_disabled(value):
                value = subst.apply(value)
                if "$" in name:
                    name = subst.text(name)
                if "$" in ns:
                    ns = subst.text(ns)
            if not ns and not cluster:
                ns = "default"
            out.append(Applied(b.doc, ns, name, tscope.name, by,
                               effective=None if value is b.doc.value else value,
                               images=b.images + flux_images,
                               variables=subst.variables if subst.runs else None,
                               variables_complete=subst.complete, built=b.value))
        return out

    def _kinds_token(self) -> object:
        """One token per set of cluster-scoped kinds, the same from check to check."""
        token = self._kinds_tok
        if token is None:
            token = self._kinds_tok = self.memo.get("cluster-kinds", (), tuple(sorted(self.resolver.cluster_kinds)),
                                                    object)
        return token

    def _render(self, scope: Scope, rs: Applied, by: Document) -> list[Applied]:
        providers = [p.value for p in scope.of_kind("ResourceSetInputProvider") if p.namespace == rs.namespace]
        docs, problems, _none = self.rendered_docs(rs.doc, rs.value, providers)
        out = []
        for d in docs:
            cluster = self.is_cluster_scoped(d.kind)
            ns = d.namespace or ("" if cluster else rs.namespace)
            a = Applied(d, ns, d.name, scope.name, by)
            self._register(scope, a)
            out.append(a)
        return out

    def rendered_docs(self, doc: Document, value, providers: list) -> tuple[list[Document], list, bool]:
        """A ResourceSet's rendered documents (rendered once per ResourceSet value and
        providers; problems recorded once)."""
        from .resourcesets import render_documents

        key = (id(doc), id(value), tuple(id(p) for p in providers))
        hit = self._renders.get(key)
        if hit is None:
            hit = render_documents(doc, value, providers)
            self._renders[key] = hit
            for p in hit[1]:
                k = (p.kind, p.path, p.line, p.column, p.message)
                if k not in self._render_problem_keys:
                    self._render_problem_keys.add(k)
                    self.problems.append(p)
            self.rendered.extend(d for d in hit[0] if all(d is not x for x in self.rendered))
        return hit

    def _substitution(self, scope: Scope, ks: Applied) -> "Substitution":
        """Whether and with what kustomize-controller substitutes in what ``ks`` applies."""
        pb = ks.spec.get("postBuild")
        variables, complete = self._variables(scope, ks)
        if variables is None:
            return Substitution(False, {}, {}, True)
        # unknown values (encrypted data) still count as defined
        runs = substitution_runs(pb, {k: v if v is not None else "" for k, v in variables.items()})
        if not complete and not runs:
            runs = True  # a substituteFrom source outside the repository may define variables
        known = {k: v for k, v in variables.items() if v is not None}
        return Substitution(runs, variables, known, complete, self.memo)

    def _variables(self, scope: Scope, ks: Applied) -> tuple[dict | None, bool]:
        """Post-build variables of a Kustomization: inline ``substitute`` and the
        ConfigMaps/Secrets of ``substituteFrom`` found in its scope."""
        pb = ks.spec.get("postBuild")
        if not isinstance(pb, dict):
            return None, True
        out: dict[str, str | None] = {}
        complete = True
        for ref in _list(pb.get("substituteFrom")):
            if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
                continue
            kind = ref.get("kind") if ref.get("kind") in ("ConfigMap", "Secret") else "ConfigMap"
            hits = scope.find(kind, ks.namespace, ref["name"])
            if not hits and kind == "Secret":
                es = self._external_secret(scope, ks.namespace, ref["name"])
                if es is not None:
                    data, known = external_secret_keys(es)
                    out.update(data)
                    complete = complete and known
                    continue
            if not hits:
                if not ref.get("optional"):
                    complete = False
                continue
            out.update(data_of(hits[0]))
        inline = pb.get("substitute")
        if isinstance(inline, dict):
            for k, v in inline.items():
                out[str(k)] = None if v is None else (v if isinstance(v, str) else scalar_text(v))
        return out, complete

    def _artifact_dir(self, scope: Scope, namespace: str, name: str, path: str):
        """(checkout directory or None, matcher, reason) of ``path`` inside the
        ExternalArtifact ``namespace/name`` an ArtifactGenerator of the cluster produces; None
        when no generator of the cluster produces it (yet)."""
        for gen in scope.of_kind("ArtifactGenerator"):
            if gen.namespace != namespace:
                continue
            alias_dirs, matcher = {}, None
            for s in _list(gen.spec.get("sources")):
                if not isinstance(s, dict) or not isinstance(s.get("alias"), str):
                    continue
                key = (_s(s.get("kind"), "GitRepository"), _s(s.get("namespace"), gen.namespace), _s(s.get("name")))
                local = self._local(key)
                alias_dirs[s["alias"]] = local.dir if local is not None else None
                if local is not None and matcher is None:
                    matcher = local.matcher
            for art in artifacts_of(gen.spec, alias_dirs, self.dirs()):
                if art.name == name:
                    rel, reason = resolve_artifact(art, path, alias_dirs)
                    return rel, matcher or self._matcher(None), reason
        return None

    def _external_secret(self, scope: Scope, namespace: str, name: str) -> Applied | None:
        """The ExternalSecret of the cluster that creates Secret ``namespace/name``."""
        for a in scope.of_kind("ExternalSecret"):
            target = a.spec.get("target")
            tname = target.get("name") if isinstance(target, dict) else None
            if a.namespace == namespace and (tname or a.name) == name:
                return a
        return None

    def _path_missing(self, doc: Document, path: str, rel: str) -> None:
        loc = doc.loc("spec", "path")
        if doc.origin == "synthetic":
            msg = f"the sync path `{path}` does not exist in this repository"
        else:
            msg = f"spec.path `{path}` does not exist in this repository (resolved to `{rel or '.'}`)"
        self.problems.append(Problem("path-missing", doc.path, loc.line, loc.column, msg,
                                     hint="Fix the path, or create the directory.", resource=resource_of(doc),
                                     end_line=loc.end_line, end_column=loc.end_column, data={"target": rel}))

