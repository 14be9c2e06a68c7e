"""Invitations, forgotten passwords and password changes, with email through a real SMTP server on
loopback (tests/mail_server.py) and links followed as a person would."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.test import Client
from django.utils import timezone

from backend.accounts import invitations
from backend.accounts.models import Role, User
from backend.audit.models import AuditEvent
from tests.factories import make_user

NEW_PASSWORD = "Lantern-orchard-2026"


def _link_parts(link: str) -> dict:
    _, _, kind, uid, token, _ = urlsplit(link).path.split("/")
    return {"kind": kind, "uid": uid, "token": token}


def test_admin_invites_a_person_without_a_login_who_sets_a_password(world, api, mail_server):
    person = make_user(Role.CLINICIAN, email="new.clinician@example.test")
    assert not person.has_usable_password()

    response = api(world.admin).post(f"/api/v1/users/{person.pk}/invitation/", {}, format="json")
    assert response.status_code == 202, response.content

    [email] = mail_server.wait_for("new.clinician@example.test")
    assert "set your password" in email.subject.lower()
    assert "7 days" in email.body
    parts = _link_parts(email.link())
    assert parts["kind"] == "invitation"
    assert AuditEvent.objects.filter(action="update", object_id=str(person.pk), detail__invitation_sent=True).exists()

    response = api().post("/api/v1/auth/set-password/", {**parts, "password": NEW_PASSWORD}, format="json")
    assert response.status_code == 204, response.content
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)

    # The link works once.
    response = api().post("/api/v1/auth/set-password/", {**parts, "password": "Another-good-pass-2026"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "token"
    assert response.json()["code"] == "invalid_link"
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)


def test_an_invitation_gives_an_imported_person_their_address(world, api, mail_server):
    person = make_user(Role.SERVICE_USER, email="ref-1-abc@imported.invalid")
    response = api(world.admin).post(f"/api/v1/users/{person.pk}/invitation/", {}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "email"

    response = api(world.admin).post(f"/api/v1/users/{person.pk}/invitation/", {"email": "Real.Person@Example.test"}, format="json")
    assert response.status_code == 202, response.content
    person.refresh_from_db()
    assert person.email == "real.person@example.test"
    assert len(mail_server.wait_for("real.person@example.test")) == 1


def test_invitation_refusals_save_nothing(world, api, elsewhere, mail_server):
    person = make_user(Role.CLINICIAN)
    # An address another account uses.
    response = api(world.admin).post(f"/api/v1/users/{person.pk}/invitation/", {"email": world.clinician.email}, format="json")
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "email"
    person.refresh_from_db()
    assert person.email != world.clinician.email
    # Someone who already has a login.
    has_login = make_user(Role.CLINICIAN, password=NEW_PASSWORD)
    response = api(world.admin).post(f"/api/v1/users/{has_login.pk}/invitation/", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "already_has_login"
    # Another organisation's person, and non-admins.
    response = api(elsewhere.admin).post(f"/api/v1/users/{person.pk}/invitation/", {}, format="json")
    assert response.status_code == 404
    response = api(world.clinician).post(f"/api/v1/users/{person.pk}/invitation/", {}, format="json")
    assert response.status_code == 403
    assert mail_server.messages == []


def test_expired_invitation_is_refused_with_a_clear_message(world, mail_server, monkeypatch):
    person = make_user(Role.CLINICIAN)
    invitations.invitation_send(actor=_actor(world.admin), user=person)
    parts = _link_parts(mail_server.wait_for(person.email)[0].link())
    later = timezone.now() + timedelta(days=8)
    monkeypatch.setattr(invitations.invitation_tokens, "_now", lambda: later.replace(tzinfo=None))
    client = Client()
    response = client.get(f"/set-password/invitation/{parts['uid']}/{parts['token']}/", follow=True)
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_forgotten_password_answers_the_same_and_emails_only_real_logins(world, mail_server):
    has_login = make_user(Role.SERVICE_USER, email="has.login@example.test", password=NEW_PASSWORD)
    make_user(Role.SERVICE_USER, email="no.login@example.test")
    client = Client()
    pages = [client.post("/login/forgotten-password/", {"email": address}).content.decode().replace(address, "ADDRESS")
             for address in ("has.login@example.test", "no.login@example.test", "nobody@example.test")]
    assert pages[0] == pages[1] == pages[2]
    assert [m.envelope_to for m in mail_server.messages] == [["has.login@example.test"]]

    link = mail_server.messages[0].link()
    response = client.get(urlsplit(link).path)
    assert response.status_code == 302 and "/set/" in response["Location"]  # the token leaves the address bar
    # A weak password: Django's validators name the problem; nothing changes.
    response = client.post(response["Location"], {"password": "password1", "password_again": "password1"})
    assert response.status_code == 400
    assert "too common" in response.content.decode()
    has_login.refresh_from_db()
    assert has_login.check_password(NEW_PASSWORD)
    response = client.post(urlsplit(link).path.rsplit("/", 2)[0] + "/set/", {"password": "Brand-new-pass-2026", "password_again": "Brand-new-pass-2026"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    has_login.refresh_from_db()
    assert has_login.check_password("Brand-new-pass-2026")


def test_api_forgotten_password_is_always_202(world, api, mail_server):
    assert api().post("/api/v1/auth/password-reset/", {"email": "nobody@example.test"}, format="json").status_code == 202
    assert api().post("/api/v1/auth/password-reset/", {"email": "not an email"}, format="json").status_code == 400
    assert mail_server.messages == []


def test_change_own_password_keeps_this_token_and_ends_the_others(world, api):
    user = make_user(Role.CLINICIAN, password=NEW_PASSWORD)
    this, other = api(user), api(user)
    response = this.post("/api/v1/me/password/", {"old_password": "wrong", "new_password": "Brand-new-pass-2026"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "old_password"
    response = this.post("/api/v1/me/password/", {"old_password": NEW_PASSWORD, "new_password": "short"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "password"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    response = this.post("/api/v1/me/password/", {"old_password": NEW_PASSWORD, "new_password": "Brand-new-pass-2026"}, format="json")
    assert response.status_code == 204
    assert this.get("/api/v1/me/").status_code == 200
    assert other.get("/api/v1/me/").status_code == 401


def test_a_locked_out_person_recovers_through_the_reset_link(world, api, mail_server, settings):
    user = make_user(Role.SERVICE_USER, email="locked@example.test", password=NEW_PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api().post("/api/v1/auth/login/", {"email": user.email, "password": "wrong-password"}, format="json")
    assert api().post("/api/v1/auth/login/", {"email": user.email, "password": NEW_PASSWORD}, format="json").status_code == 429
    api().post("/api/v1/auth/password-reset/", {"email": user.email}, format="json")
    parts = _link_parts(mail_server.wait_for(user.email)[0].link())
    assert api().post("/api/v1/auth/set-password/", {**parts, "password": "Brand-new-pass-2026"}, format="json").status_code == 204
    assert api().post("/api/v1/auth/login/", {"email": user.email, "password": "Brand-new-pass-2026"}, format="json").status_code == 200


def _actor(user: User):
    from backend.audit.actor import Actor

    return Actor(user, via="test")

