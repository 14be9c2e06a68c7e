from django.apps import AppConfig


class TeleSessionsConfig(AppConfig):
    """Appointments, the waiting room, signalling and telemetry (the sessions issue).

    Labelled `telesessions` because django.contrib.sessions already owns the label `sessions`.
    """

    name = "backend.sessions"
    label = "telesessions"
    verbose_name = "Remote sessions"
