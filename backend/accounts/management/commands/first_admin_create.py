"""Give an organisation its first admin, when it has none: the operator's way in, after which that admin
manages everything else (staff, teams, service users) in the browser.

    SITE_URL=https://rapport.trust.nhs.uk python manage.py first_admin_create "Leeds and York NHS Trust" \
        --email ada@trust.nhs.uk --name "Ada Admin"

It prints a one-time link (also emailed to them when email is set up) where the admin sets their
password; staff two-factor sign-in is then set up at their first log in. The link works once and
expires after INVITATION_DAYS.

It refuses when the organisation already has an active admin (they add more admins on the Staff page),
so it cannot be used to slip a second way into an organisation that is already run. The organisation
is named by its name (any case) or its id; `organisation_create` makes a new one.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backend.accounts import invitations, services
from backend.accounts.models import Organisation, Role, User
from backend.audit.actor import Actor
from backend.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an organisation's first admin, if it has no active admin, and print their one-time link to set a password."

    def add_arguments(self, parser):
        parser.add_argument("organisation", help="The organisation's name (any case) or id.")
        parser.add_argument("--email", required=True, help="The admin's email address: they log in with it.")
        parser.add_argument("--name", default="Administrator", help="The admin's full name.")

    def handle(self, *args, organisation, email, name, **options):
        found = Organisation.objects.filter(name__iexact=organisation).first()
        if found is None and organisation.isdigit():
            found = Organisation.objects.filter(pk=int(organisation)).first()
        if found is None:
            raise CommandError(f"No organisation named {organisation!r}. Create it with `manage.py organisation_create`.")
        try:
            with transaction.atomic():
                # Locked, so two runs at once cannot both find no admin.
                Organisation.objects.select_for_update().get(pk=found.pk)
                existing = User.objects.filter(organisation=found, role=Role.ADMIN, is_active=True).order_by("id").first()
                if existing is not None:
                    raise CommandError(f"{found.name} already has an admin ({existing.email}). They add more admins on the "
                                       "Staff page (/administration/staff/).")
                actor = Actor.system(via="command")
                admin = services.user_create(actor=actor, email=email, full_name=name, role=Role.ADMIN,
                                             password=None, organisation=found)
                link = invitations.first_admin_link(actor=actor, user=admin)
        except DomainError as error:
            raise CommandError(error.detail) from error
        except OSError as error:  # the mail server refused or could not be reached: nothing is kept
            raise CommandError(f"The email to {email} could not be sent ({error}). Check EMAIL_URL, or unset it to print the link only.") from error
        self.stdout.write(f"Admin {admin.email} created for {found.name}.\n"
                          f"They set their password at this link (it works once; also emailed to them if email is set up):\n{link}")
