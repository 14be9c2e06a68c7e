from django.apps import AppConfig


class PeerWorkConfig(AppConfig):
    """Peer work: supervision of peer workers and fidelity to peer support principles, rated by three
    informants on a licensed questionnaire loaded as data (docs/peerwork.md)."""

    name = "backend.peerwork"
    label = "peerwork"
    default_auto_field = "django.db.models.BigAutoField"
