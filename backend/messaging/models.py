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
