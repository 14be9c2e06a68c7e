"""Consent and choice API: thin views over consent selectors and services."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts import selectors as access
from backend.accounts.models import Role, User
from backend.accounts.permissions import ADMIN_ONLY, roles
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.consent import selectors, services
from backend.consent import serializers as s
from backend.consent.models import ConsentPurpose
from backend.core.errors import InvalidInput, NotFound
from backend.core.pagination import CursorPaged
from backend.core.serializers import parse_input as parse

# Consent records are identifiable and clinical: the person themselves and their care team only.
CONSENT_READERS = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER)
CONSENT_WRITERS = roles(Role.CLINICIAN, Role.SERVICE_USER)


def _purpose(code: str) -> ConsentPurpose:
    purpose = ConsentPurpose.objects.filter(code=code).first()
    if purpose is None:
        raise NotFound(f"There is no consent purpose '{code}'.", field="purpose")
    return purpose


def _person(request, service_user_id: int) -> User:
    return access.service_user_for(request.user, service_user_id)


class PurposeListApi(CursorPaged, APIView):
    """The catalogue of things people can consent to, each with its current wording."""

    def get_permissions(self):
        return [ADMIN_ONLY()] if self.request.method == "POST" else super().get_permissions()

    @extend_schema(responses={200: s.PurposeOut(many=True)})
    def get(self, request):
        page = self.page(ConsentPurpose.objects.prefetch_related("wordings"), ordering=("id",))
        return page.response(s.PurposeOut(page.items, many=True).data)

    @extend_schema(request=s.PurposeCreateInput, responses={201: s.PurposeOut})
    def post(self, request):
        purpose = services.purpose_create(actor=Actor.from_request(request), **parse(s.PurposeCreateInput, request))
        return Response(s.PurposeOut(purpose).data, status=status.HTTP_201_CREATED)


class WordingListApi(CursorPaged, APIView):
    """Every version of a purpose's wording. Admins publish a new version; old ones never change."""

    def get_permissions(self):
        return [ADMIN_ONLY()] if self.request.method == "POST" else super().get_permissions()

    @extend_schema(responses={200: s.WordingOut(many=True)})
    def get(self, request, code: str):
        page = self.page(_purpose(code).wordings.all(), ordering=("version", "id"))
        return page.response(s.WordingOut(page.items, many=True).data)

    @extend_schema(request=s.WordingPublishInput, responses={201: s.WordingOut})
    def post(self, request, code: str):
        wording = services.wording_publish(actor=Actor.from_request(request), purpose=_purpose(code), **parse(s.WordingPublishInput, request))
        return Response(s.WordingOut(wording).data, status=status.HTTP_201_CREATED)


class ConsentStateApi(APIView):
    """Where each purpose stands for a person now; POST records a decision (appended, never overwriting)."""

    def get_permissions(self):
        return [CONSENT_WRITERS()] if self.request.method == "POST" else [CONSENT_READERS()]

    @extend_schema(responses={200: s.ConsentStateOut(many=True)})
    def get(self, request, service_user_id: int):
        person = _person(request, service_user_id)
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, object_type="consent.consentstate", object_id=person.pk)
        return Response(s.ConsentStateOut(selectors.consent_states(person), many=True).data)

    @extend_schema(request=s.ConsentRecordInput, responses={201: s.ConsentRecordOut})
    def post(self, request, service_user_id: int):
        person = _person(request, service_user_id)
        data = parse(s.ConsentRecordInput, request)
        purpose = selectors.purpose_by_code(data.pop("purpose"))
        carer_id = data.pop("carer_id", None)
        carer = None
        if carer_id is not None:
            carer = User.objects.filter(pk=carer_id, role=Role.CARER).first()
            if carer is None:
                # The same answer as for a carer not linked (consent_record), so ids reveal no accounts.
                raise InvalidInput("This person is not a carer you involve. Add them first.", field="carer_id", code="not_linked")
        record = services.consent_record(actor=Actor.from_request(request), service_user=person, purpose=purpose, carer=carer, **data)
        return Response(s.ConsentRecordOut(record).data, status=status.HTTP_201_CREATED)


class ConsentHistoryApi(CursorPaged, APIView):
    """Every consent decision the person has made, newest first."""

    permission_classes = [CONSENT_READERS]

    @extend_schema(responses={200: s.ConsentRecordOut(many=True)})
    def get(self, request, service_user_id: int):
        person = _person(request, service_user_id)
        page = self.page(selectors.consent_history(person), ordering=("-id",))
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.LIST, object_type="consent.consentrecord",
                     detail={"service_user": person.pk, "ids": [r.pk for r in page.items]})
        return page.response(s.ConsentRecordOut(page.items, many=True).data)


class PreferenceApi(APIView):
    """How the person prefers to be seen, why, and their digital access. POST records a new preference."""

    permission_classes = [CONSENT_READERS]

    @extend_schema(responses={200: s.PreferenceOut})
    def get(self, request, service_user_id: int):
        person = _person(request, service_user_id)
        preference = selectors.preference_current(person)
        if preference is None:
            raise NotFound("No preference recorded yet.", field="preference")
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=preference)
        return Response(s.PreferenceOut(preference).data)

    @extend_schema(request=s.PreferenceInput, responses={201: s.PreferenceOut})
    def post(self, request, service_user_id: int):
        person = _person(request, service_user_id)
        preference = services.preference_set(actor=Actor.from_request(request), service_user=person, **parse(s.PreferenceInput, request))
        return Response(s.PreferenceOut(preference).data, status=status.HTTP_201_CREATED)


class PreferenceHistoryApi(CursorPaged, APIView):
    permission_classes = [CONSENT_READERS]

    @extend_schema(responses={200: s.PreferenceOut(many=True)})
    def get(self, request, service_user_id: int):
        person = _person(request, service_user_id)
        page = self.page(selectors.preference_history(person), ordering=("-id",))
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.LIST, object_type="consent.modalitypreference",
                     detail={"service_user": person.pk, "ids": [p.pk for p in page.items]})
        return page.response(s.PreferenceOut(page.items, many=True).data)


class ReasonCodeListApi(APIView):
    """The coded reasons a person can give for their preference."""

    @extend_schema(responses={200: s.ReasonCodeOut(many=True)})
    def get(self, request):
        return Response(s.REASON_CODES)
