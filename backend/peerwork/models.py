"""Peer work: the supervision log and fidelity ratings (docs/peerwork.md).

Peer support itself is not recorded again here: a one-to-one appointment is peer support when a peer
worker ran it (`Appointment.run_by`, else the practitioner it was booked with), and a group session
when a peer worker facilitated or co-facilitated it (`selectors.py`). Recording it twice would let the
two disagree.

Every record here is append-only: a supervision entry is a log line, a rating is what an informant
said on a day, and a fidelity questionnaire's registration is superseded by a later one, never edited.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from backend.accounts.models import Organisation, Team
from backend.audit.append_only import AppendOnlyModel
from backend.outcomes.models import Instrument, InstrumentItem


class Domain(models.TextChoices):
    """The four domains of the Peer Support Fidelity Index (Gillard et al.; docs/peerwork.md)."""

    TRUST = "trust_lived_experience", "Building trusting relationships based on shared lived experience"
    RECIPROCITY = "reciprocity_mutuality", "Reciprocity and mutuality"
    LEADERSHIP = "leadership_choice_control", "Leadership, choice and control"
    STRENGTHS = "strengths_community", "Building strengths and making connections to community"


class Informant(models.TextChoices):
    """The three informants the index is rated by."""

    PEER_WORKER = "peer_worker", "The peer worker"
    SUPERVISOR = "supervisor", "The peer worker's supervisor"
    PERSON_SUPPORTED = "person_supported", "A person the peer worker supported"


class SupervisionTopic(models.TextChoices):
    """What a supervision covered, as codes (so evaluators can count them; the notes are never exported)."""

    LIVED_EXPERIENCE = "lived_experience", "Using lived experience in the role"
    BOUNDARIES = "boundaries", "Boundaries"
    WELLBEING = "wellbeing", "The peer worker's own wellbeing"
    PEOPLE_SUPPORTED = "people_supported", "Work with the people supported"
    TEAM_WORKING = "team_working", "Working with the team"
    SAFEGUARDING = "safeguarding", "Safeguarding"
    TRAINING = "training", "Training and development"
    OTHER = "other", "Something else (see notes)"


class SupervisionEntry(AppendOnlyModel):
    """One supervision of a peer worker: when, by whom, about what, and the actions agreed. Written by
    the supervisor; read by the supervisor and the peer worker only."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+", help_text="The peer worker's team the supervision is about (its site is reported).")
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervisions_given")
    peer_worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervisions_received")
    held_on = models.DateField()
    topics = models.JSONField(help_text="SupervisionTopic codes, at least one.")
    actions = models.TextField(help_text="The actions agreed, as written.")
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["peer_worker", "held_on"]), models.Index(fields=["supervisor", "held_on"])]


class FidelityQuestionnaire(AppendOnlyModel):
    """The questionnaire an organisation's informants of one kind answer: a local instrument (loaded by an
    admin through outcomes' instruments-as-data, from the licensed index) with each item's domain.
    The newest registration whose instrument is still active is the one in use."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    informant = models.CharField(max_length=20, choices=Informant.choices)
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    item_domains = models.JSONField(help_text="Item number (as text) -> Domain code, for every item.")
    licence = models.TextField(help_text="The licence under which the organisation uses the items.")
    source = models.TextField(help_text="Where the items come from (the published or licensed source).")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]


class FidelityRating(AppendOnlyModel):
    """One informant's answers about one peer worker's practice in one team, on one day. The total is
    the loaded questionnaire's own scoring (outcomes/scoring.py over the admin's definition)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    peer_worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fidelity_ratings_about")
    informant = models.CharField(max_length=20, choices=Informant.choices)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fidelity_ratings_given")
    questionnaire = models.ForeignKey(FidelityQuestionnaire, on_delete=models.PROTECT, related_name="ratings")
    rated_on = models.DateField()
    score = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True,
                                help_text="The total as the loaded questionnaire scores it; empty when too many items were left unanswered.")
    unanswered_items = models.PositiveSmallIntegerField(default=0)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-rated_on", "-id"]
        indexes = [models.Index(fields=["organisation", "rated_on"])]


class FidelityAnswer(AppendOnlyModel):
    """One item's answer in a rating; `value` is empty when the item was left unanswered."""

    rating = models.ForeignKey(FidelityRating, on_delete=models.PROTECT, related_name="answers")
    item = models.ForeignKey(InstrumentItem, on_delete=models.PROTECT, related_name="+")
    value = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["rating", "item__number"]
        constraints = [models.UniqueConstraint(fields=["rating", "item"], name="one_fidelity_answer_per_item")]
