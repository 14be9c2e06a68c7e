"""The people, groups, activities and places around a person, the services they could be put in touch
with, and whether that worked (docs/network.md).

- `SocialMap` is the person's map now: its members (`MapMember`, editable), interests and needs.
  `MapSnapshot` freezes it on a day, so change over time can be compared; snapshots are append-only.
- `MapSharing` is the person's choice of who sees the map besides themselves: their care team, and
  which of their linked carers. Append-only: the latest row holds, as with consent.
- `Resource` is a service, group or online resource in an organisation's directory, kept by its admins.
- `Signpost` records a resource offered to a person, with a follow-up date; `SignpostFollowUp` the
  outcome (went, did not go and why), append-only: the latest holds.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from backend.audit.append_only import AppendOnlyModel
from backend.audit.history import track


class Category(models.TextChoices):
    """What a person is interested in or needs, and what a resource offers: one list, so a person's
    answers filter the directory. Written for Rapport (not a clinical classification)."""

    PHYSICAL_ACTIVITY = "physical_activity", "Sport, walking and physical activity"
    ARTS_MUSIC = "arts_music", "Arts, crafts and music"
    NATURE_GARDENING = "nature_gardening", "Nature and gardening"
    LEARNING = "learning", "Learning and courses"
    VOLUNTEERING = "volunteering", "Volunteering"
    FAITH = "faith", "Faith and spiritual groups"
    SOCIAL_GROUPS = "social_groups", "Social groups and meeting people"
    PEER_SUPPORT = "peer_support", "Peer support and self-help groups"
    WORK = "work", "Work, training and employment support"
    MONEY = "money", "Money, debt and benefits advice"
    HOUSING = "housing", "Housing advice"
    PHYSICAL_HEALTH = "physical_health", "Looking after physical health"
    DRUGS_ALCOHOL = "drugs_alcohol", "Drug and alcohol support"
    CARERS = "carers", "Support for carers and families"
    DIGITAL = "digital", "Getting online and digital skills"
    CRISIS = "crisis", "Help in a crisis or out of hours"


@track()
class SocialMap(models.Model):
    """A person's social connection map as it is now: one per person. Made when the person (or their
    care team with them) starts it; its members and interests change as life does."""

    service_user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="social_map")
    interests = models.JSONField(default=list, blank=True, help_text="Category codes the person is interested in.")
    needs = models.JSONField(default=list, blank=True, help_text="Category codes the person would like help with.")
    postcode_district = models.CharField(max_length=4, blank=True, help_text="The person's postcode district (e.g. LS6), for local suggestions.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


@track()
class MapMember(models.Model):
    """Someone or something in the person's life, on one of three circles of importance (1 the
    closest), with how often they are in contact and the kinds of support they give (GENIE's three:
    illness-related, everyday, emotional; Vassilev et al. 2013). Labelled as the person chooses: a
    first name, a nickname or "Mum" is enough. `carer` when the member is a carer linked in Rapport."""

    class Kind(models.TextChoices):
        PERSON = "person", "A person"
        GROUP = "group", "A group"
        ACTIVITY = "activity", "An activity"
        PLACE = "place", "A place"
        PROFESSIONAL = "professional", "A professional or service"

    class Relationship(models.TextChoices):
        FAMILY = "family", "Family"
        PARTNER = "partner", "Partner"
        FRIEND = "friend", "Friend"
        NEIGHBOUR = "neighbour", "Neighbour"
        WORK_OR_STUDY = "work_or_study", "From work or study"
        PEER = "peer", "Someone with similar experiences"
        PET = "pet", "A pet"
        PROFESSIONAL = "professional", "Professional"
        OTHER = "other", "Something else"

    class Frequency(models.TextChoices):
        DAILY = "daily", "Every day or most days"
        WEEKLY = "weekly", "Every week"
        MONTHLY = "monthly", "Every month"
        LESS_OFTEN = "less_often", "Less often than monthly"

    map = models.ForeignKey(SocialMap, on_delete=models.CASCADE, related_name="members")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    label = models.CharField(max_length=60, help_text="What the person calls them; no full name needed.")
    circle = models.PositiveSmallIntegerField(help_text="1 (closest, most important), 2 or 3.")
    relationship = models.CharField(max_length=16, choices=Relationship.choices, blank=True)
    contact_frequency = models.CharField(max_length=16, choices=Frequency.choices)
    illness_support = models.BooleanField(default=False, help_text="Helps with the illness: medication, appointments, symptoms.")
    everyday_support = models.BooleanField(default=False, help_text="Helps with everyday life: shopping, lifts, money, chores.")
    emotional_support = models.BooleanField(default=False, help_text="Emotional support: someone to talk to, who listens.")
    carer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["circle", "label", "id"]
        constraints = [models.CheckConstraint(condition=Q(circle__gte=1, circle__lte=3), name="member_circle_one_to_three")]


class MapSnapshot(AppendOnlyModel):
    """The map frozen on a day: members, interests, needs and measures as they were, so two days can be
    compared. `setting` says whether it was made in a session, with a practitioner outside one, or by
    the person on their own."""

    class Setting(models.TextChoices):
        IN_SESSION = "in_session", "In a session with a clinician or peer worker"
        WITH_PRACTITIONER = "with_practitioner", "With a clinician or peer worker, outside a session"
        ON_OWN = "on_own", "By the person on their own"

    map = models.ForeignKey(SocialMap, on_delete=models.PROTECT, related_name="snapshots")
    setting = models.CharField(max_length=24, choices=Setting.choices)
    members = models.JSONField(help_text="The members as they were (label, kind, circle, relationship, frequency, support).")
    interests = models.JSONField(default=list)
    needs = models.JSONField(default=list)
    measures = models.JSONField(help_text="network.measures.measures() of the members then.")
    note = models.TextField(blank=True)
    taken_at = models.DateTimeField(default=timezone.now)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]


class MapSharing(AppendOnlyModel):
    """Who the person shares their map with, besides themselves: their care team (the clinicians and
    peer workers of the teams whose caseload they are on), and which linked carers (by account id;
    a carer sees it only while their link is in effect and the person's consent to involve them holds).
    Recorded by the person, or once, at the start, by a practitioner with them (`recorded_by`)."""

    service_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="map_sharing")
    care_team = models.BooleanField()
    carers = models.JSONField(default=list, blank=True, help_text="Account ids of the linked carers the person shares with.")
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["service_user", "-id"], name="map_sharing_latest_idx")]


@track()
class Resource(models.Model):
    """A service, group or online resource in an organisation's directory: what it offers (categories),
    where and how, how accessible it is, when it is open, how to get in touch, and when someone last
    checked these details. A resource is never deleted (signposts point at it): it is retired."""

    class Scope(models.TextChoices):
        LOCAL = "local", "Local"
        NATIONAL = "national", "National"

    class Delivery(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        ONLINE = "online", "Online or by phone"
        BOTH = "both", "In person and online"

    class Access(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        UNKNOWN = "unknown", "Not known"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="resources")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    categories = models.JSONField(help_text="Category codes: what it offers.")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    delivery = models.CharField(max_length=16, choices=Delivery.choices)
    postcode_district = models.CharField(max_length=4, blank=True, help_text="Where it meets (e.g. LS6); required in person.")
    address = models.CharField(max_length=300, blank=True)
    wheelchair_access = models.CharField(max_length=8, choices=Access.choices, default=Access.UNKNOWN)
    transport_links = models.CharField(max_length=300, blank=True)
    opening_times = models.CharField(max_length=300, blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_website = models.URLField(max_length=300, blank=True)
    last_checked_on = models.DateField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Signpost(AppendOnlyModel):
    """A resource offered to a person (from the suggestions or the whole directory), by whom, and when
    to follow up. Never changed once made (append-only); the outcome is in its follow-ups."""

    service_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signposts")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="signposts")
    from_suggestions = models.BooleanField(default=True, help_text="Offered from the suggestions for the person's interests and needs.")
    offered_on = models.DateField(default=timezone.localdate)
    follow_up_on = models.DateField()
    note = models.TextField(blank=True)
    offered_at = models.DateTimeField(default=timezone.now)
    offered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-offered_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(follow_up_on__gte=models.F("offered_on")), name="signpost_follow_up_not_before_offer")]


class SignpostFollowUp(AppendOnlyModel):
    """What happened after a signpost: the person went, did not go (and why), or has not yet.
    `happened_on` is the day it is about; never before the signpost."""

    class Outcome(models.TextChoices):
        WENT = "went", "Went"
        DID_NOT_GO = "did_not_go", "Did not go"
        NOT_YET = "not_yet", "Not yet: still thinking about it"

    class Reason(models.TextChoices):
        TRAVEL = "travel", "Too far, or hard to get there"
        COST = "cost", "It cost too much"
        TIMES = "times", "The times did not suit"
        ANXIETY = "anxiety", "Felt too anxious or unwell"
        NOT_ACCESSIBLE = "not_accessible", "Not accessible for me"
        NOT_WHAT_NEEDED = "not_what_needed", "Not what I needed"
        CLOSED = "closed", "It had closed or was full"
        OTHER = "other", "Another reason"

    signpost = models.ForeignKey(Signpost, on_delete=models.PROTECT, related_name="follow_ups")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.CharField(max_length=24, choices=Reason.choices, blank=True)
    note = models.TextField(blank=True)
    happened_on = models.DateField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
