"""ICE servers for a participant: STUN, and TURN with time-limited credentials in coturn's
shared-secret format (the "TURN REST API": username `<expiry unix time>:<id>`, password
base64(HMAC-SHA1(static-auth-secret, username)))."""

import base64
import hashlib
import hmac
import time

from django.conf import settings


def turn_credentials(identity: str, *, secret: str, ttl_seconds: int, now: float | None = None) -> tuple[str, str]:
    expiry = int((now if now is not None else time.time()) + ttl_seconds)
    username = f"{expiry}:{identity}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def ice_servers_for(identity: str) -> list[dict]:
    """The RTCIceServer list for one participant. Empty when none are configured (loopback tests)."""
    servers = []
    if settings.STUN_URLS:
        servers.append({"urls": list(settings.STUN_URLS)})
    if settings.TURN_URLS:
        username, credential = turn_credentials(identity, secret=settings.TURN_SECRET, ttl_seconds=settings.TURN_TTL_SECONDS)
        servers.append({"urls": list(settings.TURN_URLS), "username": username, "credential": credential})
    return servers
