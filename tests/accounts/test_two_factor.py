"""Two-factor sign-in: staff of an organisation that requires it set up an app at their first sign-in,
and no token or session exists before the code; wrong codes count with the login throttle."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from backend.accounts import services, two_factor
from backend.accounts.models import Role
from backend.audit.models import AuditEvent
from tests.factories import SYSTEM, enrol_totp, make_user, totp_code, totp_code_from_secret

PASSWORD = "Lantern-orchard-2026"


@pytest.fixture
def strict(world):
    """The world's organisation, requiring two-factor sign-in for staff (the product's default)."""
    services.organisation_update(actor=SYSTEM, organisation=world.organisation, staff_two_factor_required=True)
    world.organisation.refresh_from_db()
    return world


def _login(api, user, password=PASSWORD):
    return api().post("/api/v1/auth/login/", {"email": user.email, "password": password}, format="json")


def test_new_organisations_require_two_factor_for_staff(db):
    organisation = services.organisation_create(actor=SYSTEM, name="Default Trust")
    assert organisation.staff_two_factor_required


def test_api_login_is_two_steps_for_staff_with_two_factor(strict, api):
    clinician = make_user(Role.CLINICIAN, password=PASSWORD)
    response = _login(api, clinician)
    assert response.status_code == 403 and response.json()["code"] == "two_factor_setup_required"
    assert "token" not in response.json()

    device = enrol_totp(clinician)
    response = _login(api, clinician)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["otp_required"] is True and "token" not in body

    wrong = api().post("/api/v1/auth/login/otp/", {"challenge": body["challenge"], "code": "000000"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "code"
    tampered = api().post("/api/v1/auth/login/otp/", {"challenge": body["challenge"] + "x", "code": totp_code(device, steps_ahead=1)}, format="json")
    assert tampered.status_code == 400 and tampered.json()["errors"][0]["field"] == "challenge"

    response = api().post("/api/v1/auth/login/otp/", {"challenge": body["challenge"], "code": totp_code(device, steps_ahead=1)}, format="json")
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").status_code == 200


def test_a_recovery_code_works_once(strict, api):
    clinician = make_user(Role.CLINICIAN, password=PASSWORD)
    enrolment = two_factor.totp_enrolment_start(user=clinician)
    codes = two_factor.totp_enrolment_confirm(actor=SYSTEM, user=clinician, device=enrolment.device, code=totp_code(enrolment.device))
    assert len(codes) == 10
    challenge = _login(api, clinician).json()["challenge"]
    assert api().post("/api/v1/auth/login/otp/", {"challenge": challenge, "code": codes[0]}, format="json").status_code == 200
    challenge = _login(api, clinician).json()["challenge"]
    assert api().post("/api/v1/auth/login/otp/", {"challenge": challenge, "code": codes[0]}, format="json").status_code == 400


def test_wrong_codes_lock_the_login_out(strict, api, settings):
    clinician = make_user(Role.CLINICIAN, password=PASSWORD)
    device = enrol_totp(clinician)
    challenge = _login(api, clinician).json()["challenge"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api().post("/api/v1/auth/login/otp/", {"challenge": challenge, "code": "123456"}, format="json")
    response = api().post("/api/v1/auth/login/otp/", {"challenge": challenge, "code": totp_code(device, steps_ahead=1)}, format="json")
    assert response.status_code == 429 and response.json()["code"] == "locked_out"
    assert _login(api, clinician).status_code == 429  # the password step is locked too
    assert AuditEvent.objects.filter(action="login_failed", detail__email=clinician.email).count() >= settings.AXES_FAILURE_LIMIT


def test_service_users_are_offered_not_forced(strict, api):
    person = make_user(Role.SERVICE_USER, password=PASSWORD)
    assert _login(api, person).status_code == 200
    enrol_totp(person)
    assert _login(api, person).status_code == 202


def test_organisation_without_two_factor_logs_staff_in_with_a_password(world, api):
    clinician = make_user(Role.CLINICIAN, password=PASSWORD)
    assert _login(api, clinician).status_code == 200


def test_admin_resets_a_colleagues_device_audited_and_only_in_their_organisation(strict, api, elsewhere):
    clinician = make_user(Role.CLINICIAN, password=PASSWORD)
    enrol_totp(clinician)
    assert api(elsewhere.admin).post(f"/api/v1/users/{clinician.pk}/two-factor/reset/").status_code == 404
    assert api(world_clinician(strict)).post(f"/api/v1/users/{clinician.pk}/two-factor/reset/").status_code == 403
    assert TOTPDevice.objects.filter(user=clinician).exists()
    assert api(strict.admin).post(f"/api/v1/users/{clinician.pk}/two-factor/reset/").status_code == 204
    assert not TOTPDevice.objects.filter(user=clinician).exists()
    assert AuditEvent.objects.filter(action="end", object_id=str(clinician.pk), detail__two_factor="reset_by_admin").exists()
    assert _login(api, clinician).json()["code"] == "two_factor_setup_required"


def world_clinician(world):
    return world.clinician


def test_web_first_sign_in_sets_up_the_app_then_logs_in(strict):
    clinician = make_user(Role.CLINICIAN, password=PASSWORD)
    client = Client()
    response = client.post("/login/", {"username": clinician.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/login/two-factor/"
    assert client.get("/").status_code == 302  # not logged in yet
    response = client.get("/login/two-factor/", follow=True)
    page = response.content.decode()
    assert "Set up two-factor sign-in" in page and "<svg" in page and "style=" not in page.split("<svg", 1)[1].split("</svg>")[0]
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    response = client.post("/login/two-factor/set-up/", {"code": "000000"})
    assert response.status_code == 400 and "not right" in response.content.decode()
    response = client.post("/login/two-factor/set-up/", {"code": totp_code_from_secret(secret)})
    assert response.status_code == 200 and "recovery codes" in response.content.decode().lower()
    assert client.get("/").status_code == 200  # logged in now

    # Next time: the code page.
    other = Client()
    response = other.post("/login/", {"username": clinician.email, "password": PASSWORD})
    assert response["Location"] == "/login/two-factor/"
    # Setting up another app instead of giving the code is not a way round it.
    assert other.get("/login/two-factor/set-up/")["Location"] == "/login/two-factor/"
    assert other.post("/login/two-factor/set-up/", {"code": "123456"})["Location"] == "/login/two-factor/"
    assert other.get("/").status_code == 302
    response = other.post("/login/two-factor/", {"code": totp_code_from_secret(secret, steps_ahead=1)})
    assert response.status_code == 302 and other.get("/").status_code == 200


def test_staff_cannot_turn_off_required_two_factor_but_service_users_can(strict):
    clinician = make_user(Role.CLINICIAN, password=PASSWORD)
    enrol_totp(clinician)
    with pytest.raises(Exception, match="requires two-factor"):
        two_factor.two_factor_remove_own(actor=SYSTEM, user=clinician)
    person = make_user(Role.SERVICE_USER, password=PASSWORD)
    enrol_totp(person)
    two_factor.two_factor_remove_own(actor=SYSTEM, user=person)
    assert not two_factor.has_two_factor(person)
