from django.apps import AppConfig


class RelativesConfig(AppConfig):
    """The relatives' space: a module library, direct messages with supporters, a moderated forum, and
    safety flags on what relatives write (docs/relatives.md)."""

    name = "backend.relatives"
    label = "relatives"

    def ready(self):
        # The carer's home page shows the way into the relatives' space; the person page shows, beside
        # each carer link, the one-click invitation (both lower layers expose the hook).
        from backend.accounts.hooks import HOME_PANELS
        from backend.relatives.views import home_panel, person_page_panel
        from backend.sessions.hooks import PERSON_PAGE_PANELS

        if home_panel not in HOME_PANELS:
            HOME_PANELS.append(home_panel)
        if person_page_panel not in PERSON_PAGE_PANELS:
            PERSON_PAGE_PANELS.append(person_page_panel)
