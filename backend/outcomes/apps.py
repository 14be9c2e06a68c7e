from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    """Routine outcome measures, scoring, risk flags and paired outcomes (the outcomes issue)."""

    name = "backend.outcomes"
    label = "outcomes"
