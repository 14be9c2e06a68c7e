"""The admin pages: thin views over the API's own selectors, input serializers and services.

Every page is for admins only (`admin_page`), and every object comes through the same selector the
API uses (`team_for`, `users_for_admin`, `organisations_visible_to`…), so another organisation's
team or person is a 404 page here as it is a 404 answer there. A form is checked by the API's input
serializer (`checked`) and written by the API's service; a refusal is shown on the page beside the
field it names, with the form kept as typed, and answered 400 (nothing is half-saved: each service is
one transaction).
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import ValidationError as DRFValidationError

from backend.accounts import selectors as access
from backend.accounts import invitations, two_factor
from backend.accounts import services as accounts
from backend.accounts.models import PRACTITIONER_ROLES, STAFF_ROLES, Role, Team, User
from backend.accounts.serializers import InvitationInput, TeamCreateInput, TeamUpdateInput, UserCreateInput, UserUpdateInput
from backend.administration import forms as f
from backend.administration import selectors
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.selectors import audit_chain_verify
from backend.audit.services import audit_list, audit_record
from backend.consent import selectors as consent_selectors
from backend.consent import services as consent_services
from backend.consent.models import ConsentPurpose
from backend.consent.serializers import PurposeCreateInput, WordingPublishInput
from backend.core.errors import DomainError, NotFound
from backend.groups import selectors as group_selectors
from backend.groups import services as group_services
from backend.groups.forms import GroupSettingsForm
from backend.outcomes import imports
from backend.outcomes import selectors as outcome_selectors
from backend.outcomes import services as outcome_services
from backend.outcomes.models import Instrument, MeasureSchedule
from backend.outcomes.serializers import InstrumentCreateInput, ScheduleInput
from backend.sessions import services as session_services
from backend.sessions.models import TeamSessionSettings
from backend.sessions.serializers import TeamSessionSettingsInput

PROBLEMS = (DRFValidationError, DomainError)
AUDIT_PAGE_SIZE = 50


def admin_page(view):
    """A page for admins only: anyone else logged in gets the 403 page saying who it is for; anyone
    not logged in is sent to log in. An object outside the admin's organisation is a 404 page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        if request.user.role != Role.ADMIN:
            return render(request, "consent/not_for_you.html", {"who": "administrators"}, status=403)
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.detail) from error

    return wrapped


def _actor(request) -> Actor:
    return Actor.from_request(request)


def _status(*bound_forms) -> int:
    return 400 if any(form is not None and form.is_bound and form.errors for form in bound_forms) else 200


# --- Teams ---------------------------------------------------------------------------------------
@admin_page
@require_http_methods(["GET", "HEAD", "POST"])
def teams(request):
    form = f.TeamForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        organisation = access.organisations_visible_to(request.user).first()
        try:
            data = f.checked(TeamCreateInput, {**form.cleaned_data, "organisation_id": getattr(organisation, "pk", 0)})
            data.pop("organisation_id")
            if organisation is None:
                raise NotFound("Your account belongs to no organisation: ask the operator to add you to one.")
            team = accounts.team_create(actor=_actor(request), organisation=organisation, **data)
        except PROBLEMS as problem:
            f.show_problem(form, problem)
        else:
            messages.success(request, f"Done. The team {team.name} is set up. Now add its staff, caseload and questionnaires.")
            return redirect("admin-team", team_id=team.pk)
    team_list = access.teams_visible_to(request.user).order_by("name")
    return render(request, "administration/teams.html", {"teams": team_list, "form": form}, status=_status(form))


def _team_page(request, team: Team, **bound) -> object:
    admin = request.user
    settings_row = TeamSessionSettings.objects.filter(team=team).first() or TeamSessionSettings(team=team)
    members = list(access.team_members(team))
    caseload = list(access.team_caseload(team))
    managed = access.users_for_admin(admin).filter(is_active=True)
    member_ids = {m.user_id for m in members}
    on_caseload = {e.service_user_id for e in caseload}
    instruments = [i for i in outcome_selectors.instruments_with_parts().filter(is_active=True)
                   if i.organisation_id in (None, team.organisation_id)]
    audit_list(actor=_actor(request), object_type="accounts.user", ids=[*member_ids, *on_caseload],
               detail={"team": team.pk, "page": "admin-team"})
    context = {
        "team": team,
        "details_form": bound.get("details_form") or f.TeamForm(initial={
            "name": team.name, "service": team.service, "site": team.site, "phone_number": team.phone_number,
            "face_to_face_address": team.face_to_face_address, "opening_hours": team.opening_hours}),
        "settings_form": bound.get("settings_form") or f.TeamSettingsForm(initial={
            "safety_check_required": settings_row.safety_check_required, "choice_cutoff_hours": settings_row.choice_cutoff_hours}),
        "group_settings_form": bound.get("group_settings_form") or GroupSettingsForm(
            auto_id="id_group_%s", initial={"safety_check": group_selectors.group_safety_check_mode(team)}),
        "schedules": team.measure_schedules.select_related("instrument").order_by("instrument__name"),
        "schedule_form": bound.get("schedule_form") or f.ScheduleForm(instruments=instruments, auto_id="id_schedule_%s"),
        "members": members,
        "member_form": bound.get("member_form") or f.PersonChoiceForm(
            label="Clinician or peer support worker", auto_id="id_member_%s",
            people=managed.filter(role__in=PRACTITIONER_ROLES).exclude(pk__in=member_ids).order_by("full_name")),
        "caseload": caseload,
        "caseload_form": bound.get("caseload_form") or f.PersonChoiceForm(
            label="Service user", auto_id="id_caseload_%s",
            people=access.registered_with(team.organisation_id).filter(is_active=True).exclude(pk__in=on_caseload).order_by("full_name")),
    }
    return render(request, "administration/team.html", context, status=_status(*bound.values()))


@admin_page
@require_http_methods(["GET", "HEAD"])
def team(request, team_id: int):
    return _team_page(request, access.team_for(request.user, team_id))


@admin_page
@require_POST
def team_update(request, team_id: int):
    team = access.team_for(request.user, team_id)
    form = f.TeamForm(request.POST)
    if form.is_valid():
        try:
            data = f.checked(TeamUpdateInput, form.cleaned_data, partial=True)
            accounts.team_update(actor=_actor(request), team=team, **data)
        except PROBLEMS as problem:
            f.show_problem(form, problem)
        else:
            messages.success(request, "Done. The team's details are saved.")
            return redirect("admin-team", team_id=team.pk)
    team.refresh_from_db()
    return _team_page(request, team, details_form=form)


@admin_page
@require_POST
def team_settings(request, team_id: int):
    team = access.team_for(request.user, team_id)
    form = f.TeamSettingsForm(request.POST)
    if form.is_valid():
        try:
            session_services.team_settings_update(actor=_actor(request), team=team, **f.checked(TeamSessionSettingsInput, form.cleaned_data))
        except PROBLEMS as problem:
            f.show_problem(form, problem)
        else:
            messages.success(request, "Done. The team's session settings are saved.")
            return redirect("admin-team", team_id=team.pk)
    return _team_page(request, team, settings_form=form)


@admin_page
@require_POST
def team_group_settings(request, team_id: int):
    team = access.team_for(request.user, team_id)
    form = GroupSettingsForm(request.POST, auto_id="id_group_%s")
    if form.is_valid():
        try:
            group_services.group_settings_update(actor=_actor(request), team=team, safety_check=form.cleaned_data["safety_check"])
        except PROBLEMS as problem:
            f.show_problem(form, problem)
        else:
            messages.success(request, "Done. The team's group setting is saved.")
            return redirect("admin-team", team_id=team.pk)
    return _team_page(request, team, group_settings_form=form)


@admin_page
@require_POST
def schedule_add(request, team_id: int):
    team = access.team_for(request.user, team_id)
    instruments = [i for i in outcome_selectors.instruments_with_parts().filter(is_active=True) if i.organisation_id in (None, team.organisation_id)]
    form = f.ScheduleForm(request.POST, instruments=instruments, auto_id="id_schedule_%s")
    if form.is_valid():
        try:
            data = f.checked(ScheduleInput, form.cleaned_data)
            schedule = outcome_services.schedule_set(actor=_actor(request), team=team,
                                                     instrument=outcome_selectors.instrument_by_code(data["instrument"]), when=data["when"])
        except PROBLEMS as problem:
            f.show_problem(form, problem)
        else:
            messages.success(request, f"Done. The team asks for {schedule.instrument.name} {schedule.get_when_display().lower()}.")
            return redirect("admin-team", team_id=team.pk)
    return _team_page(request, team, schedule_form=form)


@admin_page
@require_POST
def schedule_remove(request, team_id: int, schedule_id: int):
    team = access.team_for(request.user, team_id)
    schedule = MeasureSchedule.objects.filter(team=team, pk=schedule_id).select_related("instrument").first()
    if schedule is None:
        raise Http404("No such schedule for this team.")
    outcome_services.schedule_remove(actor=_actor(request), schedule=schedule)
    messages.success(request, f"Done. The team no longer asks for {schedule.instrument.name}.")
    return redirect("admin-team", team_id=team.pk)


@admin_page
@require_POST
def team_member_add(request, team_id: int):
    team = access.team_for(request.user, team_id)
    people = access.users_for_admin(request.user).filter(role__in=PRACTITIONER_ROLES, is_active=True)
    form = f.PersonChoiceForm(request.POST, label="Clinician or peer support worker", people=people, auto_id="id_member_%s")
    if form.is_valid():
        try:
            user = people.get(pk=form.cleaned_data["person"])
            accounts.team_member_add(actor=_actor(request), team=team, user=user)
        except PROBLEMS as problem:
            f.show_problem(form, problem, rename={"user_id": "person"})
        else:
            messages.success(request, f"Done. {user.full_name} is in {team.name}.")
            return redirect(request.POST.get("next") == "staff" and reverse("admin-staff-member", args=[user.pk]) or reverse("admin-team", args=[team.pk]))
    return _team_page(request, team, member_form=form)


@admin_page
@require_POST
def team_member_remove(request, team_id: int, user_id: int):
    team = access.team_for(request.user, team_id)
    user = access.users_for_admin(request.user).filter(pk=user_id).first()
    if user is None:
        raise Http404("No such account.")
    try:
        accounts.team_member_remove(actor=_actor(request), team=team, user=user)
        messages.success(request, f"Done. {user.full_name} is no longer in {team.name}.")
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect(reverse("admin-staff-member", args=[user.pk]) if request.POST.get("next") == "staff" else reverse("admin-team", args=[team.pk]))


@admin_page
@require_POST
def caseload_add(request, team_id: int):
    team = access.team_for(request.user, team_id)
    people = access.registered_with(team.organisation_id).filter(is_active=True)
    form = f.PersonChoiceForm(request.POST, label="Service user", people=people, auto_id="id_caseload_%s")
    if form.is_valid():
        try:
            person = access.service_user_for_admission(team, form.cleaned_data["person"])
            accounts.caseload_add(actor=_actor(request), team=team, service_user=person)
        except PROBLEMS as problem:
            f.show_problem(form, problem, rename={"service_user_id": "person"})
        else:
            messages.success(request, f"Done. {person.full_name} is on {team.name}'s caseload.")
            return redirect(reverse("admin-person", args=[person.pk]) if request.POST.get("next") == "person" else reverse("admin-team", args=[team.pk]))
    return _team_page(request, team, caseload_form=form)


@admin_page
@require_POST
def caseload_remove(request, team_id: int, user_id: int):
    team = access.team_for(request.user, team_id)
    entry = access.team_caseload(team).filter(service_user_id=user_id).first()
    if entry is None:
        raise Http404("This person is not on the team's caseload.")
    accounts.caseload_remove(actor=_actor(request), team=team, service_user=entry.service_user)
    messages.success(request, f"Done. {entry.service_user.full_name} is no longer on {team.name}'s caseload.")
    return redirect(reverse("admin-person", args=[user_id]) if request.POST.get("next") == "person" else reverse("admin-team", args=[team.pk]))


# --- Staff ---------------------------------------------------------------------------------------
def _create_account(request, form, role: str) -> User | None:
    """The API's user-list POST, without a password: the person sets their own from an invitation."""
    try:
        data = f.checked(UserCreateInput, {**{k: v for k, v in form.cleaned_data.items() if k != "role"}, "role": role, "password": "unused"})
        data.pop("password")
        return accounts.user_create(actor=_actor(request), organisation=request.user.organisation, password=None, **data)
    except PROBLEMS as problem:
        f.show_problem(form, problem)
        return None


@admin_page
@require_http_methods(["GET", "HEAD", "POST"])
def staff(request):
    form = f.StaffForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = _create_account(request, form, form.cleaned_data["role"])
        if user is not None:
            messages.success(request, f"Done. {user.full_name} has an account. Put them in their teams, then invite them to log in.")
            return redirect("admin-staff-member", user_id=user.pk)
    people = list(access.users_for_admin(request.user).filter(role__in=STAFF_ROLES).prefetch_related("team_memberships__team").order_by("full_name", "id"))
    audit_list(actor=_actor(request), object_type="accounts.user", ids=[p.pk for p in people], detail={"page": "admin-staff"})
    return render(request, "administration/staff.html", {"people": people, "form": form}, status=_status(form))


def _staff_member(request, user_id: int) -> User:
    user = access.users_for_admin(request.user).filter(pk=user_id, role__in=STAFF_ROLES).first()
    if user is None:
        raise Http404("No staff account with this id in your organisation.")
    return user


def _staff_page(request, user: User, **bound):
    audit_record(actor=_actor(request), action=AuditEvent.Action.READ, obj=user, detail={"page": "admin-staff-member"})
    memberships = list(user.team_memberships.select_related("team").order_by("team__name"))
    context = {
        "person": user,
        "memberships": memberships,
        "details_form": bound.get("details_form") or f.StaffDetailsForm(initial={
            "full_name": user.full_name, "preferred_name": user.preferred_name, "phone_number": user.phone_number, "role": user.role}),
        "team_form": bound.get("team_form") or f.TeamChoiceForm(
            label="Team", teams=access.teams_visible_to(request.user).exclude(pk__in=[m.team_id for m in memberships]).order_by("name")),
        "is_practitioner": user.role in PRACTITIONER_ROLES,
        "invitation_form": _invitation_form(user, bound.get("invitation_form")),
        "is_self": user.pk == request.user.pk,
        "has_two_factor": two_factor.has_two_factor(user),
    }
    return render(request, "administration/staff_member.html", context, status=_status(*bound.values()))


@admin_page
@require_http_methods(["GET", "HEAD"])
def staff_member(request, user_id: int):
    return _staff_page(request, _staff_member(request, user_id))


@admin_page
@require_POST
def staff_update(request, user_id: int):
    user = _staff_member(request, user_id)
    form = f.StaffDetailsForm(request.POST)
    if form.is_valid():
        try:
            accounts.user_update(actor=_actor(request), user=user, **f.checked(UserUpdateInput, form.cleaned_data, partial=True))
        except PROBLEMS as problem:
            f.show_problem(form, problem)
        else:
            messages.success(request, f"Done. {user.full_name}'s details are saved.")
            return redirect("admin-staff-member", user_id=user.pk)
    user.refresh_from_db()
    return _staff_page(request, user, details_form=form)


@admin_page
@require_POST
def staff_team_add(request, user_id: int):
    user = _staff_member(request, user_id)
    teams_list = access.teams_visible_to(request.user)
    form = f.TeamChoiceForm(request.POST, label="Team", teams=teams_list)
    if form.is_valid():
        try:
            team = access.team_for(request.user, form.cleaned_data["team"])
            accounts.team_member_add(actor=_actor(request), team=team, user=user)
        except PROBLEMS as problem:
            f.show_problem(form, problem, rename={"team_id": "team", "user_id": "team"})
        else:
            messages.success(request, f"Done. {user.full_name} is in {team.name}.")
            return redirect("admin-staff-member", user_id=user.pk)
    return _staff_page(request, user, team_form=form)


def _set_active(request, user: User, active: bool, page: str) -> object:
    try:
        accounts.user_update(actor=_actor(request), user=user, is_active=active)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"Done. {user.full_name} can log in again." if active else
                         f"Done. {user.full_name} can no longer log in. Their records stay, still in their name.")
    return redirect(page, user_id=user.pk)


@admin_page
@require_POST
def staff_active(request, user_id: int, active: bool):
    return _set_active(request, _staff_member(request, user_id), active, "admin-staff-member")


def _invitation_form(person: User, bound=None) -> f.InvitationForm:
    return bound or f.InvitationForm(initial={"email": "" if person.email.endswith(".invalid") else person.email},
                                     auto_id="id_invitation_%s")


def _invite(request, person: User, page) -> object:
    """The API's invitation (backend/accounts/invitations.py): a one-time link to set a password, by email."""
    form = f.InvitationForm(request.POST, auto_id="id_invitation_%s")
    if form.is_valid():
        try:
            invitations.invitation_send(actor=_actor(request), user=person, request_base_url=request.build_absolute_uri("/"),
                                        **f.checked(InvitationInput, form.cleaned_data))
        except PROBLEMS as problem:
            f.show_problem(form, problem, rename={"user_id": "email"})
        except OSError:  # the mail server refused or could not be reached (smtplib's errors are OSErrors)
            form.add_error("email", "The invitation could not be sent: the email server did not answer. Try again in a few minutes.")
        else:
            messages.success(request, f"Done. We have emailed {person.full_name} a link to set their password. It works once and expires.")
            return redirect(request.path.rsplit("/invite/", 1)[0] + "/")
    person.refresh_from_db()
    return page(request, person, invitation_form=form)


@admin_page
@require_POST
def staff_invite(request, user_id: int):
    return _invite(request, _staff_member(request, user_id), _staff_page)


@admin_page
@require_POST
def staff_two_factor_reset(request, user_id: int):
    """The API's reset (backend/accounts/two_factor.py, audited): for a colleague who lost their phone."""
    user = _staff_member(request, user_id)
    try:
        two_factor.two_factor_reset(actor=_actor(request), user=user)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"Done. {user.full_name}'s authenticator app is removed. They set up a new one when they next log in.")
    return redirect("admin-staff-member", user_id=user.pk)


# --- Service users -------------------------------------------------------------------------------
@admin_page
@require_http_methods(["GET", "HEAD", "POST"])
def people(request):
    form = f.PersonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = _create_account(request, form, Role.SERVICE_USER)
        if user is not None:
            messages.success(request, f"Done. {user.full_name} is registered. Put them on a team's caseload, then invite them to log in.")
            return redirect("admin-person", user_id=user.pk)
    registered = access.registrations_for_admin(request.user).values("service_user_id")
    persons = list(access.registered_with(request.user.organisation_id).filter(pk__in=registered)
                   .prefetch_related(access.caseload_entries_seen_by(request.user)).order_by("full_name", "id"))
    for person in persons:
        person.admin_teams = [e.team for e in person.caseload_entries.all()]
    audit_list(actor=_actor(request), object_type="accounts.user", ids=[p.pk for p in persons], detail={"page": "admin-people"})
    return render(request, "administration/people.html", {"people": persons, "form": form}, status=_status(form))


def _person(request, user_id: int) -> User:
    person = access.registered_with(request.user.organisation_id).filter(pk=user_id).first()
    if person is None:
        raise Http404("No service user with this id is registered with your organisation.")
    return person


def _person_page(request, person: User, **bound):
    audit_record(actor=_actor(request), action=AuditEvent.Action.READ, obj=person, detail={"page": "admin-person"})
    entries = list(person.caseload_entries.select_related("team").filter(team__organisation_id=request.user.organisation_id).order_by("team__name"))
    context = {
        "person": person,
        "entries": entries,
        "invitation_form": _invitation_form(person, bound.get("invitation_form")),
        "caseload_form": bound.get("caseload_form") or f.TeamChoiceForm(
            label="Team", teams=access.teams_visible_to(request.user).exclude(pk__in=[e.team_id for e in entries]).order_by("name")),
    }
    return render(request, "administration/person.html", context, status=_status(*bound.values()))


@admin_page
@require_http_methods(["GET", "HEAD"])
def person(request, user_id: int):
    return _person_page(request, _person(request, user_id))


@admin_page
@require_POST
def person_invite(request, user_id: int):
    return _invite(request, _person(request, user_id), _person_page)


@admin_page
@require_POST
def person_caseload_add(request, user_id: int):
    person = _person(request, user_id)
    form = f.TeamChoiceForm(request.POST, label="Team", teams=access.teams_visible_to(request.user))
    if form.is_valid():
        try:
            team = access.team_for(request.user, form.cleaned_data["team"])
            accounts.caseload_add(actor=_actor(request), team=team, service_user=access.service_user_for_admission(team, person.pk))
        except PROBLEMS as problem:
            f.show_problem(form, problem, rename={"team_id": "team", "service_user_id": "team"})
        else:
            messages.success(request, f"Done. {person.full_name} is on {team.name}'s caseload.")
            return redirect("admin-person", user_id=person.pk)
    return _person_page(request, person, caseload_form=form)


# --- Consent purposes and wording ----------------------------------------------------------------
@admin_page
@require_http_methods(["GET", "HEAD", "POST"])
def consent(request):
    form = f.PurposeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            purpose = consent_services.purpose_create(actor=_actor(request), **f.checked(PurposeCreateInput, form.cleaned_data))
        except PROBLEMS as problem:
            f.show_problem(form, problem)
        else:
            messages.success(request, f"Done. “{purpose.name}” is added. Now write its first wording.")
            return redirect("admin-consent-purpose", code=purpose.code)
    purposes = [(purpose, consent_selectors.current_wording(purpose)) for purpose in ConsentPurpose.objects.prefetch_related("wordings").order_by("id")]
    return render(request, "administration/consent.html", {"purposes": purposes, "form": form}, status=_status(form))


@admin_page
@require_http_methods(["GET", "HEAD", "POST"])
def consent_purpose(request, code: str):
    purpose = ConsentPurpose.objects.filter(code=code).first()
    if purpose is None:
        raise Http404("No such consent purpose.")
    form = f.WordingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            wording = consent_services.wording_publish(actor=_actor(request), purpose=purpose, **f.checked(WordingPublishInput, form.cleaned_data))
        except PROBLEMS as problem:
            f.show_problem(form, problem)
        else:
            messages.success(request, f"Done. Version {wording.version} takes effect on {wording.effective_from:%-d %B %Y}."
                             + (" Everyone will be asked to agree again." if wording.requires_reconsent else ""))
            return redirect("admin-consent-purpose", code=purpose.code)
    context = {"purpose": purpose, "wordings": purpose.wordings.order_by("-version"), "current": consent_selectors.current_wording(purpose), "form": form}
    return render(request, "administration/consent_purpose.html", context, status=_status(form))


# --- Local questionnaires ------------------------------------------------------------------------
def _questionnaires_visible(admin: User):
    """Published questionnaires and the admin's own organisation's local ones (others' stay out of sight)."""
    return [i for i in outcome_selectors.instruments_with_parts() if i.organisation_id in (None, admin.organisation_id)]


@admin_page
@require_http_methods(["GET", "HEAD", "POST"])
def questionnaires(request):
    form = f.QuestionnaireForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            data = f.checked(InstrumentCreateInput, {**form.cleaned_data, "organisation_id": request.user.organisation_id or 0})
            organisation = access.organisations_visible_to(request.user).filter(pk=data.pop("organisation_id")).first()
            if organisation is None:
                raise NotFound("Your account belongs to no organisation: ask the operator to add you to one.")
            instrument = outcome_services.instrument_create(actor=_actor(request), organisation=organisation, **data)
        except PROBLEMS as problem:
            f.show_problem(form, problem)
        else:
            messages.success(request, f"Done. {instrument.name} is ready. Teams ask for it once you add it to their schedules.")
            return redirect("admin-questionnaires")
    return render(request, "administration/questionnaires.html",
                  {"instruments": _questionnaires_visible(request.user), "form": form}, status=_status(form))


@admin_page
@require_POST
def questionnaire_retire(request, code: str):
    instrument = Instrument.objects.filter(code=code, organisation_id=request.user.organisation_id, is_active=True).first()
    if instrument is None:
        raise Http404("No local questionnaire of your organisation with this code.")
    outcome_services.instrument_retire(actor=_actor(request), instrument=instrument)
    messages.success(request, f"Done. {instrument.name} is retired: no team asks for it now, and its answers stay.")
    return redirect("admin-questionnaires")


# --- The historic import -------------------------------------------------------------------------
@admin_page
@require_http_methods(["GET", "HEAD", "POST"])
def import_page(request):
    team_list = access.teams_visible_to(request.user).order_by("name")
    form = f.ImportForm(request.POST if request.method == "POST" else None, request.FILES if request.method == "POST" else None, teams=team_list)
    result, problems, dry_run = None, [], request.POST.get("action") != "import"
    if request.method == "POST" and form.is_valid():
        try:
            team = access.team_for(request.user, form.cleaned_data["team"])
            text = imports.decode(form.cleaned_data["file"].read())
            result = imports.import_csv(actor=_actor(request), team=team, text=text, dry_run=dry_run)
        except imports.ImportErrors as error:
            problems = error.rows[: imports.MAX_ERRORS]
            form.add_error("file", error.detail)
        except PROBLEMS as problem:
            f.show_problem(form, problem, rename={"team_id": "team"})
    context = {"form": form, "result": result, "problems": problems, "dry_run": dry_run, "has_teams": team_list.exists()}
    return render(request, "administration/import.html", context, status=_status(form))


# --- The audit trail -----------------------------------------------------------------------------
@admin_page
@require_http_methods(["GET", "HEAD"])
def audit(request):
    form = f.AuditSearchForm(request.GET or None)
    events, older = [], None
    if form.is_valid():
        query = selectors.audit_search(request.user, **form.cleaned_data)
        before = request.GET.get("before", "")
        if before.isdigit():
            query = query.filter(sequence__lt=int(before))
        events = list(query.select_related("actor")[: AUDIT_PAGE_SIZE + 1])
        if len(events) > AUDIT_PAGE_SIZE:
            events = events[:AUDIT_PAGE_SIZE]
            params = request.GET.copy()
            params["before"] = events[-1].sequence
            older = f"?{params.urlencode()}"
        audit_record(actor=_actor(request), action=AuditEvent.Action.LIST, object_type="audit.auditevent",
                     detail={"page": "admin-audit", "filters": {k: str(v) for k, v in form.cleaned_data.items() if v}, "shown": len(events)})
    return render(request, "administration/audit.html",
                  {"form": form, "events": events, "older": older, "chain": request.session.pop("admin_chain_report", None)},
                  status=_status(form))


@admin_page
@require_POST
def audit_chain_check(request):
    report = audit_chain_verify()
    audit_record(actor=_actor(request), action=AuditEvent.Action.READ, object_type="audit.chain",
                 detail={"events_checked": report.events_checked, "broken_at": report.broken_at})
    # Shown once on the audit page after the redirect (so reloading it does not run the check again).
    request.session["admin_chain_report"] = {"intact": report.intact, "events_checked": report.events_checked,
                                             "broken_at": report.broken_at, "reason": report.reason}
    return redirect(f"{reverse('admin-audit')}#chain")


# --- The export log -----------------------------------------------------------------------------
@admin_page
@require_http_methods(["GET", "HEAD"])
def export_log(request):
    events = list(selectors.export_log(request.user).select_related("actor")[:200])
    return render(request, "administration/exports.html", {"events": events})
