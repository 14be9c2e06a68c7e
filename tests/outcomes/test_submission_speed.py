"""A questionnaire submission's database round trips (issue 11): a budget of 8 (7 of our own, and the
messaging app's one UPDATE that cancels reminders for a questionnaire given for an appointment), the
audit event still appended (with the response, in its transaction), and instrument definitions cached
per process, each use confirming from the database that the instrument is still active (so a retirement
by any process is seen at once), and a new instrument found at once. The submission's access query is
compiled once per process (backend/core/compiled.py): the SQL it runs is the SQL the access rules build
for the real submitter, for every role that may submit."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.core.errors import NotFound
from backend.outcomes import selectors, services
from backend.outcomes.models import Instrument, Response

PHQ9 = {"1": 3, "2": 3, "3": 2, "4": 2, "5": 1, "6": 1, "7": 1, "8": 0, "9": 0}
# The token, the person/course/appointment with the team check, BEGIN, the response with its answers (one
# statement), the audit append (lock and read the chain's last event; insert), COMMIT; and, for answers
# given for an appointment, the messaging app's one UPDATE that cancels the reminders still queued for
# that questionnaire (outcomes.hooks.RESPONSE_FILED): a reminder must never fire after the answers are in.
BUDGET = 8


def submit(client, body, key):
    return client.post("/api/v1/responses/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db(transaction=True)  # real commits: the audit append is counted as it happens in production
@pytest.mark.parametrize("by", ["course", "appointment"])
def test_a_submission_takes_at_most_eight_round_trips_and_is_audited_in_its_transaction(world, api, by):
    client = api(world.clinician)
    body = {"instrument": "phq9", "service_user_id": world.service_user.pk, "mode": "clinician_phone", "answers": PHQ9,
            **({"course_id": world.course.pk} if by == "course" else {"appointment_id": world.past_appointment.pk})}
    if by == "appointment":
        world.past_appointment.course = world.course
        world.past_appointment.save(update_fields=["course"])
    assert submit(client, body, "warm-up").status_code == 201  # this process loads the PHQ-9 once
    events_before = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        answer = submit(client, body, "counted")
    assert answer.status_code == 201, answer.json()
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= BUDGET, "\n".join(s[:160] for s in statements)
    # The audit append is kept: one event naming the response, written before the response's COMMIT.
    event = AuditEvent.objects.filter(object_type="outcomes.response").latest("sequence")
    assert event.object_id == str(answer.json()["id"]) and AuditEvent.objects.count() == events_before + 1
    assert statements[-1] == "COMMIT" and "audit_auditevent" in statements[-2]
    assert answer.json()["replaced_by"] is None
    # The response and its nine answers, as given, written by the one statement.
    stored = Response.objects.get(pk=answer.json()["id"])
    assert {a.item.number: a.value for a in stored.answers.select_related("item")} == {int(k): v for k, v in PHQ9.items()}
    assert (stored.score, stored.band, stored.entered_by, stored.idempotency_key) == (13, "Moderate", world.clinician, "counted")


@pytest.mark.django_db(transaction=True)
def test_a_retry_is_still_answered_with_the_first_response_and_a_reused_key_refused(world, api):
    client = api(world.clinician)
    body = {"instrument": "phq9", "service_user_id": world.service_user.pk, "course_id": world.course.pk, "mode": "paper", "answers": PHQ9}
    first, retry = submit(client, body, "k"), submit(client, body, "k")
    assert (first.status_code, retry.status_code, retry.json()["id"]) == (201, 200, first.json()["id"])
    changed = submit(client, {**body, "answers": {**PHQ9, "1": 0}}, "k")
    assert changed.status_code == 409 and changed.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Response.objects.count() == 1


def test_retiring_an_instrument_reaches_the_cached_definitions(world, api):
    cached = selectors.active_instrument("phq9")
    assert selectors.active_instrument("phq9") is cached  # the process's copy, not a new query
    services.instrument_retire(actor=Actor(world.admin), instrument=Instrument.objects.get(code="phq9"))
    with pytest.raises(NotFound) as refused:
        selectors.active_instrument("phq9")
    assert refused.value.field == "instrument"
    answer = submit(api(world.service_user), {"instrument": "phq9", "service_user_id": world.service_user.pk,
                                              "appointment_id": world.past_appointment.pk, "mode": "self_online", "answers": PHQ9}, "r")
    assert answer.status_code == 404 and answer.json()["errors"][0]["field"] == "instrument"


def test_a_retirement_by_another_process_is_seen_at_once(world, api):
    client = api(world.clinician)
    body = {"instrument": "gad7", "service_user_id": world.service_user.pk, "course_id": world.course.pk, "mode": "paper",
            "answers": {str(n): 1 for n in range(1, 8)}}
    assert submit(client, body, "before").status_code == 201
    cached = selectors.instrument_definition("gad7")
    # Another process retires the GAD-7: only the row changes; this process still holds its copy.
    Instrument.objects.filter(code="gad7").update(is_active=False)
    assert selectors.instrument_definition("gad7") is cached
    answer = submit(client, body, "after")
    assert answer.status_code == 404 and answer.json()["errors"][0]["field"] == "instrument"
    with pytest.raises(NotFound):
        selectors.instrument_definition("gad7")  # the copy was dropped
    with pytest.raises(NotFound):
        selectors.active_instrument("gad7")
    assert Response.objects.filter(instrument__code="gad7").count() == 1


def test_a_new_local_questionnaire_is_found_at_once(world):
    selectors.active_instrument("phq9")
    services.instrument_create(
        actor=Actor(world.admin), organisation=world.organisation, code="experience", name="Experience", title="Experience of care",
        stem="Over the last session:", higher_is_worse=False, options=[{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}],
        items=[{"number": 1, "text": "I felt listened to"}], bands=[],
    )
    assert [item.number for item in selectors.active_instrument("experience").items.all()] == [1]


@pytest.mark.parametrize("role", ["clinician", "peer_worker", "service_user"])
@pytest.mark.parametrize("path", ["course", "appointment"])
def test_the_compiled_submission_query_is_the_sql_the_access_rules_build_for_the_submitter(world, role, path):
    user = world.as_role(role)
    instrument = selectors.instrument_definition("phq9")
    course_id, appointment_id = (world.course.pk, None) if path == "course" else (None, world.past_appointment.pk)
    shape, values = selectors.submission_query_values(user, service_user_id=world.service_user.pk, course_id=course_id,
                                                      appointment_id=appointment_id, instrument=instrument)
    compiled_sql, compiled_params = selectors._SUBMISSION_QUERY.sql(shape, **values)
    built = selectors.submission_rows(user, path=path, target_id=course_id or appointment_id, service_user_id=world.service_user.pk,
                                      instrument_id=instrument.pk)
    built_sql, built_params = built.query.get_compiler(using="default").as_sql()
    assert (compiled_sql, list(compiled_params)) == (built_sql, list(built_params))
    assert selectors._SUBMISSION_QUERY._compiled_for(shape, values) is not None  # compiled once, not rebuilt each time


def test_the_compiled_query_sees_access_changes_at_once(world, api):
    """Only SQL is kept: taking the person off the clinician's caseload refuses the next submission."""
    from backend.accounts.models import CaseloadEntry

    client = api(world.clinician)
    body = {"instrument": "phq9", "service_user_id": world.service_user.pk, "course_id": world.course.pk, "mode": "paper", "answers": PHQ9}
    assert submit(client, body, "one").status_code == 201
    CaseloadEntry.objects.filter(service_user=world.service_user).delete()
    refused = submit(client, body, "two")
    assert refused.status_code == 404 and refused.json()["errors"][0]["field"] == "service_user_id"
    assert Response.objects.count() == 1
