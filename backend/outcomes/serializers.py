from rest_framework import serializers

from backend.accounts.serializers import UserSummary
from backend.core.serializers import StrictInputSerializer, is_ascii_integer
from backend.outcomes.models import Instrument, InstrumentBand, InstrumentItem, InstrumentOption, MeasureSchedule, Response, RiskFlag

# Responses come in by these modes; "imported" is only ever written by an import.
SUBMITTED_MODE_CHOICES = [choice for choice in Response.Mode.choices if choice[0] != Response.Mode.IMPORTED]
CODE_HELP = "Lower-case letters, digits and hyphens, e.g. 'experience-of-care'."


class OptionOut(serializers.ModelSerializer):
    class Meta:
        model = InstrumentOption
        fields = ["value", "label"]


class ItemOut(serializers.ModelSerializer):
    is_risk_item = serializers.BooleanField(read_only=True)

    class Meta:
        model = InstrumentItem
        fields = ["number", "text", "reverse_keyed", "is_risk_item", "risk_above", "loinc"]


class BandOut(serializers.ModelSerializer):
    class Meta:
        model = InstrumentBand
        fields = ["lower", "upper", "label"]


class InstrumentOut(serializers.ModelSerializer):
    options = OptionOut(many=True)
    items = ItemOut(many=True)
    bands = BandOut(many=True)

    class Meta:
        model = Instrument
        fields = [
            "code", "name", "title", "version", "stem", "scoring", "higher_is_worse", "options", "items", "bands",
            "max_missing_items", "missing_rule", "missing_rule_source", "bands_source", "caseness_threshold",
            "caseness_source", "reliable_change", "reliable_change_source", "conversion", "conversion_source", "licence",
            "source", "loinc_panel", "loinc_total", "risk_note", "is_published", "organisation", "is_active",
        ]


class OptionInput(StrictInputSerializer):
    value = serializers.IntegerField(min_value=-100, max_value=100)
    label = serializers.CharField(max_length=120)


class ItemInput(StrictInputSerializer):
    number = serializers.IntegerField(min_value=1, max_value=200)
    text = serializers.CharField(max_length=1000)
    reverse_keyed = serializers.BooleanField(default=False)
    risk_above = serializers.IntegerField(required=False, allow_null=True, default=None,
                                          help_text="An answer above this value raises a risk flag.")


class BandInput(StrictInputSerializer):
    lower = serializers.DecimalField(max_digits=6, decimal_places=2)
    upper = serializers.DecimalField(max_digits=6, decimal_places=2)
    label = serializers.CharField(max_length=80)


class InstrumentCreateInput(StrictInputSerializer):
    organisation_id = serializers.IntegerField(min_value=1)
    code = serializers.SlugField(max_length=40, help_text=CODE_HELP)
    name = serializers.CharField(max_length=80)
    title = serializers.CharField(max_length=200)
    stem = serializers.CharField(max_length=2000, help_text="The instructions shown above the items.")
    higher_is_worse = serializers.BooleanField()
    max_missing_items = serializers.IntegerField(min_value=0, default=0)
    options = OptionInput(many=True)
    items = ItemInput(many=True, max_length=200)
    bands = BandInput(many=True, required=False, default=list)


class ScheduleOut(serializers.ModelSerializer):
    instrument = serializers.CharField(source="instrument.code")

    class Meta:
        model = MeasureSchedule
        fields = ["id", "team", "instrument", "when"]


class ScheduleInput(StrictInputSerializer):
    instrument = serializers.SlugField(help_text="The questionnaire's code, e.g. phq9.")
    when = serializers.ChoiceField(choices=MeasureSchedule.When.choices)


class DueOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()


class ResponseInput(StrictInputSerializer):
    instrument = serializers.SlugField(help_text="The questionnaire's code, e.g. phq9.")
    service_user_id = serializers.IntegerField(min_value=1)
    appointment_id = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None,
        help_text="The appointment the answers were given at (e.g. a paper form or phone call from a past appointment).",
    )
    course_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None,
                                         help_text="Needed when no appointment is named.")
    mode = serializers.ChoiceField(choices=SUBMITTED_MODE_CHOICES)
    answers = serializers.DictField(
        child=serializers.IntegerField(allow_null=True), allow_empty=False,
        help_text="Item number (as text) to the value of the answer chosen; null for an item left unanswered.",
    )
    completed_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="When the answers were given. Defaults to the appointment's start for answers a practitioner enters for an "
                  "appointment that has started (paper, phone, in person), otherwise to now.",
    )
    accept_incomplete = serializers.BooleanField(
        default=False, help_text="Store answers with too many items unanswered to score (the person chose not to answer)."
    )
    replaces = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None,
                                        help_text="The id of an earlier response these answers correct.")
    replacement_reason = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_answers(self, answers):
        parsed = {}
        for key, value in answers.items():
            # ASCII digits only: str.isdigit() also accepts '²', which int() then refuses.
            if not is_ascii_integer(str(key)) or int(key) < 1:
                raise serializers.ValidationError(f"'{str(key)[:20]}' is not an item number.", code="invalid_item")
            parsed[int(key)] = value
        return parsed


class AnswerOut(serializers.Serializer):
    item = serializers.IntegerField(source="item.number")
    value = serializers.IntegerField(allow_null=True)


class ResponseOut(serializers.ModelSerializer):
    instrument = serializers.CharField(source="instrument.code")
    replaced_by = serializers.SerializerMethodField()

    class Meta:
        model = Response
        fields = [
            "id", "instrument", "service_user", "course", "appointment", "mode", "completed_at", "entered_at", "status",
            "raw_total", "score", "band", "at_caseness", "prorated", "unanswered_items", "replaces", "replacement_reason",
            "replaced_by",
        ]

    def get_replaced_by(self, response) -> int | None:
        replacement = getattr(response, "replaced_by", None)
        return replacement.pk if replacement else None


class ResponseDetailOut(ResponseOut):
    answers = AnswerOut(many=True)

    class Meta(ResponseOut.Meta):
        fields = [*ResponseOut.Meta.fields, "answers"]


class PointOut(serializers.Serializer):
    response_id = serializers.IntegerField()
    completed_at = serializers.DateTimeField()
    score = serializers.DecimalField(max_digits=6, decimal_places=2)
    band = serializers.CharField()
    at_caseness = serializers.BooleanField(allow_null=True)
    modality = serializers.CharField(help_text="How the contact was delivered: video, phone, face_to_face, or empty if not known.")
    mode = serializers.CharField()


class TrajectoryOut(serializers.Serializer):
    instrument = serializers.CharField()
    name = serializers.CharField()
    caseness_threshold = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    reliable_change = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    higher_is_worse = serializers.BooleanField()
    points = PointOut(many=True)
    reliable_change_index = serializers.DecimalField(
        max_digits=8, decimal_places=2, allow_null=True, help_text="First to latest score (Jacobson and Truax); empty without a threshold."
    )


class MeasurePairOut(serializers.Serializer):
    first = serializers.DecimalField(max_digits=6, decimal_places=2)
    last = serializers.DecimalField(max_digits=6, decimal_places=2)


class PairedOutcomeOut(serializers.Serializer):
    course = serializers.IntegerField()
    counts = serializers.BooleanField(help_text="Whether the course counts towards paired outcomes at all: it finished a course of "
                                                "treatment and has a first and a last PHQ-9 and GAD-7 score.")
    reason_not_counted = serializers.CharField()
    finished_treatment = serializers.BooleanField(
        help_text="The course has ended having had at least two attended treatment appointments (treatment, or assessment and "
                  "treatment; NHS Talking Therapies' 'finished a course of treatment')."
    )
    pairs = serializers.DictField(child=MeasurePairOut(), allow_null=True)
    at_caseness_at_start = serializers.BooleanField(allow_null=True)
    recovered = serializers.BooleanField(allow_null=True, help_text="Empty when not at caseness at the start (not in the denominator).")
    reliable_improvement = serializers.BooleanField(allow_null=True)
    reliable_deterioration = serializers.BooleanField(allow_null=True)
    reliable_recovery = serializers.BooleanField(allow_null=True)


class RiskFlagOut(serializers.ModelSerializer):
    service_user = UserSummary()
    instrument = serializers.CharField(source="item.instrument.code")
    instrument_name = serializers.CharField(source="item.instrument.name")
    item = serializers.IntegerField(source="item.number")
    item_text = serializers.CharField(source="item.text")
    answer = serializers.SerializerMethodField()
    acknowledged_at = serializers.DateTimeField(source="acknowledgement.acknowledged_at", allow_null=True, default=None)
    acknowledged_by = serializers.CharField(source="acknowledgement.acknowledged_by.full_name", allow_null=True, default=None)
    action_taken = serializers.CharField(source="acknowledgement.action_taken", allow_null=True, default=None)

    class Meta:
        model = RiskFlag
        fields = [
            "id", "service_user", "instrument", "instrument_name", "item", "item_text", "value", "answer", "response",
            "raised_at", "acknowledged_at", "acknowledged_by", "action_taken",
        ]

    def get_answer(self, flag) -> str:
        labels = {option.value: option.label for option in flag.item.instrument.options.all()}  # prefetched
        return labels.get(flag.value, str(flag.value))


class AcknowledgeInput(StrictInputSerializer):
    action_taken = serializers.CharField(max_length=4000, help_text="What you did: e.g. called the person, safety plan reviewed.")


class ImportInput(StrictInputSerializer):
    team_id = serializers.IntegerField(min_value=1)
    file = serializers.FileField(help_text="The CSV described in docs/import.md.")
    dry_run = serializers.BooleanField(default=False, help_text="Check every row and report, without importing.")


class ImportRowErrorOut(serializers.Serializer):
    line = serializers.IntegerField()
    field = serializers.CharField()
    reason = serializers.CharField()


class ImportResultOut(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    service_users_created = serializers.IntegerField()
    courses_created = serializers.IntegerField()
    appointments_created = serializers.IntegerField()
    responses_created = serializers.IntegerField()
    consents_recorded = serializers.IntegerField(help_text="Consent decisions recorded from the optional consent columns.")
    unchanged = serializers.IntegerField(help_text="Rows already imported before, left as they were.")


# --- Query strings (parse_query) ------------------------------------------------------------------
class InstrumentListQuery(StrictInputSerializer):
    include_retired = serializers.BooleanField(required=False, default=False, help_text="Include retired questionnaires.")


class ResponseListQuery(StrictInputSerializer):
    service_user_id = serializers.IntegerField(min_value=1, required=False, help_text="Only this service user's responses.")
    instrument = serializers.SlugField(max_length=40, required=False, help_text="Only this questionnaire's, by code, e.g. phq9.")


class RiskFlagListQuery(StrictInputSerializer):
    status = serializers.ChoiceField(choices=["open", "all"], required=False, default="open", help_text="Default: open.")


class CaseloadDashboardQuery(StrictInputSerializer):
    team_id = serializers.IntegerField(min_value=1, required=False, help_text="Only this team's caseload (one of yours).")
    open_flags = serializers.BooleanField(required=False, default=False, help_text="Only people with open risk flags (clinicians).")


class MeasureSummaryOut(serializers.Serializer):
    score = serializers.DecimalField(max_digits=6, decimal_places=2)
    band = serializers.CharField()
    completed_at = serializers.DateTimeField()
    change = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True,
                                      help_text="Latest minus the first score of the current course of care; empty with one score.")


class DashboardAppointmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    status = serializers.CharField()


class CaseloadDashboardRowOut(serializers.Serializer):
    person = UserSummary()
    teams = serializers.ListField(child=serializers.CharField())
    next_appointment = DashboardAppointmentOut(allow_null=True)
    phq9 = MeasureSummaryOut(source="measures.phq9", allow_null=True)
    gad7 = MeasureSummaryOut(source="measures.gad7", allow_null=True)
    open_flags = serializers.IntegerField(allow_null=True, help_text="Empty for peer workers, who do not see risk flags.")
    outstanding = serializers.ListField(child=serializers.CharField(), help_text="Questionnaires due at the next appointment, not yet answered.")
