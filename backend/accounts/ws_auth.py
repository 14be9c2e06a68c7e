"""WebSocket authentication by API token, for clients that are not browsers.

Browsers are authenticated by their session cookie (Channels' AuthMiddlewareStack); other clients
send the same header as the REST API, `Authorization: Token <token>`, on the WebSocket handshake.
"""

from channels.auth import AuthMiddleware
from channels.middleware import BaseMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed

from backend.accounts.authentication import TokenAuthentication
from backend.core.db_reads import db_read


# One query (the token with its user), the same class as the REST API, in the socket read threads
# (backend/core/db_reads.py), so a storm of handshakes runs beside requests instead of behind them.
@db_read
def _user_for(token: bytes):
    try:
        user, _ = TokenAuthentication().authenticate_credentials(token)
    except AuthenticationFailed:
        return None
    return user


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        for name, value in scope.get("headers", []):
            if name == b"authorization" and value.lower().startswith(b"token "):
                user = await _user_for(value.split(b" ", 1)[1].strip())
                if user is not None:
                    scope = {**scope, "user": user}
                break
        return await super().__call__(scope, receive, send)


class SessionAuthMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware, except that a handshake without a session cookie (an app or a script
    authenticating with its token, or nobody) is anonymous at once: Channels' own hops to Django's one
    shared database thread for every handshake, even with no session to look up (issue 12, "join storm")."""

    async def resolve_scope(self, scope):
        if scope["session"].session_key is None:
            scope["user"]._wrapped = AnonymousUser()
        else:
            await super().resolve_scope(scope)


def AuthMiddlewareStack(inner):  # noqa: N802 - as Channels names it
    """Channels' AuthMiddlewareStack with SessionAuthMiddleware."""
    return CookieMiddleware(SessionMiddleware(SessionAuthMiddleware(inner)))
