"""The team's pages listing what was sent (and what became of it), and GOV.UK Notify's delivery-receipt
callback. Thin: the rules are in selectors (who sees what) and services (what a status means)."""

from __future__ import annotations

import hmac
import json
import re

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.audit.services import audit_list
from backend.consent.views import page_for
from backend.core.errors import NotFound, error_body, json_error_response
from backend.messaging import selectors, services

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TEAM_PAGE = page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")


def _audit_shown(request, messages, **shown) -> None:
    audit_list(actor=Actor.from_request(request), object_type="messaging.message", ids=[m.pk for m in messages], detail=shown)


@TEAM_PAGE
@require_http_methods(["GET", "HEAD"])
def appointment_messages_page(request, appointment_id: int):
    try:
        appointment, messages = selectors.messages_for_appointment(request.user, appointment_id)
    except NotFound as error:
        raise Http404(error.detail) from error
    _audit_shown(request, messages, appointment=appointment.pk, page="appointment-messages")
    return render(request, "messaging/messages.html", {
        "messages_sent": messages, "appointment": appointment, "person": appointment.service_user,
        "heading": "Messages about this appointment",
    })


@TEAM_PAGE
@require_http_methods(["GET", "HEAD"])
def person_messages_page(request, service_user_id: int):
    try:
        person, messages = selectors.messages_for_person(request.user, service_user_id)
    except NotFound as error:
        raise Http404(error.detail) from error
    _audit_shown(request, messages, service_user=person.pk, page="person-messages")
    return render(request, "messaging/messages.html", {
        "messages_sent": messages, "person": person, "heading": f"Messages sent to {person.full_name}",
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
