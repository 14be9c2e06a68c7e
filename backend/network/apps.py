from django.apps import AppConfig


class NetworkConfig(AppConfig):
    """The person's social connection map (GENIE-style), the resource directory and signposting."""

    name = "backend.network"
    label = "network"

    def ready(self):
        # A person's own record (download, subject access) gets this app's sections (accounts exposes the hook).
        from backend.accounts.records import register_section
        from backend.network.records import SECTIONS

        for section in SECTIONS:
            register_section(section)
