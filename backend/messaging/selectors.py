"""Who may see which messages: one rule, `messages_visible_to`.

- Clinicians and peer support workers: messages sent for a team they are a member of (the team of the
  appointment, whose caseload the person is on).
- Everyone: the messages sent to themselves (a person sees their own; a carer the ones sent to them).
Administrators read a person's messages through the subject access record, not here.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from backend.accounts import selectors as access
from backend.accounts.models import Role, User
from backend.core.errors import NotFound
from backend.messaging.models import BannedWord, Message, MessageTemplate
from backend.sessions import selectors as sessions

PRACTITIONERS = (Role.CLINICIAN, Role.PEER_WORKER)
READERS = (*PRACTITIONERS, Role.SERVICE_USER)


def messages_visible_to(user: User) -> QuerySet[Message]:
    rule = Q(recipient=user)
    if user.role in PRACTITIONERS:
        rule |= Q(team__memberships__user=user) | Q(appointment__team__memberships__user=user)
    return Message.objects.filter(rule).distinct().select_related("appointment").order_by("send_after", "id")


def messages_for_appointment(user: User, appointment_id: int) -> tuple:
    """The appointment (404 unless `user` may see it) and its messages that `user` may see."""
    appointment = sessions.appointment_for(user, appointment_id)
    return appointment, list(messages_visible_to(user).filter(appointment=appointment))


def messages_for_person(user: User, service_user_id: int) -> tuple:
    """The person (404 unless `user` may see them: their team's caseload, or themselves) and the
    messages to them that `user` may see."""
    if user.role == Role.SERVICE_USER and user.pk != service_user_id:
        raise NotFound(f"No service user {service_user_id}.", field="service_user_id")
    person = user if user.role == Role.SERVICE_USER else access.service_user_for(user, service_user_id)
    return person, messages_visible_to(user).filter(recipient=person)


def failed_messages_for(user: User, person: User) -> QuerySet[Message]:
    """Messages to `person` that could not go (no mobile number, no sender name, bounced), newest first."""
    return messages_visible_to(user).filter(recipient=person, status=Message.Status.FAILED).order_by("-created_at", "-id")


def templates_of(team) -> dict[tuple[str, str, str], MessageTemplate]:
    return {(t.kind, t.channel, t.modality): t for t in MessageTemplate.objects.filter(team=team)}


def banned_words_of(organisation_id: int) -> QuerySet[BannedWord]:
    return BannedWord.objects.filter(organisation_id=organisation_id).order_by("word")


def organisation_senders(organisation) -> dict:
    """How the organisation's texts and emails go out now, in plain words, for its admins' page: the
    saved choice (or what happens without one) and whether the named Notify key variable is set in this
    process's environment. Never the key."""
    import os

    from django.conf import settings

    from backend.messaging.models import OrganisationMessaging

    Sender = OrganisationMessaging.Sender
    row = OrganisationMessaging.objects.filter(organisation=organisation).first()
    variable = row.notify_key_variable if row else "NOTIFY_API_KEY"
    key_set = bool(settings.NOTIFY_API_KEY if variable == "NOTIFY_API_KEY" else os.environ.get(variable, ""))
    email_backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2] if "." in settings.EMAIL_BACKEND else settings.EMAIL_BACKEND
    smtp_words = ("through your email server (EMAIL_URL)" if email_backend == "smtp"
                  else "to the server's console only, because no email server is set (EMAIL_URL): nobody receives them")
    words = {Sender.NOTIFY: "through GOV.UK Notify", Sender.CONSOLE: "nowhere: they are printed to the server's console (for development)"}

    if row is None:
        sms = words[Sender.CONSOLE] if settings.DEBUG else "nowhere: no text message sender is chosen, so each text is recorded as failed"
        email = smtp_words
    else:
        sms = words.get(row.sms_sender, "nowhere: an email server cannot send text messages")
        email = smtp_words if row.email_sender == Sender.SMTP else words[row.email_sender]
    uses_notify = row is not None and Sender.NOTIFY in (row.sms_sender, row.email_sender)
    return {"row": row, "sms": sms, "email": email, "variable": variable, "key_set": key_set, "uses_notify": uses_notify}
