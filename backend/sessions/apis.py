"""Appointments API: thin views over sessions selectors and services."""

from django.conf import settings
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from backend.accounts import selectors as access
from backend.accounts.models import Role, User
from backend.accounts.permissions import ADMIN_ONLY, roles
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.errors import InvalidInput
from backend.core.pagination import CursorPaged
from backend.core.limits import EARLIEST_DATE, LATEST_DATE
from backend.core.serializers import parse_input as parse
from backend.core.serializers import parse_query
from backend.sessions import selectors, services
from backend.sessions import serializers as s
from backend.sessions.authentication import JoinGrantAuthentication
from backend.sessions.ice import ice_servers_for

PRACTITIONERS = roles(Role.CLINICIAN, Role.PEER_WORKER)
# Endpoints a person who opened a join link (without logging in) may use, for that session only.
WITH_JOIN_GRANT = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, JoinGrantAuthentication]
SEES_APPOINTMENTS = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, Role.CARER, Role.GUEST)


def _render(user, appointments, many=False):
    """Carers see only when appointments are; everyone else who may see one sees it whole."""
    serializer = s.AppointmentTimeOut if user.role in (Role.CARER, Role.GUEST) else s.AppointmentOut
    return serializer(appointments, many=many).data


# Carers get the narrower shape; the schema says a response is one or the other.
APPOINTMENT_OR_TIME = PolymorphicProxySerializer(
    component_name="AppointmentOrTime", serializers=[s.AppointmentOut, s.AppointmentTimeOut], resource_type_field_name=None
)
APPOINTMENTS_OR_TIMES = PolymorphicProxySerializer(
    component_name="AppointmentOrTime", serializers=[s.AppointmentOut, s.AppointmentTimeOut], resource_type_field_name=None, many=True
)


def _booking_parties(request, data: dict) -> dict:
    """The team, person and practitioner a booking names, each through the asker's access rules."""
    team = access.team_for(request.user, data.pop("team_id"))
    person = access.service_users_visible_to(request.user).filter(pk=data.pop("service_user_id")).first()
    if person is None:
        raise InvalidInput("No service user with this id on your caseloads.", field="service_user_id", code="does_not_exist")
    practitioner_id = data.pop("practitioner_id", None)
    practitioner = access.team_members(team).filter(user_id=practitioner_id).first() if practitioner_id else None
    if practitioner_id and practitioner is None:
        raise InvalidInput("No practitioner with this id in this team.", field="practitioner_id", code="does_not_exist")
    return {"team": team, "service_user": person, "practitioner": practitioner.user if practitioner else request.user}


class AppointmentListApi(CursorPaged, APIView):
    """Appointments you may see, soonest first (filter by dates, practitioner, team). Practitioners book
    them; a time overlapping the practitioner's or the person's other appointments answers 409 'clash'
    unless `confirm_clash` is true."""

    def get_permissions(self):
        return [PRACTITIONERS()] if self.request.method == "POST" else [SEES_APPOINTMENTS()]

    @extend_schema(parameters=[s.AppointmentListQuery], responses={200: APPOINTMENTS_OR_TIMES})
    def get(self, request):
        query = parse_query(s.AppointmentListQuery, request)
        appointments = selectors.appointments_visible_to(request.user)
        if "starts_from" in query or "starts_until" in query:
            appointments = selectors.appointments_between(
                request.user, query.get("starts_from") or EARLIEST_DATE, query.get("starts_until") or LATEST_DATE,
            )
        if "practitioner_id" in query:
            appointments = appointments.filter(practitioner_id=query["practitioner_id"])
        if "team_id" in query:
            appointments = appointments.filter(team_id=query["team_id"])
        page = self.page(appointments, ordering=("starts_at", "id"))
        audit_list(actor=Actor.from_request(request), object_type="telesessions.appointment", ids=[a.pk for a in page.items])
        return page.response(_render(request.user, page.items, many=True))

    @extend_schema(request=s.AppointmentBookInput, responses={201: s.AppointmentOut})
    def post(self, request):
        data = parse(s.AppointmentBookInput, request)
        appointment = services.appointment_book(actor=Actor.from_request(request), **_booking_parties(request, data), **data)
        return Response(s.AppointmentOut(appointment).data, status=status.HTTP_201_CREATED)


class AppointmentSeriesApi(APIView):
    """Book a weekly or fortnightly series (2 or more sessions, ending within a year): all or none."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.SeriesBookInput, responses={201: s.AppointmentOut(many=True)})
    def post(self, request):
        data = parse(s.SeriesBookInput, request)
        appointments = services.appointment_series_book(actor=Actor.from_request(request), **_booking_parties(request, data), **data)
        return Response(s.AppointmentOut(appointments, many=True).data, status=status.HTTP_201_CREATED)


class RescheduleApi(APIView):
    """The team moves an appointment that has not happened, saying why (the person sees it)."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.RescheduleInput, responses={200: s.AppointmentOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        moved = services.appointment_reschedule(actor=Actor.from_request(request), appointment=appointment, **parse(s.RescheduleInput, request))
        return _appointment_response(moved)


class RearrangeRequestCreateApi(APIView):
    """The person asks their team to rearrange an appointment, saying why; the team sees the request."""

    permission_classes = [roles(Role.SERVICE_USER)]

    @extend_schema(request=s.RearrangeRequestInput, responses={201: s.RearrangeRequestOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        made = services.appointment_rearrange_request(actor=Actor.from_request(request), appointment=appointment, **parse(s.RearrangeRequestInput, request))
        return Response(s.RearrangeRequestOut(made).data, status=status.HTTP_201_CREATED)


class RearrangeRequestListApi(CursorPaged, APIView):
    """Requests to rearrange appointments: a team's practitioners see their teams', a person their own."""

    permission_classes = [roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER)]

    @extend_schema(parameters=[s.RearrangeRequestQuery], responses={200: s.RearrangeRequestOut(many=True)})
    def get(self, request):
        query = parse_query(s.RearrangeRequestQuery, request)
        requests = selectors.rearrange_requests_visible_to(request.user)
        if "open" in query:
            requests = requests.filter(answered_at__isnull=query["open"])
        page = self.page(requests, ordering=("id",))
        audit_list(actor=Actor.from_request(request), object_type="telesessions.rearrangerequest", ids=[r.pk for r in page.items])
        return page.response(s.RearrangeRequestOut(page.items, many=True).data)


class AppointmentDetailApi(APIView):
    authentication_classes = WITH_JOIN_GRANT
    permission_classes = [SEES_APPOINTMENTS]

    @extend_schema(responses={200: APPOINTMENT_OR_TIME})
    def get(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=appointment)
        return Response(_render(request.user, appointment))


class AppointmentHistoryApi(CursorPaged, APIView):
    """Everything that happened to an appointment, oldest first."""

    permission_classes = [roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER)]

    @extend_schema(responses={200: s.AppointmentEventOut(many=True)})
    def get(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.LIST, obj=appointment, detail={"history": True})
        page = self.page(appointment.events.select_related("actor"), ordering=("id",))
        return page.response(s.AppointmentEventOut(page.items, many=True).data)


class AppointmentChoiceApi(APIView):
    """The service user chooses how to be seen, among what was offered, before the team's cut-off."""

    permission_classes = [roles(Role.SERVICE_USER)]

    @extend_schema(request=s.ChoiceInput, responses={200: s.AppointmentOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        appointment = services.appointment_choose(actor=Actor.from_request(request), appointment=appointment, **parse(s.ChoiceInput, request))
        return Response(s.AppointmentOut(appointment).data)


class AppointmentDeliveryApi(APIView):
    """After the session: how it was delivered, and why if not as chosen."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.DeliveryInput, responses={200: s.AppointmentOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        appointment = services.appointment_record_delivery(
            actor=Actor.from_request(request), appointment=appointment, **parse(s.DeliveryInput, request)
        )
        return Response(s.AppointmentOut(appointment).data)


class TeamSessionSettingsApi(APIView):
    """A team's session settings: the cut-off for choosing a modality, whether a safety check is required."""

    def get_permissions(self):
        return [ADMIN_ONLY()] if self.request.method == "PATCH" else [roles(Role.CLINICIAN, Role.PEER_WORKER, Role.ADMIN)()]

    @extend_schema(responses={200: s.TeamSessionSettingsOut})
    def get(self, request, team_id: int):
        return Response(s.TeamSessionSettingsOut(selectors.team_settings(access.team_for(request.user, team_id))).data)

    @extend_schema(request=s.TeamSessionSettingsInput, responses={200: s.TeamSessionSettingsOut})
    def patch(self, request, team_id: int):
        team = access.team_for(request.user, team_id)
        row = services.team_settings_update(actor=Actor.from_request(request), team=team, **parse(s.TeamSessionSettingsInput, request, partial=True))
        return Response(s.TeamSessionSettingsOut(row).data)


# --- Running a session ----------------------------------------------------------------------------
SESSION_PEOPLE = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, Role.CARER, Role.GUEST)


def _appointment_response(appointment, code=status.HTTP_200_OK):
    return Response(s.AppointmentOut(appointment).data, status=code)


class SafetyCheckApi(CursorPaged, APIView):
    """The safety and privacy check the clinician records before a remote session (append-only)."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(responses={200: s.SafetyCheckOut(many=True)})
    def get(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        page = self.page(appointment.safety_checks.select_related("recorded_by"), ordering=("id",))
        audit_list(actor=Actor.from_request(request), object_type="telesessions.safetycheck", ids=[c.pk for c in page.items])
        return page.response(s.SafetyCheckOut(page.items, many=True).data)

    @extend_schema(request=s.SafetyCheckInput, responses={201: s.SafetyCheckOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.RUN).appointment
        check = services.safety_check_record(actor=Actor.from_request(request), appointment=appointment, **parse(s.SafetyCheckInput, request))
        return Response(s.SafetyCheckOut(check).data, status=status.HTTP_201_CREATED)


class WaitingRoomApi(APIView):
    """The service user (or an invited carer, or a guest the clinician added) enters the waiting room."""

    authentication_classes = WITH_JOIN_GRANT
    permission_classes = [roles(Role.SERVICE_USER, Role.CARER, Role.GUEST)]

    @extend_schema(request=None, responses={200: s.ParticipantOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.JOIN).appointment
        participant = services.waiting_room_enter(actor=Actor.from_request(request), appointment=appointment)
        return Response(s.ParticipantOut(participant).data)


class SessionStartApi(APIView):
    """Start the session (consent and, for remote sessions, the safety check must be in place)."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.StartInput, responses={200: s.AppointmentOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.RUN).appointment
        return _appointment_response(services.session_start(actor=Actor.from_request(request), appointment=appointment, **parse(s.StartInput, request)))


class AdmitApi(APIView):
    """Admit people from the waiting room (everyone, or those named); starts the session if needed."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.AdmitInput, responses={200: s.ParticipantOut(many=True)})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.RUN).appointment
        data = parse(s.AdmitInput, request)
        actor = Actor.from_request(request)
        if "modality" in data and appointment.status != appointment.Status.IN_PROGRESS:
            appointment = services.session_start(actor=actor, appointment=appointment, modality=data["modality"])
        admitted = services.participants_admit(actor=actor, appointment=appointment, user_ids=data.get("user_ids"))
        return Response(s.ParticipantOut(admitted, many=True).data)


class ParticipantListApi(APIView):
    """Who is in the session and where (waiting, admitted, on hold, left)."""

    permission_classes = [roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER)]

    @extend_schema(responses={200: s.ParticipantOut(many=True)})
    def get(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        return Response(s.ParticipantOut(selectors.participants_of(appointment), many=True).data)


class ParticipantMoveApi(APIView):
    """Put a participant on hold or back in the waiting room (for a private word)."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.MoveInput, responses={200: s.ParticipantOut})
    def post(self, request, appointment_id: int, user_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.RUN).appointment
        person = User.objects.filter(pk=user_id).first()
        if person is None:
            raise InvalidInput("No such person.", field="user_id", code="does_not_exist")
        participant = services.participant_move(actor=Actor.from_request(request), appointment=appointment, user=person, **parse(s.MoveInput, request))
        return Response(s.ParticipantOut(participant).data)


class ParticipantRemoveApi(APIView):
    """Take an invited carer or a guest out of the session (the person, or the host), or a carer steps
    back themselves: they lose its waiting room and call at once."""

    authentication_classes = WITH_JOIN_GRANT
    permission_classes = [roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, Role.CARER)]

    @extend_schema(request=None, responses={200: s.ParticipantOut})
    def post(self, request, appointment_id: int, user_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.JOIN).appointment
        person = User.objects.filter(pk=user_id).first()
        if person is None:
            raise InvalidInput("No such person.", field="user_id", code="does_not_exist")
        participant = services.participant_remove(actor=Actor.from_request(request), appointment=appointment, user=person)
        return Response(s.ParticipantOut(participant).data)


class InviteApi(APIView):
    """The service user, or a clinician of the team running the session, invites a carer the person
    involves (the person's consent to involving that carer is required either way)."""

    authentication_classes = WITH_JOIN_GRANT
    permission_classes = [roles(Role.SERVICE_USER, Role.CLINICIAN, Role.PEER_WORKER)]

    @extend_schema(request=s.InviteInput, responses={201: s.ParticipantOut})
    def post(self, request, appointment_id: int):
        need = selectors.JOIN if request.user.role == Role.SERVICE_USER else selectors.RUN
        appointment = selectors.session_access_for(request.user, appointment_id, need).appointment
        carer = User.objects.filter(pk=parse(s.InviteInput, request)["carer_id"], role=Role.CARER).first()
        if carer is None:
            raise InvalidInput("No carer with this id.", field="carer_id", code="does_not_exist")
        participant = services.carer_invite(actor=Actor.from_request(request), appointment=appointment, carer=carer)
        return Response(s.ParticipantOut(participant).data, status=status.HTTP_201_CREATED)


class GuestApi(APIView):
    """The clinician running the session adds a guest (interpreter with the language, advocate,
    colleague, other) and gets their one-session join link."""

    permission_classes = [PRACTITIONERS]
    throttle_scope = "join_links"

    @extend_schema(request=s.GuestInput, responses={201: s.GuestOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.RUN).appointment
        data = parse(s.GuestInput, request)
        actor = Actor.from_request(request)
        participant = services.guest_add(actor=actor, appointment=appointment, name=data["name"], guest_role=data["guest_role"], language=data["language"])
        link = services.join_link_make(actor=actor, appointment=appointment, user=participant.user, absolute_url=request.build_absolute_uri)
        return Response({"participant": s.ParticipantOut(participant).data, "url": link.url, "expires_at": link.expires_at,
                         "message": link.message}, status=status.HTTP_201_CREATED)


class MessageApi(APIView):
    """A one-way message from the clinician running the session to everyone in its waiting room."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.MessageInput, responses={201: s.AppointmentEventOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.RUN).appointment
        event = services.waiting_room_message(actor=Actor.from_request(request), appointment=appointment, **parse(s.MessageInput, request))
        return Response(s.AppointmentEventOut(event).data, status=status.HTTP_201_CREATED)


class WaitingAreaApi(CursorPaged, APIView):
    """The team waiting area: everyone waiting or on hold today for a session of your teams, longest
    wait first. Every entry is one you may admit (appointment-admit), hold (participant-move) or
    message (appointment-messages)."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(responses={200: s.WaitingEntryOut(many=True)})
    def get(self, request):
        page = self.page(selectors.team_waiting_area_for(request.user), ordering=("updated_at", "id"))
        audit_list(actor=Actor.from_request(request), object_type="telesessions.participant", ids=[p.pk for p in page.items],
                   detail={"page": "waiting-area"})
        return page.response(s.WaitingEntryOut(page.items, many=True).data)


class SessionEndApi(APIView):
    permission_classes = [PRACTITIONERS]

    @extend_schema(request=None, responses={200: s.AppointmentOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.RUN).appointment
        return _appointment_response(services.session_end(actor=Actor.from_request(request), appointment=appointment))


class CancelApi(APIView):
    permission_classes = [roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER)]

    @extend_schema(request=s.CancelInput, responses={200: s.AppointmentOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        return _appointment_response(services.session_cancel(actor=Actor.from_request(request), appointment=appointment, **parse(s.CancelInput, request)))


class DidNotAttendApi(APIView):
    permission_classes = [PRACTITIONERS]

    @extend_schema(request=None, responses={200: s.AppointmentOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        return _appointment_response(services.session_mark_did_not_attend(actor=Actor.from_request(request), appointment=appointment))


class SwitchApi(APIView):
    """Move the session to phone or audio only (or back to video) when the connection fails."""

    authentication_classes = WITH_JOIN_GRANT
    permission_classes = [SESSION_PEOPLE]

    @extend_schema(request=s.SwitchInput, responses={200: s.AppointmentOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.JOIN).appointment
        appointment = services.modality_switch(actor=Actor.from_request(request), appointment=appointment, **parse(s.SwitchInput, request))
        return Response(_render(request.user, appointment))


class IceServersApi(APIView):
    """STUN and TURN servers for this session's call, with time-limited TURN credentials."""

    authentication_classes = WITH_JOIN_GRANT
    permission_classes = [SESSION_PEOPLE]

    @extend_schema(responses={200: s.IceServersOut})
    def get(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.JOIN).appointment
        servers = ice_servers_for(f"{appointment.pk}-u{request.user.pk}")
        return Response({"ice_servers": servers, "ttl_seconds": settings.TURN_TTL_SECONDS})


class JoinLinkApi(APIView):
    """Signed links for the service user and invited carers to join this session, e.g. by text message."""

    permission_classes = [PRACTITIONERS]
    throttle_scope = "join_links"

    @extend_schema(request=s.JoinLinkInput, responses={201: s.JoinLinkOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        person = User.objects.filter(pk=parse(s.JoinLinkInput, request)["user_id"]).first()
        if person is None:
            raise InvalidInput("No such person.", field="user_id", code="does_not_exist")
        link = services.join_link_make(actor=Actor.from_request(request), appointment=appointment, user=person,
                                       absolute_url=request.build_absolute_uri)
        return Response({"url": link.url, "expires_at": link.expires_at, "message": link.message}, status=status.HTTP_201_CREATED)


class PhoneCallListApi(CursorPaged, APIView):
    """Phone calls made for this session. The host records a call's start here."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(responses={200: s.PhoneCallOut(many=True)})
    def get(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        page = self.page(appointment.phone_calls.select_related("caller", "callee"), ordering=("id",))
        audit_list(actor=Actor.from_request(request), object_type="telesessions.phonecall", ids=[c.pk for c in page.items])
        return page.response(s.PhoneCallOut(page.items, many=True).data)

    @extend_schema(request=s.PhoneCallInput, responses={201: s.PhoneCallOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.RUN).appointment
        data = parse(s.PhoneCallInput, request)
        callee = None
        if "callee_id" in data:
            callee = selectors.participants_of(appointment).filter(user_id=data["callee_id"]).first()
            if callee is None:
                raise InvalidInput("Call someone taking part in this session.", field="callee_id", code="not_a_participant")
            callee = callee.user
        call = services.phone_call_start(actor=Actor.from_request(request), appointment=appointment, number=data["number"], callee=callee)
        return Response(s.PhoneCallOut(call).data, status=status.HTTP_201_CREATED)


class PhoneCallEndApi(APIView):
    permission_classes = [PRACTITIONERS]

    @extend_schema(request=None, responses={200: s.PhoneCallOut})
    def post(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.RUN).appointment
        return Response(s.PhoneCallOut(services.phone_call_end(actor=Actor.from_request(request), appointment=appointment)).data)


class TelemetryApi(APIView):
    """A participant's browser reports connection statistics and ICE state changes (batches of up to 100)."""

    authentication_classes = WITH_JOIN_GRANT
    throttle_scope = "telemetry"
    permission_classes = [SESSION_PEOPLE]

    @extend_schema(request=s.TelemetryInput, responses={201: s.TelemetryOut})
    def post(self, request, appointment_id: int):
        participant = selectors.participant_in(request.user, appointment_id)
        data = parse(s.TelemetryInput, request)
        stored = services.telemetry_record(participant=participant, samples=data["samples"], ice_states=data["ice_states"])
        return Response({"stored": stored}, status=status.HTTP_201_CREATED)


class ConnectionSummaryApi(APIView):
    """How well the session's connections worked: median round trip, loss, jitter, bitrate, time to connect, reconnects."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(responses={200: s.ConnectionSummaryOut})
    def get(self, request, appointment_id: int):
        appointment = selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        return Response(selectors.connection_summary(appointment))


class CourseListApi(CursorPaged, APIView):
    """Courses of care you may see. A team's practitioner opens one for someone on its caseload."""

    def get_permissions(self):
        return [PRACTITIONERS()] if self.request.method == "POST" else [roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER)()]

    @extend_schema(responses={200: s.CourseOut(many=True)})
    def get(self, request):
        page = self.page(selectors.courses_visible_to(request.user).prefetch_related("appointments"), ordering=("id",))
        audit_list(actor=Actor.from_request(request), object_type="telesessions.courseofcare", ids=[c.pk for c in page.items])
        return page.response(s.CourseOut(page.items, many=True).data)

    @extend_schema(request=s.CourseOpenInput, responses={201: s.CourseOut})
    def post(self, request):
        data = parse(s.CourseOpenInput, request)
        team = access.team_for(request.user, data.pop("team_id"))
        person = access.service_user_for(request.user, data.pop("service_user_id"))
        course = services.course_open(actor=Actor.from_request(request), service_user=person, team=team, **data)
        return Response(s.CourseOut(course).data, status=status.HTTP_201_CREATED)


class CourseDetailApi(APIView):
    permission_classes = [roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER)]

    @extend_schema(responses={200: s.CourseOut})
    def get(self, request, course_id: int):
        course = selectors.course_for(request.user, course_id)
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=course)
        return Response(s.CourseOut(course).data)


class CourseEndApi(APIView):
    """End a course of care, saying why. An ended course takes no more questionnaires."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.CourseEndInput, responses={200: s.CourseOut})
    def post(self, request, course_id: int):
        course = selectors.course_for(request.user, course_id)
        course = services.course_end(actor=Actor.from_request(request), course=course, **parse(s.CourseEndInput, request))
        return Response(s.CourseOut(course).data)


class PlannedLastApi(APIView):
    """Mark this appointment as the course's planned last session (measures due 'at the last' fall here)."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=None, responses={200: s.AppointmentOut})
    def post(self, request, appointment_id: int):
        appointment = services.appointment_plan_last(
            actor=Actor.from_request(request), appointment=selectors.session_access_for(request.user, appointment_id, selectors.SEE).appointment
        )
        return _appointment_response(appointment)
