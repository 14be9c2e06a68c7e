"""Channels and preferences per person, and the fallback when a channel fails for good."""

import pytest

from backend.audit.actor import Actor
from backend.core.errors import Forbidden, InvalidInput
from backend.messaging import preferences
from backend.messaging import services as messaging
from backend.messaging.models import Message
from tests.factories import book

K, S, C = Message.Kind, Message.Status, Message.Channel
ALL_SMS = {"confirmation": "sms", "reminder": "sms", "change": "sms", "join": "sms", "questionnaire": "sms"}


def _set(person, by=None, mobile="07400 123456", all_off=False, email="", **channels):
    return messaging.contact_preferences_set(actor=Actor(by or person, via="test"), person=person, mobile_number=mobile,
                                             email=email, channels={**ALL_SMS, **channels}, all_off=all_off)


def _kinds(appointment, person, channel=None):
    found = Message.objects.filter(appointment=appointment, recipient=person).exclude(status=S.CANCELLED)
    if channel:
        found = found.filter(channel=channel)
    return sorted(found.values_list("kind", flat=True))


def test_without_a_choice_a_person_with_no_mobile_gets_email(sending):
    contact = preferences.contact_for(sending.service_user)
    assert not contact.chosen and contact.mobile_number == "" and contact.channels_for(K.REMINDER) == [C.EMAIL]


def test_numbers_are_normalised_and_only_mobiles_take_texts(sending):
    row = _set(sending.service_user, mobile="+44 7400 123456")
    assert row.mobile_number == "+447400123456"
    with pytest.raises(InvalidInput) as refused:
        _set(sending.service_user, mobile="0113 496 0000")
    assert refused.value.field == "mobile_number" and "not a mobile" in refused.value.detail
    with pytest.raises(InvalidInput) as refused:
        _set(sending.service_user, mobile="")
    assert refused.value.code == "mobile_required"


def test_each_group_goes_by_the_channel_chosen_and_reminders_can_be_turned_off(sending):
    w = sending
    _set(w.service_user, reminder="off", confirmation="email", change="both", email="Sam.Private@Example.test")
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24)
    assert _kinds(appointment, w.service_user) == [K.CONFIRMATION]
    assert Message.objects.get(appointment=appointment, recipient=w.service_user).to == "sam.private@example.test"
    from backend.sessions import services as sessions

    sessions.session_cancel(actor=Actor(w.clinician, via="test"), appointment=appointment, reason="Ill")
    assert _kinds(appointment, w.service_user, C.SMS) == [K.CANCELLED] and _kinds(appointment, w.service_user, C.EMAIL) == [K.CANCELLED]  # the unsent confirmation is cancelled too


def test_changes_and_cancellations_cannot_be_turned_off_on_their_own(sending):
    with pytest.raises(InvalidInput) as refused:
        _set(sending.service_user, change="off")
    assert refused.value.field == "channels.change"


def test_all_off_stops_every_message_even_cancellations_and_cancels_what_is_queued(sending):
    w = sending
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24)
    assert Message.objects.filter(appointment=appointment, recipient=w.service_user, status=S.QUEUED).exists()
    _set(w.service_user, all_off=True, mobile="")
    assert not Message.objects.filter(appointment=appointment, recipient=w.service_user, status=S.QUEUED).exists()
    from backend.sessions import services as sessions

    sessions.session_cancel(actor=Actor(w.clinician, via="test"), appointment=appointment, reason="Ill")
    assert not Message.objects.filter(appointment=appointment, recipient=w.service_user, kind=K.CANCELLED).exists()


def test_changing_the_channel_replans_queued_reminders(sending):
    w = sending
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24)
    assert set(Message.objects.filter(appointment=appointment, recipient=w.service_user, kind=K.REMINDER, status=S.QUEUED)
               .values_list("channel", flat=True)) == {C.EMAIL}
    _set(w.service_user)
    assert set(Message.objects.filter(appointment=appointment, recipient=w.service_user, kind=K.REMINDER, status=S.QUEUED)
               .values_list("channel", flat=True)) == {C.SMS}


def test_only_the_person_or_their_care_team_changes_it(sending):
    w = sending
    _set(w.service_user, by=w.clinician)
    for who in (w.other_clinician, w.carer, w.admin):
        with pytest.raises(Forbidden):
            _set(w.service_user, by=who)


def test_fallback_after_a_bounce_is_the_other_channel_if_the_person_has_it(sending):
    w = sending
    _set(w.service_user)
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24)
    text = Message.objects.get(appointment=appointment, recipient=w.service_user, kind=K.CONFIRMATION)
    assert preferences.fallback_channel_for(text) == C.EMAIL
    copy = messaging.message_fallback_queue(message=text)
    assert (copy.channel, copy.to, copy.kind, copy.status) == (C.EMAIL, w.service_user.email, K.CONFIRMATION, S.QUEUED)
    assert copy.subject == "Your appointment is booked" and copy.body == text.body
    _set(w.service_user, confirmation="both")
    assert preferences.fallback_channel_for(text) is None  # already goes by email too


def test_a_carer_changing_channel_replans_the_copies_they_get(sending):
    w = sending
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24)
    assert set(Message.objects.filter(appointment=appointment, recipient=w.carer, kind=K.REMINDER, status=S.QUEUED)
               .values_list("channel", flat=True)) == {C.EMAIL}
    _set(w.carer, reminder="both")
    assert sorted(Message.objects.filter(appointment=appointment, recipient=w.carer, kind=K.REMINDER, status=S.QUEUED)
                  .values_list("channel", flat=True)) == [C.EMAIL, C.EMAIL, C.SMS, C.SMS]  # 7 days and 1 day before
