"""The evaluators' report page, its downloads, and exports from the page.

Thin: parse the form, call one service, render. Evaluators only (see apis.py for why).
"""

from __future__ import annotations

import io
import tempfile

import pandas as pd
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.consent.views import page_for
from backend.core.errors import DomainError
from backend.evaluation import services
from backend.evaluation.forms import ExportForm, ReportFilterForm
from backend.evaluation.report import report_table
from backend.evaluation.statistics import SUPPRESS_BELOW

EVALUATORS_ONLY = page_for(Role.EVALUATOR, who="evaluators")
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _report(request, form: ReportFilterForm, shown_as: str):
    """The report for a valid filter form, or None with the problem added to the form."""
    if not form.is_valid():
        return None
    try:
        return services.report_make(actor=Actor.from_request(request), filters=form.filters(), shown_as=shown_as)
    except DomainError as error:
        name = (error.field or "").removeprefix("filters.")
        form.add_error(name if name in form.fields else None, error.detail)
        return None


@EVALUATORS_ONLY
@require_http_methods(["GET", "HEAD"])
def report_page(request):
    form = ReportFilterForm(request.GET, organisation=request.user.organisation_id)
    report = _report(request, form, "page")
    context = {"form": form, "report": report, "threshold": SUPPRESS_BELOW, "query": request.GET.urlencode()}
    if report is not None and report.enough_people:
        # matplotlib loads when a report is first drawn, not in every worker as the URLs are imported.
        from backend.evaluation import charts

        context["dna_chart"] = charts.dna_rate_chart(report.by_modality, "Did not attend, by modality, with 95% intervals")
        context["team_chart"] = charts.attended_by_team_chart(report)
        context["outcome_chart"] = charts.outcome_rates_chart(report.outcomes_by_modality)
        context["roles"] = services.role_site_report_make(actor=Actor.from_request(request), filters=form.filters(), shown_as="page")
        context["export_form"] = ExportForm(initial={**form.cleaned_data}, organisation=request.user.organisation_id)
    return render(request, "evaluation/report.html", context)


@EVALUATORS_ONLY
@require_http_methods(["GET", "HEAD"])
def report_download(request, fmt: str):
    if fmt not in DOWNLOADS:
        raise Http404
    form = ReportFilterForm(request.GET, organisation=request.user.organisation_id)
    report = _report(request, form, fmt)
    if report is None or not report.enough_people:
        messages.error(request, "There is nothing to download for these filters: " + (
            "check the filters below." if report is None else f"fewer than {SUPPRESS_BELOW} people match."))
        return redirect(f"{reverse('evaluation-report-page')}?{request.GET.urlencode()}")
    table = pd.DataFrame(report_table(report))
    if fmt == "csv":
        body = table.to_csv(index=False).encode()
    else:
        buffer = io.BytesIO()
        table.to_excel(buffer, index=False, sheet_name="report")
        body = buffer.getvalue()
    response = HttpResponse(body, content_type=DOWNLOADS[fmt])
    response["Content-Disposition"] = f'attachment; filename="rapport-report-{timezone.localdate():%Y%m%d}.{fmt}"'
    return response


@EVALUATORS_ONLY
@require_POST
def export_download(request):
    form = ExportForm(request.POST, organisation=request.user.organisation_id)
    if not form.is_valid():
        messages.error(request, "Choose a dataset, a format and how dates are shown, then try again.")
        return redirect("evaluation-report-page")
    into = tempfile.TemporaryFile()
    try:
        result = services.export_make(actor=Actor.from_request(request), request=form.export_request(), into=into)
    except DomainError as error:
        into.close()
        messages.error(request, error.detail)
        return redirect("evaluation-report-page")
    into.seek(0)
    return FileResponse(into, as_attachment=True, filename=result.filename, content_type="application/zip")
