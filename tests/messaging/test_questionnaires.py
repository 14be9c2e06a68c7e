"""Questionnaires due before an appointment: one-use links, nudges that stop the moment answers are filed."""

import re
from datetime import timedelta

from django.utils import timezone

from backend.accounts import services as accounts
from backend.audit.actor import Actor
from backend.messaging import services as messaging
from backend.messaging.models import Message, QuestionnaireLink
from backend.outcomes import services as outcomes
from backend.outcomes.models import MeasureSchedule
from backend.outcomes.selectors import instrument_by_code
from backend.sessions import services as sessions
from tests.factories import book

K, S = Message.Kind, Message.Status


def _with_phq9(w):
    outcomes.schedule_set(actor=Actor(w.admin, via="test"), team=w.north, instrument=instrument_by_code("phq9"),
                          when=MeasureSchedule.When.EVERY_SESSION)
    accounts.team_update(actor=Actor(w.admin, via="test"), team=w.north, phone_number="0113 496 0000")
    return book(w.clinician, w.service_user, w.north, in_hours=10 * 24)


def _token(message: Message) -> str:
    return re.search(r"/q/([^/\s]+)/", message.body).group(1)


def _answers(n=9):
    return {f"item_{i}": "0" for i in range(1, n + 1)}


def test_a_questionnaire_due_is_sent_days_before_with_a_nudge_the_day_before(sending):
    appointment = _with_phq9(sending)
    due = Message.objects.get(appointment=appointment, kind=K.QUESTIONNAIRE_DUE, recipient=sending.service_user)
    nudge = Message.objects.get(appointment=appointment, kind=K.QUESTIONNAIRE_NUDGE, recipient=sending.service_user)
    assert due.send_after == appointment.starts_at - timedelta(days=3)
    assert nudge.send_after == appointment.starts_at - timedelta(hours=24)
    assert "PHQ" not in due.body and "/q/" in due.body and _token(due) != _token(nudge)
    assert not Message.objects.filter(appointment=appointment, recipient=sending.carer, kind=K.QUESTIONNAIRE_DUE).exists()


def test_filing_a_response_cancels_the_queued_nudge_in_the_same_transaction(sending):
    appointment = _with_phq9(sending)
    submission = outcomes.Submission(
        instrument=instrument_by_code("phq9"), service_user=sending.service_user, course=appointment.course, appointment=appointment,
        mode="self_online", answers={i: 0 for i in range(1, 10)}, completed_at=timezone.now(),
    )
    outcomes.response_submit(actor=Actor(sending.service_user, via="test"), submission=submission, idempotency_key="k1")
    nudge = Message.objects.get(appointment=appointment, kind=K.QUESTIONNAIRE_NUDGE)
    assert (nudge.status, nudge.status_reason) == (S.CANCELLED, "The questionnaire was filled in.")
    assert messaging.message_still_wanted(nudge) == "The questionnaire was filled in."
    links = QuestionnaireLink.objects.filter(appointment=appointment)
    assert links.count() == 2 and {messaging.questionnaire_link_problem(link) for link in links} == {"used"}


def test_the_link_opens_only_that_questionnaire_once_then_says_it_is_done_with_the_teams_number(sending, client):
    appointment = _with_phq9(sending)
    due = Message.objects.get(appointment=appointment, kind=K.QUESTIONNAIRE_DUE)
    url = f"/q/{_token(due)}/"
    page = client.get(url)
    assert page.status_code == 200 and b"PHQ-9" in page.content and b"item_9" in page.content
    form = page.context["form"]
    answered = client.post(url, {"submission_key": form.initial["submission_key"], **_answers()})
    assert answered.status_code == 200 and b"your answers are saved" in answered.content
    assert appointment.responses.count() == 1
    assert Message.objects.get(appointment=appointment, kind=K.QUESTIONNAIRE_NUDGE).status == S.CANCELLED
    assert QuestionnaireLink.objects.get(messages__kind=K.QUESTIONNAIRE_DUE, appointment=appointment).used_at is not None
    again = client.get(url)
    assert again.status_code == 200 and b"already answered" in again.content and b"0113 496 0000" in again.content
    assert client.post(url, {"submission_key": "other", **_answers()}).status_code == 200  # the same page, nothing stored
    assert appointment.responses.count() == 1
    assert not client.session.get("_auth_user_id")  # the link logs nobody in


def test_an_expired_unknown_or_cancelled_link_says_so_and_never_dead_ends(sending, client):
    appointment = _with_phq9(sending)
    token = _token(Message.objects.get(appointment=appointment, kind=K.QUESTIONNAIRE_DUE))
    unknown = client.get("/q/not-a-real-token/")
    assert unknown.status_code == 404 and b"does not work" in unknown.content and b"Log in" in unknown.content
    sessions.session_cancel(actor=Actor(sending.clinician, via="test"), appointment=appointment, reason="Clinician ill")
    closed = client.get(f"/q/{token}/")
    assert closed.status_code == 410 and b"no longer works" in closed.content and b"0113 496 0000" in closed.content


def test_a_rescheduled_appointment_gets_new_questionnaire_messages_and_keeps_sent_links_working(sending, client):
    appointment = _with_phq9(sending)
    due = Message.objects.get(appointment=appointment, kind=K.QUESTIONNAIRE_DUE)
    Message.objects.filter(pk=due.pk).update(status=S.SENT)  # it went out already
    sessions.appointment_reschedule(actor=Actor(sending.clinician, via="test"), appointment=appointment,
                                    starts_at=appointment.starts_at + timedelta(days=2), reason="Moved")
    assert not Message.objects.filter(appointment=appointment, kind=K.QUESTIONNAIRE_DUE, status=S.QUEUED).exists()  # not sent twice
    nudges = Message.objects.filter(appointment=appointment, kind=K.QUESTIONNAIRE_NUDGE, status=S.QUEUED)
    assert nudges.count() == 1
    assert client.get(f"/q/{_token(due)}/").status_code == 200
