"""Lists are bounded (issue 10, point 7): every growing list is cursor-paginated through one helper,
the audit event names the page shown, and a bad cursor or page size is a 4xx, never a 500."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from backend.accounts import services
from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from tests.factories import make_user
from tests.schema_check import api_schema

pytestmark = pytest.mark.django_db


def _cursor(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


def test_a_caseload_pages_with_next_and_previous_and_the_audit_names_each_page(world, api):
    for _ in range(4):
        services.caseload_add(actor=Actor.system(), team=world.north, service_user=make_user(Role.SERVICE_USER))
    client = api(world.clinician)
    first = client.get("/api/v1/service-users/", {"page_size": 2}).json()
    assert set(first) == {"next", "previous", "results"} and len(first["results"]) == 2 and first["previous"] is None
    shown_first = [p["id"] for p in first["results"]]
    assert AuditEvent.objects.filter(action="list").latest("sequence").detail["ids"] == [str(i) for i in shown_first]
    seen = list(shown_first)
    page = first
    while page["next"]:
        page = client.get("/api/v1/service-users/", {"page_size": 2, "cursor": _cursor(page["next"])}).json()
        assert AuditEvent.objects.filter(action="list").latest("sequence").detail["ids"] == [str(p["id"]) for p in page["results"]]
        seen += [p["id"] for p in page["results"]]
    assert len(seen) == len(set(seen)) == 5 and page["previous"]


def test_page_size_defaults_to_50_and_is_capped_at_200(world, api):
    from backend.core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

    assert (DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) == (50, 200)
    operation = api_schema()["paths"]["/api/v1/appointments/"]["get"]
    page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    for value in ("0", "²", "9" * 5000, "-3"):
        answer = api(world.clinician).get("/api/v1/appointments/", {"page_size": value})
        assert answer.status_code == 200 and len(answer.json()["results"]) == 2  # the default applies


@pytest.mark.parametrize("cursor", [
    "not-a-cursor",
    base64.b64encode(b"p=abc").decode(),  # a position that is not an id
    base64.b64encode(b"p=1\x00").decode(),  # a NUL byte inside the cursor
])
def test_a_cursor_we_did_not_give_out_is_a_400_naming_cursor(world, api, cursor):
    answer = api(world.clinician).get("/api/v1/service-users/", {"cursor": cursor})
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][0]["field"] == "cursor"


def test_a_tampered_date_position_is_refused_too(world, api):
    answer = api(world.clinician).get("/api/v1/appointments/", {"cursor": base64.b64encode(b"p=not a date").decode()})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "cursor"


def test_every_list_get_in_the_schema_is_paginated_or_named_as_bounded():
    """A new list endpoint without pagination fails here until it pages or joins BOUNDED with a reason."""
    bounded = {  # bounded by construction (docs/api.md, "Lists")
        "/api/v1/consent/reason-codes/", "/api/v1/evaluation/datasets/", "/api/v1/service-users/{service_user_id}/consent/",
        "/api/v1/service-users/{service_user_id}/outcomes/", "/api/v1/appointments/{appointment_id}/participants/",
        "/api/v1/appointments/{appointment_id}/questionnaires-due/",
        "/api/v1/appointments/{appointment_id}/sent-messages/",  # one appointment's: a few per kind and channel
        "/api/v1/network/categories/",  # the fixed list of categories
        "/api/v1/service-users/{service_user_id}/network/suggestions/",  # the best 50 at most
        "/api/v1/relatives/modules/",  # the organisation's module library, newest published version of each
        "/api/v1/groups/",  # at most 200, soonest first: to be paged with the group pages (issue 16)
    }
    unpaged = []
    for path, item in api_schema()["paths"].items():
        get = item.get("get")
        if not get:
            continue
        schema = get["responses"]["200"]["content"]["application/json"]["schema"]
        if schema.get("type") == "array" and path not in bounded:
            unpaged.append(path)
        if schema.get("type") == "array" or path in bounded:
            continue
        ref = schema.get("$ref", "")
        assert not ref.split("/")[-1].startswith("Paginated") or {"cursor", "page_size"} <= {p["name"] for p in get["parameters"]}
    assert unpaged == []


def test_every_request_string_has_a_max_length_and_every_integer_a_maximum():
    """Limits are documented in the schema for every body field and query parameter."""
    schema = api_schema()
    components = schema["components"]["schemas"]
    missing = []

    def walk(node, where):
        if "$ref" in node:
            return walk(components[node["$ref"].split("/")[-1]], where)
        kind = node.get("type")
        if kind == "string" and "enum" not in node and node.get("format") not in ("date", "date-time", "binary", "uri") \
                and "maxLength" not in node and "pattern" not in node:  # a decimal's pattern bounds it
            missing.append(where)
        if kind == "integer" and "maximum" not in node:
            missing.append(where)
        for name, child in node.get("properties", {}).items():
            walk(child, f"{where}.{name}")
        if "items" in node:
            walk(node["items"], f"{where}[]")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{where}{{}}")
        for key in ("oneOf", "allOf", "anyOf"):
            for child in node.get(key, []):
                walk(child, where)

    for path, item in schema["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                walk(media["schema"], f"{method.upper()} {path} body")
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["name"] != "cursor":
                    walk(parameter["schema"], f"{method.upper()} {path} ?{parameter['name']}")
    assert missing == []
