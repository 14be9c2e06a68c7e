"""Outcome measures API: thin views over outcomes selectors and services."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts import selectors as access
from backend.accounts.models import Role
from backend.accounts.permissions import ADMIN_ONLY, roles
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.errors import NotFound, one_visible
from backend.core.pagination import CursorPaged
from backend.core.serializers import parse_input as parse
from backend.core.serializers import parse_query
from backend.outcomes import imports, reports, selectors, services
from backend.outcomes import serializers as s
from backend.outcomes.models import MeasureSchedule
from backend.sessions import selectors as session_selectors
from backend.sessions.apis import WITH_JOIN_GRANT

PRACTITIONERS = roles(Role.CLINICIAN, Role.PEER_WORKER)
ANSWERERS = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER)
SCORE_READERS = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, Role.CARER)
CLINICIANS = roles(Role.CLINICIAN)


class InstrumentListApi(CursorPaged, APIView):
    """Every questionnaire with its items, answers, bands and published sources. Admins add local ones."""

    def get_permissions(self):
        return [ADMIN_ONLY()] if self.request.method == "POST" else super().get_permissions()

    @extend_schema(parameters=[s.InstrumentListQuery], responses={200: s.InstrumentOut(many=True)})
    def get(self, request):
        instruments = selectors.instruments_with_parts()
        if not parse_query(s.InstrumentListQuery, request)["include_retired"]:
            instruments = instruments.filter(is_active=True)
        page = self.page(instruments, ordering=("id",))
        return page.response(s.InstrumentOut(page.items, many=True).data)

    @extend_schema(request=s.InstrumentCreateInput, responses={201: s.InstrumentOut})
    def post(self, request):
        data = parse(s.InstrumentCreateInput, request)
        # Only the admin's own organisation: another one answers as an unknown id.
        organisation = access.organisations_visible_to(request.user).filter(pk=data.pop("organisation_id")).first()
        if organisation is None:
            raise NotFound("No such organisation.", field="organisation_id")
        instrument = services.instrument_create(actor=Actor.from_request(request), organisation=organisation, **data)
        return Response(s.InstrumentOut(selectors.instrument_by_code(instrument.code)).data, status=status.HTTP_201_CREATED)


class InstrumentDetailApi(APIView):
    @extend_schema(responses={200: s.InstrumentOut})
    def get(self, request, code: str):
        return Response(s.InstrumentOut(selectors.instrument_by_code(code, active_only=False)).data)


class InstrumentRetireApi(APIView):
    """Stop giving a questionnaire (its schedules end; its responses stay)."""

    permission_classes = [ADMIN_ONLY]

    @extend_schema(request=None, responses={200: s.InstrumentOut})
    def post(self, request, code: str):
        instrument = selectors.instrument_by_code(code)
        if instrument.organisation_id not in (None, request.user.organisation_id):
            raise NotFound(f"No questionnaire '{code}'.", field="instrument")  # another organisation's local one
        instrument = services.instrument_retire(actor=Actor.from_request(request), instrument=instrument)
        return Response(s.InstrumentOut(selectors.instrument_by_code(instrument.code, active_only=False)).data)


class ScheduleListApi(CursorPaged, APIView):
    """Which questionnaires a team asks for, and when. Admins set them."""

    def get_permissions(self):
        return [ADMIN_ONLY()] if self.request.method == "POST" else [roles(Role.CLINICIAN, Role.PEER_WORKER, Role.ADMIN)()]

    @extend_schema(responses={200: s.ScheduleOut(many=True)})
    def get(self, request, team_id: int):
        team = access.team_for_caseload(request.user, team_id)
        page = self.page(team.measure_schedules.select_related("instrument"), ordering=("id",))
        return page.response(s.ScheduleOut(page.items, many=True).data)

    @extend_schema(request=s.ScheduleInput, responses={201: s.ScheduleOut})
    def post(self, request, team_id: int):
        team = access.team_for(request.user, team_id)
        data = parse(s.ScheduleInput, request)
        schedule = services.schedule_set(
            actor=Actor.from_request(request), team=team, instrument=selectors.instrument_by_code(data["instrument"]), when=data["when"]
        )
        return Response(s.ScheduleOut(schedule).data, status=status.HTTP_201_CREATED)


class ScheduleDetailApi(APIView):
    permission_classes = [ADMIN_ONLY]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, team_id: int, schedule_id: int):
        team = access.team_for(request.user, team_id)  # the admin's own organisation's teams only
        schedule = MeasureSchedule.objects.filter(team=team, pk=schedule_id).select_related("instrument").first()
        if schedule is None:
            raise NotFound(f"No schedule {schedule_id} for team {team_id}.", field="schedule_id")
        services.schedule_remove(actor=Actor.from_request(request), schedule=schedule)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DueApi(APIView):
    """The questionnaires due at an appointment and not yet answered (for the waiting room)."""

    authentication_classes = WITH_JOIN_GRANT
    permission_classes = [ANSWERERS]

    @extend_schema(responses={200: s.DueOut(many=True)})
    def get(self, request, appointment_id: int):
        appointment = session_selectors.appointment_for(request.user, appointment_id)
        return Response(s.DueOut(selectors.due_instruments(appointment), many=True).data)


class ResponseListApi(CursorPaged, APIView):
    """Questionnaire responses you may see; POST records one (send an Idempotency-Key header)."""

    authentication_classes = WITH_JOIN_GRANT

    @property
    def throttle_scope(self) -> str | None:
        return "responses" if self.request.method == "POST" else None  # submissions only; reading is not limited

    def get_permissions(self):
        return [ANSWERERS()] if self.request.method == "POST" else [SCORE_READERS()]

    @extend_schema(parameters=[s.ResponseListQuery], responses={200: s.ResponseOut(many=True)})
    def get(self, request):
        query = parse_query(s.ResponseListQuery, request)
        responses = selectors.responses_visible_to(request.user).select_related("replaced_by")
        if "service_user_id" in query:
            responses = responses.filter(service_user_id=query["service_user_id"])
        if "instrument" in query:
            responses = responses.filter(instrument__code=query["instrument"])
        page = self.page(responses, ordering=("completed_at", "id"))
        audit_list(actor=Actor.from_request(request), object_type="outcomes.response", ids=[r.pk for r in page.items])
        return page.response(s.ResponseOut(page.items, many=True).data)

    @extend_schema(
        request=s.ResponseInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True,
                                     description="A unique key per submission; a retry with the same key is not stored twice.")],
        responses={201: s.ResponseOut, 200: s.ResponseOut},
    )
    def post(self, request):
        data = parse(s.ResponseInput, request)
        submission = _submission(request, data)
        replaces = selectors.response_for(request.user, data["replaces"]) if data["replaces"] else None
        response, created = services.response_submit(
            actor=Actor.from_request(request), submission=submission,
            idempotency_key=request.headers.get("Idempotency-Key", ""), accept_incomplete=data["accept_incomplete"],
            replaces=replaces, replacement_reason=data["replacement_reason"],
        )
        return Response(_RESPONSE_OUT.to_representation(response), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# One ResponseOut for every submission's answer: a ModelSerializer works out its fields from the model
# each time one is made (a millisecond and a half, a twentieth of a submission); once made, it turns any
# number of responses into the same JSON. It holds no per-response state and uses no request context.
_RESPONSE_OUT = s.ResponseOut()


def _submission(request, data) -> services.Submission:
    """Resolve the ids in a response body to what the caller may see (one query, usually)."""
    instrument = selectors.instrument_definition(data["instrument"])  # this process's copy; no query once loaded
    target = selectors.submission_target(request.user, service_user_id=data["service_user_id"], course_id=data["course_id"],
                                         appointment_id=data["appointment_id"], instrument=instrument)
    if not target.instrument_active:
        instrument = selectors.active_instrument(data["instrument"])  # retired since (NotFound), or not asked
    return services.Submission(
        instrument=instrument, service_user=target.service_user,
        course=services.resolve_course(target.service_user, target.course, target.appointment),
        appointment=target.appointment, mode=data["mode"], answers=data["answers"],
        completed_at=services.answered_at(appointment=target.appointment, mode=data["mode"], stated=data["completed_at"]),
    )


class ResponseDetailApi(APIView):
    permission_classes = [SCORE_READERS]

    @extend_schema(responses={200: s.ResponseDetailOut})
    def get(self, request, response_id: int):
        response = selectors.response_for(request.user, response_id)
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=response)
        return Response(s.ResponseDetailOut(selectors.response_with_answers(response)).data)


class TrajectoryApi(APIView):
    """A person's scores over time, one series per questionnaire, each point marked with the modality."""

    permission_classes = [SCORE_READERS]

    @extend_schema(responses={200: s.TrajectoryOut(many=True)})
    def get(self, request, service_user_id: int):
        person = one_visible(selectors.service_users_whose_scores_are_visible_to(request.user), service_user_id,
                             noun="service user", field="service_user_id")
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, object_type="outcomes.trajectory", object_id=person.pk)
        return Response(s.TrajectoryOut(reports.trajectories(person), many=True).data)


class PairedOutcomeApi(APIView):
    """A course of care's paired outcomes (NHS Talking Therapies definitions)."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(responses={200: s.PairedOutcomeOut})
    def get(self, request, course_id: int):
        course = session_selectors.course_for(request.user, course_id)
        return Response(s.PairedOutcomeOut(reports.course_paired_outcomes([course.pk])[course.pk]).data)


class RiskFlagListApi(CursorPaged, APIView):
    """Risk flags for the people on your teams' caseloads, newest first (clinicians only)."""

    permission_classes = [CLINICIANS]

    @extend_schema(parameters=[s.RiskFlagListQuery], responses={200: s.RiskFlagOut(many=True)})
    def get(self, request):
        which = parse_query(s.RiskFlagListQuery, request)["status"]
        flags = selectors.open_risk_flags_visible_to(request.user) if which == "open" else selectors.risk_flags_visible_to(request.user)
        page = self.page(flags, ordering=("-id",))
        audit_list(actor=Actor.from_request(request), object_type="outcomes.riskflag", ids=[f.pk for f in page.items])
        return page.response(s.RiskFlagOut(page.items, many=True).data)


class RiskFlagAcknowledgeApi(APIView):
    permission_classes = [CLINICIANS]

    @extend_schema(request=s.AcknowledgeInput, responses={200: s.RiskFlagOut})
    def post(self, request, flag_id: int):
        flag = selectors.risk_flag_for(request.user, flag_id)
        services.risk_flag_acknowledge(actor=Actor.from_request(request), flag=flag, **parse(s.AcknowledgeInput, request))
        return Response(s.RiskFlagOut(selectors.risk_flag_for(request.user, flag_id)).data)


class ImportApi(APIView):
    """Import historic records from a CSV (docs/import.md): every row is checked first, then all are
    imported or none. Importing the same file again changes nothing."""

    permission_classes = [ADMIN_ONLY]
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": s.ImportInput}, responses={200: s.ImportResultOut, 201: s.ImportResultOut})
    def post(self, request):
        data = parse(s.ImportInput, request)
        team = access.team_for(request.user, data["team_id"])
        text = imports.decode(data["file"].read())
        result = imports.import_csv(actor=Actor.from_request(request), team=team, text=text, dry_run=data["dry_run"])
        created = not result.dry_run and (result.rows > result.unchanged or result.consents_recorded > 0)
        return Response(s.ImportResultOut(result).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CaseloadDashboardApi(CursorPaged, APIView):
    """The caseload dashboard: per person on your teams' caseloads, the next appointment, latest PHQ-9
    and GAD-7 with band and change since the course began, open risk flags (clinicians) and
    questionnaires outstanding. In name order; the page sorts and filters further."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(parameters=[s.CaseloadDashboardQuery], responses={200: s.CaseloadDashboardRowOut(many=True)})
    def get(self, request):
        query = parse_query(s.CaseloadDashboardQuery, request)
        people = access.service_users_with_teams(request.user)
        if "team_id" in query:
            people = people.filter(caseload_entries__team=access.team_for(request.user, query["team_id"]))
        if query["open_flags"]:
            people = people.filter(pk__in=selectors.open_risk_flags_visible_to(request.user).values("service_user_id"))
        page = self.page(people, ordering=("full_name", "id"))
        rows = selectors.caseload_dashboard_rows(request.user, page.items)
        audit_list(actor=Actor.from_request(request), object_type="accounts.user", ids=[row.person.pk for row in rows],
                   detail={"page": "caseload-dashboard"})
        return page.response(s.CaseloadDashboardRowOut(rows, many=True).data)
