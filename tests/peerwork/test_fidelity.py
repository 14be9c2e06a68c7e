"""Fidelity ratings: only the three informants, answers checked and scored against the loaded questionnaire."""

import pytest

from backend.audit.actor import Actor
from backend.peerwork.models import FidelityAnswer, FidelityQuestionnaire, FidelityRating
from backend.sessions import services as session_services
from backend.accounts.models import Role
from tests.factories import make_user
from tests.peerwork.helpers import ANSWERS, load_all, load_questionnaire, supervise

pytestmark = pytest.mark.django_db


def _rating(world, **changes):
    return {"peer_worker_id": world.peer_worker.pk, "team_id": world.north.pk, "rated_on": "2026-11-20", "answers": ANSWERS, **changes}


def _peer_session(world, person):
    """An appointment the peer worker ran with `person`, ended."""
    from tests.evaluation.conftest import appointment

    booked = appointment(world, person, days_ago=2, clinician=world.peer_worker)
    session_services.session_start(actor=Actor(world.peer_worker), appointment=booked, modality="face_to_face")
    session_services.session_end(actor=Actor(world.peer_worker), appointment=booked)
    return booked


def test_each_of_the_three_informants_may_rate(world, api):
    load_all(world)
    answer = api(world.peer_worker).post("/api/v1/peer-work/fidelity-ratings/", _rating(world), format="json")
    assert answer.status_code == 201, answer.content
    # 4 + (1+4-1=4) + 3 + 3 + 2 + 2 + 4 = 22 over 7 answered, prorated to 8 items: 22/7*8 = 25.14 -> 25
    assert answer.json()["informant"] == "peer_worker" and answer.json()["score"] == "25.00"
    supervise(world)
    assert api(world.clinician).post("/api/v1/peer-work/fidelity-ratings/", _rating(world), format="json").json()["informant"] == "supervisor"
    from tests.evaluation.conftest import person

    supported = person(world)
    _peer_session(world, supported)
    answer = api(supported).post("/api/v1/peer-work/fidelity-ratings/", _rating(world), format="json")
    assert answer.status_code == 201 and answer.json()["informant"] == "person_supported"
    assert FidelityRating.objects.count() == 3 and FidelityAnswer.objects.count() == 24
    listed = api(world.clinician).get("/api/v1/peer-work/fidelity-ratings/").json()["results"]
    assert [r["informant"] for r in listed] == ["supervisor"]  # only the ratings one gave


def test_someone_who_is_not_an_informant_gets_a_clear_error_and_nothing_is_saved(world, api):
    load_all(world)
    outsiders = [world.other_clinician, world.clinician, world.service_user]  # no supervision recorded, no peer session
    bodies = []
    for user in outsiders:
        answer = api(user).post("/api/v1/peer-work/fidelity-ratings/", _rating(world), format="json")
        assert answer.status_code == 403, answer.content
        assert answer.json()["code"] == "not_an_informant" and "three informants" in answer.json()["detail"]
        bodies.append(answer.json())
    # An id that is no peer worker at all gets the same answer: nothing is revealed.
    for peer_worker_id in (world.clinician.pk, 99_999_999):
        answer = api(world.other_clinician).post("/api/v1/peer-work/fidelity-ratings/", _rating(world, peer_worker_id=peer_worker_id), format="json")
        assert answer.status_code == 403 and answer.json() == bodies[0]
    # A supervisor of another team of the peer worker's is not an informant here.
    supervise(world, world.other_clinician)
    assert api(world.other_clinician).post("/api/v1/peer-work/fidelity-ratings/", _rating(world, team_id=world.south.pk),
                                           format="json").status_code == 403
    for user in (world.carer, world.evaluator, world.admin):
        assert api(user).post("/api/v1/peer-work/fidelity-ratings/", _rating(world), format="json").status_code == 403
    assert not FidelityRating.objects.exists() and not FidelityAnswer.objects.exists()


def test_bad_answers_save_nothing(world, api):
    load_all(world)
    client = api(world.peer_worker)
    for answers, field in (({"1": 9}, "answers.1"), ({"99": 1}, "answers.99"), ({"x": 1}, "answers"), ({"1": None}, "answers"), ({}, "answers")):
        answer = client.post("/api/v1/peer-work/fidelity-ratings/", _rating(world, answers=answers), format="json")
        assert answer.status_code == 400, answer.content
        assert answer.json()["errors"][0]["field"] == field
    assert client.post("/api/v1/peer-work/fidelity-ratings/", _rating(world, rated_on="2999-01-01"), format="json").status_code == 400
    assert not FidelityRating.objects.exists()


def test_no_questionnaire_loaded_is_a_409_saying_what_to_do(world, api):
    answer = api(world.peer_worker).post("/api/v1/peer-work/fidelity-ratings/", _rating(world), format="json")
    assert answer.status_code == 409 and answer.json()["code"] == "no_questionnaire"


def test_an_admin_registers_the_licensed_items_with_a_domain_for_every_item(world, api):
    client = api(world.admin)
    created = client.post("/api/v1/instruments/", {
        "organisation_id": world.organisation.pk, "code": "psfi-pw", "name": "PSFI (peer worker)", "title": "Loaded from the licence",
        "stem": "Instructions from the licensed manual.", "higher_is_worse": False,
        "options": [{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}],
        "items": [{"number": n, "text": f"Licensed item {n}"} for n in range(1, 5)],
    }, format="json")
    assert created.status_code == 201, created.content
    body = {"instrument": "psfi-pw", "informant": "peer_worker", "licence": "Licensed to the trust", "source": "Gillard et al.",
            "item_domains": {"1": "trust_lived_experience", "2": "reciprocity_mutuality", "3": "leadership_choice_control", "4": "strengths_community"}}
    for broken, field in (({**body, "item_domains": {"1": "trust_lived_experience"}}, "item_domains"),
                          ({**body, "item_domains": {**body["item_domains"], "4": "trust_lived_experience"}}, "item_domains"),
                          ({**body, "item_domains": {**body["item_domains"], "4": "vibes"}}, "item_domains.4"),
                          ({**body, "instrument": "phq9"}, "instrument"), ({**body, "licence": ""}, "licence")):
        answer = client.post("/api/v1/peer-work/fidelity-questionnaires/", broken, format="json")
        assert answer.status_code in (400, 404), answer.content
        assert answer.json()["errors"][0]["field"] == field, answer.json()
    assert not FidelityQuestionnaire.objects.exists()
    answer = client.post("/api/v1/peer-work/fidelity-questionnaires/", body, format="json")
    assert answer.status_code == 201 and answer.json()["in_use"] is True
    assert [q["instrument"] for q in client.get("/api/v1/peer-work/fidelity-questionnaires/").json()["results"]] == ["psfi-pw"]
    assert api(world.clinician).post("/api/v1/peer-work/fidelity-questionnaires/", body, format="json").status_code == 403
    # Retiring the instrument takes it out of use: ratings then wait for a new one.
    client.post("/api/v1/instruments/psfi-pw/retire/")
    assert api(world.peer_worker).post("/api/v1/peer-work/fidelity-ratings/", _rating(world, answers={"1": 1}), format="json").status_code == 409


def test_another_organisations_admin_cannot_register_our_questionnaire(world, api, elsewhere):
    load_questionnaire(world)
    answer = api(elsewhere.admin).post("/api/v1/peer-work/fidelity-questionnaires/", {
        "instrument": "fidelity-peer-worker", "informant": "supervisor", "licence": "x", "source": "y",
        "item_domains": {str(n): "trust_lived_experience" for n in range(1, 9)}}, format="json")
    assert answer.status_code == 404
    assert api(elsewhere.admin).get("/api/v1/peer-work/fidelity-questionnaires/").json()["results"] == []


def test_a_person_who_attended_a_peer_led_group_may_rate(world, api):
    from backend.groups.models import GroupAttendee, GroupSession
    from tests.factories import book_group

    load_all(world)
    group = book_group(world)  # facilitated by the clinician, co-facilitated by the peer worker
    GroupSession.objects.filter(pk=group.pk).update(status=GroupSession.Status.ENDED)
    GroupAttendee.objects.filter(group=group).update(attendance=GroupAttendee.Attendance.ATTENDED)
    answer = api(world.service_user).post("/api/v1/peer-work/fidelity-ratings/", _rating(world), format="json")
    assert answer.status_code == 201 and answer.json()["informant"] == "person_supported"
    stranger = make_user(Role.SERVICE_USER)
    assert api(stranger).post("/api/v1/peer-work/fidelity-ratings/", _rating(world), format="json").status_code == 403
