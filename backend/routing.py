"""WebSocket routes from every app. The sessions and outcomes issues add their consumers here."""

websocket_urlpatterns: list = []
