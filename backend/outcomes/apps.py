from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    """Routine outcome measures, scoring, risk flags and paired outcomes (the outcomes issue)."""

    name = "backend.outcomes"
    label = "outcomes"

    def ready(self):
        # The waiting room lists the questionnaires due (sessions exposes the hook; it never imports us).
        from backend.outcomes.views import questionnaires_due_panel
        from backend.sessions.hooks import WAITING_ROOM_PANELS

        if questionnaires_due_panel not in WAITING_ROOM_PANELS:
            WAITING_ROOM_PANELS.append(questionnaires_due_panel)

        # Narrowed access reaches open risk-flag sockets (accounts exposes the hook).
        from backend.accounts.hooks import ACCESS_CHANGED
        from backend.outcomes.revocation import on_access_changed

        if on_access_changed not in ACCESS_CHANGED:
            ACCESS_CHANGED.append(on_access_changed)

        # A person's own record (download, subject access) gets this app's section (accounts exposes the hook).
        from backend.accounts.records import register_section
        from backend.outcomes.records import SECTIONS as RECORD_SECTIONS

        for section in RECORD_SECTIONS:
            register_section(section)
