"""Appointment events queue the right messages in their own transaction (real PostgreSQL)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from backend.audit.actor import Actor
from backend.consent.models import Modality, PurposeCode
from backend.messaging import services as messaging
from backend.messaging.content import banned_words_for, banned_word_in
from backend.messaging.models import Message
from backend.sessions import services as sessions
from backend.sessions.models import Appointment
from tests.factories import book, withdraw_consent

K, S, C = Message.Kind, Message.Status, Message.Channel


def _queued(appointment, **filters):
    return Message.objects.filter(appointment=appointment, status=S.QUEUED, **filters).order_by("send_after", "id")


def _set_contact(person, by=None, mobile="07400 123456", **channels):
    groups = {"confirmation": "sms", "reminder": "sms", "change": "sms", "join": "sms", "questionnaire": "sms", **channels}
    return messaging.contact_preferences_set(actor=Actor(by or person, via="test"), person=person, mobile_number=mobile,
                                             email="", channels=groups, all_off=False)


def test_booking_queues_a_confirmation_and_reminders_at_7_days_and_1_day(sending):
    w = sending
    _set_contact(w.service_user)
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24, offered=[Modality.FACE_TO_FACE])
    mine = Message.objects.filter(appointment=appointment, recipient=w.service_user, status=S.QUEUED)
    confirmation = mine.get(kind=K.CONFIRMATION)
    assert confirmation.channel == C.SMS and confirmation.to == "+447400123456"
    assert confirmation.sender_name == "Leeds NHS"
    assert confirmation.send_after <= timezone.now()
    reminders = list(mine.filter(kind=K.REMINDER).order_by("send_after"))
    assert [appointment.starts_at - r.send_after for r in reminders] == [timedelta(days=7), timedelta(days=1)]
    join = mine.get(kind=K.JOIN_LINK)  # face to face was the only way offered: the address goes a day before
    assert join.send_after == appointment.starts_at - timedelta(hours=24)
    words = banned_words_for(w.organisation.pk)
    for message in mine:
        assert banned_word_in(message.body, words) is None, message.body
        assert "North" not in message.body  # never the team's own name


def test_reminders_already_past_are_skipped(sending):
    w = sending
    appointment = book(w.clinician, w.service_user, w.north, in_hours=30)
    reminders = _queued(appointment, kind=K.REMINDER, recipient=w.service_user)
    assert [appointment.starts_at - r.send_after for r in reminders] == [timedelta(days=1)]


def test_a_rolled_back_booking_leaves_no_message(sending):
    w = sending
    before = Message.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        book(w.clinician, w.service_user, w.north, in_hours=100)
        assert Message.objects.count() > before
        raise RuntimeError("the booking fails after the messages were queued")
    assert Message.objects.count() == before


def test_reschedule_cancels_the_old_reminders_and_queues_new_ones(sending):
    w = sending
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24)
    old = list(_queued(appointment, kind=K.REMINDER).values_list("pk", flat=True))
    new_start = appointment.starts_at + timedelta(days=3)
    sessions.appointment_reschedule(actor=Actor(w.clinician, via="test"), appointment=appointment, starts_at=new_start,
                                    reason="The clinician is away")
    assert set(Message.objects.filter(pk__in=old).values_list("status", flat=True)) == {S.CANCELLED}
    assert "moved" in Message.objects.get(pk=old[0]).status_reason
    renewed = _queued(appointment, kind=K.REMINDER, recipient=w.service_user)
    assert [new_start - r.send_after for r in renewed] == [timedelta(days=7), timedelta(days=1)]
    changed = _queued(appointment, kind=K.CHANGED, recipient=w.service_user).get()
    assert "has changed" in changed.body and "The clinician is away" not in changed.body  # the reason stays off messages


def test_cancelling_cancels_every_queued_message_and_says_so(sending):
    w = sending
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24)
    assert _queued(appointment).exists()
    sessions.session_cancel(actor=Actor(w.clinician, via="test"), appointment=appointment, reason="Psychosis clinic closed")
    left = list(_queued(appointment))
    assert [m.kind for m in left] == [K.CANCELLED] * len(left) and left
    assert all("Psychosis" not in m.body for m in left)
    assert not Message.objects.filter(appointment=appointment, kind=K.REMINDER).exclude(status=S.CANCELLED).exists()


def test_choosing_video_sends_the_change_and_a_join_link_made_by_sessions(sending):
    w = sending
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24)
    assert not _queued(appointment, kind=K.JOIN_LINK).exists()  # not known how yet
    sessions.appointment_choose(actor=Actor(w.service_user, via="test"), appointment=appointment, modality=Modality.VIDEO)
    join = _queued(appointment, kind=K.JOIN_LINK, recipient=w.service_user).get()
    assert "/join/" in join.body and join.send_after == appointment.starts_at - timedelta(hours=24)
    assert _queued(appointment, kind=K.CHANGED, recipient=w.service_user).exists()
    sessions.appointment_choose(actor=Actor(w.service_user, via="test"), appointment=appointment, modality=Modality.PHONE)
    assert Message.objects.get(pk=join.pk).status == S.CANCELLED
    phone = _queued(appointment, kind=K.JOIN_LINK, recipient=w.service_user).get()
    assert "will phone you" in phone.body and "a withheld number" in phone.body


def test_imported_historic_appointments_send_nothing(sending):
    w = sending
    before = Message.objects.count()
    sessions.historic_appointment_record(actor=Actor(w.admin, via="test"), course=w.course, starts_at=timezone.now() - timedelta(days=60),
                                         kind=Appointment.Kind.TREATMENT, modality=Modality.PHONE, attended=True, reference="OLD-1")
    assert Message.objects.count() == before


def test_a_carer_gets_a_copy_only_while_the_person_shares_appointment_times(sending):
    w = sending  # the world's carer is linked, with the person's consent
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24)
    copy = Message.objects.get(appointment=appointment, recipient=w.carer, kind=K.CONFIRMATION)
    assert f"{w.service_user.display_name}'s appointment" in copy.body
    assert not Message.objects.filter(appointment=appointment, recipient=w.carer, kind__in=[K.JOIN_LINK, K.QUESTIONNAIRE_DUE]).exists()
    assert not Message.objects.filter(appointment=appointment, recipient=w.unlinked_carer).exists()
    withdraw_consent(w.service_user, PurposeCode.CARER_INVOLVEMENT, carer=w.carer)
    later = book(w.clinician, w.service_user, w.north, in_hours=20 * 24)
    assert not Message.objects.filter(appointment=later, recipient=w.carer).exists()


def test_a_team_without_a_sender_name_records_its_messages_as_not_sent(world):
    appointment = book(world.clinician, world.service_user, world.north, in_hours=10 * 24)
    confirmation = Message.objects.get(appointment=appointment, recipient=world.service_user, kind=K.CONFIRMATION)
    assert confirmation.status == S.FAILED and "sender name" in confirmation.status_reason


def test_text_messages_chosen_without_a_mobile_number_fail_visibly(sending):
    w = sending
    from backend.messaging.models import ContactPreference

    _set_contact(w.service_user)
    ContactPreference.objects.filter(person=w.service_user).update(mobile_number="")  # the number was removed since
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24)
    confirmation = Message.objects.get(appointment=appointment, recipient=w.service_user, kind=K.CONFIRMATION)
    assert confirmation.status == S.FAILED and confirmation.status_reason.startswith("No mobile number")
