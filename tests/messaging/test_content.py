"""Content rules: banned words refused naming the word and the field; placeholders from the allowed set only."""

import pytest

from backend.audit.actor import Actor
from backend.core.errors import Forbidden, InvalidInput
from backend.messaging import content
from backend.messaging import services as messaging
from backend.messaging.models import Message, MessageTemplate
from backend.consent.models import Modality
from tests.factories import book, build_elsewhere

K, C = Message.Kind, Message.Channel


def _save(w, **kwargs):
    fields = {"kind": K.REMINDER, "channel": C.SMS, "modality": "", "subject": "", "body": "Hello {name}, see you {when}."}
    return messaging.template_save(actor=Actor(w.admin, via="test"), team=w.north, **{**fields, **kwargs})


@pytest.mark.parametrize("body, word", [
    ("Your PHQ-9 is due {when}", "phq-9"), ("Your phq9 is due", "phq-9"), ("Come to the Psychosis clinic", "psychosis"),
    ("Your score went up", "score"), ("Crisis line: {team_phone}", "crisis"), ("Your GAD-7 questionnaire", "gad-7"),
])
def test_an_sms_with_a_banned_word_is_refused_naming_the_word_and_the_field(world, body, word):
    with pytest.raises(InvalidInput) as refused:
        _save(world, body=body)
    assert refused.value.field == "body" and f"“{word}”" in refused.value.detail and "text message" in refused.value.detail
    assert not MessageTemplate.objects.exists()


def test_an_email_subject_with_a_banned_word_is_refused_but_the_body_may_explain(world):
    with pytest.raises(InvalidInput) as refused:
        _save(world, channel=C.EMAIL, subject="Your eating disorder appointment", body="Hello {name}")
    assert refused.value.field == "subject" and "“eating disorder”" in refused.value.detail
    _save(world, channel=C.EMAIL, subject="Your appointment", body="Hello {name}. Bring your risk plan.")
    assert MessageTemplate.objects.get().subject == "Your appointment"


def test_an_organisations_own_word_is_banned_for_its_teams_only(world):
    messaging.banned_word_add(actor=Actor(world.admin, via="test"), organisation_id=world.organisation.pk, word="Ward 7")
    with pytest.raises(InvalidInput):
        _save(world, body="From ward 7: hello {name}")
    other = build_elsewhere()
    assert content.banned_word_in("From ward 7", content.banned_words_for(other.organisation.pk)) is None


@pytest.mark.parametrize("body, problem", [
    ("Hello {nmae}", "{nmae} is not a placeholder"), ("Hello {name", "curly bracket"),
    ("Answer here {questionnaire_link}", "{questionnaire_link} is not a placeholder"),
])
def test_unknown_placeholders_are_a_clear_error(world, body, problem):
    with pytest.raises(InvalidInput) as refused:
        _save(world, body=body)
    assert refused.value.field == "body" and problem in refused.value.detail


def test_only_the_organisations_admins_edit_templates(world):
    other = build_elsewhere()
    for who in (world.clinician, other.admin):
        with pytest.raises(Forbidden):
            messaging.template_save(actor=Actor(who, via="test"), team=world.north, kind=K.REMINDER, channel=C.SMS,
                                    modality="", subject="", body="Hello")


def test_every_default_template_passes_its_own_check():
    for kind in K.values:
        for channel in C.values:
            subject, body = content.default_template(kind, channel)
            content.template_check(kind=kind, channel=channel, subject=subject, body=body, organisation_id=None)


def test_the_sender_name_is_neutral(world):
    def update(name):
        return messaging.team_messaging_update(actor=Actor(world.admin, via="test"), team=world.north, sender_name=name,
                                               reminder_offsets_hours=[24], caller_number_kind="a withheld number",
                                               questionnaire_days_before=3, nudge_hours_before=24)
    for name, code in (("North", "clinical_name"), ("Early intervention in psychosis", "banned_word"), ("", "required")):
        with pytest.raises(InvalidInput) as refused:
            update(name)
        assert refused.value.code == code and refused.value.field == "sender_name"
    assert update("Leeds NHS").sender_name == "Leeds NHS"


def test_a_teams_template_for_a_modality_is_used_for_that_modality(sending):
    from backend.sessions import services as sessions

    w = sending
    messaging.contact_preferences_set(actor=Actor(w.service_user, via="test"), person=w.service_user, mobile_number="07400 123456",
                                      email="", channels={}, all_off=False)
    _save(w, kind=K.CHANGED, modality=Modality.FACE_TO_FACE, body="Hello {name}. We will see you {when}, in person. {sender}")
    appointment = book(w.clinician, w.service_user, w.north, in_hours=200)
    sessions.appointment_choose(actor=Actor(w.service_user, via="test"), appointment=appointment, modality=Modality.VIDEO)
    sessions.appointment_choose(actor=Actor(w.service_user, via="test"), appointment=appointment, modality=Modality.FACE_TO_FACE)
    bodies = list(Message.objects.filter(appointment=appointment, recipient=w.service_user, kind=K.CHANGED)
                  .order_by("id").values_list("body", flat=True))
    assert "in person" not in bodies[0] and "has changed" in bodies[0]  # video: the default wording
    assert bodies[1].startswith(f"Hello {w.service_user.display_name}. We will see you") and "in person" in bodies[1]
