"""Rapport's client for Janus (the VideoRoom plugin), used from the server side only.

How Janus is made to accept an attendee for one room, for a short time, and nobody else:
- Janus runs with `token_auth = true` and `token_auth_secret` (JANUS_TOKEN_SECRET): every request to Janus
  carries a token Rapport signed with HMAC-SHA1, in Janus's signed-token format
  `<expiry>,janus,janus.plugin.videoroom,<nonce>:<base64 signature>`. Janus itself checks the signature and the
  expiry on every request (src/auth.c), so an expired or forged token is refused by Janus, not by Rapport.
- Each room is created with an `allowed` list (VideoRoom's ACL) and `require_pvtid`: only a token in the room's
  list can join it as a publisher, and subscribing needs the private id a publisher received on joining. A token
  minted for one room is valid at Janus's door but not in another room's list, so it is refused there.
- Rooms can only be created with the VideoRoom `admin_key` (JANUS_ADMIN_KEY), and each room has a secret derived
  from that key and the room id (needed for `allowed`, `kick`, `moderate`, `destroy`). Neither is ever sent to a
  browser: browsers get only their own signed token, their room id and their own feed id.
- Removing an attendee takes their token out of the room's list and kicks their feed; a sweep kicks any feed
  Rapport did not assign (someone who joined with a token under another id).

Why signed tokens and not stored tokens (`add_token` on the Admin API): a signed token's expiry is enforced by
Janus without Rapport having to remember to remove it, survives nothing on a Janus restart that Rapport must
replay, and needs no Admin API access from Rapport at all.

Each configured server in JANUS_SERVERS is `internal_url` or `internal_url|public_url` (the public URL is what
browsers use when Janus sits behind the reverse proxy). A room's server is chosen from the list by a hash of the
room id, so the choice is stable for the room while the list stays the same; Rapport also stores it on the room.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings

PLUGIN = "janus.plugin.videoroom"
TIMEOUT_SECONDS = 5
ERROR_NO_SUCH_ROOM = 426
ERROR_ROOM_EXISTS = 427
ERROR_NO_SUCH_FEED = 428


class JanusUnavailable(Exception):
    """No Janus server answered (down, not configured, or refused Rapport's own credentials)."""


class JanusError(Exception):
    """Janus answered with an error."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class JanusServer:
    url: str  # the Janus API as Rapport's server reaches it
    public_url: str  # the Janus API as browsers reach it


def configured_servers() -> list[JanusServer]:
    servers = []
    for entry in settings.JANUS_SERVERS:
        internal, _, public = entry.partition("|")
        servers.append(JanusServer(url=internal.strip().rstrip("/"), public_url=(public or internal).strip().rstrip("/")))
    return servers


def available() -> bool:
    """Whether this Rapport has any Janus server configured (groups are offered only then)."""
    return bool(settings.JANUS_SERVERS and settings.JANUS_TOKEN_SECRET and settings.JANUS_ADMIN_KEY)


def server_for_room(room_id: int) -> JanusServer:
    """The configured server for this room: stable for a room while JANUS_SERVERS stays the same."""
    servers = configured_servers()
    if not servers:
        raise JanusUnavailable("JANUS_SERVERS is empty")
    digest = hashlib.sha256(str(room_id).encode()).digest()
    return servers[int.from_bytes(digest[:8], "big") % len(servers)]


def new_room_id() -> int:
    """A random room id below 2**52 (JavaScript numbers hold it exactly)."""
    return secrets.randbelow(2**52 - 1) + 1


def new_feed_id() -> int:
    return secrets.randbelow(2**52 - 1) + 1


def facilitator_feed_id(room_id: int, user_id: int) -> int:
    """A facilitator's participant id in a room: derived (not stored) from the admin key, the room and the user,
    so it is the same on every rejoin and unguessable from outside."""
    digest = hmac.new(settings.JANUS_ADMIN_KEY.encode(), f"facilitator:{room_id}:{user_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % (2**52 - 1) + 1


def server_answers(*, room_id: int) -> bool:
    """Whether the room's Janus server answers at all (GET /info, no credentials; one short try). For pages that
    must say "call instead" before anyone presses a button."""
    try:
        server = server_for_room(room_id)
    except JanusUnavailable:
        return False
    request = urllib.request.Request(f"{server.url}/info")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - configured URL
            return json.load(response).get("janus") == "server_info"
    except (OSError, urllib.error.URLError, ValueError):
        return False


def room_secret(room_id: int) -> str:
    """The room's secret, derived from the VideoRoom admin key; never leaves the server."""
    return hmac.new(settings.JANUS_ADMIN_KEY.encode(), f"room:{room_id}".encode(), hashlib.sha256).hexdigest()


def sign_token(*, expires_at: int, secret: str | None = None) -> str:
    """A Janus signed token for the VideoRoom plugin, valid until `expires_at` (Unix seconds).

    A random nonce makes every token distinct, so a room's `allowed` list names exactly one attendee's token."""
    data = f"{int(expires_at)},janus,{PLUGIN},n{secrets.token_hex(12)}"
    key = (secret if secret is not None else settings.JANUS_TOKEN_SECRET).encode()
    signature = base64.b64encode(hmac.new(key, data.encode(), hashlib.sha1).digest()).decode()
    return f"{data}:{signature}"


def token_expiry(token: str) -> int:
    return int(token.split(",", 1)[0])


def _post(url: str, body: dict) -> dict:
    body = {**body, "transaction": secrets.token_hex(8)}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - configured URL
            return json.load(response)
    except (OSError, urllib.error.URLError, ValueError) as error:
        raise JanusUnavailable(f"{url}: {error}") from error


class VideoRoomAdmin:
    """One short Janus session with a VideoRoom handle, for Rapport's own requests. Use as a context manager."""

    def __init__(self, server: JanusServer):
        self.server = server
        self.token = sign_token(expires_at=int(time.time()) + 120)
        self.session_url = ""
        self.handle_url = ""

    def __enter__(self) -> VideoRoomAdmin:
        created = _post(self.server.url, {"janus": "create", "token": self.token})
        if created.get("janus") != "success":
            raise JanusUnavailable(f"Janus refused Rapport's session: {created.get('error')}")
        self.session_url = f"{self.server.url}/{created['data']['id']}"
        attached = _post(self.session_url, {"janus": "attach", "plugin": PLUGIN, "token": self.token})
        if attached.get("janus") != "success":
            raise JanusUnavailable(f"Janus refused Rapport's handle: {attached.get('error')}")
        self.handle_url = f"{self.session_url}/{attached['data']['id']}"
        return self

    def __exit__(self, *exc) -> None:
        try:
            _post(self.session_url, {"janus": "destroy", "token": self.token})
        except JanusUnavailable:
            pass

    def request(self, body: dict) -> dict:
        answer = _post(self.handle_url, {"janus": "message", "token": self.token, "body": body})
        if answer.get("janus") == "error":
            raise JanusError(answer["error"]["code"], answer["error"]["reason"])
        data = answer.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise JanusError(data["error_code"], data.get("error", ""))
        return data


def room_ensure(*, room_id: int, description: str, publishers: int, allowed: list[str]) -> JanusServer:
    """Create the room on its server (again, after a Janus restart) with this allowed list; idempotent."""
    server = server_for_room(room_id)
    with VideoRoomAdmin(server) as admin:
        try:
            admin.request({
                "request": "create", "room": room_id, "admin_key": settings.JANUS_ADMIN_KEY,
                "secret": room_secret(room_id), "description": description[:100], "is_private": True,
                "publishers": publishers, "allowed": allowed, "require_pvtid": True, "permanent": False,
                "notify_joining": True, "fir_freq": 5, "audiocodec": "opus", "videocodec": "vp8", "bitrate": 256000,
                "lock_record": True,
            })
        except JanusError as error:
            if error.code != ERROR_ROOM_EXISTS:
                raise
            if allowed:
                admin.request({"request": "allowed", "room": room_id, "secret": room_secret(room_id), "action": "add", "allowed": allowed})
    return server


def room_prepare_join(*, room_id: int, description: str, publishers: int, tokens: list[str], kick_feed_ids: list[int]) -> JanusServer:
    """Before a (re)join: the room exists (recreated after a Janus restart) with these tokens on its list, and any
    stale participant with the joiner's own feed id (a reloaded page, a dropped connection Janus has not noticed
    yet) is kicked, so the rejoin is not refused as "ID already exists". One Janus session for all of it."""
    server = server_for_room(room_id)
    with VideoRoomAdmin(server) as admin:
        try:
            admin.request({
                "request": "create", "room": room_id, "admin_key": settings.JANUS_ADMIN_KEY,
                "secret": room_secret(room_id), "description": description[:100], "is_private": True,
                "publishers": publishers, "allowed": tokens, "require_pvtid": True, "permanent": False,
                "notify_joining": True, "fir_freq": 5, "audiocodec": "opus", "videocodec": "vp8", "bitrate": 256000,
                "lock_record": True,
            })
        except JanusError as error:
            if error.code != ERROR_ROOM_EXISTS:
                raise
            for feed_id in kick_feed_ids:
                try:
                    admin.request({"request": "kick", "room": room_id, "secret": room_secret(room_id), "id": feed_id})
                except JanusError as kick_error:
                    if kick_error.code != ERROR_NO_SUCH_FEED:
                        raise
            if tokens:
                admin.request({"request": "allowed", "room": room_id, "secret": room_secret(room_id), "action": "add", "allowed": tokens})
    return server


def room_exists(*, room_id: int) -> bool:
    with VideoRoomAdmin(server_for_room(room_id)) as admin:
        return bool(admin.request({"request": "exists", "room": room_id}).get("exists"))


def room_allow(*, room_id: int, tokens: list[str]) -> None:
    with VideoRoomAdmin(server_for_room(room_id)) as admin:
        admin.request({"request": "allowed", "room": room_id, "secret": room_secret(room_id), "action": "add", "allowed": tokens})


def room_participants(*, room_id: int) -> list[dict]:
    with VideoRoomAdmin(server_for_room(room_id)) as admin:
        return admin.request({"request": "listparticipants", "room": room_id}).get("participants", [])


def room_remove(*, room_id: int, tokens: list[str], feed_ids: list[int]) -> None:
    """Take these tokens out of the room's list (they can no longer join) and kick these feeds."""
    with VideoRoomAdmin(server_for_room(room_id)) as admin:
        if tokens:
            admin.request({"request": "allowed", "room": room_id, "secret": room_secret(room_id), "action": "remove", "allowed": tokens})
        for feed_id in feed_ids:
            try:
                admin.request({"request": "kick", "room": room_id, "secret": room_secret(room_id), "id": feed_id})
            except JanusError as error:
                if error.code != ERROR_NO_SUCH_FEED:  # not in the room right now: nothing to kick
                    raise


def room_sweep(*, room_id: int, assigned_feed_ids: set[int]) -> list[int]:
    """Kick every participant whose feed id Rapport did not assign to an admitted attendee. Returns those kicked."""
    with VideoRoomAdmin(server_for_room(room_id)) as admin:
        participants = admin.request({"request": "listparticipants", "room": room_id}).get("participants", [])
        strays = [p["id"] for p in participants if p["id"] not in assigned_feed_ids]
        for feed_id in strays:
            try:
                admin.request({"request": "kick", "room": room_id, "secret": room_secret(room_id), "id": feed_id})
            except JanusError as error:
                if error.code != ERROR_NO_SUCH_FEED:
                    raise
    return strays


def room_mute_all(*, room_id: int, feed_ids: list[int], except_feed_ids: set[int] = frozenset(), mute: bool = True) -> None:
    """Moderate (mute) the audio of these feeds. Rapport's clients publish audio first, as mid "0"."""
    with VideoRoomAdmin(server_for_room(room_id)) as admin:
        for feed_id in feed_ids:
            if feed_id in except_feed_ids:
                continue
            try:
                admin.request({"request": "moderate", "room": room_id, "secret": room_secret(room_id), "id": feed_id, "mid": "0", "mute": mute})
            except JanusError as error:
                if error.code != ERROR_NO_SUCH_FEED:
                    raise


def room_destroy(*, room_id: int) -> None:
    """Close the room: Janus tells every participant it is gone and drops their media."""
    with VideoRoomAdmin(server_for_room(room_id)) as admin:
        try:
            admin.request({"request": "destroy", "room": room_id, "secret": room_secret(room_id), "permanent": False})
        except JanusError as error:
            if error.code != ERROR_NO_SUCH_ROOM:
                raise
