"""Your account: what you are called, your phone number, and your email address (changed only once a
link sent to the new address is followed, through a real SMTP server on loopback)."""

import re
from urllib.parse import urlsplit

from django.test import Client

from backend.accounts.models import Role
from tests.factories import make_user


def test_change_preferred_name_and_phone_on_the_page(world):
    client = Client()
    client.force_login(world.service_user)
    response = client.post("/account/", {"preferred_name": "Sam", "phone_number": "not a number"})
    assert response.status_code == 400 and "not a phone number" in response.content.decode()
    world.service_user.refresh_from_db()
    assert world.service_user.preferred_name != "Sam"  # nothing half-saved
    response = client.post("/account/", {"preferred_name": "Sam", "phone_number": "0113 496 0000"})
    assert response.status_code == 302
    world.service_user.refresh_from_db()
    assert (world.service_user.preferred_name, world.service_user.phone_number) == ("Sam", "+441134960000")


def test_change_details_through_the_api(world, api):
    response = api(world.clinician).patch("/api/v1/me/", {"preferred_name": "Dr Jo"}, format="json")
    assert response.status_code == 200 and response.json()["account"]["preferred_name"] == "Dr Jo"
    response = api(world.clinician).patch("/api/v1/me/", {"full_name": "Someone Else"}, format="json")
    assert response.status_code == 400
    response = api(world.clinician).patch("/api/v1/me/", {"phone_number": "12"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "phone_number"


def test_email_changes_only_when_the_link_to_the_new_address_is_followed(world, api, mail_server):
    person = make_user(Role.SERVICE_USER, email="old.address@example.test")
    assert api(person).post("/api/v1/me/email/", {"email": world.clinician.email}, format="json").status_code == 409
    assert api(person).post("/api/v1/me/email/", {"email": "New.Address@example.test"}, format="json").status_code == 202
    person.refresh_from_db()
    assert person.email == "old.address@example.test"
    [email] = mail_server.wait_for("new.address@example.test")
    path = urlsplit(email.link()).path
    client = Client()
    assert client.get(path).status_code == 200  # a page with a button: a GET changes nothing
    person.refresh_from_db()
    assert person.email == "old.address@example.test"
    assert client.post(path).status_code == 302
    person.refresh_from_db()
    assert person.email == "new.address@example.test"
    response = client.post(path)  # works once
    assert response.status_code == 400 and "already been used" in response.content.decode()
    token = re.search(r"/confirm/([^/]+)/", path).group(1)
    response = api().post("/api/v1/auth/email-confirm/", {"token": token}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "token"
