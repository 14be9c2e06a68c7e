"""Appointments: modalities offered, chosen and delivered, with the team's cut-off and every change kept."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.sessions.models import Appointment, AppointmentEvent
from tests.factories import book, let_time_pass


def booking(world, **change):
    # Four days ahead: the world already has an appointment three days ahead, which would clash.
    return {"service_user_id": world.service_user.pk, "team_id": world.north.pk, "starts_at": (timezone.now() + timedelta(days=4)).isoformat(),
            "modalities_offered": ["video", "phone", "face_to_face"], "earliest_face_to_face_slot": (timezone.now() + timedelta(days=9)).isoformat(),
            "earliest_remote_slot": (timezone.now() + timedelta(days=3)).isoformat(), **change}


def test_a_clinician_books_with_offers_and_the_earliest_slots(world, api):
    response = api(world.clinician).post("/api/v1/appointments/", booking(world), format="json")
    assert response.status_code == 201
    body = response.json()
    appointment = Appointment.objects.get(pk=body["id"])
    assert appointment.modalities_offered == ["video", "phone", "face_to_face"]
    assert appointment.choice_closes_at == appointment.starts_at - timedelta(hours=24)
    assert appointment.earliest_face_to_face_slot > appointment.earliest_remote_slot
    assert appointment.events.get().kind == AppointmentEvent.Kind.BOOKED


@pytest.mark.parametrize(
    "change, field, status",
    [
        ({"modalities_offered": ["video", "phone"]}, "modalities_offered", 400),
        ({"modalities_offered": ["hologram", "face_to_face"]}, "modalities_offered.0", 400),
        ({"starts_at": "2001-01-01T10:00:00Z"}, "starts_at", 400),
        ({"service_user_id": "{other}"}, "service_user_id", 400),
        ({"team_id": "{south}"}, "team_id", 404),
        ({"modalities_offered": ["face_to_face"]}, "earliest_remote_slot", 400),
        ({"duration_minutes": 0}, "duration_minutes", 400),
        ({"room": "3"}, "room", 400),
    ],
)
def test_bad_bookings_are_refused_and_write_nothing(world, api, change, field, status):
    change = {k: (v.format(other=world.other_service_user.pk, south=world.south.pk) if isinstance(v, str) and "{" in v else v) for k, v in change.items()}
    before = Appointment.objects.count()
    response = api(world.clinician).post("/api/v1/appointments/", booking(world, **change), format="json")
    assert response.status_code == status, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]
    assert Appointment.objects.count() == before


def test_the_service_user_chooses_and_the_clinician_sees_it_at_once(world, api):
    url = f"/api/v1/appointments/{world.appointment.pk}/"
    assert api(world.service_user).post(url + "choice/", {"modality": "phone"}, format="json").status_code == 200
    seen = api(world.clinician).get(url).json()
    assert seen["chosen_modality"] == "phone" and seen["chosen_at"]
    history = api(world.clinician).get(url + "history/").json()["results"]
    assert [e["kind"] for e in history] == ["booked", "modality_chosen"]
    assert history[1]["actor"]["id"] == world.service_user.pk


def test_only_what_was_offered_can_be_chosen(world, api):
    appointment = book(world.clinician, world.service_user, world.north, offered=["phone", "face_to_face"])
    response = api(world.service_user).post(f"/api/v1/appointments/{appointment.pk}/choice/", {"modality": "video"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "not_offered"
    assert "phone call, face to face" in response.json()["detail"]


def test_choice_closes_at_the_teams_cutoff(world, api):
    api(world.admin).patch(f"/api/v1/teams/{world.north.pk}/session-settings/", {"choice_cutoff_hours": 48}, format="json")
    appointment = book(world.clinician, world.service_user, world.north, in_hours=30)
    response = api(world.service_user).post(f"/api/v1/appointments/{appointment.pk}/choice/", {"modality": "phone"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "choice_closed"
    assert "Call your care team" in response.json()["detail"]
    appointment.refresh_from_db()
    assert appointment.chosen_modality == ""


def test_nobody_else_can_choose_for_the_person(world, api):
    for who in (world.clinician, world.carer, world.other_service_user):
        assert api(who).post(f"/api/v1/appointments/{world.appointment.pk}/choice/", {"modality": "phone"}, format="json").status_code in (403, 404)
    world.appointment.refresh_from_db()
    assert world.appointment.chosen_modality == ""


def test_delivery_is_recorded_after_the_session_with_a_reason_when_it_differs(world, api):
    client = api(world.service_user)
    appointment = book(world.clinician, world.service_user, world.north)
    client.post(f"/api/v1/appointments/{appointment.pk}/choice/", {"modality": "video"}, format="json")
    url = f"/api/v1/appointments/{appointment.pk}/delivery/"
    assert api(world.clinician).post(url, {"modality": "phone", "reason": "video_failed"}, format="json").json()["code"] == "not_started"
    let_time_pass(appointment)
    response = api(world.clinician).post(url, {"modality": "phone"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "reason"
    response = api(world.clinician).post(url, {"modality": "phone", "reason": "video_failed"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["chosen_modality"], body["delivered_modality"], body["delivery_reason"]) == ("video", "phone", "video_failed")
    assert api(world.clinician).post(url, {"modality": "video"}, format="json").status_code == 409


def test_delivery_as_chosen_needs_no_reason(world, api):
    appointment = book(world.clinician, world.service_user, world.north)
    api(world.service_user).post(f"/api/v1/appointments/{appointment.pk}/choice/", {"modality": "face_to_face"}, format="json")
    let_time_pass(appointment)
    response = api(world.peer_worker).post(f"/api/v1/appointments/{appointment.pk}/delivery/", {"modality": "face_to_face"}, format="json")
    assert response.status_code == 200


def test_appointments_are_narrowed_to_the_asker(world, api):
    theirs = book(world.other_clinician, world.other_service_user, world.south)
    assert theirs.pk not in {a["id"] for a in api(world.clinician).get("/api/v1/appointments/").json()["results"]}
    assert api(world.clinician).get(f"/api/v1/appointments/{theirs.pk}/").status_code == 404
    assert api(world.service_user).get(f"/api/v1/appointments/{theirs.pk}/").status_code == 404
    assert {a["id"] for a in api(world.other_service_user).get("/api/v1/appointments/").json()["results"]} == {theirs.pk}


def test_appointment_list_queries_do_not_grow(world, api, django_assert_max_num_queries):
    for _ in range(8):
        book(world.clinician, world.service_user, world.north)
    client = api(world.clinician)
    with django_assert_max_num_queries(10):
        assert len(client.get("/api/v1/appointments/").json()["results"]) == 10


def test_a_combined_assessment_and_treatment_appointment_is_booked_and_shown(world, api, client):
    # NHS Talking Therapies counts a combined appointment as treatment (docs/instruments.md).
    response = api(world.clinician).post("/api/v1/appointments/", booking(world, kind="assessment_and_treatment"), format="json")
    assert response.status_code == 201 and response.json()["kind"] == "assessment_and_treatment"
    assert Appointment.objects.get(pk=response.json()["id"]).get_kind_display() == "Assessment and treatment"
    client.force_login(world.service_user)
    assert "<dd>Assessment and treatment</dd>" in client.get("/appointments/").content.decode()


@pytest.mark.parametrize("kind", ["group", "assessment and treatment", ""])
def test_an_appointment_kind_that_is_not_allowed_is_refused_naming_the_field(world, api, kind):
    before = Appointment.objects.count()
    response = api(world.clinician).post("/api/v1/appointments/", booking(world, kind=kind), format="json")
    assert response.status_code == 400 and "kind" in [e["field"] for e in response.json()["errors"]]
    assert Appointment.objects.count() == before
