"""Delivery end to end: messages queued in a transaction, sent by a real worker process through the real
notifications-python-client to a loopback Notify, or through Django's SMTP backend to a loopback SMTP
server; faults (429, 500, 400, 403, SMTP down, a worker killed mid-send) leave every message in a clear
state, none lost, none sent twice. The clock is moved by moving the job's and the message's time."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.utils import timezone

from backend.messaging import queue, services
from backend.messaging.models import Message, OrganisationMessaging
from tests.messaging.conftest import status_of, wait_until

S = Message.Status


def _queue(world, *, channel="sms", kind="confirmation", send_after=None, to=None) -> Message:
    return services.message_queue(
        recipient=world.service_user, organisation=world.organisation, team=world.north, appointment=world.appointment,
        kind=kind, channel=channel, to=to if to is not None else ("+447700900123" if channel == "sms" else world.service_user.email),
        sender_name="North team", subject="Your appointment" if channel == "email" else "",
        body=f"Your {kind} from the North team.", send_after=send_after,
    )


def _job_of(message: Message) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, status, scheduled_at, attempts FROM procrastinate_jobs WHERE lock = %s ORDER BY id",
                       [queue.message_lock(message.pk)])
        return cursor.fetchall()


def _run_due_now(message: Message) -> None:
    """Move the clock for this message: its send time and its waiting job's time become now. After a
    failed attempt the record says queued a moment before the worker puts the job back to wait: wait
    for that first."""
    wait_until(lambda: any(job[1] == "todo" for job in _job_of(message)), what="the job to wait for its time")
    Message.objects.filter(pk=message.pk).update(send_after=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE lock = %s AND status = 'todo'",
                       [queue.message_lock(message.pk)])


def _settled(message: Message, *statuses: str):
    return wait_until(lambda: status_of(message) in statuses and message, what=f"message {message.pk} to be {' or '.join(statuses)}")


def test_a_message_queued_in_a_booking_that_rolls_back_is_never_sent(queue_world, notify, workers):
    workers()
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue(queue_world)
        raise RuntimeError("the booking failed after queueing its confirmation")
    assert not Message.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'send_message'")
        assert cursor.fetchone()[0] == 0  # the job went with the transaction
    marker = _queue(queue_world, kind="join_link")  # a later message goes: the worker was running all along
    _settled(marker, S.SENT)
    assert [n["reference"] for n in notify.sent()] == [str(marker.reference)]


def test_the_confirmation_is_sent_once_through_notify_with_its_reference(queue_world, notify, workers):
    workers()
    with transaction.atomic():
        message = _queue(queue_world)
    _settled(message, S.SENT)
    [sent] = notify.sent()
    assert sent["phone_number"] == "+447700900123" and sent["body"] == "Your confirmation from the North team."
    assert sent["reference"] == str(message.reference) and sent["type"] == "sms"
    assert message.provider == "notify" and message.provider_id == sent["id"] and message.attempts == 1 and message.sent_at


def test_an_email_goes_through_notify_with_subject_and_body(queue_world, notify, workers):
    workers()
    message = _queue(queue_world, channel="email")
    _settled(message, S.SENT)
    [sent] = notify.sent()
    assert sent["email_address"] == queue_world.service_user.email
    assert sent["subject"] == "Your appointment" and sent["body"] == "Your confirmation from the North team."


def test_a_reminder_is_not_sent_before_its_time_and_once_after(queue_world, notify, workers):
    workers()
    reminder = _queue(queue_world, kind="reminder", send_after=timezone.now() + timezone.timedelta(days=1))
    now = _queue(queue_world, kind="confirmation")
    _settled(now, S.SENT)  # the worker has been through the queue: the reminder waits for its time
    assert status_of(reminder) == S.QUEUED and notify.sent(reference=str(reminder.reference)) == []
    [(_, job_status, scheduled_at, _)] = _job_of(reminder)
    assert job_status == "todo" and scheduled_at == reminder.send_after

    _run_due_now(reminder)
    _settled(reminder, S.SENT)
    assert len(notify.sent(reference=str(reminder.reference))) == 1
    assert len(notify.sent()) == 2


def test_a_message_cancelled_before_its_time_is_never_sent(queue_world, notify, workers):
    workers()
    reminder = _queue(queue_world, kind="reminder", send_after=timezone.now() + timezone.timedelta(days=7))
    with transaction.atomic():
        assert services.messages_cancel(appointment=queue_world.appointment, reason="The appointment was cancelled.") == 1
    _run_due_now(reminder)
    wait_until(lambda: _job_of(reminder) == [] or _job_of(reminder)[0][1] == "succeeded", what="the cancelled message's job to run")
    assert status_of(reminder) == S.CANCELLED and reminder.status_reason == "The appointment was cancelled."
    assert notify.sent() == [] and reminder.attempts == 0


def test_notify_busy_429_then_accepts_is_sent_once_after_a_retry(queue_world, notify, workers):
    workers()
    notify.fail_next(429)
    message = _queue(queue_world)
    wait_until(lambda: status_of(message) == S.QUEUED and message.attempts == 1, what="the first attempt to be refused")
    assert "busy" in message.status_reason and "429" in message.status_reason
    assert notify.sent() == [] and notify.refused[0][0] == 429
    wait_until(lambda: _job_of(message) and _job_of(message)[0][1] == "todo", what="the job to wait for its retry")
    [(_, _, retry_at, job_attempts)] = _job_of(message)
    assert job_attempts == 1 and retry_at > timezone.now() + timezone.timedelta(seconds=20)  # backoff, not at once

    _run_due_now(message)
    _settled(message, S.SENT)
    assert len(notify.sent(reference=str(message.reference))) == 1 and message.attempts == 2
    # The retry asked Notify for the reference before sending again.
    assert ("GET", "/v2/notifications") in notify.requests


def test_notify_500_is_retried_and_400_is_a_failure_with_notifys_reason(queue_world, notify, workers):
    workers()
    notify.fail_next(500, 400)
    message = _queue(queue_world)
    wait_until(lambda: status_of(message) == S.QUEUED and message.attempts == 1, what="the 500")
    assert "500" in message.status_reason
    _run_due_now(message)
    _settled(message, S.FAILED)
    assert message.status_reason == "GOV.UK Notify refused the message (400: Template not found)."
    assert notify.sent() == []


def test_notify_403_fails_the_message_with_the_reason_the_team_sees(queue_world, notify, workers):
    OrganisationMessaging.objects.filter(organisation=queue_world.organisation).update(notify_key_variable="NOTIFY_API_KEY_BADKEY")
    workers()
    message = _queue(queue_world)
    _settled(message, S.FAILED)
    assert message.status_reason.startswith("GOV.UK Notify refused the API key (check the key in the environment variable NOTIFY_API_KEY_BADKEY)")
    assert "403" in message.status_reason and notify.sent() == [] and notify.refused[0][0] == 403
    assert _job_of(message) == []  # not retried: the job finished (and was deleted as done)


def test_an_sms_with_no_number_fails_plainly_and_is_not_retried(queue_world, notify, workers):
    workers()
    message = _queue(queue_world, to="")
    _settled(message, S.FAILED)
    assert message.status_reason == "No mobile number to send it to." and notify.requests == []


def test_smtp_down_is_retried_then_sent_when_the_server_is_back(queue_world, mail_server, workers, worker_env):
    OrganisationMessaging.objects.filter(organisation=queue_world.organisation).update(email_sender="smtp")
    port = mail_server.port
    mail_server.stop()  # nothing listens on the port: connection refused
    try:
        workers()
        message = _queue(queue_world, channel="email")
        wait_until(lambda: status_of(message) == S.QUEUED and message.attempts == 1, what="the refused connection")
        assert "could not be reached" in message.status_reason
    finally:
        mail_server.__init__()  # a new server object on the same port
        mail_server.port = port
        from aiosmtpd.controller import Controller

        mail_server._controller = Controller(mail_server._inbox, hostname="127.0.0.1", port=port)
        mail_server.start()
    _run_due_now(message)
    _settled(message, S.SENT)
    [received] = mail_server.wait_for(queue_world.service_user.email)
    assert received.subject == "Your appointment" and received.message["Message-ID"].startswith(f"<{message.reference}@")
    assert message.provider == "smtp" and message.attempts == 2


@pytest.mark.parametrize("record_first", [False, True], ids=["before-notify-had-it", "after-notify-accepted"])
def test_a_worker_killed_mid_send_sends_exactly_once_after_restart(queue_world, notify, workers, record_first):
    """The first worker takes the job, marks the message sending, calls Notify, and is killed (SIGKILL)
    while Notify holds the call: either before Notify recorded it, or after (the answer never came back).
    A new worker runs the stalled job again: the message reaches the person exactly once."""
    first = workers("doomed")
    hold = notify.hold_next(record_first=record_first)
    message = _queue(queue_world)
    assert hold.arrived.wait(30), "the worker never called Notify"
    assert status_of(message) == S.SENDING and message.attempts == 1
    first.kill()
    hold.release.set()

    workers("rescuer")
    # The dead worker's heartbeat stops; move its clock past the stalled timeout, then run the periodic recovery.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' WHERE id = %s", [first.id])
    assert queue.stalled_jobs_retry() == 1
    _settled(message, S.SENT)
    assert len(notify.sent(reference=str(message.reference))) == 1
    if record_first:
        assert message.attempts == 1 and message.status_reason == "An earlier attempt had reached GOV.UK Notify; not sent again."
    else:
        assert message.attempts == 2


def test_two_workers_never_send_one_message_twice(queue_world, notify, workers):
    workers("one"), workers("two")
    messages = [_queue(queue_world, kind="reminder") for _ in range(20)]
    for message in messages:
        _settled(message, S.SENT)
    references = [n["reference"] for n in notify.sent()]
    assert sorted(references) == sorted(str(m.reference) for m in messages)  # each once


def test_a_second_defer_for_a_waiting_message_is_refused_by_its_queueing_lock(queue_world):
    message = _queue(queue_world, send_after=timezone.now() + timezone.timedelta(days=1))
    assert queue.send_defer(message.pk, message.send_after) is False
    assert services.messages_requeue() == 0
    assert len(_job_of(message)) == 1


def test_a_database_restart_with_jobs_queued_loses_nothing_and_sends_each_once(queue_world, notify, workers):
    """Not the shared server's restart: every connection to this test's database is terminated, as a
    restart would do to them, while a reminder waits on the queue. The worker reconnects; the reminder goes
    once when its time comes."""
    workers()
    reminder = _queue(queue_world, kind="reminder", send_after=timezone.now() + timezone.timedelta(hours=1))
    first = _queue(queue_world)
    _settled(first, S.SENT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        assert cursor.fetchone()[0] >= 1
    _run_due_now(reminder)
    _settled(reminder, S.SENT)
    after = _queue(queue_world, kind="join_link")
    _settled(after, S.SENT)
    references = [n["reference"] for n in notify.sent()]
    assert sorted(references) == sorted(str(m.reference) for m in (first, reminder, after))
