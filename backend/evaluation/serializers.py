from rest_framework import serializers

from backend.consent.models import Modality
from backend.core.serializers import StrictInputSerializer
from backend.evaluation.dictionary import DATASETS
from backend.evaluation.formats import FORMATS
from backend.evaluation.pseudonyms import DEFAULT_SHIFT_DAYS, MAX_SHIFT_DAYS, DateMode, DateSetting
from backend.evaluation.selectors import Filters
from backend.evaluation.services import ExportRequest


class ReportFiltersInput(StrictInputSerializer):
    """What the report is narrowed to. Unknown names are refused, each named."""

    date_from = serializers.DateField(required=False, help_text="First day included (the appointment's or decision's date).")
    date_to = serializers.DateField(required=False, help_text="Last day included; not before date_from.")
    team = serializers.IntegerField(min_value=1, required=False, help_text="A team's id (GET /api/v1/teams/).")
    site = serializers.CharField(max_length=200, required=False, help_text="A team's site, e.g. Leeds (any case).")


class FiltersInput(ReportFiltersInput):
    modality = serializers.ChoiceField(
        choices=Modality.choices, required=False,
        help_text="sessions and care_contacts: delivered modality, or chosen when the session did not happen; responses, "
                  "responses_long and fhir: the delivered modality of the appointment the questionnaire was given at (fhir's "
                  "encounters and appointments as sessions; it leaves consent out); courses: the course's modality "
                  "(docs/evaluation.md).",
    )
    instrument = serializers.SlugField(
        max_length=40, required=False,
        help_text="responses, responses_long and fhir: an instrument's code, e.g. phq9 (GET /api/v1/outcomes/instruments/); "
                  "fhir then holds questionnaires only.",
    )


class ExportInput(StrictInputSerializer):
    dataset = serializers.ChoiceField(choices=[(d.code, d.title) for d in DATASETS.values()])
    format = serializers.ChoiceField(choices=list(FORMATS.items()))
    dates = serializers.ChoiceField(choices=DateMode.choices, default=DateMode.MONTH, help_text="How dates are shown (docs/evaluation.md).")
    max_shift_days = serializers.IntegerField(
        min_value=1, max_value=MAX_SHIFT_DAYS, default=DEFAULT_SHIFT_DAYS,
        help_text="With dates=shifted: each person's dates move by the same number of days, within plus or minus this.",
    )
    filters = FiltersInput(required=False)


def filters_from(data: dict | None) -> Filters:
    return Filters(**(data or {}))


def export_request_from(data: dict) -> ExportRequest:
    """A parsed ExportInput as the service's request."""
    return ExportRequest(
        dataset=data["dataset"], format=data["format"],
        dates=DateSetting(mode=data["dates"], max_shift_days=data["max_shift_days"]),
        filters=filters_from(data.get("filters")),
    )


class ColumnOut(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    meaning = serializers.CharField()
    allowed_values = serializers.CharField()
    source = serializers.CharField()


class DatasetOut(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    unit = serializers.CharField(help_text="What one row is.")
    filters = serializers.ListField(child=serializers.CharField())
    columns = ColumnOut(many=True)


class RateOut(serializers.Serializer):
    """A proportion with its Wilson 95% interval. Suppressed: numerator or denominator null."""

    numerator = serializers.IntegerField(allow_null=True)
    denominator = serializers.IntegerField(allow_null=True)
    value = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    suppressed = serializers.BooleanField()


class ReportRowOut(serializers.Serializer):
    """One group's counts; null means suppressed (a count of 1 to 4, or one that would reveal one)."""

    team = serializers.CharField(help_text="A team's name, or 'total'.")
    modality = serializers.CharField(help_text="video, phone, face_to_face or 'total'.")
    courses = serializers.IntegerField(allow_null=True)
    attended = serializers.IntegerField(allow_null=True)
    did_not_attend = serializers.IntegerField(allow_null=True)
    appointments = serializers.IntegerField(allow_null=True)
    did_not_attend_rate = RateOut(source="rates.did_not_attend")


class TeamRowsOut(serializers.Serializer):
    team = serializers.CharField()
    rows = ReportRowOut(many=True)


class MeanChangeOut(serializers.Serializer):
    """Mean of last score minus first score; null when suppressed (courses null) or when no course has one."""

    instrument = serializers.CharField()
    courses = serializers.IntegerField(allow_null=True)
    mean = serializers.FloatField(allow_null=True)


class OutcomeRowOut(serializers.Serializer):
    """Paired outcomes of the courses that ended within the dates, by the course's modality; null means suppressed."""

    team = serializers.CharField(help_text="A team's name, or 'total'.")
    modality = serializers.CharField(help_text="video, phone, face_to_face, mixed (no modality for more than half the attended "
                                               "sessions), none (no attended session), or 'total'.")
    ended_courses = serializers.IntegerField(allow_null=True, source="ended", help_text="Courses that ended within the dates.")
    finished_treatment = RateOut(source="shares.finished_treatment",
                                 help_text="Finished a course of treatment (ended having had at least two attended treatment "
                                           "appointments) / ended courses.")
    paired_scores = RateOut(source="shares.paired_scores",
                            help_text="With paired PHQ-9 and GAD-7 scores (they count in paired outcomes) / finished a course of treatment.")
    at_caseness = RateOut(source="shares.at_caseness", help_text="At caseness at the start / with paired scores.")
    recovery = RateOut(source="rates.recovery", help_text="Recovered / courses at caseness at the start.")
    reliable_recovery = RateOut(source="rates.reliable_recovery", help_text="Reliably recovered / courses at caseness at the start.")
    reliable_improvement = RateOut(source="rates.reliable_improvement", help_text="Reliably improved / courses with paired scores.")
    reliable_deterioration = RateOut(source="rates.reliable_deterioration", help_text="Reliably deteriorated / courses with paired scores.")
    mean_change = MeanChangeOut(many=True)


class TeamOutcomeRowsOut(serializers.Serializer):
    team = serializers.CharField()
    rows = OutcomeRowOut(many=True)


class MeasureOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    higher_is_worse = serializers.BooleanField(help_text="True: a negative mean change is an improvement.")


class ReportOut(serializers.Serializer):
    enough_people = serializers.BooleanField(help_text="False: fewer people match than the suppression threshold, and nothing is shown.")
    unattributed = serializers.IntegerField(allow_null=True, help_text="Appointments with no modality delivered or chosen.")
    by_modality = ReportRowOut(many=True)
    by_team = TeamRowsOut(many=True)
    measures = MeasureOut(many=True, help_text="The instruments with a mean change, in the order of each row's mean_change.")
    outcomes_by_modality = OutcomeRowOut(many=True)
    outcomes_by_team = TeamOutcomeRowsOut(many=True)


class RoleEngagementRowOut(serializers.Serializer):
    """Sessions offered by site and practitioner role; null means suppressed."""

    site = serializers.CharField(help_text="A site, or 'total'.")
    role = serializers.CharField(help_text="clinician, peer_worker, peer_trainer, or 'total'.")
    offered = serializers.IntegerField(allow_null=True, help_text="Attended and did not attend together.")
    attended = serializers.IntegerField(allow_null=True)
    did_not_attend = serializers.IntegerField(allow_null=True)
    did_not_attend_rate = RateOut(source="dna")


class RoleOutcomeRowOut(serializers.Serializer):
    """Paired outcomes of the courses of care that ended within the dates, by site and the course's role; null means suppressed."""

    site = serializers.CharField(help_text="A site, or 'total'.")
    role = serializers.CharField(help_text="clinician, peer_worker, peer_trainer, mixed (no role ran more than half the attended "
                                           "sessions), none (no attended session), or 'total'.")
    ended_courses = serializers.IntegerField(allow_null=True, source="ended")
    finished_treatment = RateOut(source="shares.finished_treatment")
    paired_scores = RateOut(source="shares.paired_scores")
    at_caseness = RateOut(source="shares.at_caseness")
    recovery = RateOut(source="rates.recovery")
    reliable_recovery = RateOut(source="rates.reliable_recovery")
    reliable_improvement = RateOut(source="rates.reliable_improvement")
    reliable_deterioration = RateOut(source="rates.reliable_deterioration")


class RoleSiteReportOut(serializers.Serializer):
    enough_people = serializers.BooleanField(help_text="False: fewer people match than the suppression threshold, and nothing is shown.")
    unattributed = serializers.IntegerField(allow_null=True, help_text="Sessions with no recorded practitioner role.")
    engagement = RoleEngagementRowOut(many=True)
    outcomes = RoleOutcomeRowOut(many=True)
    courses_completed = serializers.DictField(
        child=serializers.IntegerField(allow_null=True), allow_null=True,
        help_text="Recovery College courses completed (completed enrolments of students in evaluation), by site, then `total` for all "
                  "sites; a suppressed count is null. Empty when there are too few people.")
