"""Groups API: thin views over the groups selectors and services."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts import selectors as access
from backend.accounts.models import Role, User
from backend.accounts.permissions import roles
from backend.audit.actor import Actor
from backend.audit.services import audit_list
from backend.core.errors import Conflict, InvalidInput, NotFound
from backend.core.serializers import parse_input as parse
from backend.sessions.ice import ice_servers_for

from . import janus, selectors, services
from . import serializers as s
from .hooks import facilitation_granted
from .models import GroupAttendee

PRACTITIONERS = roles(Role.CLINICIAN, Role.PEER_WORKER)
GROUP_PEOPLE = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, Role.CARER)


def _attendee(user, group_id: int, attendee_id: int) -> GroupAttendee:
    group = selectors.group_access_for(user, group_id, selectors.RUN).group
    attendee = group.attendees.filter(pk=attendee_id).select_related("group", "person").first()
    if attendee is None:
        raise NotFound(f"No attendee {attendee_id} in this group.", field="attendee_id")
    return attendee


class GroupListApi(APIView):
    """Group sessions: a practitioner's teams' groups, or the groups a person is booked into."""

    permission_classes = [GROUP_PEOPLE]

    @extend_schema(responses={200: s.GroupOut(many=True)})
    def get(self, request):
        groups = list(selectors.groups_visible_to(request.user).order_by("starts_at", "id")[:200])
        audit_list(actor=Actor.from_request(request), object_type="groups.groupsession", ids=[g.pk for g in groups])
        return Response(s.GroupOut(groups, many=True).data)

    @extend_schema(request=s.GroupBookInput, responses={201: s.GroupOut(many=True)})
    def post(self, request):
        if request.user.role not in (Role.CLINICIAN, Role.PEER_WORKER):
            self.permission_denied(request, "Only clinicians and peer workers book groups.")
        data = parse(s.GroupBookInput, request)
        team = access.team_for(request.user, data.pop("team_id"))
        ids = set(data.pop("people"))
        pool = User.objects.filter(role=Role.CARER, cared_for_links__service_user__in=access.service_users_visible_to(request.user)) if data["for_carers"] \
            else access.service_users_visible_to(request.user)
        people = list(pool.filter(pk__in=ids).distinct())
        if len(people) != len(ids):
            raise InvalidInput("Someone in people is not on your caseloads (or, for a carers' group, not a carer of someone on them).", field="people", code="does_not_exist")
        co_id = data.pop("co_facilitator_id", None)
        co = access.team_members(team).filter(user_id=co_id).first() if co_id else None
        if co_id and co is None:
            raise InvalidInput("No practitioner with this id in this team.", field="co_facilitator_id", code="does_not_exist")
        meetings = services.group_book(actor=Actor.from_request(request), team=team, facilitator=request.user, people=people,
                                       co_facilitator=co.user if co else None, **data)
        return Response(s.GroupOut(meetings, many=True).data, status=status.HTTP_201_CREATED)


class GroupDetailApi(APIView):
    permission_classes = [GROUP_PEOPLE]

    @extend_schema(responses={200: s.GroupDetailOut})
    def get(self, request, group_id: int):
        group = selectors.group_access_for(request.user, group_id, selectors.SEE).group
        # Facilitators see everyone booked; an attendee sees only their own place.
        attendees = group.attendees.select_related("person")
        if request.user.role not in (Role.CLINICIAN, Role.PEER_WORKER):
            attendees = attendees.filter(person=request.user)
        return Response(s.GroupDetailOut(group, context={"attendees": list(attendees)}).data)


def _people_for(user, group, ids: list[int]) -> list[User]:
    ids = set(ids)
    pool = User.objects.filter(role=Role.CARER, cared_for_links__service_user__in=access.service_users_visible_to(user)) if group.for_carers \
        else access.service_users_visible_to(user)
    people = list(pool.filter(pk__in=ids).distinct())
    if len(people) != len(ids):
        raise InvalidInput("Someone in people is not on the team's caseload (or, for a carers' group, not a carer of someone on it).",
                           field="people", code="does_not_exist")
    return people


class GroupPeopleApi(APIView):
    """Book more people into a meeting (and, with whole_series, the later meetings of its series), within capacity."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.GroupPeopleAddInput, responses={200: s.GroupOut(many=True)})
    def post(self, request, group_id: int):
        group = selectors.group_access_for(request.user, group_id, selectors.RUN).group
        data = parse(s.GroupPeopleAddInput, request)
        meetings = services.group_people_add(actor=Actor.from_request(request), group=group,
                                             people=_people_for(request.user, group, data["people"]), whole_series=data["whole_series"])
        return Response(s.GroupOut(meetings, many=True).data)


class GroupUnbookApi(APIView):
    """Take a booked person off a meeting that has not started (and, with whole_series, the later ones)."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.GroupUnbookInput, responses={204: None})
    def post(self, request, group_id: int, attendee_id: int):
        attendee = _attendee(request.user, group_id, attendee_id)
        data = parse(s.GroupUnbookInput, request)
        services.group_person_unbook(actor=Actor.from_request(request), attendee=attendee, whole_series=data["whole_series"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupCancelApi(APIView):
    """Cancel a meeting that has not started (and, with whole_series, the later meetings of its series)."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.GroupCancelInput, responses={200: s.GroupOut(many=True)})
    def post(self, request, group_id: int):
        group = selectors.group_access_for(request.user, group_id, selectors.RUN).group
        data = parse(s.GroupCancelInput, request)
        meetings = services.group_cancel(actor=Actor.from_request(request), group=group, **data)
        return Response(s.GroupOut(meetings, many=True).data)


class GroupStartApi(APIView):
    """Open the group's room on Janus (again after a Janus restart). 409 groups_unavailable when no Janus server answers."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=None, responses={200: s.GroupOut})
    def post(self, request, group_id: int):
        group = selectors.group_access_for(request.user, group_id, selectors.RUN).group
        return Response(s.GroupOut(services.group_start(actor=Actor.from_request(request), group=group)).data)


class GroupAdmitApi(APIView):
    permission_classes = [PRACTITIONERS]

    @extend_schema(request=None, responses={200: s.AttendeeOut})
    def post(self, request, group_id: int, attendee_id: int):
        attendee = _attendee(request.user, group_id, attendee_id)
        return Response(s.AttendeeOut(services.attendee_admit(actor=Actor.from_request(request), attendee=attendee)).data)


class GroupRemoveApi(APIView):
    """Remove one person from the call (or hold them in the waiting room): takes effect in Janus."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.RemoveInput, responses={200: s.AttendeeOut})
    def post(self, request, group_id: int, attendee_id: int):
        attendee = _attendee(request.user, group_id, attendee_id)
        hold = parse(s.RemoveInput, request)["hold"]
        return Response(s.AttendeeOut(services.attendee_remove(actor=Actor.from_request(request), attendee=attendee, hold=hold)).data)


class GroupAttendanceApi(APIView):
    """The facilitator corrects one person's line in the register."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=s.AttendanceInput, responses={200: s.AttendeeOut})
    def patch(self, request, group_id: int, attendee_id: int):
        attendee = _attendee(request.user, group_id, attendee_id)
        data = parse(s.AttendanceInput, request)
        return Response(s.AttendeeOut(services.attendance_correct(actor=Actor.from_request(request), attendee=attendee, **data)).data)


class GroupMuteAllApi(APIView):
    permission_classes = [PRACTITIONERS]

    @extend_schema(request=None, responses={204: None})
    def post(self, request, group_id: int):
        group = selectors.group_access_for(request.user, group_id, selectors.RUN).group
        if group.status != group.Status.IN_PROGRESS:
            raise Conflict("The group is not in progress.", field="status")
        services.group_mute_all(actor=Actor.from_request(request), group=group)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupEndApi(APIView):
    """End the group: Janus closes the room, and the register is filled in."""

    permission_classes = [PRACTITIONERS]

    @extend_schema(request=None, responses={200: s.GroupDetailOut})
    def post(self, request, group_id: int):
        group = selectors.group_access_for(request.user, group_id, selectors.RUN).group
        group = services.group_end(actor=Actor.from_request(request), group=group)
        return Response(s.GroupDetailOut(group, context={"attendees": list(group.attendees.select_related("person"))}).data)


class GroupMediaApi(APIView):
    """An admitted attendee's way into the room: their Janus server, room, feed id and short-lived token,
    re-issued when it has expired (a POST: it may mint a new token). A facilitator gets a fresh token each time.
    Either way the room is recreated on Janus if it was lost (a Janus restart), so a client rejoins by calling this."""

    permission_classes = [GROUP_PEOPLE]

    @extend_schema(request=None, responses={200: s.MediaOut})
    def post(self, request, group_id: int):
        if request.user.role in (Role.CLINICIAN, Role.PEER_WORKER) or facilitation_granted(request.user, group_id):
            # A facilitator (any practitioner of the team, or one granted by a higher layer: a Recovery College trainer
            # of the run) joins the call too: a fresh token, a derived feed id.
            group = selectors.group_access_for(request.user, group_id, selectors.FACILITATE).group
            media = services.facilitator_media(actor=Actor.from_request(request), group=group)
            return Response({"server": janus.server_for_room(group.janus_room_id).public_url, "room": group.janus_room_id, **media,
                             "ice_servers": ice_servers_for(f"group{group.pk}-{media['feed_id']}")})
        attendee = selectors.group_access_for(request.user, group_id, selectors.JOIN).attendee
        attendee = services.attendee_media(actor=Actor.from_request(request), attendee=attendee)
        server = janus.server_for_room(attendee.group.janus_room_id)
        return Response({
            "server": server.public_url, "room": attendee.group.janus_room_id, "feed_id": attendee.janus_feed_id,
            "token": attendee.janus_token, "expires_at": attendee.janus_token_expires_at, "video": attendee.video_allowed,
            "ice_servers": ice_servers_for(f"group{attendee.group_id}-{attendee.janus_feed_id}"),
        })
