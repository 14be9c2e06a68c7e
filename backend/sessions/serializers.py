from rest_framework import serializers

from backend.accounts.serializers import UserSummary
from backend.consent.models import Modality
from backend.core.serializers import StrictInputSerializer
from backend.sessions.models import Appointment, AppointmentEvent, TeamSessionSettings


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


class ChoiceInput(StrictInputSerializer):
    modality = serializers.ChoiceField(choices=Modality.choices)


class DeliveryInput(StrictInputSerializer):
    modality = serializers.ChoiceField(choices=Modality.choices)
    reason = serializers.ChoiceField(choices=Appointment.DeliveryReason.choices, required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AppointmentOut(serializers.ModelSerializer):
    service_user = UserSummary()
    practitioner = UserSummary()
    team_name = serializers.CharField(source="team.name", read_only=True)
    choice_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Appointment
        fields = [
            "id", "service_user", "practitioner", "team", "team_name", "kind", "starts_at", "duration_minutes",
            "modalities_offered", "earliest_face_to_face_slot", "earliest_remote_slot", "choice_closes_at", "choice_open",
            "chosen_modality", "chosen_at", "delivered_modality", "delivery_reason", "delivery_note", "created_at",
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
