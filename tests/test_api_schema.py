"""The OpenAPI schema is part of the product: it generates without warnings, validates, and matches the API."""

import pytest
import yaml
from django.core.management import call_command
from openapi_spec_validator import validate


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    import io

    out = io.StringIO()
    with django_db_blocker.unblock():
        # --fail-on-warn turns any drf-spectacular warning (an undocumented field, a guessed type) into a failure.
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_token_security_scheme_is_declared(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["knoxApiToken"] == {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Token-based authentication with required prefix \"Token\""}


def test_login_contract_is_stable(schema):
    login = schema["paths"]["/api/v1/auth/login/"]["post"]
    assert login.get("security", []) in ([], [{}])  # no token needed to log in
    assert {"knoxApiToken": []} in schema["paths"]["/api/v1/me/"]["get"]["security"]
    body = login["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert set(schema["components"]["schemas"][body]["properties"]) == {"email", "password"}
    out = login["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert {"token", "expiry", "user"} <= set(schema["components"]["schemas"][out]["properties"])


def test_every_operation_declares_the_error_shape(schema):
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"status", "code", "detail", "errors"}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status in ("400", "401", "403", "404"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (path, method, status)


def test_schema_and_docs_pages_are_served(db, client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_schema_version_follows_the_changelog(schema):
    """One source of truth: backend/core/version.py, which must be the newest docs/api.md changelog entry."""
    import re
    from pathlib import Path

    changelog = Path(__file__).resolve().parents[1].joinpath("docs", "api.md").read_text().split("## Changelog", 1)[1]
    newest = re.search(r"\*\*v(\d+\.\d+\.\d+)\*\*", changelog).group(1)
    assert schema["info"]["version"] == newest


@pytest.mark.parametrize("role", ["clinician", "carer"])
def test_an_appointment_matches_exactly_one_shape_of_appointment_or_time(world, api, role):
    """oneOf means exactly one: a full appointment must not also pass as the carer's narrower shape."""
    from tests.schema_check import api_schema, assert_conforms, validator_for

    answer = api(world.as_role(role)).get(f"/api/v1/appointments/{world.appointment.pk}/")
    assert answer.status_code == 200, answer.content
    assert_conforms(answer)
    shapes = api_schema()["components"]["schemas"]["AppointmentOrTime"]["oneOf"]
    matching = [shape["$ref"] for shape in shapes if validator_for(shape).is_valid(answer.json())]
    assert matching == [f"#/components/schemas/{'AppointmentTimeOut' if role == 'carer' else 'AppointmentOut'}"]
