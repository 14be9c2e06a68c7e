"""WebSocket authentication by API token, for clients that are not browsers.

Browsers are authenticated by their session cookie (Channels' AuthMiddlewareStack); other clients
send the same header as the REST API, `Authorization: Token <token>`, on the WebSocket handshake.
"""

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


@database_sync_to_async
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
