"""Risk flags, live: a clinician's pages keep a socket open here and hear of each new flag at once.

On connecting, the clinician gets every open flag they can see (so a flag raised while they were
offline is not missed); then `flag` for each new one and `acknowledged` when any clinician deals
with one. Only clinicians may connect (close 4401 not logged in, 4403 any other role).

Access narrowing while the socket is open (a person taken off the team's caseload, the clinician
taken off the team or their account closed) reaches it through the accounts layer's ACCESS_CHANGED
hook (outcomes/revocation.py): the socket re-checks with the same selectors, tells the page which
flags it may no longer show (`flags-removed`), or closes with 4430 if the clinician may no longer
have the socket at all. Every flag is also checked against the account as it is now before it is sent.

While Redis is down a new socket is refused with 1013 and an `error` `try-again` (the session sockets'
rule, sessions/presence.py), never an HTTP 500 at the handshake.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from backend.accounts.models import Role, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.outcomes import selectors
from backend.outcomes.serializers import RiskFlagOut
from backend.sessions.presence import CLOSE_TRY_AGAIN, TRY_AGAIN_DETAIL, UNAVAILABLE, TryAgainWhileStoreDown, outage_watch

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_NOT_ALLOWED = 4403
CLOSE_ACCESS_REVOKED = 4430


def _current_clinician(user_id: int) -> User | None:
    """The account as it is now (the socket's scope holds it as it was at connect), if still a clinician."""
    return User.objects.filter(pk=user_id, is_active=True, role=Role.CLINICIAN).first()


@database_sync_to_async
def _open_flags(user) -> list[dict]:
    flags = list(selectors.open_risk_flags_visible_to(user))
    audit_list(actor=Actor(user, via="ws"), object_type="outcomes.riskflag", ids=[f.pk for f in flags], detail={"socket": "risk-flags"})
    return RiskFlagOut(flags, many=True).data


@database_sync_to_async
def _flag(user_id: int, flag_id: int, sent_as: str) -> dict | None:
    """The flag as this clinician may see it now (the account re-read, not the one from connect), audited as sent."""
    user = _current_clinician(user_id)
    flag = selectors.risk_flags_visible_to(user).filter(pk=flag_id).first() if user else None
    if flag is None:
        return None
    audit_record(actor=Actor(user, via="ws"), action=AuditEvent.Action.READ, obj=flag, detail={"socket": "risk-flags", "sent_as": sent_as})
    return RiskFlagOut(flag).data


@database_sync_to_async
def _refused(user) -> None:
    """A logged-in person who may not see risk flags tried the socket: recorded, as refused API reads are."""
    audit_record(actor=Actor(user, via="ws"), action=AuditEvent.Action.DENIED, object_type="outcomes.riskflag",
                 detail={"socket": "risk-flags"})


@database_sync_to_async
def _still_visible(user_id: int, flag_ids: set[int]) -> set[int] | None:
    """Which of these flags the clinician may still see; None if they may no longer have the socket."""
    user = _current_clinician(user_id)
    if user is None:
        return None
    return set(selectors.risk_flags_visible_to(user).filter(pk__in=flag_ids).values_list("pk", flat=True))


class RiskFlagConsumer(TryAgainWhileStoreDown, AsyncJsonWebsocketConsumer):
    group: str | None = None
    closed = False

    async def connect(self):
        self.shown: set[int] = set()  # flags this socket has told the page about
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.send_json({"type": "error", "code": "not-logged-in", "detail": "Log in to see risk flags."})
            return await self.close(code=CLOSE_NOT_LOGGED_IN)
        if user.role != Role.CLINICIAN:
            await _refused(user)
            await self.send_json({"type": "error", "code": "not-allowed", "detail": "Risk flags go to clinicians only."})
            return await self.close(code=CLOSE_NOT_ALLOWED)
        self.user = user
        try:
            await self.channel_layer.group_add(selectors.risk_flag_group(user.pk), self.channel_name)
        except UNAVAILABLE as error:  # Redis went down after the handshake: the same answer as before it
            outage_watch().report(error)
            await self.send_json({"type": "error", "code": "try-again", "detail": TRY_AGAIN_DETAIL})
            return await self.close(code=CLOSE_TRY_AGAIN)
        self.group = selectors.risk_flag_group(user.pk)
        flags = await _open_flags(user)
        self.shown.update(flag["id"] for flag in flags)
        await self.send_json({"type": "open-flags", "flags": flags})

    async def receive(self, text_data=None, bytes_data=None):
        await self.send_json({"type": "error", "code": "read-only", "detail": "Acknowledge flags through the page or the API."})

    async def disconnect(self, code):
        self.closed = True
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def risk_flag(self, event):
        flag = await _flag(self.user.pk, event["flag_id"], "flag")
        if flag is not None and not self.closed:
            self.shown.add(flag["id"])
            await self.send_json({"type": "flag", "flag": flag})

    async def risk_acknowledged(self, event):
        flag = await _flag(self.user.pk, event["flag_id"], "acknowledged")
        if flag is not None and not self.closed:
            await self.send_json({"type": "acknowledged", "flag": flag})

    async def access_changed(self, event):
        if self.closed:
            return
        visible = await _still_visible(self.user.pk, set(self.shown))
        if visible is None:
            self.closed = True
            await self.send_json({"type": "error", "code": "access-revoked", "detail": "You no longer receive risk flags."})
            await self.channel_layer.group_discard(self.group, self.channel_name)
            return await self.close(code=CLOSE_ACCESS_REVOKED)
        gone = self.shown - visible
        if gone:
            self.shown = visible
            await self.send_json({"type": "flags-removed", "ids": sorted(gone)})
