"""Demo data with stable logins that docs and test tools rely on. Running it again changes nothing
but the passwords (reset to --password)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from backend.accounts import services
from backend.accounts.models import CarerLink, CaseloadEntry, Organisation, Role, Team, TeamMembership, User
from backend.audit.actor import Actor

ORGANISATION = "Demo NHS Foundation Trust"
TEAMS = {
    "north": ("Talking Therapies North", "NHS Talking Therapies", "Leeds"),
    "south": ("Community Mental Health Team South", "Community mental health", "Wakefield"),
}
PEOPLE = [
    # email, full name, preferred name, role, teams (member of, or on the caseload of)
    ("clinician@demo.test", "Dr Asha Patel", "Asha", Role.CLINICIAN, ["north"]),
    ("clinician2@demo.test", "Tom Reid", "Tom", Role.CLINICIAN, ["south"]),
    ("peer@demo.test", "Sam Okafor", "Sam", Role.PEER_WORKER, ["north"]),
    ("user1@demo.test", "Jordan Ellis", "Jo", Role.SERVICE_USER, ["north"]),
    ("user2@demo.test", "Priya Shah", "", Role.SERVICE_USER, ["north"]),
    ("user3@demo.test", "Morgan Hughes", "Mo", Role.SERVICE_USER, ["north", "south"]),
    ("user4@demo.test", "Alex Byrne", "", Role.SERVICE_USER, ["south"]),
    ("carer@demo.test", "Chris Ellis", "", Role.CARER, []),
    ("evaluator@demo.test", "Eve Lawson", "", Role.EVALUATOR, []),
    ("admin@demo.test", "Ada Admin", "", Role.ADMIN, []),
]


class Command(BaseCommand):
    help = "Create the demo organisation, teams and accounts (idempotent) and print their logins."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="rapport-demo", help="Password for every demo account.")

    @transaction.atomic
    def handle(self, *args, password, **options):
        actor = Actor.system()
        organisation = Organisation.objects.filter(name=ORGANISATION).first() or services.organisation_create(
            actor=actor, name=ORGANISATION
        )
        teams = {}
        for key, (name, service, site) in TEAMS.items():
            teams[key] = organisation.teams.filter(name=name).first() or services.team_create(
                actor=actor, organisation=organisation, name=name, service=service, site=site
            )
        accounts = {}
        for email, full_name, preferred, role, team_keys in PEOPLE:
            user = User.objects.filter(email=email).first()
            if user is None:
                # Demo passwords are short and guessable on purpose, so no validators: create directly.
                user = User.objects.create_user(email, password, full_name=full_name, preferred_name=preferred, role=role)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            accounts[email] = user
            for key in team_keys:
                team = teams[key]
                if role == Role.SERVICE_USER:
                    if not CaseloadEntry.objects.filter(team=team, service_user=user).exists():
                        services.caseload_add(actor=actor, team=team, service_user=user)
                elif not TeamMembership.objects.filter(team=team, user=user).exists():
                    services.team_member_add(actor=actor, team=team, user=user)
        user1, carer = accounts["user1@demo.test"], accounts["carer@demo.test"]
        if not CarerLink.objects.filter(service_user=user1, carer=carer, ended_at__isnull=True).exists():
            services.carer_link_create(
                actor=Actor(user1, via="command"), service_user=user1, carer_email=carer.email,
                relationship=CarerLink.Relationship.PARTNER,
            )
        self.stdout.write("Demo logins (password: %s):" % password)
        for email, full_name, _, role, team_keys in PEOPLE:
            where = ", ".join(TEAMS[k][0] for k in team_keys)
            self.stdout.write(f"  {email:<22} {role.label:<32} {full_name}{' — ' + where if where else ''}")
