from rest_framework import serializers

from backend.accounts.serializers import UserSummary
from backend.consent.models import Modality
from backend.core.serializers import StrictInputSerializer
from backend.sessions.models import Appointment, AppointmentEvent, CourseOfCare, IceStateChange, Participant, TeamSessionSettings


class AppointmentBookInput(StrictInputSerializer):
    service_user_id = serializers.IntegerField(min_value=1)
    team_id = serializers.IntegerField(min_value=1)
    practitioner_id = serializers.IntegerField(min_value=1, required=False, help_text="Defaults to you.")
    starts_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField(min_value=5, max_value=240, default=50)
    kind = serializers.ChoiceField(choices=Appointment.Kind.choices, default=Appointment.Kind.TREATMENT)
    modalities_offered = serializers.ListField(
        child=serializers.ChoiceField(choices=Modality.choices), min_length=1, max_length=3,
        help_text="Face to face must be one of them.",
    )
    earliest_face_to_face_slot = serializers.DateTimeField(required=False, allow_null=True, default=None)
    earliest_remote_slot = serializers.DateTimeField(required=False, allow_null=True, default=None)
    confirm_clash = serializers.BooleanField(
        default=False, help_text="Book even though it overlaps the practitioner's or the person's other appointments (409 'clash' otherwise).",
    )


class SeriesBookInput(AppointmentBookInput):
    frequency = serializers.ChoiceField(choices=[("weekly", "Weekly"), ("fortnightly", "Fortnightly")])
    count = serializers.IntegerField(min_value=2, max_value=100, help_text="How many sessions; the series must end within a year.")


class RescheduleInput(StrictInputSerializer):
    starts_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField(min_value=5, max_value=240, required=False, help_text="Defaults to the current length.")
    reason = serializers.CharField(max_length=500, help_text="Why it is moving; the person sees it.")
    confirm_clash = serializers.BooleanField(default=False)


class RearrangeRequestInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500, help_text="Why, and what would suit the person better.")


class RearrangeRequestOut(serializers.Serializer):
    id = serializers.IntegerField()
    appointment = serializers.IntegerField(source="appointment_id")
    starts_at = serializers.DateTimeField(source="appointment.starts_at")
    service_user = UserSummary(source="appointment.service_user")
    requested_by = UserSummary()
    reason = serializers.CharField()
    requested_at = serializers.DateTimeField()
    is_open = serializers.BooleanField()
    answer = serializers.CharField(help_text="rescheduled or cancelled, once answered; empty while open.")
    answered_at = serializers.DateTimeField(allow_null=True)


class RearrangeRequestQuery(StrictInputSerializer):
    open = serializers.BooleanField(required=False, help_text="Only open (true) or only answered (false) requests.")


class AppointmentListQuery(StrictInputSerializer):
    starts_from = serializers.DateField(required=False, help_text="Only appointments starting on or after this local date.")
    starts_until = serializers.DateField(required=False, help_text="Only appointments starting on or before this local date.")
    practitioner_id = serializers.IntegerField(min_value=1, required=False)
    team_id = serializers.IntegerField(min_value=1, required=False)


class ChoiceInput(StrictInputSerializer):
    modality = serializers.ChoiceField(choices=Modality.choices)


class DeliveryInput(StrictInputSerializer):
    modality = serializers.ChoiceField(choices=Modality.choices)
    reason = serializers.ChoiceField(choices=Appointment.DeliveryReason.choices, required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AppointmentOut(serializers.ModelSerializer):
    service_user = UserSummary()
    practitioner = UserSummary(allow_null=True, help_text="Empty for an imported historic appointment whose practitioner was not recorded.")
    team_name = serializers.CharField(source="team.name", read_only=True)
    choice_open = serializers.BooleanField(read_only=True)
    run_by = UserSummary(allow_null=True, read_only=True, help_text="Who ran the session (a colleague may cover); empty until it starts.")

    class Meta:
        model = Appointment
        fields = [
            "id", "service_user", "practitioner", "team", "team_name", "kind", "starts_at", "duration_minutes",
            "modalities_offered", "earliest_face_to_face_slot", "earliest_remote_slot", "choice_closes_at", "choice_open",
            "chosen_modality", "chosen_at", "delivered_modality", "delivery_reason", "delivery_note", "created_at",
            "status", "started_at", "ended_at", "run_by", "cancellation_reason", "course", "planned_last", "series",
        ]


class AppointmentTimeOut(serializers.ModelSerializer):
    """What a carer sees of an appointment they are told about: when, how long, with which team."""

    service_user = UserSummary()
    team_name = serializers.CharField(source="team.name", read_only=True)

    class Meta:
        model = Appointment
        fields = ["id", "service_user", "team_name", "starts_at", "duration_minutes"]


class AppointmentEventOut(serializers.ModelSerializer):
    actor = UserSummary(allow_null=True)

    class Meta:
        model = AppointmentEvent
        fields = ["kind", "data", "actor", "occurred_at"]


class TeamSessionSettingsOut(serializers.ModelSerializer):
    class Meta:
        model = TeamSessionSettings
        fields = ["choice_cutoff_hours", "safety_check_required"]


class TeamSessionSettingsInput(StrictInputSerializer):
    choice_cutoff_hours = serializers.IntegerField(min_value=0, max_value=24 * 14, required=False)
    safety_check_required = serializers.BooleanField(required=False)


class SafetyCheckInput(StrictInputSerializer):
    current_location = serializers.CharField(max_length=500, help_text="Where the person is right now, enough to send help.")
    is_private = serializers.BooleanField()
    emergency_contact_confirmed = serializers.BooleanField()
    identity_confirmed = serializers.BooleanField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class SafetyCheckOut(serializers.Serializer):
    id = serializers.IntegerField()
    current_location = serializers.CharField()
    is_private = serializers.BooleanField()
    emergency_contact_confirmed = serializers.BooleanField()
    identity_confirmed = serializers.BooleanField()
    notes = serializers.CharField()
    recorded_by = UserSummary()
    recorded_at = serializers.DateTimeField()


class StartInput(StrictInputSerializer):
    modality = serializers.ChoiceField(choices=Modality.choices, required=False, help_text="Defaults to the person's choice, else video.")


class AdmitInput(StrictInputSerializer):
    user_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, help_text="Omit to admit everyone waiting.")
    modality = serializers.ChoiceField(choices=Modality.choices, required=False, help_text="If this starts the session: how.")


class MoveInput(StrictInputSerializer):
    state = serializers.ChoiceField(choices=[("on_hold", "On hold"), ("waiting", "Back to the waiting room")])


class InviteInput(StrictInputSerializer):
    carer_id = serializers.IntegerField(min_value=1)


class GuestInput(StrictInputSerializer):
    name = serializers.CharField(max_length=200, help_text="The guest's name, as the others in the call will see it.")
    guest_role = serializers.ChoiceField(choices=Participant.GuestRole.choices, help_text="Why they are joining.")
    language = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                     help_text="Required for an interpreter: the language they interpret.")


class MessageInput(StrictInputSerializer):
    text = serializers.CharField(max_length=500, help_text="Shown to everyone waiting, e.g. 'Running ten minutes late'.")


class WaitingEntryOut(serializers.Serializer):
    """One person waiting (or on hold) for a session of your team today."""

    appointment_id = serializers.IntegerField(source="appointment.pk")
    team_id = serializers.IntegerField(source="appointment.team_id")
    team_name = serializers.CharField(source="appointment.team.name")
    starts_at = serializers.DateTimeField(source="appointment.starts_at")
    status = serializers.CharField(source="appointment.status")
    booked_with = UserSummary(source="appointment.practitioner", allow_null=True)
    user = UserSummary()
    role = serializers.CharField()
    guest_role = serializers.CharField()
    guest_language = serializers.CharField()
    state = serializers.CharField()
    waiting_since = serializers.DateTimeField(source="updated_at")


class CancelInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500)


class SwitchInput(StrictInputSerializer):
    to = serializers.ChoiceField(choices=[("phone", "Phone"), ("audio_only", "Audio only"), ("video", "Back to video")])
    reason = serializers.ChoiceField(choices=Appointment.DeliveryReason.choices)


class ParticipantOut(serializers.Serializer):
    peer_id = serializers.SerializerMethodField()
    user = UserSummary()
    role = serializers.CharField()
    state = serializers.CharField()
    updated_at = serializers.DateTimeField()
    guest_role = serializers.CharField(help_text="For a guest: interpreter, advocate, colleague or other; otherwise empty.")
    guest_language = serializers.CharField(help_text="For an interpreter: the language; otherwise empty.")

    def get_peer_id(self, participant) -> str:
        from backend.sessions.signalling import peer_id_for

        return peer_id_for(participant.pk)


class IceServerOut(serializers.Serializer):
    urls = serializers.ListField(child=serializers.CharField())
    username = serializers.CharField(required=False)
    credential = serializers.CharField(required=False)


class IceServersOut(serializers.Serializer):
    ice_servers = IceServerOut(many=True)
    ttl_seconds = serializers.IntegerField()


class JoinLinkInput(StrictInputSerializer):
    user_id = serializers.IntegerField(min_value=1, help_text="The service user, or a carer they invited.")


class JoinLinkOut(serializers.Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()
    message = serializers.CharField(help_text="What to send with the link: when, with whom, how to join, who to phone if it fails.")


class PhoneCallInput(StrictInputSerializer):
    number = serializers.CharField(max_length=32, help_text="The number you are dialling.")
    callee_id = serializers.IntegerField(min_value=1, required=False, help_text="Defaults to the service user.")


class PhoneCallOut(serializers.Serializer):
    id = serializers.IntegerField()
    caller = UserSummary()
    callee = UserSummary()
    number = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)


class ConnectionSampleInput(StrictInputSerializer):
    remote_peer = serializers.RegexField(r"^p\d{1,12}$", max_length=16)
    measured_at = serializers.DateTimeField()
    round_trip_ms = serializers.FloatField(min_value=0, max_value=60_000, required=False, allow_null=True)
    packet_loss_pct = serializers.FloatField(min_value=0, max_value=100, required=False, allow_null=True)
    jitter_ms = serializers.FloatField(min_value=0, max_value=60_000, required=False, allow_null=True)
    inbound_kbps = serializers.FloatField(min_value=0, max_value=1_000_000, required=False, allow_null=True)
    outbound_kbps = serializers.FloatField(min_value=0, max_value=1_000_000, required=False, allow_null=True)
    frame_width = serializers.IntegerField(min_value=0, max_value=10_000, required=False, allow_null=True)
    frame_height = serializers.IntegerField(min_value=0, max_value=10_000, required=False, allow_null=True)


class IceStateInput(StrictInputSerializer):
    remote_peer = serializers.RegexField(r"^p\d{1,12}$", max_length=16)
    state = serializers.ChoiceField(choices=IceStateChange.State.choices)
    changed_at = serializers.DateTimeField()


class TelemetryInput(StrictInputSerializer):
    samples = ConnectionSampleInput(many=True, required=False, default=list, max_length=100)
    ice_states = IceStateInput(many=True, required=False, default=list, max_length=100)


class TelemetryOut(serializers.Serializer):
    stored = serializers.IntegerField()


class ConnectionSummaryOut(serializers.Serializer):
    samples = serializers.IntegerField()
    median_round_trip_ms = serializers.FloatField(allow_null=True)
    median_packet_loss_pct = serializers.FloatField(allow_null=True)
    median_jitter_ms = serializers.FloatField(allow_null=True)
    median_inbound_kbps = serializers.FloatField(allow_null=True)
    median_seconds_to_connect = serializers.FloatField(allow_null=True)
    reconnects = serializers.IntegerField()


class CourseOpenInput(StrictInputSerializer):
    service_user_id = serializers.IntegerField(min_value=1)
    team_id = serializers.IntegerField(min_value=1)
    started_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Defaults to today.")
    referral_date = serializers.DateField(required=False, allow_null=True, default=None)


class CourseEndInput(StrictInputSerializer):
    reason = serializers.ChoiceField(choices=CourseOfCare.EndingReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="Needed when the reason is 'other'.")
    ended_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Defaults to today.")


class CourseOut(serializers.ModelSerializer):
    service_user = UserSummary()
    team_name = serializers.CharField(source="team.name", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    appointment_ids = serializers.SerializerMethodField()

    class Meta:
        model = CourseOfCare
        fields = [
            "id", "service_user", "team", "team_name", "reference", "referral_date", "started_on", "ended_on",
            "ending_reason", "ending_note", "is_open", "appointment_ids",
        ]

    def get_appointment_ids(self, course) -> list[int]:
        return [a.pk for a in course.appointments.all()]


class GuestOut(serializers.Serializer):
    participant = ParticipantOut()
    url = serializers.URLField(help_text="The guest's link: it works for this session only, until an hour after it ends.")
    expires_at = serializers.DateTimeField()
    message = serializers.CharField(help_text="What to send with the link, in plain words (the same as join-links/ gives).")
