"""API token authentication: django-rest-knox's, one database round trip per request."""

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.signals import token_expired


class TokenAuthentication(auth.TokenAuthentication):
    """knox's TokenAuthentication without its sweep of the user's other tokens on every request (one
    more query each time, for rows nobody can use). An expired token is still refused and deleted
    when it is presented; the user's other expired tokens are deleted when they next log in
    (`api_token_issue`)."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class TokenScheme(KnoxTokenScheme):
    """Documents this class in the OpenAPI schema exactly as drf-spectacular documents knox's."""

    target_class = "backend.accounts.authentication.TokenAuthentication"
