"""Create an organisation and its first admin: the operator's job, not an admin's (an admin's powers
end at their own organisation's boundary, so the API does not create organisations).

    python manage.py organisation_create "Leeds and York NHS Trust" --admin-email ada@trust.nhs.uk --admin-name "Ada Admin"
    python manage.py changepassword ada@trust.nhs.uk
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backend.accounts import services
from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an organisation, and optionally its first admin (who sets a password with changepassword)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--admin-email")
        parser.add_argument("--admin-name", default="Administrator")
        parser.add_argument("--no-two-factor", action="store_true",
                            help="Let staff sign in with a password alone (two-factor sign-in is on by default).")

    def handle(self, *args, name, admin_email, admin_name, no_two_factor=False, **options):
        actor = Actor.system(via="command")
        try:
            with transaction.atomic():  # both or neither
                organisation = services.organisation_create(actor=actor, name=name, staff_two_factor_required=not no_two_factor)
                admin = services.user_create(
                    actor=actor, email=admin_email, full_name=admin_name, role=Role.ADMIN, password=None, organisation=organisation
                ) if admin_email else None
        except DomainError as error:
            raise CommandError(error.detail) from error
        self.stdout.write(f"Organisation {organisation.pk}: {organisation.name}")
        if admin is not None:
            self.stdout.write(f"Admin {admin.email}: set a password with `manage.py changepassword {admin.email}`.")
