from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    """Pseudonymised, consent-filtered exports and the modality report, for evaluators. The top layer:
    it reads every app below it and nothing imports it (docs/architecture.md)."""

    name = "backend.evaluation"
    label = "evaluation"
