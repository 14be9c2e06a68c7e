"""Queueing and cancelling messages. Each function is called inside the caller's transaction, so a
message exists exactly when the change that caused it commits.

The messaging issue fills these in: `message_queue` also defers the send job on the durable queue,
and the content rules, preferences and templates decide what to queue (see docs/messaging.md).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from backend.accounts.models import User
from backend.messaging.models import Message

S = Message.Status


def message_queue(
    *, recipient: User, organisation, kind: str, channel: str, to: str, sender_name: str, body: str,
    subject: str = "", team=None, appointment=None, send_after: datetime | None = None, created_by: User | None = None,
) -> Message:
    """Record one message to send at `send_after` (now if not given)."""
    return Message.objects.create(
        recipient=recipient, organisation=organisation, team=team, appointment=appointment, kind=kind, channel=channel,
        to=to, sender_name=sender_name, subject=subject, body=body, send_after=send_after or timezone.now(),
        created_by=created_by,
    )


def messages_cancel(*, appointment, reason: str, kinds: list[str] | None = None) -> int:
    """Cancel every message for `appointment` not yet handed to a provider (of `kinds`, if given)."""
    queued = Message.objects.filter(appointment=appointment, status=S.QUEUED)
    if kinds:
        queued = queued.filter(kind__in=kinds)
    return queued.update(status=S.CANCELLED, status_reason=reason, status_at=timezone.now())
