"""Join-link authentication: a browser that opened a join link may act as that person, for that one
session's endpoints only (REST calls whose URL names the appointment, and its sockets)."""

from channels.db import database_sync_to_async
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from channels.middleware import BaseMiddleware
from rest_framework.authentication import SessionAuthentication

from backend.sessions.selectors import grant_user

SESSION_KEY = "rapport_join_grant"


class JoinGrantAuthentication(SessionAuthentication):
    """Authenticates from the browser session's join grant, only where the URL's appointment_id is the
    grant's. CSRF is enforced as for any session-authenticated request."""

    def authenticate(self, request):
        kwargs = (request.parser_context or {}).get("kwargs", {})
        appointment_id = kwargs.get("appointment_id")
        session = getattr(request._request, "session", None)
        if appointment_id is None or session is None:
            return None
        user = grant_user(session.get(SESSION_KEY), int(appointment_id))
        if user is None:
            return None
        self.enforce_csrf(request)
        return user, None


@database_sync_to_async
def _grant_user(session, appointment_id):
    return grant_user(session.get(SESSION_KEY), appointment_id)


class JoinGrantWebsocketMiddleware(BaseMiddleware):
    """For session sockets: a browser without a login but with a join grant for this appointment
    connects as the grant's person."""

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        appointment_id = scope.get("url_route", {}).get("kwargs", {}).get("appointment_id")
        if ((user is None or not user.is_authenticated) and appointment_id is not None and "session" in scope
                and scope["session"].session_key is not None):  # no cookie, no grant: no trip to the database thread
            granted = await _grant_user(scope["session"], int(appointment_id))
            if granted is not None:
                scope = {**scope, "user": granted}
        return await super().__call__(scope, receive, send)


class JoinGrantScheme(OpenApiAuthenticationExtension):
    """Documents join-link authentication in the OpenAPI schema: the same session cookie as the pages,
    valid only for the one session the link was for."""

    target_class = "backend.sessions.authentication.JoinGrantAuthentication"
    name = "joinLinkSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey", "in": "cookie", "name": "sessionid",
            "description": "A browser session that opened a join link (/join/<token>/): valid only for that session's endpoints.",
        }
