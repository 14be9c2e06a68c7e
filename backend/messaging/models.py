"""What Rapport sends to people outside the call, and what became of each message.

A `Message` row is both the record (what was sent, by which channel, when, with what result) and the
unit of work: it is written in the same transaction as the change that causes it (a booking, a move, a
cancellation), and the job queue only ever carries its id. Cancelling or replacing a queued message is
an update of its row, so nothing the queue holds can send a message the record says was cancelled.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from backend.accounts.models import Organisation, Team
from backend.audit.history import track


@track()
class Message(models.Model):
    """One SMS or email to one person."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Booking confirmation"
        REMINDER = "reminder", "Reminder"
        CHANGED = "changed", "Appointment changed"
        CANCELLED = "cancelled", "Appointment cancelled"
        JOIN_LINK = "join_link", "How to join"
        QUESTIONNAIRE_DUE = "questionnaire_due", "Questionnaire to fill in"
        QUESTIONNAIRE_NUDGE = "questionnaire_nudge", "Questionnaire still to fill in"

    class Channel(models.TextChoices):
        SMS = "sms", "Text message"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"  # waiting for its send time, or for a retry
        SENDING = "sending", "Sending"  # a worker has it; the provider may or may not have it yet
        SENT = "sent", "Sent"  # the provider accepted it
        DELIVERED = "delivered", "Delivered"  # the provider says it reached the phone or inbox
        FAILED = "failed", "Failed"  # will not be sent or did not arrive; `status_reason` says why
        CANCELLED = "cancelled", "Cancelled"  # stopped before sending; `status_reason` says why

    reference = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False,
        help_text="The idempotency reference: given to the provider with the message, so a retry after a crash "
        "can find out whether the first attempt went out instead of sending it twice.",
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages_received")
    appointment = models.ForeignKey(
        "telesessions.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    to = models.CharField(max_length=254, help_text="The number (E.164) or email address, as it was when queued.")
    sender_name = models.CharField(max_length=200, help_text="The team's neutral sender name.")
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    body = models.TextField()
    send_after = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    status_reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    provider = models.CharField(max_length=16, blank=True, help_text="Which sender took it: notify, smtp or console.")
    provider_id = models.CharField(max_length=64, blank=True, help_text="The provider's id for it (Notify's notification id).")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Who caused it (booked, moved, sent the link); empty for the system's own reminders.",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_status = models.CharField(
        max_length=32, blank=True, help_text="The provider's own last word on it (Notify: delivered, permanent-failure, ...).",
    )
    status_at = models.DateTimeField(default=timezone.now, help_text="When the status last changed.")

    class Meta:
        ordering = ["send_after", "id"]
        indexes = [
            models.Index(fields=["status", "send_after"], name="message_due_idx"),
            models.Index(fields=["appointment", "status"], name="message_appointment_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.channel} to user {self.recipient_id} ({self.status})"


@track()
class OrganisationMessaging(models.Model):
    """How one organisation's messages leave Rapport: which sender per channel and, for GOV.UK Notify, the
    templates to use and the name of the environment variable that holds the API key (never the key)."""

    class Sender(models.TextChoices):
        NOTIFY = "notify", "GOV.UK Notify"
        SMTP = "smtp", "Email server (SMTP)"
        CONSOLE = "console", "Nowhere: printed to the server's console (development)"

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="messaging")
    sms_sender = models.CharField(max_length=16, choices=Sender.choices, default=Sender.CONSOLE,
                                  help_text="notify or console (SMTP cannot send text messages).")
    email_sender = models.CharField(max_length=16, choices=Sender.choices, default=Sender.SMTP)
    notify_key_variable = models.CharField(
        max_length=64, default="NOTIFY_API_KEY",
        help_text="The environment variable that holds this organisation's Notify API key: NOTIFY_API_KEY or NOTIFY_API_KEY_<NAME>.",
    )
    notify_sms_template_id = models.UUIDField(null=True, blank=True, help_text="A Notify text message template whose text is ((body)).")
    notify_email_template_id = models.UUIDField(
        null=True, blank=True, help_text="A Notify email template whose subject is ((subject)) and body ((body)).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Messaging for organisation {self.organisation_id}: SMS by {self.sms_sender}, email by {self.email_sender}"
def _default_reminder_offsets() -> list[int]:
    return [7 * 24, 24]


@track()
class TeamMessaging(models.Model):
    """How one team's messages go out: the neutral name they are sent under, when reminders go, and
    what a phone appointment's message says about the caller's number. Teams without a row send
    nothing: a team's messages need a sender name first (see docs/messaging.md)."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="messaging")
    sender_name = models.CharField(
        max_length=100, blank=True,
        help_text="The neutral name messages come from (e.g. 'Leeds NHS'), never the team's clinical name: "
        "a text's sender and an email's From are seen by anyone who sees the phone or inbox.",
    )
    reminder_offsets_hours = models.JSONField(
        default=_default_reminder_offsets, help_text="Reminders go this many hours before the appointment (default 7 days and 1 day)."
    )
    caller_number_kind = models.CharField(
        max_length=100, default="a withheld number",
        help_text="What a phone appointment's message says the clinician's call will come from.",
    )
    questionnaire_days_before = models.PositiveIntegerField(
        default=3, help_text="Questionnaires due at an appointment are sent this many days before it."
    )
    nudge_hours_before = models.PositiveIntegerField(
        default=24, help_text="A questionnaire still not filled in is nudged this many hours before the appointment."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")


@track()
class MessageTemplate(models.Model):
    """A team's own wording for one kind of message on one channel, for one modality or for all
    (`modality` empty). Where a team has none, the default wording in backend/messaging/content.py is
    used. Checked on saving: placeholders from the allowed set only, and no banned word in an SMS
    text or an email subject."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="message_templates")
    kind = models.CharField(max_length=32, choices=Message.Kind.choices)
    channel = models.CharField(max_length=8, choices=Message.Channel.choices)
    modality = models.CharField(max_length=16, blank=True, help_text="A modality code, or empty for every modality.")
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    body = models.TextField()
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["team", "kind", "channel", "modality"]
        constraints = [
            models.UniqueConstraint(fields=["team", "kind", "channel", "modality"], name="one_template_per_team_kind_channel_modality"),
        ]


@track()
class BannedWord(models.Model):
    """A word an organisation adds to the words no SMS text or email subject may contain (beside the
    default list in settings.MESSAGE_BANNED_WORDS)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="message_banned_words")
    word = models.CharField(max_length=100)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["word"]
        constraints = [models.UniqueConstraint(fields=["organisation", "word"], name="one_banned_word_per_organisation")]


@track()
class ContactPreference(models.Model):
    """How one person wants to be contacted: the mobile number for texts, the email address (empty:
    their account's), and per group of messages which channel (sms, email, both or off). Cancellations
    and changes cannot be turned off on their own, only with every message (`all_off`). People without
    a row get the defaults in backend/messaging/preferences.py."""

    person = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_preference")
    mobile_number = models.CharField(max_length=32, blank=True, help_text="E.164; a mobile number (texts go only to mobiles).")
    email = models.EmailField(blank=True, help_text="Empty: the account's email address.")
    channels = models.JSONField(default=dict, blank=True, help_text="Group code -> sms, email, both or off (see preferences.GROUPS).")
    all_off = models.BooleanField(default=False, help_text="The person asked for no messages at all.")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")


@track()
class QuestionnaireLink(models.Model):
    """A one-use link that opens one questionnaire, for one person, for one appointment, without
    logging in. Used once a response is filed through it; it stops working an hour after the
    appointment ends. The token is random and stored only as its SHA-256 hash."""

    token_hash = models.CharField(max_length=64, unique=True)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    appointment = models.ForeignKey("telesessions.Appointment", on_delete=models.CASCADE, related_name="questionnaire_links")
    instrument = models.ForeignKey("outcomes.Instrument", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)
    messages = models.ManyToManyField(Message, blank=True, related_name="questionnaire_links")

    class Meta:
        ordering = ["id"]
