"""WebSocket authentication by API token, for clients that are not browsers.

Browsers are authenticated by their session cookie (Channels' AuthMiddlewareStack); other clients
send the same header as the REST API, `Authorization: Token <token>`, on the WebSocket handshake.
"""

from channels.middleware import BaseMiddleware
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
