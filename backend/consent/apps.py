from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """Consent purposes and records, modality preference and digital access (the consent issue)."""

    name = "backend.consent"
    label = "consent"
