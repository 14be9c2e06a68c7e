"""Benchmark: submitting and scoring questionnaire responses through the API on PostgreSQL.

Each submission is a PHQ-9 POSTed to /api/v1/responses/ with a token and an Idempotency-Key, through
Django's full request stack in process (authentication, throttle, validation, permission and object
checks, scoring, one response row and nine answer rows, the audit event, the idempotency check), one
transaction each. The reference, measured in the same run, is a bare INSERT of the same rows (one
response and nine answers, one transaction each, raw SQL through the same driver) into the real tables,
with the keys, indexes and foreign keys those rows need; the same into plain copies of the tables
without any (the reference until 2026-11-30) is printed beside it. The three are interleaved in blocks
of 25, so that each sees the same machine load. Prints the ratio, this process's CPU time per
submission and per insert, the database round trips of one submission and the machine's load average
(figures from a loaded machine are lower, the reference's too: compare the ratio).

    make bench            # or: .venv/bin/python bench/outcomes.py --responses 1000
    .venv/bin/python bench/outcomes.py --responses 300 --profile /tmp/outcomes.prof   # where the time goes

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); uses its own database, rapport_bench (or
BENCH_DATABASE), and Redis if REDIS_URL is set (as in production: the throttle counts there).
"""

import argparse
import cProfile
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit import ensure_database  # noqa: E402  (sets the bench environment too)

os.environ.setdefault("HTTPS", "0")  # requests go to the app in process, not through a TLS proxy
# One account submits every response here, far above the 60 a minute a real account may: raise the limit
# (per second, so the throttle still counts a realistic few dozen recent requests), keep the throttle.
os.environ.setdefault("THROTTLE_RESPONSES", "1000/second")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1000)
    parser.add_argument("--profile", metavar="FILE", help="also write cProfile statistics of the API loop to FILE "
                        "(read with: python -m pstats FILE); the profiler slows the loop, so its ratio is not the figure")
    args = parser.parse_args()
    ensure_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.test import APIClient

    from backend.accounts import services
    from backend.accounts.models import Role
    from backend.audit.actor import Actor
    from backend.outcomes.models import Response
    from backend.sessions import services as session_services

    call_command("migrate", verbosity=0)
    system = Actor.system(via="bench")
    stamp = f"{time.time_ns()}"
    organisation = services.organisation_create(actor=system, name=f"Bench Trust {stamp}")
    team = services.team_create(actor=system, organisation=organisation, name="Bench", service="Talking therapies", site="Leeds")
    clinician = services.user_create(actor=system, email=f"bench-clin-{stamp}@example.test", full_name="Bench Clinician",
                                     role=Role.CLINICIAN, password=None, organisation=organisation)
    person = services.user_create(actor=system, email=f"bench-su-{stamp}@example.test", full_name="Bench Person",
                                  role=Role.SERVICE_USER, password=None, organisation=organisation)
    services.team_member_add(actor=system, team=team, user=clinician)
    services.caseload_add(actor=system, team=team, service_user=person)
    course = session_services.course_open(actor=Actor(clinician), service_user=person, team=team)
    token = services.api_token_issue(actor=Actor(clinician), user=clinician)[0]
    client = APIClient(SERVER_NAME="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    rng = random.Random(7)
    bodies = [
        {"instrument": "phq9", "service_user_id": person.pk, "course_id": course.pk, "mode": "clinician_phone",
         "answers": {str(n): (rng.randint(0, 3) if n < 9 else 0) for n in range(1, 10)}}
        for _ in range(args.responses)
    ]

    load_before = os.getloadavg()
    # One submission first, its statements counted (the process then has the PHQ-9's definition, as a
    # running server would): BEGIN and COMMIT count, each is a round trip.
    with CaptureQueriesContext(connection) as counted:
        answer = client.post("/api/v1/responses/", bodies[0], format="json", HTTP_IDEMPOTENCY_KEY=f"{stamp}-warm")
        assert answer.status_code == 201, answer.content
    with CaptureQueriesContext(connection) as counted:
        answer = client.post("/api/v1/responses/", bodies[0], format="json", HTTP_IDEMPOTENCY_KEY=f"{stamp}-counted")
        assert answer.status_code == 201, answer.content
    round_trips = len(counted.captured_queries)

    item_ids = list(course.responses.first().answers.order_by("item__number").values_list("item_id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain_response, bench_plain_answer")
        cursor.execute("CREATE TABLE bench_plain_response (LIKE outcomes_response INCLUDING DEFAULTS INCLUDING IDENTITY)")
        cursor.execute("CREATE TABLE bench_plain_answer (LIKE outcomes_answer INCLUDING DEFAULTS INCLUDING IDENTITY)")

    def bare_insert(i: int, body: dict, response_table: str, answer_table: str) -> None:
        """The same rows as the API writes, in one transaction, by raw SQL through the same driver."""
        values = [int(body["answers"][str(n)]) for n in range(1, 10)]
        with transaction.atomic(), connection.cursor() as cursor:
            now = timezone.now()
            cursor.execute(
                f"INSERT INTO {response_table} (instrument_id, service_user_id, course_id, appointment_id, mode, completed_at,"
                " entered_by_id, entered_at, idempotency_key, request_fingerprint, status, raw_total, score, band, at_caseness,"
                " prorated, unanswered_items, replaces_id, replacement_reason)"
                " SELECT id, %s, %s, NULL, 'clinician_phone', %s, %s, %s, %s, '', 'scored', %s, %s, '', %s, false, 0, NULL, ''"
                " FROM outcomes_instrument WHERE code = 'phq9' RETURNING id",
                [person.pk, course.pk, now, clinician.pk, now, f"{stamp}-bare-{i}", sum(values), sum(values), sum(values) >= 10],
            )
            response_id = cursor.fetchone()[0]
            cursor.executemany(
                f"INSERT INTO {answer_table} (response_id, item_id, value) VALUES (%s, %s, %s)",
                [(response_id, item, value) for item, value in zip(item_ids, values)],
            )

    # The three are interleaved in blocks of 25, so that each sees the same machine load (other work on a
    # shared machine comes and goes within seconds).
    profiler = cProfile.Profile() if args.profile else None
    api_seconds = bare_seconds = plain_seconds = api_cpu = bare_cpu = 0.0
    for block in range(0, len(bodies), 25):
        start, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for i in range(block, min(block + 25, len(bodies))):
            answer = client.post("/api/v1/responses/", bodies[i], format="json", HTTP_IDEMPOTENCY_KEY=f"{stamp}-{i}")
            assert answer.status_code == 201, (answer.status_code, answer.content)
        if profiler:
            profiler.disable()
        api_seconds += time.perf_counter() - start
        api_cpu += time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(block, min(block + 25, len(bodies))):
            bare_insert(i, bodies[i], "outcomes_response", "outcomes_answer")
        bare_seconds += time.perf_counter() - start
        bare_cpu += time.process_time() - cpu
        start = time.perf_counter()
        for i in range(block, min(block + 25, len(bodies))):
            bare_insert(i, bodies[i], "bench_plain_response", "bench_plain_answer")
        plain_seconds += time.perf_counter() - start
    if profiler:
        profiler.dump_stats(args.profile)
    stored = Response.objects.filter(course=course).count()
    assert stored == 2 * args.responses + 2, stored
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain_response, bench_plain_answer")

    load_after = os.getloadavg()
    n = args.responses
    ratio = api_seconds / bare_seconds
    print(f"POST /api/v1/responses/ (PHQ-9), scored and audited : {n / api_seconds:8.0f} responses/s  ({api_seconds * 1000 / n:.2f} ms each)")
    print(f"reference: bare INSERT of the same rows (1 + 9)     : {n / bare_seconds:8.0f} responses/s  ({bare_seconds * 1000 / n:.2f} ms each)")
    print(f"  (into tables without keys, indexes or constraints : {n / plain_seconds:8.0f} responses/s  ({plain_seconds * 1000 / n:.2f} ms each),"
          f" {api_seconds / plain_seconds:.2f}x: the reference before 2026-11-30)")
    print(f"cost of the API over the bare insert                : {ratio:8.2f}x  (target: within 4x, {'met' if ratio <= 4 else 'NOT met'})")
    print(f"this process's CPU per submission / per insert   : {api_cpu * 1000 / n:8.2f} ms / {bare_cpu * 1000 / n:.2f} ms"
          "  (the rest of the time is waiting: for PostgreSQL, Redis, or a core)")
    print(f"database round trips per submission                 : {round_trips:8d}     (budget 8, the issue's 8: 7 of our own and, for an appointment, messaging's reminder cancel; BEGIN and COMMIT included)")
    print(f"machine load average (1, 5, 15 min) before / after  : {' '.join(f'{v:.1f}' for v in load_before)} / "
          f"{' '.join(f'{v:.1f}' for v in load_after)} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
