"""Peer work's API (/api/v1/peer-work/...): thin views over selectors and services. Every list is
paged and audited for the rows shown; every read of one record is audited."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import Role
from backend.accounts.permissions import ADMIN_ONLY, roles
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.pagination import CursorPaged
from backend.core.serializers import parse_input, parse_query

from . import selectors, services
from . import serializers as s

SUPERVISION_USERS = roles(Role.CLINICIAN, Role.PEER_WORKER)
RATERS = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER)


class SupervisionListApi(CursorPaged, APIView):
    """The supervision log: entries where you are the supervisor or the peer worker, newest first. POST:
    a supervisor records a supervision of a peer worker of their organisation."""

    permission_classes = [SUPERVISION_USERS]

    @extend_schema(parameters=[s.SupervisionListQuery], responses={200: s.SupervisionOut(many=True)})
    def get(self, request):
        query = parse_query(s.SupervisionListQuery, request)
        entries = selectors.supervision_entries_visible_to(request.user)
        if query.get("as_role") == "supervisor":
            entries = entries.filter(supervisor=request.user)
        elif query.get("as_role") == "peer_worker":
            entries = entries.filter(peer_worker=request.user)
        page = self.page(entries, ordering=("-id",))
        audit_list(actor=Actor.from_request(request), object_type="peerwork.supervisionentry", ids=[e.pk for e in page.items])
        return page.response(s.SupervisionOut(page.items, many=True).data)

    @extend_schema(request=s.SupervisionInput, responses={201: s.SupervisionOut})
    def post(self, request):
        data = parse_input(s.SupervisionInput, request)
        membership = selectors.supervision_pair_for(request.user, data.pop("peer_worker_id"), data.pop("team_id"))
        entry = services.supervision_record(actor=Actor.from_request(request), supervisor=request.user, membership=membership, **data)
        return Response(s.SupervisionOut(entry).data, status=status.HTTP_201_CREATED)


class SupervisionDetailApi(APIView):
    permission_classes = [SUPERVISION_USERS]

    @extend_schema(responses={200: s.SupervisionOut})
    def get(self, request, entry_id: int):
        entry = selectors.supervision_entry_for(request.user, entry_id)
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=entry)
        return Response(s.SupervisionOut(entry).data)


class QuestionnaireListApi(CursorPaged, APIView):
    """The fidelity questionnaires registered for your organisation (admins). POST registers a local
    questionnaire (loaded first through `instruments/`) for one of the three informants, with each
    item's domain, its licence and its source."""

    permission_classes = [ADMIN_ONLY]

    @extend_schema(responses={200: s.QuestionnaireOut(many=True)})
    def get(self, request):
        page = self.page(selectors.fidelity_questionnaires_for_admin(request.user), ordering=("-id",))
        audit_list(actor=Actor.from_request(request), object_type="peerwork.fidelityquestionnaire", ids=[q.pk for q in page.items])
        return page.response(s.QuestionnaireOut(page.items, many=True).data)

    @extend_schema(request=s.QuestionnaireInput, responses={201: s.QuestionnaireOut})
    def post(self, request):
        data = parse_input(s.QuestionnaireInput, request)
        registered = services.fidelity_questionnaire_register(
            actor=Actor.from_request(request), admin=request.user, instrument_code=data.pop("instrument"), **data)
        return Response(s.QuestionnaireOut(registered).data, status=status.HTTP_201_CREATED)


class RatingListApi(CursorPaged, APIView):
    """Fidelity ratings you gave, newest first. POST: rate a peer worker's practice in a team, as one of
    the three informants (the peer worker, their supervisor, a person they supported); anyone else gets
    403 `not_an_informant` and nothing is saved."""

    permission_classes = [RATERS]

    @extend_schema(responses={200: s.RatingOut(many=True)})
    def get(self, request):
        ratings = selectors.fidelity_ratings_visible_to(request.user).prefetch_related("answers__item")
        page = self.page(ratings, ordering=("-id",))
        audit_list(actor=Actor.from_request(request), object_type="peerwork.fidelityrating", ids=[r.pk for r in page.items])
        return page.response(s.RatingOut(page.items, many=True).data)

    @extend_schema(request=s.RatingInput, responses={201: s.RatingOut})
    def post(self, request):
        data = parse_input(s.RatingInput, request)
        rating = services.fidelity_rate(actor=Actor.from_request(request), rater=request.user, **data)
        return Response(s.RatingOut(selectors.fidelity_ratings_visible_to(request.user).prefetch_related("answers__item").get(pk=rating.pk)).data,
                        status=status.HTTP_201_CREATED)
