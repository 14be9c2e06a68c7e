"""The risk-flag socket while Redis is down (issue 12): a new socket used to get an HTTP 500 at the
handshake, because Channels subscribes the consumer's channel before it; now it is told to try again
(`error` `try-again`, close 1013), as the session sockets are (tests/sessions/test_presence_store.py)."""

import copy

import pytest
from channels.db import database_sync_to_async

from tests.factories import build_world
from tests.live_server import free_port
from tests.websockets import closed_with, open_socket


@pytest.mark.django_db(transaction=True)
async def test_a_new_risk_flag_socket_while_redis_is_down_is_told_to_try_again(settings):
    world = await database_sync_to_async(build_world)()
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: Redis is down
    settings.REDIS_URL = down
    # The channel layer too (Channels rebuilds its layers when CHANNEL_LAYERS changes): this socket's
    # first Redis call is the channel subscription Channels makes before the handshake.
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["hosts"] = [down]
    settings.CHANNEL_LAYERS = layers
    socket = await open_socket("/ws/risk-flags/", world.clinician)  # asserts the handshake completed
    refused = await socket.receive_json_from(timeout=5)
    assert refused["type"] == "error" and refused["code"] == "try-again", refused
    assert await closed_with(socket) == 1013
