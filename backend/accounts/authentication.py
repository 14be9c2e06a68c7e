"""API token authentication: django-rest-knox's, one database round trip per request."""

import binascii
from hmac import compare_digest

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions

from backend.core.compiled import CompiledQuery


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _tokens_query(shape, token_key: str):
    token_model = get_token_model()
    user_fields = _columns(token_model.user.field.related_model)
    columns = [*_columns(token_model), *(f"user__{f}" for f in user_fields)]
    return token_model.objects.filter(token_key=token_key).values_list(*columns)


# knox's own query (the tokens with this key, each with its user), built once per process and run as
# its SQL (backend/core/compiled.py): building and compiling it through the ORM on every request cost
# more CPU than checking the token. Nothing is cached but the SQL text: every request reads the rows.
_TOKENS = CompiledQuery(_tokens_query)


def tokens_with_key(token_key: str) -> list:
    """The tokens whose key is `token_key`, each with its user, as knox's `filter(...).select_related("user")`."""
    token_model = get_token_model()
    user_model = token_model.user.field.related_model
    token_fields, user_fields = _columns(token_model), _columns(user_model)
    tokens = []
    for row in _TOKENS.rows((), token_key=token_key):
        token = token_model.from_db("default", token_fields, row[: len(token_fields)])
        token_model.user.field.set_cached_value(token, user_model.from_db("default", user_fields, row[len(token_fields):]))
        tokens.append(token)
    return tokens


class TokenAuthentication(auth.TokenAuthentication):
    """knox's TokenAuthentication without its sweep of the user's other tokens on every request (one
    more query each time, for rows nobody can use), and with its query compiled once per process. An
    expired token is still refused and deleted when it is presented; the user's other expired tokens
    are deleted when they next log in (`api_token_issue`)."""

    def authenticate_credentials(self, token):
        """knox's, line for line, but for where the tokens come from (`tokens_with_key`)."""
        msg = _("Invalid token.")
        token = token.decode("utf-8")
        for auth_token in tokens_with_key(token[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(msg)
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(msg)

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
