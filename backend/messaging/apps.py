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
        # Appointment events queue, cancel and replace messages in their own transaction (sessions
        # exposes the hook and never imports us).
        from backend.messaging.triggers import on_appointment_event
        from backend.sessions.hooks import APPOINTMENT_EVENTS

        if on_appointment_event not in APPOINTMENT_EVENTS:
            APPOINTMENT_EVENTS.append(on_appointment_event)

        # A questionnaire filed uses up its links and cancels its queued nudges (outcomes exposes the hook).
        from backend.messaging.services import questionnaire_links_used
        from backend.outcomes.hooks import RESPONSE_FILED

        if questionnaire_links_used not in RESPONSE_FILED:
            RESPONSE_FILED.append(questionnaire_links_used)
