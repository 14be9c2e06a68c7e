from django.core.management.base import BaseCommand, CommandError

from backend.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Walk the audit hash chain and report the first broken link. Exits non-zero if the chain is broken."

    def handle(self, *args, **options):
        report = audit_chain_verify()
        if not report.intact:
            raise CommandError(
                f"Audit chain BROKEN at event #{report.broken_at}: {report.reason}. "
                f"{report.events_checked} events before it verified."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.events_checked} events verified."))
