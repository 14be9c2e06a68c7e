"""A text that fails for good (Notify answers 400) is sent again by email when the person has an email
address and chose text messages only: `message_send` queues the copy (`message_fallback_queue`) in the
transaction that marks the text failed, and a real worker sends it through the loopback Notify."""

from __future__ import annotations

from backend.audit.actor import Actor
from backend.messaging import services
from backend.messaging.models import Message
from tests.messaging.conftest import status_of, wait_until

S, C, K = Message.Status, Message.Channel, Message.Kind
SMS_ONLY = {"confirmation": "sms", "reminder": "sms", "change": "sms", "join": "sms", "questionnaire": "sms"}


def _sms_only(world):
    person = world.service_user
    services.contact_preferences_set(actor=Actor(person, via="test"), person=person, mobile_number="07400 123456",
                                     email="", channels=SMS_ONLY, all_off=False)
    return person


def _text(world, person) -> Message:
    return services.message_queue(
        recipient=person, organisation=world.organisation, team=world.north, appointment=world.appointment,
        kind=K.CONFIRMATION, channel=C.SMS, to="+447400123456", sender_name="Leeds NHS",
        body="Your appointment is booked with the North team.",
    )


def test_a_text_that_bounces_is_sent_again_by_email_to_a_person_who_chose_texts_only(queue_world, notify, workers):
    person = _sms_only(queue_world)
    emails_before = set(Message.objects.filter(recipient=person, channel=C.EMAIL).values_list("pk", flat=True))
    notify.fail_next(400)
    text = _text(queue_world, person)
    workers()
    wait_until(lambda: status_of(text) == S.FAILED, what="the text to fail for good")
    assert text.status_reason == "GOV.UK Notify refused the message (400: Template not found)."

    copy = wait_until(lambda: Message.objects.filter(recipient=person, channel=C.EMAIL, kind=K.CONFIRMATION)
                      .exclude(pk__in=emails_before).first(), what="the email copy to be queued")
    assert (copy.to, copy.body, copy.sender_name) == (person.email, text.body, "Leeds NHS")
    wait_until(lambda: status_of(copy) not in (S.QUEUED, S.SENDING), what="the email copy to be sent")
    assert (copy.status, copy.status_reason) == (S.SENT, "")
    sent = notify.sent(to=person.email)
    assert len(sent) == 1 and sent[0]["body"] == text.body
    assert notify.sent(to="+447400123456") == []  # the text itself never went


def test_no_email_copy_when_the_person_already_gets_these_by_email_too(queue_world, notify, settings):
    settings.NOTIFY_BASE_URL, settings.NOTIFY_API_KEY = notify.base_url, notify.api_key()
    person = _sms_only(queue_world)
    services.contact_preferences_set(actor=Actor(person, via="test"), person=person, mobile_number="07400 123456",
                                     email="", channels={**SMS_ONLY, "confirmation": "both"}, all_off=False)
    notify.fail_next(400)
    text = _text(queue_world, person)
    assert services.message_send(text.pk).startswith("failed:")
    assert status_of(text) == S.FAILED
    assert not Message.objects.filter(recipient=person, channel=C.EMAIL, kind=K.CONFIRMATION, created_at__gt=text.created_at).exists()
