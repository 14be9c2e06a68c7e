from django.apps import AppConfig


class GroupsConfig(AppConfig):
    """Group sessions: group appointments, their VideoRoom on a Janus server, and attendance."""

    name = "backend.groups"
    label = "groups"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from backend.accounts.hooks import HOME_PANELS
        from backend.groups.views import group_home_panel

        if group_home_panel not in HOME_PANELS:
            HOME_PANELS.append(group_home_panel)
