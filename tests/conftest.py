"""Shared fixtures. The suite runs only on the real parts: PostgreSQL and Redis (see `make test`)."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import Elsewhere, World, build_elsewhere, build_world


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine or not settings.REDIS_URL:
        raise pytest.UsageError(
            "Rapport's tests run against PostgreSQL and Redis, not the embedded defaults. "
            "Run them with `make test`, or set DATABASE_URL (postgres://...) and REDIS_URL (redis://...)."
        )


@pytest.fixture(autouse=True)
def _clean_cache():
    """Each test starts with an empty Redis cache (login throttles live there too)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets a new channel layer object: a Redis layer's locks belong to the event loop that
    made them, and every async test has its own loop."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def elsewhere(world) -> Elsewhere:
    """A second organisation beside the world's."""
    return build_elsewhere()


@pytest.fixture
def api():
    """An API client factory: api(user) is logged in with a real token; api() is anonymous. Every
    answer whose status the OpenAPI schema documents is checked against the schema (tests/schema_check.py)."""
    from tests.schema_check import SchemaCheckedClient

    def make(user=None) -> APIClient:
        client = SchemaCheckedClient()
        if user is not None:
            from backend.accounts.services import api_token_issue
            from backend.audit.actor import Actor

            token, _ = api_token_issue(actor=Actor(user, via="test"), user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


@pytest.fixture(scope="session")
def _mail_server():
    from tests.mail_server import MailServer

    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_server(_mail_server, settings):
    """A real SMTP server on loopback that Rapport sends this test's email to (tests/mail_server.py)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _mail_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    _mail_server.clear()
    yield _mail_server
    _mail_server.clear()


@pytest.fixture(scope="session")
def _janus(tmp_path_factory):
    """Debian's janus on 127.0.0.1 with the tests' own configuration (tests/janus_server.py); stopped afterwards."""
    from tests.janus_server import JanusServer

    server = JanusServer(tmp_path_factory.mktemp("janus"))
    try:
        server.start()
    except RuntimeError as error:
        pytest.fail(f"Janus could not start: {error}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def janus(_janus, settings):
    """Rapport configured for the tests' Janus (JANUS_SERVERS and its secrets); restarted if a test stopped it."""
    if _janus.process is None or _janus.process.poll() is not None or not _janus.answers():
        _janus.start()
    settings.JANUS_SERVERS = [_janus.url]
    settings.JANUS_TOKEN_SECRET = _janus.token_secret
    settings.JANUS_ADMIN_KEY = _janus.admin_key
    yield _janus
