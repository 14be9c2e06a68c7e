"""Import historic outcome records from a CSV: python manage.py import_outcomes FILE --team ID [--dry-run].

The same checks and all-or-nothing import as POST /api/v1/outcomes/imports/ (docs/import.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backend.accounts.models import Team
from backend.audit.actor import Actor
from backend.audit.history import history_by
from backend.core.errors import DomainError
from backend.outcomes import imports


class Command(BaseCommand):
    help = "Import historic outcome records (courses, appointments, questionnaire answers) from a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--team", type=int, required=True, help="The id of the team the records belong to.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and report, without importing.")

    def handle(self, *args, file: Path, team: int, dry_run: bool, **options):
        found = Team.objects.filter(pk=team).first()
        if found is None:
            raise CommandError(f"No team {team}.")
        try:
            text = imports.decode(file.read_bytes())
            actor = Actor.system(via="command")
            with history_by(actor):  # outside a request: name the command in the history of what it changes
                result = imports.import_csv(actor=actor, team=found, text=text, dry_run=dry_run)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error
        except imports.ImportErrors as error:
            for problem in error.errors():
                self.stderr.write(problem["message"])
            raise CommandError(error.detail) from error
        except DomainError as error:
            raise CommandError(error.detail) from error
        verb = "Checked" if dry_run else "Imported"
        self.stdout.write(
            f"{verb} {result.rows} rows: {result.service_users_created} people, {result.courses_created} courses, "
            f"{result.appointments_created} appointments, {result.responses_created} questionnaires, "
            f"{result.consents_recorded} consent decisions recorded; "
            f"{result.unchanged} rows were already imported."
        )
