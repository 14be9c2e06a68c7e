"""The evaluation API, for evaluators only: the data dictionary, exports and the modality report.

Evaluators alone: they are the one role whose work this is and who never sees who anyone is.
Admins manage accounts and so see identities; giving them pseudonymised data too would let the
two be joined, and their work does not need it (least privilege, docs/evaluation.md).
"""

import tempfile

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import Role
from backend.accounts.permissions import roles
from backend.audit.actor import Actor
from backend.evaluation import serializers as s
from backend.evaluation import services
from backend.evaluation.dictionary import DATASETS, as_rows
from backend.core.serializers import parse_input, parse_query

EVALUATORS = roles(Role.EVALUATOR)


class DatasetListApi(APIView):
    """The datasets an export can hold, each with its data dictionary."""

    permission_classes = [EVALUATORS]

    @extend_schema(responses={200: s.DatasetOut(many=True)})
    def get(self, request):
        return Response(s.DatasetOut([
            {"code": d.code, "title": d.title, "unit": d.unit, "filters": sorted(d.filters), "columns": as_rows(d)}
            for d in DATASETS.values()
        ], many=True).data)


class ExportApi(APIView):
    """Make a pseudonymised, consent-filtered export: a zip of the data file and its dictionary.

    Fewer than 5 people matching answers 409 `too_few_people` and exports nothing. Every export, and
    every refusal, is in the audit trail with its filters, counts and file hashes.
    """

    throttle_scope = "exports"  # rates: REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (docs/deploy.md)

    permission_classes = [EVALUATORS]

    @extend_schema(request=s.ExportInput, responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip.")})
    def post(self, request):
        export = s.export_request_from(parse_input(s.ExportInput, request))
        into = tempfile.TemporaryFile()  # deleted when closed: FileResponse closes it after sending
        try:
            result = services.export_make(actor=Actor.from_request(request), request=export, into=into)
        except BaseException:
            into.close()
            raise
        into.seek(0)
        return FileResponse(into, as_attachment=True, filename=result.filename, content_type="application/zip")


class ReportApi(APIView):
    """The modality report, by modality and by team, with small numbers suppressed: courses, attended,
    did not attend and the did-not-attend rate; and, for courses of care that ended within the dates,
    recovery, reliable recovery, reliable improvement and reliable deterioration (NHS Talking Therapies
    numerators and denominators) with Wilson 95% intervals, and mean change per measure."""

    permission_classes = [EVALUATORS]

    @extend_schema(
        parameters=[s.ReportFiltersInput],
        responses={200: s.ReportOut},
    )
    def get(self, request):
        filters = s.filters_from(parse_query(s.ReportFiltersInput, request))
        report = services.report_make(actor=Actor.from_request(request), filters=filters, shown_as="api")
        return Response(s.ReportOut({
            "enough_people": report.enough_people, "unattributed": report.unattributed, "by_modality": report.by_modality,
            "by_team": [{"team": team, "rows": rows} for team, rows in report.by_team.items()],
            "measures": report.measures, "outcomes_by_modality": report.outcomes_by_modality,
            "outcomes_by_team": [{"team": team, "rows": rows} for team, rows in report.outcomes_by_team.items()],
        }).data)


class RoleSiteReportApi(APIView):
    """The report by practitioner role (clinician, peer worker, peer trainer) and site: sessions offered,
    attended and did not attend (one-to-one and group), and paired outcomes of courses of care that ended
    within the dates by the role that ran most of their sessions, with the modality report's suppression."""

    permission_classes = [EVALUATORS]

    @extend_schema(parameters=[s.ReportFiltersInput], responses={200: s.RoleSiteReportOut})
    def get(self, request):
        filters = s.filters_from(parse_query(s.ReportFiltersInput, request))
        report = services.role_site_report_make(actor=Actor.from_request(request), filters=filters, shown_as="api")
        return Response(s.RoleSiteReportOut(report).data)
