from django.apps import AppConfig


class NetworkConfig(AppConfig):
    """The person's social connection map (GENIE-style), the resource directory and signposting."""

    name = "backend.network"
    label = "network"
