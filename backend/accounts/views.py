"""Web pages for accounts: log in, log out, and the role-aware home page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from backend.accounts import invitations, selectors, services
from backend.accounts.forms import CarerLinkForm, EmailLoginForm, PasswordChangeForm, PasswordResetRequestForm, SetPasswordForm
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


# --- Passwords: forgotten, set from a link, changed ----------------------------------------------
def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def password_reset(request):
    """Ask for a set-password link. The answer is the same whether or not the address has an account."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        invitations.password_reset_request(actor=Actor.from_request(request), email=email, request_base_url=_base_url(request))
        return render(request, "accounts/password_reset_sent.html", {
            "email": email, "valid_for": invitations._duration_words(settings.PASSWORD_RESET_TIMEOUT // 60),
        })
    return render(request, "accounts/password_reset_request.html", {"form": form}, status=400 if form.errors else 200)


# The token is swapped for this placeholder after the first visit (and kept in the session), so it
# never sits in the address bar, the history or a Referer header, as Django's own reset view does.
_TOKEN_IN_SESSION = "set"
_SESSION_KEY = "set_password_token"


def set_password(request, kind: str, uidb64: str, token: str):
    """Follow an invitation or a forgotten-password link and choose a password."""
    if token != _TOKEN_IN_SESSION:
        request.session[_SESSION_KEY] = token
        return redirect("set-password", kind=kind, uidb64=uidb64, token=_TOKEN_IN_SESSION)
    real_token = request.session.get(_SESSION_KEY, "")
    try:
        link = invitations.set_password_link_check(kind=kind, uidb64=uidb64, token=real_token)
    except DomainError as error:
        return render(request, "accounts/link_problem.html", {"detail": error.detail}, status=400)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.password_set_from_link(
                actor=Actor.from_request(request), kind=kind, uidb64=uidb64, token=real_token, password=form.cleaned_data["password"],
            )
        except DomainError as error:
            if error.field != "password":
                return render(request, "accounts/link_problem.html", {"detail": error.detail}, status=400)
            form.add_error("password", error.detail)
        else:
            request.session.pop(_SESSION_KEY, None)
            messages.success(request, "Done. Your password is set: log in with it now.")
            return redirect("login")
    return render(request, "accounts/set_password.html", {"form": form, "kind": kind, "account": link.user},
                  status=400 if form.errors else 200)


@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.password_change(
                actor=Actor.from_request(request), user=request.user,
                old_password=form.cleaned_data["old_password"], new_password=form.cleaned_data["password"],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            update_session_auth_hash(request, request.user)  # stay logged in here; other sessions end
            messages.success(request, "Done. Your password has changed.")
            return redirect("account")
    return render(request, "accounts/password_change.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def account(request):
    """Your account: your details, your password and (staff) your two-factor sign-in."""
    user: User = request.user
    audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=user, detail={"page": "account"})
    return render(request, "accounts/account.html", {"account": user})
