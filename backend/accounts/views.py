"""Web pages for accounts: log in, log out, and the role-aware home page."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.http import Http404, JsonResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.urls import reverse
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from backend.accounts import invitations, records, selectors, services, two_factor
from backend.accounts.forms import (
    AccountDetailsForm,
    CarerLinkForm,
    EmailChangeForm,
    EmailLoginForm,
    OtpCodeForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    PhoneNumberForm,
    SetPasswordForm,
)
from backend.accounts.hooks import home_panels
from backend.accounts.models import PRACTITIONER_ROLES, Role, User
from backend.audit.actor import Actor
from backend.core.phone import phone_number_for_display
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.errors import DomainError


class LoginView(auth_views.LoginView):
    form_class = EmailLoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.second_factor_needed(user):
            # Not logged in yet: the password was right, the code comes next (backend/accounts/two_factor.py).
            self.request.session[_PENDING] = {"user": user.pk, "at": time.time(), "next": self.get_success_url()}
            return redirect("login-two-factor")
        response = super().form_valid(form)
        services.login_record(actor=Actor.from_request(self.request), user=user)
        return response

    def form_invalid(self, form):
        email = str(form.data.get("username", ""))
        services.login_failure_record(
            actor=Actor.from_request(self.request), email=email, locked_out=bool(getattr(self.request, "axes_locked_out", False))
        )
        return super().form_invalid(form)


# --- Two-factor sign-in ---------------------------------------------------------------------------
_PENDING = "two_factor_pending"
_ENROLMENT = "two_factor_device"


def _pending_user(request) -> User | None:
    """The person whose password was right a moment ago and who still owes a code, if still in time."""
    pending = request.session.get(_PENDING)
    if not pending or time.time() - pending["at"] > settings.TWO_FACTOR_CHALLENGE_SECONDS:
        return None
    return User.objects.select_related("organisation").filter(pk=pending["user"], is_active=True).first()


def _pending_expired(request):
    request.session.pop(_PENDING, None)
    messages.error(request, "Your sign-in took too long. Log in with your password again.")
    return redirect("login")


def _finish_login(request, user: User):
    next_url = request.session.pop(_PENDING, {}).get("next") or settings.LOGIN_REDIRECT_URL
    request.session.pop(_ENROLMENT, None)
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    services.login_record(actor=Actor.from_request(request), user=user)
    return next_url


def login_two_factor(request):
    """The second step of logging in: a code from the person's authenticator app or a recovery code."""
    user = _pending_user(request)
    if user is None:
        return _pending_expired(request)
    if two_factor.enrolment_needed(user):
        return redirect("login-two-factor-setup")
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            two_factor.second_factor_verify(user=user, code=form.cleaned_data["code"], request=request)
        except two_factor.LockedOut as error:
            request.session.pop(_PENDING, None)
            return render(request, "accounts/locked_out.html", {"detail": error.detail}, status=429)
        except DomainError as error:
            services.login_failure_record(actor=Actor.from_request(request), email=user.email, locked_out=False)
            form.add_error("code", error.detail)
        else:
            return redirect(_finish_login(request, user))
    return render(request, "accounts/login_two_factor.html", {"form": form}, status=400 if form.errors else 200)


def login_two_factor_setup(request):
    """Set up an authenticator app: at a first sign-in (pending) or from your account (logged in)."""
    user = request.user if request.user.is_authenticated else _pending_user(request)
    if user is None:
        return _pending_expired(request)
    if not request.user.is_authenticated and not two_factor.enrolment_needed(user):
        # Someone who already has an app gives its code: a new app is set up only once logged in.
        return redirect("login-two-factor")
    device = two_factor.unconfirmed_device(user, request.session.get(_ENROLMENT))
    enrolment = two_factor.enrolment_for(device) if device else two_factor.totp_enrolment_start(user=user)
    request.session[_ENROLMENT] = enrolment.device.pk
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.totp_enrolment_confirm(
                actor=Actor.from_request(request, user=user), user=user, device=enrolment.device, code=form.cleaned_data["code"], request=request,
            )
        except two_factor.LockedOut as error:
            request.session.pop(_PENDING, None)
            return render(request, "accounts/locked_out.html", {"detail": error.detail}, status=429)
        except DomainError as error:
            form.add_error("code", error.detail)
        else:
            next_url = reverse("account")
            if not request.user.is_authenticated:
                next_url = _finish_login(request, user)
            request.session.pop(_ENROLMENT, None)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next_url": resolve_url(next_url)})
    return render(request, "accounts/two_factor_setup.html", {"form": form, "enrolment": enrolment, "first_time": not request.user.is_authenticated},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def recovery_codes_new(request):
    try:
        codes = two_factor.recovery_codes_regenerate(actor=Actor.from_request(request), user=request.user)
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect("account")
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next_url": reverse("account")})


@login_required
@require_POST
def two_factor_remove(request):
    try:
        two_factor.two_factor_remove_own(actor=Actor.from_request(request), user=request.user)
        messages.success(request, "Done. You now log in with your password only.")
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect("account")


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
    """Your account: your details, your password and your two-factor sign-in."""
    user: User = request.user
    form = AccountDetailsForm(request.POST or None, initial={
        "preferred_name": user.preferred_name, "phone_number": phone_number_for_display(user.phone_number),
    })
    if request.method == "POST" and form.is_valid():
        services.user_update(actor=Actor.from_request(request), user=user, **form.cleaned_data)
        messages.success(request, "Done. Your details are saved.")
        return redirect("account")
    if request.method == "GET":
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=user, detail={"page": "account"})
    return render(request, "accounts/account.html", {
        "account": user, "form": form, "phone_display": phone_number_for_display(user.phone_number),
        "has_two_factor": two_factor.has_two_factor(user),
        "two_factor_required": two_factor.two_factor_required_by_organisation(user),
        "recovery_codes_left": two_factor.recovery_codes_left(user),
    }, status=400 if form.errors else 200)


@login_required
def email_change(request):
    form = EmailChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.email_change_request(actor=Actor.from_request(request), user=request.user,
                                             new_email=form.cleaned_data["email"], request_base_url=_base_url(request))
        except DomainError as error:
            form.add_error("email", error.detail)
        else:
            messages.success(request, f"Done. We have emailed a link to {form.cleaned_data['email']}. "
                                      "Open it to start using that address; until then we keep using your old one.")
            return redirect("account")
    return render(request, "accounts/email_change.html", {"form": form}, status=400 if form.errors else 200)


def email_confirm(request, token: str):
    """The link sent to a new address: a button (a GET changes nothing, so mail scanners cannot)."""
    if request.method == "POST":
        try:
            invitations.email_change_confirm(actor=Actor.from_request(request), token=token)
        except DomainError as error:
            return render(request, "accounts/link_problem.html", {"detail": error.detail, "email_link": True}, status=400)
        messages.success(request, "Done. Your email address has changed. Use it to log in from now on.")
        return redirect("account" if request.user.is_authenticated else "login")
    return render(request, "accounts/email_confirm.html")


# --- A person's own records -----------------------------------------------------------------------
def _records_subject(request, service_user_id: int | None) -> User:
    if service_user_id is None:
        return request.user
    subject = User.objects.filter(pk=service_user_id).first()
    if subject is None:
        raise Http404
    return subject


@login_required
def my_records(request, service_user_id: int | None = None):
    """What Rapport holds about a service user, as a page: for themselves, or an admin's subject access request."""
    try:
        record = records.subject_record_for(actor=Actor.from_request(request), subject=_records_subject(request, service_user_id))
    except DomainError as error:
        raise Http404(error.detail) from error
    json_url = (reverse("records-json-admin", args=[service_user_id]) if service_user_id else reverse("records-json"))
    return render(request, "accounts/records.html", {"record": record, "sections": records.readable(record), "json_url": json_url,
                                                     "for_self": service_user_id is None})


@login_required
def my_records_json(request, service_user_id: int | None = None):
    try:
        record = records.subject_record_for(actor=Actor.from_request(request), subject=_records_subject(request, service_user_id))
    except DomainError as error:
        raise Http404(error.detail) from error
    response = JsonResponse(record, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="rapport-records-{timezone.localdate():%Y-%m-%d}.json"'
    return response


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
