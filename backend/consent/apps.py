from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """Consent purposes and records, modality preference and digital access."""

    name = "backend.consent"
    label = "consent"

    def ready(self):
        # A carer sees anything only while the person's consent to involve them holds: plug that rule
        # into the accounts layer's carer-sharing hook (accounts cannot import consent).
        from backend.accounts.selectors import CARER_SHARING_RULES
        from backend.consent.selectors import links_with_carer_consent

        if links_with_carer_consent not in CARER_SHARING_RULES:
            CARER_SHARING_RULES.append(links_with_carer_consent)

        # A person's own record (download, subject access) gets this app's section (accounts exposes the hook).
        from backend.accounts.records import register_section
        from backend.consent.records import SECTIONS as RECORD_SECTIONS

        for section in RECORD_SECTIONS:
            register_section(section)
