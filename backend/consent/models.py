"""What service users agreed to, and how they choose to be seen.

Consent records, wording versions and modality preferences are append-only: the current state is the
latest record, and history is never rewritten (backend/audit/append_only.py).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from backend.audit.append_only import AppendOnlyModel


class Modality(models.TextChoices):
    """How a session is delivered. Face to face always stays on offer."""

    VIDEO = "video", "Video call"
    PHONE = "phone", "Phone call"
    FACE_TO_FACE = "face_to_face", "Face to face"


REMOTE_MODALITIES = frozenset({Modality.VIDEO, Modality.PHONE})


class ConsentPurpose(models.Model):
    """Something a service user can agree to (a catalogue admins manage). The code is stable: other apps
    ask `has_consent(person, code)`; the seeded codes are in `PurposeCode`."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(help_text="In plain words: what agreeing to this means.")
    names_a_carer = models.BooleanField(
        default=False, help_text="Consent is given per carer (involving a named carer, sharing with them)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class PurposeCode(models.TextChoices):
    """The purposes Rapport's own rules depend on (seeded by migration 0002)."""

    REMOTE_CARE = "remote_care", "Receiving care remotely"
    VIDEO = "video", "Being seen on video"
    CARER_INVOLVEMENT = "carer_involvement", "Involving a named carer"
    EVALUATION = "evaluation", "Use of pseudonymised data for service evaluation"


class ConsentWording(AppendOnlyModel):
    """One version of what a person is asked to agree to. Never edited: a change is a new version.

    `requires_reconsent` on a new version makes consents given to earlier versions stale from the day
    it takes effect, until the person agrees to the new wording.
    """

    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="wordings")
    version = models.PositiveIntegerField()
    text = models.TextField()
    effective_from = models.DateField()
    requires_reconsent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["purpose_id", "version"]
        constraints = [models.UniqueConstraint(fields=["purpose", "version"], name="one_wording_per_version")]

    def __str__(self):
        return f"{self.purpose.code} v{self.version}"


class ConsentRecord(AppendOnlyModel):
    """A service user giving, refusing or withdrawing consent to one purpose, against one wording.

    Recorded by the person online, or by a clinician on their team taking verbal consent (with a note),
    or imported from an earlier system by an admin (`consent_record_historic`): then `recorded_at` is
    when the decision was made there, `method` how it was recorded there, and `note` the evidence.
    For purposes that name a carer, `carer` says whom it concerns and `share_outcomes` whether outcome
    scores are shared as well as appointment times.
    """

    class Decision(models.TextChoices):
        GIVEN = "given", "Given"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Method(models.TextChoices):
        ONLINE = "online", "By the person, online"
        VERBAL = "verbal", "Verbally, recorded by a clinician"
        WRITTEN = "written", "In writing, on a signed form (imported from an earlier system)"

    service_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consent_records")
    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="records")
    wording = models.ForeignKey(ConsentWording, on_delete=models.PROTECT, related_name="records")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    carer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    share_outcomes = models.BooleanField(default=False)
    method = models.CharField(max_length=16, choices=Method.choices)
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["service_user", "purpose", "carer", "-id"], name="consent_latest_idx")]


class ModalityReason(models.TextChoices):
    """Why a person prefers what they prefer (coded for evaluation; free text goes beside)."""

    NO_PRIVATE_SPACE = "no_private_space", "No private space at home"
    NO_SUITABLE_DEVICE = "no_suitable_device", "No suitable phone, tablet or computer"
    POOR_CONNECTION = "poor_connection", "Poor internet connection"
    PREFERS_IN_PERSON = "prefers_in_person", "Prefers to meet in person"
    FITS_AROUND_COMMITMENTS = "fits_around_commitments", "Easier to fit around work or caring"
    ACCESSIBILITY_NEEDS = "accessibility_needs", "Accessibility needs"
    TRAVEL_ANXIETY = "travel_anxiety", "Anxiety about travelling"
    TRAVEL_COST_OR_DISTANCE = "travel_cost_or_distance", "Travel cost or distance"
    FEELS_SAFER_AT_HOME = "feels_safer_at_home", "Feels safer or more comfortable at home"
    OTHER = "other", "Another reason (see note)"


class Access(models.TextChoices):
    """An answer about digital access. 'Unsure' is a real answer, not a missing one."""

    YES = "yes", "Yes"
    NO = "no", "No"
    UNSURE = "unsure", "Not sure"


class ModalityPreference(AppendOnlyModel):
    """A service user's standing order of preference among video, phone and face to face, why, and
    what they have for remote care. Each change is a new row; the latest is the current preference.
    """

    service_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="modality_preferences")
    ranking = models.JSONField(help_text="All three modalities, most preferred first.")
    reasons = models.JSONField(default=list, blank=True, help_text="ModalityReason codes.")
    note = models.TextField(blank=True)
    has_suitable_device = models.CharField(max_length=8, choices=Access.choices)
    has_enough_data = models.CharField(max_length=8, choices=Access.choices, help_text="Enough mobile data or broadband for a video call.")
    has_private_space = models.CharField(max_length=8, choices=Access.choices)
    confident_using = models.CharField(max_length=8, choices=Access.choices, help_text="Confident using video calls.")
    wants_help = models.BooleanField(default=False, help_text="Would like help to get set up for remote sessions.")
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["service_user", "-id"], name="preference_latest_idx")]

    @property
    def first_choice(self) -> str:
        return self.ranking[0]
