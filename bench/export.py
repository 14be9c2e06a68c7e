"""Benchmark: exporting a million item-level questionnaire answers, pseudonymised, to Parquet and CSV.

Generates (once; `--reseed` to start again) people consenting to evaluation, each with a course of
care and attended appointments with a PHQ-9 and a GAD-7 at each (16 answers per appointment), in
the real tables, by bulk `INSERT ... SELECT generate_series` copied from rows the services made. Then:

- the reference: PostgreSQL's own `COPY (SELECT ...) TO STDOUT` of the same rows, one row per answer
  with the export's columns (`response_long_values`: consent filter, current responses, the same joins
  and order; the export itself reads one row per response with its answers as an array), read to the
  end by psycopg in this process;
- `manage.py export_evaluation --dataset responses_long --format parquet|csv --dates shifted` in a
  child process each: the service, pseudonyms, date shifting, chunked pandas frames, the writers, the
  zip and its hashes, and the audit event. Time is the child's wall time; memory is the child's peak
  resident set size (`os.wait4` rusage `ru_maxrss`). The start-up of a child that does no export
  (`--dictionary`) is measured too and given beside it.

    make bench            # or: .venv/bin/python bench/export.py --answers 1000000

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); uses its own database, rapport_bench_export.
Target (issue 6): within 3x of the COPY time and under 1 GB peak memory.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "rapport_bench_export"
ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "SECRET_KEY": "bench-only-secret-key-not-for-deployment-0123456789",
    "EVALUATION_PSEUDONYM_KEY": "bench-only-pseudonym-key-not-for-deployment-0123456789",
    "ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SETTINGS_MODULE": "backend.settings",
}
os.environ.update(ENV)
APPOINTMENTS_PER_PERSON = 6
ANSWERS_PER_APPOINTMENT = 16  # PHQ-9 and GAD-7
TEAM = "Bench export"


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            conn.execute(f"CREATE DATABASE {DB}")


def seed(people: int) -> None:
    """The team, a clinician and one person consenting to evaluation, made through the services; then
    `people` more people copied from that one in bulk SQL, with their courses, appointments and answers."""
    from django.db import connection

    from backend.accounts import services as accounts
    from backend.accounts.models import Role
    from backend.audit.actor import Actor
    from backend.consent import services as consent
    from backend.consent.models import ConsentPurpose, PurposeCode
    from backend.consent.selectors import current_wording

    system = Actor.system(via="bench")
    stamp = time.time_ns()
    organisation = accounts.organisation_create(actor=system, name=f"Bench export trust {stamp}")
    team = accounts.team_create(actor=system, organisation=organisation, name=TEAM, service="Talking therapies", site="Leeds")
    clinician = accounts.user_create(actor=system, email=f"bench-export-clin-{stamp}@example.test", full_name="Bench Clinician",
                                     role=Role.CLINICIAN, password=None, organisation=organisation)
    accounts.team_member_add(actor=system, team=team, user=clinician)
    model = accounts.user_create(actor=system, email=f"bench-export-model-{stamp}@example.test", full_name="Bench Person",
                                 role=Role.SERVICE_USER, password=None, organisation=organisation)
    accounts.caseload_add(actor=system, team=team, service_user=model)
    purpose = ConsentPurpose.objects.get(code=PurposeCode.EVALUATION)
    consent.consent_record(actor=Actor(model), service_user=model, purpose=purpose, decision="given",
                           wording_version=current_wording(purpose).version)
    _seed_sql(connection, team=team, model=model, clinician=clinician, people=people, stamp=stamp)


def _seed_sql(connection, *, team, model, clinician, people: int, stamp: int) -> None:
    """Bulk copies in SQL: users, caseload entries, consent records (copied from the model person's
    real one), courses, attended appointments, scored responses and their answers."""
    from backend.outcomes.models import Instrument

    phq, gad = Instrument.objects.get(code="phq9"), Instrument.objects.get(code="gad7")
    with connection.cursor() as c:
        c.execute("""
            INSERT INTO accounts_user (password, email, full_name, preferred_name, role, phone_number, is_active, date_joined)
            SELECT '!', 'bench-export-' || %s || '-' || g || '@example.test', 'Bench Person ' || g, '', 'service_user', '', true, now()
            FROM generate_series(1, %s) g""", [stamp, people])
        people_sql = "SELECT id FROM accounts_user WHERE email LIKE %s"
        like = f"bench-export-{stamp}-%"
        c.execute(f"INSERT INTO accounts_caseloadentry (added_at, service_user_id, team_id) SELECT now(), id, %s FROM ({people_sql}) p",
                  [team.pk, like])
        c.execute(f"""
            INSERT INTO consent_consentrecord (decision, share_outcomes, method, note, recorded_at, carer_id, purpose_id, recorded_by_id,
                                               service_user_id, wording_id)
            SELECT r.decision, r.share_outcomes, r.method, '', r.recorded_at, NULL, r.purpose_id, p.id, p.id, r.wording_id
            FROM consent_consentrecord r, ({people_sql}) p WHERE r.service_user_id = %s""", [like, model.pk])
        c.execute(f"""
            INSERT INTO telesessions_courseofcare (reference, referral_date, started_on, ended_on, ending_reason, ending_note,
                                                   opened_by_id, ended_by_id, service_user_id, team_id)
            SELECT '', DATE '2025-01-01', DATE '2025-01-05' + (p.id %% 200)::int, DATE '2025-09-01' + (p.id %% 200)::int, 'completed', '',
                   %s, %s, p.id, %s
            FROM ({people_sql}) p""", [clinician.pk, clinician.pk, team.pk, like])
        c.execute("""
            INSERT INTO telesessions_appointment (kind, starts_at, duration_minutes, modalities_offered, choice_closes_at, chosen_modality,
                chosen_at, delivered_modality, delivery_reason, delivery_note, created_at, booked_by_id, practitioner_id, service_user_id,
                team_id, cancellation_reason, status, planned_last, reference, course_id, started_at, ended_at)
            SELECT CASE WHEN n = 1 THEN 'assessment' ELSE 'treatment' END, t, 50, '["video", "phone", "face_to_face"]'::jsonb,
                   t - interval '1 day', m, t - interval '2 days', m, '', '', t - interval '7 days', %s, %s, c.service_user_id,
                   c.team_id, '', 'ended', false, '', c.id, t, t + interval '50 minutes'
            FROM telesessions_courseofcare c, generate_series(1, %s) n,
                 LATERAL (SELECT (c.started_on + (n - 1) * 14) + time '10:00' AT TIME ZONE 'Europe/London' AS t,
                                 (ARRAY['video', 'phone', 'face_to_face'])[1 + (c.id + n) %% 3] AS m) x
            WHERE c.team_id = %s""", [clinician.pk, clinician.pk, APPOINTMENTS_PER_PERSON, team.pk])
        for instrument in (phq, gad):
            c.execute("""
                INSERT INTO outcomes_response (mode, completed_at, entered_at, idempotency_key, request_fingerprint, status, raw_total,
                    score, band, at_caseness, prorated, unanswered_items, replacement_reason, appointment_id, course_id, entered_by_id,
                    instrument_id, replaces_id, service_user_id)
                SELECT 'self_online', a.starts_at, a.starts_at, 'bench-' || %s || '-' || a.id, repeat('0', 64), 'scored', 10, 10, '',
                       true, false, 0, '', a.id, a.course_id, %s, %s, NULL, a.service_user_id
                FROM telesessions_appointment a WHERE a.team_id = %s""",
                      [instrument.code, clinician.pk, instrument.pk, team.pk])
            c.execute("""
                INSERT INTO outcomes_answer (value, item_id, response_id)
                SELECT (r.id + i.number) %% 4, i.id, r.id
                FROM outcomes_response r JOIN outcomes_instrumentitem i ON i.instrument_id = r.instrument_id
                WHERE r.instrument_id = %s AND r.course_id IN (SELECT id FROM telesessions_courseofcare WHERE team_id = %s)""",
                      [instrument.pk, team.pk])
        c.execute("ANALYZE")


def answers_queryset():
    from backend.evaluation.selectors import Filters, response_long_values

    return response_long_values(Filters())[1]


def copy_reference() -> tuple[float, int, int]:
    """COPY of the rows the export holds: one row per answer, with the export's columns and filters."""
    from django.db import connection

    sql, params = answers_queryset().query.sql_with_params()
    connection.ensure_connection()
    size = rows = 0
    start = time.perf_counter()
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for block in copy:
                size += len(block)
                rows += bytes(block).count(b"\n")
    return time.perf_counter() - start, rows, size


def child(args: list[str]) -> tuple[float, float, str]:
    """Run manage.py with `args` in a child process: (wall seconds, peak RSS in MiB, its output)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env={**os.environ, **ENV},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{output}")
    return seconds, usage.ru_maxrss / 1024, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--reseed", action="store_true", help="Drop the benchmark database and generate the data again.")
    parser.add_argument("--chunk-size", type=int, default=None, help="Passed to the export (default: the command's).")
    args = parser.parse_args()
    if args.reseed:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB}")
    ensure_database()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    people = -(-args.answers // (APPOINTMENTS_PER_PERSON * ANSWERS_PER_APPOINTMENT))
    have = answers_queryset().count()
    if have < args.answers:
        start = time.perf_counter()
        seed(people)
        have = answers_queryset().count()
        print(f"generated {have:,} answers for {people:,} people in {time.perf_counter() - start:.1f} s")
    print(f"answers to export: {have:,}")

    copy_seconds, copy_rows, copy_bytes = copy_reference()
    print(f"COPY (SELECT ...) TO STDOUT: {copy_rows:,} rows, {copy_bytes / 2**20:.0f} MiB in {copy_seconds:.2f} s")
    startup, startup_rss, _ = child(["export_evaluation", "--dictionary"])
    print(f"child start-up alone (export_evaluation --dictionary): {startup:.2f} s, peak RSS {startup_rss:.0f} MiB")
    results = {}
    with tempfile.TemporaryDirectory(prefix="rapport-bench-export-") as directory:
        for fmt in ("parquet", "csv"):
            out = Path(directory) / f"responses_long.{fmt}.zip"
            extra = ["--chunk-size", str(args.chunk_size)] if args.chunk_size else []
            seconds, rss, output = child(["export_evaluation", "--dataset", "responses_long", "--format", fmt, "--dates", "shifted",
                                          "--output", str(out), *extra])
            results[fmt] = (seconds, rss)
            print(f"export {fmt}: {seconds:.2f} s ({seconds / copy_seconds:.1f}x COPY), peak RSS {rss:.0f} MiB, "
                  f"zip {out.stat().st_size / 2**20:.0f} MiB; {output.splitlines()[0]}")
    met = all(seconds <= 3 * copy_seconds and rss < 1024 for seconds, rss in results.values())
    print(f"target (within 3x of COPY, under 1 GB): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
