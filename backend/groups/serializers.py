"""Input and output shapes of the groups API."""

from rest_framework import serializers

from backend.core.serializers import StrictInputSerializer
from backend.sessions.serializers import IceServerOut

from .models import GroupAttendee, GroupSession


class GroupBookInput(StrictInputSerializer):
    team_id = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField(min_value=15, max_value=240, default=90)
    people = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=100, allow_empty=True)
    co_facilitator_id = serializers.IntegerField(min_value=1, required=False)
    capacity = serializers.IntegerField(min_value=2, max_value=100, required=False)
    repeat_weeks = serializers.IntegerField(min_value=1, max_value=52, default=1)
    for_carers = serializers.BooleanField(default=False)


class RemoveInput(StrictInputSerializer):
    hold = serializers.BooleanField(default=False, help_text="Hold them in the waiting room rather than remove them.")


class AttendanceInput(StrictInputSerializer):
    attendance = serializers.ChoiceField(choices=[c for c in GroupAttendee.Attendance.values if c])
    attended_seconds = serializers.IntegerField(min_value=0, max_value=24 * 3600, required=False)
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True,
                                   help_text="Why the register is corrected; kept with the correction.")


class GroupPeopleAddInput(StrictInputSerializer):
    people = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=100)
    whole_series = serializers.BooleanField(default=False, help_text="Also book them into the later meetings of the series.")


class GroupUnbookInput(StrictInputSerializer):
    whole_series = serializers.BooleanField(default=False, help_text="Also take them off the later meetings of the series.")


class GroupCancelInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500)
    whole_series = serializers.BooleanField(default=False, help_text="Also cancel the later meetings of the series.")


class AttendeeOut(serializers.ModelSerializer):
    name = serializers.CharField(source="person.display_name")

    class Meta:
        model = GroupAttendee
        fields = ["id", "person_id", "name", "state", "video_allowed", "first_joined_at", "last_left_at", "attended_seconds", "attendance",
                  "attendance_reason"]


class GroupOut(serializers.ModelSerializer):
    class Meta:
        model = GroupSession
        fields = ["id", "team_id", "title", "for_carers", "facilitator_id", "co_facilitator_id", "capacity", "starts_at",
                  "duration_minutes", "series", "status", "started_at", "ended_at", "cancelled_at", "cancelled_reason"]


class GroupDetailOut(GroupOut):
    attendees = serializers.SerializerMethodField()

    class Meta(GroupOut.Meta):
        fields = [*GroupOut.Meta.fields, "attendees"]

    def get_attendees(self, group) -> list[dict]:
        return AttendeeOut(self.context.get("attendees", []), many=True).data


class MediaOut(serializers.Serializer):
    """What an admitted attendee's browser needs to join the room: never the room secret or the admin key."""

    server = serializers.CharField(help_text="The Janus API as the browser reaches it.")
    room = serializers.IntegerField()
    feed_id = serializers.IntegerField(help_text="Join the room with this participant id; others are removed.")
    token = serializers.CharField(help_text="A signed Janus token for this room only, until expires_at.")
    expires_at = serializers.DateTimeField()
    video = serializers.BooleanField(help_text="False: the person has not agreed to video, so they join by audio only.")
    ice_servers = IceServerOut(many=True, help_text="STUN, and TURN with short-lived credentials (as for calls), to reach Janus through firewalls.")
