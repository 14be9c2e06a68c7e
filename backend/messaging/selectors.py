"""Queries about messages, narrowed to what the asker may see."""

from __future__ import annotations

from django.db.models import QuerySet

from backend.accounts.models import PRACTITIONER_ROLES, Role, User
from backend.messaging.models import BannedWord, Message, MessageTemplate


def messages_visible_to(user: User) -> QuerySet[Message]:
    """A practitioner sees the messages of their own teams; the person sees their own; nobody else."""
    if user.role in PRACTITIONER_ROLES:
        return Message.objects.filter(team__memberships__user=user)
    if user.role in (Role.SERVICE_USER, Role.CARER):
        return Message.objects.filter(recipient=user)
    return Message.objects.none()


def failed_messages_for(user: User, person: User) -> QuerySet[Message]:
    """Messages to `person` that could not go (no mobile number, no sender name, bounced), newest first."""
    return messages_visible_to(user).filter(recipient=person, status=Message.Status.FAILED).order_by("-created_at", "-id")


def templates_of(team) -> dict[tuple[str, str, str], MessageTemplate]:
    return {(t.kind, t.channel, t.modality): t for t in MessageTemplate.objects.filter(team=team)}


def banned_words_of(organisation_id: int) -> QuerySet[BannedWord]:
    return BannedWord.objects.filter(organisation_id=organisation_id).order_by("word")
