"""The senders that hand a message to the outside world: GOV.UK Notify (SMS and email), an SMTP server
through Django's email framework (email), and the console (development: SMS printed, nothing leaves).

Every failure is one of two kinds, so the queue knows what to do:
- `TemporaryFailure`: worth trying again later (Notify 429 or 5xx, a network error, the SMTP server down
  or answering 4xx). The job is retried with exponential backoff.
- `PermanentFailure`: trying again cannot help (Notify 400 or 403, SMTP 5xx, no number). The message is
  marked failed, and the reason, in plain words, is what the team sees.

A sender never touches the database: services.message_send decides what the answer means.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import socket
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend

from backend.messaging.models import Message, OrganisationMessaging

log = logging.getLogger(__name__)
Sender = OrganisationMessaging.Sender


class SendFailure(Exception):
    """Why a message did not go; str() is the reason the team sees."""


class TemporaryFailure(SendFailure):
    pass


class PermanentFailure(SendFailure):
    pass


@dataclass(frozen=True)
class Accepted:
    provider: str
    provider_id: str = ""


class ConsoleSender:
    """Development only: prints the text message and records it as sent by `console`."""

    name = "console"
    can_look_up = False

    def send(self, message: Message) -> Accepted:
        print(f"[Rapport message {message.reference}] {message.get_channel_display()} to {message.to} "
              f"from {message.sender_name}:\n{message.body}\n", flush=True)
        return Accepted("console")


class SmtpSender:
    """Email through Django's email framework (EMAIL_URL). The message's reference is in its Message-ID,
    but SMTP has no way to ask afterwards whether a message went: see docs/messaging.md (at-least-once
    in the instant between the server accepting and the commit)."""

    can_look_up = False

    @property
    def name(self) -> str:
        backend = get_connection()
        return "console" if isinstance(backend, ConsoleEmailBackend) else "smtp"

    def send(self, message: Message) -> Accepted:
        domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "rapport.invalid"
        sender_address = settings.DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].strip(" >")
        email = EmailMessage(
            subject=message.subject, body=message.body, to=[message.to],
            from_email=f"{message.sender_name} <{sender_address}>" if message.sender_name else settings.DEFAULT_FROM_EMAIL,
            headers={"Message-ID": f"<{message.reference}@{domain}>"},
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(400 <= code < 500 for code in codes):
                raise TemporaryFailure(f"The email server refused the address for now ({codes[0]}); trying again.") from exc
            raise PermanentFailure(f"The email server refused the address {message.to} ({codes[0]}).") from exc
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            if 400 <= exc.smtp_code < 500:
                raise TemporaryFailure(f"The email server said to try later ({exc.smtp_code} {text}).") from exc
            raise PermanentFailure(f"The email server refused the email ({exc.smtp_code} {text}).") from exc
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise TemporaryFailure(f"The email server could not be reached ({exc.__class__.__name__}); trying again.") from exc
        return Accepted(self.name)


NOTIFY_KEY_VARIABLE = re.compile(r"^NOTIFY_API_KEY(_[A-Z0-9_]+)?$")
NOTIFY_REASONS = {
    400: "GOV.UK Notify refused the message",
    403: "GOV.UK Notify refused the API key (check the key in the environment variable {variable})",
}


class NotifySender:
    """GOV.UK Notify through its own client: one template per channel whose content is the personalisation
    ((subject)) and ((body)); the message's reference goes with it, so a retry can ask Notify whether the
    first attempt arrived (`look_up`) instead of sending again."""

    name = "notify"
    can_look_up = True

    def __init__(self, config: OrganisationMessaging):
        self.config = config

    def _client(self):
        from notifications_python_client.notifications import NotificationsAPIClient

        variable = self.config.notify_key_variable
        if not NOTIFY_KEY_VARIABLE.match(variable or ""):
            raise PermanentFailure(f"The Notify key setting {variable!r} is not NOTIFY_API_KEY or NOTIFY_API_KEY_<NAME>.")
        key = settings.NOTIFY_API_KEY if variable == "NOTIFY_API_KEY" else os.environ.get(variable, "")
        if not key:
            raise PermanentFailure(f"No GOV.UK Notify API key: the environment variable {variable} is not set.")
        try:
            return NotificationsAPIClient(key, base_url=settings.NOTIFY_BASE_URL, timeout=settings.NOTIFY_TIMEOUT_SECONDS)
        except AssertionError as exc:
            raise PermanentFailure(f"The GOV.UK Notify API key in {variable} is not a Notify key.") from exc

    def _failure(self, exc) -> SendFailure:
        from notifications_python_client.errors import APIError

        status = exc.status_code if isinstance(exc, APIError) else 503
        detail = exc.message if isinstance(exc, APIError) else str(exc)
        if isinstance(detail, list):
            detail = "; ".join(str(item.get("message", item)) for item in detail)
        if status == 429 or status >= 500:
            return TemporaryFailure(f"GOV.UK Notify was busy or unreachable ({status}: {detail}); trying again.")
        base = NOTIFY_REASONS.get(status, "GOV.UK Notify refused the message").format(variable=self.config.notify_key_variable)
        return PermanentFailure(f"{base} ({status}: {detail}).")

    def _template(self, message: Message) -> str:
        template = self.config.notify_sms_template_id if message.channel == Message.Channel.SMS else self.config.notify_email_template_id
        if not template:
            raise PermanentFailure(f"No GOV.UK Notify {message.get_channel_display().lower()} template is set for this organisation.")
        return str(template)

    def send(self, message: Message) -> Accepted:
        from notifications_python_client.errors import APIError, TokenError

        client, template = self._client(), self._template(message)
        try:
            if message.channel == Message.Channel.SMS:
                answer = client.send_sms_notification(
                    phone_number=message.to, template_id=template, personalisation={"body": message.body},
                    reference=str(message.reference),
                )
            else:
                answer = client.send_email_notification(
                    email_address=message.to, template_id=template,
                    personalisation={"subject": message.subject, "body": message.body}, reference=str(message.reference),
                )
        except (APIError, TokenError) as exc:
            raise self._failure(exc) from exc
        return Accepted("notify", str(answer["id"]))

    def look_up(self, message: Message) -> dict | None:
        """Notify's notification with this message's reference, if an earlier attempt reached it."""
        from notifications_python_client.errors import APIError

        try:
            found = self._client().get_all_notifications(reference=str(message.reference)).get("notifications", [])
        except APIError as exc:
            raise self._failure(exc) from exc
        return found[0] if found else None

    def status_of(self, message: Message) -> dict:
        from notifications_python_client.errors import APIError

        try:
            return self._client().get_notification_by_id(message.provider_id)
        except APIError as exc:
            raise self._failure(exc) from exc


def config_for(organisation_id: int) -> OrganisationMessaging | None:
    return OrganisationMessaging.objects.filter(organisation_id=organisation_id).first()


def sender_for(message: Message):
    """The sender the message's organisation chose for its channel. Without a choice: email goes through
    Django's email framework (the console in development), SMS to the console in development only."""
    config = config_for(message.organisation_id)
    if message.channel == Message.Channel.SMS:
        choice = config.sms_sender if config else (Sender.CONSOLE if settings.DEBUG else None)
        if choice is None:
            raise PermanentFailure("No text message sender is set up for this organisation (an administrator sets up GOV.UK Notify).")
    else:
        choice = config.email_sender if config else Sender.SMTP
    if choice == Sender.NOTIFY:
        return NotifySender(config)
    if choice == Sender.SMTP:
        if message.channel == Message.Channel.SMS:
            raise PermanentFailure("An email server cannot send text messages: choose GOV.UK Notify for text messages.")
        return SmtpSender()
    return ConsoleSender() if message.channel == Message.Channel.SMS else SmtpSender()


# What Notify's delivery statuses mean (https://docs.notifications.service.gov.uk/python.html#status-text-and-email).
NOTIFY_FINAL = {
    "delivered": (Message.Status.DELIVERED, ""),
    "permanent-failure": (Message.Status.FAILED, "The number or address does not exist or is not in use (Notify: permanent-failure)."),
    "temporary-failure": (Message.Status.FAILED, "The phone was off or the inbox full, and Notify gave up (Notify: temporary-failure)."),
    "technical-failure": (Message.Status.FAILED, "GOV.UK Notify had a technical problem and did not send it (Notify: technical-failure)."),
}
