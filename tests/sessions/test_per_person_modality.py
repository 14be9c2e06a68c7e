"""Switching to phone is per person: the waiting-room snapshot says how each person takes part, and
only the host sees the others (with the number to phone them on)."""

from backend.audit.actor import Actor
from backend.sessions import selectors, services
from backend.sessions.models import Participant
from tests.sessions.test_session_lifecycle import running_session


def test_the_snapshot_says_how_each_person_takes_part_and_only_the_host_sees_the_others(world):
    appointment = running_session(world)
    services.modality_switch(actor=Actor(world.service_user), appointment=appointment, to="phone", reason="video_failed")

    host_view = selectors.lobby_snapshot(appointment.pk, Participant.Role.HOST)
    by_role = {p["role"]: p for p in host_view["participants"]}
    assert (host_view["modality"], by_role["service_user"]["modality"], by_role["carer"]["modality"]) == ("video", "phone", "video")
    assert set(by_role["service_user"]) >= {"phone_number", "user_id", "state"}
    for role in (Participant.Role.SERVICE_USER, Participant.Role.CARER):
        assert selectors.lobby_snapshot(appointment.pk, role)["participants"] is None  # nobody else's number


def test_someone_admitted_later_takes_part_the_way_the_session_is_happening(world):
    appointment = running_session(world)
    services.modality_switch(actor=Actor(world.clinician), appointment=appointment, to="phone", reason="clinician_decided")
    services.participant_move(actor=Actor(world.clinician), appointment=appointment, user=world.carer, state="waiting")
    services.participants_admit(actor=Actor(world.clinician), appointment=appointment, user_ids=[world.carer.pk])
    assert Participant.objects.get(appointment=appointment, user=world.carer).delivered_modality == "phone"
