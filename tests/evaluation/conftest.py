"""A cohort for evaluation tests, made through the real services.

`cohort`: eight people on North's caseload who consent to evaluation (and to remote care and video),
and one more who does not, each with one open course of care. Every appointment is in the past:

- each of the eight attended one face-to-face session;
- persons 1-6 attended one video session;
- persons 7 and 8 chose video and did not attend;
- person 1 also cancelled one appointment, saying why (free text that must never be exported);
- the ninth person (no evaluation consent) attended one face-to-face session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts import services as account_services
from backend.accounts.models import Role, User
from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.sessions import services
from backend.sessions.models import Appointment, Participant
from tests.factories import SYSTEM, World, book, give_consent, let_time_pass, make_user

CANCELLATION_REASON = "Moving house to 12 Acacia Avenue this week"
SAFETY_LOCATION = "Flat 3, 99 Secret Street"


@dataclass
class Cohort:
    world: World
    people: list[User]  # the eight who consent
    refuser: User
    appointments: list[Appointment]


def person(world: World, *, consent: bool = True, team=None) -> User:
    """A person on the team's caseload (North's by default) with an open course of care, so every
    appointment booked for them joins it."""
    team = team or world.north
    user = make_user(Role.SERVICE_USER, phone_number="07700 900999")
    account_services.caseload_add(actor=SYSTEM, team=team, service_user=user)
    give_consent(user, PurposeCode.REMOTE_CARE)
    give_consent(user, PurposeCode.VIDEO)
    if consent:
        give_consent(user, PurposeCode.EVALUATION)
    practitioner = world.clinician if team == world.north else world.other_clinician
    services.course_open(actor=Actor(practitioner), service_user=user, team=team, started_on=timezone.localdate() - timedelta(days=60))
    return user


def appointment(world: World, user: User, *, days_ago: float, choose: str | None = None, clinician: User | None = None, team=None) -> Appointment:
    booked = book(clinician or world.clinician, user, team or world.north)
    if choose:
        services.appointment_choose(actor=Actor(user), appointment=booked, modality=choose)
    return let_time_pass(booked, hours_ago=days_ago * 24)


def attend(world: World, booked: Appointment, modality: str, *, clinician: User | None = None, minutes: float = 45) -> Appointment:
    host = Actor(clinician or world.clinician)
    if modality != "face_to_face":
        services.safety_check_record(actor=host, appointment=booked, current_location=SAFETY_LOCATION, is_private=True,
                                     emergency_contact_confirmed=True, identity_confirmed=True, notes="Private notes here")
    services.session_start(actor=host, appointment=booked, modality=modality)
    services.session_end(actor=host, appointment=booked)
    # The session's length as if it had run for `minutes` (the services stamp now() at start and end).
    booked.refresh_from_db()
    Appointment.objects.filter(pk=booked.pk).update(started_at=booked.ended_at - timedelta(minutes=minutes))
    booked.refresh_from_db()
    return booked


def did_not_attend(world: World, booked: Appointment) -> Appointment:
    services.session_mark_did_not_attend(actor=Actor(world.clinician), appointment=booked)
    booked.refresh_from_db()
    return booked


@pytest.fixture
def cohort(world) -> Cohort:
    people = [person(world) for _ in range(8)]
    made = []
    for index, user in enumerate(people):
        made.append(attend(world, appointment(world, user, days_ago=20 + index), "face_to_face"))
    for user in people[:6]:
        made.append(attend(world, appointment(world, user, days_ago=10, choose="video"), "video"))
    for user in people[6:]:
        made.append(did_not_attend(world, appointment(world, user, days_ago=5, choose="video")))
    cancelled = appointment(world, people[0], days_ago=3)
    services.session_cancel(actor=Actor(people[0]), appointment=cancelled, reason=CANCELLATION_REASON)
    made.append(cancelled)
    refuser = person(world, consent=False)
    made.append(attend(world, appointment(world, refuser, days_ago=15), "face_to_face"))
    return Cohort(world, people, refuser, made)


def switch_and_measure(world: World, booked_for: User) -> Appointment:
    """A running video session in which the person switches to audio only, with telemetry, then ends."""
    booked = appointment(world, booked_for, days_ago=0.01, choose=None)
    host = Actor(world.clinician)
    services.safety_check_record(actor=host, appointment=booked, current_location=SAFETY_LOCATION, is_private=True,
                                 emergency_contact_confirmed=True, identity_confirmed=True)
    services.waiting_room_enter(actor=Actor(booked_for), appointment=booked)
    services.participants_admit(actor=host, appointment=booked)
    services.modality_switch(actor=Actor(booked_for), appointment=booked, to="phone", reason="video_failed")
    participant = Participant.objects.get(appointment=booked, user=booked_for)
    now = timezone.now()
    services.telemetry_record(participant=participant, samples=[
        {"remote_peer": "p1", "measured_at": now, "round_trip_ms": 40, "packet_loss_pct": 1.0, "jitter_ms": 5, "inbound_kbps": 500},
        {"remote_peer": "p1", "measured_at": now, "round_trip_ms": 60, "packet_loss_pct": 3.0, "jitter_ms": 7, "inbound_kbps": 700},
    ], ice_states=[])
    services.session_end(actor=host, appointment=booked)
    booked.refresh_from_db()
    return booked


def run_video_then(world, booked_for, to: str) -> Appointment:
    """A video session in which the person switches to `to` (phone or audio only), then it ends."""
    booked = appointment(world, booked_for, days_ago=1, choose="video")
    host = Actor(world.clinician)
    services.safety_check_record(actor=host, appointment=booked, current_location=SAFETY_LOCATION, is_private=True,
                                 emergency_contact_confirmed=True, identity_confirmed=True)
    services.waiting_room_enter(actor=Actor(booked_for), appointment=booked)
    services.participants_admit(actor=host, appointment=booked)
    services.modality_switch(actor=Actor(booked_for), appointment=booked, to=to, reason="video_failed")
    services.session_end(actor=host, appointment=booked)
    booked.refresh_from_db()
    return booked


@pytest.fixture
def contacts(cohort):
    """conftest.cohort and, for people 1 to 6, one more appointment each: (cohort, {name: appointment}) (test_care_contacts.py)."""
    world, p = cohort.world, cohort.people
    made = {
        "phone": attend(world, appointment(world, p[0], days_ago=2, choose="phone"), "phone", minutes=29.6),
        "video_to_phone": run_video_then(world, p[1], "phone"),
        "video_to_audio_only": run_video_then(world, p[2], "audio_only"),
    }
    by_service = appointment(world, p[3], days_ago=2)
    services.session_cancel(actor=Actor(world.clinician), appointment=by_service, reason="Clinician unwell")
    made["cancelled_by_service"] = by_service
    made["open_assessment"] = book(world.clinician, p[4], world.north, in_hours=24 * 7, kind=Appointment.Kind.ASSESSMENT)
    made["phone_dna"] = did_not_attend(world, appointment(world, p[5], days_ago=2, choose="phone"))
    return cohort, made



# --- Courses of care with paired scores, imported through the real CSV import -----------------------
PHQ = [f"phq9_{n}" for n in range(1, 10)]
GAD = [f"gad7_{n}" for n in range(1, 8)]
CORE = [f"core10_{n}" for n in range(1, 11)]
IMPORT_HEADER = ["service_user_ref", "course_ref", "referral_date", "end_date", "ending_reason", "appointment_ref", "date", "type",
                 "modality", "attended", *PHQ, *GAD, *CORE]


def answers_for(total: int | None, items: int, *, last_item_zero: bool = False) -> list:
    """Item values (0 to 3) adding up to `total`, filling from item 1; empty when None."""
    if total is None:
        return [""] * items
    values, left = [], total
    for _ in range(items - (1 if last_item_zero else 0)):
        values.append(min(3, left))
        left -= values[-1]
    assert left == 0, total
    return values + ([0] if last_item_zero else [])


# Four kinds of finished course, five of each (PHQ-9 first and last, GAD-7 first and last). By the
# NHS Talking Therapies rules (PHQ-9 caseness 10, reliable change 6; GAD-7 8 and 4):
KINDS = {
    "A": ((15, 5), (12, 4)),   # at caseness; recovered; reliably improved (-10, -8): reliable recovery
    "B": ((11, 9), (8, 7)),    # at caseness; recovered; no reliable change (-2, -1)
    "C": ((12, 18), (9, 13)),  # at caseness; not recovered; reliably deteriorated (+6, +4)
    "D": ((9, 2), (7, 2)),     # not at caseness; reliably improved (-7, -5)
}
# Video courses are kinds A and C; face-to-face ones B and D. B's also have CORE-10 first and last.
COURSE_PLAN = [(f"{kind}{n}", "video" if kind in "AC" else "face_to_face", kind) for kind in "ABCD" for n in range(1, 6)]
CORE10_OF_B = {"B1": (20, 14), "B2": (18, 14), "B3": (16, 14), "B4": (22, 14), "B5": (24, 14)}  # changes -6 -4 -2 -8 -10


def import_rows(course: str, modalities: list[str], phq: tuple, gad: tuple, *, end: str = "2024-06-30", core: tuple = (None, None),
                attended: list[str] | None = None, kinds: list[str] | None = None) -> list[list]:
    """One course's CSV rows: the first session has the first scores, the last the last ones. Unless
    `kinds` says otherwise, the first is a combined assessment and treatment appointment and the rest
    treatment ones, so a course of two attended sessions finished a course of treatment."""
    rows = []
    for index, modality in enumerate(modalities):
        first, last = index == 0, index == len(modalities) - 1
        pick = (lambda pair: pair[0]) if first else (lambda pair: pair[1]) if last else (lambda pair: None)
        went = (attended or ["yes"] * len(modalities))[index]
        rows.append([f"NHS-{course}", f"C-{course}", "2024-01-02", end, "completed" if end else "", f"A-{course}-{index + 1}",
                     f"2024-0{index + 2}-10", kinds[index] if kinds else "assessment_and_treatment" if first else "treatment",
                     modality, went,
                     *answers_for(pick(phq) if went == "yes" else None, 9, last_item_zero=True),
                     *answers_for(pick(gad) if went == "yes" else None, 7),
                     *answers_for(pick(core) if went == "yes" else None, 10)])
    return rows


def import_courses(world: World, rows: list[list]) -> dict[str, User]:
    """Import the rows into North; every person they name (but X...) consents to evaluation."""
    from backend.accounts.models import ServiceUserReference
    from backend.outcomes.imports import import_csv

    text = "\n".join(",".join(str(v) for v in row) for row in [IMPORT_HEADER, *rows]) + "\n"
    import_csv(actor=Actor(world.admin), team=world.north, text=text)
    people = {ref.reference.removeprefix("NHS-"): ref.service_user
              for ref in ServiceUserReference.objects.filter(organisation=world.organisation).select_related("service_user")}
    for course, user in people.items():
        if not course.startswith("X") and not user.consent_records.filter(purpose__code=PurposeCode.EVALUATION).exists():
            give_consent(user, PurposeCode.EVALUATION)
    return people


@dataclass
class OutcomesCohort:
    world: World
    people: dict[str, User]  # course name -> person


@pytest.fixture
def outcomes_cohort(world) -> OutcomesCohort:
    """The twenty finished courses of COURSE_PLAN (two sessions each, scored at both), O1 still open,
    and X1 whose person does not consent to evaluation."""
    rows = []
    for course, modality, kind in COURSE_PLAN:
        phq, gad = KINDS[kind]
        rows += import_rows(course, [modality, modality], phq, gad, core=CORE10_OF_B.get(course, (None, None)))
    rows += import_rows("O1", ["video", "video"], (15, 5), (12, 4), end="")
    rows += import_rows("X1", ["video", "video"], (15, 5), (12, 4))
    return OutcomesCohort(world, import_courses(world, rows))
