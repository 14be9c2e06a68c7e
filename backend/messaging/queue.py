"""The durable job queue behind messages: procrastinate, through its Django integration.

With PostgreSQL (production, the tests), jobs are rows in procrastinate's tables, written through
Django's own connection, so `send_defer` inside a booking's transaction commits or rolls back with it.
Workers are separate processes (`manage.py messaging_worker`), and survive nothing but need nothing:
a job whose worker died is found by its missing heartbeat and run again (tasks.retry_stalled_jobs).

With the embedded SQLite database (`make run` without DATABASE_URL) procrastinate's PostgreSQL functions
cannot exist: the queue is in memory (procrastinate's InMemoryConnector), run by a worker inside the one
server process (backend/asgi.py), and refilled from the Message records when it starts.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)

QUEUE = "messages"


def app():
    from procrastinate.contrib.django import app as procrastinate_app

    return procrastinate_app


def use_in_memory_connector() -> None:
    """Called once at start-up (MessagingConfig.ready) when the database is not PostgreSQL."""
    from procrastinate import testing
    from procrastinate.contrib.django import procrastinate_app

    connector = testing.InMemoryConnector()
    current = procrastinate_app.current_app
    current.connector = connector
    current.job_manager.connector = connector


def message_lock(message_id: int) -> str:
    return f"message-{message_id}"


def send_defer(message_id: int, send_after: datetime, *, replace: bool = False) -> bool:
    """Defer the send job for one message at `send_after`. On PostgreSQL it joins the caller's transaction.
    At most one waiting job per message (queueing lock), and never two running (lock): a second defer
    while one waits is a no-op (False). `replace` is for the job itself, deferring its message again."""
    from backend.messaging.tasks import send_message

    def defer() -> bool:
        from procrastinate.exceptions import AlreadyEnqueued

        lock = message_lock(message_id)
        try:
            with transaction.atomic():  # a savepoint: a refused defer must not spoil the caller's transaction
                send_message.configure(schedule_at=send_after, lock=lock, queueing_lock=None if replace else lock).defer(
                    message_id=message_id,
                )
        except AlreadyEnqueued:
            return False
        return True

    if settings.QUEUE_IN_MEMORY:
        transaction.on_commit(defer)  # the in-memory queue cannot roll back: defer once the row exists
        return True
    return defer()


def stalled_jobs_retry() -> int:
    """Put back on the queue every job whose worker stopped sending heartbeats (killed mid-job). The
    periodic task runs this every minute; tests run it directly after moving the heartbeat back."""
    from asgiref.sync import async_to_sync

    return async_to_sync(stalled_jobs_retry_async)()


async def stalled_jobs_retry_async() -> int:
    manager = app().job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=settings.MESSAGE_STALLED_SECONDS)
    for job in stalled:
        log.warning("Job %s (%s) was running on a worker that stopped: running it again", job.id, job.task_name)
        await manager.retry_job(job)
    return len(stalled)
