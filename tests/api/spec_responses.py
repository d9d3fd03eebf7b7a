# SPDX-License-Identifier: Apache-2.0
"""Every answer the tests get from a TAMS path, checked against the spec of the version that
answered: a success with a JSON body against the schema the spec's YAML gives for that path,
method and status; an error with a JSON body against error.json. conftest.py's request helpers
call check() on each response, so no test has to remember to validate what it reads."""
import functools
import re
import threading

import jsonschema
import yaml


class SpecResponses:
    """The response schemas of one version's TimeAddressableMediaStore.yaml."""

    def __init__(self, spec_dir):
        self.yaml_path = spec_dir / "TimeAddressableMediaStore.yaml"
        self.doc = yaml.safe_load(self.yaml_path.read_text())
        self.resolver = jsonschema.RefResolver(base_uri=self.yaml_path.as_uri(),
                                               referrer=self.doc)
        # Literal segments before templated ones, so /flows/{id}/segments is not taken for an
        # object id with slashes; a template's last parameter may hold slashes (object ids).
        self.paths = []
        for template in self.doc["paths"]:
            parts = re.split(r"\{[^}]+\}", template)
            last = re.escape(parts[-1])
            pattern = "[^/]+".join(re.escape(p) for p in parts[:-1])
            slashes = pattern + (".+" if len(parts) > 1 else "") + last
            single = pattern + ("[^/]+" if len(parts) > 1 else "") + last
            self.paths.append((re.compile(single + r"\Z"), re.compile(slashes + r"\Z"), template))
        self.error = self._validator({"$ref": "schemas/error.json"})
        # A RefResolver keeps a stack of base URIs while it validates: tests that make requests
        # from several threads must not validate at the same time with it.
        self.lock = threading.Lock()

    def _validator(self, schema):
        cls = jsonschema.validators.validator_for(schema)
        return cls(schema, resolver=self.resolver, format_checker=jsonschema.FormatChecker())

    def template_of(self, path):
        for exact, _, template in self.paths:
            if exact.match(path):
                return template
        for _, loose, template in self.paths:
            if loose.match(path):
                return template
        return None

    @functools.lru_cache(maxsize=None)
    def validator_for(self, template, method, status):
        """The validator of the JSON body the spec gives for this answer; None if it gives none."""
        op = self.doc["paths"][template].get(method.lower())
        if not op:
            return None
        resp = op.get("responses", {}).get(str(status))
        if not resp:
            return None
        if "$ref" in resp:
            resp = self.doc["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
        schema = resp.get("content", {}).get("application/json", {}).get("schema")
        return self._validator(schema) if schema else None

    def check(self, method, path, resp):
        """Raise AssertionError if resp's JSON body does not match the spec (path without its
        query and without the version prefix)."""
        if method == "HEAD" or not resp.content:
            return
        if not resp.headers.get("Content-Type", "").startswith("application/json"):
            return
        template = self.template_of(path)
        if template is None:
            return
        body = resp.json()
        if resp.status_code >= 400:
            validator = self.error
        else:
            validator = self.validator_for(template, method, resp.status_code)
            if validator is None:
                return
        with self.lock:
            errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        assert not errors, (f"{method} {path} -> {resp.status_code}: the body does not match "
                            f"the spec ({template}): {errors[0].message} at "
                            f"{list(errors[0].path)}")
