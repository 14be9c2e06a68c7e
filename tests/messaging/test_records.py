"""What was sent is on record: in the person's own record, on the team's pages, through the API, with
one access rule (the appointment's team; the person themselves) and audited reads; and Notify's
delivery receipts reach it through the callback."""

from __future__ import annotations

import pytest
from django.utils import timezone

from backend.audit.models import AuditEvent
from backend.messaging import services
from backend.messaging.models import Message

S = Message.Status


@pytest.fixture(autouse=True)
def _only_these_messages(world):
    """The world's bookings queued their own messages (failed: no sender name); these tests make theirs."""
    Message.objects.all().delete()


def _sent(world, *, status=S.SENT, reason="", kind="confirmation", recipient=None, team=None, appointment=None) -> Message:
    message = services.message_queue(
        recipient=recipient or world.service_user, organisation=world.organisation, team=team or world.north,
        appointment=appointment or world.appointment, kind=kind, channel="sms", to="+447700900123", sender_name="North team",
        body="Your appointment is on Monday.",
    )
    Message.objects.filter(pk=message.pk).update(status=status, status_reason=reason, sent_at=timezone.now(), provider="notify",
                                                 provider_id="6a5e0e2f-8a8e-4bd4-9d1b-2a7f1e0f3b11")
    message.refresh_from_db()
    return message


def test_the_team_and_the_person_read_the_messages_with_status_and_reason(world, api):
    failed = _sent(world, status=S.FAILED, reason="GOV.UK Notify refused the message (400: phone_number Not a UK mobile number).")
    sent = _sent(world, kind="reminder")
    for reader in (world.clinician, world.peer_worker, world.service_user):
        response = api(reader).get(f"/api/v1/appointments/{world.appointment.pk}/sent-messages/")
        assert response.status_code == 200
        assert [(m["id"], m["status"], m["status_reason"]) for m in response.json()] == [
            (failed.pk, "failed", failed.status_reason), (sent.pk, "sent", "")]
        response = api(reader).get(f"/api/v1/service-users/{world.service_user.pk}/sent-messages/")
        assert response.status_code == 200 and [m["id"] for m in response.json()["results"]] == [sent.pk, failed.pk]  # newest first


def test_another_team_and_another_person_are_refused_as_if_nothing_were_there(world, api):
    _sent(world)
    other_team = api(world.other_clinician)
    assert other_team.get(f"/api/v1/appointments/{world.appointment.pk}/sent-messages/").status_code == 404
    assert other_team.get(f"/api/v1/service-users/{world.service_user.pk}/sent-messages/").status_code == 404
    other_person = api(world.other_service_user)
    assert other_person.get(f"/api/v1/appointments/{world.appointment.pk}/sent-messages/").status_code == 404
    response = other_person.get(f"/api/v1/service-users/{world.service_user.pk}/sent-messages/")
    assert response.status_code == 404 and response.json()["errors"][0]["field"] == "service_user_id"
    for role in (world.carer, world.evaluator, world.admin):
        assert api(role).get(f"/api/v1/service-users/{world.service_user.pk}/sent-messages/").status_code == 403
    denied = AuditEvent.objects.filter(action="denied", object_type="accounts.user", object_id=str(world.service_user.pk))
    assert denied.count() >= 5


def test_the_persons_own_record_has_every_message(world, api):
    _sent(world, status=S.DELIVERED)
    response = api(world.service_user).get(f"/api/v1/service-users/{world.service_user.pk}/records/")
    section = next(s for s in response.json()["sections"] if s["key"] == "messages")
    assert section["title"] == "Text messages and emails we sent you"
    [row] = section["rows"]
    assert row["message"] == "Booking confirmation" and row["sent by"] == "Text message" and row["what happened"] == "Delivered"


def test_the_team_page_lists_messages_with_why_one_failed_and_the_read_is_audited(world, client):
    _sent(world, status=S.FAILED, reason="No mobile number to send it to.")
    client.force_login(world.clinician)
    response = client.get(f"/appointments/{world.appointment.pk}/sent-messages/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Messages about this appointment" in page and "No mobile number to send it to." in page and "Failed" in page
    listed = AuditEvent.objects.filter(action="list", object_type="messaging.message").latest("sequence")
    assert listed.detail["page"] == "appointment-messages"
    response = client.get(f"/people/{world.service_user.pk}/sent-messages/")
    assert response.status_code == 200 and "No mobile number to send it to." in response.content.decode()
    client.force_login(world.other_clinician)
    assert client.get(f"/people/{world.service_user.pk}/sent-messages/").status_code == 404


@pytest.fixture
def callback_token(settings):
    settings.NOTIFY_CALLBACK_TOKEN = "test-callback-token-0123456789abcdef"
    return settings.NOTIFY_CALLBACK_TOKEN


@pytest.mark.parametrize(("notify_status", "status", "reason"), [
    ("delivered", S.DELIVERED, ""),
    ("permanent-failure", S.FAILED, "The number or address does not exist or is not in use (Notify: permanent-failure)."),
    ("temporary-failure", S.FAILED, "The phone was off or the inbox full, and Notify gave up (Notify: temporary-failure)."),
    ("technical-failure", S.FAILED, "GOV.UK Notify had a technical problem and did not send it (Notify: technical-failure)."),
    ("sending", S.SENT, ""),
])
def test_notifys_callback_records_what_became_of_a_message(world, client, callback_token, notify_status, status, reason):
    message = _sent(world)
    body = {"id": message.provider_id, "reference": str(message.reference), "to": message.to, "status": notify_status,
            "created_at": "2026-11-30T18:00:00.000000Z", "completed_at": None, "sent_at": None, "notification_type": "sms"}
    response = client.post("/messaging/notify/callback/", body, content_type="application/json",
                           headers={"Authorization": f"Bearer {callback_token}"})
    assert response.status_code == 200 and response.json() == {"status": status}
    message.refresh_from_db()
    assert (message.status, message.status_reason, message.provider_status) == (status, reason, notify_status)


def test_the_callback_refuses_a_wrong_token_and_bad_input_without_a_500(world, client, callback_token):
    message = _sent(world)
    good = {"id": message.provider_id, "reference": str(message.reference), "status": "delivered"}
    post = lambda body, token=callback_token: client.post(  # noqa: E731
        "/messaging/notify/callback/", body, content_type="application/json", headers={"Authorization": f"Bearer {token}"})
    assert post(good, token="wrong").status_code == 401
    assert client.post("/messaging/notify/callback/", good, content_type="application/json").status_code == 401
    refused = post({"reference": "not-a-uuid", "status": "delivered"})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "reference"
    assert post({"reference": str(message.reference)}).status_code == 400
    assert post("[1, 2]").status_code == 400
    assert post({"reference": "00000000-0000-4000-8000-000000000000", "status": "delivered"}).status_code == 404
    assert client.get("/messaging/notify/callback/").status_code == 405
    message.refresh_from_db()
    assert message.status == S.SENT


def test_the_callback_is_refused_when_no_token_is_configured(world, client, settings):
    settings.NOTIFY_CALLBACK_TOKEN = ""
    message = _sent(world)
    response = client.post("/messaging/notify/callback/", {"reference": str(message.reference), "status": "delivered"},
                           content_type="application/json", headers={"Authorization": "Bearer "})
    assert response.status_code == 401
