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
    # Someone a clinician adds to one session (an interpreter, an advocate, a colleague): no password,
    # no home page; they reach that session's waiting room and call through a join link only.
    GUEST = "guest", "Guest in one session"


# Practitioners belong to teams and see their teams' caseloads.
PRACTITIONER_ROLES = frozenset({Role.CLINICIAN, Role.PEER_WORKER})
# Staff work for one organisation and act only within it (docs/architecture.md, "Who may see what").
STAFF_ROLES = frozenset({Role.CLINICIAN, Role.PEER_WORKER, Role.EVALUATOR, Role.ADMIN})


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
    and is stored lower-case so it is unique however it is typed. Staff (clinicians, peer workers,
    evaluators, admins) belong to one organisation, which bounds everything they may see or change;
    service users are registered with organisations instead (OrganisationRegistration), and carers
    reach people only through carer links, so both leave `organisation` empty.
    """

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    preferred_name = models.CharField(max_length=100, blank=True, help_text="What the person likes to be called.")
    role = models.CharField(max_length=32, choices=Role.choices)
    phone_number = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Required for staff by user_create; empty for service users and carers. A staff account left
    # empty (only possible for rows made before organisations were a boundary) sees nothing.
    organisation = models.ForeignKey(
        "Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="staff",
        help_text="The organisation a staff member works for; empty for service users and carers.",
    )

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
    staff_two_factor_required = models.BooleanField(
        default=True,
        help_text="Staff (clinicians, peer workers, evaluators, admins) must sign in with a code from an "
        "authenticator app as well as their password (backend/accounts/two_factor.py).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


@track()
class OrganisationRegistration(models.Model):
    """A service user registered with an organisation: the organisation holds their care, so its teams
    may take them onto a caseload and its admins and evaluators may see them. A person may be
    registered with several organisations; each sees them only through its own registration."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="registrations")
    service_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="registrations")
    registered_at = models.DateTimeField(default=timezone.now)
    registered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["registered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "service_user"], name="one_registration_per_organisation")
        ]


@track()
class Team(models.Model):
    """A service at a site (e.g. 'Early intervention in psychosis, Leeds'): the unit that holds a caseload."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)
    service = models.CharField(max_length=200, help_text="The kind of service, e.g. Talking therapies.")
    site = models.CharField(max_length=200, help_text="Where the team is based.")
    phone_number = models.CharField(
        max_length=32, blank=True, help_text="The number people phone the team on (E.164); shown wherever a page says to phone the team."
    )
    face_to_face_address = models.TextField(blank=True, help_text="Where face-to-face appointments happen, as a postal address.")
    opening_hours = models.CharField(max_length=200, blank=True, help_text='When the phone is answered, e.g. "Monday to Friday, 9am to 5pm".')
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


class CarerLinkQuerySet(models.QuerySet):
    def open(self):
        """Links not ended (pending or accepted)."""
        return self.filter(ended_at__isnull=True)

    def in_effect(self):
        """Links the carer accepted and nobody has ended: the only ones that can share anything."""
        return self.filter(ended_at__isnull=True, accepted_at__isnull=False, carer__isnull=False)


@track()
class CarerLink(models.Model):
    """A carer, friend or family member whom a service user chose to involve.

    Proposed only by the service user, by email; it takes effect only when the carer accepts it
    (`accepted_at`), so nobody is involved without knowing, and the proposal never tells the person
    whether that email has an account. `carer` stays empty until a carer account with `carer_email`
    exists (the proposal waits for one). Ended by the service user, by the carer (stepping back, or
    declining a proposal: `declined_at`) or by an admin; an ended link is kept with who ended it and
    when, so the history of who could see what stays true.
    """

    class Relationship(models.TextChoices):
        PARENT = "parent", "Parent"
        PARTNER = "partner", "Partner"
        CHILD = "child", "Son or daughter"
        SIBLING = "sibling", "Brother or sister"
        OTHER_FAMILY = "other_family", "Other family member"
        FRIEND = "friend", "Friend"
        OTHER = "other", "Someone else"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for them to accept"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        ENDED = "ended", "Ended"

    service_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="carer_links")
    carer = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="cared_for_links")
    carer_email = models.EmailField(help_text="The email the service user gave, lower-case; matched to a carer account.")
    relationship = models.CharField(max_length=32, choices=Relationship.choices)
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = CarerLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_user", "carer"], condition=Q(ended_at__isnull=True), name="one_active_link_per_carer"
            ),
            models.UniqueConstraint(
                fields=["service_user", "carer_email"], condition=Q(ended_at__isnull=True), name="one_open_link_per_carer_email"
            ),
        ]

    @property
    def state(self) -> str:
        if self.declined_at is not None:
            return self.State.DECLINED
        if self.ended_at is not None:
            return self.State.ENDED
        return self.State.ACCEPTED if self.accepted_at is not None else self.State.PENDING

    @property
    def is_active(self) -> bool:
        """Accepted and not ended: the link is in effect (what it shares still depends on consent)."""
        return self.ended_at is None and self.accepted_at is not None


class ServiceUserReference(models.Model):
    """A service user's identifier in another system of the organisation (e.g. the one an import came
    from), so importing the same records again finds the same person."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="service_user_references")
    reference = models.CharField(max_length=64)
    service_user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="references")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "reference"], name="one_person_per_reference")]
