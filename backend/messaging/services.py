"""Queueing, cancelling, sending and recording messages.

`message_queue` and `messages_cancel` are called inside the caller's transaction, so a message and its
send job exist exactly when the change that caused them commits. `message_send` is the job's body; it
is what makes a retry or a crash never send a message twice (docs/messaging.md, "Exactly once").
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.messaging import queue, senders
from backend.messaging.models import Message

S = Message.Status
log = logging.getLogger(__name__)


def message_queue(
    *, recipient: User, organisation, kind: str, channel: str, to: str, sender_name: str, body: str,
    subject: str = "", team=None, appointment=None, send_after: datetime | None = None, created_by: User | None = None,
) -> Message:
    """Record one message to send at `send_after` (now if not given), and defer its send job in the same
    transaction (PostgreSQL), or once that transaction commits (the embedded in-memory queue)."""
    message = Message.objects.create(
        recipient=recipient, organisation=organisation, team=team, appointment=appointment, kind=kind, channel=channel,
        to=to, sender_name=sender_name, subject=subject, body=body, send_after=send_after or timezone.now(),
        created_by=created_by,
    )
    queue.send_defer(message.pk, message.send_after)
    return message


def messages_cancel(*, appointment, reason: str, kinds: list[str] | None = None) -> int:
    """Cancel every message for `appointment` not yet handed to a provider (of `kinds`, if given). Its job
    stays on the queue and does nothing: the job reads the row, under a lock, before sending."""
    queued = Message.objects.filter(appointment=appointment, status=S.QUEUED)
    if kinds:
        queued = queued.filter(kind__in=kinds)
    return queued.update(status=S.CANCELLED, status_reason=reason, status_at=timezone.now())


def _set(message: Message, status: str, reason: str = "", **fields) -> None:
    message.status, message.status_reason, message.status_at = status, reason, timezone.now()
    for name, value in fields.items():
        setattr(message, name, value)
    message.save(update_fields=["status", "status_reason", "status_at", *fields])


def _record_sent(message: Message, accepted: senders.Accepted, *, reason: str = "") -> None:
    _set(message, S.SENT, reason, provider=accepted.provider, provider_id=accepted.provider_id, sent_at=timezone.now())


def message_send(message_id: int, *, final_attempt: bool = False) -> str:
    """Send one message if, and only if, its record says it is still to be sent. Returns what happened
    (for the job's log). Raises TemporaryFailure for the queue to retry, unless this was the final attempt.

    1. Under a row lock: nothing to do unless queued (or `sending`, left by an attempt that crashed or
       failed after it may have reached the provider). Not yet due: leave it to the job deferred for then.
    2. If an earlier attempt may have reached Notify, ask Notify for the message's reference first; if it
       is there, record it as sent instead of sending again.
    3. Mark it `sending`, attempts + 1, and commit: from here a crash leaves `sending`, which step 2 checks.
    4. Hand it to the sender; record sent, or failed with the reason, or back to queued for a retry.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status not in (S.QUEUED, S.SENDING):
            return f"nothing to do ({message.status if message else 'no such message'})"
        if message.status == S.QUEUED and message.send_after > timezone.now():
            queue.send_defer(message.pk, message.send_after, replace=True)
            return "not due yet: deferred again for its time"
        try:
            sender = senders.sender_for(message)
            if message.attempts > 0 and sender.can_look_up:
                found = sender.look_up(message)
                if found:
                    _record_sent(message, senders.Accepted(sender.name, str(found["id"])),
                                 reason="An earlier attempt had reached GOV.UK Notify; not sent again.")
                    return "found at the provider: recorded as sent, not sent again"
        except senders.PermanentFailure as exc:
            _set(message, S.FAILED, str(exc))
            return f"failed: {exc}"
        except senders.TemporaryFailure as exc:
            retry = _retry_or_give_up(message, exc, final_attempt)
        else:
            retry = None
        if retry is None and not message.to:
            what = "mobile number" if message.channel == Message.Channel.SMS else "email address"
            _set(message, S.FAILED, f"No {what} to send it to.")
            return "failed: nowhere to send it"
        if retry is None:
            _set(message, S.SENDING, "", attempts=message.attempts + 1)
    if retry is not None:
        return _raise_after_commit(retry)
    try:
        accepted = sender.send(message)
    except senders.PermanentFailure as exc:
        with transaction.atomic():
            _set(_locked(message_id), S.FAILED, str(exc))
        return f"failed: {exc}"
    except senders.TemporaryFailure as exc:
        with transaction.atomic():
            retry = _retry_or_give_up(_locked(message_id), exc, final_attempt)
        return _raise_after_commit(retry)
    with transaction.atomic():
        _record_sent(_locked(message_id), accepted)
    return f"sent by {accepted.provider}"


def _locked(message_id: int) -> Message:
    return Message.objects.select_for_update().get(pk=message_id)


def _retry_or_give_up(message: Message, exc: senders.TemporaryFailure, final_attempt: bool) -> str | senders.TemporaryFailure:
    """Record a temporary failure: failed for good on the final attempt (the reason says so), else back
    to queued (a retry asks the provider for the reference first, since attempts > 0). Returns the
    exception for the caller to raise once the record is committed, so the queue retries the job."""
    if final_attempt:
        _set(message, S.FAILED, f"Gave up after {message.attempts} attempts: {exc}")
        return f"failed: {exc}"
    _set(message, S.QUEUED, f"Not sent yet: {exc}")
    return exc


def _raise_after_commit(retry: str | senders.TemporaryFailure) -> str:
    if isinstance(retry, senders.TemporaryFailure):
        raise retry
    return retry


def delivery_status_record(*, reference: str | None = None, provider_id: str | None = None, status: str) -> Message | None:
    """What Notify says became of a sent message (its callback or its status API): delivered, or failed
    with the reason. Statuses on the way (created, sending, pending) are kept as the provider's word only."""
    with transaction.atomic():
        found = Message.objects.select_for_update()
        if reference:
            found = found.filter(reference=reference)
        elif provider_id:
            found = found.filter(provider_id=provider_id)
        else:
            return None
        message = found.first()
        if message is None or message.status not in (S.SENT, S.SENDING, S.DELIVERED, S.FAILED):
            return message
        if status in senders.NOTIFY_FINAL and message.status in (S.SENT, S.SENDING):
            new_status, reason = senders.NOTIFY_FINAL[status]
            _set(message, new_status, reason, provider_status=status)
        elif message.provider_status != status:
            message.provider_status = status
            message.save(update_fields=["provider_status"])
        return message


def delivery_statuses_fetch(*, limit: int = 500) -> int:
    """Ask Notify what became of messages it accepted in the last week and has not yet given a final word
    on (the periodic job; the callback usually gets there first). Returns how many changed."""
    week_ago = timezone.now() - timezone.timedelta(days=7)
    waiting = Message.objects.filter(provider="notify", status=S.SENT, sent_at__gte=week_ago).exclude(provider_id="")[:limit]
    changed = 0
    for message in waiting:
        try:
            answer = senders.sender_for(message)
            if not isinstance(answer, senders.NotifySender):
                continue
            status = answer.status_of(message).get("status", "")
        except senders.SendFailure as exc:
            log.warning("Delivery status of message %s not fetched: %s", message.pk, exc)
            continue
        before = message.status
        after = delivery_status_record(provider_id=message.provider_id, status=status)
        changed += int(after is not None and after.status != before)
    return changed


def messages_requeue(*, overdue_only: bool = False) -> int:
    """Defer a job for every message the record says is still to send (queued or sending). Run when the
    in-memory queue starts (nothing it held survived the restart) and periodically on PostgreSQL, where
    it finds only messages queued outside a transaction by a process that died before deferring
    (`overdue_only`: due and untouched for five minutes). A message whose job waits is left alone."""
    pending = Message.objects.filter(status__in=[S.QUEUED, S.SENDING])
    if overdue_only:
        five_minutes_ago = timezone.now() - timezone.timedelta(minutes=5)
        pending = pending.filter(send_after__lte=five_minutes_ago, status_at__lte=five_minutes_ago)
    count = 0
    for message_id, send_after in pending.values_list("id", "send_after"):
        count += int(queue.send_defer(message_id, send_after))
    return count
