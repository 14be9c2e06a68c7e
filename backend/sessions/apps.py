from django.apps import AppConfig


class TeleSessionsConfig(AppConfig):
    """Appointments, the waiting room, signalling and telemetry (the sessions issue).

    Labelled `telesessions` because django.contrib.sessions already owns the label `sessions`.
    """

    name = "backend.sessions"
    label = "telesessions"
    verbose_name = "Remote sessions"

    def ready(self):
        # Revocation reaches open sockets: accounts and consent announce narrowed access through the
        # hook accounts exposes; sessions closes the call and waiting-room sockets it concerns.
        from backend.accounts.hooks import ACCESS_CHANGED
        from backend.sessions.revocation import on_access_changed

        if on_access_changed not in ACCESS_CHANGED:
            ACCESS_CHANGED.append(on_access_changed)

        # A person's own record (download, subject access) gets this app's section (accounts exposes the hook).
        from backend.accounts.records import register_section
        from backend.sessions.records import SECTIONS as RECORD_SECTIONS

        for section in RECORD_SECTIONS:
            register_section(section)

        # The carer's home lists the sessions they are invited to (accounts cannot import sessions).
        from backend.accounts.hooks import HOME_PANELS
        from backend.sessions.views import carer_sessions_panel

        if carer_sessions_panel not in HOME_PANELS:
            HOME_PANELS.append(carer_sessions_panel)

        # While Redis is down, the channel layer's receive loop would log a traceback every second.
        import logging

        from backend.sessions.presence import QuietRedisOutage

        pubsub_log = logging.getLogger("channels_redis.pubsub")
        if not any(isinstance(f, QuietRedisOutage) for f in pubsub_log.filters):
            pubsub_log.addFilter(QuietRedisOutage())
