"""The whole way, with every real part: a booking queues its messages in its own transaction; a real
worker process sends them through the real Notify client to the loopback Notify; moving the clock to a
reminder's time sends it once; a reschedule cancels the old reminders, which never go even when their
jobs run; answers filed stop the questionnaire's nudge. The clock is moved by moving the message's and
its job's time (no sleeps)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from backend.accounts import services as accounts
from backend.audit.actor import Actor
from backend.consent.models import Modality
from backend.messaging import queue, services as messaging
from backend.messaging.models import Message
from backend.outcomes import services as outcomes
from backend.outcomes.models import MeasureSchedule
from backend.outcomes.selectors import instrument_by_code
from backend.sessions import services as sessions
from tests.factories import book
from tests.messaging.conftest import status_of, wait_until

K, S = Message.Kind, Message.Status
MOBILE = "+447400123456"


def _jobs(message: Message) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM procrastinate_jobs WHERE lock = %s ORDER BY id", [queue.message_lock(message.pk)])
        return [row[0] for row in cursor.fetchall()]


def _time_comes(message: Message) -> None:
    """Move the clock to this message's time: it and its waiting job become due now."""
    Message.objects.filter(pk=message.pk).update(send_after=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE lock = %s AND status = 'todo'",
                       [queue.message_lock(message.pk)])


def _jobs_finished(message: Message) -> None:
    """Its due job has run (finished jobs may be deleted, so: none left waiting or running)."""
    wait_until(lambda: not {"todo", "doing"} & set(_jobs(message)), what=f"message {message.pk}'s jobs to run")


def test_book_remind_reschedule_and_answer_through_a_real_worker_and_notify(queue_world, notify, workers):
    w = queue_world
    admin = Actor(w.admin, via="test")
    messaging.team_messaging_update(actor=admin, team=w.north, sender_name="Leeds NHS", reminder_offsets_hours=[168, 24],
                                    caller_number_kind="a withheld number", questionnaire_days_before=3, nudge_hours_before=24)
    accounts.team_update(actor=admin, team=w.north, phone_number="0113 496 0000")
    outcomes.schedule_set(actor=admin, team=w.north, instrument=instrument_by_code("phq9"), when=MeasureSchedule.When.EVERY_SESSION)
    everything_by_text = {"confirmation": "sms", "reminder": "sms", "change": "sms", "join": "sms", "questionnaire": "sms"}
    messaging.contact_preferences_set(actor=Actor(w.service_user, via="test"), person=w.service_user, mobile_number="07400 123456",
                                      email="", channels=everything_by_text, all_off=False)
    workers()

    # Booked: the confirmation goes at once, through Notify, under the team's neutral name.
    appointment = book(w.clinician, w.service_user, w.north, in_hours=10 * 24, offered=[Modality.FACE_TO_FACE])
    mine = Message.objects.filter(appointment=appointment, recipient=w.service_user)
    confirmation = mine.get(kind=K.CONFIRMATION)
    wait_until(lambda: status_of(confirmation) == S.SENT, what="the confirmation to be sent")
    [sent] = notify.sent(reference=str(confirmation.reference))
    assert sent["phone_number"] == MOBILE and sent["body"] == confirmation.body and "Leeds NHS" in sent["body"]
    week_before, day_before = mine.filter(kind=K.REMINDER).order_by("send_after")
    assert status_of(week_before) == status_of(day_before) == S.QUEUED and notify.sent(reference=str(week_before.reference)) == []

    # The clock reaches the first reminder's time: it goes once.
    _time_comes(week_before)
    wait_until(lambda: status_of(week_before) == S.SENT, what="the 7-day reminder to be sent")
    _jobs_finished(week_before)
    assert len(notify.sent(reference=str(week_before.reference))) == 1

    # Moved: the queued reminder is cancelled and never goes, even when its job's time comes; new ones wait.
    sessions.appointment_reschedule(actor=Actor(w.clinician, via="test"), appointment=appointment,
                                    starts_at=appointment.starts_at + timedelta(days=2), reason="The clinician is on a course.")
    assert status_of(day_before) == S.CANCELLED
    changed = mine.get(kind=K.CHANGED)
    wait_until(lambda: status_of(changed) == S.SENT, what="the change to be sent")
    assert "todo" in _jobs(day_before)  # its job still waits: cancelling is an update of the record
    _time_comes(day_before)
    _jobs_finished(day_before)
    assert status_of(day_before) == S.CANCELLED and notify.sent(reference=str(day_before.reference)) == []
    assert mine.filter(kind=K.REMINDER, status=S.QUEUED).count() == 2  # the new 7-day and 1-day reminders

    # Answers filed: the nudge still queued is cancelled, and its time coming sends nothing.
    nudge = mine.get(kind=K.QUESTIONNAIRE_NUDGE, status=S.QUEUED)
    submission = outcomes.Submission(
        instrument=instrument_by_code("phq9"), service_user=w.service_user, course=appointment.course, appointment=appointment,
        mode="self_online", answers={i: 0 for i in range(1, 10)}, completed_at=timezone.now(),
    )
    outcomes.response_submit(actor=Actor(w.service_user, via="test"), submission=submission, idempotency_key="e2e")
    assert status_of(nudge) == S.CANCELLED
    assert "todo" in _jobs(nudge)
    _time_comes(nudge)
    _jobs_finished(nudge)
    assert notify.sent(reference=str(nudge.reference)) == []

    # Nothing went twice.
    references = [n["reference"] for n in notify.sent()]
    assert len(references) == len(set(references))
