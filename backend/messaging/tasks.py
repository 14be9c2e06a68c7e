"""The jobs on the queue (procrastinate finds this module by its name, `tasks`). Each job carries only a
message's id: what to send, and whether to send at all, is read from the Message row when it runs."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from procrastinate import retry as retry_module
from procrastinate.contrib.django import app

from backend.messaging import senders

log = logging.getLogger(__name__)


class MessageRetry(retry_module.BaseRetryStrategy):
    """Retry temporary failures only, MESSAGE_RETRY_ATTEMPTS times in all, waiting MESSAGE_RETRY_BASE_SECONDS
    and twice as long each time after (30 s, 1, 2, 4 ... minutes by default). Anything else is not retried:
    the job records the failure on the message itself."""

    def get_retry_decision(self, *, exception: BaseException, job) -> retry_module.RetryDecision | None:
        if not isinstance(exception, senders.TemporaryFailure) or is_final_attempt(job.attempts):
            return None
        return retry_module.RetryDecision(retry_in={"seconds": settings.MESSAGE_RETRY_BASE_SECONDS * 2 ** job.attempts})


def is_final_attempt(previous_attempts: int) -> bool:
    return previous_attempts + 1 >= settings.MESSAGE_RETRY_ATTEMPTS


@app.task(name="send_message", queue="messages", retry=MessageRetry(), pass_context=True)
def send_message(context, message_id: int) -> str:
    from backend.messaging.services import message_send

    close_old_connections()
    final = is_final_attempt(context.job.attempts)
    try:
        try:
            outcome = message_send(message_id, final_attempt=final)
        except (OperationalError, InterfaceError):
            # This thread's kept connection died with a database restart: reconnect and run once more. Safe:
            # the record says queued (nothing happened) or sending (the retry asks Notify first).
            connection.close()
            outcome = message_send(message_id, final_attempt=final)
    except (OperationalError, InterfaceError) as exc:
        connection.close()
        raise senders.TemporaryFailure(f"The database could not be reached ({exc.__class__.__name__}); trying again.") from exc
    finally:
        close_old_connections()
    log.info("Message %s: %s", message_id, outcome)
    return outcome


@app.periodic(cron="* * * * *", periodic_id="retry_stalled_jobs")
@app.task(name="retry_stalled_jobs", queue="messages", queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context, timestamp: int) -> None:
    """Every minute: jobs left `doing` by a worker that stopped sending heartbeats run again
    (procrastinate's documented recipe)."""
    from backend.messaging.queue import stalled_jobs_retry_async

    await stalled_jobs_retry_async()


@app.periodic(cron="*/5 * * * *", periodic_id="fetch_delivery_statuses")
@app.task(name="fetch_delivery_statuses", queue="messages", queueing_lock="fetch_delivery_statuses")
def fetch_delivery_statuses(timestamp: int) -> int:
    """Every five minutes: what Notify says became of the messages it accepted (if no callback came)."""
    from backend.messaging.services import delivery_statuses_fetch

    close_old_connections()
    try:
        return delivery_statuses_fetch()
    finally:
        close_old_connections()


@app.periodic(cron="*/10 * * * *", periodic_id="requeue_messages")
@app.task(name="requeue_messages", queue="messages", queueing_lock="requeue_messages")
def requeue_messages(timestamp: int) -> int:
    """Every ten minutes: a job for any due message without one (queued outside a transaction by a
    process that died before deferring). One that has a job is left alone (its queueing lock)."""
    from backend.messaging.services import messages_requeue

    close_old_connections()
    try:
        return messages_requeue(overdue_only=True)
    finally:
        close_old_connections()
