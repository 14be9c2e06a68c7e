"""Risk flags, live: a clinician's pages keep a socket open here and hear of each new flag at once.

On connecting, the clinician gets every open flag they can see (so a flag raised while they were
offline is not missed); then `flag` for each new one and `acknowledged` when any clinician deals
with one. Only clinicians may connect (close 4401 not logged in, 4403 any other role).
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.outcomes import selectors
from backend.outcomes.serializers import RiskFlagOut

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_NOT_ALLOWED = 4403


@database_sync_to_async
def _open_flags(user) -> list[dict]:
    flags = list(selectors.open_risk_flags_visible_to(user))
    audit_list(actor=Actor(user, via="ws"), object_type="outcomes.riskflag", ids=[f.pk for f in flags], detail={"socket": "risk-flags"})
    return RiskFlagOut(flags, many=True).data


@database_sync_to_async
def _flag(user, flag_id: int, sent_as: str) -> dict | None:
    flag = selectors.risk_flags_visible_to(user).filter(pk=flag_id).first()
    if flag is None:
        return None
    audit_record(actor=Actor(user, via="ws"), action=AuditEvent.Action.READ, obj=flag, detail={"socket": "risk-flags", "sent_as": sent_as})
    return RiskFlagOut(flag).data


@database_sync_to_async
def _refused(user) -> None:
    """A logged-in person who may not see risk flags tried the socket: recorded, as refused API reads are."""
    audit_record(actor=Actor(user, via="ws"), action=AuditEvent.Action.DENIED, object_type="outcomes.riskflag",
                 detail={"socket": "risk-flags"})


class RiskFlagConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self):
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
        self.group = selectors.risk_flag_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "open-flags", "flags": await _open_flags(user)})

    async def receive(self, text_data=None, bytes_data=None):
        await self.send_json({"type": "error", "code": "read-only", "detail": "Acknowledge flags through the page or the API."})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def risk_flag(self, event):
        flag = await _flag(self.user, event["flag_id"], "flag")
        if flag is not None:
            await self.send_json({"type": "flag", "flag": flag})

    async def risk_acknowledged(self, event):
        flag = await _flag(self.user, event["flag_id"], "acknowledged")
        if flag is not None:
            await self.send_json({"type": "acknowledged", "flag": flag})
