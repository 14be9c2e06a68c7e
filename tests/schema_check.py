"""Check API answers in tests against the generated OpenAPI schema (Zulip's habit: every documented
answer is also a tested one). `assert_conforms(answer)` finds the operation from the request's path
and method and validates the JSON body against the schema of its status code."""

from __future__ import annotations

import functools
import re

from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft4Validator
from rest_framework.test import APIClient


@functools.cache
def api_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _template(path: str) -> str:
    """/api/v1/appointments/7/ -> /api/v1/appointments/{appointment_id}/ (as the schema names it)."""
    route = resolve(path).route
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _json_schema(node):
    """OpenAPI 3.0 -> JSON Schema, as Schemathesis reads it: `nullable: true` admits null whatever the
    node is (drf-spectacular writes a nullable nested object as `{allOf: [$ref], nullable: true}`)."""
    if isinstance(node, list):
        return [_json_schema(child) for child in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@functools.cache
def _components() -> dict:
    return _json_schema(api_schema()["components"])


def validator_for(schema_fragment: dict) -> Draft4Validator:
    """A validator for `schema_fragment` whose $refs resolve against the whole schema's components."""
    return Draft4Validator({**_json_schema(schema_fragment), "components": _components()}, format_checker=Draft4Validator.FORMAT_CHECKER)


def response_schema(method: str, path: str, status: int) -> dict | None:
    operation = api_schema()["paths"][_template(path)][method.lower()]
    content = operation["responses"][str(status)].get("content")
    return None if content is None else content["application/json"]["schema"]


def is_documented(method: str, path: str, status: int) -> bool:
    """Whether the schema has an operation for this request and declares this status for it."""
    try:
        operation = api_schema()["paths"][_template(path)][method.lower()]
    except Exception:  # noqa: BLE001 (an unknown path or method: nothing to check against)
        return False
    return str(status) in operation["responses"]


class SchemaCheckedClient(APIClient):
    """An APIClient that checks every /api/v1/ answer whose status the schema documents against the
    schema (tests/conftest.py's `api` fixture hands these out), so each API test also tests the schema."""

    def request(self, **kwargs):
        answer = super().request(**kwargs)
        request = answer.wsgi_request
        if (request.path.startswith("/api/v1/") and answer.get("Content-Type", "").startswith("application/json")
                and is_documented(request.method, request.path, answer.status_code)):
            assert_conforms(answer)
        return answer


def assert_conforms(answer) -> None:
    """The answer's status is documented for its operation and its body matches that status's schema."""
    request = answer.wsgi_request
    schema = response_schema(request.method, request.path, answer.status_code)
    if schema is None:
        assert not answer.content, f"{request.method} {request.path} {answer.status_code}: no body documented, got one"
        return
    errors = sorted(validator_for(schema).iter_errors(answer.json()), key=str)
    assert not errors, f"{request.method} {request.path} {answer.status_code}: " + "; ".join(e.message for e in errors[:5])
