"""Two-factor sign-in: a code from an authenticator app (TOTP, django-otp) after the password.

Staff (clinicians, peer workers, evaluators, admins) must use it when their organisation requires it
(`Organisation.staff_two_factor_required`, on by default): they set it up at their first sign-in.
Service users and carers may set it up from their account; once they have, it is asked every time.

Nobody is logged in, on the web or the API, until the second factor is given: the web keeps the
person whose password was right in the session for TWO_FACTOR_CHALLENGE_SECONDS, the API gives a
signed challenge that lasts as long. A wrong code counts as a failed login in django-axes, with the
same lockout as wrong passwords. Each person also gets ten single-use recovery codes (otp_static).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import segno
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core import signing
from django.db import transaction
from django_otp import devices_for_user, match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from backend.accounts import selectors
from backend.accounts.models import STAFF_ROLES, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.core.errors import DomainError, InvalidInput, NotFound

A = AuditEvent.Action
RECOVERY_CODE_COUNT = 10
_CHALLENGE_SALT = "backend.accounts.two_factor.challenge"

WRONG_CODE = "That code is not right. Type the 6 numbers your authenticator app shows now, or one of your recovery codes."


class LockedOut(DomainError):
    status = 429
    code = "locked_out"


# --- Who needs it ---------------------------------------------------------------------------------
def two_factor_required_by_organisation(user: User) -> bool:
    return user.role in STAFF_ROLES and user.organisation is not None and user.organisation.staff_two_factor_required


def has_two_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_needed(user: User) -> bool:
    """After a right password: must this person give a code (or set up an app) before being logged in?"""
    return two_factor_required_by_organisation(user) or has_two_factor(user)


def enrolment_needed(user: User) -> bool:
    return two_factor_required_by_organisation(user) and not has_two_factor(user)


# --- Setting up an app ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    secret: str  # base32, for typing into the app instead of scanning
    qr_svg: str  # an <svg> with no style attribute (the page's CSP allows no inline styles)


def totp_enrolment_start(*, user: User) -> Enrolment:
    """A new, unconfirmed authenticator device for `user` (any earlier unconfirmed one is dropped)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return enrolment_for(device)


def enrolment_for(device: TOTPDevice) -> Enrolment:
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=4, title="QR code to scan with your authenticator app", dark="#000", light="#fff")
    return Enrolment(device=device, secret=secret, qr_svg=svg)


def unconfirmed_device(user: User, device_id: int | None) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, pk=device_id, confirmed=False).first() if device_id else None


def totp_enrolment_confirm(*, actor: Actor, user: User, device: TOTPDevice, code: str, request=None) -> list[str]:
    """Confirm a new device with a code from it; returns new recovery codes (shown once). Any earlier
    device and recovery codes of the person are replaced. A wrong code counts as a failed login."""
    _refuse_if_locked_out(request, user)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        right = device.verify_token(_digits(code))
    if not right:
        _count_failure(request, user)  # outside the transaction, so the count is kept
        raise InvalidInput(WRONG_CODE, field="code", code="wrong_code")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save()
        codes = _recovery_codes_replace(user)
        audit_record(actor=actor, action=A.UPDATE, obj=user, detail={"two_factor": "enrolled"})
    return codes


def recovery_codes_regenerate(*, actor: Actor, user: User) -> list[str]:
    if not has_two_factor(user):
        raise InvalidInput("Set up an authenticator app first.", field="code", code="no_device")
    with transaction.atomic():
        codes = _recovery_codes_replace(user)
        audit_record(actor=actor, action=A.UPDATE, obj=user, detail={"two_factor": "recovery_codes_replaced"})
    return codes


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def two_factor_remove_own(*, actor: Actor, user: User) -> None:
    """A person turns off two-factor sign-in they chose. Staff whose organisation requires it cannot."""
    if two_factor_required_by_organisation(user):
        raise InvalidInput("Your organisation requires two-factor sign-in for staff. Ask an administrator to reset it if you lost your phone.",
                           field="two_factor", code="required_by_organisation")
    with transaction.atomic():
        _devices_delete(user)
        audit_record(actor=actor, action=A.END, obj=user, detail={"two_factor": "removed_by_self"})


def two_factor_reset(*, actor: Actor, user: User) -> None:
    """An admin resets a colleague's two-factor sign-in (a lost phone): their devices and recovery codes
    go, and they set up a new app at their next sign-in. Only within the admin's organisation; audited."""
    if actor.user is None or not selectors.users_for_admin(actor.user).filter(pk=user.pk).exists():
        raise NotFound(f"No account {user.pk}.", field="user_id")
    with transaction.atomic():
        removed = _devices_delete(user)
        audit_record(actor=actor, action=A.END, obj=user, detail={"two_factor": "reset_by_admin", "devices_removed": removed})


def _devices_delete(user: User) -> int:
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    removed += StaticDevice.objects.filter(user=user).delete()[0]
    return removed


# --- The second step of signing in ----------------------------------------------------------------
def second_factor_verify(*, user: User, code: str, request=None) -> None:
    """Check a code from the person's app or one of their recovery codes (used up). Refused while the
    login is locked out; a wrong code counts as a failed login (django-axes)."""
    _refuse_if_locked_out(request, user)
    code = code.strip().replace(" ", "").lower()
    if not code or match_token(user, code) is None:
        _count_failure(request, user)
        raise InvalidInput(WRONG_CODE, field="code", code="wrong_code")


def challenge_issue(user: User) -> str:
    """A signed note that `user` gave the right password just now (the API's first step)."""
    return signing.dumps({"user": user.pk, "password": user.password[-12:]}, salt=_CHALLENGE_SALT, compress=True)


def challenge_user(challenge: str) -> User:
    """The person a challenge names, if it is recent and their password has not changed since."""
    try:
        data = signing.loads(challenge, salt=_CHALLENGE_SALT, max_age=settings.TWO_FACTOR_CHALLENGE_SECONDS)
    except signing.BadSignature as error:  # includes SignatureExpired
        raise InvalidInput("This sign-in has expired or is not complete. Log in with your password again.",
                           field="challenge", code="invalid_challenge") from error
    user = User.objects.select_related("organisation").filter(pk=data.get("user"), is_active=True).first()
    if user is None or user.password[-12:] != data.get("password"):
        raise InvalidInput("This sign-in has expired or is not complete. Log in with your password again.",
                           field="challenge", code="invalid_challenge")
    return user


def devices_of(user: User) -> list:
    return list(devices_for_user(user, confirmed=True))


def _digits(code: str) -> str:
    return code.strip().replace(" ", "")


def _credentials(user: User) -> dict:
    return {"username": user.email}


def _django_request(request):
    return getattr(request, "_request", request)


def _refuse_if_locked_out(request, user: User) -> None:
    if request is None:
        return
    from axes.handlers.proxy import AxesProxyHandler

    from backend.accounts.lockout import LOCKED_OUT_DETAIL

    if AxesProxyHandler.is_locked(_django_request(request), credentials=_credentials(user)):
        raise LockedOut(LOCKED_OUT_DETAIL)


def _count_failure(request, user: User) -> None:
    if request is None:
        return
    # django-axes listens to this signal: a wrong code counts as a failed login for this email and address.
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=_django_request(request))
