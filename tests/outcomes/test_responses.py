"""Recording questionnaires through the API: scored as published, idempotent on retry, refused cleanly
(nothing partly written) for bad answers, closed courses and people who may not record them."""

import pytest

from backend.audit.actor import Actor
from backend.outcomes.models import Answer, Response, RiskFlag
from backend.sessions import services as session_services

PHQ9_MODERATE = {"1": 3, "2": 3, "3": 2, "4": 2, "5": 1, "6": 1, "7": 1, "8": 0, "9": 0}


def body(world, **overrides):
    return {"instrument": "phq9", "service_user_id": world.service_user.pk, "appointment_id": world.past_appointment.pk,
            "mode": "self_online", "answers": PHQ9_MODERATE, **overrides}


def post(client, data, key="key-1"):
    return client.post("/api/v1/responses/", data, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_person_fills_in_their_own_phq9(world, api):
    answer = post(api(world.service_user), body(world))
    assert answer.status_code == 201, answer.json()
    saved = answer.json()
    assert (saved["raw_total"], saved["score"], saved["band"], saved["at_caseness"], saved["status"]) == (13, "13.00", "Moderate", True, "scored")
    response = Response.objects.get(pk=saved["id"])
    assert response.course == world.course and response.mode == "self_online" and response.entered_by == world.service_user
    assert [a.value for a in response.answers.order_by("item__number")] == [3, 3, 2, 2, 1, 1, 1, 0, 0]


def test_a_retry_with_the_same_key_is_not_stored_twice(world, api):
    client = api(world.service_user)
    first, retry = post(client, body(world)), post(client, body(world))
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert Response.objects.count() == 1


def test_the_same_key_with_different_answers_is_a_conflict(world, api):
    client = api(world.service_user)
    post(client, body(world))
    changed = post(client, body(world, answers={**PHQ9_MODERATE, "1": 0}))
    assert changed.status_code == 409 and changed.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Response.objects.count() == 1


def test_a_submission_without_an_idempotency_key_is_refused(world, api):
    answer = api(world.service_user).post("/api/v1/responses/", body(world), format="json")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize("answers,field,code", [
    ({**PHQ9_MODERATE, "3": 4}, "answers.3", "out_of_range"),
    ({**PHQ9_MODERATE, "10": 1}, "answers.10", "no_such_item"),
    ({k: v for k, v in PHQ9_MODERATE.items() if k != "9"}, "answers.9", "required"),
    ({**PHQ9_MODERATE, "2": None}, "answers.2", "required"),
])
def test_bad_answers_are_refused_and_nothing_is_written(world, api, answers, field, code):
    answer = post(api(world.service_user), body(world, answers=answers))
    assert answer.status_code == 400, answer.json()
    error = answer.json()["errors"][0]
    assert (error["field"], error["code"]) == (field, code)
    assert (Response.objects.count(), Answer.objects.count(), RiskFlag.objects.count()) == (0, 0, 0)


def test_answers_left_unanswered_on_purpose_are_kept_unscored(world, api):
    answers = {**PHQ9_MODERATE, "2": None}
    answer = post(api(world.clinician), body(world, mode="paper", answers=answers, accept_incomplete=True))
    assert answer.status_code == 201
    assert (answer.json()["status"], answer.json()["score"], answer.json()["unanswered_items"]) == ("incomplete", None, 1)


def test_core10_with_one_item_missing_is_prorated(world, api):
    answers = {str(n): v for n, v in enumerate([2, 3, 3, 1, 1, 0, 2, 2, 2, None], start=1)}
    answer = post(api(world.clinician), body(world, instrument="core10", mode="clinician_phone", answers=answers))
    assert answer.status_code == 201
    assert (answer.json()["raw_total"], answer.json()["prorated"]) == (13, True)


def test_a_closed_course_takes_no_more_answers(world, api):
    session_services.course_end(actor=Actor(world.clinician), course=world.course, reason="completed")
    answer = post(api(world.service_user), body(world))
    assert answer.status_code == 409 and answer.json()["code"] == "course_closed"
    assert Response.objects.count() == 0


def test_an_appointment_outside_any_course_cannot_take_answers(world, api):
    session_services.course_end(actor=Actor(world.clinician), course=world.course, reason="completed")
    from tests.factories import book
    loose = book(world.clinician, world.service_user, world.north)
    answer = post(api(world.service_user), body(world, appointment_id=loose.pk))
    assert answer.status_code == 409 and answer.json()["code"] == "no_course"


def test_modes_follow_who_is_entering(world, api):
    as_self = post(api(world.service_user), body(world, mode="paper"))
    assert as_self.status_code == 400 and as_self.json()["errors"][0]["field"] == "mode"
    as_clinician = post(api(world.clinician), body(world, mode="self_online"))
    assert as_clinician.status_code == 400 and as_clinician.json()["errors"][0]["field"] == "mode"
    by_phone = post(api(world.peer_worker), body(world, mode="clinician_phone"), key="phone")
    assert by_phone.status_code == 201 and Response.objects.get().entered_by == world.peer_worker


def test_people_outside_the_care_team_cannot_record_answers(world, api):
    other_team = post(api(world.other_clinician), body(world, mode="clinician_phone"))
    assert other_team.status_code == 404
    someone_else = post(api(world.other_service_user), body(world))
    assert someone_else.status_code == 404
    assert post(api(world.carer), body(world)).status_code == 403
    assert post(api(world.evaluator), body(world)).status_code == 403
    assert Response.objects.count() == 0


def test_a_correction_replaces_without_erasing(world, api):
    client = api(world.clinician)
    first = post(client, body(world, mode="paper"), key="a").json()
    corrected = post(client, body(world, mode="paper", answers={**PHQ9_MODERATE, "1": 0}, replaces=first["id"],
                                  replacement_reason="Item 1 was misread from the paper form"), key="b")
    assert corrected.status_code == 201 and corrected.json()["raw_total"] == 10
    listed = api(world.clinician).get(f"/api/v1/responses/?service_user_id={world.service_user.pk}").json()["results"]
    assert [r["id"] for r in listed] == [corrected.json()["id"]]
    earlier = api(world.clinician).get(f"/api/v1/responses/{first['id']}/").json()
    assert earlier["replaced_by"] == corrected.json()["id"] and len(earlier["answers"]) == 9
    again = post(client, body(world, mode="paper", replaces=first["id"], replacement_reason="again"), key="c")
    assert again.status_code == 409


def test_carers_see_scores_only_when_the_person_shares_them(world, api):
    post(api(world.service_user), body(world))
    assert api(world.carer).get("/api/v1/responses/").json()["results"] == []
    from tests.factories import give_consent
    give_consent(world.service_user, "carer_involvement", carer=world.carer, share_outcomes=True)
    assert len(api(world.carer).get("/api/v1/responses/").json()["results"]) == 1
    assert api(world.unlinked_carer).get("/api/v1/responses/").json()["results"] == []


def test_responses_are_append_only(world, api):
    post(api(world.service_user), body(world))
    from backend.audit.append_only import AppendOnlyViolation
    with pytest.raises(AppendOnlyViolation):
        Response.objects.update(score=0)
    from django.db import connection, transaction
    from django.db.utils import ProgrammingError
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE outcomes_answer SET value = 0")
