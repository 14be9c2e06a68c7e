"""Logging in and out: the API token contract, expiry, the failed-login throttle, and web sessions."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from knox.models import AuthToken

from backend.accounts.models import Role
from backend.audit.models import AuditEvent
from tests.factories import make_user

PASSWORD = "Correct-horse-battery-9"


@pytest.fixture
def clinician(db):
    return make_user(Role.CLINICIAN, email="asha@example.test", password=PASSWORD)


def login(api_client, email, password):
    return api_client.post("/api/v1/auth/login/", {"email": email, "password": password}, format="json")


def test_login_returns_an_expiring_token_that_authenticates(clinician, api):
    client = api()
    response = login(client, "Asha@Example.test", PASSWORD)  # email is not case-sensitive
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry", "user"}
    assert body["user"] == {"id": clinician.pk, "full_name": clinician.full_name, "preferred_name": "", "role": "clinician"}
    expiry = AuthToken.objects.get(user=clinician).expiry
    assert timedelta(hours=9) < expiry - timezone.now() <= settings.REST_KNOX["TOKEN_TTL"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert client.get("/api/v1/me/").json()["account"]["email"] == "asha@example.test"
    assert AuditEvent.objects.filter(action="login", actor=clinician, via="api").exists()


def test_only_a_hash_of_the_token_is_stored(clinician, api):
    token = login(api(), clinician.email, PASSWORD).json()["token"]
    stored = AuthToken.objects.get(user=clinician)
    assert token not in (stored.digest, stored.token_key) and stored.token_key == token[: len(stored.token_key)]


def test_wrong_password_is_a_400_naming_no_field_and_is_audited(clinician, api):
    response = login(api(), clinician.email, "wrong-password")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_credentials" and body["errors"][0]["field"] is None
    assert not AuthToken.objects.exists()
    failure = AuditEvent.objects.get(action="login_failed")
    assert failure.detail == {"email": clinician.email, "locked_out": False}


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"password": "x"}, "email", "required"),
        ({"email": "not-an-email", "password": "x"}, "email", "invalid"),
        ({"email": "a@example.test"}, "password", "required"),
        ({"email": "a@example.test", "password": "x", "remember": True}, "remember", "unknown_field"),
        ({"email": ["a@example.test"], "password": "x"}, "email", "invalid"),
    ],
)
def test_bad_login_input_names_the_field(db, api, body, field, code):
    response = api().post("/api/v1/auth/login/", body, format="json")
    assert response.status_code == 400
    assert {"field": field, "code": code} in [{k: e[k] for k in ("field", "code")} for e in response.json()["errors"]]


def test_malformed_json_is_a_400_not_a_500(db, api):
    response = api().post("/api/v1/auth/login/", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_form_encoded_login_is_refused_with_415(db, api):
    response = api().post("/api/v1/auth/login/", {"email": "a@example.test", "password": "x"})
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"


def test_repeated_failures_lock_the_account_from_that_address_even_with_the_right_password(clinician, api):
    client = api()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, clinician.email, "wrong-password").status_code == 400
    # The failure that reaches the limit is answered with the lockout, and so is every later try.
    assert login(client, clinician.email, "wrong-password").status_code == 429
    response = login(client, clinician.email, PASSWORD)
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out" and "contact your team" in response.json()["detail"]
    assert not AuthToken.objects.exists()
    assert AuditEvent.objects.filter(action="login_failed", detail__locked_out=True).exists()


def test_the_lockout_is_per_account_so_others_can_still_log_in(clinician, api):
    other = make_user(Role.CLINICIAN, password=PASSWORD)
    client = api()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, clinician.email, "wrong-password")
    assert login(client, other.email, PASSWORD).status_code == 200


def test_a_success_before_the_limit_resets_the_count(clinician, api):
    client = api()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, clinician.email, "wrong-password")
    assert login(client, clinician.email, PASSWORD).status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, clinician.email, "wrong-password")
    assert login(client, clinician.email, PASSWORD).status_code == 200


def test_an_expired_token_is_refused_with_401(clinician, api):
    client = api()
    token = login(client, clinician.email, PASSWORD).json()["token"]
    AuthToken.objects.filter(user=clinician).update(expiry=timezone.now() - timedelta(seconds=1))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["status"] == 401 and response["WWW-Authenticate"] == "Token"


def test_a_made_up_token_is_refused_with_401(db, api):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    assert client.get("/api/v1/me/").status_code == 401


def test_logout_ends_only_that_token(clinician, api):
    first, second = api(), api()
    token_one = login(first, clinician.email, PASSWORD).json()["token"]
    token_two = login(second, clinician.email, PASSWORD).json()["token"]
    first.credentials(HTTP_AUTHORIZATION=f"Token {token_one}")
    second.credentials(HTTP_AUTHORIZATION=f"Token {token_two}")
    assert first.post("/api/v1/auth/logout/").status_code == 204
    assert first.get("/api/v1/me/").status_code == 401
    assert second.get("/api/v1/me/").status_code == 200


def test_an_inactive_account_cannot_log_in(clinician, api):
    clinician.is_active = False
    clinician.save(update_fields=["is_active"])
    assert login(api(), clinician.email, PASSWORD).status_code == 400


def test_deactivating_an_account_revokes_its_tokens(world, api):
    client = api(world.clinician)
    response = api(world.admin).patch(f"/api/v1/users/{world.clinician.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200
    assert client.get("/api/v1/me/").status_code == 401


def test_web_login_uses_a_session_and_csrf(clinician, client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    page = strict.get("/login/")
    assert page.status_code == 200
    # Without the CSRF token the form post is refused.
    assert strict.post("/login/", {"username": clinician.email, "password": PASSWORD}).status_code == 403
    token = page.cookies["csrftoken"].value
    response = strict.post("/login/", {"username": clinician.email, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/"
    assert strict.get("/").status_code == 200


def test_web_login_lockout_shows_a_page_that_says_what_to_do(clinician, client):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/login/", {"username": clinician.email, "password": "nope"}).status_code == 200
    assert client.post("/login/", {"username": clinician.email, "password": "nope"}).status_code == 429
    response = client.post("/login/", {"username": clinician.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"contact your team" in response.content and b"face to face" in response.content


def test_session_authenticated_api_writes_need_csrf(world):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.service_user)
    response = browser.post(
        "/api/v1/carer-links/", {"carer_email": world.unlinked_carer.email, "relationship": "friend"}, content_type="application/json"
    )
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
