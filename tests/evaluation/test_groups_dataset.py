"""Group meetings in the evaluation datasets: the `groups` dataset (one row per meeting) and the care_contacts
rows of their attendees (therapy mode 3), through the real group services, a real Janus and the export API.

Worked by hand, on conftest.cohort (p0-p7 consent to evaluation; the refuser does not) and `group_cohort`:

Meeting 1 of a weekly series of two (North; facilitator a clinician, co-facilitator a peer worker; capacity 8),
booked p0-p5 and the refuser (7 places). Started in Janus; admitted p0-p4 and the refuser; p2 had withdrawn
video consent, so joined audio only; p1 was removed (left early); p5 never came (did not attend). Ended,
then the facilitator corrected the times: p0 60 min, p1 20, p2 45, p3 50, p4 55 (the refuser's left alone).
The meeting ran 90 minutes.
    care_contacts rows: p0 11 true 5 attended 60 | p1 11 true 5 left_early 20 | p2 11 true 5 attended 45, audio
    only | p3 5, 50 | p4 5, 55 | p5 11 false 3 did_not_attend, no duration. No row for the refuser. group_size 7.
    groups row: capacity 8, places_booked 7, booked 6, attended 4 (p0 p2 p3 p4), left_early 1, did_not_attend 1,
    audio_only 1, median attended minutes of 60 20 45 50 55 = 50.0, duration 90.0, status ended.
Meeting 2, a week later, not yet held: six open care contacts (11 planned, no attendance code); booked 6, the
rest 0, no median, no duration, status scheduled.
A carers' group (North, one carer): a groups row with places_booked 1 and booked 0; no care contact (carers are
never in evaluation).
So care_contacts has the cohort's 17 appointments + 6 + 6 group rows = 29, and groups 3 rows.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.evaluation import national_codes
from backend.evaluation.dictionary import CARE_CONTACTS, DATASETS, GROUPS
from backend.evaluation.pseudonyms import group_ref, pseudonym, series_ref
from backend.evaluation.selectors import Filters, group_contact_rows_queryset, group_rows_queryset
from backend.groups import services
from backend.groups.models import GroupAttendee, GroupSession
from tests.evaluation.test_exports import csv_rows, unzip
from tests.factories import withdraw_consent

URL = "/api/v1/evaluation/exports/"
MINUTES = {0: 60, 1: 20, 2: 45, 3: 50, 4: 55}


def export(api, user, dataset, fmt="csv", **body):
    return api(user).post(URL, {"dataset": dataset, "format": fmt, "dates": "exact", **body}, format="json")


def rows(api, user, dataset, **body) -> list[dict]:
    return csv_rows(unzip(export(api, user, dataset, **body))[f"{dataset}.csv"])


@pytest.fixture
def group_cohort(cohort, janus):
    world, p = cohort.world, cohort.people
    facilitator = Actor(world.clinician, via="test")
    withdraw_consent(p[2], PurposeCode.VIDEO)
    first, second = services.group_book(
        actor=facilitator, team=world.north, title="Hearing Voices group", facilitator=world.clinician, co_facilitator=world.peer_worker,
        starts_at=timezone.now() - timedelta(minutes=10), people=[*p[:6], cohort.refuser], capacity=8, repeat_weeks=2,
    )
    services.group_start(actor=facilitator, group=first)
    places = {a.person_id: a for a in first.attendees.all()}
    for person in [*p[:5], cohort.refuser]:
        services.attendee_admit(actor=facilitator, attendee=places[person.pk])
    services.attendee_remove(actor=facilitator, attendee=places[p[1].pk])
    services.group_end(actor=facilitator, group=first)
    for index, minutes in MINUTES.items():
        attendee = GroupAttendee.objects.get(group=first, person=p[index])
        services.attendance_correct(actor=facilitator, attendee=attendee, attendance=attendee.attendance, attended_seconds=minutes * 60)
    first.refresh_from_db()
    GroupSession.objects.filter(pk=first.pk).update(started_at=first.ended_at - timedelta(minutes=90))  # as if it ran 90 minutes
    carers = services.group_book(actor=facilitator, team=world.north, title="Carers' course", facilitator=world.peer_worker,
                                 starts_at=timezone.now() + timedelta(days=2), people=[world.carer], for_carers=True)[0]
    return cohort, first, second, carers


def test_each_attendee_of_a_group_meeting_is_a_care_contact_in_therapy_mode_3(group_cohort, api):
    cohort, first, second, carers = group_cohort
    p = cohort.people
    everything = rows(api, cohort.world.evaluator, "care_contacts")
    assert len(everything) == 17 + 12 and list(everything[0]) == CARE_CONTACTS.names
    one_to_one = [r for r in everything if r["appointment"]]
    assert len(one_to_one) == 17 and {r["therapy_mode"] for r in one_to_one} == {"1"}
    assert all(r["group"] == r["group_size"] == r["group_attendance"] == r["co_facilitator_role"] == "" for r in one_to_one)
    group_rows = everything[17:]  # after every appointment, meeting by meeting
    assert all(r["appointment"] == "" and r["course"] == "" and r["therapy_mode"] == "3" for r in group_rows)
    at = {(r["group"], r["person"]): r for r in group_rows}
    assert {g for g, _ in at} == {group_ref(first.pk), group_ref(second.pk)} and group_ref(carers.pk) not in {g for g, _ in at}
    assert pseudonym(cohort.refuser.pk) not in {person for _, person in at}  # attended, but gave no evaluation consent

    def codes(group, index):
        r = at[(group_ref(group.pk), pseudonym(p[index].pk))]
        return (r["consultation_mechanism"], r["mechanism_delivered"], r["attendance_code"], r["status"], r["group_attendance"],
                r["duration_minutes"], r["audio_only_during_video"])

    assert codes(first, 0) == ("11", "true", "5", "attended", "attended", "60", "false")
    assert codes(first, 1) == ("11", "true", "5", "attended", "left_early", "20", "false")
    assert codes(first, 2) == ("11", "true", "5", "attended", "attended", "45", "true")  # no video consent: audio only, still 11
    assert codes(first, 3)[5] == "50" and codes(first, 4)[5] == "55"
    assert codes(first, 5) == ("11", "false", "3", "did_not_attend", "did_not_attend", "", "false")
    for index in range(6):
        assert codes(second, index) == ("11", "false", "", "open", "", "", "false")
    for r in group_rows:
        assert (r["group_size"], r["practitioner_role"], r["co_facilitator_role"], r["kind"], r["treatment_appointment"]) == (
            "7", "clinician", "peer_worker", "group", "")
        assert (r["planned"], r["switched_to"], r["cancelled_by_role"], r["team"]) == ("true", "", "", "North")
    assert national_codes.GROUP == "3" and national_codes.GROUP_MECHANISM == national_codes.VIDEO_CONSULTATION


@pytest.mark.parametrize("status, attendance, code", [
    (GroupSession.Status.ENDED, GroupAttendee.Attendance.ATTENDED, "5"),
    (GroupSession.Status.ENDED, GroupAttendee.Attendance.LEFT_EARLY, "5"),
    (GroupSession.Status.ENDED, GroupAttendee.Attendance.DID_NOT_ATTEND, "3"),
    (GroupSession.Status.CANCELLED, GroupAttendee.Attendance.UNKNOWN, "4"),
    (GroupSession.Status.SCHEDULED, GroupAttendee.Attendance.UNKNOWN, None),
    (GroupSession.Status.IN_PROGRESS, GroupAttendee.Attendance.UNKNOWN, None),
])
def test_each_register_entry_maps_to_one_attendance_code(status, attendance, code):
    assert national_codes.group_attendance_code(status, attendance) == code


def test_the_groups_dataset_has_a_row_per_meeting_counting_only_people_in_evaluation(group_cohort, api):
    cohort, first, second, carers = group_cohort
    listed = {d["code"]: d for d in api(cohort.world.evaluator).get("/api/v1/evaluation/datasets/").json()}
    assert [c["name"] for c in listed["groups"]["columns"]] == GROUPS.names and list(DATASETS).index("groups") == list(DATASETS).index("messages") + 1
    got = rows(api, cohort.world.evaluator, "groups")
    assert [r["group"] for r in got] == [group_ref(first.pk), group_ref(carers.pk), group_ref(second.pk)]  # by start
    assert list(got[0]) == GROUPS.names
    one, carers_row, two = got
    assert one["series"] == two["series"] == series_ref(first.series) != carers_row["series"]
    counts = ("capacity", "places_booked", "booked", "attended", "left_early", "did_not_attend", "audio_only", "median_attended_minutes",
              "duration_minutes", "booked_minutes", "status")
    assert [one[c] for c in counts] == ["8", "7", "6", "4", "1", "1", "1", "50", "90", "90", "ended"]
    assert [two[c] for c in counts] == ["8", "7", "6", "0", "0", "0", "0", "", "", "90", "scheduled"]
    assert (one["facilitator_role"], one["co_facilitator_role"], one["for_carers"], one["team"]) == ("clinician", "peer_worker", "false", "North")
    assert [carers_row[c] for c in ("for_carers", "places_booked", "booked", "attended", "facilitator_role", "co_facilitator_role")] == [
        "true", "1", "0", "0", "peer_worker", ""]
    assert one["date"] == timezone.localdate(first.starts_at).isoformat()
    # Shifted: every meeting of a series moves by the series' offset, so the week between them holds.
    shifted = {r["group"]: r["date"] for r in rows(api, cohort.world.evaluator, "groups", dates="shifted")}
    gap = date.fromisoformat(shifted[group_ref(second.pk)]) - date.fromisoformat(shifted[group_ref(first.pk)])
    assert gap == timezone.localdate(second.starts_at) - timezone.localdate(first.starts_at) == timedelta(days=7)
    # Nothing identifying: no title, name or email.
    everything = b"".join(unzip(export(api, cohort.world.evaluator, "groups")).values()).decode()
    for secret in ("Hearing Voices group", "Carers' course", cohort.world.clinician.full_name, cohort.world.carer.full_name,
                   cohort.refuser.full_name, *(u.email for u in cohort.people)):
        assert secret not in everything


def test_a_withdrawal_takes_the_person_out_of_both_and_too_few_people_is_refused(group_cohort, api):
    cohort, first, _, _ = group_cohort
    p = cohort.people
    withdraw_consent(p[0], PurposeCode.EVALUATION)
    contacts = rows(api, cohort.world.evaluator, "care_contacts")
    assert pseudonym(p[0].pk) not in {r["person"] for r in contacts} and sum(r["therapy_mode"] == "3" for r in contacts) == 10
    one = next(r for r in rows(api, cohort.world.evaluator, "groups") if r["group"] == group_ref(first.pk))
    assert (one["places_booked"], one["booked"], one["attended"], one["median_attended_minutes"]) == ("7", "5", "3", "47.5")  # median of 20 45 50 55
    withdraw_consent(p[1], PurposeCode.EVALUATION)
    response = export(api, cohort.world.evaluator, "groups")  # four people left in the meetings
    assert response.status_code == 409 and response.json()["code"] == "too_few_people"


def test_filters_narrow_group_rows_like_the_others(group_cohort, api):
    cohort, first, second, carers = group_cohort
    world = cohort.world
    # Groups meet on video only: a phone or face-to-face filter leaves every group contact out.
    assert group_contact_rows_queryset(Filters(modality="phone")).count() == 0
    assert group_contact_rows_queryset(Filters(modality="face_to_face")).count() == 0
    by_video = csv_rows(unzip(export(api, world.evaluator, "care_contacts", filters={"modality": "video"}))["care_contacts.csv"])
    assert sum(r["therapy_mode"] == "3" for r in by_video) == 12
    assert export(api, world.evaluator, "groups", filters={"modality": "video"}).status_code == 400  # groups have no modality filter
    assert export(api, world.evaluator, "groups", filters={"team": world.south.pk}).status_code == 409  # no meeting of South's
    later = rows(api, world.evaluator, "groups", filters={"date_from": (timezone.localdate() + timedelta(days=1)).isoformat()})
    assert [r["group"] for r in later] == [group_ref(carers.pk), group_ref(second.pk)]
    assert [r["group"] for r in rows(api, world.evaluator, "groups", filters={"site": world.north.site})] == [
        group_ref(first.pk), group_ref(carers.pk), group_ref(second.pk)]
    # Another organisation's evaluator sees none of it.
    assert group_rows_queryset(Filters(organisation=world.organisation.pk + 1000)).count() == 0
    assert group_contact_rows_queryset(Filters(organisation=world.organisation.pk + 1000)).count() == 0
