"""Group pages. Thin views over the groups selectors and services.

Live pages (issue #16 point 2 and 3: the attendee's waiting room, the call, the facilitator's live view) are the
`group_room_*`, `group_call_*` and `group_facilitate_*` views below. They stay current by polling small endpoints
every few seconds (`group_room_status`, `group_facilitate_attendees`), not through a WebSocket: a group's waiting
room changes a few times a minute, polling needs no second access check on a socket and nothing to close on
removal (the next poll says "removed"), and it keeps working through proxies that drop sockets. docs/groups.md.
"""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.consent.views import page_for
from backend.core.errors import Conflict, DomainError
from backend.core.middleware import camera_and_microphone

from . import janus, selectors, services
from .models import GroupAttendee, GroupSession

# --- Live pages: waiting room, call, facilitator's view ---------------------------------------------------------

GROUP_ROOM_POLL_SECONDS = 3
_ATTENDEE_PAGE = page_for(Role.SERVICE_USER, Role.CARER, who="people booked into a group")
_FACILITATOR_PAGE = page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")
_ANSWERS_CACHE: dict[int, tuple[float, bool]] = {}


def _janus_answers(group: GroupSession) -> bool:
    """Whether this group's Janus server answers (remembered for 5 seconds per room: every waiting page polls)."""
    if not janus.available():
        return False
    now = time.monotonic()
    cached = _ANSWERS_CACHE.get(group.janus_room_id)
    if cached and now - cached[0] < 5:
        return cached[1]
    answers = janus.server_answers(room_id=group.janus_room_id)
    _ANSWERS_CACHE[group.janus_room_id] = (now, answers)
    return answers


def _with_janus_csp(response, group: GroupSession):
    """Let this page (only) reach the group's Janus server: its public URL's origin goes into connect-src."""
    if janus.available():
        try:
            public = janus.server_for_room(group.janus_room_id).public_url
        except janus.JanusUnavailable:
            return response
        parts = urlsplit(public)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc:
            response._csp_update = {"connect-src": [f"{parts.scheme}://{parts.netloc}"]}
    return response


def _janus_js() -> str:
    """janus.js's URL among the static files, or "" where Debian's libjs-janus-gateway was not installed (the call
    page then says group video cannot load, with the phone number, rather than fail)."""
    try:
        return static("janus-gateway/janus.js")
    except ValueError:  # not in the manifest
        return ""


def _attendee_or_404(request, group_id: int) -> GroupAttendee:
    try:
        return selectors.group_access_for(request.user, group_id, selectors.JOIN).attendee
    except DomainError:
        raise Http404 from None


def _run_or_404(request, group_id: int) -> GroupSession:
    try:
        return selectors.group_access_for(request.user, group_id, selectors.RUN).group
    except DomainError:
        raise Http404 from None


def _room_state(attendee: GroupAttendee) -> dict:
    group = attendee.group
    in_progress = group.status == GroupSession.Status.IN_PROGRESS
    live = group.status in (GroupSession.Status.SCHEDULED, GroupSession.Status.IN_PROGRESS)
    return {
        "state": attendee.state,
        "group_status": group.status,
        "message": group.waiting_message,
        "message_at": group.waiting_message_at.isoformat() if group.waiting_message_at else None,
        "muted_all": group.muted_all,
        "safety_confirmed": attendee.safety_confirmed_at is not None,
        # Groups need Janus: when it is not configured or not answering, the page says so with the numbers to call.
        "unavailable": live and attendee.state != GroupAttendee.State.REMOVED and not _janus_answers(group),
        "call_url": reverse("group_call_page", args=[group.pk]) if in_progress and attendee.state == GroupAttendee.State.ADMITTED else "",
    }


@_ATTENDEE_PAGE
@require_http_methods(["GET", "HEAD"])
def group_room_page(request, group_id: int):
    """The attendee's group waiting room: the safety and privacy check, then wait; updates itself (polling)."""
    attendee = _attendee_or_404(request, group_id)
    group = attendee.group
    if attendee.state == GroupAttendee.State.ADMITTED and group.status == GroupSession.Status.IN_PROGRESS:
        return redirect("group_call_page", group_id=group.pk)
    audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=attendee, detail={"page": "group-room"})
    get_token(request)
    return render(request, "groups/room.html", {
        "group": group, "attendee": attendee, "room": _room_state(attendee),
        "needs_confirm": selectors.attendee_confirms_safety(group.team) and attendee.safety_confirmed_at is None,
        "poll_seconds": GROUP_ROOM_POLL_SECONDS,
    })


@_ATTENDEE_PAGE
@require_http_methods(["GET", "HEAD"])
def group_room_status(request, group_id: int):
    """The waiting room's state for its own page (JSON): the attendee's own place, the message to all, and whether
    group video is available. Polled every few seconds by group-room.js and group-call.js."""
    attendee = _attendee_or_404(request, group_id)
    response = JsonResponse(_room_state(attendee))
    response["Cache-Control"] = "no-store"
    return response


@_ATTENDEE_PAGE
@require_POST
def group_room_arrive(request, group_id: int):
    """The attendee says they are here (confirming the safety and privacy check where the team asks them to)."""
    attendee = _attendee_or_404(request, group_id)
    confirmed = request.POST.get("private") == "yes" and request.POST.get("location") == "yes"
    try:
        services.attendee_arrive(actor=Actor.from_request(request), attendee=attendee, safety_confirmed=confirmed)
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect("group_room_page", group_id=group_id)


@_ATTENDEE_PAGE
@require_POST
def group_room_leave(request, group_id: int):
    attendee = _attendee_or_404(request, group_id)
    services.attendee_leave(actor=Actor.from_request(request), attendee=attendee)
    messages.success(request, "You have left the group. You can come back to the waiting room while it is on.")
    return redirect("group_room_page", group_id=group_id)


@camera_and_microphone
@_ATTENDEE_PAGE
@require_http_methods(["GET", "HEAD"])
def group_call_page(request, group_id: int):
    """The group call for an admitted attendee (janus.js, VideoRoom). Anyone not admitted goes to the waiting room."""
    attendee = _attendee_or_404(request, group_id)
    group = attendee.group
    if attendee.state != GroupAttendee.State.ADMITTED or group.status != GroupSession.Status.IN_PROGRESS:
        return redirect("group_room_page", group_id=group.pk)
    audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=attendee, detail={"page": "group-call"})
    get_token(request)
    response = render(request, "groups/call.html", {
        "group": group, "attendee": attendee, "is_facilitator": False, "video_allowed": attendee.video_allowed,
        "poll_seconds": GROUP_ROOM_POLL_SECONDS, "janus_js": _janus_js(),
    })
    return _with_janus_csp(response, group)


def _facilitate_context(request, group: GroupSession) -> dict:
    attendees = list(group.attendees.select_related("person").order_by("person__full_name", "id"))
    audit_list(actor=Actor.from_request(request), object_type="groups.groupattendee", ids=[a.pk for a in attendees],
               detail={"page": "group-facilitate"})
    by_state = {state: [a for a in attendees if a.state == state] for state in GroupAttendee.State.values}
    return {
        "group": group, "attendees": attendees, "by_state": by_state,
        "waiting_count": len(by_state[GroupAttendee.State.WAITING]),
        "attendee_confirms_safety": selectors.attendee_confirms_safety(group.team),
        "in_progress": group.status == GroupSession.Status.IN_PROGRESS,
        "finished": group.status in (GroupSession.Status.ENDED, GroupSession.Status.CANCELLED),
    }


@camera_and_microphone
@_FACILITATOR_PAGE
@require_http_methods(["GET", "HEAD"])
def group_facilitate_page(request, group_id: int):
    """The facilitator's live view: who is waiting, in, held or removed, what to do with them, and the call."""
    group = _run_or_404(request, group_id)
    get_token(request)
    context = _facilitate_context(request, group)
    context.update({
        "poll_seconds": GROUP_ROOM_POLL_SECONDS,
        "unavailable": not context["finished"] and not _janus_answers(group),
        "video_allowed": True, "is_facilitator": True, "janus_js": _janus_js(),
    })
    return _with_janus_csp(render(request, "groups/facilitate.html", context), group)


@_FACILITATOR_PAGE
@require_http_methods(["GET", "HEAD"])
def group_facilitate_attendees(request, group_id: int):
    """The attendee panel of the facilitator's view alone (HTML), polled by group-facilitate.js."""
    group = _run_or_404(request, group_id)
    response = render(request, "groups/_facilitate_attendees.html", _facilitate_context(request, group))
    response["Cache-Control"] = "no-store"
    return response


def _facilitator_action(request, group_id: int, action, done: str):
    """Run `action(actor, group)` and answer: JSON for the page's script, otherwise back to the page with a message."""
    group = _run_or_404(request, group_id)
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        said = action(Actor.from_request(request), group) or done
    except DomainError as error:
        if wants_json:
            return JsonResponse({"ok": False, "code": error.code, "detail": error.detail}, status=error.status)
        messages.error(request, error.detail)
    else:
        if wants_json:
            return JsonResponse({"ok": True, "detail": said})
        messages.success(request, said)
    return redirect("group_facilitate_page", group_id=group_id)


def _one(group: GroupSession, attendee_id: int) -> GroupAttendee:
    attendee = group.attendees.filter(pk=attendee_id).select_related("person", "group").first()
    if attendee is None:
        raise Http404
    return attendee


@_FACILITATOR_PAGE
@require_POST
def group_facilitate_start(request, group_id: int):
    return _facilitator_action(request, group_id, lambda actor, group: services.group_start(actor=actor, group=group) and None,
                               "The group has started. Let people in from the waiting room.")


@_FACILITATOR_PAGE
@require_POST
def group_facilitate_admit(request, group_id: int, attendee_id: int):
    def admit(actor, group):
        attendee = _one(group, attendee_id)
        if attendee.safety_confirmed_at is None:
            raise Conflict(f"Tick {attendee.person.display_name}'s safety and privacy check first.", field="safety", code="safety_check_required")
        services.attendee_admit(actor=actor, attendee=attendee)
        return f"{attendee.person.display_name} is in the group."
    return _facilitator_action(request, group_id, admit, "")


@_FACILITATOR_PAGE
@require_POST
def group_facilitate_admit_all(request, group_id: int):
    def admit_all(actor, group):
        admitted, skipped = services.attendees_admit_all(actor=actor, group=group)
        said = f"{len(admitted)} {'person' if len(admitted) == 1 else 'people'} let in."
        if skipped:
            said += " Not let in: " + "; ".join(f"{a.person.display_name} ({why})" for a, why in skipped) + "."
        return said
    return _facilitator_action(request, group_id, admit_all, "")


@_FACILITATOR_PAGE
@require_POST
def group_facilitate_hold(request, group_id: int, attendee_id: int):
    def hold(actor, group):
        attendee = services.attendee_remove(actor=actor, attendee=_one(group, attendee_id), hold=True)
        return f"{attendee.person.display_name} is back in the waiting room."
    return _facilitator_action(request, group_id, hold, "")


@_FACILITATOR_PAGE
@require_POST
def group_facilitate_remove(request, group_id: int, attendee_id: int):
    def remove(actor, group):
        attendee = services.attendee_remove(actor=actor, attendee=_one(group, attendee_id), hold=False)
        return f"{attendee.person.display_name} has been removed from this session."
    return _facilitator_action(request, group_id, remove, "")


@_FACILITATOR_PAGE
@require_POST
def group_facilitate_safety(request, group_id: int, attendee_id: int):
    def tick(actor, group):
        attendee = services.attendee_safety_confirm(actor=actor, attendee=_one(group, attendee_id))
        return f"Safety and privacy check done for {attendee.person.display_name}."
    return _facilitator_action(request, group_id, tick, "")


@_FACILITATOR_PAGE
@require_POST
def group_facilitate_message(request, group_id: int):
    def send(actor, group):
        group = services.group_message(actor=actor, group=group, text=request.POST.get("text", ""))
        return "Message shown to everyone in the waiting room." if group.waiting_message else "Message taken down."
    return _facilitator_action(request, group_id, send, "")


@_FACILITATOR_PAGE
@require_POST
def group_facilitate_mute_all(request, group_id: int):
    mute = request.POST.get("mute", "yes") != "no"

    def mute_all(actor, group):
        if group.status != GroupSession.Status.IN_PROGRESS:
            raise Conflict("The group is not in progress.", field="status")
        services.group_mute_all(actor=actor, group=group, mute=mute)
        return "Everyone's microphone is muted." if mute else "Everyone can unmute their microphone again."
    return _facilitator_action(request, group_id, mute_all, "")


@_FACILITATOR_PAGE
@require_POST
def group_facilitate_end(request, group_id: int):
    return _facilitator_action(request, group_id, lambda actor, group: services.group_end(actor=actor, group=group) and None,
                               "The group has ended. The register is filled in: check it and correct it if needed.")


def group_home_panel(user):
    """The home page of a service user or carer (accounts.hooks.HOME_PANELS): the groups they are booked into that
    are on today or to come, each with the way into its waiting room."""
    if user.role not in (Role.SERVICE_USER, Role.CARER):
        return None
    since = timezone.now() - timedelta(hours=12)
    places = list(GroupAttendee.objects.filter(
        person=user, group__status__in=[GroupSession.Status.SCHEDULED, GroupSession.Status.IN_PROGRESS], group__starts_at__gte=since,
    ).exclude(state=GroupAttendee.State.REMOVED).select_related("group", "group__team").order_by("group__starts_at")[:10])
    if not places:
        return None
    return "groups/_home_groups.html", {"places": places}
