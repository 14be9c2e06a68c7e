from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone

from backend.audit.history import track


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    PEER_WORKER = "peer_worker", "Peer support worker"
    SERVICE_USER = "service_user", "Service user"
    CARER = "carer", "Carer, friend or family member"
    EVALUATOR = "evaluator", "Evaluator"
    ADMIN = "admin", "Administrator"


# Practitioners belong to teams and see their teams' caseloads.
PRACTITIONER_ROLES = frozenset({Role.CLINICIAN, Role.PEER_WORKER})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("role", Role.ADMIN)
        fields.setdefault("full_name", "Administrator")
        return self.create_user(email, password, **fields)


@track(exclude=["password", "last_login"])
class User(AbstractBaseUser):
    """A person who logs in: a practitioner, a service user, a carer, an evaluator or an admin.

    One role per account keeps every permission rule a question about one value. Email is the login
    and is stored lower-case so it is unique however it is typed.
    """

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    preferred_name = models.CharField(max_length=100, blank=True, help_text="What the person likes to be called.")
    role = models.CharField(max_length=32, choices=Role.choices)
    phone_number = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "id"]

    def __str__(self):
        return f"{self.full_name} <{self.email}>"

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.full_name

    @property
    def is_practitioner(self) -> bool:
        return self.role in PRACTITIONER_ROLES


@track()
class Organisation(models.Model):
    """A provider of mental health care (an NHS trust, say) that runs Rapport for its teams."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


@track()
class Team(models.Model):
    """A service at a site (e.g. 'Early intervention in psychosis, Leeds'): the unit that holds a caseload."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)
    service = models.CharField(max_length=200, help_text="The kind of service, e.g. Talking therapies.")
    site = models.CharField(max_length=200, help_text="Where the team is based.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="team_name_unique_in_organisation")]

    def __str__(self):
        return self.name


@track()
class TeamMembership(models.Model):
    """A clinician or peer worker working in a team, and so seeing its caseload."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="team_memberships")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")]


@track()
class CaseloadEntry(models.Model):
    """A service user on a team's caseload: that team's practitioners may see them."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="caseload")
    service_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="caseload_entries")
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name_plural = "caseload entries"
        constraints = [models.UniqueConstraint(fields=["team", "service_user"], name="one_caseload_entry_per_team")]


@track()
class CarerLink(models.Model):
    """A carer, friend or family member whom a service user chose to involve.

    Made only by the service user and ended by them (or by the carer stepping back); an ended link is
    kept with who ended it and when, so the history of who could see what stays true.
    """

    class Relationship(models.TextChoices):
        PARENT = "parent", "Parent"
        PARTNER = "partner", "Partner"
        CHILD = "child", "Son or daughter"
        SIBLING = "sibling", "Brother or sister"
        OTHER_FAMILY = "other_family", "Other family member"
        FRIEND = "friend", "Friend"
        OTHER = "other", "Someone else"

    service_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="carer_links")
    carer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="cared_for_links")
    relationship = models.CharField(max_length=32, choices=Relationship.choices)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_user", "carer"], condition=Q(ended_at__isnull=True), name="one_active_link_per_carer"
            )
        ]

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class ServiceUserReference(models.Model):
    """A service user's identifier in another system of the organisation (e.g. the one an import came
    from), so importing the same records again finds the same person."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="service_user_references")
    reference = models.CharField(max_length=64)
    service_user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="references")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "reference"], name="one_person_per_reference")]
