"""`manage.py messaging_worker`: the process that sends messages (docs/deploy.md "Messages").

A thin wrapper around `manage.py procrastinate worker` on the messages queue, with heartbeats (a worker
killed mid-job is noticed and its job run again) and the periodic jobs. Needs PostgreSQL: the embedded
SQLite setup runs its worker inside the server process instead (backend/asgi.py).
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Send queued messages (SMS and email): run the procrastinate worker on the messages queue."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=4, help="Messages sent at once (default 4).")
        parser.add_argument("--name", default="messaging", help="The worker's name in the jobs table.")
        parser.add_argument("--poll-seconds", type=float, default=5.0,
                            help="How often to look for jobs that came due (new jobs arrive at once by LISTEN/NOTIFY).")

    def handle(self, *args, concurrency: int, name: str, poll_seconds: float, **options):
        if settings.QUEUE_IN_MEMORY:
            raise CommandError("The messaging worker needs PostgreSQL (DATABASE_URL). With the embedded SQLite database "
                               "the server process sends messages itself.")
        # Jobs run in a pool of threads, each with its own Django connection: keep those open between jobs
        # (a new PostgreSQL connection per message cost more than the message). A connection that broke
        # (a database restart) is closed and reopened by the task (close_old_connections).
        from django.db import connections

        for alias in connections:
            connections[alias].settings_dict["CONN_MAX_AGE"] = None
        call_command("procrastinate", "worker", "--queues", "messages", "--concurrency", str(concurrency), "--name", name,
                     "--fetch-job-polling-interval", str(poll_seconds), "--delete-jobs", "successful")
