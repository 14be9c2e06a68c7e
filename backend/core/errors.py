"""Domain errors and the one place they become HTTP answers.

Services raise these; they never know about HTTP. `api_exception_handler` turns them (and DRF's and
Django's own exceptions) into one JSON shape for every 4xx answer:

    {"status": 400, "code": "invalid", "detail": "…what went wrong and what to do…",
     "errors": [{"field": "email", "code": "required", "message": "This field is required."}]}

`field` is null when the error is not about one field. The same shape is declared in the OpenAPI
schema as the `Error` component (backend/core/schema.py).
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback


class DomainError(Exception):
    """An expected refusal from a service: bad input, a forbidden action, a conflict."""

    status = 400
    code = "invalid"

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code:
            self.code = code

    def errors(self) -> list[dict]:
        """The `errors` list of the JSON body: by default the one field this error is about."""
        return [{"field": self.field, "code": self.code, "message": self.detail}]


class InvalidInput(DomainError):
    status = 400
    code = "invalid"


class NotFound(DomainError):
    """The object does not exist, or the asker may not know that it does."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "permission_denied"


class Conflict(DomainError):
    """The request is well formed but the current state does not allow it."""

    status = 409
    code = "conflict"


def error_body(status: int, code: str, detail: str, errors: list[dict] | None = None) -> dict:
    return {"status": status, "code": code, "detail": detail, "errors": errors or []}


def _flatten(detail, field: str | None = None) -> list[dict]:
    """DRF's nested error detail -> a flat list of {field, code, message}; nested fields dotted."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "detail") else (f"{field}.{key}" if field else str(key))
            out.extend(_flatten(value, name if name is not None else field))
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                out.extend(_flatten(value, f"{field}.{index}" if field else str(index)))
            else:
                out.extend(_flatten(value, field))
        return out
    return [{"field": field, "code": getattr(detail, "code", "invalid"), "message": str(detail)}]


_SUMMARIES = {
    400: "The request has a problem: see errors for each field.",
    401: "You are not logged in, or your login has expired. Log in again.",
    403: "You do not have permission to do this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    406: "This response format is not available.",
    415: "Send the request body as JSON (Content-Type: application/json).",
    429: "Too many requests. Wait and try again.",
}


_KEY_COLUMNS = re.compile(r"Key \((?:lower\()?\"?([a-z_0-9]+)")


def _conflict_from_integrity_error(exc: IntegrityError) -> DomainError:
    """A constraint the database enforced (two requests at once both passed a service's own check):
    409 naming the column, taken from PostgreSQL's "Key (email)=(...) already exists." detail."""
    diag = getattr(exc.__cause__, "diag", None)
    match = _KEY_COLUMNS.search(getattr(diag, "message_detail", None) or "")
    field = match.group(1) if match else None
    return Conflict("This conflicts with a record that already exists (or was just created by another request). "
                    "Reload and try again.", field=field, code="unique" if match else "conflict")


def api_exception_handler(exc, context):
    if isinstance(exc, IntegrityError):
        exc = _conflict_from_integrity_error(exc)
    if isinstance(exc, DomainError):
        set_rollback()
        body = error_body(exc.status, exc.code, exc.detail, exc.errors())
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if not isinstance(exc, drf_exceptions.APIException):
        return None  # a real server error: let Django log it and answer 500
    set_rollback()
    status = exc.status_code
    errors = _flatten(exc.detail)
    if isinstance(exc, drf_exceptions.ValidationError):
        code, detail = "invalid", _SUMMARIES[400]
    else:
        code = errors[0]["code"] if errors else exc.default_code
        detail = errors[0]["message"] if errors else _SUMMARIES.get(status, "Request refused.")
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(int(exc.wait))
    return Response(error_body(status, code, detail, errors), status=status, headers=headers)


def json_error_response(status: int, code: str, detail: str) -> JsonResponse:
    """The same shape for answers made outside DRF (unknown API paths, lockouts, server errors)."""
    return JsonResponse(error_body(status, code, detail), status=status)


def one_visible(queryset, pk: int, *, noun: str, field: str):
    """The row `pk` of `queryset` (already narrowed to what the asker may see), or NotFound: a row
    the asker may not see answers exactly as one that does not exist, so ids reveal nothing."""
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No {noun} {pk} that you can see.", field=field)
    return found
