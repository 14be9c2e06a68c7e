from django.apps import AppConfig


class AdministrationConfig(AppConfig):
    """The admin pages: an organisation's admins manage its teams, staff, service users, consent
    wording, local questionnaires, the historic import, the audit trail and the export log in the
    browser. The top layer beside `demo`: it calls every app's selectors and services and nothing
    imports it (docs/architecture.md)."""

    name = "backend.administration"
    label = "administration"
    default_auto_field = "django.db.models.BigAutoField"
