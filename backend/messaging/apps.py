from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Messages a team sends outside the call (SMS and email): appointment confirmations, reminders,
    changes, join links, questionnaires due; queued durably and recorded (the messaging issue)."""

    name = "backend.messaging"
    label = "messaging"
