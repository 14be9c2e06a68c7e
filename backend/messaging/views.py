"""The messaging pages: the team's pages listing what was sent (and what became of it), GOV.UK Notify's delivery-receipt
callback. Thin: the rules are in selectors (who sees what) and services (what a status means)."""

from __future__ import annotations

import hmac
import json
import re

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts import selectors as access
from backend.accounts.models import PRACTITIONER_ROLES, Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.consent.views import page_for
from backend.core.errors import DomainError, NotFound, error_body, json_error_response
from backend.messaging import preferences, selectors, services
from backend.messaging.forms import ContactForm

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TEAM_PAGE = page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")


def _audit_shown(request, sent, **shown) -> None:
    audit_list(actor=Actor.from_request(request), object_type="messaging.message", ids=[m.pk for m in sent], detail=shown)


@TEAM_PAGE
@require_http_methods(["GET", "HEAD"])
def appointment_messages_page(request, appointment_id: int):
    try:
        appointment, sent = selectors.messages_for_appointment(request.user, appointment_id)
    except NotFound as error:
        raise Http404(error.detail) from error
    _audit_shown(request, sent, appointment=appointment.pk, page="appointment-messages")
    return render(request, "messaging/messages.html", {
        "messages_sent": sent, "appointment": appointment, "person": appointment.service_user,
        "heading": "Messages about this appointment",
    })


@TEAM_PAGE
@require_http_methods(["GET", "HEAD"])
def person_messages_page(request, service_user_id: int):
    try:
        person, sent = selectors.messages_for_person(request.user, service_user_id)
    except NotFound as error:
        raise Http404(error.detail) from error
    _audit_shown(request, sent, service_user=person.pk, page="person-messages")
    return render(request, "messaging/messages.html", {
        "messages_sent": sent, "person": person, "heading": f"Messages sent to {person.full_name}",
    })


def _invalid(field: str, detail: str) -> JsonResponse:
    return JsonResponse(error_body(400, "invalid", detail, [{"field": field, "code": "invalid", "message": detail}]), status=400)


@csrf_exempt
@require_POST
def notify_callback(request):
    """GOV.UK Notify's delivery receipt: it POSTs the notification's id, reference and status, with
    `Authorization: Bearer <NOTIFY_CALLBACK_TOKEN>` (set in Notify's API integration page). Refused
    without the token, or when no token is configured."""
    expected = settings.NOTIFY_CALLBACK_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return json_error_response(401, "not_authenticated", "A valid bearer token is required.")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        return _invalid("status", "Expected Notify's callback: a JSON object with id, reference and status.")
    reference, provider_id = body.get("reference"), body.get("id")
    if reference is not None and not (isinstance(reference, str) and UUID.fullmatch(reference)):
        return _invalid("reference", "Not a reference Rapport gave.")
    if not reference and not isinstance(provider_id, str):
        return _invalid("reference", "A reference or an id is required.")
    message = services.delivery_status_record(reference=reference or None, provider_id=provider_id, status=body["status"][:32])
    if message is None:
        return json_error_response(404, "not_found", "No message with that reference.")
    return JsonResponse({"status": message.status})


A = AuditEvent.Action


@page_for(Role.SERVICE_USER, Role.CARER, who="the people we send messages to")
@require_http_methods(["GET", "HEAD", "POST"])
def contact(request):
    """The person's own page: how we contact them, and which messages they get."""
    person = request.user
    actor = Actor.from_request(request)
    current = preferences.contact_for(person)
    form = ContactForm(request.POST or None, initial=ContactForm.initial_for(current))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.contact_preferences_set(actor=actor, person=person, mobile_number=data["mobile_number"], email=data["email"],
                                             channels=form.channels(), all_off=data["all_off"])
        except DomainError as error:
            name = error.field if error.field in ("mobile_number", "email") else (
                f"channel_{error.field.split('.')[1]}" if (error.field or "").startswith("channels.") else None)
            form.add_error(name, error.detail)
        else:
            messages.success(request, "Saved. We will contact you as you chose from now on.")
            return redirect("contact-preferences")
    audit_record(actor=actor, action=A.READ, obj=person, detail={"page": "contact-preferences"})
    return render(request, "messaging/contact.html", {"form": form, "current": current, "groups": preferences.GROUPS,
                                                       "choices": preferences.CHOICES},
                  status=400 if form.is_bound and form.errors else 200)


@page_for(*PRACTITIONER_ROLES, who="care teams")
@require_http_methods(["GET", "HEAD"])
def person_contact(request, service_user_id: int):
    """The team's view of how a person on its caseload wants to be contacted, and their messages."""
    try:
        person = access.service_user_for(request.user, service_user_id)
    except NotFound as error:
        raise Http404(error.detail) from error
    actor = Actor.from_request(request)
    current = preferences.contact_for(person)
    problems = list(selectors.failed_messages_for(request.user, person)[:20])
    audit_record(actor=actor, action=A.READ, obj=person, detail={"page": "person-contact", "messages": [m.pk for m in problems]})
    rows = [(label, preferences.CHOICES[current.channels[group]]) for group, (label, _, _) in preferences.GROUPS.items()]
    return render(request, "messaging/person_contact.html", {"person": person, "current": current, "rows": rows, "problems": problems})


# --- One-use questionnaire links ----------------------------------------------------------------------
PROBLEM_WORDS = {
    "used": ("These questions are already answered", "Thank you: your answers are in, so there is nothing more to do. "
             "If you want to change an answer, tell your clinician at your appointment."),
    "expired": ("This link has run out", "Links to questions work until an hour after the appointment they are for."),
    "closed": ("This link no longer works", "The appointment it was for is no longer going ahead as booked."),
    "unknown": ("This link does not work", "It may have been copied only in part. Try opening it from the message again."),
}


def _link_problem_page(request, problem: str, team=None):
    title, detail = PROBLEM_WORDS[problem]
    return render(request, "messaging/link_problem.html", {"title": title, "detail": detail, "care_team": team},
                  status=200 if problem == "used" else 410 if problem in ("expired", "closed") else 404)


@require_http_methods(["GET", "HEAD", "POST"])
def questionnaire_link(request, token: str):
    """One questionnaire, for one person and one appointment, without logging in. Used once answers are
    filed through it (or any other way); a used, expired or unknown link says so, with the team's number."""
    from backend.outcomes import services as outcome_services
    from backend.outcomes.forms import QuestionnaireForm
    from backend.outcomes.models import Response

    try:
        link = services.questionnaire_link_by_token(token)
    except services.LinkUnusable:
        return _link_problem_page(request, "unknown")
    appointment = link.appointment
    problem = services.questionnaire_link_problem(link)
    if problem:
        return _link_problem_page(request, problem, appointment.team)
    actor = Actor.from_request(request, user=link.person)
    form = QuestionnaireForm(request.POST or None, instrument=link.instrument, for_clinician=False)
    failure = ""
    if request.method == "POST" and form.is_valid():
        submission = outcome_services.Submission(
            instrument=link.instrument, service_user=link.person, course=appointment.course, appointment=appointment,
            mode=Response.Mode.SELF_ONLINE, answers=form.answers(),
            completed_at=outcome_services.answered_at(appointment=appointment, mode=Response.Mode.SELF_ONLINE),
        )
        try:
            with transaction.atomic():
                if submission.course is None:
                    outcome_services.resolve_course(link.person, None, appointment)  # raises the no-course conflict
                outcome_services.response_submit(actor=actor, submission=submission, idempotency_key=form.cleaned_data["submission_key"])
                services.questionnaire_link_mark_used(link=link)
        except DomainError as error:
            failure = error.detail
        else:
            return render(request, "messaging/link_done.html", {"care_team": appointment.team})
    audit_record(actor=actor, action=A.READ, obj=appointment, detail={"page": "questionnaire-link", "instrument": link.instrument.code})
    return render(request, "messaging/questionnaire_link.html", {
        "instrument": link.instrument, "appointment": appointment, "form": form, "problem": failure,
        "error_fields": [f for f in form if f.errors] if form.is_bound else [], "care_team": appointment.team,
    }, status=400 if form.is_bound and (form.errors or failure) else 200)
