"""College pages: thin views over the college's selectors and services (docs/college.md). A refusal from a
service is shown beside the field it names, with the form kept as typed; nothing is half-saved."""

from __future__ import annotations

from functools import wraps

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts import selectors as access
from backend.accounts.models import Role, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.errors import DomainError, Forbidden, NotFound
from backend.groups.models import GroupAttendee, GroupSession

from . import feedback, selectors, services
from . import forms as f
from .models import CourseRun, Enrolment, Facilitator

STAFF_WHO = "college staff (administrators, clinicians and peer workers)"


def college_page(view):
    """A signed-in college page. A selector's NotFound is a 404 page; Forbidden is a 403 page saying who it is for."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if request.user.role == Role.GUEST:
            return render(request, "consent/not_for_you.html", {"who": "people with a Rapport account"}, status=403)
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.detail) from error
        except Forbidden as error:
            return render(request, "college/not_for_you.html", {"reason": error.detail}, status=403)

    return wrapped


def _runs_with_facilitators(runs):
    runs = list(runs)
    facilitators = Facilitator.objects.filter(run__in=runs).select_related("trainer__user")
    by_run: dict[int, list] = {}
    for facilitator in facilitators:
        by_run.setdefault(facilitator.run_id, []).append(facilitator)
    for run in runs:
        run.facilitator_rows = by_run.get(run.pk, [])
    return runs


# --- Public and student pages -----------------------------------------------------------------------------
def prospectus(request):
    """The current prospectus, open to anyone without signing in: courses, dates, trainers' kinds and places
    left. No personal data: not even the trainers' names."""
    runs = list(selectors.prospectus_runs().select_related("course__organisation").order_by("first_session_at", "id"))
    return render(request, "college/prospectus.html", {"runs": _runs_with_facilitators(runs), "public": True})


@college_page
def home(request):
    user = request.user
    runs = _runs_with_facilitators(selectors.prospectus_runs().order_by("first_session_at", "id"))
    mine = list(Enrolment.objects.filter(student=user).select_related("run__course", "run__term").order_by("-created_at", "-id"))
    open_runs = {e.run_id for e in mine if e.state != Enrolment.State.WITHDRAWN}
    for run in runs:
        run.mine = run.pk in open_runs
        run.for_you = selectors.audience_allows(run.course.audience, user)
    teaching = list(CourseRun.objects.filter(facilitators__trainer__user=user, facilitators__trainer__active=True)
                    .select_related("course", "term").distinct().order_by("first_session_at", "id"))
    return render(request, "college/home.html", {
        "runs": runs, "mine": mine, "teaching": teaching, "is_manager": selectors.is_manager(user),
    })


@college_page
def run_page(request, run_id: int):
    run = selectors.run_for(request.user, run_id)
    enrolment = run.enrolments.filter(student=request.user, state__in=Enrolment.OPEN_STATES).first()
    context = {"run": _runs_with_facilitators([run])[0], "enrolment": enrolment, "for_you": selectors.audience_allows(run.course.audience, request.user)}
    if selectors.can_teach(request.user, run):
        students = list(run.enrolments.filter(state__in=Enrolment.OPEN_STATES).select_related("student").order_by("state", "created_at", "id"))
        audit_list(actor=Actor.from_request(request), object_type="college.enrolment", ids=[e.pk for e in students], detail={"page": "run"})
        context.update(teaching=True, students=students, sessions=list(run.sessions.select_related("group").order_by("number")),
                       is_manager=selectors.is_manager(request.user, run.course.organisation_id))
    return render(request, "college/run.html", context)


@college_page
@require_POST
def enrol(request, run_id: int):
    run = selectors.run_for(request.user, run_id)
    try:
        enrolment = services.enrol(actor=Actor.from_request(request), run=run, student=request.user)
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect("college-run", run_id=run.pk)
    if enrolment.state == Enrolment.State.ENROLLED:
        messages.success(request, f"You have a place on {run.course.title}. Add your goals to your learning plan below.")
    else:
        messages.success(request, f"{run.course.title} is full, so you are on its waiting list. If a place frees up it is yours, and it will show here.")
    return redirect("college-enrolment", enrolment_id=enrolment.pk)


@college_page
@require_http_methods(["GET", "POST"])
def withdraw(request, enrolment_id: int):
    enrolment = selectors.own_enrolment(request.user, enrolment_id)
    if request.method == "POST":
        try:
            services.withdraw(actor=Actor.from_request(request), enrolment=enrolment)
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, f"You have withdrawn from {enrolment.run.course.title}.")
        return redirect("college-home")
    return render(request, "college/withdraw.html", {"enrolment": enrolment})


def _session_rows(enrolment) -> list[dict]:
    """Each session with the student's attendance and, for an online run's session not yet over that they are booked
    into, the way into its group waiting room (groups' own page: `/groups/<id>/room/`)."""
    places = {row[0]: row[1:] for row in GroupAttendee.objects.filter(group__college_session__run=enrolment.run, person=enrolment.student_id)
              .values_list("group__college_session__number", "attendance", "state")}
    labels = dict(GroupAttendee.Attendance.choices)
    online = enrolment.run.delivery == "online" and enrolment.state == Enrolment.State.ENROLLED
    # The groups' waiting room is for people without a team's groups of their own (service users and carers).
    may_join = enrolment.student.role in (Role.SERVICE_USER, Role.CARER)
    rows = []
    for s in enrolment.run.sessions.select_related("group").order_by("number"):
        attendance, state = places.get(s.number, ("", None))
        upcoming = s.group.status in (GroupSession.Status.SCHEDULED, GroupSession.Status.IN_PROGRESS)
        booked = state is not None and state != GroupAttendee.State.REMOVED
        rows.append({
            "session": s, "attendance": labels.get(attendance or "", "Not yet recorded") or "Not yet recorded", "upcoming": online and upcoming,
            "join_url": reverse("group_room_page", args=[s.group_id]) if online and upcoming and booked and may_join else "",
        })
    return rows


@college_page
@require_http_methods(["GET", "POST"])
def enrolment_page(request, enrolment_id: int):
    """My course: the learning plan (goals before, reflection after), attendance, certificate and feedback."""
    enrolment = selectors.own_enrolment(request.user, enrolment_id)
    plan = getattr(enrolment, "learning_plan", None)
    form = f.LearningPlanForm(request.POST or None, initial={"goals": plan.goals if plan else "", "reflection": plan.reflection if plan else ""})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.learning_plan_save(actor=Actor.from_request(request), enrolment=enrolment, **form.cleaned_data)
            except DomainError as error:
                f.show_error(form, error)
            else:
                messages.success(request, "Your learning plan is saved.")
                return redirect("college-enrolment", enrolment_id=enrolment.pk)
        status = 400
    audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=enrolment, detail={"page": "my course"})
    completion = selectors.completion_of(enrolment) if enrolment.state == Enrolment.State.ENROLLED else None
    given = hasattr(enrolment, "feedback")
    return render(request, "college/enrolment.html", {
        "enrolment": enrolment, "form": form, "completion": completion, "feedback_given": given,
        "feedback_form": None if given or enrolment.state != Enrolment.State.ENROLLED else f.FeedbackForm(), "feedback_label": feedback.LABEL,
        "sessions": _session_rows(enrolment), "online": enrolment.run.delivery == "online" and enrolment.state == Enrolment.State.ENROLLED,
    }, status=status)


@college_page
@require_POST
def feedback_submit(request, enrolment_id: int):
    enrolment = selectors.own_enrolment(request.user, enrolment_id)
    form = f.FeedbackForm(request.POST)
    if form.is_valid():
        try:
            services.feedback_submit(actor=Actor.from_request(request), enrolment=enrolment,
                                     answers={k: v for k, v in form.cleaned_data.items() if v})
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, "Thank you for your feedback.")
        return redirect("college-enrolment", enrolment_id=enrolment.pk)
    plan = getattr(enrolment, "learning_plan", None)
    return render(request, "college/enrolment.html", {
        "enrolment": enrolment, "form": f.LearningPlanForm(initial={"goals": plan.goals if plan else "", "reflection": plan.reflection if plan else ""}),
        "completion": selectors.completion_of(enrolment), "feedback_given": False, "feedback_form": form, "feedback_label": feedback.LABEL,
        "sessions": _session_rows(enrolment), "online": enrolment.run.delivery == "online" and enrolment.state == Enrolment.State.ENROLLED,
    }, status=400)


@college_page
def certificate(request, enrolment_id: int):
    enrolment = selectors.own_enrolment(request.user, enrolment_id)
    try:
        pdf = services.certificate_issue(actor=Actor.from_request(request), enrolment=enrolment)
    except DomainError as error:
        return render(request, "college/no_certificate.html", {"enrolment": enrolment, "reason": error.detail}, status=409)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{enrolment.pk}.pdf"'
    return response


# --- Trainers: the register -----------------------------------------------------------------------------
class RegisterForm(django_forms.Form):
    def __init__(self, *args, students=(), marks=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("attended", "Attended"), ("left_early", "Left early"), ("dna", "Did not attend")]
        for enrolment in students:
            self.fields[f"e{enrolment.pk}"] = django_forms.ChoiceField(
                label=enrolment.student.full_name, choices=choices, widget=django_forms.RadioSelect, required=False,
                initial=(marks or {}).get(enrolment.student_id) or None,
            )


@college_page
@require_http_methods(["GET", "POST"])
def register(request, run_id: int, number: int):
    run = selectors.run_for_teaching(request.user, run_id)
    session = selectors.session_for_teaching(request.user, run, number)
    students = list(run.enrolments.filter(state=Enrolment.State.ENROLLED).select_related("student").order_by("student__full_name", "id"))
    marks = dict(session.group.attendees.values_list("person_id", "attendance"))
    form = RegisterForm(request.POST or None, students=students, marks=marks)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            chosen = {int(k[1:]): v for k, v in form.cleaned_data.items() if v}
            try:
                services.register_take(actor=Actor.from_request(request), session=session, marks=chosen)
            except DomainError as error:
                form.add_error(None, error.detail)
            else:
                messages.success(request, f"The register for session {number} is saved.")
                return redirect("college-run", run_id=run.pk)
        status = 400
    audit_list(actor=Actor.from_request(request), object_type="college.enrolment", ids=[e.pk for e in students], detail={"page": "register"})
    return render(request, "college/register.html", {"run": run, "session": session, "form": form, "students": students}, status=status)


# --- College staff ------------------------------------------------------------------------------------------
def staff_page(view):
    @wraps(view)
    @college_page
    def wrapped(request, *args, **kwargs):
        if not selectors.is_manager(request.user):
            return render(request, "consent/not_for_you.html", {"who": STAFF_WHO}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _manage_context(request, **forms_given):
    user = request.user
    org = user.organisation_id
    courses = list(selectors.courses_visible_to(user))
    terms = list(selectors.terms_visible_to(user))
    teams = list(access.teams_visible_to(user).filter(organisation_id=org))
    runs = _runs_with_facilitators(selectors.runs_visible_to(user).filter(course__organisation_id=org).order_by("-first_session_at", "-id"))
    trainers = list(selectors.trainers_visible_to(user))
    audit_list(actor=Actor.from_request(request), object_type="college.trainerrecord", ids=[t.pk for t in trainers], detail={"page": "manage"})
    return {
        "courses": courses, "terms": terms, "runs": runs, "trainers": trainers,
        "course_form": forms_given.get("course_form") or f.CourseForm(prefix="course"),
        "term_form": forms_given.get("term_form") or f.TermForm(prefix="term"),
        "trainer_form": forms_given.get("trainer_form") or f.TrainerForm(prefix="trainer"),
        "run_form": forms_given.get("run_form") or f.RunForm(prefix="run", courses=courses, terms=terms, teams=teams),
        "form": None,
    }


@staff_page
@require_http_methods(["GET", "POST"])
def manage(request):
    user, actor = request.user, Actor.from_request(request)
    org = user.organisation_id
    if request.method == "GET":
        return render(request, "college/manage.html", _manage_context(request))
    which = request.POST.get("form", "")
    given = {}
    try:
        if which == "course":
            form = given["course_form"] = f.CourseForm(request.POST, prefix="course")
            if form.is_valid():
                course = services.course_create(actor=actor, organisation_id=org, **form.cleaned_data)
                messages.success(request, f"{course.title} is in the prospectus list. Add a run to offer it.")
                return redirect("college-manage")
        elif which == "term":
            form = given["term_form"] = f.TermForm(request.POST, prefix="term")
            if form.is_valid():
                term = services.term_create(actor=actor, organisation_id=org, **form.cleaned_data)
                messages.success(request, f"Term {term.name} added.")
                return redirect("college-manage")
        elif which == "trainer":
            form = given["trainer_form"] = f.TrainerForm(request.POST, prefix="trainer")
            if form.is_valid():
                data = dict(form.cleaned_data)
                person = selectors.students_who_may_be_enrolled_by(user).filter(email=data.pop("email").lower()).first()
                if person is None:
                    form.add_error("email", "Nobody with this email address that you can record as a trainer.")
                else:
                    supervisor_email = data.pop("supervisor_email")
                    supervisor = User.objects.filter(email=supervisor_email.lower(), organisation_id=org, role__in=selectors.MANAGER_ROLES).first() if supervisor_email else None
                    if supervisor_email and supervisor is None:
                        form.add_error("supervisor_email", "No clinician, peer worker or administrator of your organisation has this email address.")
                    else:
                        record = services.trainer_record_create(actor=actor, organisation_id=org, user=person, supervisor=supervisor, **data)
                        messages.success(request, f"{person.full_name} is recorded as a {record.get_kind_display().lower()}.")
                        return redirect("college-manage")
        elif which == "run":
            ctx = _manage_context(request)
            teams = list(access.teams_visible_to(user).filter(organisation_id=org))
            form = given["run_form"] = f.RunForm(request.POST, prefix="run", courses=ctx["courses"], terms=ctx["terms"], teams=teams)
            if form.is_valid():
                data = dict(form.cleaned_data)
                run = services.run_create(
                    actor=actor, course=selectors.course_for(user, int(data.pop("course"))), term=selectors.term_for(user, int(data.pop("term"))),
                    team=next(t for t in teams if t.pk == int(data.pop("team"))), **data,
                )
                messages.success(request, "The run is saved as a draft. Add its facilitators, then publish it.")
                return redirect("college-manage-run", run_id=run.pk)
        else:
            raise Http404("No such form.")
    except DomainError as error:
        f.show_error(form, error)
    return render(request, "college/manage.html", _manage_context(request, **given), status=400)


@staff_page
@require_http_methods(["GET", "POST"])
def manage_run(request, run_id: int):
    user, actor = request.user, Actor.from_request(request)
    run = selectors.run_for_manager(user, run_id)
    trainers = [t for t in selectors.trainers_visible_to(user) if t.active]
    facilitator_form = f.FacilitatorForm(prefix="facilitator", trainers=trainers)
    enrol_form = f.EnrolSomeoneForm(prefix="enrol")
    status = 200
    if request.method == "POST":
        which = request.POST.get("form", "")
        try:
            if which == "facilitator":
                facilitator_form = f.FacilitatorForm(request.POST, prefix="facilitator", trainers=trainers)
                if facilitator_form.is_valid():
                    trainer = selectors.trainer_for(user, int(facilitator_form.cleaned_data["trainer"]))
                    services.facilitator_add(actor=actor, run=run, trainer=trainer)
                    messages.success(request, f"{trainer.user.full_name} facilitates this run.")
                    return redirect("college-manage-run", run_id=run.pk)
            elif which == "publish":
                services.run_publish(actor=actor, run=run)
                messages.success(request, "The run is published: it is in the prospectus and its sessions are booked.")
                return redirect("college-manage-run", run_id=run.pk)
            elif which == "enrol":
                enrol_form = f.EnrolSomeoneForm(request.POST, prefix="enrol")
                if enrol_form.is_valid():
                    person = selectors.students_who_may_be_enrolled_by(user).filter(email=enrol_form.cleaned_data["email"].lower()).first()
                    if person is None:
                        enrol_form.add_error("email", "Nobody with this email address that you can enrol.")
                    else:
                        enrolment = services.enrol(actor=actor, run=run, student=person)
                        messages.success(request, f"{person.full_name} is {enrolment.get_state_display().lower()}.")
                        return redirect("college-manage-run", run_id=run.pk)
            else:
                raise Http404("No such form.")
        except DomainError as error:
            if which == "facilitator":
                f.show_error(facilitator_form, error)
            elif which == "enrol":
                f.show_error(enrol_form, error)
            else:
                messages.error(request, error.detail)
                return redirect("college-manage-run", run_id=run.pk)
        status = 400
    run = _runs_with_facilitators([selectors.run_for_manager(user, run_id)])[0]
    return render(request, "college/manage_run.html", {
        "run": run, "facilitator_form": facilitator_form, "enrol_form": enrol_form, "form": None,
        "problem": services.co_facilitation_problem(run.facilitator_rows) if run.state == CourseRun.State.DRAFT else None,
    }, status=status)


def manage_url(run) -> str:
    return reverse("college-manage-run", args=[run.pk])
