"""The consent, preference, appointment and person pages through Django's test client: who may open
them, what they show, and that posting through them changes state only through the services."""

import pytest
from django.utils import timezone

from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.consent import services as consent_services
from backend.consent.models import ConsentPurpose, ConsentRecord, Modality, ModalityPreference, PurposeCode
from backend.consent.selectors import consent_latest, has_consent, preference_current
from backend.sessions import services as session_services
from backend.sessions.models import Appointment
from tests.factories import book, set_preference, withdraw_consent

SERVICE_USER_PAGES = ["/consent/", "/preferences/", "/appointments/"]
PREFERENCE = {
    "first_choice": "phone", "second_choice": "face_to_face", "third_choice": "video",
    "reasons": ["no_private_space", "poor_connection"], "note": "Evenings are easier.",
    "has_suitable_device": "yes", "has_enough_data": "no", "has_private_space": "no", "confident_using": "unsure",
    "wants_help": "on",
}


@pytest.fixture
def as_user(client):
    def log_in(user):
        client.force_login(user)
        return client

    return log_in


def text(response) -> str:
    return response.content.decode()


def person_url(person) -> str:
    return f"/people/{person.pk}/"


# --- Who may open which page ----------------------------------------------------------------------
@pytest.mark.parametrize("url", SERVICE_USER_PAGES)
@pytest.mark.parametrize("role", ["clinician", "peer_worker", "carer", "evaluator", "admin"])
def test_service_user_pages_refuse_other_roles(world, as_user, url, role):
    response = as_user(world.as_role(role)).get(url)
    assert response.status_code == 403
    assert "This page is not for your account" in text(response)
    assert "Go to your home page" in text(response)


@pytest.mark.parametrize("url", [*SERVICE_USER_PAGES, "/people/1/"])
def test_pages_send_anonymous_visitors_to_log_in(world, client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/login/?next=")


@pytest.mark.parametrize("role", ["service_user", "carer", "evaluator", "admin"])
def test_person_page_refuses_roles_other_than_practitioners(world, as_user, role):
    response = as_user(world.as_role(role)).get(person_url(world.service_user))
    assert response.status_code == 403


def test_a_clinician_cannot_open_another_teams_person(world, as_user):
    response = as_user(world.other_clinician).get(person_url(world.service_user))
    assert response.status_code == 404
    assert "Page not found" in text(response)
    assert not AuditEvent.objects.filter(object_type="accounts.user", object_id=str(world.service_user.pk), action="read").exists()


def test_home_pages_link_to_the_new_pages(world, as_user):
    home = text(as_user(world.service_user).get("/"))
    for url in SERVICE_USER_PAGES:
        assert f'href="{url}"' in home
    assert '<nav aria-label="Main"' in home
    caseload = text(as_user(world.clinician).get("/"))
    assert f'href="{person_url(world.service_user)}"' in caseload


# --- What you have agreed to ----------------------------------------------------------------------
def test_consent_page_shows_each_purpose_in_words_and_audits_the_read(world, as_user):
    response = as_user(world.service_user).get("/consent/")

    assert response.status_code == 200
    page = text(response)
    for purpose in ConsentPurpose.objects.all():
        assert purpose.name in page and purpose.description in page
    assert "Not asked yet." in page  # evaluation
    assert f"Involving a named carer: {world.carer.full_name}" in page
    assert "Also share my questionnaire scores with them" not in page  # the carer consent holds already
    assert page.count(">Stop agreeing</button>") == 3 and page.count(">I agree</button>") == 1
    assert "Stopping takes effect straight away" in page
    assert "Wording version 1" in page
    event = AuditEvent.objects.order_by("-sequence").first()
    assert (event.action, event.object_type, event.object_id, event.actor_id) == (
        "read", "consent.consentstate", str(world.service_user.pk), world.service_user.pk,
    )


def test_giving_then_withdrawing_consent_through_the_page(world, as_user):
    client = as_user(world.service_user)

    response = client.post("/consent/decide/", {"purpose": "evaluation", "decision": "given", "wording_version": "1"}, follow=True)
    assert response.redirect_chain == [("/consent/", 302)]
    assert "You have agreed to “Use of pseudonymised data for service evaluation”" in text(response)
    assert has_consent(world.service_user, PurposeCode.EVALUATION)
    record = ConsentRecord.objects.order_by("-id").first()
    assert (record.method, record.recorded_by_id, record.wording.version) == ("online", world.service_user.pk, 1)

    response = client.post("/consent/decide/", {"purpose": "evaluation", "decision": "withdrawn", "wording_version": "1"}, follow=True)
    assert "This took effect straight away" in text(response)
    assert not has_consent(world.service_user, PurposeCode.EVALUATION)
    assert "You stopped agreeing on" in text(response)


def test_agreeing_to_involve_a_carer_can_share_scores(world, as_user):
    withdraw_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)
    client = as_user(world.service_user)
    assert "Also share my questionnaire scores with them" in text(client.get("/consent/"))

    client.post("/consent/decide/", {
        "purpose": "carer_involvement", "carer": str(world.carer.pk), "decision": "given", "wording_version": "1", "share_outcomes": "on",
    })

    purpose = ConsentPurpose.objects.get(code=PurposeCode.CARER_INVOLVEMENT)
    latest = consent_latest(world.service_user, purpose, world.carer)
    assert latest.decision == "given" and latest.share_outcomes is True


def test_a_stale_wording_version_is_refused_and_nothing_is_written(world, as_user):
    purpose = ConsentPurpose.objects.get(code=PurposeCode.EVALUATION)
    consent_services.wording_publish(
        actor=Actor(world.admin, via="test"), purpose=purpose, text="New wording.", effective_from=timezone.localdate(), requires_reconsent=True,
    )
    before = ConsentRecord.objects.count()

    response = as_user(world.service_user).post(
        "/consent/decide/", {"purpose": "evaluation", "decision": "given", "wording_version": "1"}, follow=True
    )

    assert "Version 1 is not the current wording; read version 2" in text(response)
    assert 'role="alert"' in text(response)
    assert ConsentRecord.objects.count() == before


@pytest.mark.parametrize(
    "body, message",
    [
        ({"purpose": "evaluation", "decision": "given"}, "did not say which wording you read"),
        ({"purpose": "telepathy", "decision": "given", "wording_version": "1"}, "There is no consent purpose"),
        ({"purpose": "evaluation", "decision": "withdrawn"}, "There is no consent to withdraw"),
        ({"purpose": "carer_involvement", "decision": "given", "wording_version": "1", "carer": "999999"}, "You no longer involve this person"),
    ],
)
def test_bad_consent_posts_say_what_to_do_and_write_nothing(world, as_user, body, message):
    before = ConsentRecord.objects.count()
    response = as_user(world.service_user).post("/consent/decide/", body, follow=True)
    assert response.status_code == 200 and message in text(response)
    assert ConsentRecord.objects.count() == before


# --- How you would like to be seen ----------------------------------------------------------------
def test_preferences_page_shows_the_current_preference_and_saves_a_new_one(world, as_user):
    client = as_user(world.service_user)
    page = text(client.get("/preferences/"))
    assert "What you have told us" in page and "Video call" in page
    assert '<option value="video" selected>' in page  # the form starts from the current preference

    response = client.post("/preferences/", PREFERENCE, follow=True)

    assert response.redirect_chain == [("/preferences/", 302)]
    assert "Saved. Your care team will see how you would like to be seen." in text(response)
    preference = preference_current(world.service_user)
    assert preference.ranking == ["phone", "face_to_face", "video"]
    assert preference.reasons == ["no_private_space", "poor_connection"]
    assert (preference.has_enough_data, preference.confident_using, preference.wants_help) == ("no", "unsure", True)
    assert preference.recorded_by_id == world.service_user.pk


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"third_choice": "phone"}, "You chose phone call twice"),
        ({"first_choice": ""}, "Choose your first choice"),
        ({"has_private_space": ""}, "Answer this question: choose Yes, No or Not sure."),
        ({"reasons": ["other"], "note": ""}, "Say a little about the other reason."),
    ],
)
def test_bad_preferences_show_the_problem_and_write_nothing(world, as_user, changes, message):
    before = ModalityPreference.objects.count()
    response = as_user(world.service_user).post("/preferences/", {**PREFERENCE, **changes})
    assert response.status_code == 200
    assert message in text(response)
    assert ModalityPreference.objects.count() == before


# --- Your appointments ----------------------------------------------------------------------------
def test_appointments_page_lists_only_upcoming_appointments_and_saves_a_choice(world, as_user):
    client = as_user(world.service_user)
    page = text(client.get("/appointments/"))
    assert f'id="appointment-{world.appointment.pk}"' in page
    assert f'id="appointment-{world.past_appointment.pk}"' not in page
    assert "offered: video call, phone call, face to face" in page and "Not chosen yet" in page
    assert page.count(">Save my choice</button>") == 1
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.action == "list" and event.detail["ids"] == [str(world.appointment.pk)]

    response = client.post(f"/appointments/{world.appointment.pk}/choice/", {"modality": "phone"}, follow=True)

    assert "Saved. You chose phone call for your appointment on" in text(response)
    world.appointment.refresh_from_db()
    assert world.appointment.chosen_modality == Modality.PHONE


def test_a_missing_consent_is_explained_with_a_link_and_nothing_changes(world, as_user):
    withdraw_consent(world.service_user, PurposeCode.VIDEO)
    client = as_user(world.service_user)
    assert "To choose this, first agree to “Being seen on video”" in text(client.get("/appointments/"))

    response = client.post(f"/appointments/{world.appointment.pk}/choice/", {"modality": "video"}, follow=True)

    page = text(response)
    assert "needs consent to &#x27;Being seen on video&#x27;" in page
    assert 'href="/consent/">Go to What you have agreed to</a>' in page
    world.appointment.refresh_from_db()
    assert world.appointment.chosen_modality == ""


def test_after_the_cut_off_the_page_says_to_call_and_a_choice_is_refused(world, as_user):
    soon = book(world.clinician, world.service_user, world.north, in_hours=2)  # the default cut-off is 24 hours
    client = as_user(world.service_user)
    page = text(client.get("/appointments/"))
    assert "It is too late to change online: phone your care team" in page
    assert f'action="/appointments/{soon.pk}/choice/"' not in page

    response = client.post(f"/appointments/{soon.pk}/choice/", {"modality": "phone"}, follow=True)
    assert "It is too late to change how this appointment happens online" in text(response)
    soon.refresh_from_db()
    assert soon.chosen_modality == ""


@pytest.mark.parametrize("body, message", [({}, "Choose how you would like to be seen"), ({"modality": "carrier_pigeon"}, "Choose one of the ways offered")])
def test_a_choice_without_a_way_says_what_to_do(world, as_user, body, message):
    response = as_user(world.service_user).post(f"/appointments/{world.appointment.pk}/choice/", body, follow=True)
    assert message in text(response)
    world.appointment.refresh_from_db()
    assert world.appointment.chosen_modality == ""


def test_choosing_for_someone_elses_appointment_is_not_found(world, as_user):
    theirs = book(world.other_clinician, world.other_service_user, world.south)
    response = as_user(world.service_user).post(f"/appointments/{theirs.pk}/choice/", {"modality": "face_to_face"})
    assert response.status_code == 404
    assert Appointment.objects.get(pk=theirs.pk).chosen_modality == ""


# --- A person's page ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["clinician", "peer_worker"])
def test_person_page_shows_consent_preference_and_appointments_and_audits_the_reads(world, as_user, role):
    set_preference(world.service_user, ranking=(Modality.FACE_TO_FACE, Modality.PHONE, Modality.VIDEO), has_private_space="no", wants_help=True)
    session_services.appointment_choose(actor=Actor(world.service_user, via="test"), appointment=world.appointment, modality=Modality.PHONE)
    before = AuditEvent.objects.count()

    response = as_user(world.as_role(role)).get(person_url(world.service_user))

    assert response.status_code == 200
    page = text(response)
    assert world.service_user.full_name in page and world.service_user.email in page
    assert "May need face to face" in page and "Would like help with video" in page
    assert "Being seen on video" in page and "By the person, online" in page
    assert "Coming up, soonest first" in page and ">Phone call</td>" in page
    assert ("Record their decision" in page) is (role == "clinician")
    events = list(AuditEvent.objects.order_by("sequence")[before:])
    kinds = {(e.action, e.object_type) for e in events}
    assert ("read", "accounts.user") in kinds
    assert ("list", "consent.consentrecord") in kinds and ("list", "telesessions.appointment") in kinds
    history = next(e for e in events if e.object_type == "consent.consentrecord")
    assert len(history.detail["ids"]) == ConsentRecord.objects.filter(service_user=world.service_user).count()


def test_a_clinician_records_verbal_consent(world, as_user):
    response = as_user(world.clinician).post(
        person_url(world.service_user), {"subject": "evaluation", "decision": "given", "wording_version": "", "note": "By phone on 3 May."}, follow=True
    )

    assert response.redirect_chain == [(person_url(world.service_user), 302)]
    assert "Recorded: " in text(response) and "agreed to “Use of pseudonymised data for service evaluation”" in text(response)
    record = ConsentRecord.objects.order_by("-id").first()
    assert (record.method, record.recorded_by_id, record.note, record.wording.version) == ("verbal", world.clinician.pk, "By phone on 3 May.", 1)
    assert has_consent(world.service_user, PurposeCode.EVALUATION)


def test_a_clinician_records_a_carer_decision(world, as_user):
    as_user(world.clinician).post(
        person_url(world.service_user),
        {"subject": f"carer_involvement:{world.carer.pk}", "decision": "withdrawn", "note": "Face to face today."},
    )
    assert not has_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"subject": "evaluation", "decision": "given", "note": ""}, "Say how and when they told you"),
        ({"subject": "evaluation", "decision": "given", "wording_version": "7", "note": "By phone."}, "Version 7 is not the current wording"),
        ({"subject": "evaluation", "decision": "given", "share_outcomes": "on", "note": "By phone."}, "Only tick this when someone agrees to involve a carer"),
        ({"subject": "video", "decision": "given", "note": "By phone."}, "Consent is already given."),
        ({"subject": "telepathy", "decision": "given", "note": "By phone."}, "Select a valid choice"),
    ],
)
def test_bad_verbal_consent_shows_the_problem_and_writes_nothing(world, as_user, body, message):
    before = ConsentRecord.objects.count()
    response = as_user(world.clinician).post(person_url(world.service_user), body)
    assert response.status_code == 200
    assert message in text(response)
    assert ConsentRecord.objects.count() == before


def test_a_peer_worker_cannot_record_consent(world, as_user):
    before = ConsentRecord.objects.count()
    response = as_user(world.peer_worker).post(
        person_url(world.service_user), {"subject": "evaluation", "decision": "given", "note": "By phone."}
    )
    assert "Only the person themselves, or a clinician on their team, can record consent." in text(response)
    assert ConsentRecord.objects.count() == before


def test_past_appointments_show_how_they_were_delivered(world, as_user):
    session_services.appointment_record_delivery(
        actor=Actor(world.clinician, via="test"), appointment=world.past_appointment, modality=Modality.PHONE,
        reason=Appointment.DeliveryReason.VIDEO_FAILED,
    )
    page = text(as_user(world.clinician).get(person_url(world.service_user)))
    assert "Phone call (the video connection failed)" in page
