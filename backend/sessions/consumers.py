"""WebSocket signalling for a session's call: a thin consumer over signalling.py and the selectors.

The server relays SDP offers and answers and trickle ICE candidates to a named peer (so three or more
people can form a mesh), tells each pair who is polite, and announces presence. Media never passes
through the server. docs/signalling.md is the specification; close codes are listed there.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull, StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.consumer import get_handler_name
from django.conf import settings

from backend.accounts.models import User
from backend.audit.actor import Actor
from backend.core.db_reads import db_read
from backend.core.errors import DomainError, NotFound
from backend.sessions import budget, selectors, services
from backend.sessions.connection_test import EchoPeer
from backend.sessions.ice import ice_servers_for
from backend.sessions.models import Appointment, Participant
from backend.sessions.presence import (
    CLOSE_TRY_AGAIN,
    TRY_AGAIN_DETAIL,
    UNAVAILABLE,
    StoreUnavailable,
    TryAgainWhileStoreDown,
    outage_watch,
    store,
)
from backend.sessions.protocol import ArrivalGate, load_message, parse_client_message
from backend.sessions.signalling import (
    HEARTBEAT_SECONDS,
    RECONNECT_GRACE_SECONDS,
    PeerInfo,
    ProtocolError,
    group_name,
    lobby_group_name,
    peer_id_for,
    user_group_name,
    validate_sdp,
)

logger = logging.getLogger(__name__)

CLOSE_SESSION_ENDED = 4000
CLOSE_SERVER_ERROR = 1011  # the last-resort handler: something unexpected failed; clean-up done, reconnect
CLOSE_TOO_SLOW = 4408  # events for this socket piled up past the layer's bound and were dropped: reconnect
CLOSE_BUDGET = 4420  # the account's budget of connects and errors is spent (budget.py): wait `retry_after`
CLOSE_NOT_LOGGED_IN = 4401
CLOSE_NOT_ADMITTED = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_NOT_IN_PROGRESS = 4409
CLOSE_FLOODING = 4429
CLOSE_ACCESS_REVOKED = 4430  # consent to involve a carer withdrawn, link ended, taken off the team, account closed...
CLOSE_CONSENT_WITHDRAWN = 4431  # the person's consent to remote care or video withdrawn: the call stops; phone instead
CLOSE_BUSY = 4503
# CLOSE_TRY_AGAIN (1013), TRY_AGAIN_DETAIL and UNAVAILABLE live in presence.py, shared with outcomes' risk-flag socket.

# After the store returns, how long a socket waits for the others (on every process) to re-announce
# before it tells its client who is here (`recovered`).
RECOVERY_SETTLE_SECONDS = 1.5

WAITING_ROOM_MAX_CHARS = 4096


class _CrashLog:
    """The last-resort handler's log: one short line per failure, at most one line per
    CRASH_LOG_SECONDS per process (the rest counted), so a client that trips a fault in a loop
    cannot flood the logs (issue 12)."""

    CRASH_LOG_SECONDS = 10.0
    last = float("-inf")
    suppressed = 0

    @classmethod
    def record(cls, consumer: str, event: str, error: BaseException) -> None:
        now = time.monotonic()
        if now - cls.last < cls.CRASH_LOG_SECONDS:
            cls.suppressed += 1
            return
        cls.last, suppressed, cls.suppressed = now, cls.suppressed, 0
        logger.error("session socket fault: %s handling %r: %s: %.200s (%d similar suppressed)",
                     consumer, event, type(error).__name__, error, suppressed)


def _peer(participant: Participant) -> PeerInfo:
    return PeerInfo(
        peer_id=peer_id_for(participant.pk), participant_id=participant.pk, user_id=participant.user_id,
        role=participant.role, name=participant.user.display_name,
    )


@db_read
def _join(user, appointment_id: int) -> tuple[PeerInfo, list[PeerInfo], list[dict]]:
    """Everything the welcome needs from the database, in one trip to a worker thread."""
    participant, admitted = selectors.call_join(user, appointment_id)
    others = [_peer(p) for p in admitted if p.pk != participant.pk]
    me = _peer(participant)
    return me, others, ice_servers_for(f"{appointment_id}-{me.peer_id}")


@db_read
def _admitted_peers(appointment_id: int) -> list[PeerInfo]:
    return [_peer(p) for p in selectors.admitted_participants(appointment_id)]


def _current_user(user_id: int) -> User:
    """The account as it is now (the socket's scope holds it as it was at connect)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound("Your account is closed.")
    return user


@db_read
def _call_check(user_id: int, appointment_id: int) -> None:
    selectors.call_participant_for(_current_user(user_id), appointment_id)


@db_read
def _lobby_check(user_id: int, appointment_id: int) -> str:
    return selectors.session_access_for(_current_user(user_id), appointment_id, selectors.JOIN).role


_READ = object()  # _still_allowed: read the epoch from the store now


class _OneInbox:
    """Channels' AsyncConsumer.__call__, except that, for a socket read through an ArrivalGate (the
    signalling socket), frames and channel-layer events reach dispatch through one queue, the gate's
    (ArrivalGate.carry_events), instead of await_many_dispatch. Other sockets are left to Channels."""

    async def __call__(self, scope, receive, send):
        if not isinstance(receive, ArrivalGate):
            return await super().__call__(scope, receive, send)
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        self.base_send = send
        receive.carry_events(self.channel_receive)
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass


class _SessionSocket(TryAgainWhileStoreDown, _OneInbox, AsyncJsonWebsocketConsumer):
    """What every session socket shares: it never sends after its socket closed, whichever side closed
    first (a send then would crash the consumer and skip its clean-up), every send goes through that
    guard (send_json too: Channels' own send_json skips an overridden send); a fault in any handler
    is caught by the last-resort handler below; and it skips Channels' per-event database
    housekeeping, since these consumers reach the database only through database_sync_to_async.
    A connection arriving while Redis is down is refused with 1013 (presence.TryAgainWhileStoreDown)."""

    socket_closed = False
    crashed = False
    budget_user_id: int | None = None  # whose budget (budget.py) this socket's misbehaviour is charged to
    _handler_names: dict[str, str] = {}  # message type -> handler name (get_handler_name's answer, once per type)

    async def dispatch(self, message):
        try:
            kind = message["type"] if isinstance(message.get("type"), str) else None
            name = self._handler_names.get(kind)
            if name is None:
                name = get_handler_name(message)  # raises for a type Channels refuses (never cached)
                if kind is not None:
                    self._handler_names[kind] = name
            handler = getattr(self, name, None)
            if handler is None:
                raise ValueError(f"No handler for message type {message['type']}")
            await handler(message)
        except StopConsumer:
            raise
        except Exception as error:  # noqa: BLE001 - the last resort: never an unhandled crash (docs/signalling.md)
            await self._last_resort(error, message)

    async def _last_resort(self, error: Exception, message: dict) -> None:
        """Log one short line (rate-limited), close with 1011, and still run the clean-up a crash
        would skip (presence forgotten, peers told), then charge the account's budget."""
        _CrashLog.record(type(self).__name__, str(message.get("type")), error)
        if not self.crashed:
            self.crashed = True
            for step in (self._crash_close, lambda: self.disconnect(CLOSE_SERVER_ERROR), lambda: self._charge(budget.COST_CRASH)):
                try:
                    await step()
                except Exception as again:  # noqa: BLE001 - best effort: each step on its own
                    _CrashLog.record(type(self).__name__, "clean-up", again)
        if message.get("type") == "websocket.disconnect":
            raise StopConsumer()

    async def _crash_close(self) -> None:
        await self.send_json({"type": "error", "code": "server-error", "detail": "Something went wrong on the server. Connect again."})
        await self.close(code=CLOSE_SERVER_ERROR)

    async def _charge(self, cost: int) -> budget.Verdict | None:
        if self.budget_user_id is None:
            return None
        return await budget.charge(self.budget_user_id, cost)

    async def _within_budget(self, user_id: int) -> bool:
        """Charge a connect to the account; wait if it is connecting too often; refuse (4420) if spent."""
        self.budget_user_id = user_id
        verdict = await self._charge(budget.COST_CONNECT)
        if verdict.refused:
            await self._refuse_budget(verdict)
            return False
        if verdict.delay:
            await asyncio.sleep(verdict.delay)
        return True

    async def _refuse_budget(self, verdict: budget.Verdict) -> None:
        await self.send_json({"type": "error", "code": "too-many-errors", "retry_after": verdict.retry_after,
                              "detail": "Too many reconnects or refused messages from your account. "
                                        f"Wait {verdict.retry_after} seconds, then connect again."})
        await self.close(code=CLOSE_BUDGET)

    async def send(self, text_data=None, bytes_data=None, close=False):
        if self.socket_closed:
            return
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except (RuntimeError, OSError):  # the client went away between our check and the send
            self.socket_closed = True

    async def send_json(self, content, close=False):
        await self.send(text_data=await self.encode_json(content), close=close)

    async def close(self, code=None, reason=None):
        if not self.socket_closed:
            self.socket_closed = True
            try:
                await super().close(code=code, reason=reason)
            except (RuntimeError, OSError):  # already closed by the client
                pass

    async def websocket_disconnect(self, message):
        self.socket_closed = True
        await super().websocket_disconnect(message)

    # --- Revocation (docs/signalling.md, "Access ending during a call") ----------------------------
    # Each socket joins its account's group, to hear `access.changed` at once, and remembers the
    # account's access epoch, to re-check before relaying anything if the epoch moved (a message on
    # the channel layer can be lost). The re-check is the same rule as at connect.
    revoked = False
    watched_user_id: int | None = None
    epoch = None

    async def _read_epoch(self, user_id: int) -> None:
        self.epoch = await store().access_epoch(user_id)

    async def _watch_access(self, user_id: int) -> None:
        self.watched_user_id = user_id
        await self.channel_layer.group_add(user_group_name(user_id), self.channel_name)

    async def _unwatch_access(self) -> None:
        if self.watched_user_id is not None:
            await self._quietly(self.channel_layer.group_discard(user_group_name(self.watched_user_id), self.channel_name))

    async def _quietly(self, coroutine) -> bool:
        """Run a store or channel-layer call whose failure must not crash the socket: on an outage,
        report it (presence.OutageWatch) and return False."""
        try:
            await coroutine
        except UNAVAILABLE as error:
            outage_watch().report(error)
            return False
        return True

    async def access_changed(self, event):
        if not self.revoked and not self.socket_closed and self.watched_user_id is not None:
            await self._quietly(self._read_epoch(self.watched_user_id))  # this re-check covers the change that moved it
            await self.recheck()

    async def _still_allowed(self, epoch=_READ) -> bool:
        """False once access has gone; re-checks first if the account's access epoch moved. `epoch`: the
        account's epoch as read from the store after the message in hand arrived (the sender reads its
        own and its peer's in one round trip, `_relay`); by default it is read now."""
        if self.revoked or self.socket_closed:
            return False
        if self.watched_user_id is None:
            return True
        if epoch is _READ:
            try:
                epoch = await store().access_epoch(self.watched_user_id)
            except StoreUnavailable as error:
                # Nothing can be relayed while the store is down anyway (the channel layer is the same Redis),
                # and every socket re-checks with the database when it returns (store_recovered).
                outage_watch().report(error)
                return True
        if epoch != self.epoch:
            self.epoch = epoch
            return await self.recheck()
        return True

    # The store going down and coming back (presence.OutageWatch). A revocation during the outage could
    # not move the epoch nor reach the socket, so every socket re-checks with the database on recovery.
    async def store_down(self):
        pass

    async def store_recovered(self):
        if self.watched_user_id is None or self.revoked or self.socket_closed:
            return
        if await self._quietly(self._read_epoch(self.watched_user_id)):
            await self.recheck()

    async def _try_again(self):
        """The store (Redis) is down: refuse this new socket with the documented close code."""
        await self.send_json({"type": "error", "code": "try-again", "detail": TRY_AGAIN_DETAIL})
        await self.close(code=CLOSE_TRY_AGAIN)

    async def recheck(self) -> bool:
        """Ask the rule again; close (and return False) if it no longer holds."""
        raise NotImplementedError

    async def _revoke(self, code: int, reason: str, detail: str) -> bool:
        self.revoked = True
        await self.send_json({"type": "error", "code": reason, "detail": detail})
        await self.close(code=code)
        await self._unwatch_access()
        return False


class SessionSignallingConsumer(_SessionSocket):
    me: PeerInfo | None = None
    degraded = False
    gone = False  # the drop clean-up (disconnect) has run

    async def __call__(self, scope, receive, send):
        # Frames are read, and charged to the rate limit, as they arrive (protocol.ArrivalGate).
        self.gate = ArrivalGate(receive)
        try:
            await super().__call__(scope, self.gate, send)
        finally:
            self.gate.stop()

    async def connect(self):
        self.appointment_id = int(self.scope["url_route"]["kwargs"]["appointment_id"])
        self.bucket = self.gate.bucket
        self.leaving = False
        self.peer_channels: dict[str, str] = {}  # peer_id -> channel name, kept current by presence events
        self.peer_users: dict[str, int] = {}  # peer_id -> user_id, for reading the peer's access epoch with ours
        # Peers this socket has told its client about: peer_id -> None while connected, or when (monotonic)
        # it dropped. A peer coming back within the grace period is `peer-reconnected` whatever the store
        # remembers (it may have restarted empty meanwhile).
        self.known: dict[str, float | None] = {}
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return await self._refuse(CLOSE_NOT_LOGGED_IN, "not-logged-in", "Log in, or open your link again.")
        # Before the check (a change during it moves the epoch); with the store down, "try again".
        if outage_watch().down or not await self._quietly(self._read_epoch(user.pk)):
            return await self._try_again()
        if not await self._within_budget(user.pk):
            return
        report_overflow = getattr(self.channel_layer, "report_overflow", None)
        if report_overflow is not None:  # the bounded Redis layer (backend/core/channel_layers.py)
            report_overflow(self.channel_name)
        try:
            me, others, ice_servers = await _join(user, self.appointment_id)
        except (NotFound, selectors.NoSessionAccess) as error:
            return await self._refuse(CLOSE_NOT_FOUND, "not-found", error.detail)
        except selectors.NotInProgress as error:
            return await self._refuse(CLOSE_NOT_IN_PROGRESS, "not-in-progress", error.detail)
        except selectors.SessionConsentMissing as error:
            return await self._refuse(CLOSE_CONSENT_WITHDRAWN, "consent-withdrawn", error.detail)
        except DomainError as error:
            return await self._refuse(CLOSE_NOT_ADMITTED, "not-admitted", error.detail)
        self.group = group_name(self.appointment_id)
        try:
            peers = await self._announce(me, user.pk, others)
        except UNAVAILABLE as error:
            # Redis went away during the handshake: undo what was done, and say "try again".
            outage_watch().report(error)
            await self._quietly(self.channel_layer.group_discard(self.group, self.channel_name))
            await self._unwatch_access()
            self.watched_user_id = None
            return await self._try_again()
        self.me = me
        outage_watch().add(self)
        await self.send_json({
            "type": "welcome",
            "session": self.appointment_id,
            "peer_id": me.peer_id,
            "role": me.role,
            "peers": [p.describe_to(me) for p in peers],
            "ice_servers": ice_servers,
            "heartbeat_seconds": HEARTBEAT_SECONDS,
            "reconnect_grace_seconds": RECONNECT_GRACE_SECONDS,
        })
        await self._still_allowed()  # access changed while we were joining: the epoch has moved

    async def _announce(self, me: PeerInfo, user_id: int, others: list[PeerInfo]) -> list[PeerInfo]:
        """Join the groups, take presence, tell the others, and return who is here. Raises on an outage."""
        await self._watch_access(user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Back within the grace period after a drop (or replacing a connection the server has not yet
        # noticed is dead): the others keep this peer and restart ICE instead of starting again. In the
        # same round trip: take presence, and see who is present. Anyone taking presence after that
        # read announces themselves to the group, which this socket has already joined, so nobody is
        # missed (someone in between is heard of twice; clients treat a peer-joined for a peer they
        # know as an update).
        reconnected, present = await store().arrive(self.appointment_id, me.peer_id, self.channel_name, [p.peer_id for p in others])
        # Announce before the welcome: anyone connecting after this sees us in their welcome instead.
        await self.channel_layer.group_send(
            self.group, {"type": "peer.joined", "peer": me.__dict__, "channel": self.channel_name, "reconnected": reconnected}
        )
        peers = [p for p in others if p.peer_id in present]
        for peer in peers:
            self.peer_channels[peer.peer_id] = present[peer.peer_id]
            self.peer_users[peer.peer_id] = peer.user_id
            self.known[peer.peer_id] = None
        return peers

    async def _refuse(self, code: int, reason: str, detail: str):
        await self.send_json({"type": "error", "code": reason, "detail": detail})
        await self.close(code=code)

    async def websocket_receive(self, message):
        if self.me is None or self.socket_closed:
            return
        if message.get("refused"):  # over the rate limit when it arrived (ArrivalGate)
            if message.get("flooding"):
                await self.close(code=CLOSE_FLOODING)
                await self._charge(budget.COST_FLOOD)
                return
            return await self.send_json({"type": "error", "code": "rate-limited", "detail": "Too many messages: slow down."})
        await self.receive(text_data=message.get("text"), bytes_data=message.get("bytes"))

    async def _refuse_message(self, error: ProtocolError) -> None:
        await self.send_json(error.as_message())
        verdict = await self._charge(budget.COST_ERROR)
        if verdict is not None and verdict.refused:
            await self._refuse_budget(verdict)

    async def receive(self, text_data=None, bytes_data=None):
        if self.me is None:
            return
        try:
            message = parse_client_message(text_data if text_data is not None else bytes_data)
        except ProtocolError as error:
            return await self._refuse_message(error)
        kind = message["type"]
        if kind == "ping":
            # The heartbeat keeps presence alive; with the store down the socket stays open (degraded).
            await self._quietly(store().set_presence(self.appointment_id, self.me.peer_id, self.channel_name))
            return await self.send_json({"type": "pong"})
        if kind == "bye":
            await self._leave("left")
            return await self.close(code=1000)
        target = message.pop("to")
        try:
            await self._relay(kind, target, message)
        except UNAVAILABLE as error:
            outage_watch().report(error)
            await self.send_json(ProtocolError(
                "degraded", "The server cannot relay messages for a moment; send it again after `recovered`.",
                seq=message["seq"], ref_type=kind,
            ).as_message())

    async def _relay(self, kind: str, target: str, message: dict) -> None:
        # The access epochs of sender and receiver, both read now (after the message arrived), in one
        # round trip: ours is checked here, theirs travels with the message and the receiving socket
        # compares it with its own before sending (signal_relay). Either moved: that socket re-checks.
        target_user = self.peer_users.get(target)
        theirs = None
        try:
            if target_user is not None and self.watched_user_id is not None:
                mine, theirs = await store().access_epochs([self.watched_user_id, target_user])
            else:
                mine = _READ
        except StoreUnavailable as error:
            # As _still_allowed does when its read fails: report it and go on (nothing is read twice:
            # when Redis is slow, a second wait per message is what stalls a busy process); the
            # receiver reads its own epoch.
            outage_watch().report(error)
            mine, target_user = self.epoch, None
        if not await self._still_allowed(mine):
            return
        channel = None if target == self.me.peer_id else await self._channel_of(target)
        if channel is None:
            return await self.send_json(ProtocolError(
                "peer-not-found", f"No peer {target!r} is in this session now.", seq=message["seq"], ref_type=kind
            ).as_message())
        # Straight to the peer's channel, not through the group: one hop, and only they receive it. If the
        # peer's queue is full the bounded layer drops it and sends us `reply_if_dropped` (signal_busy).
        busy = {"type": "signal.busy", "to": target, "seq": message["seq"], "ref_type": kind}
        event = {
            "type": "signal.relay", "message": {**message, "from": self.me.peer_id},
            "reply_if_dropped": {"channel": self.channel_name, "message": busy},
        }
        if target_user is not None:
            event["epoch_of"], event["epoch"] = target_user, theirs
        try:
            await self.channel_layer.send(channel, event)
        except ChannelFull:
            # The layer drops rather than queue without bound: say so, so the client resends (docs/signalling.md).
            await self.send_json(ProtocolError(
                "peer-busy", f"Peer {target!r} is not keeping up; the message was dropped. Send it again shortly.",
                seq=message["seq"], ref_type=kind,
            ).as_message())

    async def _channel_of(self, peer_id: str) -> str | None:
        """The peer's current channel: from presence events, else from the shared presence store."""
        channel = self.peer_channels.get(peer_id)
        if channel is None:
            channel = (await store().presence_of(self.appointment_id, [peer_id])).get(peer_id)
            if channel is not None:
                self.peer_channels[peer_id] = channel
        return channel

    async def _leave(self, reason: str) -> None:
        """Leave on purpose (bye, moved out, session ended): the others drop this peer at once.
        Done here rather than in disconnect(), which is not guaranteed to run."""
        if self.me is None or self.leaving:
            return
        self.leaving = True
        outage_watch().discard(self)
        await self._quietly(store().forget_presence(self.appointment_id, self.me.peer_id, self.channel_name))
        await self._quietly(self.channel_layer.group_send(self.group, {"type": "peer.left", "peer_id": self.me.peer_id, "reason": reason}))
        await self._quietly(self.channel_layer.group_discard(self.group, self.channel_name))

    async def disconnect(self, code):
        await self._unwatch_access()
        if self.me is None or self.leaving or self.gone:
            return
        self.gone = True  # also run early by the last-resort handler and on overflow: once is enough
        outage_watch().discard(self)
        await self._quietly(self.channel_layer.group_discard(self.group, self.channel_name))
        try:
            if not await store().forget_presence(self.appointment_id, self.me.peer_id, self.channel_name):
                return  # a newer connection of the same peer has taken over
            # Dropped without saying bye: keep the peer's place for the grace period.
            await store().depart(self.appointment_id, self.me.peer_id)
        except StoreUnavailable as error:
            # The others hear nothing now; their sockets treat this peer coming back within the grace
            # period as reconnected all the same, and presence is rebuilt from live sockets on recovery.
            outage_watch().report(error)
            return
        await self._quietly(self.channel_layer.group_send(self.group, {"type": "peer.disconnected", "peer_id": self.me.peer_id}))

    # --- The store going down and coming back (presence.OutageWatch) ------------------------------
    async def store_down(self):
        if self.me is not None and not self.degraded and not self.socket_closed:
            self.degraded = True
            await self.send_json({"type": "degraded", "detail": "The server cannot relay messages for a moment. "
                                  "Keep your connections; the call continues, and `recovered` follows."})

    async def store_recovered(self):
        """The store is back (perhaps empty): take presence again, tell the others who we are, ask them
        who they are, check access again (a revocation during the outage could not reach us), then tell
        the client who is here."""
        if self.me is None or self.leaving or self.socket_closed:
            return
        self.degraded = False
        try:
            await self._watch_access(self.me.user_id)
            await self.channel_layer.group_add(self.group, self.channel_name)
            await store().set_presence(self.appointment_id, self.me.peer_id, self.channel_name)
            self.epoch = await store().access_epoch(self.me.user_id)
            await self.channel_layer.group_send(self.group, {
                "type": "peer.present", "peer": self.me.__dict__, "channel": self.channel_name, "reply_to": self.channel_name,
            })
        except UNAVAILABLE as error:
            outage_watch().report(error)  # down again: the next recovery tries again
            return
        if not await self.recheck():
            return
        # The others' answers (peer.present) arrive meanwhile; give other processes time to re-announce.
        await asyncio.sleep(RECOVERY_SETTLE_SECONDS)
        if self.socket_closed or self.leaving or self.degraded:
            return
        peers = await self._peers_present()
        await self.send_json({"type": "recovered", "peers": [p.describe_to(self.me) for p in peers]})

    async def _peers_present(self) -> list[PeerInfo]:
        try:
            admitted = await _admitted_peers(self.appointment_id)
            present = await store().presence_of(self.appointment_id, [p.peer_id for p in admitted if p.peer_id != self.me.peer_id])
        except UNAVAILABLE as error:
            outage_watch().report(error)
            return []
        peers = [p for p in admitted if p.peer_id in present]
        for peer in peers:
            self.peer_channels[peer.peer_id] = present[peer.peer_id]
            self.peer_users[peer.peer_id] = peer.user_id
        return peers

    async def recheck(self) -> bool:
        if self.me is None:
            return True
        try:
            await _call_check(self.me.user_id, self.appointment_id)
        except selectors.SessionConsentMissing as error:
            await self._leave("consent-withdrawn")
            return await self._revoke(CLOSE_CONSENT_WITHDRAWN, "consent-withdrawn", error.detail)
        except (selectors.NotAdmitted, selectors.NotInProgress):
            return True  # moved out or ended: participant.moved / session.ended close this socket themselves
        except DomainError:
            await self._leave("access-revoked")
            return await self._revoke(CLOSE_ACCESS_REVOKED, "access-revoked", "You no longer have access to this session.")
        return True

    # --- Channel layer events --------------------------------------------------------------------
    async def signal_relay(self, event):
        # Never relay to someone whose access has gone: the epoch the sender read for us after the
        # message arrived (`_relay`), else read now.
        epoch = event["epoch"] if "epoch" in event and event.get("epoch_of") == self.watched_user_id else _READ
        if await self._still_allowed(epoch):
            await self.send_json(event["message"])

    def _came_back(self, peer_id: str) -> bool:
        """Whether this socket's client holds a connection to `peer_id` it should keep (and restart ICE on):
        the peer was connected, or dropped less than the grace period ago."""
        if peer_id not in self.known:
            return False
        dropped_at = self.known[peer_id]
        return dropped_at is None or time.monotonic() - dropped_at < RECONNECT_GRACE_SECONDS

    async def signal_busy(self, event):
        """A message we relayed was dropped: the peer's queue was full (backend/core/channel_layers.py)."""
        await self.send_json(ProtocolError(
            "peer-busy", f"Peer {event['to']!r} is not keeping up; the message was dropped. Send it again shortly.",
            seq=event["seq"], ref_type=event["ref_type"],
        ).as_message())

    async def channel_overflow(self, event):
        """Events for this socket piled up past the layer's bound and some were dropped (the client is
        not reading fast enough): its view of the call may be stale, so close; it reconnects and
        resynchronises from `welcome`, and the others restart ICE (`peer-reconnected`)."""
        await self.send_json({"type": "error", "code": "too-slow",
                              "detail": f"{event['dropped']} messages for you were dropped because they were not being read. Connect again."})
        await self.close(code=CLOSE_TOO_SLOW)
        await self.disconnect(CLOSE_TOO_SLOW)  # tell the others now, not when the slow client finally answers
        await self._charge(budget.COST_OVERFLOW)

    async def peer_joined(self, event):
        peer = PeerInfo(**event["peer"])
        if self.me is None or peer.peer_id == self.me.peer_id or not await self._still_allowed():
            return
        reconnected = event["reconnected"] or self._came_back(peer.peer_id)
        self.peer_channels[peer.peer_id] = event["channel"]
        self.peer_users[peer.peer_id] = peer.user_id
        self.known[peer.peer_id] = None
        message = {"type": "peer-reconnected" if reconnected else "peer-joined", "peer": peer.describe_to(self.me)}
        if reconnected:
            message["restart_ice"] = True
        await self.send_json(message)

    async def peer_present(self, event):
        """A peer re-announcing itself after the store came back. A peer the client knows is just noted;
        one it does not know (it joined during the outage) is announced. Answered once, so that the
        re-announcing socket learns of this one even if this process recovered first."""
        peer = PeerInfo(**event["peer"])
        if self.me is None or peer.peer_id == self.me.peer_id or not await self._still_allowed():
            return
        self.peer_channels[peer.peer_id] = event["channel"]
        self.peer_users[peer.peer_id] = peer.user_id
        if event.get("reply_to"):
            await self._quietly(self.channel_layer.send(event["reply_to"], {
                "type": "peer.present", "peer": self.me.__dict__, "channel": self.channel_name, "reply_to": None,
            }))
        if self.known.get(peer.peer_id, 0.0) is None:
            return  # connected throughout, as far as this socket knows
        reconnected = self._came_back(peer.peer_id)
        self.known[peer.peer_id] = None
        message = {"type": "peer-reconnected" if reconnected else "peer-joined", "peer": peer.describe_to(self.me)}
        if reconnected:
            message["restart_ice"] = True
        await self.send_json(message)

    async def peer_left(self, event):
        if self.me is None:  # a group event that reached a socket whose join did not complete
            return
        self.peer_channels.pop(event["peer_id"], None)
        self.known.pop(event["peer_id"], None)
        if event["peer_id"] != self.me.peer_id:
            await self.send_json({"type": "peer-left", "peer_id": event["peer_id"], "reason": event["reason"]})

    async def peer_disconnected(self, event):
        if self.me is None:
            return
        self.peer_channels.pop(event["peer_id"], None)
        if event["peer_id"] in self.known:
            self.known[event["peer_id"]] = time.monotonic()
        if event["peer_id"] != self.me.peer_id:
            await self.send_json({"type": "peer-disconnected", "peer_id": event["peer_id"], "grace_seconds": RECONNECT_GRACE_SECONDS})

    async def participant_moved(self, event):
        """The host put someone on hold or back in the waiting room: they leave the call."""
        if self.me is not None and event["peer_id"] == self.me.peer_id:
            await self.send_json({"type": "moved", "state": event["state"]})
            await self._leave(event["state"])
            await self.close(code=CLOSE_NOT_ADMITTED)

    async def session_ended(self, event):
        await self.send_json({"type": "session-ended"})
        await self._leave("session-ended")
        await self.close(code=CLOSE_SESSION_ENDED)


def _encodable(text: str) -> bool:
    """False for a string with a lone surrogate (valid in JSON escapes, invalid in UTF-8 and in the database)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@database_sync_to_async
def _lobby_join(user, appointment_id: int):
    return selectors.session_access_for(user, appointment_id, selectors.JOIN).role


@database_sync_to_async
def _lobby_snapshot(appointment_id: int, role: str, user_id: int) -> dict:
    snapshot = selectors.lobby_snapshot(appointment_id, role)
    me = Participant.objects.filter(appointment_id=appointment_id, user_id=user_id).first()
    snapshot["my_state"] = me.state if me else None
    snapshot["my_modality"] = me.delivered_modality if me else ""  # switching to phone is per person
    return snapshot


@database_sync_to_async
def _lobby_message(user, appointment_id: int, text: str):
    services.waiting_room_message(actor=Actor(user, via="ws"), appointment=Appointment.objects.get(pk=appointment_id), text=text)


class WaitingRoomConsumer(_SessionSocket):
    """The waiting room, live: the host sees who is waiting and sends one-way messages; the person waiting
    sees their state, when the clinician is ready, and the messages. Admitting happens over REST."""

    role: str | None = None

    async def connect(self):
        self.appointment_id = int(self.scope["url_route"]["kwargs"]["appointment_id"])
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.send_json({"type": "error", "code": "not-logged-in", "detail": "Log in, or open your link again."})
            return await self.close(code=CLOSE_NOT_LOGGED_IN)
        if not await self._quietly(self._read_epoch(user.pk)):
            return await self._try_again()
        if not await self._within_budget(user.pk):
            return
        try:
            self.role = await _lobby_join(user, self.appointment_id)
        except DomainError as error:
            await self.send_json({"type": "error", "code": "not-found", "detail": error.detail})
            return await self.close(code=CLOSE_NOT_FOUND)
        self.user = user
        self.group = lobby_group_name(self.appointment_id)
        if not (await self._quietly(self.channel_layer.group_add(self.group, self.channel_name))
                and await self._quietly(self._watch_access(user.pk))):
            self.role = None
            await self._quietly(self.channel_layer.group_discard(self.group, self.channel_name))
            await self._unwatch_access()
            return await self._try_again()
        outage_watch().add(self)
        if await self._still_allowed():
            await self.send_json(await _lobby_snapshot(self.appointment_id, self.role, user.pk))

    async def recheck(self) -> bool:
        try:
            await _lobby_check(self.user.pk, self.appointment_id)
        except DomainError:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            return await self._revoke(CLOSE_ACCESS_REVOKED, "access-revoked", "You no longer have access to this session.")
        return True

    async def receive_json(self, content, **kwargs):
        if self.role is None or not await self._still_allowed():
            return
        text = content.get("text") if isinstance(content, dict) else None
        if not isinstance(content, dict) or content.get("type") != "message" or not isinstance(text, str) or not _encodable(text):
            return await self.send_json({"type": "error", "code": "unknown-type", "detail": "Send {\"type\": \"message\", \"text\": \"...\"}."})
        try:
            await _lobby_message(self.user, self.appointment_id, content["text"])
        except DomainError as error:
            await self.send_json({"type": "error", "code": error.code, "detail": error.detail})

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or len(text_data) > WAITING_ROOM_MAX_CHARS:
            return await self.send_json({"type": "error", "code": "too-large", "detail": "Messages are short text."})
        try:
            content = load_message(text_data)  # bounded in size and depth before parsing
        except ProtocolError as error:
            await self.send_json(error.as_message())
            verdict = await self._charge(budget.COST_ERROR)
            if verdict is not None and verdict.refused:
                await self._refuse_budget(verdict)
            return
        await self.receive_json(content)

    async def disconnect(self, code):
        outage_watch().discard(self)
        await self._unwatch_access()
        if self.role is not None:
            await self._quietly(self.channel_layer.group_discard(self.group, self.channel_name))

    async def lobby_changed(self, event):
        if await self._still_allowed():
            await self.send_json(await _lobby_snapshot(self.appointment_id, self.role, self.user.pk))

    async def lobby_message(self, event):
        if await self._still_allowed():  # never pass the host's words to someone whose access has gone
            await self.send_json({"type": "message", "text": event["text"], "sent_at": event["sent_at"]})


class ConnectionTestConsumer(_SessionSocket):
    """A test call against a server-side peer that echoes the person's media (connection_test.py).

    Protocol: the server sends `welcome` (ICE servers, time limit); the page sends one `offer` with
    its ICE candidates gathered; the server answers with `answer`, then sends `received` for each
    kind of media (audio, video) when its first frame arrives. Capped per process; closed when the
    page goes away or the time limit passes.
    """

    active = 0  # peers open in this process

    peer: EchoPeer | None = None

    async def connect(self):
        self.counted = False
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.send_json({"type": "error", "code": "not-logged-in", "detail": "Log in to test your connection."})
            return await self.close(code=CLOSE_NOT_LOGGED_IN)
        if ConnectionTestConsumer.active >= settings.CONNECTION_TEST_MAX_PEERS:
            await self.send_json({"type": "error", "code": "busy",
                                  "detail": "The test is busy. Try again in a minute; your appointment can still go ahead, or by phone."})
            return await self.close(code=CLOSE_BUSY)
        ConnectionTestConsumer.active += 1
        self.counted = True
        self.user = user
        self.deadline = asyncio.get_running_loop().call_later(settings.CONNECTION_TEST_SECONDS, lambda: asyncio.ensure_future(self._expire()))
        await self.send_json({"type": "welcome", "ice_servers": ice_servers_for(f"test-u{user.pk}"), "max_seconds": settings.CONNECTION_TEST_SECONDS})

    async def receive(self, text_data=None, bytes_data=None):
        if not self.counted:
            return
        try:
            message = load_message(text_data)  # bounded in size and depth before parsing
            if message.get("type") != "offer" or not isinstance(message.get("sdp"), str) or not _encodable(message["sdp"]):
                raise ProtocolError("unknown-type", "Send one {\"type\": \"offer\", \"sdp\": \"...\"}.")
            if self.peer is not None:
                raise ProtocolError("already-started", "This test call has already started.")
            validate_sdp(message["sdp"], "offer", None)
        except ProtocolError as error:
            return await self.send_json(error.as_message())
        self.peer = EchoPeer(ice_servers_for(f"test-u{self.user.pk}"), self._first_frame)
        answer = await self.peer.answer(message["sdp"])
        await self.send_json({"type": "answer", "sdp": answer})

    def _first_frame(self, kind: str) -> None:
        asyncio.ensure_future(self.send_json({"type": "received", "kind": kind}))

    async def _expire(self):
        await self.send_json({"type": "error", "code": "time-up", "detail": "The test has finished."})
        await self.close(code=1000)
        await self._clean_up()

    async def _clean_up(self):
        if self.peer is not None:
            peer, self.peer = self.peer, None
            await peer.close()
        if self.counted:
            self.counted = False
            ConnectionTestConsumer.active -= 1
            self.deadline.cancel()

    async def disconnect(self, code):
        await self._clean_up()
