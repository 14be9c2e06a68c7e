"""Appointments: who meets whom, when, and how (offered, chosen, delivered).

The sessions issue adds the session state machine, the waiting room and signalling on top of these.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from backend.accounts.models import Team
from backend.audit.append_only import AppendOnlyModel
from backend.audit.history import track
from backend.consent.models import Modality


@track()
class TeamSessionSettings(models.Model):
    """How a team runs its sessions. Teams without a row use the defaults."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="session_settings")
    choice_cutoff_hours = models.PositiveIntegerField(
        default=24, help_text="Service users can choose how to be seen until this many hours before the appointment."
    )
    safety_check_required = models.BooleanField(
        default=True, help_text="A clinician records a safety and privacy check before every remote session."
    )


@track()
class CourseOfCare(models.Model):
    """An episode of care for one service user with one team, from referral to an ending with a reason.

    It holds the appointments (and, through them, the questionnaires the outcomes app records), so
    outcomes can be paired from the first to the last contact. A person has at most one open course
    per team; an ended course stays ended (a return to care is a new course).
    """

    class EndingReason(models.TextChoices):
        COMPLETED = "completed", "Completed the planned care"
        DROPPED_OUT = "dropped_out", "Stopped coming without planning to end"
        DECLINED = "declined", "Chose not to continue"
        REFERRED_ON = "referred_on", "Referred to another service"
        NOT_SUITABLE = "not_suitable", "The service was not the right one"
        MOVED_AWAY = "moved_away", "Moved out of the area"
        DIED = "died", "Died"
        OTHER = "other", "Another reason (see note)"

    service_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="courses_of_care")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="courses_of_care")
    reference = models.CharField(max_length=64, blank=True, help_text="The course's reference in a system it was imported from.")
    referral_date = models.DateField(null=True, blank=True)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    ending_reason = models.CharField(max_length=16, choices=EndingReason.choices, blank=True)
    ending_note = models.TextField(blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["started_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_user", "team"], condition=models.Q(ended_on__isnull=True), name="one_open_course_per_team"
            ),
            models.UniqueConstraint(
                fields=["team", "reference"], condition=~models.Q(reference=""), name="course_reference_unique_in_team"
            ),
        ]

    def __str__(self):
        return f"Course of care {self.pk} from {self.started_on:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.ended_on is None


@track()
class Appointment(models.Model):
    """One booked contact between a service user and a practitioner of a team, and the session it becomes.

    Records the modalities offered at booking (face to face always among them), the one the service
    user chose, and the one delivered, with the reason when it differs. The earliest face-to-face and
    remote slots offered are kept so evaluators can check face-to-face care stays as timely.
    `status` follows the state machine in services.py; every transition is an AppointmentEvent.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        WAITING = "waiting", "Someone is in the waiting room"
        IN_PROGRESS = "in_progress", "In progress"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled"
        DID_NOT_ATTEND = "did_not_attend", "Did not attend"

    class Kind(models.TextChoices):
        ASSESSMENT = "assessment", "Assessment"
        TREATMENT = "treatment", "Treatment"
        ASSESSMENT_AND_TREATMENT = "assessment_and_treatment", "Assessment and treatment"
        REVIEW = "review", "Review"

    # The kinds NHS Talking Therapies counts as treatment appointments: a combined assessment and
    # treatment appointment counts; assessment and review ones do not (docs/instruments.md,
    # "Finished a course of treatment").
    TREATMENT_KINDS = (Kind.TREATMENT, Kind.ASSESSMENT_AND_TREATMENT)

    class DeliveryReason(models.TextChoices):
        """Why the delivered modality differs from the one chosen."""

        VIDEO_FAILED = "video_failed", "The video connection failed"
        PERSON_ASKED = "person_asked", "The person asked to change on the day"
        NO_PRIVATE_SPACE = "no_private_space", "The person was not somewhere private"
        SAFETY_CONCERN = "safety_concern", "A safety concern needed a different way of meeting"
        CLINICIAN_DECIDED = "clinician_decided", "The clinician decided it was better for the session"
        NOT_CHOSEN_IN_TIME = "not_chosen_in_time", "No choice was made before the cut-off"
        OTHER = "other", "Another reason (see note)"

    service_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="appointments")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="practitioner_appointments",
        help_text="Empty only for an imported historic appointment whose practitioner was not recorded.",
    )
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.TREATMENT)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=50)
    modalities_offered = models.JSONField(help_text="Modality codes offered at booking; face to face is always one.")
    earliest_face_to_face_slot = models.DateTimeField(null=True, blank=True)
    earliest_remote_slot = models.DateTimeField(null=True, blank=True)
    choice_closes_at = models.DateTimeField(help_text="The team's cut-off for choosing, fixed at booking.")
    chosen_modality = models.CharField(max_length=16, choices=Modality.choices, blank=True)
    chosen_at = models.DateTimeField(null=True, blank=True)
    delivered_modality = models.CharField(max_length=16, choices=Modality.choices, blank=True)
    delivery_reason = models.CharField(max_length=32, choices=DeliveryReason.choices, blank=True)
    delivery_note = models.TextField(blank=True)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Who actually ran the session: the practitioner it was booked with, or a colleague of the team covering.",
    )
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancellation_reason = models.TextField(blank=True)
    course = models.ForeignKey(CourseOfCare, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    planned_last = models.BooleanField(
        default=False, help_text="The clinician plans this to be the course's last session (measures due 'at the last' fall here)."
    )
    reference = models.CharField(max_length=64, blank=True, help_text="The appointment's reference in a system it was imported from.")
    series = models.UUIDField(
        null=True, blank=True, db_index=True, help_text="Shared by the appointments booked together as a weekly or fortnightly series."
    )

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["service_user", "starts_at"]), models.Index(fields=["team", "starts_at"]),
            models.Index(fields=["practitioner", "starts_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "reference"], condition=~models.Q(reference=""), name="appointment_reference_unique_in_team"
            ),
        ]

    def __str__(self):
        return f"Appointment {self.pk} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def choice_open(self) -> bool:
        return timezone.now() < self.choice_closes_at


class AppointmentEvent(AppendOnlyModel):
    """Everything that happened to an appointment, in order, with who did it: the history behind its
    current fields (booked, modality chosen, delivery recorded; the sessions issue adds transitions)."""

    class Kind(models.TextChoices):
        BOOKED = "booked"
        MODALITY_CHOSEN = "modality_chosen"
        DELIVERY_RECORDED = "delivery_recorded"
        STATUS_CHANGED = "status_changed"
        PARTICIPANT_CHANGED = "participant_changed"
        SAFETY_CHECK = "safety_check"
        MODALITY_SWITCHED = "modality_switched"
        MESSAGE_SENT = "message_sent"
        PLANNED_LAST = "planned_last"
        IMPORTED = "imported"
        RESCHEDULED = "rescheduled"
        REARRANGE_REQUESTED = "rearrange_requested"

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


@track()
class RearrangeRequest(models.Model):
    """A service user asking their team to move an appointment, with their reason. The team sees it
    (week view, the appointment's page) until someone reschedules or cancels the appointment, which
    answers the request; at most one request per appointment is open at a time."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="rearrange_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    requested_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=16, blank=True, help_text="What answered it: rescheduled or cancelled.")

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["appointment"], condition=models.Q(answered_at__isnull=True), name="one_open_rearrange_request"),
        ]

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


@track()
class Participant(models.Model):
    """A person in a session: the practitioner (host), the service user, any carer invited, and guests
    the clinician added (an interpreter with the language, an advocate, a colleague).

    `state` is where they are now (waiting room, admitted, on hold, left, removed); each change is also
    an AppointmentEvent. Carers appear only when the service user invites them (consent permitting);
    a removed carer may no longer join, until invited again.
    """

    class Role(models.TextChoices):
        HOST = "host", "Practitioner"
        SERVICE_USER = "service_user", "Service user"
        CARER = "carer", "Carer, friend or family member"
        GUEST = "guest", "Guest added by the clinician"

    class GuestRole(models.TextChoices):
        """Why a guest is in the session; recorded for the evaluation datasets."""

        INTERPRETER = "interpreter", "Interpreter"
        ADVOCATE = "advocate", "Advocate"
        COLLEAGUE = "colleague", "Colleague"
        OTHER = "other", "Other"

    class State(models.TextChoices):
        INVITED = "invited", "Invited"
        WAITING = "waiting", "In the waiting room"
        ADMITTED = "admitted", "Admitted"
        ON_HOLD = "on_hold", "On hold"
        LEFT = "left", "Left"
        REMOVED = "removed", "Removed"  # a carer taken out of the session by the person or the host

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="session_participations")
    role = models.CharField(max_length=16, choices=Role.choices)
    state = models.CharField(max_length=16, choices=State.choices)
    # How this person is taking part (video or phone; empty until admitted). In a call of three, one
    # person switching to phone moves only them: the others stay on video (issue 13, point 7).
    delivered_modality = models.CharField(max_length=16, choices=Modality.choices, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)
    guest_role = models.CharField(max_length=16, choices=GuestRole.choices, blank=True, help_text="For a guest: why they are there.")
    guest_language = models.CharField(
        max_length=64, blank=True, help_text="For an interpreter: the language they interpret (with English), as the clinician wrote it."
    )

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["appointment", "user"], name="one_participant_per_person")]


class SafetyCheck(AppendOnlyModel):
    """What the clinician confirmed before a remote session went ahead: where the person is now (for an
    emergency), whether they are somewhere private, an emergency contact and their identity."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="safety_checks")
    current_location = models.TextField(help_text="Where the person is right now, enough to send help.")
    is_private = models.BooleanField(help_text="The person can talk without being overheard.")
    emergency_contact_confirmed = models.BooleanField()
    identity_confirmed = models.BooleanField()
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


@track()
class PhoneCall(models.Model):
    """A phone call made for a session (a phone appointment, or the fallback when video fails): who
    called whom, on which number, when it started and ended."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="phone_calls")
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    callee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32, help_text="The number dialled.")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


class ConnectionSample(models.Model):
    """A participant's browser's view of one peer connection at one moment (from WebRTC getStats),
    sent every few seconds during a call. Summarised per session for evaluation."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="connection_samples")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    remote_peer = models.CharField(max_length=16)
    measured_at = models.DateTimeField()
    round_trip_ms = models.FloatField(null=True, blank=True)
    packet_loss_pct = models.FloatField(null=True, blank=True, help_text="Inbound packets lost, as a percentage of expected.")
    jitter_ms = models.FloatField(null=True, blank=True)
    inbound_kbps = models.FloatField(null=True, blank=True)
    outbound_kbps = models.FloatField(null=True, blank=True)
    frame_width = models.PositiveIntegerField(null=True, blank=True)
    frame_height = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["measured_at", "id"]
        indexes = [models.Index(fields=["appointment", "measured_at"])]


class IceStateChange(models.Model):
    """A peer connection's ICE state changing (new, checking, connected, disconnected, failed, ...)."""

    class State(models.TextChoices):
        NEW = "new"
        CHECKING = "checking"
        CONNECTED = "connected"
        COMPLETED = "completed"
        DISCONNECTED = "disconnected"
        FAILED = "failed"
        CLOSED = "closed"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="ice_state_changes")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    remote_peer = models.CharField(max_length=16)
    state = models.CharField(max_length=16, choices=State.choices)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "id"]
