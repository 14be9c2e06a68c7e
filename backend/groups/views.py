"""Group pages.

Staff pages (clinicians and peer support workers of the group's team): the list of their teams' groups, booking a
group or a weekly series, and one meeting's page (who is booked, adding and taking people off, cancelling, and the
register with corrections and their history). Every object comes through `group_access_for`, the API's own rule,
so another team's group is a 404 page here as it is a 404 answer there; other roles get the 403 page.

Live pages (issue #16 point 2 and 3: the attendee's waiting room, the call, the facilitator's live view) are the
`group_room_*`, `group_call_*` and `group_facilitate_*` views below. They stay current by polling small endpoints
every few seconds (`group_room_status`, `group_facilitate_attendees`), not through a WebSocket: a group's waiting
room changes a few times a minute, polling needs no second access check on a socket and nothing to close on
removal (the next poll says "removed"), and it keeps working through proxies that drop sockets. docs/groups.md.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts import selectors as access
from backend.accounts.models import PRACTITIONER_ROLES, Role, User
from backend.audit.actor import Actor
from backend.audit.history import history_of
from backend.audit.services import audit_list, audit_record
from backend.audit.models import AuditEvent
from backend.consent.views import page_for
from backend.core.errors import Conflict, DomainError, NotFound
from backend.core.middleware import camera_and_microphone
from backend.core.times import nhs_date, nhs_when

from . import forms, janus, selectors, services
from .models import GroupAttendee, GroupSession

STAFF_PAGE = page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")
LIST_LIMIT = 100  # meetings shown in each of "coming up" and "past"; older ones are summarised by count
# A service error's field -> the page field it is about.
_FIELDS = {"title": "title", "team": "team", "facilitator": "facilitator", "co_facilitator": "co_facilitator", "capacity": "capacity",
           "people": "people", "starts_at": "date", "duration_minutes": "duration_minutes", "repeat_weeks": "repeat_weeks",
           "reason": "reason", "attendance": "attendance", "attended_seconds": "minutes"}


def _show(form, error: DomainError) -> None:
    field = _FIELDS.get(error.field or "")
    form.add_error(field if field in form.fields else None, error.detail)


def _group_or_404(user: User, group_id: int) -> GroupSession:
    try:
        return selectors.group_access_for(user, group_id, selectors.RUN).group
    except NotFound as missing:
        raise Http404(missing.detail) from missing


def _labelled(people, *, for_carers: bool) -> list[tuple[User, str]]:
    """People with the words to tell them apart on a page: a carer with whom they care for."""
    people = list(people)
    if not for_carers:
        return [(p, p.full_name) for p in people]
    from backend.accounts.selectors import sharing_carer_links

    cared = {}
    for link in sharing_carer_links().filter(carer__in=people).select_related("service_user"):
        cared.setdefault(link.carer_id, []).append(link.service_user.full_name)
    return [(p, f"{p.full_name} (carer of {', '.join(sorted(cared.get(p.pk, [])))})" if cared.get(p.pk) else p.full_name) for p in people]


# --- The list -------------------------------------------------------------------------------------
@STAFF_PAGE
@require_http_methods(["GET", "HEAD"])
def group_list(request):
    """The groups of the asker's teams: coming up (soonest first) and past (latest first), with places and bookings."""
    now = timezone.now()
    groups = selectors.groups_for_staff(request.user)
    current = Q(status__in=[GroupSession.Status.SCHEDULED, GroupSession.Status.IN_PROGRESS], starts_at__gte=now - timedelta(hours=4)) \
        | Q(status=GroupSession.Status.IN_PROGRESS)
    upcoming = list(groups.filter(current).order_by("starts_at", "id")[:LIST_LIMIT])
    past_all = groups.exclude(current).order_by("-starts_at", "-id")
    past = list(past_all[:LIST_LIMIT])
    audit_list(actor=Actor.from_request(request), object_type="groups.groupsession", ids=[g.pk for g in upcoming + past],
               detail={"page": "group-list"})
    return render(request, "groups/list.html", {
        "upcoming": upcoming, "past": past, "past_more": max(0, past_all.count() - len(past)),
        "has_teams": access.teams_of(request.user).exists(),
    })


# --- Booking --------------------------------------------------------------------------------------
@STAFF_PAGE
@require_http_methods(["GET", "HEAD", "POST"])
def group_book(request):
    """Book a group (or a weekly series) for one of the asker's teams, with people from its caseload (or their carers)."""
    from django.conf import settings

    user: User = request.user
    teams = list(access.teams_of(user).order_by("name", "id"))
    practitioners = list(User.objects.filter(team_memberships__team__in=teams, role__in=PRACTITIONER_ROLES, is_active=True)
                         .distinct().order_by("full_name", "id"))
    for_carers = request.POST.get("for_whom", request.GET.get("for", "")) == "carers"
    pool = _bookable_everywhere(user, teams, for_carers=for_carers)
    initial = {"team": teams[0].pk if teams else None, "facilitator": user.pk, "duration_minutes": 90, "repeat_weeks": 1,
               "capacity": settings.GROUP_CAPACITY_DEFAULT}
    form = forms.GroupBookForm(request.POST or None, initial=initial, teams=teams, practitioners=practitioners, people=pool)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team = next(t for t in teams if t.pk == data["team"])
        by_pk = {u.pk: u for u in practitioners}
        chosen = [p for p, _ in pool if p.pk in set(data["people"])]
        try:
            meetings = services.group_book(
                actor=Actor.from_request(request), team=team, title=data["title"], facilitator=by_pk[data["facilitator"]],
                co_facilitator=by_pk.get(data["co_facilitator"]) if data["co_facilitator"] else None, starts_at=form.starts_at(),
                people=chosen, capacity=data["capacity"], duration_minutes=data["duration_minutes"], for_carers=for_carers,
                repeat_weeks=data["repeat_weeks"],
            )
        except DomainError as error:
            _show(form, error)
        else:
            first = meetings[0]
            if len(meetings) == 1:
                messages.success(request, f"Booked: {first.title} on {nhs_when(first.starts_at)}, with {len(chosen)} "
                                          f"{'person' if len(chosen) == 1 else 'people'} booked.")
            else:
                messages.success(request, f"Booked {len(meetings)} weekly meetings of {first.title}, from {nhs_when(first.starts_at)} "
                                          f"to {nhs_date(meetings[-1].starts_at)}, with {len(chosen)} {'person' if len(chosen) == 1 else 'people'} "
                                          "booked into each.")
            return redirect("group_detail", group_id=first.pk)
    return render(request, "groups/book.html", {"form": form, "has_teams": bool(teams), "for_carers": for_carers},
                  status=400 if form.is_bound and form.errors else 200)


def _bookable_everywhere(user: User, teams, *, for_carers: bool) -> list[tuple[User, str]]:
    """Everyone the asker could book into a group of any of their teams (the service checks the chosen team)."""
    seen: dict[int, User] = {}
    for team in teams:
        for person in selectors.group_people_bookable(user, team, for_carers=for_carers):
            seen.setdefault(person.pk, person)
    return _labelled(sorted(seen.values(), key=lambda p: (p.full_name, p.pk)), for_carers=for_carers)


# --- One meeting: bookings, cancelling, the register ---------------------------------------------------
@STAFF_PAGE
@require_http_methods(["GET", "HEAD"])
def group_detail(request, group_id: int):
    return _detail(request, _group_or_404(request.user, group_id))


def _register_started(group: GroupSession) -> bool:
    """The register can be kept once the meeting has started (through Rapport, or by the clock: a group run
    by phone or face to face when the video service was down still needs its register)."""
    return group.status in (GroupSession.Status.IN_PROGRESS, GroupSession.Status.ENDED) or (
        group.status == GroupSession.Status.SCHEDULED and group.starts_at <= timezone.now())


def _detail(request, group: GroupSession, *, add_form=None, cancel_form=None, correct_forms=None, status=200):
    attendees = list(group.attendees.select_related("person", "attendance_corrected_by").order_by("person__full_name", "id"))
    audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=group, detail={"page": "group-detail"})
    audit_list(actor=Actor.from_request(request), object_type="groups.groupattendee", ids=[a.pk for a in attendees], detail={"page": "group-detail"})
    booked_ids = {a.person_id for a in attendees}
    addable = [] if group.status in (GroupSession.Status.ENDED, GroupSession.Status.CANCELLED) else [
        (p, label) for p, label in _labelled(selectors.group_people_bookable(request.user, group.team, for_carers=group.for_carers)
                                             .order_by("full_name", "id"), for_carers=group.for_carers) if p.pk not in booked_ids]
    meetings = list(selectors.series_meetings(group))
    later = [m for m in meetings if m.starts_at > group.starts_at and m.status == GroupSession.Status.SCHEDULED]
    correct_forms = correct_forms or {}
    rows = []
    for attendee in attendees:
        rows.append({
            "attendee": attendee, "minutes": round(attendee.attended_seconds / 60),
            "form": correct_forms.get(attendee.pk) or forms.AttendanceForm(
                prefix=f"a{attendee.pk}", initial={"attendance": attendee.attendance or None}),
        })
    return render(request, "groups/detail.html", {
        "group": group, "rows": rows, "places_left": max(0, group.capacity - len(attendees)),
        "meetings": meetings, "position": next((i for i, m in enumerate(meetings, 1) if m.pk == group.pk), 1), "later": later,
        "add_form": add_form or forms.PeopleAddForm(people=addable), "can_add": bool(addable) and group.status in (
            GroupSession.Status.SCHEDULED, GroupSession.Status.IN_PROGRESS),
        "cancel_form": cancel_form or forms.CancelForm(prefix="cancel"), "unbook_form": forms.UnbookForm(prefix="unbook"),
        "scheduled": group.status == GroupSession.Status.SCHEDULED, "register": _register_started(group),
        "history": _register_history(attendees), "safety_check": selectors.group_safety_check_mode(group.team),
    }, status=status)


def _register_history(attendees: list[GroupAttendee]) -> list[dict]:
    """Each correction to the register, oldest first, from the rows' history (PostgreSQL keeps it; on SQLite only
    the latest correction, from the row itself)."""
    labels = dict(GroupAttendee.Attendance.choices)
    lines = []
    names = {}
    for attendee in attendees:
        previous = None
        snapshots = list(history_of(attendee))
        for snap in snapshots:
            key = (snap.attendance, snap.attendance_reason, snap.attendance_corrected_by_id)
            if snap.attendance_corrected_by_id and (previous is None or key != previous[:3]):
                if snap.attendance_corrected_by_id not in names:
                    names[snap.attendance_corrected_by_id] = User.objects.filter(pk=snap.attendance_corrected_by_id).values_list("full_name", flat=True).first()
                lines.append({"when": snap.pgh_created_at, "person": attendee.person.full_name, "by": names[snap.attendance_corrected_by_id],
                              "from": labels.get(previous[3], "") if previous and previous[3] else "", "to": labels.get(snap.attendance, snap.attendance),
                              "reason": snap.attendance_reason})
            previous = (*key, snap.attendance)
        if not snapshots and attendee.attendance_corrected_by_id:
            lines.append({"when": None, "person": attendee.person.full_name, "by": attendee.attendance_corrected_by.full_name, "from": "",
                          "to": attendee.get_attendance_display(), "reason": attendee.attendance_reason})
    return sorted(lines, key=lambda line: (line["when"] is None, line["when"] or timezone.now()))


@STAFF_PAGE
@require_POST
def group_register_add(request, group_id: int):
    """Book more people into this meeting (and, if asked, the later meetings of its series)."""
    group = _group_or_404(request.user, group_id)
    people = _labelled(selectors.group_people_bookable(request.user, group.team, for_carers=group.for_carers), for_carers=group.for_carers)
    form = forms.PeopleAddForm(request.POST, people=people)
    if form.is_valid():
        chosen = [p for p, _ in people if p.pk in set(form.cleaned_data["people"])]
        try:
            meetings = services.group_people_add(actor=Actor.from_request(request), group=group, people=chosen,
                                                 whole_series=form.cleaned_data["whole_series"])
        except DomainError as error:
            _show(form, error)
        else:
            names = ", ".join(p.full_name for p in chosen)
            messages.success(request, f"Added {names} to {'this meeting' if len(meetings) == 1 else f'{len(meetings)} meetings'}.")
            return redirect("group_detail", group_id=group.pk)
    return _detail(request, group, add_form=form, status=400)


@STAFF_PAGE
@require_POST
def group_register_unbook(request, group_id: int, attendee_id: int):
    """Take one booked person off this meeting (and, if asked, the later meetings of its series)."""
    group = _group_or_404(request.user, group_id)
    attendee = group.attendees.filter(pk=attendee_id).select_related("person", "group").first()
    if attendee is None:
        raise Http404("No such person booked into this group.")
    form = forms.UnbookForm(request.POST, prefix="unbook")
    form.is_valid()
    try:
        freed = services.group_person_unbook(actor=Actor.from_request(request), attendee=attendee,
                                             whole_series=form.cleaned_data.get("whole_series", False))
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect("group_detail", group_id=group.pk)
    messages.success(request, f"{attendee.person.full_name} is no longer booked into "
                              f"{'this meeting' if freed == 1 else f'{freed} meetings'}.")
    return redirect("group_detail", group_id=group.pk)


@STAFF_PAGE
@require_POST
def group_register_correct(request, group_id: int, attendee_id: int):
    """Correct one person's line in the register, with why."""
    group = _group_or_404(request.user, group_id)
    attendee = group.attendees.filter(pk=attendee_id).select_related("person", "group").first()
    if attendee is None:
        raise Http404("No such person booked into this group.")
    form = forms.AttendanceForm(request.POST, prefix=f"a{attendee.pk}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.attendance_correct(actor=Actor.from_request(request), attendee=attendee, attendance=data["attendance"],
                                        attended_seconds=data["minutes"] * 60 if data["minutes"] is not None else None, reason=data["reason"])
        except DomainError as error:
            _show(form, error)
        else:
            messages.success(request, f"The register now says {attendee.person.full_name}: "
                                      f"{dict(GroupAttendee.Attendance.choices)[data['attendance']].lower()}.")
            return redirect("group_detail", group_id=group.pk)
    return _detail(request, group, correct_forms={attendee.pk: form}, status=400)


@STAFF_PAGE
@require_POST
def group_book_cancel(request, group_id: int):
    """Cancel this meeting (and, if asked, the later meetings of its series)."""
    group = _group_or_404(request.user, group_id)
    form = forms.CancelForm(request.POST, prefix="cancel")
    if form.is_valid():
        try:
            meetings = services.group_cancel(actor=Actor.from_request(request), group=group, reason=form.cleaned_data["reason"],
                                             whole_series=form.cleaned_data["whole_series"])
        except DomainError as error:
            _show(form, error)
        else:
            messages.success(request, "Cancelled this meeting." if len(meetings) == 1 else f"Cancelled {len(meetings)} meetings of this series.")
            return redirect("group_detail", group_id=group.pk)
    return _detail(request, group, cancel_form=form, status=400)


# --- Live pages: waiting room, call, facilitator's view ---------------------------------------------------------

GROUP_ROOM_POLL_SECONDS = 3
_ATTENDEE_PAGE = page_for(Role.SERVICE_USER, Role.CARER, who="people booked into a group")


def _FACILITATOR_PAGE(view):
    """The facilitator's live pages: the team's clinicians and peer workers, and anyone a higher layer lets facilitate
    this one group (`hooks.FACILITATION_GRANTS`: a Recovery College trainer of the run, who may be a carer or service
    user with no team). The group comes through `group_access_for(..., FACILITATE)`: someone who may not know it
    exists gets a 404; an attendee of it gets the 403 page saying who it is for."""

    @wraps(view)
    @login_required
    def wrapped(request, group_id: int, *args, **kwargs):
        if request.user.role not in PRACTITIONER_ROLES:
            try:
                selectors.group_access_for(request.user, group_id, selectors.FACILITATE)
            except NotFound:
                raise Http404 from None
            except DomainError:
                return render(request, "consent/not_for_you.html", {"who": "the group's facilitators"}, status=403)
        return view(request, group_id, *args, **kwargs)

    return wrapped
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
    """The group for its live facilitation (the team's staff, or a facilitator granted by a higher layer)."""
    try:
        return selectors.group_access_for(request.user, group_id, selectors.FACILITATE).group
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
        "needs_confirm": selectors.group_safety_check_mode(group.team) == "attendee" and attendee.safety_confirmed_at is None,
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
        "attendee_confirms_safety": selectors.group_safety_check_mode(group.team) == "attendee",
        "in_progress": group.status == GroupSession.Status.IN_PROGRESS,
        "finished": group.status in (GroupSession.Status.ENDED, GroupSession.Status.CANCELLED),
        # Attendees' phone numbers are for the team's own staff; a facilitator granted by a higher layer (a college
        # trainer) sees names and where people are, not their contact details.
        "team_staff": request.user.role in PRACTITIONER_ROLES and group.team.memberships.filter(user=request.user).exists(),
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
