"""Response headers and a query-string guard that hold for every request (docs/deploy.md, "Headers").

- API answers carry `Cache-Control: no-store`: nearly all of them hold personal data, and no shared or
  browser cache should keep a copy (simplest to state for all of /api/ than to sort endpoints).
- Every answer carries a `Permissions-Policy` that denies camera, microphone and the rest; the pages
  that need camera and microphone (the session page with its waiting room and call, the connection
  test) say so with the `camera_and_microphone` decorator, which allows them for this origin only.
- A NUL byte in a query parameter's name or value is refused on the API with the Error shape naming
  the parameter (PostgreSQL text cannot hold one), whatever the view does with its parameters.
"""

from __future__ import annotations

from functools import wraps

from django.http import JsonResponse

from backend.core.errors import error_body

_DENIED = ("accelerometer", "autoplay", "bluetooth", "display-capture", "geolocation", "gyroscope", "hid", "magnetometer",
           "midi", "payment", "serial", "usb", "xr-spatial-tracking")
PERMISSIONS_POLICY_DENY = ", ".join(f"{feature}=()" for feature in ("camera", "microphone", *_DENIED))
PERMISSIONS_POLICY_MEDIA = ", ".join(["camera=(self)", "microphone=(self)", *(f"{feature}=()" for feature in _DENIED)])
_ALLOWS_MEDIA = "_rapport_allows_camera_and_microphone"


def camera_and_microphone(view):
    """Mark a page view as one that uses camera and microphone (allowed for this origin only)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        setattr(response, _ALLOWS_MEDIA, True)
        return response

    return wrapped


class BoundaryHeadersMiddleware:
    """Cache-Control on the API, Permissions-Policy everywhere, NUL bytes refused in API query strings."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        is_api = request.path.startswith("/api/")
        if is_api and _has_nul(request):
            response = _nul_refused(request)
        else:
            response = self.get_response(request)
        if is_api:
            response["Cache-Control"] = "no-store"
        allows_media = getattr(response, _ALLOWS_MEDIA, False)
        response["Permissions-Policy"] = PERMISSIONS_POLICY_MEDIA if allows_media else PERMISSIONS_POLICY_DENY
        return response


def _has_nul(request) -> bool:
    return any("\x00" in name or any("\x00" in v for v in values) for name, values in request.GET.lists())


def _nul_refused(request) -> JsonResponse:
    names = sorted({name.replace("\x00", "\\0") for name, values in request.GET.lists()
                    if "\x00" in name or any("\x00" in v for v in values)}) or [None]
    errors = [{"field": name, "code": "null_character", "message": "Null characters are not allowed."} for name in names]
    return JsonResponse(error_body(400, "invalid", "The request has a problem: see errors for each field.", errors), status=400)
