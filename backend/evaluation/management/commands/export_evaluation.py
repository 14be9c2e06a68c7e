"""Make an evaluation export from the command line: the same service, checks and audit as the API.

    python manage.py export_evaluation --dataset sessions --format parquet --dates shifted \\
        --from 2026-01-01 --to 2026-03-31 --team 3 --output sessions.zip --by evaluator@trust.nhs.uk
    python manage.py export_evaluation --dictionary > docs/data-dictionary.md
"""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ValidationError

from backend.accounts.models import Role, User
from backend.audit.actor import Actor
from backend.core.errors import DomainError
from backend.evaluation import dictionary
from backend.evaluation.formats import FORMATS
from backend.evaluation.selectors import DEFAULT_CHUNK_SIZE
from backend.evaluation.serializers import ExportInput, export_request_from
from backend.evaluation.services import export_make


class Command(BaseCommand):
    help = "Export a pseudonymised, consent-filtered evaluation dataset as a zip with its data dictionary."

    def add_arguments(self, parser):
        parser.add_argument("--dictionary", action="store_true", help="Print docs/data-dictionary.md and stop.")
        parser.add_argument("--dataset", choices=sorted(dictionary.DATASETS))
        parser.add_argument("--format", choices=sorted(FORMATS))
        parser.add_argument("--dates", default="month", help="exact, shifted or month (default).")
        parser.add_argument("--max-shift-days", type=int, default=30)
        parser.add_argument("--from", dest="date_from")
        parser.add_argument("--to", dest="date_to")
        parser.add_argument("--team", type=int)
        parser.add_argument("--site")
        parser.add_argument("--modality")
        parser.add_argument("--instrument", help="An instrument's code (responses, responses_long, fhir).")
        parser.add_argument("--output", help="Where to write the zip.")
        parser.add_argument("--by", help="The evaluator's email, recorded in the audit trail as who made the export.")
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)

    def handle(self, *args, **options):
        if options["dictionary"]:
            self.stdout.write(dictionary.markdown(), ending="")
            return
        if not (options["dataset"] and options["format"] and options["output"]):
            raise CommandError("Give --dataset, --format and --output (or --dictionary).")
        filters = {name: options[name] for name in ("date_from", "date_to", "team", "site", "modality", "instrument") if options[name] is not None}
        serializer = ExportInput(data={"dataset": options["dataset"], "format": options["format"], "dates": options["dates"],
                                       "max_shift_days": options["max_shift_days"], "filters": filters})
        try:
            serializer.is_valid(raise_exception=True)
        except ValidationError as error:
            raise CommandError(f"Bad arguments: {error.detail}") from error
        actor = Actor(user=self._evaluator(options["by"]), user_agent=f"manage.py export_evaluation (os user {getpass.getuser()})", via="command")
        try:
            with open(options["output"], "wb") as into:
                result = export_make(actor=actor, request=export_request_from(serializer.validated_data), into=into,
                                     chunk_size=options["chunk_size"])
        except DomainError as error:
            raise CommandError(error.detail) from error
        self.stdout.write(f"Wrote {options['output']}: {result.rows} rows, {result.people} people.")
        for name, digest in result.sha256.items():
            self.stdout.write(f"  sha256 {digest}  {name}")

    def _evaluator(self, email: str | None) -> User | None:
        if email is None:
            return None
        user = User.objects.filter(email=email.lower(), role=Role.EVALUATOR, is_active=True).first()
        if user is None:
            raise CommandError(f"{email} is not an active evaluator's account.")
        return user
