"""The map, directory and signposting API: thin views over network selectors and services."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts import selectors as access
from backend.accounts.models import Role
from backend.accounts.permissions import ADMIN_ONLY, roles
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.errors import NotFound
from backend.core.pagination import CursorPaged
from backend.core.serializers import parse_input as parse
from backend.network import selectors, services
from backend.network import serializers as s
from backend.network.measures import measures, member_facts
from backend.network.models import MapSnapshot

MAP_READERS = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, Role.CARER)
MAP_WRITERS = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER)
DIRECTORY_READERS = roles(Role.ADMIN, Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER)


def map_state(person, viewer) -> dict:
    """The map as the API and the pages show it."""
    social_map = selectors.map_of(person)
    members = selectors.members_of(social_map)
    return {
        "service_user_id": person.pk, "started": social_map is not None, "members": members,
        "interests": social_map.interests if social_map else [], "needs": social_map.needs if social_map else [],
        "postcode_district": social_map.postcode_district if social_map else "",
        "measures": measures(member_facts(m) for m in members),
        "sharing": None if viewer.role == Role.CARER else selectors.sharing_latest(person),
    }


class MapApi(APIView):
    """A person's social connection map now. POST starts it, with the person's first sharing choice."""

    def get_permissions(self):
        return [MAP_WRITERS()] if self.request.method == "POST" else [MAP_READERS()]

    @extend_schema(responses={200: s.MapOut})
    def get(self, request, service_user_id: int):
        person = selectors.network_person_for(request.user, service_user_id)
        state = map_state(person, request.user)
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, object_type="network.socialmap", object_id=person.pk,
                     detail={"members": [m.pk for m in state["members"]]})
        return Response(s.MapOut(state).data)

    @extend_schema(request=s.MapStartInput, responses={201: s.MapOut})
    def post(self, request, service_user_id: int):
        person = access.service_user_for(request.user, service_user_id)
        services.map_start(actor=Actor.from_request(request), service_user=person, **parse(s.MapStartInput, request))
        return Response(s.MapOut(map_state(person, request.user)).data, status=status.HTTP_201_CREATED)


class SharingApi(APIView):
    """The person changes who sees their map (their care team; which linked carers)."""

    permission_classes = [roles(Role.SERVICE_USER)]

    @extend_schema(request=s.SharingInput, responses={201: s.SharingOut})
    def post(self, request, service_user_id: int):
        person = selectors.network_person_for(request.user, service_user_id, write=True)
        sharing = services.sharing_set(actor=Actor.from_request(request), service_user=person, **parse(s.SharingInput, request))
        return Response(s.SharingOut(sharing).data, status=status.HTTP_201_CREATED)


class InterestsApi(APIView):
    """The person's interests and needs (and postcode district), which filter the directory into suggestions."""

    permission_classes = [MAP_WRITERS]

    @extend_schema(request=s.InterestsInput, responses={200: s.MapOut})
    def post(self, request, service_user_id: int):
        person = selectors.network_person_for(request.user, service_user_id, write=True)
        services.interests_set(actor=Actor.from_request(request), service_user=person, **parse(s.InterestsInput, request))
        return Response(s.MapOut(map_state(person, request.user)).data)


class MemberListApi(APIView):
    permission_classes = [MAP_WRITERS]

    @extend_schema(request=s.MemberInput, responses={201: s.MemberOut})
    def post(self, request, service_user_id: int):
        person = selectors.network_person_for(request.user, service_user_id, write=True)
        member = services.member_add(actor=Actor.from_request(request), service_user=person, **parse(s.MemberInput, request))
        return Response(s.MemberOut(member).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(APIView):
    permission_classes = [MAP_WRITERS]

    @extend_schema(request=s.MemberInput(partial=True), responses={200: s.MemberOut})
    def patch(self, request, service_user_id: int, member_id: int):
        person = selectors.network_person_for(request.user, service_user_id, write=True)
        member = services.member_update(actor=Actor.from_request(request), service_user=person, member_id=member_id,
                                        **parse(s.MemberInput, request, partial=True))
        return Response(s.MemberOut(member).data)

    @extend_schema(responses={204: None})
    def delete(self, request, service_user_id: int, member_id: int):
        person = selectors.network_person_for(request.user, service_user_id, write=True)
        services.member_remove(actor=Actor.from_request(request), service_user=person, member_id=member_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SnapshotListApi(CursorPaged, APIView):
    """The map's snapshots, newest first. POST freezes the map as it is today."""

    def get_permissions(self):
        return [MAP_WRITERS()] if self.request.method == "POST" else [MAP_READERS()]

    @extend_schema(responses={200: s.SnapshotOut(many=True)})
    def get(self, request, service_user_id: int):
        person = selectors.network_person_for(request.user, service_user_id)
        page = self.page(MapSnapshot.objects.filter(map__service_user=person).select_related("taken_by"), ordering=("-id",))
        audit_list(actor=Actor.from_request(request), object_type="network.mapsnapshot", ids=[x.pk for x in page.items],
                   detail={"service_user": person.pk})
        return page.response(s.SnapshotOut(page.items, many=True).data)

    @extend_schema(request=s.SnapshotInput, responses={201: s.SnapshotOut})
    def post(self, request, service_user_id: int):
        person = selectors.network_person_for(request.user, service_user_id, write=True)
        snapshot = services.snapshot_take(actor=Actor.from_request(request), service_user=person, **parse(s.SnapshotInput, request))
        return Response(s.SnapshotOut(snapshot).data, status=status.HTTP_201_CREATED)


class SnapshotDetailApi(APIView):
    permission_classes = [MAP_READERS]

    @extend_schema(responses={200: s.SnapshotOut})
    def get(self, request, service_user_id: int, snapshot_id: int):
        person = selectors.network_person_for(request.user, service_user_id)
        snapshot = MapSnapshot.objects.filter(map__service_user=person, pk=snapshot_id).select_related("taken_by").first()
        if snapshot is None:
            raise NotFound(f"No snapshot {snapshot_id} of this map.", field="snapshot_id")
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=snapshot, detail={"service_user": person.pk})
        return Response(s.SnapshotOut(snapshot).data)


class SuggestionListApi(APIView):
    """Directory entries matching the person's interests and needs, best first (up to 50)."""

    permission_classes = [MAP_WRITERS]

    @extend_schema(responses={200: s.SuggestionOut(many=True)})
    def get(self, request, service_user_id: int):
        person = selectors.network_person_for(request.user, service_user_id)
        found = selectors.suggestions(person, selectors.map_of(person))[:50]
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, object_type="network.socialmap", object_id=person.pk,
                     detail={"suggestions": [x["resource"].pk for x in found]})
        return Response(s.SuggestionOut(found, many=True).data)


class SignpostListApi(CursorPaged, APIView):
    """Resources offered to the person, with follow-up dates and outcomes. POST records an offer."""

    permission_classes = [MAP_WRITERS]

    @extend_schema(responses={200: s.SignpostOut(many=True)})
    def get(self, request, service_user_id: int):
        person = selectors.network_person_for(request.user, service_user_id)
        page = self.page(selectors.signposts_of(person), ordering=("-id",))
        audit_list(actor=Actor.from_request(request), object_type="network.signpost", ids=[x.pk for x in page.items],
                   detail={"service_user": person.pk})
        return page.response(s.SignpostOut(page.items, many=True).data)

    @extend_schema(request=s.SignpostInput, responses={201: s.SignpostOut})
    def post(self, request, service_user_id: int):
        person = selectors.network_person_for(request.user, service_user_id, write=True)
        signpost = services.signpost_offer(actor=Actor.from_request(request), service_user=person, **parse(s.SignpostInput, request))
        return Response(s.SignpostOut(selectors.signpost_for(person, signpost.pk)).data, status=status.HTTP_201_CREATED)


class FollowUpListApi(APIView):
    """Record what happened after a signpost (appended; the latest holds)."""

    permission_classes = [MAP_WRITERS]

    @extend_schema(request=s.FollowUpInput, responses={201: s.FollowUpOut})
    def post(self, request, service_user_id: int, signpost_id: int):
        person = selectors.network_person_for(request.user, service_user_id, write=True)
        signpost = selectors.signpost_for(person, signpost_id)
        follow_up = services.follow_up_record(actor=Actor.from_request(request), service_user=person, signpost=signpost,
                                              **parse(s.FollowUpInput, request))
        return Response(s.FollowUpOut(follow_up).data, status=status.HTTP_201_CREATED)


class ResourceListApi(CursorPaged, APIView):
    """The organisation's resource directory. Admins add entries."""

    def get_permissions(self):
        return [ADMIN_ONLY()] if self.request.method == "POST" else [DIRECTORY_READERS()]

    @extend_schema(responses={200: s.DirectoryResourceOut(many=True)})
    def get(self, request):
        page = self.page(selectors.resources_visible_to(request.user), ordering=("id",))
        return page.response(s.DirectoryResourceOut(page.items, many=True).data)

    @extend_schema(request=s.ResourceInput, responses={201: s.DirectoryResourceOut})
    def post(self, request):
        resource = services.resource_create(actor=Actor.from_request(request), **parse(s.ResourceInput, request))
        return Response(s.DirectoryResourceOut(resource).data, status=status.HTTP_201_CREATED)


class ResourceDetailApi(APIView):
    def get_permissions(self):
        return [ADMIN_ONLY()] if self.request.method == "PATCH" else [DIRECTORY_READERS()]

    @extend_schema(responses={200: s.DirectoryResourceOut})
    def get(self, request, resource_id: int):
        return Response(s.DirectoryResourceOut(selectors.resource_for(request.user, resource_id)).data)

    @extend_schema(request=s.ResourceInput(partial=True), responses={200: s.DirectoryResourceOut})
    def patch(self, request, resource_id: int):
        resource = selectors.resource_for(request.user, resource_id)
        resource = services.resource_update(actor=Actor.from_request(request), resource=resource, **parse(s.ResourceInput, request, partial=True))
        return Response(s.DirectoryResourceOut(resource).data)


class CategoryListApi(APIView):
    """The categories of interests, needs and resources."""

    @extend_schema(responses={200: s.CategoryOut(many=True)})
    def get(self, request):
        return Response(s.CATEGORIES)
