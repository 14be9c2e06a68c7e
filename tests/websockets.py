"""Opening the app's WebSockets in process, through the whole ASGI stack (origin check, token
authentication, routing) and the Redis channel layer."""

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from backend.accounts.services import api_token_issue
from backend.asgi import application
from backend.audit.actor import Actor


@database_sync_to_async
def token_for(user) -> str:
    return api_token_issue(actor=Actor(user), user=user)[0]


async def open_socket(path: str, user=None) -> WebsocketCommunicator:
    """Connect to `path` as `user` (with an API token), or anonymously when `user` is None."""
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    if user is not None:
        headers.append((b"authorization", f"Token {await token_for(user)}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def closed_with(communicator) -> int:
    """The close code the server ends with, skipping any messages before it."""
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return output["code"]
