"""ASGI entry point: HTTP goes to Django, WebSockets to Channels consumers (backend/routing.py), and the
server's start and stop (lifespan) to the embedded message worker (backend/messaging/embedded.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
django_http = get_asgi_application()  # before importing consumers, so apps are ready

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from backend.accounts.ws_auth import AuthMiddlewareStack, TokenAuthMiddleware  # noqa: E402
from backend.messaging.embedded import lifespan  # noqa: E402
from backend.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_http,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))),
        "lifespan": lifespan,
    }
)
