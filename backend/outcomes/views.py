"""Outcome pages: a care team's outcomes and risk flags, one person's trajectories, and filling in a
questionnaire (from the waiting room or a join link, or entered by a clinician from a phone call)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts import selectors as access
from backend.accounts.models import PRACTITIONER_ROLES, Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.consent.views import page_for
from backend.core.errors import DomainError
from backend.outcomes import charts, reports, selectors, services
from backend.outcomes.forms import AcknowledgeForm, CourseEndForm, QuestionnaireForm
from backend.outcomes.models import Response
from backend.sessions import selectors as session_selectors
from backend.sessions import services as session_services
from backend.sessions.authentication import SESSION_KEY
from backend.sessions.hooks import Panel
from backend.sessions.models import Appointment

HEADLINE_MEASURES = ("phq9", "gad7")


@page_for(Role.CLINICIAN, Role.PEER_WORKER, who="care teams")
@require_http_methods(["GET", "HEAD"])
def outcomes_home(request):
    """Open risk flags first (clinicians), then each person on the caseload with their latest scores."""
    user = request.user
    people = list(access.service_users_visible_to(user).order_by("full_name"))
    latest = {}
    for response in selectors.current_responses().filter(
        service_user__in=people, instrument__code__in=HEADLINE_MEASURES, status=Response.Status.SCORED
    ).select_related("instrument").order_by("completed_at", "id"):
        latest[(response.service_user_id, response.instrument.code)] = response
    flags = list(selectors.open_risk_flags_visible_to(user))
    actor = Actor.from_request(request)
    audit_list(actor=actor, object_type="accounts.user", ids=[p.pk for p in people], detail={"page": "outcomes"})
    audit_list(actor=actor, object_type="outcomes.riskflag", ids=[f.pk for f in flags], detail={"page": "outcomes"})
    rows = [{"person": p, "scores": [latest.get((p.pk, code)) for code in HEADLINE_MEASURES]} for p in people]
    return render(request, "outcomes/home.html", {
        "rows": rows, "flags": flags, "measures": HEADLINE_MEASURES, "is_clinician": user.role == Role.CLINICIAN,
        "form": AcknowledgeForm(),
    })


@page_for(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, who="care teams and the person themselves")
@require_http_methods(["GET", "HEAD"])
def person_outcomes(request, service_user_id: int):
    person = selectors.service_users_whose_scores_are_visible_to(request.user).filter(pk=service_user_id).first()
    if person is None:
        raise Http404
    series = reports.trajectories(person)
    audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, object_type="outcomes.trajectory",
                 object_id=person.pk, detail={"page": "person-outcomes"})
    is_practitioner = request.user.role in PRACTITIONER_ROLES
    courses = []
    if is_practitioner:
        found = list(session_selectors.courses_visible_to(request.user).filter(service_user=person)
                     .prefetch_related("appointments").order_by("-started_on"))
        outcomes = reports.course_paired_outcomes([course.pk for course in found])
        courses = [{"course": course, "outcome": outcomes[course.pk],
                    "end_form": CourseEndForm(prefix=f"course-{course.pk}") if course.is_open else None} for course in found]
        audit_list(actor=Actor.from_request(request), object_type="telesessions.courseofcare", ids=[course.pk for course in found],
                   detail={"page": "person-outcomes", "paired_outcomes": True})
    flags = list(selectors.risk_flags_visible_to(request.user).filter(service_user=person)[:20])
    audit_list(actor=Actor.from_request(request), object_type="outcomes.riskflag", ids=[f.pk for f in flags], detail={"page": "person-outcomes"})
    return render(request, "outcomes/person.html", {
        "person": person, "charts": [{"series": s, "chart": charts.trajectory_chart(s)} for s in series],
        "courses": courses, "is_practitioner": is_practitioner, "is_self": request.user.pk == person.pk,
        "can_start_course": is_practitioner and not any(row["course"].is_open for row in courses),
        "flags": flags,
    })


@page_for(Role.CLINICIAN, who="clinicians")
@require_POST
def acknowledge_flag(request, flag_id: int):
    try:
        flag = selectors.risk_flag_for(request.user, flag_id)
    except DomainError:
        raise Http404 from None
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            services.risk_flag_acknowledge(actor=Actor.from_request(request), flag=flag, action_taken=form.cleaned_data["action_taken"])
            messages.success(request, f"Risk flag for {flag.service_user.display_name} acknowledged.")
        except DomainError as error:
            messages.error(request, error.detail)
    else:
        messages.error(request, form.errors["action_taken"][0] + " Then press Acknowledge again.")
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/outcomes/") else reverse("outcomes-home"))


@page_for(Role.CLINICIAN, Role.PEER_WORKER, who="care teams")
@require_POST
def course_start(request, service_user_id: int):
    """Start a course of care with the practitioner's team that has the person on its caseload."""
    person = access.service_users_visible_to(request.user).filter(pk=service_user_id).first()
    if person is None:
        raise Http404
    team = access.teams_of(request.user).filter(caseload__service_user=person).first()
    try:
        session_services.course_open(actor=Actor.from_request(request), service_user=person, team=team)
        messages.success(request, f"A course of care with {team.name} has started. Appointments you book now belong to it.")
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect("person-outcomes", service_user_id=person.pk)


@page_for(Role.CLINICIAN, Role.PEER_WORKER, who="care teams")
@require_POST
def course_end(request, course_id: int):
    try:
        course = session_selectors.course_for(request.user, course_id)
    except DomainError:
        raise Http404 from None
    form = CourseEndForm(request.POST, prefix=f"course-{course.pk}")
    if not form.is_valid():
        messages.error(request, form.errors["reason"][0] + " Then press End the course again.")
    else:
        try:
            session_services.course_end(actor=Actor.from_request(request), course=course, **form.cleaned_data)
            messages.success(request, "The course of care has ended. Its paired outcome is below.")
        except DomainError as error:
            messages.error(request, error.detail)
    return redirect("person-outcomes", service_user_id=course.service_user_id)


def _answerer(request, appointment_id: int):
    """Who is filling in: a logged-in participant, or the person a join link admitted for this appointment."""
    if request.user.is_authenticated:
        return request.user
    return session_selectors.grant_user(request.session.get(SESSION_KEY), appointment_id)


@require_http_methods(["GET", "HEAD", "POST"])
def questionnaire(request, appointment_id: int, code: str):
    user = _answerer(request, appointment_id)
    if user is None:
        return redirect(f"{reverse('login')}?next={request.path}")
    if user.role not in (Role.SERVICE_USER, *PRACTITIONER_ROLES):
        return render(request, "consent/not_for_you.html", {"who": "the person and their care team"}, status=403)
    try:
        appointment = session_selectors.appointment_for(user, appointment_id)
        instrument = selectors.active_instrument(code)
    except DomainError:
        raise Http404 from None
    for_clinician = user.role in PRACTITIONER_ROLES
    # Opened from the waiting room in a tab of its own, so the waiting room stays open in the first tab:
    # after saving, this tab says so instead of opening a second waiting room.
    beside_waiting_room = not for_clinician and request.GET.get("from") == "waiting-room"
    back = reverse("person-outcomes", args=[appointment.service_user_id]) if for_clinician else reverse("session-call", args=[appointment.pk])
    # A practitioner entering answers for an appointment that already has some is told, and corrects them.
    earlier = selectors.current_response_at(appointment, instrument) if for_clinician else None
    form = QuestionnaireForm(request.POST or None, instrument=instrument, for_clinician=for_clinician, corrects=earlier)
    problem = ""
    if request.method == "POST" and form.is_valid():
        mode = form.cleaned_data["mode"] if for_clinician else Response.Mode.SELF_ONLINE
        submission = services.Submission(
            instrument=instrument, service_user=appointment.service_user,
            course=appointment.course if appointment.course_id else None, appointment=appointment,
            mode=mode, answers=form.answers(), completed_at=services.answered_at(appointment=appointment, mode=mode),
        )
        try:
            if submission.course is None:
                services.resolve_course(appointment.service_user, None, appointment)  # raises the no-course conflict
            services.response_submit(actor=Actor.from_request(request, user=user), submission=submission,
                                     idempotency_key=form.cleaned_data["submission_key"], replaces=earlier,
                                     replacement_reason=form.cleaned_data.get("replacement_reason", ""))
        except DomainError as error:
            problem = error.detail
        else:
            if beside_waiting_room:
                return render(request, "outcomes/questionnaire_saved.html", {"instrument": instrument, "appointment": appointment, "back": back})
            messages.success(request, f"Thank you. Your answers to the {instrument.name} are saved." if not for_clinician
                             else f"{instrument.name} answers saved for {appointment.service_user.display_name}.")
            return redirect(back)
    return render(request, "outcomes/questionnaire.html", {
        "instrument": instrument, "appointment": appointment, "form": form, "for_clinician": for_clinician, "back": back,
        "problem": problem, "error_fields": [f for f in form if f.errors] if form.is_bound else [], "earlier": earlier,
        "beside_waiting_room": beside_waiting_room,
        "dated": services.answered_at(appointment=appointment, mode=Response.Mode.PAPER) if for_clinician else None,
    }, status=400 if form.is_bound and (form.errors or problem) else 200)


def questionnaires_due_panel(user, appointment: Appointment) -> Panel | None:
    """For the waiting room (sessions.hooks): the questionnaires due today, for the person waiting."""
    if user.role != Role.SERVICE_USER:
        return None
    due = selectors.due_instruments(appointment)
    if not due:
        return None
    return Panel(template="outcomes/_due_panel.html", context={"due": due, "appointment": appointment})


# --- The caseload dashboard --------------------------------------------------------------------------
DASHBOARD_SORTS = {
    "name": ("Name", lambda row: (row.person.full_name.lower(), row.person.pk)),
    "next": ("Next appointment", lambda row: (row.next_appointment is None, row.next_appointment.starts_at if row.next_appointment else None, row.person.pk)),
    "phq9": ("PHQ-9", lambda row: (row.measures["phq9"] is None, -(row.measures["phq9"].score if row.measures["phq9"] else 0), row.person.pk)),
    "gad7": ("GAD-7", lambda row: (row.measures["gad7"] is None, -(row.measures["gad7"].score if row.measures["gad7"] else 0), row.person.pk)),
    "flags": ("Open risk flags", lambda row: (-(row.open_flags or 0), row.person.full_name.lower(), row.person.pk)),
}
DASHBOARD_SHOWS = {
    "all": "Everyone",
    "flags": "People with open risk flags",
    "outstanding": "People with questionnaires outstanding",
    "upcoming": "People with an appointment booked",
}


@page_for(Role.CLINICIAN, Role.PEER_WORKER, who="care teams")
@require_http_methods(["GET", "HEAD"])
def caseload_dashboard(request):
    """Per person: next appointment, latest PHQ-9 and GAD-7 with band and change since the course
    began, open risk flags (clinicians), questionnaires outstanding. Sorted and filtered on the server
    (plain links and a GET form), so it works without scripts."""
    user = request.user
    teams = list(access.teams_of(user).order_by("name"))
    team_id = request.GET.get("team", "")
    people = access.service_users_with_teams(user).order_by("full_name", "id")
    if team_id.isdigit() and any(team.pk == int(team_id) for team in teams):
        people = people.filter(caseload_entries__team_id=int(team_id))
    else:
        team_id = ""
    rows = selectors.caseload_dashboard_rows(user, list(people))
    show = request.GET.get("show", "all")
    show = show if show in DASHBOARD_SHOWS and (show != "flags" or user.role == Role.CLINICIAN) else "all"
    if show == "flags":
        rows = [row for row in rows if row.open_flags]
    elif show == "outstanding":
        rows = [row for row in rows if row.outstanding]
    elif show == "upcoming":
        rows = [row for row in rows if row.next_appointment]
    sort = request.GET.get("sort", "name")
    sort = sort if sort in DASHBOARD_SORTS and (sort != "flags" or user.role == Role.CLINICIAN) else "name"
    rows.sort(key=DASHBOARD_SORTS[sort][1])
    audit_list(actor=Actor.from_request(request), object_type="accounts.user", ids=[row.person.pk for row in rows],
               detail={"page": "caseload-dashboard"})
    is_clinician = user.role == Role.CLINICIAN
    columns = [(code, label) for code, (label, _) in DASHBOARD_SORTS.items() if code != "flags" or is_clinician]
    return render(request, "outcomes/dashboard.html", {
        "rows": rows, "teams": teams, "team_id": team_id, "sort": sort, "show": show, "is_clinician": is_clinician,
        "columns": columns, "shows": [(code, label) for code, label in DASHBOARD_SHOWS.items() if code != "flags" or is_clinician],
    })
