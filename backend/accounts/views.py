"""Web pages for accounts: log in, log out, and the role-aware home page."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from backend.accounts import selectors, services
from backend.accounts.forms import CarerLinkForm, EmailLoginForm, PhoneNumberForm
from backend.accounts.hooks import home_panels
from backend.accounts.models import PRACTITIONER_ROLES, Role, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.errors import DomainError


class LoginView(auth_views.LoginView):
    form_class = EmailLoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        services.login_record(actor=Actor.from_request(self.request), user=form.get_user())
        return response

    def form_invalid(self, form):
        email = str(form.data.get("username", ""))
        services.login_failure_record(
            actor=Actor.from_request(self.request), email=email, locked_out=bool(getattr(self.request, "axes_locked_out", False))
        )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        services.logout_record(actor=Actor.from_request(request))
        return super().post(request, *args, **kwargs)


@login_required
def home(request):
    user: User = request.user
    actor = Actor.from_request(request)
    context = {"user": user}
    if user.role in PRACTITIONER_ROLES:
        teams = list(selectors.teams_with_caseloads(user))
        shown = [entry.service_user_id for team in teams for entry in team.caseload.all()]
        audit_list(actor=actor, object_type="accounts.user", ids=shown, detail={"page": "home"})
        context["teams"] = teams
    elif user.role == Role.SERVICE_USER:
        audit_record(actor=actor, action=AuditEvent.Action.READ, obj=user, detail={"page": "home"})
        context["my_teams"] = selectors.teams_visible_to(user)
        context["carer_links"] = selectors.carer_links_visible_to(user).open()
        context["carer_form"] = CarerLinkForm()
    elif user.role == Role.CARER:
        links = list(selectors.carer_links_visible_to(user).open())
        audit_list(actor=actor, object_type="accounts.carerlink", ids=[link.pk for link in links], detail={"page": "home"})
        context["cared_for_links"] = links
    elif user.role in (Role.ADMIN, Role.EVALUATOR):
        # Their own organisation's numbers only.
        context["counts"] = {
            "organisations": 1 if user.organisation_id else 0,
            "teams": selectors.teams_visible_to(user).count(),
            "service_users": selectors.registered_with(user.organisation_id).filter(is_active=True).count(),
        }
    # What higher layers add (sessions: the sessions a carer is invited to), each its own template.
    context["panels"] = [
        mark_safe(render_to_string(template, panel_context, request=request))  # noqa: S308 - each template escapes its data
        for template, panel_context in home_panels(user)
    ]
    return render(request, f"accounts/home_{_template_for(user.role)}.html", context)


def _template_for(role: str) -> str:
    return "practitioner" if role in PRACTITIONER_ROLES else role


@login_required
@require_POST
def carer_link_add(request):
    form = CarerLinkForm(request.POST)
    if form.is_valid():
        try:
            services.carer_link_create(
                actor=Actor.from_request(request), service_user=request.user,
                carer_email=form.cleaned_data["carer_email"], relationship=form.cleaned_data["relationship"],
            )
            messages.success(request, "Done. We have asked them. Once they accept, they can see what you choose to share with them.")
        except DomainError as error:
            messages.error(request, error.detail)
    else:
        messages.error(request, "Enter their email address and who they are to you.")
    return redirect("home")


@login_required
@require_POST
def carer_link_end(request, link_id: int):
    try:
        link = selectors.carer_link_for(request.user, link_id)
        services.carer_link_end(actor=Actor.from_request(request), link=link)
        messages.success(request, "Done. They can no longer see anything about your care.")
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect("home")


@login_required
@require_POST
def carer_link_answer(request, link_id: int, answer: str):
    """A carer accepts or declines a proposal to be involved (the same services as the API)."""
    try:
        link = selectors.carer_link_for(request.user, link_id)
        if answer == "accept":
            services.carer_link_accept(actor=Actor.from_request(request), link=link)
            messages.success(request, "Done. You are now involved in their care, as far as they choose to share.")
        else:
            services.carer_link_decline(actor=Actor.from_request(request), link=link)
            messages.success(request, "Done. You have said no, and they can see that you did.")
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect("home")


@login_required
@require_POST
def phone_number_update(request, service_user_id: int):
    """The person, or a clinician of their team, records or changes the person's phone number (the
    same service and checks as the API); back to the page it came from, with what happened."""
    back = "home" if request.user.pk == service_user_id else None
    try:
        person = selectors.service_user_for(request.user, service_user_id)
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect("home")
    form = PhoneNumberForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the phone number as you would dial it, for example 07400 123456.")
    else:
        try:
            services.phone_number_update(actor=Actor.from_request(request), person=person, number=form.cleaned_data["phone_number"])
        except DomainError as error:
            messages.error(request, f"Not saved. {error.detail}")
        else:
            messages.success(request, "Saved the phone number." if person.phone_number else "Removed the phone number.")
    return redirect(back or "person-page", **({} if back else {"service_user_id": person.pk}))
