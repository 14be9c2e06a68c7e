"""Database reads from async code (the WebSockets), off Django's one shared thread.

`database_sync_to_async` runs everything on one thread (thread_sensitive), so a storm of socket
handshakes queues behind itself and behind every request. Reads need no ordering with other work, so
they run here instead: in SOCKET_READ_THREADS threads of their own. Two, not more: ORM work holds the
GIL, and more threads would starve the event loop that relays everyone's messages. Each read hands its
connection back when it finishes (to the pool with DATABASE_POOL_MAX_SIZE, else closed), so no thread
holds one between reads (issue 12, "join storm"; docs/performance.md).
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync
from django.db import connections

SOCKET_READ_THREADS = 2
_threads = ThreadPoolExecutor(max_workers=SOCKET_READ_THREADS, thread_name_prefix="db-reads")


def db_read(function):
    """Decorate a read-only database function for async callers: `await function(...)` runs it in the read threads."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return DatabaseSyncToAsync(run, thread_sensitive=False, executor=_threads)
