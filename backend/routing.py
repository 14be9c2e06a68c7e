"""WebSocket routes from every app. backend/ is the only place that knows every app."""

from django.urls import path

from backend.outcomes.consumers import RiskFlagConsumer
from backend.sessions.authentication import JoinGrantWebsocketMiddleware
from backend.sessions.consumers import ConnectionTestConsumer, SessionSignallingConsumer, WaitingRoomConsumer

websocket_urlpatterns = [
    path("ws/sessions/<int:appointment_id>/", JoinGrantWebsocketMiddleware(SessionSignallingConsumer.as_asgi())),
    path("ws/sessions/<int:appointment_id>/waiting-room/", JoinGrantWebsocketMiddleware(WaitingRoomConsumer.as_asgi())),
    path("ws/connection-test/", ConnectionTestConsumer.as_asgi()),
    path("ws/risk-flags/", RiskFlagConsumer.as_asgi()),
]
