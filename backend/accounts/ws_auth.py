"""WebSocket authentication by API token, for clients that are not browsers.

Browsers are authenticated by their session cookie (Channels' AuthMiddlewareStack); other clients
send the same header as the REST API, `Authorization: Token <token>`, on the WebSocket handshake.
"""

from channels.db import DatabaseSyncToAsync
from channels.middleware import BaseMiddleware
from rest_framework.exceptions import AuthenticationFailed

from backend.accounts.authentication import TokenAuthentication


def _user_for_token(token: bytes):
    try:
        user, _ = TokenAuthentication().authenticate_credentials(token)
    except AuthenticationFailed:
        return None
    return user


# One query (the token with its user), the same class as the REST API. A read that needs no other
# work's order: off Django's one shared thread, so a storm of handshakes runs in parallel with the rest.
_user_for = DatabaseSyncToAsync(_user_for_token, thread_sensitive=False)


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        for name, value in scope.get("headers", []):
            if name == b"authorization" and value.lower().startswith(b"token "):
                user = await _user_for(value.split(b" ", 1)[1].strip())
                if user is not None:
                    scope = {**scope, "user": user}
                break
        return await super().__call__(scope, receive, send)
