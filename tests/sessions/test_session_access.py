"""The one rule for sessions, `session_access_for(user, appointment_id, need)` (issue 10): who may see,
join and run a session, and the findings it fixes: TURN credentials went to anyone who could see
the appointment, not only to the people taking part."""

import pytest

from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.core.errors import NotFound
from backend.sessions import selectors, services
from backend.sessions.selectors import JOIN, RUN, SEE, NoSessionAccess, session_access_for
from tests.factories import withdraw_consent

pytestmark = pytest.mark.django_db

OK, HIDDEN, REFUSED = "ok", 404, 403


def outcome(user, appointment_id, need):
    try:
        access = session_access_for(user, appointment_id, need)
    except NoSessionAccess:
        return REFUSED
    except NotFound:
        return HIDDEN
    return OK if need == SEE else access.role


def invite_carer(world):
    services.carer_invite(actor=Actor(world.service_user), appointment=world.appointment, carer=world.carer)


@pytest.mark.parametrize("name, see, join, run", [
    ("clinician", OK, "host", "host"),  # the practitioner the appointment is with
    ("peer_worker", OK, "host", "host"),  # same team: may cover for the booked practitioner (issue 13)
    ("service_user", OK, "service_user", REFUSED),
    ("carer", OK, "carer", REFUSED),  # invited, link active, consent holds
    ("unlinked_carer", HIDDEN, HIDDEN, HIDDEN),
    ("other_clinician", HIDDEN, HIDDEN, HIDDEN),
    ("other_service_user", HIDDEN, HIDDEN, HIDDEN),
    ("evaluator", HIDDEN, HIDDEN, HIDDEN),
    ("admin", HIDDEN, HIDDEN, HIDDEN),
])
def test_who_may_see_join_and_run(world, name, see, join, run):
    invite_carer(world)
    user = getattr(world, name)
    assert [outcome(user, world.appointment.pk, need) for need in (SEE, JOIN, RUN)] == [see, join, run]


def test_a_carer_not_invited_may_see_the_time_but_not_join(world):
    assert outcome(world.carer, world.appointment.pk, SEE) == OK
    assert outcome(world.carer, world.appointment.pk, JOIN) == REFUSED


@pytest.mark.parametrize("change", ["consent", "link", "removed"])
def test_a_carer_loses_join_when_consent_link_or_invitation_ends(world, change):
    invite_carer(world)
    if change == "consent":
        withdraw_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)
    elif change == "link":
        from backend.accounts.services import carer_link_end

        carer_link_end(actor=Actor(world.carer), link=world.carer_link)
    else:
        services.participant_remove(actor=Actor(world.service_user), appointment=world.appointment, user=world.carer)
    expected = REFUSED if change == "removed" else HIDDEN  # removed: still shares with them, no longer invited
    assert outcome(world.carer, world.appointment.pk, JOIN) == expected


def test_a_removed_carer_can_be_invited_again(world):
    invite_carer(world)
    services.participant_remove(actor=Actor(world.clinician), appointment=world.appointment, user=world.carer)
    invite_carer(world)
    assert outcome(world.carer, world.appointment.pk, JOIN) == "carer"


def test_only_the_person_the_host_or_the_carer_removes_a_carer(world):
    from backend.core.errors import Forbidden

    invite_carer(world)
    with pytest.raises(Forbidden):
        services.participant_remove(actor=Actor(world.other_service_user), appointment=world.appointment, user=world.carer)
    with pytest.raises(Forbidden):
        services.participant_remove(actor=Actor(world.unlinked_carer), appointment=world.appointment, user=world.carer)
    services.participant_remove(actor=Actor(world.carer), appointment=world.appointment, user=world.carer)  # steps back
    assert outcome(world.carer, world.appointment.pk, JOIN) == REFUSED


def test_turn_credentials_go_to_participants_only(world, api, settings):
    """The finding: `ice-servers/` answered anyone who could see the appointment."""
    settings.TURN_URLS = ["turn:turn.example.test:3478"]
    settings.TURN_SECRET = "test-turn-secret"
    url = f"/api/v1/appointments/{world.appointment.pk}/ice-servers/"
    assert api(world.peer_worker).get(url).status_code == 200  # a colleague of the team may run it
    assert api(world.carer).get(url).status_code == 403  # may see the time; not invited
    assert api(world.other_clinician).get(url).status_code == 404
    invite_carer(world)
    assert api(world.carer).get(url).status_code == 200
    assert api(world.service_user).get(url).status_code == 200
    withdraw_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)
    assert api(world.carer).get(url).status_code == 404


def test_the_call_needs_the_persons_consent_to_video_for_a_video_call(world):
    services.safety_check_record(actor=Actor(world.clinician), appointment=world.appointment, current_location="Home",
                                 is_private=True, emergency_contact_confirmed=True, identity_confirmed=True)
    services.waiting_room_enter(actor=Actor(world.service_user), appointment=world.appointment)
    services.participants_admit(actor=Actor(world.clinician), appointment=world.appointment)
    assert selectors.call_participant_for(world.service_user, world.appointment.pk).state == "admitted"
    withdraw_consent(world.service_user, PurposeCode.VIDEO)
    for user in (world.service_user, world.clinician):
        with pytest.raises(selectors.SessionConsentMissing):
            selectors.call_participant_for(user, world.appointment.pk)


@pytest.mark.parametrize("name", ["clinician", "peer_worker", "service_user", "carer", "other_clinician"])
def test_the_compiled_join_queries_are_the_sql_the_access_rule_builds_for_the_asker(world, name):
    """session_access_for runs its appointment and participants queries as SQL compiled once per role
    (backend/core/compiled.py): that SQL must be what the ORM builds from the rule for the real asker,
    and what they return must be what the ORM returns. A carer's is never compiled (their rule writes
    the re-consent version it read into the SQL)."""
    invite_carer(world)
    user = getattr(world, name)
    pk = world.appointment.pk
    if user.role in selectors._COMPILED_ROLES:
        compiled = selectors._VISIBLE_APPOINTMENT.sql((user.role,), user_id=user.pk, appointment_id=pk)
        built = selectors.visible_appointment_rows(user, pk).query.get_compiler(using="default").as_sql()
        assert (compiled[0], list(compiled[1])) == (built[0], list(built[1]))
    else:
        assert name == "carer"
    for one, values in ((False, {"appointment_id": pk}), (True, {"appointment_id": pk, "user_id": user.pk})):
        compiled = selectors._PARTICIPANTS.sql((one,), **values)
        built = selectors.participant_rows(pk, user.pk if one else None).query.get_compiler(using="default").as_sql()
        assert (compiled[0], list(compiled[1])) == (built[0], list(built[1]))
    try:
        found = selectors.visible_appointment(user, pk)
    except NotFound:
        found = None
    expected = selectors.appointments_visible_to(user).filter(pk=pk).first()
    if expected is None:
        assert found is None
    else:
        for field in ("service_user", "practitioner", "team"):
            assert getattr(found, field) == getattr(expected, field)
        assert [(f.attname, getattr(found, f.attname)) for f in found._meta.concrete_fields] == \
            [(f.attname, getattr(expected, f.attname)) for f in expected._meta.concrete_fields]
        access = session_access_for(user, pk, SEE)
        assert access.appointment == expected


def test_the_compiled_join_queries_see_access_changes_at_once(world):
    """Only SQL is kept between joins: an invitation ended refuses the next join."""
    invite_carer(world)
    assert outcome(world.carer, world.appointment.pk, JOIN) == "carer"
    withdraw_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)
    assert outcome(world.carer, world.appointment.pk, JOIN) in (HIDDEN, REFUSED)
