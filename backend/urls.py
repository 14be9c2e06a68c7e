"""The URL map. backend/ is the only place that knows every app."""

from csp.decorators import csp_update
from django.shortcuts import render
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from backend.core.errors import json_error_response

api_v1 = [
    path("", include("backend.accounts.urls")),
    path("", include("backend.consent.urls")),
    path("", include("backend.sessions.urls")),
    path("", include("backend.outcomes.urls")),
    path("", include("backend.evaluation.urls")),
]

# The API docs page is drf-spectacular's Swagger UI template, which carries one small inline <style>
# block (box-sizing and background). The global CSP allows no inline styles, so this view alone also
# allows that one block, by its hash: nothing else inline, and only on /api/docs/. The hash is of
# drf-spectacular 0.30.0's template (requirements.txt); if an upgrade changes the block, the browser
# test tests/browser/test_pages.py::test_api_docs_render_swagger_ui_within_the_csp fails and
# Chromium's console message names the new hash.
SWAGGER_UI_CSP = {"style-src": ["'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"]}

urlpatterns = [
    path("", include("backend.accounts.urls_web")),
    path("", include("backend.consent.urls_web")),
    path("", include("backend.sessions.urls_web")),
    path("", include("backend.outcomes.urls_web")),
    path("", include("backend.evaluation.urls_web")),
    path("", include("backend.administration.urls_web")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", csp_update(SWAGGER_UI_CSP)(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
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
