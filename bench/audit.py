"""Benchmark: the cost of the audit trail's hash chain on PostgreSQL, with concurrent writers.

Events are appended at commit (backend/audit/services.py): one INSERT per committed transaction, under
the chain's advisory lock, in a short transaction of its own. This measures, in one run:

- appends/s through `audit_record` with 1 and with 4 concurrent writers, each event on its own (as an
  audited read outside a transaction makes it);
- events/s with 4 concurrent writers whose transactions each record 4 events (as a change does: the
  change's event and its reads), appended together at commit;
- the reference: a bare INSERT of the same rows into a plain table with the same columns, one
  transaction each, with 4 concurrent writers;
- how long an audited read waits while another connection holds a long transaction that has recorded
  events (it should not wait: the chain's lock is taken only at commit);
- verify_audit's speed; and the machine's load average before and after (2 cores shared with others:
  read the figures beside it).

    make bench            # or: .venv/bin/python bench/audit.py --events 2000

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); uses its own database, rapport_bench.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = os.environ.get("BENCH_DATABASE", "rapport_bench")
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-deployment-0123456789")
os.environ.setdefault("EVALUATION_PSEUDONYM_KEY", "bench-only-pseudonym-key-not-for-deployment-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
WRITERS = 4


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            conn.execute(f"CREATE DATABASE {DB}")


def concurrently(writers: int, work) -> float:
    """Run work(n) in `writers` threads (each its own database connection); the seconds it took."""
    from django.db import connection

    errors = []

    def run(n):
        try:
            work(n)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min; {os.cpu_count()} cores)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    ensure_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from backend.audit.actor import Actor
    from backend.audit.chain import event_hash
    from backend.audit.selectors import audit_chain_verify
    from backend.audit.services import audit_record

    call_command("migrate", verbosity=0)
    print(f"machine load before: {load()}")
    actor = Actor(user=None, ip_address="127.0.0.1", user_agent="bench", via="bench")
    n = args.events
    per_writer = n // WRITERS

    def record(i):
        audit_record(actor=actor, action="read", object_type="accounts.user", object_id=i, detail={"page": "bench"})

    start = time.perf_counter()
    for i in range(n):
        record(i)
    one_writer = time.perf_counter() - start

    four_writers = concurrently(WRITERS, lambda w: [record(w * per_writer + i) for i in range(per_writer)])

    def transactions(w):
        for i in range(per_writer // 4):
            with transaction.atomic():
                for k in range(4):
                    record(f"{w}-{i}-{k}")

    batched = concurrently(WRITERS, transactions)
    batched_events = WRITERS * (per_writer // 4) * 4

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain_event")
        cursor.execute("CREATE TABLE bench_plain_event (LIKE audit_auditevent INCLUDING DEFAULTS)")

    def bare(w):
        for i in range(per_writer):
            row = w * per_writer + i
            with transaction.atomic(), connection.cursor() as cursor:
                now = timezone.now()
                fields = dict(sequence=row, occurred_at=now, actor_id=None, actor_email="", actor_role="", action="read",
                              object_type="accounts.user", object_id=str(row), ip_address="127.0.0.1", user_agent="bench",
                              via="bench", detail={"page": "bench"}, prev_hash="0" * 64)
                cursor.execute(
                    "INSERT INTO bench_plain_event (id, sequence, occurred_at, actor_id, actor_email, actor_role, action, object_type,"
                    " object_id, ip_address, user_agent, via, detail, prev_hash, hash)"
                    " VALUES (%s, %s, %s, NULL, '', '', 'read', 'accounts.user', %s, '127.0.0.1', 'bench', 'bench', '{\"page\": \"bench\"}', %s, %s)",
                    [row, row, now, str(row), "0" * 64, event_hash(**fields)],
                )

    bare_four = concurrently(WRITERS, bare)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain_event")

    # A long transaction that has recorded events (an import) beside audited reads in other connections.
    opened, release, waits = threading.Event(), threading.Event(), []

    def long_transaction():
        try:
            with transaction.atomic():
                for i in range(100):
                    record(f"long-{i}")
                opened.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=long_transaction)
    holder.start()
    opened.wait(timeout=30)
    for i in range(50):
        started = time.perf_counter()
        record(f"during-{i}")
        waits.append(time.perf_counter() - started)
    release.set()
    holder.join()
    connection.close()

    verify_start = time.perf_counter()
    report = audit_chain_verify()
    verify = time.perf_counter() - verify_start

    print(f"audit_record, 1 writer, autocommit          : {n / one_writer:8.0f} appends/s ({one_writer * 1000 / n:.2f} ms each)")
    print(f"audit_record, {WRITERS} writers, autocommit         : {WRITERS * per_writer / four_writers:8.0f} appends/s")
    print(f"audit_record, {WRITERS} writers, 4 events per commit : {batched_events / batched:8.0f} events/s "
          f"({batched_events / 4 / batched:.0f} commits/s, one INSERT each)")
    print(f"reference: bare INSERT, {WRITERS} writers, same rows: {WRITERS * per_writer / bare_four:8.0f} rows/s")
    print(f"overhead of the chain ({WRITERS} writers, autocommit): {four_writers / bare_four:8.2f}x")
    print(f"audited append during another's open transaction: median {sorted(waits)[len(waits) // 2] * 1000:.2f} ms, "
          f"max {max(waits) * 1000:.2f} ms (the other held it for {sum(waits):.2f} s)")
    print(f"verify_audit over {report.events_checked} events: {report.events_checked / verify:8.0f} events/s (intact: {report.intact})")
    print(f"machine load after: {load()}")


if __name__ == "__main__":
    main()
