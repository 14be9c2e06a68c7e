"""Group sessions: one facilitator (and optionally a co-facilitator) with up to GROUP_CAPACITY_DEFAULT people,
with media through a Janus VideoRoom rather than the browser-to-browser mesh of one-to-one calls.

A separate model from `telesessions.Appointment`, not a kind of it: an appointment is about one service user
(its consent checks, modality choice, course of care, safety check and outcomes all hang off that one person),
while a group has many attendees, each with their own consent, safety check and attendance. Folding groups into
Appointment would make every one-to-one rule ask "which person?". Groups reuse the sessions layer's rules by
calling them (consent via `has_consent`/`consents_holding`), not by sharing rows.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from backend.accounts.models import Team
from backend.audit.history import track


@track()
class GroupSession(models.Model):
    """One meeting of a group (a series shares `series`), its facilitators and, once started, its Janus room."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled"

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="group_sessions")
    title = models.CharField(max_length=200)
    for_carers = models.BooleanField(default=False, help_text="The attendees are carers (booked through carer links), not service users.")
    facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="groups_facilitated")
    co_facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="groups_co_facilitated")
    capacity = models.PositiveIntegerField()
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=90)
    series = models.UUIDField(default=uuid.uuid4, help_text="Shared by the meetings of one recurring group.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    janus_room_id = models.BigIntegerField(null=True, blank=True, unique=True, help_text="The VideoRoom id, chosen at booking (below 2**52).")
    janus_server = models.CharField(max_length=300, blank=True, help_text="The Janus API URL the room was created on.")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.CharField(max_length=500, blank=True, help_text="Why the meeting was cancelled, as the facilitator wrote it.")
    waiting_message = models.CharField(max_length=500, blank=True, help_text="The facilitator's message to everyone in the waiting room.")
    waiting_message_at = models.DateTimeField(null=True, blank=True)
    muted_all = models.BooleanField(default=False, help_text="The facilitator muted everyone's microphone in Janus (until they let people speak).")

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["team", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d %H:%M})"


@track(exclude=["janus_token"])  # a credential: never copied into history
class GroupAttendee(models.Model):
    """One person booked into one group session: their place in its waiting room, their Janus credentials while
    admitted, and their attendance (the register; the facilitator may correct it)."""

    class State(models.TextChoices):
        BOOKED = "booked", "Booked"
        WAITING = "waiting", "Waiting"
        ADMITTED = "admitted", "Admitted"
        HELD = "held", "Held in the waiting room"
        REMOVED = "removed", "Removed"
        LEFT = "left", "Left"

    class Attendance(models.TextChoices):
        UNKNOWN = "", "Not yet known"
        ATTENDED = "attended", "Attended"
        LEFT_EARLY = "left_early", "Left early"
        DID_NOT_ATTEND = "dna", "Did not attend"

    group = models.ForeignKey(GroupSession, on_delete=models.PROTECT, related_name="attendees")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="group_places")
    state = models.CharField(max_length=16, choices=State.choices, default=State.BOOKED)
    video_allowed = models.BooleanField(default=False, help_text="Their video consent held when last admitted; without it they join audio only.")
    safety_confirmed_at = models.DateTimeField(null=True, blank=True)
    janus_feed_id = models.BigIntegerField(null=True, blank=True, help_text="The VideoRoom participant id Rapport assigned them.")
    janus_token = models.CharField(max_length=200, blank=True, help_text="Their current signed Janus token (on the room's allowed list).")
    janus_token_expires_at = models.DateTimeField(null=True, blank=True)
    first_joined_at = models.DateTimeField(null=True, blank=True)
    last_left_at = models.DateTimeField(null=True, blank=True)
    attended_seconds = models.PositiveIntegerField(default=0)
    attendance = models.CharField(max_length=16, choices=Attendance.choices, blank=True, default="")
    attendance_corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    attendance_reason = models.CharField(max_length=500, blank=True, help_text="Why the register was corrected (the latest correction; "
                                                                                 "earlier ones are in the row's history).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "person"], name="one_place_per_person_per_group")]
        ordering = ["id"]


@track()
class GroupTeamSettings(models.Model):
    """A team's settings for its groups. One row per team at most; a team without one gets the defaults."""

    class SafetyCheck(models.TextChoices):
        FACILITATOR = "facilitator", "The facilitator ticks a short checklist for each person"
        ATTENDEE = "attendee", "Each person confirms it themselves as they come in"

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="group_settings")
    safety_check = models.CharField(
        max_length=16, choices=SafetyCheck.choices, default=SafetyCheck.FACILITATOR,
        help_text="Who confirms each attendee's safety and privacy check (where they are, who can hear) before they join a group.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "group team settings"
