"""Schema validation: every document against the schema of its kind.

Modules (each imported only when a run needs it):

* ``nodes``     -- JSON Schema (with Kubernetes' structural extensions) compiled once into
  ``Node`` objects, ``$ref``s resolved once;
* ``validate``  -- a small validator over compiled nodes that yields every error with its
  path (unknown field, wrong type, missing required field, invalid value, CEL rule);
* ``convert``   -- CustomResourceDefinition -> JSON Schema per served version (the same
  code generates the bundled Flux schemas and converts a repository's CRDs at run time);
* ``generate``  -- ``python -m gitlint_flux.schema.generate``: regenerates
  ``gitlint_flux/schemas/`` from the Flux CRDs;
* ``kube``      -- Kubernetes core kinds from kubernetes-validate's bundled schema files;
* ``kustomize`` -- our own schema for kustomization files;
* ``catalog``   -- where a document's schema comes from, in order of precedence;
* ``apis``      -- removed and deprecated API versions (Flux and Kubernetes);
* ``meta``      -- object metadata as the API server checks it;
* ``cel``       -- the CEL subset that CRD ``x-kubernetes-validations`` rules use;
* ``subst``     -- Flux post-build substitution and SOPS-encrypted values;
* ``analysis``  -- one pass over the repository, memoised per run, that the FLX2xx rules
  read their findings from.
"""
