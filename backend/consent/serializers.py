from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.accounts.serializers import UserSummary
from backend.consent.models import Access, ConsentPurpose, ConsentRecord, ConsentWording, Modality, ModalityPreference, ModalityReason
from backend.core.serializers import StrictInputSerializer


class WordingOut(serializers.ModelSerializer):
    class Meta:
        model = ConsentWording
        fields = ["version", "text", "effective_from", "requires_reconsent", "created_at"]


class PurposeOut(serializers.ModelSerializer):
    current_wording = serializers.SerializerMethodField()

    class Meta:
        model = ConsentPurpose
        fields = ["code", "name", "description", "names_a_carer", "current_wording"]

    @extend_schema_field(WordingOut(allow_null=True))
    def get_current_wording(self, purpose):
        from backend.consent.selectors import current_wording

        wording = current_wording(purpose)
        return WordingOut(wording).data if wording else None


class PurposeCreateInput(StrictInputSerializer):
    code = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=2000)
    names_a_carer = serializers.BooleanField(default=False)


class WordingPublishInput(StrictInputSerializer):
    text = serializers.CharField(max_length=20_000, help_text="The wording as read or shown to the person (up to 20,000 characters).")
    effective_from = serializers.DateField()
    requires_reconsent = serializers.BooleanField(default=False)


class ConsentRecordInput(StrictInputSerializer):
    purpose = serializers.SlugField(max_length=64, help_text="The purpose's code, e.g. video.")
    decision = serializers.ChoiceField(choices=ConsentRecord.Decision.choices)
    wording_version = serializers.IntegerField(
        min_value=1, required=False, help_text="The version the person read. Required to give or refuse; must be current."
    )
    carer_id = serializers.IntegerField(min_value=1, required=False, help_text="For purposes that name a carer.")
    share_outcomes = serializers.BooleanField(default=False, help_text="Carer purposes: share questionnaire scores too.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000,
                                 help_text="Required when a clinician records verbal consent.")


class ConsentRecordOut(serializers.ModelSerializer):
    purpose = serializers.SlugRelatedField(slug_field="code", read_only=True)
    wording_version = serializers.IntegerField(source="wording.version", read_only=True)
    carer = UserSummary(allow_null=True)
    recorded_by = UserSummary()

    class Meta:
        model = ConsentRecord
        fields = ["id", "purpose", "decision", "wording_version", "carer", "share_outcomes", "method", "note", "recorded_at", "recorded_by"]


class ConsentStateOut(serializers.Serializer):
    purpose = serializers.CharField(source="purpose.code")
    purpose_name = serializers.CharField(source="purpose.name")
    carer = UserSummary(allow_null=True)
    status = serializers.ChoiceField(choices=["given", "refused", "withdrawn", "stale", "not_asked"])
    holds = serializers.BooleanField()
    current_wording_version = serializers.IntegerField(source="wording.version", allow_null=True, default=None)
    latest = ConsentRecordOut(allow_null=True)


class PreferenceInput(StrictInputSerializer):
    ranking = serializers.ListField(
        child=serializers.ChoiceField(choices=Modality.choices), min_length=3, max_length=3,
        help_text="All three modalities, most preferred first.",
    )
    reasons = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list, help_text="ModalityReason codes.")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    has_suitable_device = serializers.ChoiceField(choices=Access.choices)
    has_enough_data = serializers.ChoiceField(choices=Access.choices)
    has_private_space = serializers.ChoiceField(choices=Access.choices)
    confident_using = serializers.ChoiceField(choices=Access.choices)
    wants_help = serializers.BooleanField(default=False)


class PreferenceOut(serializers.ModelSerializer):
    recorded_by = UserSummary()
    access_needs = serializers.SerializerMethodField()

    class Meta:
        model = ModalityPreference
        fields = [
            "id", "ranking", "reasons", "note", "has_suitable_device", "has_enough_data", "has_private_space",
            "confident_using", "wants_help", "access_needs", "recorded_at", "recorded_by",
        ]

    def get_access_needs(self, preference) -> list[str]:
        from backend.consent.selectors import access_needs

        return access_needs(preference)


class ReasonCodeOut(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


REASON_CODES = [{"code": code, "label": label} for code, label in ModalityReason.choices]
