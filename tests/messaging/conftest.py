"""Real parts for the messaging tests: a loopback GOV.UK Notify (tests/notify_server.py), the loopback SMTP
server (tests/mail_server.py), and real worker processes (`manage.py messaging_worker`) on the test
PostgreSQL database. A worker that cannot start fails the test loudly, with what it printed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from backend.audit.actor import Actor
from backend.messaging import services as messaging
from backend.messaging.models import Message, OrganisationMessaging
from tests.factories import build_world, seed_reference_data
from tests.notify_server import NotifyServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def _notify_server():
    server = NotifyServer().start()
    yield server
    server.stop()


@pytest.fixture
def notify(_notify_server):
    _notify_server.clear()
    yield _notify_server
    _notify_server.clear()


def wait_until(predicate, *, timeout: float = 30.0, what: str = "the worker"):
    """Wait for the worker process to have done something (it works in its own time; nothing here moves
    a clock). Polls; fails with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Worker:
    """One `manage.py messaging_worker` process against the test database."""

    def __init__(self, env: dict[str, str], name: str):
        self.env, self.name = env, name
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="rapport-worker-", suffix=".log", delete=False)

    def start(self) -> Worker:
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) FROM procrastinate_workers")
            before = cursor.fetchone()[0]
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "messaging_worker", "--name", self.name, "--poll-seconds", "0.2", "--concurrency", "2"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The messaging worker exited with {self.process.returncode} at start:\n{self.output()}")
            with connection.cursor() as cursor:
                cursor.execute("SELECT id FROM procrastinate_workers WHERE id > %s ORDER BY id", [before])
                row = cursor.fetchone()
                if row:
                    self.id = row[0]  # procrastinate's id for this worker (its heartbeat row)
                    return self
            time.sleep(0.1)
        self.process.kill()
        raise RuntimeError(f"The messaging worker did not register within 60 s:\n{self.output()}")

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up, no chance to finish the job it holds."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def worker_env(notify, mail_server, transactional_db):
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "NOTIFY_BASE_URL": notify.base_url,
           "NOTIFY_API_KEY": notify.api_key(), "NOTIFY_API_KEY_BADKEY": f"bad-{notify.service_id}-{'0' * 36}",
           "EMAIL_URL": mail_server.url, "MESSAGE_RETRY_ATTEMPTS": "5"}
    return env


def _test_database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}{':' + s['PASSWORD'] if s['PASSWORD'] else ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def workers(worker_env, request):
    """A factory of worker processes; every one started is stopped after the test."""
    started: list[Worker] = []

    def make(name: str | None = None) -> Worker:
        worker = Worker(worker_env, name or f"test-{request.node.name[:40]}-{len(started)}")
        started.append(worker)
        return worker.start()

    yield make
    for worker in started:
        worker.stop()


@pytest.fixture
def queue_world(transactional_db, notify):
    """The world, with its organisation sending SMS and email through GOV.UK Notify, and an empty queue."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
        cursor.execute("DELETE FROM procrastinate_workers")
    seed_reference_data()
    world = build_world()
    # The world's bookings queued their own messages (failed: its teams have no sender name yet); these
    # tests queue theirs directly and count what goes out.
    Message.objects.all().delete()
    OrganisationMessaging.objects.create(
        organisation=world.organisation, sms_sender="notify", email_sender="notify",
        notify_sms_template_id=notify.sms_template.id, notify_email_template_id=notify.email_template.id,
    )
    return world


def status_of(message: Message) -> str:
    message.refresh_from_db()
    return message.status


@pytest.fixture
def sending(world):
    """The world's teams with a neutral sender name, so their messages can go."""
    for team in (world.north, world.south):
        messaging.team_messaging_update(
            actor=Actor(world.admin, via="test"), team=team, sender_name="Leeds NHS", reminder_offsets_hours=[168, 24],
            caller_number_kind="a withheld number", questionnaire_days_before=3, nudge_hours_before=24,
        )
    return world
