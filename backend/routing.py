"""WebSocket routes from every app. backend/ is the only place that knows every app."""

from django.urls import path

from backend.sessions.consumers import SessionSignallingConsumer

websocket_urlpatterns = [
    path("ws/sessions/<int:appointment_id>/", SessionSignallingConsumer.as_asgi()),
]
