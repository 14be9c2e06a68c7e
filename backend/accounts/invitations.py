"""Invitations and set-password links: the only ways a password is set or reset without the old one.

Both are Django's password-reset token (HMAC over the account's id, email, password hash and last
login, with a timestamp), with their own salt and lifetime: an invitation lasts INVITATION_TIMEOUT, a
forgotten-password link PASSWORD_RESET_TIMEOUT. A link works once, since setting the password changes
the hash it was made from. Nothing is stored: there is no table of links to leak.

A person made without a login (`user_create(password=None)`, e.g. imported) has an unusable password,
so "forgot password" never emails them; they get a login only when an admin invites them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode
from knox.models import AuthToken

from backend.accounts import selectors
from backend.accounts.models import User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.core.errors import Conflict, InvalidInput, NotFound

A = AuditEvent.Action

LINK_PROBLEM = {
    "expired": "This link has expired. Ask for a new one: use \"Forgotten your password?\" on the log in page, "
    "or ask your team to invite you again.",
    "invalid": "This link has already been used or is not complete. If you have set your password, log in. "
    "Otherwise ask for a new link.",
}


class _LinkTokens(PasswordResetTokenGenerator):
    """Django's token generator with its own salt and lifetime, and an answer that says why a link fails."""

    def __init__(self, purpose: str, timeout_setting: str):
        super().__init__()
        self.key_salt = f"backend.accounts.invitations.{purpose}"
        self.timeout_setting = timeout_setting

    @property
    def timeout(self) -> int:
        return int(getattr(settings, self.timeout_setting))

    def state(self, user: User | None, token: str) -> str:
        """"ok", "expired" (right but too old) or "invalid" (wrong, or already used)."""
        if not (user and token) or token.count("-") != 1:
            return "invalid"
        ts_b36 = token.split("-")[0]
        try:
            ts = base36_to_int(ts_b36)
        except ValueError:
            return "invalid"
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return "invalid"
        if self._num_seconds(self._now()) - ts > self.timeout:
            return "expired"
        return "ok"

    def check_token(self, user, token) -> bool:
        return self.state(user, token) == "ok"


invitation_tokens = _LinkTokens("invitation", "INVITATION_TIMEOUT")
reset_tokens = _LinkTokens("password_reset", "PASSWORD_RESET_TIMEOUT")
TOKENS = {"invitation": invitation_tokens, "reset": reset_tokens}


@dataclass(frozen=True)
class SetPasswordLink:
    """Who a set-password link is for, once checked."""

    user: User
    kind: str  # "invitation" or "reset"


def _link_path(kind: str, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("set-password", kwargs={"kind": kind, "uidb64": uid, "token": TOKENS[kind].make_token(user)})


def _base_url(request_base_url: str | None) -> str:
    return (request_base_url or settings.SITE_URL).rstrip("/")


def _send(*, template: str, user: User, link: str, subject: str, minutes: int) -> None:
    context = {"user": user, "link": link, "valid_for": _duration_words(minutes)}
    send_mail(subject, render_to_string(template, context), None, [user.email], fail_silently=False)


def _duration_words(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


# --- Invitations ----------------------------------------------------------------------------------
def invitation_send(*, actor: Actor, user: User, email: str | None = None, request_base_url: str | None = None) -> None:
    """An admin invites a person in their organisation to set a password: an email with a one-time link
    that expires after INVITATION_TIMEOUT. `email` first gives the account a (new) address, e.g. for a
    person imported without one; it must not be another account's. Someone who already has a password
    is not invited (they can use "Forgotten your password?"). Audited; raises NotFound for a person
    outside the admin's organisation and Conflict for an address already used or a login already set.
    """
    if actor.user is None or not selectors.users_for_admin(actor.user).filter(pk=user.pk).exists():
        raise NotFound(f"No account {user.pk}.", field="user_id")
    if not user.is_active:
        raise Conflict("This account is deactivated: reactivate it before inviting.", field="user_id", code="inactive")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.has_usable_password():
            raise Conflict("This person already has a login. They can use \"Forgotten your password?\" on the log in page.",
                           field="user_id", code="already_has_login")
        changed = []
        if email is not None:
            email = User.objects.normalize_email(email.strip()).lower()
            if email != locked.email:
                if User.objects.filter(email=email).exclude(pk=locked.pk).exists():
                    raise Conflict("Another account already uses this email address.", field="email", code="email_taken")
                locked.email = email
                locked.save(update_fields=["email"])
                changed.append("email")
        if locked.email.endswith(".invalid"):
            raise InvalidInput("This person has no email address yet: give one to send the invitation to.",
                               field="email", code="required")
        audit_record(actor=actor, action=A.UPDATE, obj=locked, detail={"invitation_sent": True, "changed": changed})
        link = _base_url(request_base_url) + _link_path("invitation", locked)
        # Sent inside the transaction: if the mail server refuses it, the change of address is not kept.
        _send(template="accounts/email/invitation.txt", user=locked, link=link,
              subject="You are invited to Rapport: set your password", minutes=settings.INVITATION_TIMEOUT // 60)
    user.refresh_from_db()


def invitation_deliver(*, user: User, template: str, subject: str, request_base_url: str | None = None,
                       context: dict | None = None) -> None:
    """Email `user` a one-time set-password invitation link in a higher layer's own words (`template`
    gets `user`, `link`, `valid_for` and `context`), e.g. the relatives' space inviting a relative.
    The caller has already decided the actor may invite this person, and audits it; the link is
    exactly the one `invitation_send` sends (expires after INVITATION_TIMEOUT, works once)."""
    if user.has_usable_password():
        raise Conflict("This person already has a login.", field="user_id", code="already_has_login")
    link = _base_url(request_base_url) + _link_path("invitation", user)
    body = render_to_string(template, {"user": user, "link": link, "valid_for": _duration_words(settings.INVITATION_TIMEOUT // 60),
                                       **(context or {})})
    send_mail(subject, body, None, [user.email], fail_silently=False)


def first_admin_link(*, actor: Actor, user: User) -> str:
    """The one-time set-password link for an organisation's first admin, made by the operator's command
    (`manage.py first_admin_create`): the same invitation link an admin sends (expires after
    INVITATION_TIMEOUT, works once), also emailed when email is set up. Nobody else can send it, since
    nobody in the organisation can log in yet. Audited."""
    if user.has_usable_password():
        raise Conflict("This person already has a login.", field="user_id", code="already_has_login")
    link = _base_url(None) + _link_path("invitation", user)
    audit_record(actor=actor, action=A.UPDATE, obj=user, detail={"invitation_sent": True, "changed": [], "first_admin": True})
    _send(template="accounts/email/invitation.txt", user=user, link=link,
          subject="You are invited to Rapport: set your password", minutes=settings.INVITATION_TIMEOUT // 60)
    return link


# --- Forgotten passwords --------------------------------------------------------------------------
def password_reset_request(*, actor: Actor, email: str, request_base_url: str | None = None) -> None:
    """Email a one-time link to set a new password, if `email` is an active account with a login.

    The caller answers the same whatever happens here, so nobody learns which addresses have accounts.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    user = User.objects.filter(email=email, is_active=True).first()
    audit_record(actor=actor, action=A.UPDATE, object_type="accounts.user", object_id=str(user.pk) if user else "",
                 detail={"password_reset_requested": True, "sent": bool(user and user.has_usable_password())})
    if user is None or not user.has_usable_password():
        return
    link = _base_url(request_base_url) + _link_path("reset", user)
    _send(template="accounts/email/password_reset.txt", user=user, link=link,
          subject="Set a new Rapport password", minutes=settings.PASSWORD_RESET_TIMEOUT // 60)


# --- Following a link -----------------------------------------------------------------------------
def set_password_link_check(*, kind: str, uidb64: str, token: str) -> SetPasswordLink:
    """The account a link is for, or InvalidInput saying why the link cannot be used (expired, used)."""
    if kind not in TOKENS:
        raise InvalidInput(LINK_PROBLEM["invalid"], field="token", code="invalid_link")
    try:
        user = User.objects.filter(pk=int(force_str(urlsafe_base64_decode(uidb64))), is_active=True).first()
    except (TypeError, ValueError, OverflowError):
        user = None
    state = TOKENS[kind].state(user, token)
    if state != "ok":
        raise InvalidInput(LINK_PROBLEM[state], field="token", code=f"{state}_link")
    return SetPasswordLink(user=user, kind=kind)


def password_set_from_link(*, actor: Actor, kind: str, uidb64: str, token: str, password: str) -> User:
    """Set the password a link allows (once), checked by Django's validators. Ends the account's API
    tokens and clears its failed-login lockout, so a locked-out person recovers through the link."""
    with transaction.atomic():
        link = set_password_link_check(kind=kind, uidb64=uidb64, token=token)
        user = User.objects.select_for_update().get(pk=link.user.pk)
        # Checked again under the lock: two tabs posting the same link cannot both use it.
        if TOKENS[kind].state(user, token) != "ok":
            raise InvalidInput(LINK_PROBLEM["invalid"], field="token", code="invalid_link")
        _password_store(actor=actor.as_user(user), user=user, password=password, detail={"via_link": kind})
    return user


def password_change(*, actor: Actor, user: User, old_password: str, new_password: str, keep_token_key: str | None = None) -> User:
    """A logged-in person changes their own password, giving the old one. Their API tokens end, except
    `keep_token_key` (the one the change was made with)."""
    if actor.user is None or actor.user.pk != user.pk:
        raise NotFound(f"No account {user.pk}.", field="user_id")
    if not user.check_password(old_password):
        raise InvalidInput("Your current password is not right.", field="old_password", code="wrong_password")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        _password_store(actor=actor, user=locked, password=new_password, detail={"changed_by_self": True},
                        keep_token=keep_token_key)
    user.refresh_from_db()
    return user


def _password_store(*, actor: Actor, user: User, password: str, detail: dict, keep_token: str | None = None) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        raise InvalidInput(" ".join(error.messages), field="password", code="weak_password") from error
    user.set_password(password)
    user.save(update_fields=["password"])
    # Every API token made with the old password ends (a stolen one stops working).
    tokens = AuthToken.objects.filter(user=user)
    if keep_token:
        tokens = tokens.exclude(token_key=keep_token)
    tokens.delete()
    audit_record(actor=actor, action=A.UPDATE, obj=user, detail={"changed": ["password"], **detail})
    # The failed-login count for the account goes with the old password (in this transaction).
    from axes.utils import reset as lockout_reset

    lockout_reset(username=user.email)


# --- Changing your own email address --------------------------------------------------------------
_EMAIL_SALT = "backend.accounts.invitations.email_change"
EMAIL_CHANGE_SECONDS = 24 * 3600


def email_change_request(*, actor: Actor, user: User, new_email: str, request_base_url: str | None = None) -> None:
    """Email a link to `new_email`; the address changes only when it is followed (so it is proven to be
    theirs). Nothing changes before then. 409 if another account already uses the address."""
    if actor.user is None or actor.user.pk != user.pk:
        raise NotFound(f"No account {user.pk}.", field="user_id")
    new_email = User.objects.normalize_email(new_email.strip()).lower()
    if new_email == user.email:
        raise InvalidInput("This is already your email address.", field="email", code="unchanged")
    if User.objects.filter(email=new_email).exclude(pk=user.pk).exists():
        raise Conflict("Another account already uses this email address.", field="email", code="email_taken")
    token = signing.dumps({"user": user.pk, "from": user.email, "to": new_email}, salt=_EMAIL_SALT, compress=True)
    link = _base_url(request_base_url) + reverse("email-confirm", kwargs={"token": token})
    audit_record(actor=actor, action=A.UPDATE, obj=user, detail={"email_change_requested": True})
    send_mail("Confirm your new email address for Rapport",
              render_to_string("accounts/email/email_change.txt", {"user": user, "link": link, "valid_for": "24 hours"}),
              None, [new_email], fail_silently=False)


def email_change_confirm(*, actor: Actor, token: str) -> User:
    """Follow the link sent to a new address: the account's email becomes it. Works once (the old
    address is in the link) and for EMAIL_CHANGE_SECONDS."""
    problem = "This link has expired or has already been used. Change your email address again from Your account."
    try:
        data = signing.loads(token, salt=_EMAIL_SALT, max_age=EMAIL_CHANGE_SECONDS)
    except signing.BadSignature as error:
        raise InvalidInput(problem, field="token", code="invalid_link") from error
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=data["user"], is_active=True).first()
        if user is None or user.email != data["from"]:
            raise InvalidInput(problem, field="token", code="invalid_link")
        if User.objects.filter(email=data["to"]).exclude(pk=user.pk).exists():
            raise Conflict("Another account now uses this email address.", field="email", code="email_taken")
        user.email = data["to"]
        user.save(update_fields=["email"])
        audit_record(actor=actor.as_user(user) if actor.user is None else actor, action=A.UPDATE, obj=user,
                     detail={"changed": ["email"], "verified_by_link": True})
    return user
