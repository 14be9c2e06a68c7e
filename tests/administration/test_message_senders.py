"""The organisation's message senders page (/administration/messages/) and its service,
`messaging.services.organisation_messaging_update`: only the organisation's own admins change it, bad
input is refused naming the field, a change is one transaction with its audit event, and the page says
in plain words how texts and emails go out, and whether the named key variable is set (never the key)."""

import pytest

from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.core.errors import Forbidden, InvalidInput
from backend.messaging import services
from backend.messaging.models import OrganisationMessaging

SMS_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
EMAIL_TEMPLATE = "0d3b1a8e-5c1f-4a7e-9e59-2f6a54c9b1d2"
GOOD = {"sms_sender": "notify", "email_sender": "smtp", "notify_key_variable": "NOTIFY_API_KEY_NORTH",
        "notify_sms_template_id": SMS_TEMPLATE, "notify_email_template_id": ""}


def _update(world, who, **changes):
    return services.organisation_messaging_update(actor=Actor(who, via="test"), organisation=world.organisation, **{**GOOD, **changes})


def test_an_admin_sets_the_senders_with_one_audit_event(world):
    row = _update(world, world.admin)
    row.refresh_from_db()
    assert (row.sms_sender, row.email_sender, row.notify_key_variable, str(row.notify_sms_template_id), row.notify_email_template_id) == (
        "notify", "smtp", "NOTIFY_API_KEY_NORTH", SMS_TEMPLATE, None)
    event = AuditEvent.objects.get(object_type="messaging.organisationmessaging", object_id=str(row.pk))
    assert (event.action, event.actor_id, event.detail["notify_key_variable"]) == ("create", world.admin.pk, "NOTIFY_API_KEY_NORTH")
    _update(world, world.admin, email_sender="notify", notify_email_template_id=EMAIL_TEMPLATE)
    assert OrganisationMessaging.objects.get(organisation=world.organisation).email_sender == "notify"
    assert AuditEvent.objects.filter(object_type="messaging.organisationmessaging", object_id=str(row.pk), action="update").count() == 1


def test_only_the_organisations_own_admins_may_change_it(world, elsewhere):
    for who in (world.clinician, world.peer_worker, world.evaluator, world.service_user, world.carer, elsewhere.admin):
        with pytest.raises(Forbidden):
            _update(world, who)
    assert not OrganisationMessaging.objects.filter(organisation=world.organisation).exists()
    assert not AuditEvent.objects.filter(object_type="messaging.organisationmessaging").exists()


@pytest.mark.parametrize("changes, field", [
    ({"sms_sender": "smtp"}, "sms_sender"),
    ({"email_sender": "pigeon"}, "email_sender"),
    ({"notify_key_variable": "sk_live_abc123"}, "notify_key_variable"),
    ({"notify_key_variable": "NOTIFY_API_KEY-LEEDS"}, "notify_key_variable"),
    ({"notify_key_variable": "HOME"}, "notify_key_variable"),
    ({"notify_sms_template_id": "not-a-uuid"}, "notify_sms_template_id"),
    ({"notify_sms_template_id": ""}, "notify_sms_template_id"),
    ({"email_sender": "notify", "notify_email_template_id": ""}, "notify_email_template_id"),
    ({"notify_email_template_id": "1234"}, "notify_email_template_id"),
])
def test_bad_input_is_refused_naming_the_field(world, changes, field):
    with pytest.raises(InvalidInput) as refused:
        _update(world, world.admin, **changes)
    assert refused.value.field == field
    assert not OrganisationMessaging.objects.filter(organisation=world.organisation).exists()


def test_the_page_says_how_messages_go_and_whether_the_key_is_set_never_the_key(world, client, monkeypatch, settings):
    settings.NOTIFY_API_KEY = "rapport_test-11111111-2222-3333-4444-555555555555-secret"
    monkeypatch.setenv("NOTIFY_API_KEY_NORTH", "north_key-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee-secret")
    client.force_login(world.admin)
    page = client.get("/administration/messages/").content.decode()
    assert "Nothing is chosen yet" in page and "NOTIFY_API_KEY is set on this server" in page
    response = client.post("/administration/messages/", GOOD)
    assert response.status_code == 302 and response["Location"] == "/administration/messages/"
    page = client.get("/administration/messages/").content.decode()
    assert "Text messages go</dt><dd>through GOV.UK Notify" in page
    assert "NOTIFY_API_KEY_NORTH is set on this server" in page and "secret" not in page
    monkeypatch.delenv("NOTIFY_API_KEY_NORTH")
    assert "NOTIFY_API_KEY_NORTH is <strong>not set</strong>" in client.get("/administration/messages/").content.decode()


def test_the_page_shows_a_refusal_beside_its_field(world, client):
    client.force_login(world.admin)
    response = client.post("/administration/messages/", {**GOOD, "notify_key_variable": "my key"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_notify_key_variable_error"' in page and "Never paste the key itself here" in page
    assert not OrganisationMessaging.objects.filter(organisation=world.organisation).exists()


def test_another_organisations_admin_sees_and_changes_only_their_own(world, elsewhere, client):
    _update(world, world.admin)
    client.force_login(elsewhere.admin)
    assert "Nothing is chosen yet" in client.get("/administration/messages/").content.decode()
    assert client.post("/administration/messages/", {**GOOD, "notify_key_variable": "NOTIFY_API_KEY_ELSEWHERE"}).status_code == 302
    assert OrganisationMessaging.objects.get(organisation=world.organisation).notify_key_variable == "NOTIFY_API_KEY_NORTH"
    assert OrganisationMessaging.objects.get(organisation=elsewhere.organisation).notify_key_variable == "NOTIFY_API_KEY_ELSEWHERE"
