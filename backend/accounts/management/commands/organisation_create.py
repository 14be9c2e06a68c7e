"""Create an organisation and its first admin: the operator's job, not an admin's (an admin's powers
end at their own organisation's boundary, so the API does not create organisations).

    SITE_URL=https://rapport.trust.nhs.uk python manage.py organisation_create "Leeds and York NHS Trust" \
        --admin-email ada@trust.nhs.uk --admin-name "Ada Admin"

With `--admin-email` it prints the admin's one-time link to set a password (also emailed to them when
email is set up), as `first_admin_create` does.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backend.accounts import invitations, services
from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an organisation, and optionally its first admin (printing their one-time link to set a password)."

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
                link = invitations.first_admin_link(actor=actor, user=admin) if admin is not None else ""
        except DomainError as error:
            raise CommandError(error.detail) from error
        except OSError as error:  # the mail server refused or could not be reached: nothing is kept
            raise CommandError(f"The email to {admin_email} could not be sent ({error}). Check EMAIL_URL, or unset it to print the link only.") from error
        self.stdout.write(f"Organisation {organisation.pk}: {organisation.name}")
        if admin is not None:
            self.stdout.write(f"Admin {admin.email}: they set their password at this link (it works once; also emailed to them "
                              f"if email is set up):\n{link}")
