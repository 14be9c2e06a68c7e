"""Routine outcome measures: instruments as data, the responses people give, and the risk flags they raise.

Instruments are immutable once created (a new wording or scoring is a new instrument), so a stored
score can always be re-derived from its answers. Responses, answers, flags and acknowledgements are
append-only: a correction is a new response that replaces the old one, never an edit.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from backend.accounts.models import Organisation, Team
from backend.audit.append_only import AppendOnlyModel
from backend.audit.history import track
from backend.sessions.models import Appointment, CourseOfCare


@track()
class Instrument(models.Model):
    """A questionnaire: its items, the answers each item takes, and how a total is scored and read.

    The published instruments (PHQ-9, GAD-7, CORE-10, SWEMWBS, WSAS) are seeded from catalogue.py with
    their sources; an admin can add a service's own questionnaire (sum scoring, reverse keys, bands).
    """

    class Scoring(models.TextChoices):
        SUM = "sum", "Sum of item values (reverse-keyed items reversed)"
        SUM_CONVERTED = "sum_converted", "Sum of item values, converted by a published table"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    title = models.CharField(max_length=200)
    version = models.CharField(max_length=20, default="1")
    stem = models.TextField(help_text="The instructions shown above the items.")
    scoring = models.CharField(max_length=16, choices=Scoring.choices, default=Scoring.SUM)
    higher_is_worse = models.BooleanField(default=True)
    max_missing_items = models.PositiveSmallIntegerField(
        default=0, help_text="How many items may be unanswered with the total still prorated; 0 means every item is needed."
    )
    missing_rule = models.TextField(blank=True)
    missing_rule_source = models.TextField(blank=True)
    bands_source = models.TextField(blank=True)
    caseness_threshold = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    caseness_source = models.TextField(blank=True)
    reliable_change = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    reliable_change_source = models.TextField(blank=True)
    conversion = models.JSONField(null=True, blank=True, help_text="Raw total (as text) to reported score, for converted scoring.")
    conversion_source = models.TextField(blank=True)
    licence = models.TextField(blank=True)
    source = models.TextField(blank=True)
    loinc_panel = models.CharField(max_length=16, blank=True)
    loinc_total = models.CharField(max_length=16, blank=True)
    risk_note = models.TextField(blank=True)
    is_published = models.BooleanField(default=False, help_text="A published instrument seeded with Rapport, not a local one.")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="instruments",
        help_text="The organisation a local questionnaire belongs to; empty for published instruments.",
    )
    is_active = models.BooleanField(default=True, help_text="Retired instruments keep their responses but cannot be scheduled or given.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class InstrumentOption(models.Model):
    """One answer every item of the instrument offers, with the value recorded for it."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="options")
    value = models.SmallIntegerField()
    label = models.CharField(max_length=120)

    class Meta:
        ordering = ["value"]
        constraints = [models.UniqueConstraint(fields=["instrument", "value"], name="one_option_per_value")]


class InstrumentItem(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="items")
    number = models.PositiveSmallIntegerField()
    text = models.TextField()
    reverse_keyed = models.BooleanField(default=False)
    risk_above = models.SmallIntegerField(
        null=True, blank=True, help_text="An answer above this value raises a risk flag; empty if the item is not a risk item."
    )
    loinc = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["instrument", "number"], name="one_item_per_number")]

    @property
    def is_risk_item(self) -> bool:
        return self.risk_above is not None


class InstrumentBand(models.Model):
    """A named range of the reported score (both ends included)."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="bands")
    lower = models.DecimalField(max_digits=6, decimal_places=2)
    upper = models.DecimalField(max_digits=6, decimal_places=2)
    label = models.CharField(max_length=80)

    class Meta:
        ordering = ["lower"]


@track()
class MeasureSchedule(models.Model):
    """Which questionnaires a team asks for, and when in a course of care."""

    class When(models.TextChoices):
        EVERY_SESSION = "every_session", "At every session"
        FIRST_AND_LAST = "first_and_last", "At the first session and the planned last"
        FIRST_ONLY = "first_only", "At the first session only"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="measure_schedules")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="schedules")
    when = models.CharField(max_length=16, choices=When.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team", "instrument__name"]
        constraints = [models.UniqueConstraint(fields=["team", "instrument"], name="one_schedule_per_instrument")]


class Response(AppendOnlyModel):
    """One completed questionnaire: the answers (as Answer rows) and the score worked out when it was
    given. `replaces` points at an earlier response this one corrects; the earlier one stays."""

    class Mode(models.TextChoices):
        SELF_ONLINE = "self_online", "Self-completed online"
        CLINICIAN_PHONE = "clinician_phone", "Clinician-administered by phone"
        PAPER = "paper", "On paper"
        IN_PERSON = "in_person", "Clinician-administered in person"
        IMPORTED = "imported", "Imported from an earlier system"

    class Status(models.TextChoices):
        SCORED = "scored", "Scored"
        INCOMPLETE = "incomplete", "Incomplete: too many items unanswered to score"

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="responses")
    service_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="outcome_responses")
    course = models.ForeignKey(CourseOfCare, on_delete=models.PROTECT, related_name="responses")
    appointment = models.ForeignKey(Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="responses")
    mode = models.CharField(max_length=16, choices=Mode.choices)
    completed_at = models.DateTimeField()
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the submission, to tell a retry from a different submission.")
    status = models.CharField(max_length=16, choices=Status.choices)
    raw_total = models.IntegerField(null=True, blank=True, help_text="Sum of item values after reverse keying (prorated if allowed).")
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True, help_text="The reported score.")
    band = models.CharField(max_length=80, blank=True)
    at_caseness = models.BooleanField(null=True, blank=True)
    prorated = models.BooleanField(default=False)
    unanswered_items = models.PositiveSmallIntegerField(default=0)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    replacement_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["completed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entered_by", "idempotency_key"], name="one_response_per_idempotency_key"),
        ]
        indexes = [models.Index(fields=["service_user", "instrument", "completed_at"]), models.Index(fields=["course", "completed_at"])]


class Answer(AppendOnlyModel):
    """One item's answer in a response; `value` is empty when the item was left unanswered."""

    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="answers")
    item = models.ForeignKey(InstrumentItem, on_delete=models.PROTECT, related_name="+")
    value = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["response", "item__number"]
        constraints = [models.UniqueConstraint(fields=["response", "item"], name="one_answer_per_item")]


class RiskFlag(AppendOnlyModel):
    """An answer to a risk item (PHQ-9 item 9 above zero, and the like) that the person's clinicians
    must see. Open until a clinician acknowledges it with the action taken."""

    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="risk_flags")
    service_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="risk_flags")
    item = models.ForeignKey(InstrumentItem, on_delete=models.PROTECT, related_name="+")
    value = models.SmallIntegerField()
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-raised_at", "-id"]


class RiskFlagAcknowledgement(AppendOnlyModel):
    flag = models.OneToOneField(RiskFlag, on_delete=models.PROTECT, related_name="acknowledgement")
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(default=timezone.now)
    action_taken = models.TextField()
