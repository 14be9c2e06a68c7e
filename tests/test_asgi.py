"""The ASGI application: HTTP through Django, WebSockets through Channels (routes arrive with the sessions issue)."""

import pytest
from channels.testing import HttpCommunicator, WebsocketCommunicator

from backend.asgi import application


@pytest.mark.django_db(transaction=True)
async def test_http_is_served_through_the_asgi_application():
    communicator = HttpCommunicator(application, "GET", "/login/", headers=[(b"host", b"127.0.0.1")])
    # The first request in a process loads every app's URLs and templates: give a busy 2-core host time.
    response = await communicator.get_response(timeout=20)
    assert response["status"] == 200 and b"Log in to Rapport" in response["body"]


async def test_a_websocket_to_an_unknown_path_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/nothing-here/", headers=[(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")])
    with pytest.raises(ValueError, match="No route found"):
        await communicator.connect()


async def test_a_websocket_from_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/nothing-here/", headers=[(b"host", b"127.0.0.1"), (b"origin", b"https://evil.example")])
    connected, _ = await communicator.connect()
    assert connected is False
    await communicator.disconnect()
