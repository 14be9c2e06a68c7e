"""The URL map. backend/ is the only place that knows every app."""

from django.shortcuts import render
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from backend.core.errors import json_error_response

api_v1 = [
    path("", include("backend.accounts.urls")),
    path("", include("backend.consent.urls")),
    path("", include("backend.sessions.urls")),
    path("", include("backend.groups.urls")),
    path("", include("backend.outcomes.urls")),
    path("", include("backend.network.urls")),
    path("", include("backend.messaging.urls")),
    path("", include("backend.relatives.urls")),
    path("", include("backend.college.urls")),
    path("", include("backend.peerwork.urls")),
    path("", include("backend.evaluation.urls")),
]

urlpatterns = [
    # The API first: every API request is resolved without trying the hundred-odd page routes before it
    # (no page route starts with api/).
    path("api/v1/", include(api_v1)),
    path("", include("backend.accounts.urls_web")),
    path("", include("backend.consent.urls_web")),
    path("", include("backend.sessions.urls_web")),
    path("groups/", include("backend.groups.urls_web")),
    path("", include("backend.outcomes.urls_web")),
    path("", include("backend.network.urls_web")),
    path("", include("backend.messaging.urls_web")),
    path("", include("backend.relatives.urls_web")),
    path("", include("backend.college.urls_web")),
    path("", include("backend.peerwork.urls_web")),
    path("", include("backend.evaluation.urls_web")),
    path("", include("backend.administration.urls_web")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from drf-spectacular's sidecar in a page of our own (templates/api/docs.html): no inline
    # style or script, so the strict CSP applies unchanged, and colours and targets fixed for WCAG 2.2 AA.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/docs.html"), name="api-docs"),
]


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error_response(404, "not_found", f"There is no API endpoint at {request.path}. See /api/docs/.")
    return render(request, "404.html", status=404)


def server_error(request):
    if request.path.startswith("/api/"):
        return json_error_response(500, "server_error", "Something went wrong on our side. Try again shortly.")
    return render(request, "500.html", status=500)


handler404 = not_found
handler500 = server_error
