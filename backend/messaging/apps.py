from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Messages a team sends outside the call (SMS and email): appointment confirmations, reminders,
    changes, join links, questionnaires due; queued durably and recorded (the messaging issue)."""

    name = "backend.messaging"
    label = "messaging"

    def ready(self):
        from django.conf import settings

        # Without PostgreSQL the queue lives in the server process's memory (docs/deploy.md "Messages").
        if settings.QUEUE_IN_MEMORY:
            from backend.messaging.queue import use_in_memory_connector

            use_in_memory_connector()

        # A person's own record (download, subject access) gets this app's section.
        from backend.accounts.records import register_section
        from backend.messaging.records import SECTIONS as RECORD_SECTIONS

        for section in RECORD_SECTIONS:
            register_section(section)
