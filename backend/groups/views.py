"""Group pages.

Staff pages (clinicians and peer support workers of the group's team): the list of their teams' groups, booking a
group or a weekly series, and one meeting's page (who is booked, adding and taking people off, cancelling, and the
register with corrections and their history). Every object comes through `group_access_for`, the API's own rule,
so another team's group is a 404 page here as it is a 404 answer there; other roles get the 403 page.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts import selectors as access
from backend.accounts.models import PRACTITIONER_ROLES, Role, User
from backend.audit.actor import Actor
from backend.audit.history import history_of
from backend.audit.services import audit_list, audit_record
from backend.audit.models import AuditEvent
from backend.consent.views import page_for
from backend.core.errors import DomainError, NotFound
from backend.core.times import nhs_date, nhs_when

from . import forms, selectors, services
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
