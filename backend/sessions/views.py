"""Appointment pages: a service user choosing how to be seen, and a practitioner's page about one person
(their consent, preference and appointments), where a clinician can record consent given verbally.

The person page lives here, not in consent, because it shows appointments: sessions is the lowest
layer that knows both.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from datetime import datetime, timedelta
from urllib.parse import urlencode

import icalendar
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts import selectors as access
from backend.accounts.models import Role, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.consent import selectors as consent
from backend.consent import services as consent_services
from backend.consent.forms import VerbalConsentForm, first_error
from backend.consent.models import ConsentRecord, Modality, PurposeCode
from backend.consent.views import page_for, preference_summary
from backend.core.errors import DomainError, NotFound
from backend.core.middleware import camera_and_microphone
from backend.core.phone import phone_number_for_display
from backend.core.times import nhs_date, nhs_when
from backend.sessions import selectors, services
from backend.sessions.hooks import person_page_panels
from backend.sessions.authentication import SESSION_KEY
from backend.sessions.forms import (
    REPEAT_CHOICES,
    AppointmentChoiceForm,
    BookingForm,
    CancelForm,
    CarerInviteForm,
    GuestForm,
    PhoneCallForm,
    RearrangeForm,
    RescheduleForm,
    SafetyCheckForm,
    WeekQuery,
    add_service_error,
)
from backend.sessions.models import Appointment, Participant

D = ConsentRecord.Decision


def _when(appointment: Appointment) -> str:
    return formats.date_format(timezone.localtime(appointment.starts_at), "l j F")


def _offered(appointment: Appointment) -> list[str]:
    return [Modality(code).label for code in appointment.modalities_offered]


# --- Your appointments (service users) ------------------------------------------------------------
@page_for(Role.SERVICE_USER, who="people receiving care")
@require_http_methods(["GET", "HEAD"])
def appointments_page(request):
    return _my_appointments(request)


def _my_appointments(request, *, forms_for: dict[int, dict] | None = None, status: int = 200):
    """The service user's coming appointments: who, when, how and where; choose how to be seen; cancel
    or ask to rearrange; add to a calendar. Also the ones cancelled recently, so a cancellation by the
    team is seen. `forms_for` keeps a form that came back with a problem, with its message."""
    user: User = request.user
    forms_for = forms_for or {}
    now = timezone.now()
    upcoming = list(
        selectors.appointments_visible_to(user)
        .filter(starts_at__gt=now, status__in=[Appointment.Status.SCHEDULED, Appointment.Status.WAITING, Appointment.Status.CANCELLED])
        .prefetch_related("rearrange_requests")
        .select_related("cancelled_by")
        .order_by("starts_at", "id")
    )
    audit_list(
        actor=Actor.from_request(request), object_type="telesessions.appointment", ids=[a.pk for a in upcoming],
        detail={"page": "appointments"},
    )
    # The consents each remote way needs (as appointment_choose checks), so the page can say so first.
    holds = {code: consent.has_consent(user, code) for code in (PurposeCode.REMOTE_CARE, PurposeCode.VIDEO)}
    names = {code: consent.purpose_by_code(code).name for code in holds}
    lacking = {
        modality: " and ".join(f"“{names[code]}”" for code in codes if not holds[code])
        for modality, codes in ((Modality.PHONE, [PurposeCode.REMOTE_CARE]), (Modality.VIDEO, [PurposeCode.REMOTE_CARE, PurposeCode.VIDEO]))
    }
    moves = selectors.last_changes(upcoming)
    rows = []
    for appointment in upcoming:
        kept = forms_for.get(appointment.pk, {})
        open_request = next((r for r in appointment.rearrange_requests.all() if r.is_open), None)
        rows.append({
            "appointment": appointment,
            "offered": _offered(appointment),
            "options": [
                {"code": code, "label": Modality(code).label, "needs_consent_to": lacking.get(code, "")}
                for code in appointment.modalities_offered
            ],
            "cancelled": appointment.status == Appointment.Status.CANCELLED,
            "cancelled_by_me": appointment.cancelled_by_id == user.pk,
            "moved": moves.get(appointment.pk),
            "open_request": open_request,
            "cancel_form": kept.get("cancel") or CancelForm(prefix=f"cancel-{appointment.pk}"),
            "rearrange_form": kept.get("rearrange") or RearrangeForm(prefix=f"rearrange-{appointment.pk}"),
            "open_panel": kept.get("open", ""),
        })
    return render(request, "sessions/appointments.html", {"rows": rows}, status=status)


@page_for(Role.SERVICE_USER, who="people receiving care")
@require_POST
def appointment_rearrange(request, appointment_id: int):
    """The person asks their team to rearrange an appointment (nothing moves until the team does)."""
    appointment = _visible_or_404(request.user, appointment_id)
    form = RearrangeForm(request.POST, prefix=f"rearrange-{appointment.pk}")
    if form.is_valid():
        try:
            services.appointment_rearrange_request(actor=Actor.from_request(request), appointment=appointment, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form.add_error("reason" if error.field == "reason" else None, error.detail)
        else:
            messages.success(request, f"Sent. {appointment.team.name} will get in touch about your appointment on {nhs_when(appointment.starts_at)}.")
            return redirect("appointments-page")
    return _my_appointments(request, forms_for={appointment.pk: {"rearrange": form, "open": "rearrange"}})


@page_for(Role.SERVICE_USER, who="people receiving care")
@require_http_methods(["GET", "HEAD"])
def appointment_calendar(request, appointment_id: int):
    """The appointment as an .ics file for the person's own calendar (RFC 5545, made with icalendar)."""
    appointment = _visible_or_404(request.user, appointment_id)
    body = calendar_file(appointment, host=request.get_host().split(":")[0])
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
    return response


def calendar_file(appointment: Appointment, *, host: str) -> bytes:
    """One VEVENT: when, with whom, how and where, and the team's number. Its UID stays the same and
    its SEQUENCE grows with each move, so a calendar that imports it again updates the event."""
    team = appointment.team
    moves = appointment.events.filter(kind="rescheduled").count()
    event = icalendar.Event()
    event.add("uid", f"appointment-{appointment.pk}@{host}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.starts_at + timedelta(minutes=appointment.duration_minutes))
    event.add("sequence", moves)
    event.add("summary", f"Appointment with {team.name}")
    how = appointment.get_chosen_modality_display() or "Not chosen yet (" + ", ".join(_offered(appointment)).lower() + ")"
    phone = phone_number_for_display(team.phone_number)
    lines = [f"With {appointment.practitioner.full_name if appointment.practitioner else team.name}, {team.name}.", f"How: {how}."]
    if appointment.chosen_modality in ("", Modality.FACE_TO_FACE) and team.face_to_face_address:
        event.add("location", team.face_to_face_address.replace("\n", ", ").replace("\r", ""))
    elif appointment.chosen_modality == Modality.VIDEO:
        event.add("location", "Video call: log in to Rapport and go to Your appointments")
    if phone:
        lines.append(f"To change anything, phone {team.name} on {phone}" + (f" ({team.opening_hours})." if team.opening_hours else "."))
    event.add("description", "\n".join(lines))
    if appointment.status == Appointment.Status.CANCELLED:
        event.add("status", "CANCELLED")
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Rapport//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add_component(event)
    return calendar.to_ical()


def _visible_or_404(user: User, appointment_id: int) -> Appointment:
    try:
        return selectors.session_access_for(user, appointment_id, selectors.SEE).appointment
    except NotFound as error:
        raise Http404(error.detail) from error


@page_for(Role.SERVICE_USER, who="people receiving care")
@require_POST
def appointment_choose(request, appointment_id: int):
    try:
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
    except NotFound as error:
        raise Http404(error.detail) from error
    form = AppointmentChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("appointments-page")
    modality = form.cleaned_data["modality"]
    try:
        services.appointment_choose(actor=Actor.from_request(request), appointment=appointment, modality=modality)
    except consent.ConsentMissing as error:
        # The page adds a link to the consent page beside a message with this tag.
        messages.error(request, error.detail, extra_tags="consent-missing")
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"Saved. You chose {Modality(modality).label.lower()} for your appointment on {_when(appointment)}.")
    return redirect("appointments-page")


# --- A person's page (clinicians and peer workers) -------------------------------------------------
@page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")
@require_http_methods(["GET", "HEAD", "POST"])
def person_page(request, service_user_id: int):
    user: User = request.user
    actor = Actor.from_request(request)
    try:
        person = access.service_user_for(user, service_user_id)
    except NotFound as error:
        raise Http404(error.detail) from error
    states = consent.consent_states(person)
    form = VerbalConsentForm(request.POST or None, states=states)
    if request.method == "POST":
        if form.is_valid():
            arguments = form.service_arguments()
            try:
                # The service decides who may record (a clinician on the person's team, with a note).
                record = consent_services.consent_record(actor=actor, service_user=person, **arguments)
            except DomainError as error:
                messages.error(request, error.detail)
            else:
                messages.success(
                    request,
                    f"Recorded: {person.full_name} {_decided(record.decision)} “{record.purpose.name}”"
                    f"{' for ' + record.carer.full_name if record.carer else ''} (wording version {record.wording.version}).",
                )
                return redirect("person-page", service_user_id=person.pk)

    history = list(consent.consent_history(person))
    preferences = list(consent.preference_history(person))
    appointments = list(selectors.appointments_visible_to(user).filter(service_user=person).order_by("-starts_at", "-id"))
    audit_record(actor=actor, action=AuditEvent.Action.READ, obj=person, detail={"page": "person"})
    shown = {"service_user": person.pk, "page": "person"}
    audit_list(actor=actor, object_type="consent.consentrecord", ids=[r.pk for r in history], detail=shown)
    audit_list(actor=actor, object_type="consent.modalitypreference", ids=[p.pk for p in preferences], detail=shown)
    audit_list(actor=actor, object_type="telesessions.appointment", ids=[a.pk for a in appointments], detail=shown)

    current = preferences[0] if preferences else None
    now = timezone.now()
    rows = [{"appointment": a, "offered": _offered(a), "upcoming": a.starts_at > now} for a in appointments]
    context = {
        "person": person,
        "teams": [entry.team for entry in person.caseload_entries.all()],
        "states": states,
        "history": history,
        "current": preference_summary(current),
        "needs": [consent.ACCESS_NEED_LABELS[need] for need in consent.access_needs(current)],
        "preferences": [preference_summary(p) for p in preferences],
        "upcoming": [row for row in rows if row["upcoming"]][::-1],  # soonest first
        "past": [row for row in rows if not row["upcoming"]],  # most recent first
        "form": form,
        "can_record_consent": user.role == Role.CLINICIAN,
        "panels": person_page_panels(user, person),
    }
    return render(request, "sessions/person.html", context)


def _decided(decision: str) -> str:
    return {D.GIVEN: "agreed to", D.REFUSED: "said no to", D.WITHDRAWN: "stopped agreeing to"}[decision]


# --- Booking, the week, one appointment (clinicians and peer workers) ------------------------------
PRACTITIONER_PAGE = page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")
# A service error's field -> the page field it is about.
_BOOKING_FIELDS = {"starts_at": "date", "service_user_id": "service_user", "practitioner_id": "practitioner", "team_id": "team",
                   "count": "count", "frequency": "repeat", "modalities_offered": "remote_offered", "duration_minutes": "duration_minutes",
                   "reason": "reason"}


def _form_error(form, error: DomainError) -> None:
    field = _BOOKING_FIELDS.get(error.field or "")
    form.add_error(field if field in form.fields else None, error.detail)


@PRACTITIONER_PAGE
@require_http_methods(["GET", "HEAD", "POST"])
def book_page(request):
    """Book an appointment, or a weekly or fortnightly series, for someone on one of the booker's teams' caseloads."""
    user: User = request.user
    people = list(access.service_users_visible_to(user).order_by("full_name", "id"))
    teams = list(access.teams_of(user).order_by("name", "id"))
    practitioners = list(
        User.objects.filter(team_memberships__team__in=teams, role__in=[Role.CLINICIAN, Role.PEER_WORKER], is_active=True).distinct().order_by("full_name", "id")
    )
    initial = {"practitioner": user.pk, "team": teams[0].pk if teams else None, "duration_minutes": 50,
               "kind": Appointment.Kind.TREATMENT, "remote_offered": [Modality.VIDEO, Modality.PHONE], "repeat": ""}
    wanted = request.GET.get("person", "")
    if wanted.isascii() and wanted.isdigit() and any(p.pk == int(wanted) for p in people):
        initial["service_user"] = int(wanted)
        person_teams = [t.pk for t in teams if t.caseload.filter(service_user_id=int(wanted)).exists()]
        if person_teams:
            initial["team"] = person_teams[0]
    form = BookingForm(request.POST or None, initial=initial, people=people, teams=teams, practitioners=practitioners)
    clashes = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        booking = {
            "actor": Actor.from_request(request),
            "service_user": next(p for p in people if p.pk == data["service_user"]),
            "team": next(t for t in teams if t.pk == data["team"]),
            "practitioner": next(u for u in practitioners if u.pk == data["practitioner"]),
            "starts_at": form.starts_at(), "duration_minutes": data["duration_minutes"], "kind": data["kind"],
            "modalities_offered": form.modalities_offered(), "confirm_clash": data["confirm_clash"],
        }
        try:
            if data["repeat"]:
                booked = services.appointment_series_book(frequency=data["repeat"], count=data["count"], **booking)
            else:
                booked = [services.appointment_book(**booking)]
        except services.BookingClash as clash:
            clashes = clash.clashes
            form.add_error(None, clash.detail)
        except DomainError as error:
            _form_error(form, error)
        else:
            first = booked[0]
            if len(booked) == 1:
                messages.success(request, f"Booked: {first.service_user.full_name} with {first.practitioner.full_name} on {nhs_when(first.starts_at)}.")
            else:
                messages.success(request, f"Booked {len(booked)} appointments for {first.service_user.full_name}, "
                                          f"{dict(REPEAT_CHOICES)[data['repeat']].lower()} from {nhs_when(first.starts_at)} "
                                          f"to {nhs_date(booked[-1].starts_at)}.")
            return redirect("appointment-page", appointment_id=first.pk)
    return render(request, "sessions/book.html", {
        "form": form, "clashes": clashes, "has_people": bool(people), "cutoffs": _cutoffs(teams),
    })


def _cutoffs(teams) -> list[dict]:
    return [{"team": team, "hours": selectors.team_settings(team).choice_cutoff_hours} for team in teams]


@PRACTITIONER_PAGE
@require_http_methods(["GET", "HEAD"])
def appointment_page(request, appointment_id: int):
    """One appointment for its team: details, the person's choice and its cut-off, what changed and
    why, a request to rearrange, and the actions: move, cancel, join links and the leaflet."""
    appointment = _visible_or_404(request.user, appointment_id)
    return _appointment_page(request, appointment)


def _appointment_page(request, appointment: Appointment, *, reschedule_form=None, cancel_form=None, clashes=(), link=None, status=200):
    audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=appointment, detail={"page": "appointment"})
    start = timezone.localtime(appointment.starts_at)
    active = appointment.status in (Appointment.Status.SCHEDULED, Appointment.Status.WAITING)
    carers = [p.user for p in selectors.participants_of(appointment).filter(role=Participant.Role.CARER).exclude(state=Participant.State.REMOVED)]
    return render(request, "sessions/appointment.html", {
        "appointment": appointment,
        "offered": _offered(appointment),
        "active": active,
        "upcoming": active and appointment.starts_at > timezone.now(),
        "changes": _change_lines(appointment),
        "requests": list(appointment.rearrange_requests.select_related("requested_by", "answered_by")),
        "series_count": Appointment.objects.filter(series=appointment.series).count() if appointment.series else 0,
        "reschedule_form": reschedule_form or RescheduleForm(initial={"date": start.date(), "time": start.strftime("%H:%M"),
                                                                      "duration_minutes": appointment.duration_minutes}),
        "cancel_form": cancel_form or CancelForm(prefix="cancel"),
        "clashes": clashes,
        "link_people": [appointment.service_user, *carers] if active and Modality.VIDEO in appointment.modalities_offered else [],
        "link": link,
        "is_host": appointment.practitioner_id == request.user.pk,
    }, status=status)


def _change_lines(appointment: Appointment) -> list[dict]:
    """The appointment's bookings, moves, requests and status changes, in words, oldest first."""
    lines = []
    for event in appointment.events.filter(kind__in=["booked", "rescheduled", "rearrange_requested", "status_changed"]).select_related("actor"):
        data = event.data
        if event.kind == "booked":
            text = "Booked"
        elif event.kind == "rescheduled":
            text = (f"Moved from {nhs_when(datetime.fromisoformat(data['from']))} to {nhs_when(datetime.fromisoformat(data['to']))}: "
                    f"“{data.get('reason', '')}”")
        elif event.kind == "rearrange_requested":
            text = f"Asked to rearrange: “{data.get('reason', '')}”"
        else:
            label = dict(Appointment.Status.choices).get(data.get("to"), data.get("to", ""))
            text = f"{label}" + (f": “{data['reason']}”" if data.get("reason") else "")
        lines.append({"when": event.occurred_at, "text": text, "by": event.actor})
    return lines


@PRACTITIONER_PAGE
@require_POST
def appointment_reschedule_web(request, appointment_id: int):
    appointment = _visible_or_404(request.user, appointment_id)
    form = RescheduleForm(request.POST)
    clashes = []
    if form.is_valid():
        try:
            moved = services.appointment_reschedule(
                actor=Actor.from_request(request), appointment=appointment, starts_at=form.starts_at(), reason=form.cleaned_data["reason"],
                duration_minutes=form.cleaned_data["duration_minutes"], confirm_clash=form.cleaned_data["confirm_clash"],
            )
        except services.BookingClash as clash:
            clashes = clash.clashes
            form.add_error(None, clash.detail)
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Moved to {nhs_when(moved.starts_at)}. {moved.service_user.display_name} will see the new time and your reason.")
            return redirect("appointment-page", appointment_id=moved.pk)
    return _appointment_page(request, appointment, reschedule_form=form, clashes=clashes)


@page_for(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, who="people receiving care and their care teams")
@require_POST
def appointment_cancel_web(request, appointment_id: int):
    """Cancel with a reason: the team from the appointment's page, the person from theirs."""
    appointment = _visible_or_404(request.user, appointment_id)
    is_person = request.user.role == Role.SERVICE_USER
    form = CancelForm(request.POST, prefix=f"cancel-{appointment.pk}" if is_person else "cancel")
    if form.is_valid():
        try:
            services.session_cancel(actor=Actor.from_request(request), appointment=appointment, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form.add_error("reason" if error.field == "reason" else None, error.detail)
        else:
            if is_person:
                messages.success(request, f"Cancelled your appointment on {nhs_when(appointment.starts_at)}. {appointment.team.name} can see why.")
                return redirect("appointments-page")
            messages.success(request, f"Cancelled. {appointment.service_user.display_name} will see that it is cancelled and why.")
            return redirect("appointment-page", appointment_id=appointment.pk)
    if is_person:
        return _my_appointments(request, forms_for={appointment.pk: {"cancel": form, "open": "cancel"}})
    return _appointment_page(request, appointment, cancel_form=form)


@PRACTITIONER_PAGE
@require_POST
def appointment_join_link_web(request, appointment_id: int):
    """Make a join link for the person or an invited carer: shown to copy, or printed on the leaflet."""
    appointment = _visible_or_404(request.user, appointment_id)
    wanted = request.POST.get("user_id", "")
    person = User.objects.filter(pk=int(wanted)).first() if wanted.isascii() and wanted.isdigit() and len(wanted) < 19 else None
    if person is None:
        messages.error(request, "Choose who the link is for.")
        return redirect("appointment-page", appointment_id=appointment.pk)
    try:
        link = services.join_link_make(actor=Actor.from_request(request), appointment=appointment, user=person,
                                       absolute_url=request.build_absolute_uri)
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect("appointment-page", appointment_id=appointment.pk)
    if request.POST.get("leaflet"):
        team = appointment.team
        return render(request, "sessions/leaflet.html", {
            "appointment": appointment, "person": person, "link": link,
            "phone": phone_number_for_display(team.phone_number), "address": team.face_to_face_address,
        })
    return _appointment_page(request, appointment, link={"for": person, **vars(link)})


@PRACTITIONER_PAGE
@require_http_methods(["GET", "HEAD"])
def week_page(request):
    """A practitioner's day or week, or their team's: appointments by day, and open requests to rearrange."""
    user: User = request.user
    teams = list(access.teams_of(user).order_by("name", "id"))
    query = WeekQuery(request.GET or None)
    query.is_valid()
    if query.errors:
        messages.error(request, "That date or view is not right, so this shows your week.")
    data = query.cleaned_data if query.is_bound and not query.errors else {}
    day = data.get("date") or timezone.localdate()
    view = data.get("view") or "week"
    team = next((t for t in teams if t.pk == data.get("team")), None)
    first = day if view == "day" else day - timedelta(days=day.weekday())
    last = first if view == "day" else first + timedelta(days=6)
    appointments = selectors.appointments_between(user, first, last)
    appointments = appointments.filter(team=team) if team else appointments.filter(practitioner=user)
    appointments = list(appointments)
    audit_list(actor=Actor.from_request(request), object_type="telesessions.appointment", ids=[a.pk for a in appointments], detail={"page": "week"})
    requests = list(selectors.rearrange_requests_visible_to(user).filter(answered_at__isnull=True).order_by("appointment__starts_at", "id"))
    days = [{"date": first + timedelta(days=n), "appointments": []} for n in range((last - first).days + 1)]
    for appointment in appointments:
        days[(timezone.localtime(appointment.starts_at).date() - first).days]["appointments"].append(appointment)
    step = timedelta(days=1 if view == "day" else 7)

    def link(**change):
        params = {"view": view, "date": day.isoformat(), **({"team": team.pk} if team else {}), **change}
        return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    return render(request, "sessions/week.html", {
        "days": days, "view": view, "team": team, "teams": teams, "first": first, "last": last, "requests": requests,
        "previous": link(date=(day - step).isoformat()), "next": link(date=(day + step).isoformat()), "today": link(date=""),
        "as_day": link(view="day"), "as_week": link(view="week"),
        "mine": "?" + urlencode({"view": view, "date": day.isoformat()}),
        "team_links": [{"team": t, "url": link(team=t.pk)} for t in teams],
        "count": len(appointments),
    })


# --- Joining a session -----------------------------------------------------------------------------
_JOIN_PROBLEMS = {
    "invalid": ("This link does not work", "The link may be incomplete: some messaging apps cut long links. Try opening it again from the message, or ask your care team to send a new one."),
    "expired": ("This link has expired", "Links work until an hour after the appointment. Ask your care team for a new one."),
    "ended": ("This session has finished", "The session this link was for is over. If you have another appointment, you will get a new link for it."),
}


def join_link(request, token: str):
    """Open a join link: the browser may then take part in that one session (no password needed)."""
    try:
        grant = selectors.join_link_resolve(token)
    except selectors.JoinLinkInvalid as problem:
        title, advice = _JOIN_PROBLEMS[problem.code]
        status = 404 if problem.code == "invalid" else 410
        return render(request, "sessions/join_problem.html", {"title": title, "advice": advice}, status=status)
    if request.user.is_authenticated and request.user.pk != grant.user_id:
        return render(request, "sessions/join_problem.html", {
            "title": "You are logged in as someone else",
            "advice": "This link is for another person. Log out, then open the link again.",
        }, status=409)
    request.session[SESSION_KEY] = grant.as_session_value()
    audit_record(actor=Actor.from_request(request, user=User.objects.get(pk=grant.user_id)),
                 action=AuditEvent.Action.LOGIN, object_type="telesessions.joinlink", object_id=grant.appointment_id)
    return redirect("session-call", appointment_id=grant.appointment_id)


def _grant_problem(grant: dict | None, appointment_id: int) -> str | None:
    """Why this browser's join grant for this session no longer works ("expired", "ended"), if it had one."""
    if not grant or int(grant.get("a", 0)) != appointment_id:
        return None
    try:
        selectors.grant_check(selectors.JoinGrant(appointment_id=appointment_id, user_id=int(grant["u"]), expires=int(grant["e"])))
    except selectors.JoinLinkInvalid as problem:
        return problem.code if problem.code in ("expired", "ended") else None
    return None


@camera_and_microphone
def session_call(request, appointment_id: int):
    """The session page: waiting room, then the call. For participants, logged in or with a join link."""
    grant = request.session.get(SESSION_KEY)
    user = request.user if request.user.is_authenticated else selectors.grant_user(grant, appointment_id)
    if user is None:
        problem = _grant_problem(grant, appointment_id)
        if problem:  # they came by a link that no longer works: say why, rather than ask for a password they may not have
            title, advice = _JOIN_PROBLEMS[problem]
            return render(request, "sessions/join_problem.html", {"title": title, "advice": advice}, status=410)
        return redirect(f"{reverse('login')}?next={request.path}")
    try:
        access = selectors.session_access_for(user, appointment_id, selectors.JOIN)
    except DomainError:
        raise Http404 from None
    appointment, role = access.appointment, access.role
    audit_record(actor=Actor.from_request(request, user=user),
                 action=AuditEvent.Action.READ, obj=appointment, detail={"page": "session"})
    # The page's script sends the CSRF token from the cookie; someone who opened a join link has no
    # other form on the page that would set it.
    get_token(request)
    is_host = role == Participant.Role.HOST
    finished = appointment.status in (Appointment.Status.ENDED, Appointment.Status.CANCELLED, Appointment.Status.DID_NOT_ATTEND)
    # How the host may start it from this page: the remote ways offered (a session starts only as offered).
    remote = [code for code in (Modality.VIDEO, Modality.PHONE) if code in appointment.modalities_offered]
    chosen = appointment.chosen_modality if appointment.chosen_modality in remote else (remote[0] if remote else "")
    return render(request, "sessions/call.html", {
        "appointment": appointment,
        "role": role,
        "participant_user": user,
        "is_host": is_host,
        "finished": finished,
        "start_options": [{"code": code, "label": "Video call" if code == Modality.VIDEO else "Phone call", "checked": code == chosen} for code in remote] if is_host else [],
        "safety_check_done": is_host and selectors.has_current_safety_check(appointment),
        # Without the person's consent to video the page never asks for the camera or microphone.
        "video_consent": consent.has_consent(appointment.service_user, PurposeCode.VIDEO),
        # Only the host phones people; the number they have for the person, to start from.
        "callee_phone": appointment.service_user.phone_number if is_host else "",
        "logged_in_service_user": request.user.is_authenticated and request.user.role == Role.SERVICE_USER,
    })


@camera_and_microphone
@login_required
def connection_test(request):
    """Test camera, microphone and the connection before an appointment (the server echoes media back)."""
    return render(request, "sessions/connection_test.html")


# --- The team waiting area (clinicians and peer workers) --------------------------------------------
@page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")
@require_http_methods(["GET", "HEAD"])
def waiting_area_page(request):
    """Everyone waiting today for a session of the viewer's teams, longest wait first, with what they
    can do: admit (and run the session, as who actually runs it), hold, message. Every entry comes
    from `team_waiting_area_for`, so every link and button is one the viewer may use."""
    entries = list(selectors.team_waiting_area_for(request.user).order_by("updated_at", "id"))
    audit_list(actor=Actor.from_request(request), object_type="telesessions.participant", ids=[p.pk for p in entries],
               detail={"page": "waiting-area"})
    return render(request, "sessions/waiting_area.html", {"entries": entries, "now": timezone.now()})


def _run_access_or_message(request, appointment_id: int) -> Appointment | None:
    """The appointment if the viewer may run it; otherwise a message on the page (nothing is done)."""
    try:
        return selectors.session_access_for(request.user, appointment_id, selectors.RUN).appointment
    except DomainError:
        messages.error(request, "That session is not one of your team's, so you cannot admit, hold or message anyone in it.")
        return None


@page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")
@require_POST
def waiting_area_admit(request, appointment_id: int, user_id: int):
    appointment = _run_access_or_message(request, appointment_id)
    if appointment is None:
        return redirect("waiting-area-page")
    try:
        services.participants_admit(actor=Actor.from_request(request), appointment=appointment, user_ids=[user_id])
    except DomainError as error:
        messages.error(request, f"{error.detail} Open the session to do it from there.")
        return redirect("waiting-area-page")
    messages.success(request, "Admitted. You are running this session now.")
    return redirect("session-call", appointment_id=appointment.pk)


@page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")
@require_POST
def waiting_area_hold(request, appointment_id: int, user_id: int):
    appointment = _run_access_or_message(request, appointment_id)
    if appointment is None:
        return redirect("waiting-area-page")
    person = User.objects.filter(pk=user_id).first()
    try:
        if person is None:
            raise NotFound("That person is not waiting.", field="user_id")
        services.participant_move(actor=Actor.from_request(request), appointment=appointment, user=person, state=Participant.State.ON_HOLD)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"{person.display_name} is on hold. They see that you will be with them soon.")
    return redirect("waiting-area-page")


@page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")
@require_POST
def waiting_area_message(request, appointment_id: int):
    appointment = _run_access_or_message(request, appointment_id)
    if appointment is None:
        return redirect("waiting-area-page")
    try:
        services.waiting_room_message(actor=Actor.from_request(request), appointment=appointment, text=request.POST.get("text", ""))
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, "Message sent to everyone waiting for that session.")
    return redirect("waiting-area-page")



def _run_or_404(request, appointment_id: int) -> Appointment:
    try:
        return selectors.session_access_for(request.user, appointment_id, selectors.RUN).appointment
    except DomainError:
        raise Http404 from None


# --- Adding people to a session: a guest with a role, the linked carer (clinicians, peer workers) -------
@page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")
@require_http_methods(["GET", "HEAD", "POST"])
def session_people(request, appointment_id: int):
    """Add a guest (interpreter with the language, advocate, colleague, other) or invite the carer the
    person involves, and get each a one-session link. Opened from the call page in a new tab, so the
    call goes on."""
    appointment = _run_or_404(request, appointment_id)
    actor = Actor.from_request(request)
    audit_record(actor=actor, action=AuditEvent.Action.READ, obj=appointment, detail={"page": "session-people"})
    carers = selectors.carers_invitable_to(appointment)
    guest_form = GuestForm(request.POST if request.POST.get("action") == "guest" else None)
    carer_form = CarerInviteForm(request.POST if request.POST.get("action") == "carer" else None, carers=carers)
    new_link = None
    if request.method == "POST" and request.POST.get("action") == "remove":
        # Take a guest or carer out of this session: their link and any open socket stop working at once.
        person = next((p.user for p in selectors.participants_of(appointment)
                       if str(p.user_id) == request.POST.get("user_id", "") and p.role in (Participant.Role.CARER, Participant.Role.GUEST)), None)
        try:
            if person is None:
                raise NotFound("This person is not invited to this session.", field="user_id")
            services.participant_remove(actor=actor, appointment=appointment, user=person)
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, f"Done. {person.display_name} is no longer in this session: their link no longer works.")
        return redirect("session-people", appointment_id=appointment.pk)
    if request.method == "POST":
        form = guest_form if request.POST.get("action") == "guest" else carer_form
        if form.is_valid():
            try:
                if form is guest_form:
                    participant = services.guest_add(actor=actor, appointment=appointment, name=form.cleaned_data["name"],
                                                     guest_role=form.cleaned_data["guest_role"], language=form.cleaned_data["language"])
                else:
                    carer = next(c for c in carers if c.pk == form.cleaned_data["carer_id"])
                    participant = services.carer_invite(actor=actor, appointment=appointment, carer=carer)
                link = services.join_link_make(actor=actor, appointment=appointment, user=participant.user,
                                               absolute_url=request.build_absolute_uri)
            except DomainError as error:
                add_service_error(form, error)
            else:
                new_link = {"name": participant.user.display_name, "url": link.url, "expires_at": link.expires_at, "message": link.message}
                guest_form, carer_form = GuestForm(), CarerInviteForm(carers=carers)
    people = [p for p in selectors.participants_of(appointment) if p.role in (Participant.Role.CARER, Participant.Role.GUEST)]
    return render(request, "sessions/people.html", {
        "appointment": appointment, "guest_form": guest_form, "carer_form": carer_form, "carers": carers,
        "people": people, "new_link": new_link,
    })


# --- A phone session, run from one page with the person offline --------------------------------------------
@page_for(Role.CLINICIAN, Role.PEER_WORKER, who="clinicians and peer support workers")
@require_http_methods(["GET", "HEAD", "POST"])
def session_phone(request, appointment_id: int):
    """The clinician runs a phone appointment: the safety check, starting it as a phone session, the
    call (who called whom on which number), and the end. The person need not be online."""
    appointment = _run_or_404(request, appointment_id)
    actor = Actor.from_request(request)
    audit_record(actor=actor, action=AuditEvent.Action.READ, obj=appointment, detail={"page": "session-phone"})
    action = request.POST.get("action", "")
    safety_form = SafetyCheckForm(request.POST if action == "safety" else None)
    call_form = PhoneCallForm(request.POST if action == "call" else None,
                              initial={"number": phone_number_for_display(appointment.service_user.phone_number)})
    failed = False
    if request.method == "POST":
        form = {"safety": safety_form, "call": call_form}.get(action)
        try:
            if form is not None and not form.is_valid():
                failed = True
            elif action == "safety":
                services.safety_check_record(actor=actor, appointment=appointment, **safety_form.cleaned_data)
                messages.success(request, "Safety and privacy check recorded.")
            elif action == "start":
                services.session_start(actor=actor, appointment=appointment, modality=Modality.PHONE)
                messages.success(request, "The phone session has started. Record the call when you ring.")
            elif action == "call":
                services.phone_call_start(actor=actor, appointment=appointment, number=call_form.cleaned_data["number"])
                messages.success(request, "Call recorded as started.")
            elif action == "call_end":
                services.phone_call_end(actor=actor, appointment=appointment)
                messages.success(request, "Call recorded as ended.")
            elif action == "end":
                services.session_end(actor=actor, appointment=appointment)
                messages.success(request, "The session has ended.")
            else:
                messages.error(request, "Choose what to do on this page.")
        except DomainError as error:
            failed = True
            if form is not None:
                add_service_error(form, error)
            else:
                messages.error(request, error.detail)
        if not failed:
            return redirect("session-phone", appointment_id=appointment.pk)
        appointment.refresh_from_db()
    calls = list(appointment.phone_calls.select_related("caller", "callee").order_by("id"))
    return render(request, "sessions/phone.html", {
        "appointment": appointment, "safety_form": safety_form, "call_form": call_form, "calls": calls,
        "call_going_on": any(c.ended_at is None for c in calls),
        "safety_check_done": selectors.has_current_safety_check(appointment),
        "phone_offered": Modality.PHONE in appointment.modalities_offered,
    })


# --- Carers: the sessions they are invited to, and stepping back -----------------------------------------------
def carer_sessions_panel(user):
    """The carer's home panel (accounts.hooks.HOME_PANELS): the sessions they are invited to, with times
    as the person's consent allows (seeing them at all needs the link and consent), a link to join and
    a way to step back."""
    if user.role != Role.CARER:
        return None
    invited = Participant.objects.filter(user=user, role=Participant.Role.CARER).exclude(state=Participant.State.REMOVED).exists()
    # Only a carer with an invitation needs the consent-aware query.
    return "sessions/_carer_sessions.html", {"invitations": list(selectors.sessions_invited_to(user)) if invited else []}


@page_for(Role.CARER, who="carers, friends and family")
@require_POST
def session_step_back(request, appointment_id: int):
    try:
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.JOIN).appointment
        services.participant_remove(actor=Actor.from_request(request), appointment=appointment, user=request.user)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"Done. You will not join the session on {_when(appointment)}. {appointment.service_user.display_name} can invite you again.")
    return redirect("home")
