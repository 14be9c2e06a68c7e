"""Revocation reaching open sockets: the sessions app's callback on the accounts layer's
ACCESS_CHANGED hook (backend/accounts/hooks.py), added in TeleSessionsConfig.ready().

For each account whose access may have narrowed, it moves the account's access epoch on (so every
socket of theirs re-checks before it next relays anything) and sends `access.changed` to the
account's socket group (so they re-check at once). The sockets decide with the one rule,
`session_access_for` / `call_participant_for`, and close with 4430 (access revoked) or 4431 (the
person's consent to the way the call happens withdrawn): docs/signalling.md.
"""

from __future__ import annotations

import logging
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from backend.accounts.hooks import AccessChange
from backend.consent.models import PurposeCode
from backend.sessions.models import Appointment, Participant
from backend.sessions.presence import REDIS_ERRORS, StoreUnavailable, set_access_epochs
from backend.sessions.signalling import user_group_name

logger = logging.getLogger(__name__)

# Consents a session itself needs (services._require_session_consent): withdrawing one reaches
# everyone in the person's running calls, not only the person.
SESSION_PURPOSES = {PurposeCode.REMOTE_CARE, PurposeCode.VIDEO}


def affected_users(change: AccessChange) -> set[int]:
    users = set(change.user_ids)
    if change.service_user_id is not None and change.purpose in SESSION_PURPOSES:
        users |= set(Participant.objects.filter(
            appointment__service_user_id=change.service_user_id, appointment__status=Appointment.Status.IN_PROGRESS,
        ).values_list("user_id", flat=True))
    return users


def on_access_changed(change: AccessChange) -> None:
    users = affected_users(change)
    if not users:
        return
    epoch = time.time_ns()
    # Redis down: the change itself (in the database) stands; nothing can be relayed meanwhile, and
    # every socket re-checks its access with the database when the store returns (presence.py).
    try:
        set_access_epochs({user_id: epoch for user_id in users})
    except StoreUnavailable as error:
        logger.warning("Access epochs not moved (store unavailable: %s); sockets re-check on recovery.", error)
        return
    layer = get_channel_layer()
    try:
        for user_id in users:
            async_to_sync(layer.group_send)(user_group_name(user_id), {"type": "access.changed", "reason": change.reason})
    except REDIS_ERRORS as error:
        logger.warning("access.changed not sent (channel layer unavailable: %s); the epoch still moved.", error)
