"""The fhir dataset's Encounter, Appointment and Consent resources, every line parsed with the
`fhir.resources` R4B models (R4 elements only), on conftest.contacts (see test_care_contacts.py) plus:

- person 0 withdraws consent to video, then refuses it when asked again; person 1 withdraws remote care;
- the world's service user (with a linked carer) consents to evaluation and has a video session the
  carer is admitted to.
"""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.encounter import Encounter

from backend.audit.actor import Actor
from backend.consent.models import ConsentRecord, PurposeCode
from backend.evaluation.pseudonyms import appointment_ref, consent_ref, course_ref, pseudonym
from backend.sessions import services
from tests.evaluation.conftest import CANCELLATION_REASON, SAFETY_LOCATION, appointment
from tests.evaluation.test_exports import unzip
from tests.factories import decide, give_consent, withdraw_consent

URL = "/api/v1/evaluation/exports/"


def export(api, world, **body):
    return api(world.evaluator).post(URL, {"dataset": "fhir", "format": "ndjson", "dates": "exact", **body}, format="json")


def parsed(files: dict, name: str, model) -> dict:
    """Every line of one NDJSON file through its fhir.resources model (which refuses what R4B does not define), by id."""
    return {resource.id: resource for resource in (model.model_validate_json(line) for line in files[name].decode().splitlines())}


@pytest.fixture
def with_carer(contacts):
    cohort, made = contacts
    world = cohort.world
    withdraw_consent(cohort.people[0], PurposeCode.VIDEO)
    decide(cohort.people[0], PurposeCode.VIDEO, ConsentRecord.Decision.REFUSED)
    withdraw_consent(cohort.people[1], PurposeCode.REMOTE_CARE)
    give_consent(world.service_user, PurposeCode.EVALUATION)
    booked = appointment(world, world.service_user, days_ago=1, choose="video")
    host = Actor(world.clinician)
    services.safety_check_record(actor=host, appointment=booked, current_location=SAFETY_LOCATION, is_private=True,
                                 emergency_contact_confirmed=True, identity_confirmed=True)
    services.waiting_room_enter(actor=Actor(world.service_user), appointment=booked)
    services.carer_invite(actor=Actor(world.service_user), appointment=booked, carer=world.carer)
    services.waiting_room_enter(actor=Actor(world.carer), appointment=booked)
    services.participants_admit(actor=host, appointment=booked)
    services.session_end(actor=host, appointment=booked)
    made["with_carer"] = booked
    return cohort, made


def test_encounters_and_appointments_say_how_and_whether_each_contact_happened(with_carer, api):
    cohort, made = with_carer
    files = unzip(export(api, cohort.world))
    assert {"Encounter.ndjson", "Appointment.ndjson", "Consent.ndjson"} <= set(files)
    encounters = parsed(files, "Encounter.ndjson", Encounter)
    appointments = parsed(files, "Appointment.ndjson", FhirAppointment)
    assert set(encounters) == set(appointments) and len(encounters) == 17 + 6 + 3  # and the world's person's: two booked with the world, one with the carer

    def both(a):
        return encounters[appointment_ref(a.pk)], appointments[appointment_ref(a.pk)]

    face_to_face, video, video_dna, cancelled_by_person = (cohort.appointments[i] for i in (0, 8, 14, 16))
    e, a = both(face_to_face)
    assert (e.status, e.class_fhir.system, e.class_fhir.code, a.status) == ("finished", "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                                                           "AMB", "fulfilled")
    assert (float(e.length.value), e.length.code) == (45.0, "min")
    assert 0 <= (e.period.end - e.period.start).days <= 1  # dates: a contact that starts late in the evening ends the next day
    assert e.subject.reference == f"Patient/{pseudonym(face_to_face.service_user_id)}"
    assert e.episodeOfCare[0].reference == f"EpisodeOfCare/{course_ref(face_to_face.course_id)}"
    assert e.appointment[0].reference == f"Appointment/{appointment_ref(face_to_face.pk)}"
    assert [[c.code for t in p.type for c in t.coding] for p in e.participant] == [["PPRF", "clinician"]]
    assert both(video)[0].class_fhir.code == "VR" and [c.code for t in both(video)[0].type for c in t.coding] == ["treatment", "video"]
    for name, modality in (("phone", "phone"), ("video_to_phone", "phone"), ("video_to_audio_only", "video")):
        e, a = both(made[name])
        assert (e.status, e.class_fhir.code, e.type[1].coding[0].code, a.status) == ("finished", "VR", modality, "fulfilled"), name
    e, a = both(video_dna)
    assert (e.status, e.class_fhir.code, a.status, e.length) == ("cancelled", "VR", "noshow", None)
    e, a = both(cancelled_by_person)
    assert (e.status, e.class_fhir.code, a.status, a.cancelationReason.coding[0].code) == ("cancelled", "UNK", "cancelled", "pat")
    assert both(made["cancelled_by_service"])[1].cancelationReason.coding[0].code == "prov"
    e, a = both(made["open_assessment"])
    assert (e.status, a.status, e.period.end, a.appointmentType.coding[0].code, a.minutesDuration) == ("planned", "booked", None, "assessment", 50)
    # Times of day are never exported: start and end are masked, the day is in requestedPeriod.
    assert (a.start, a.start__ext.extension[0].valueCode, a.end__ext.extension[0].valueCode) == (None, "masked", "masked")
    assert a.requestedPeriod[0].start == a.requestedPeriod[0].end == e.period.start
    assert [p.actor.reference for p in a.participant if p.actor] == [f"Patient/{pseudonym(made['open_assessment'].service_user_id)}"]
    e, _ = both(made["with_carer"])
    assert [[c.code for t in p.type for c in t.coding] for p in e.participant] == [["PPRF", "clinician"], ["PART", "carer"]]
    everything = b"".join(files.values()).decode()
    for user in [*cohort.people, cohort.refuser, cohort.world.clinician, cohort.world.carer, cohort.world.service_user]:
        assert user.full_name not in everything and user.email not in everything
    for secret in (CANCELLATION_REASON, "Clinician unwell", SAFETY_LOCATION, "07700 900999"):
        assert secret not in everything
    assert pseudonym(cohort.refuser.pk) not in everything


def test_a_consent_per_decision_with_its_status_scope_date_and_wording(with_carer, api):
    cohort, _ = with_carer
    files = unzip(export(api, cohort.world))
    consents = parsed(files, "Consent.ndjson", Consent)
    records = ConsentRecord.objects.filter(service_user__in=[*cohort.people, cohort.world.service_user]).select_related("purpose", "wording")
    assert set(consents) == {consent_ref(r.pk) for r in records}  # never the refuser's
    by_record = {r.pk: consents[consent_ref(r.pk)] for r in records}

    def of(user, purpose):
        return [(by_record[r.pk].status, by_record[r.pk].provision.type) for r in records if r.service_user == user and r.purpose.code == purpose]

    p0, p1 = cohort.people[:2]
    assert of(p0, "video") == [("inactive", "permit"), ("inactive", "deny"), ("rejected", "deny")]  # given, withdrawn, refused
    assert of(p1, "remote_care") == [("inactive", "permit"), ("inactive", "deny")]  # given, then withdrawn
    assert of(p0, "evaluation") == [("active", "permit")]
    assert of(cohort.world.service_user, "carer_involvement") == [("active", "permit")]
    record = next(r for r in records if r.service_user == p0 and r.purpose.code == "evaluation")
    consent = by_record[record.pk]
    assert (consent.scope.coding[0].code, consent.category[0].coding[0].code, consent.patient.reference) == (
        "research", "59284-0", f"Patient/{pseudonym(p0.pk)}")
    assert (str(consent.dateTime), consent.policy[0].uri, consent.provision.purpose[0].code) == (
        record.recorded_at.date().isoformat(), f"urn:rapport:consent:evaluation:wording:{record.wording.version}", "evaluation")
    assert {by_record[r.pk].scope.coding[0].code for r in records if r.purpose.code in ("remote_care", "video")} == {"treatment"}
    assert {by_record[r.pk].scope.coding[0].code for r in records if r.purpose.code == "carer_involvement"} == {"patient-privacy"}
    # Whom a carer decision concerns is never written.
    carer_line = next(line for line in files["Consent.ndjson"].decode().splitlines() if "carer_involvement" in line)
    assert str(cohort.world.carer.pk) not in json.dumps(json.loads(carer_line)["provision"])


def test_dates_follow_the_export_setting(with_carer, api):
    cohort, made = with_carer
    files = unzip(export(api, cohort.world, dates="month"))
    e = parsed(files, "Encounter.ndjson", Encounter)[appointment_ref(made["phone"].pk)]
    a = parsed(files, "Appointment.ndjson", FhirAppointment)[appointment_ref(made["phone"].pk)]
    c = next(iter(parsed(files, "Consent.ndjson", Consent).values()))
    assert len(str(e.period.start)) == len(str(a.requestedPeriod[0].start)) == len(str(c.dateTime)) == 7  # YYYY-MM


def test_filters_decide_which_resources_are_written(with_carer, api):
    cohort, made = with_carer
    video = unzip(export(api, cohort.world, filters={"modality": "video"}))
    # Consent is not per appointment: a modality filter leaves it out rather than pretend to apply.
    assert {"Encounter.ndjson", "Appointment.ndjson"} <= set(video) and "Consent.ndjson" not in video
    assert {e.class_fhir.code for e in parsed(video, "Encounter.ndjson", Encounter).values()} == {"VR"}
    # No questionnaire was answered: an instrument filter leaves nothing, so too few people.
    response = export(api, cohort.world, filters={"instrument": "phq9"})
    assert response.status_code == 409 and response.json()["code"] == "too_few_people"


def test_a_withdrawal_takes_every_resource_of_the_person_out(with_carer, api):
    cohort, _ = with_carer
    gone = cohort.people[2]
    withdraw_consent(gone, PurposeCode.EVALUATION)
    files = unzip(export(api, cohort.world))
    assert f"Patient/{pseudonym(gone.pk)}" not in b"".join(files.values()).decode()
