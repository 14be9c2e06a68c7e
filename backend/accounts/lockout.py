"""How django-axes reports a locked-out login: the API's error shape, or a page that says what to do."""

from django.conf import settings
from django.shortcuts import render

from backend.core.errors import json_error_response

LOCKED_OUT_DETAIL = (
    "Too many failed attempts to log in to this account from here. Wait {minutes} minutes and try again, "
    "or contact your team to reset your password."
).format(minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def lockout_response(request, original_response=None, credentials=None):
    if request.path.startswith("/api/"):
        return json_error_response(429, "locked_out", LOCKED_OUT_DETAIL)
    return render(request, "accounts/locked_out.html", {"detail": LOCKED_OUT_DETAIL}, status=429)


def attempted_email(request, credentials=None) -> str:
    """The lockout key's account part: the email tried, however it was capitalised.

    Axes passes credentials keyed by the user model's USERNAME_FIELD (email) when checking a lockout
    but by the authenticate() keyword (username) when recording a failure: accept both.
    """
    credentials = credentials or {}
    email = credentials.get("email") or credentials.get("username") or request.POST.get("username", "")
    return str(email).strip().lower()
