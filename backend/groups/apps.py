from django.apps import AppConfig


class GroupsConfig(AppConfig):
    """Group sessions: group appointments, their VideoRoom on a Janus server, and attendance."""

    name = "backend.groups"
    label = "groups"
    default_auto_field = "django.db.models.BigAutoField"
