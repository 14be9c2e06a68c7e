"""Who may see which accounts, teams, caseloads and carer links: the rules, written once.

Every REST view, page and (later) WebSocket consumer asks these functions; each returns a queryset
already narrowed to what the asker may see, so a list cannot show what a detail view would refuse.
An object outside the asker's view is reported as not found, so its existence is not revealed.

Organisations are a boundary: staff (admins and evaluators included) see only their own
organisation's teams, staff and the service users registered with it; a service user of another
organisation answers exactly as an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from backend.accounts.models import (
    PRACTITIONER_ROLES,
    STAFF_ROLES,
    CarerLink,
    CaseloadEntry,
    Organisation,
    OrganisationRegistration,
    Role,
    Team,
    TeamMembership,
    User,
)
from backend.core.errors import Forbidden, NotFound, one_visible

# Roles that may see identifiable records at all. Evaluators never do (they get pseudonymised exports).
IDENTIFIABLE_READERS = frozenset({Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, Role.CARER, Role.ADMIN})


# Rules from higher layers that narrow which carer links share anything (consent adds: only while the
# person's consent to involve that carer holds). Each takes and returns a CarerLink queryset.
CARER_SHARING_RULES: list[Callable[[QuerySet[CarerLink]], QuerySet[CarerLink]]] = []


def sharing_carer_links() -> QuerySet[CarerLink]:
    """Accepted, unended carer links that every sharing rule allows: what a carer may see flows only
    through these. A proposal the carer has not accepted shares nothing."""
    links = CarerLink.objects.in_effect()
    for rule in CARER_SHARING_RULES:
        links = rule(links)
    return links


def require_identifiable_reader(user: User) -> None:
    if user.role not in IDENTIFIABLE_READERS:
        raise Forbidden("Evaluators see pseudonymised exports only, never identifiable records.")


# --- Organisations ---------------------------------------------------------------------------------
def organisation_of(user: User) -> int | None:
    """The organisation whose boundary a staff member acts within (None: they see nothing)."""
    return user.organisation_id if user.role in STAFF_ROLES else None


def organisations_visible_to(user: User) -> QuerySet[Organisation]:
    """An admin sees their own organisation only; nobody else manages organisations."""
    if user.role != Role.ADMIN:
        raise Forbidden("Only administrators manage organisations.")
    return Organisation.objects.filter(pk=organisation_of(user))


def organisation_for(user: User, organisation_id: int) -> Organisation:
    return one_visible(organisations_visible_to(user), organisation_id, noun="organisation", field="organisation_id")


def registered_with(organisation_id: int | None) -> QuerySet[User]:
    """Service users registered with the organisation (active or not)."""
    return User.objects.filter(
        role=Role.SERVICE_USER,
        pk__in=OrganisationRegistration.objects.filter(organisation_id=organisation_id).values("service_user_id"),
    )


# One answer for every id a team may not admit: absent, not a service user, or registered elsewhere.
NOT_ADMISSIBLE = "No service user with this id is registered with this team's organisation."


def service_user_for_admission(team: Team, service_user_id: int) -> User:
    """The service user a team may take onto its caseload: registered with the team's organisation.
    Anything else is NotFound with one body, so a caseload call reveals nothing about other ids."""
    found = registered_with(team.organisation_id).filter(pk=service_user_id).first()
    if found is None:
        raise NotFound(NOT_ADMISSIBLE, field="service_user_id")
    return found


def registrations_for_admin(user: User) -> QuerySet[OrganisationRegistration]:
    if user.role != Role.ADMIN:
        raise Forbidden("Only administrators register people with an organisation.")
    return OrganisationRegistration.objects.filter(organisation_id=organisation_of(user)).select_related(
        "service_user", "organisation").order_by("service_user__full_name", "id")


def service_user_for_registration(user: User, service_user_id: int) -> User:
    """A service user an admin may register with their organisation: one already registered with it
    (the service answers 409) or one registered with no organisation yet (accounts made before
    organisations were a boundary). Someone registered only elsewhere answers as an unknown id."""
    people = User.objects.filter(role=Role.SERVICE_USER).filter(
        Q(registrations__organisation_id=organisation_of(user)) | Q(registrations__isnull=True)
    ).distinct()
    return one_visible(people, service_user_id, noun="service user", field="service_user_id")


# --- Service users ---------------------------------------------------------------------------------
def service_users_visible_to(user: User) -> QuerySet[User]:
    service_users = User.objects.filter(role=Role.SERVICE_USER, is_active=True)
    if user.role in PRACTITIONER_ROLES:
        # Caseloads of their own organisation's teams only (admission already requires registration).
        on_my_caseloads = CaseloadEntry.objects.filter(
            service_user=OuterRef("pk"), team__memberships__user=user, team__organisation_id=organisation_of(user)
        )
        return service_users.filter(Exists(on_my_caseloads))
    if user.role == Role.SERVICE_USER:
        return service_users.filter(pk=user.pk)
    if user.role == Role.CARER:
        return service_users.filter(pk__in=sharing_carer_links().filter(carer=user).values("service_user"))
    if user.role == Role.ADMIN:
        return service_users.filter(pk__in=registered_with(organisation_of(user)).values("pk"))
    return service_users.none()


def caseload_entries_seen_by(user: User) -> Prefetch:
    """A person's caseload entries (their teams) as `user` may see them: staff see only their own
    organisation's teams, so a person registered with two organisations shows neither's to the other."""
    entries = CaseloadEntry.objects.select_related("team")
    if user.role in STAFF_ROLES:
        entries = entries.filter(team__organisation_id=organisation_of(user))
    return Prefetch("caseload_entries", queryset=entries)


def service_users_with_teams(user: User) -> QuerySet[User]:
    return service_users_visible_to(user).prefetch_related(caseload_entries_seen_by(user))


def service_user_for(user: User, service_user_id: int) -> User:
    """The service user with this id, if `user` may see them; otherwise NotFound."""
    found = service_users_with_teams(user).filter(pk=service_user_id).first()
    if found is None:
        raise NotFound(f"No service user {service_user_id} that you can see.", field="service_user_id")
    return found


def teams_visible_to(user: User) -> QuerySet[Team]:
    teams = Team.objects.select_related("organisation")
    if user.role in PRACTITIONER_ROLES:
        return teams.filter(Exists(TeamMembership.objects.filter(team=OuterRef("pk"), user=user)),
                            organisation_id=organisation_of(user))
    if user.role == Role.SERVICE_USER:
        return teams.filter(Exists(CaseloadEntry.objects.filter(team=OuterRef("pk"), service_user=user)))
    if user.role in (Role.ADMIN, Role.EVALUATOR):
        # Their own organisation's teams; evaluators need them to filter and compare.
        return teams.filter(organisation_id=organisation_of(user))
    return teams.none()


def team_for(user: User, team_id: int) -> Team:
    return one_visible(teams_visible_to(user), team_id, noun="team", field="team_id")


def team_for_caseload(user: User, team_id: int) -> Team:
    """A team whose caseload and members `user` may see: its own practitioners, or an admin."""
    team = team_for(user, team_id)
    if user.role not in PRACTITIONER_ROLES and user.role != Role.ADMIN:
        raise Forbidden("Only the team's clinicians and peer workers see its caseload.")
    return team


def team_caseload(team: Team) -> QuerySet[CaseloadEntry]:
    return team.caseload.select_related("service_user").order_by("service_user__full_name", "id")


def teams_with_caseloads(user: User) -> QuerySet[Team]:
    """A practitioner's teams, each with its caseload loaded (two queries in all)."""
    return teams_visible_to(user).prefetch_related(
        Prefetch("caseload", queryset=CaseloadEntry.objects.select_related("service_user").order_by("service_user__full_name", "id"))
    )


def team_members(team: Team) -> QuerySet[TeamMembership]:
    return team.memberships.select_related("user").order_by("user__full_name", "id")


def teams_of(user: User) -> QuerySet[Team]:
    """The teams a person belongs to: as a practitioner, their teams; as a service user, their caseload teams."""
    return teams_visible_to(user) if user.role in PRACTITIONER_ROLES | {Role.SERVICE_USER} else Team.objects.none()


def carer_links_visible_to(user: User) -> QuerySet[CarerLink]:
    """Links a person may see. A carer sees the proposals made to them (to accept or decline) and their
    links; a carer's name is shown to others only once they accept (serializers.CarerLinkOut)."""
    links = CarerLink.objects.select_related("service_user", "carer")
    if user.role == Role.SERVICE_USER:
        return links.filter(service_user=user)
    if user.role == Role.CARER:
        return links.filter(carer=user)
    if user.role in PRACTITIONER_ROLES:
        return links.filter(service_user__in=service_users_visible_to(user))
    if user.role == Role.ADMIN:
        return links.filter(service_user__in=registered_with(organisation_of(user)).values("pk"))
    return links.none()


def carer_link_for(user: User, link_id: int) -> CarerLink:
    return one_visible(carer_links_visible_to(user), link_id, noun="carer link", field="link_id")


def users_for_admin(user: User) -> QuerySet[User]:
    """Accounts an admin manages: their organisation's staff, the service users registered with it,
    and the carers those service users have proposed or accepted (carers belong to no organisation)."""
    if user.role != Role.ADMIN:
        raise Forbidden("Only administrators manage accounts.")
    organisation_id = organisation_of(user)
    registered = registered_with(organisation_id).values("pk")
    carers = CarerLink.objects.filter(service_user__in=registered, declined_at__isnull=True, carer__isnull=False).values("carer_id")
    return User.objects.filter(
        Q(role__in=STAFF_ROLES, organisation_id=organisation_id) | Q(pk__in=registered) | Q(pk__in=carers)
    ) if organisation_id is not None else User.objects.none()
