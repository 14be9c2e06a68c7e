from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data (`manage.py seed_demo`). The top layer: it uses every app's services; nothing imports it."""

    name = "backend.demo"
    label = "demo"
