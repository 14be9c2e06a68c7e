"""Benchmark: sending reminders through the durable queue (procrastinate on PostgreSQL) and a real worker
process, against the loopback GOV.UK Notify (tests/notify_server.py) and the real notifications-python-client.

In one run, on the same machine load:
- the bare loop: the same Notify calls (send_sms_notification with the same template, personalisation
  and reference) made directly, one after another, and from as many threads as the worker runs jobs
  at once: what the HTTP calls alone cost;
- enqueueing: `message_queue` for each reminder, 100 to a transaction (as a batch of bookings would);
- throughput: 10,000 queued reminders sent by `manage.py messaging_worker` (its default concurrency, 4):
  messages/s from the worker's start to the last one recorded `sent`;
- added latency: reminders queued one at a time into an idle, running worker; for each, the time from
  the commit of its booking transaction to Notify's acceptance being recorded, beside one bare call.
Prints the machine's load average before and after (2 cores shared with others: read the figures
beside it). Every reminder is checked to have reached Notify exactly once.

    .venv/bin/python bench/messaging.py                 # 10,000 reminders
    .venv/bin/python bench/messaging.py --messages 2000 --concurrency 8

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); uses its own database, rapport_bench_messaging
(or BENCH_DATABASE).
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("BENCH_DATABASE", "rapport_bench_messaging")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit import ROOT, ensure_database  # noqa: E402  (sets the bench environment too)

os.environ.setdefault("HTTPS", "0")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4, help="jobs the worker runs at once (messaging_worker's default)")
    parser.add_argument("--latency-samples", type=int, default=200)
    args = parser.parse_args()
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:  # a fresh database each run
        conn.execute(f"DROP DATABASE IF EXISTS {os.environ['BENCH_DATABASE']} WITH (FORCE)")
    ensure_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from notifications_python_client.notifications import NotificationsAPIClient

    from backend.messaging import services
    from backend.messaging.models import Message, OrganisationMessaging
    from tests.factories import build_world
    from tests.notify_server import NotifyServer

    call_command("migrate", verbosity=0)
    load_before = os.getloadavg()
    notify = NotifyServer().start()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
        cursor.execute("DELETE FROM procrastinate_workers")
    world = build_world()
    OrganisationMessaging.objects.update_or_create(organisation=world.organisation, defaults={
        "sms_sender": "notify", "notify_sms_template_id": notify.sms_template.id})
    body = "Reminder: you have an appointment with the North team tomorrow at 2pm. Reply to this number if you cannot come."

    # --- The bare loop: the same calls, no queue ---------------------------------------------------------
    import uuid

    client = NotificationsAPIClient(notify.api_key(), base_url=notify.base_url)

    def bare_call() -> float:
        start = time.perf_counter()
        client.send_sms_notification(phone_number="+447700900123", template_id=notify.sms_template.id,
                                     personalisation={"body": body}, reference=str(uuid.uuid4()))
        return time.perf_counter() - start

    bare_n = min(args.messages, 2000)
    start = time.perf_counter()
    bare_latencies = [bare_call() for _ in range(bare_n)]
    bare_sequential = bare_n / (time.perf_counter() - start)

    def bare_thread(count: int) -> None:
        for _ in range(count):
            bare_call()

    threads = [threading.Thread(target=bare_thread, args=(bare_n // args.concurrency,)) for _ in range(args.concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bare_parallel = (bare_n // args.concurrency * args.concurrency) / (time.perf_counter() - start)
    notify.clear()

    # --- Enqueue ---------------------------------------------------------------------------------------------
    def queue_one(send_after=None) -> Message:
        return services.message_queue(
            recipient=world.service_user, organisation=world.organisation, team=world.north, appointment=world.appointment,
            kind="reminder", channel="sms", to="+447700900123", sender_name="North team", body=body, send_after=send_after,
        )

    start = time.perf_counter()
    made = 0
    while made < args.messages:
        with transaction.atomic():
            for _ in range(min(100, args.messages - made)):
                queue_one()
                made += 1
    enqueue_rate = args.messages / (time.perf_counter() - start)
    # procrastinate's fetch (one job whose lock no running job holds) is planned from the table's statistics:
    # right after 10,000 rows arrive at once, before autovacuum has analysed the table, it is planned as if
    # the table were empty and takes seconds per job. Analyse, as autovacuum soon would (docs/performance.md).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE procrastinate_jobs")

    # --- Throughput: one worker drains the queue -------------------------------------------------------------
    env = {**os.environ, "NOTIFY_BASE_URL": notify.base_url, "NOTIFY_API_KEY": notify.api_key(), "QUEUE_LOG_LEVEL": "WARNING",
           "LOG_LEVEL": "WARNING"}
    import tempfile

    log = tempfile.NamedTemporaryFile(prefix="rapport-bench-worker-", suffix=".log", delete=False)
    worker = subprocess.Popen([sys.executable, "manage.py", "messaging_worker", "--concurrency", str(args.concurrency),
                               "--poll-seconds", "0.2"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        start = time.perf_counter()
        while True:
            left = Message.objects.exclude(status=Message.Status.SENT).count()
            if left == 0:
                break
            if worker.poll() is not None:
                raise SystemExit(f"the worker stopped: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.25)
        first_sent, last_sent = Message.objects.order_by("sent_at").values_list("sent_at", flat=True)[::max(1, args.messages - 1)][:2]
        drained = time.perf_counter() - start
        throughput = args.messages / (last_sent - first_sent).total_seconds()
        references = [n["reference"] for n in notify.sent()]
        assert len(references) == len(set(references)) == args.messages, "a reminder was sent twice or not at all"

        # --- Added latency: one at a time into the running, idle worker --------------------------------------
        notify.clear()
        queue_latencies, bare_again = [], []
        for _ in range(args.latency_samples):
            with transaction.atomic():
                message = queue_one()
            committed = timezone.now()
            while not Message.objects.filter(pk=message.pk, status=Message.Status.SENT).exists():
                time.sleep(0.002)
            message.refresh_from_db()
            queue_latencies.append((message.sent_at - committed).total_seconds())
            bare_again.append(bare_call())
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
        notify.stop()
    load_after = os.getloadavg()

    ms = lambda seconds: f"{seconds * 1000:.1f} ms"  # noqa: E731
    print(f"Reminders: {args.messages:,}; worker concurrency {args.concurrency}")
    print(f"Bare loop (Notify client, loopback Notify): {bare_sequential:,.0f} calls/s one at a time, "
          f"{bare_parallel:,.0f} calls/s from {args.concurrency} threads; one call p50 {ms(statistics.median(bare_latencies))}, "
          f"p95 {ms(percentile(bare_latencies, 0.95))}")
    print(f"Enqueue (message_queue, 100 per transaction): {enqueue_rate:,.0f} messages/s")
    print(f"Through the queue and worker: {throughput:,.0f} messages/s (first to last sent; {drained:.1f} s from the worker's "
          f"start to the last recorded), each sent exactly once")
    print(f"  = {throughput / bare_parallel:.0%} of the bare loop with the same concurrency")
    print(f"Added latency, commit to sent (one at a time, idle worker): p50 {ms(statistics.median(queue_latencies))}, "
          f"p95 {ms(percentile(queue_latencies, 0.95))}; a bare call meanwhile p50 {ms(statistics.median(bare_again))}: "
          f"the queue adds about {ms(statistics.median(queue_latencies) - statistics.median(bare_again))}")
    print(f"Load average (1, 5, 15 min) before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
