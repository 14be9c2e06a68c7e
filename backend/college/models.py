"""The Recovery College: what is offered (courses, terms, runs), who teaches (trainer records, facilitators),
who learns (enrolments with a waiting list), and what a student writes (learning plan, feedback).

A course session is a group session (`backend/groups`): each run's meetings are `GroupSession` rows booked
through groups' services when the run is published, so attendance is groups' register, taken by Janus for
online sessions or on the college's register page for in-person ones. Enrolment is not care: nothing here
touches a caseload, a course of care or consent to treatment.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from backend.accounts.models import Organisation, Team
from backend.audit.history import track
from backend.groups.models import GroupSession


class Audience(models.TextChoices):
    SERVICE_USERS = "service_users", "People who use services"
    CARERS = "carers", "Carers, friends and family"
    STAFF = "staff", "Staff"
    ANYONE = "anyone", "Anyone"


class Delivery(models.TextChoices):
    ONLINE = "online", "Online"
    IN_PERSON = "in_person", "In person"
    BOTH = "both", "Online or in person"


RUN_DELIVERY = [(Delivery.ONLINE, "Online"), (Delivery.IN_PERSON, "In person")]


@track()
class Course(models.Model):
    """A course in an organisation's prospectus: what it is, who it is for, how it is taught and how many
    sessions it has. Offered as runs (`CourseRun`), one or more a term."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="college_courses")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=4000)
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.ANYONE)
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.BOTH)
    sessions = models.PositiveSmallIntegerField(help_text="How many sessions a run of the course has.")
    capacity = models.PositiveSmallIntegerField(help_text="How many students a run takes (more wait on its waiting list).")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["title", "id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "title"], name="college_course_title_unique")]

    def __str__(self) -> str:
        return self.title


@track()
class Term(models.Model):
    """A college term (e.g. "Spring 2027"): the prospectus shows the runs of terms not yet over."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="college_terms")
    name = models.CharField(max_length=100)
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="college_term_name_unique"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="college_term_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name


@track()
class TrainerRecord(models.Model):
    """Someone who may facilitate college runs for an organisation, and as what: a professional trainer, a
    peer trainer (lived experience of using services) or a carer peer trainer (lived experience of caring).

    This record is the whole of a trainer's extra access: it lets them see the runs they facilitate, their
    students' names and take the register. It adds no account role, no team membership and no caseload, so a
    carer becomes a peer trainer without becoming staff of a clinical team (docs/college.md, "Trainers")."""

    class Kind(models.TextChoices):
        PROFESSIONAL = "professional", "Professional trainer"
        PEER = "peer", "Peer trainer"
        CARER_PEER = "carer_peer", "Carer peer trainer"

    PEER_KINDS = frozenset({Kind.PEER, Kind.CARER_PEER})

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="college_trainers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trainer_records")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    training_completed = models.CharField(max_length=200, help_text="The trainer training they completed, e.g. \"Co-production and facilitation, 5 days\".")
    training_completed_on = models.DateField()
    accredited_on = models.DateField(null=True, blank=True, help_text="When they were accredited as a trainer (empty: not yet).")
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="trainees_supervised")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user__full_name", "id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="one_trainer_record_per_organisation")]

    @property
    def is_peer(self) -> bool:
        return self.kind in self.PEER_KINDS


@track()
class CourseRun(models.Model):
    """One offering of a course in a term: its dates, how it meets, its hosting team (whose clinician or peer
    worker hosts the online sessions) and its state. Published runs show in the prospectus and take
    enrolments; publishing books its sessions as group sessions."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        CANCELLED = "cancelled", "Cancelled"

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="runs")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="runs")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="college_runs", help_text="The team that hosts the sessions.")
    delivery = models.CharField(max_length=16, choices=RUN_DELIVERY)
    first_session_at = models.DateTimeField(help_text="The first session; the others follow weekly.")
    duration_minutes = models.PositiveSmallIntegerField(default=120)
    venue = models.CharField(max_length=300, blank=True, help_text="Where in-person sessions happen.")
    capacity = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["first_session_at", "id"]
        indexes = [models.Index(fields=["state", "first_session_at"])]

    def __str__(self) -> str:
        return f"{self.course.title}, {self.term.name}"


@track()
class Facilitator(models.Model):
    """A trainer facilitating one run (every published run has at least two, at least one a peer trainer)."""

    run = models.ForeignKey(CourseRun, on_delete=models.CASCADE, related_name="facilitators")
    trainer = models.ForeignKey(TrainerRecord, on_delete=models.PROTECT, related_name="facilitations")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["run", "trainer"], name="one_facilitation_per_trainer_per_run")]


@track()
class RunSession(models.Model):
    """The n-th session of a run, and the group session that holds its room and register."""

    run = models.ForeignKey(CourseRun, on_delete=models.CASCADE, related_name="sessions")
    number = models.PositiveSmallIntegerField()
    group = models.OneToOneField(GroupSession, on_delete=models.PROTECT, related_name="college_session")

    class Meta:
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="one_session_per_number_per_run")]


@track()
class Enrolment(models.Model):
    """A student's place on a run, or their place on its waiting list. Self-referral: no referral and no
    caseload; a member of staff may enrol someone with them (`enrolled_by`). Withdrawn rows are kept, so the
    history of a run's places stays true; at most one open (enrolled or waiting) row per student per run."""

    class State(models.TextChoices):
        ENROLLED = "enrolled", "Enrolled"
        WAITING = "waiting", "On the waiting list"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN_STATES = (State.ENROLLED, State.WAITING)

    run = models.ForeignKey(CourseRun, on_delete=models.PROTECT, related_name="enrolments")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="college_enrolments")
    state = models.CharField(max_length=16, choices=State.choices)
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    placed_at = models.DateTimeField(null=True, blank=True, help_text="When they got a place (at once, or promoted from the waiting list).")
    promoted = models.BooleanField(default=False, help_text="They got their place from the waiting list.")
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "student"], condition=Q(state__in=["enrolled", "waiting"]), name="one_open_enrolment_per_student_per_run"),
        ]


@track()
class LearningPlan(models.Model):
    """A student's own learning plan for one enrolment: what they hope to get from the course (before), and
    their reflection on it (after). Theirs: facilitators do not read it."""

    enrolment = models.OneToOneField(Enrolment, on_delete=models.CASCADE, related_name="learning_plan")
    goals = models.TextField(max_length=4000, blank=True)
    reflection = models.TextField(max_length=4000, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)


@track()
class FeedbackResponse(models.Model):
    """A student's answers to the college's feedback form (backend/college/feedback.py: Rapport's own form,
    not a validated measure) for one run, given once."""

    enrolment = models.OneToOneField(Enrolment, on_delete=models.PROTECT, related_name="feedback")
    form_version = models.CharField(max_length=40)
    answers = models.JSONField()
    submitted_at = models.DateTimeField(default=timezone.now)
