"""Lists and answers that hold (issue 10, point 7): scoped throttles answer 429 in the Error shape,
API answers are not cached, camera and microphone only where a page needs them, no Server banner."""

import pytest
from rest_framework.throttling import ScopedRateThrottle

from tests.schema_check import assert_conforms

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_rates(monkeypatch):
    """Each scope allows 2 requests a minute for this test (the cache starts empty per test)."""
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES",
                        {scope: "2/minute" for scope in ("exports", "telemetry", "responses", "join_links")})


def test_join_links_are_throttled_with_429_in_the_error_shape(world, api, tight_rates):
    client = api(world.clinician)
    url = f"/api/v1/appointments/{world.appointment.pk}/join-links/"
    statuses = [client.post(url, {"user_id": world.service_user.pk}, format="json").status_code for _ in range(3)]
    assert statuses[:2] != [429, 429] and statuses[2] == 429, statuses
    answer = client.post(url, {"user_id": world.service_user.pk}, format="json")
    assert answer.status_code == 429 and answer.json()["code"] == "throttled" and int(answer["Retry-After"]) > 0
    assert_conforms(answer)


def test_exports_telemetry_and_submissions_are_throttled_too(world, api, tight_rates):
    evaluator = api(world.evaluator)
    exports = [evaluator.post("/api/v1/evaluation/exports/", {"dataset": "sessions", "format": "csv"}, format="json").status_code
               for _ in range(3)]
    assert exports[2] == 429, exports
    person = api(world.service_user)
    telemetry = [person.post(f"/api/v1/appointments/{world.appointment.pk}/telemetry/", {"samples": []}, format="json").status_code
                 for _ in range(3)]
    assert telemetry[2] == 429, telemetry
    body = {"instrument": "phq9", "service_user_id": world.service_user.pk, "course_id": world.course.pk,
            "mode": "self_online", "answers": {"1": 0}}
    submissions = [person.post("/api/v1/responses/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"k{n}").status_code for n in range(3)]
    assert submissions[2] == 429, submissions
    assert person.get("/api/v1/responses/").status_code == 200  # reading is not throttled


def test_api_answers_are_not_stored_by_caches(world, api):
    answer = api(world.clinician).get(f"/api/v1/service-users/{world.service_user.pk}/")
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    assert api().get("/api/v1/me/")["Cache-Control"] == "no-store"  # refusals too


def test_camera_and_microphone_are_allowed_only_on_the_pages_that_use_them(world, client):
    client.force_login(world.clinician)
    for path in ("/connection-test/", f"/sessions/{world.appointment.pk}/"):
        policy = client.get(path)["Permissions-Policy"]
        assert "camera=(self)" in policy and "microphone=(self)" in policy, path
    for path in ("/appointments/", "/api/v1/me/", f"/people/{world.service_user.pk}/"):
        answer = client.get(path)
        assert "camera=()" in answer["Permissions-Policy"] and "microphone=()" in answer["Permissions-Policy"], path


def test_a_nul_byte_in_any_api_query_parameter_is_refused_naming_it(world, api):
    answer = api(world.clinician).get("/api/v1/appointments/", {"whatever": "a\x00b"})
    assert answer.status_code == 400
    assert answer.json()["errors"] == [{"field": "whatever", "code": "null_character", "message": "Null characters are not allowed."}]


def test_uvicorn_sends_no_server_banner(django_db_setup, tmp_path):
    """The commands that start uvicorn (tests/live_server.py, the Makefile, the Dockerfile) turn the banner off."""
    import os
    import urllib.request
    from pathlib import Path

    from django.conf import settings

    from tests.live_server import database_url_with_name, start_server, wait_until_up

    root = Path(__file__).resolve().parents[2]
    assert "--no-server-header" in (root / "Makefile").read_text()
    assert "--no-server-header" in (root / "Dockerfile").read_text()
    env = {**os.environ, "DATABASE_URL": database_url_with_name(os.environ["DATABASE_URL"], settings.DATABASES["default"]["NAME"])}
    server = start_server(env, tmp_path / "uvicorn.log")
    try:
        wait_until_up(server)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            response = opener.open(f"{server.base_url}/api/v1/nowhere/", timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        assert response.headers.get("Server") is None, response.headers
    finally:
        server.stop()
