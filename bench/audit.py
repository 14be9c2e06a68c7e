"""Benchmark: the cost of the audit trail's hash chain on PostgreSQL.

Every read of an identifiable record appends one audit event, serialised by an advisory lock and
hashed over the previous event. This measures appends per second through `audit_record` (one
transaction each, as a request makes them), beside a bare INSERT of the same rows into a plain table
with the same columns, one transaction each, measured in the same run.

    make bench            # or: .venv/bin/python bench/audit.py --events 2000

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); uses its own database, rapport_bench.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "rapport_bench"
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-deployment-0123456789")
os.environ.setdefault("EVALUATION_PSEUDONYM_KEY", "bench-only-pseudonym-key-not-for-deployment-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            conn.execute(f"CREATE DATABASE {DB}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    ensure_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from backend.audit.actor import Actor
    from backend.audit.chain import event_hash
    from backend.audit.selectors import audit_chain_verify
    from backend.audit.services import audit_record

    call_command("migrate", verbosity=0)
    actor = Actor(user=None, ip_address="127.0.0.1", user_agent="bench", via="bench")

    start = time.perf_counter()
    for i in range(args.events):
        audit_record(actor=actor, action="read", object_type="accounts.user", object_id=i, detail={"page": "bench"})
    chained = time.perf_counter() - start

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain_event")
        cursor.execute("CREATE TABLE bench_plain_event (LIKE audit_auditevent INCLUDING DEFAULTS)")
    from django.utils import timezone

    start = time.perf_counter()
    for i in range(args.events):
        with transaction.atomic(), connection.cursor() as cursor:
            now = timezone.now()
            fields = dict(sequence=i, occurred_at=now, actor_id=None, actor_email="", actor_role="", action="read",
                          object_type="accounts.user", object_id=str(i), ip_address="127.0.0.1", user_agent="bench",
                          via="bench", detail={"page": "bench"}, prev_hash="0" * 64)
            cursor.execute(
                "INSERT INTO bench_plain_event (id, sequence, occurred_at, actor_id, actor_email, actor_role, action, object_type,"
                " object_id, ip_address, user_agent, via, detail, prev_hash, hash)"
                " VALUES (%s, %s, %s, NULL, '', '', 'read', 'accounts.user', %s, '127.0.0.1', 'bench', 'bench', '{\"page\": \"bench\"}', %s, %s)",
                [i, i, now, str(i), "0" * 64, event_hash(**fields)],
            )
    bare = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain_event")

    verify_start = time.perf_counter()
    report = audit_chain_verify()
    verify = time.perf_counter() - verify_start

    print(f"audit_record, one transaction each : {args.events / chained:8.0f} events/s  ({chained * 1000 / args.events:.2f} ms each)")
    print(f"reference: bare INSERT, same rows  : {args.events / bare:8.0f} rows/s    ({bare * 1000 / args.events:.2f} ms each)")
    print(f"overhead of the chain               : {chained / bare:8.2f}x")
    print(f"verify_audit over {report.events_checked} events        : {report.events_checked / verify:8.0f} events/s (intact: {report.intact})")


if __name__ == "__main__":
    main()
