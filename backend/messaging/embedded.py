"""The message worker inside the server process, for the embedded setup only (SQLite, in-memory queue:
`make run`). The ASGI lifespan starts it with the server: first every message the records say is still
queued or sending is put back on the (new, empty) queue, so a restart loses nothing the record holds;
then procrastinate's worker runs as a task of the server's event loop until the server stops.

With PostgreSQL this does nothing: messages are sent by separate `manage.py messaging_worker` processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from asgiref.sync import sync_to_async
from django.conf import settings

log = logging.getLogger(__name__)


async def _run_worker() -> None:
    from backend.messaging import queue, services

    requeued = await sync_to_async(services.messages_requeue)()
    log.info("Messages: the in-memory queue started in this process; %s message(s) put back on it from the records", requeued)
    await queue.app().run_worker_async(queues=[queue.QUEUE], concurrency=2, install_signal_handlers=False, wait=True,
                                       delete_jobs="successful")


async def lifespan(scope, receive, send) -> None:
    """The ASGI lifespan protocol: start the embedded worker at startup, stop it at shutdown."""
    worker: asyncio.Task | None = None
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            if settings.QUEUE_IN_MEMORY:
                worker = asyncio.create_task(_run_worker())
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker
            await send({"type": "lifespan.shutdown.complete"})
            return
