"""Who may see what in peer work, and which sessions were peer support. One rule per kind of object:

- supervision entries: `supervision_entries_visible_to` / `supervision_entry_for` (the supervisor and the
  peer worker, nobody else; not even admins, whose work does not need what was said in supervision);
- fidelity questionnaires: `fidelity_questionnaires_for_admin` (an organisation's admins);
- fidelity ratings: `fidelity_ratings_visible_to` (the informant who gave them only; evaluators get them
  pseudonymised through backend/evaluation);
- who may rate whom: `informant_for` (the three informants, nobody else).

Peer support is derived, never recorded twice: `peer_support_appointments` and `peer_support_groups`.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from backend.accounts.models import PRACTITIONER_ROLES, Role, Team, TeamMembership, User
from backend.core.errors import Forbidden, NotFound
from backend.groups.models import GroupAttendee, GroupSession
from backend.sessions.models import Appointment

from .models import FidelityQuestionnaire, FidelityRating, Informant, SupervisionEntry

SUPERVISOR_ROLES = PRACTITIONER_ROLES  # clinicians and (senior) peer workers supervise peer workers
ATTENDED_IN_GROUP = (GroupAttendee.Attendance.ATTENDED, GroupAttendee.Attendance.LEFT_EARLY)


class NotAnInformant(Forbidden):
    """The asker is not one of the index's three informants for this peer worker and team."""

    code = "not_an_informant"


NOT_AN_INFORMANT = ("Only the three informants may rate a peer worker's fidelity: the peer worker themselves, their supervisor "
                    "(someone who has recorded their supervision in this team), or a person they supported in this team. "
                    "You are none of these for this peer worker and team, so nothing was saved.")


# --- Peer support, derived --------------------------------------------------------------------------------
def appointment_role_expression():
    """The role an appointment counts under: of whoever ran it, else of the practitioner it was booked with."""
    return Coalesce("run_by__role", "practitioner__role")


def peer_support_appointments(queryset: QuerySet[Appointment] | None = None) -> QuerySet[Appointment]:
    """One-to-one appointments that are peer support: run by (else booked with) a peer worker."""
    queryset = Appointment.objects.all() if queryset is None else queryset
    return queryset.annotate(counted_role=appointment_role_expression()).filter(counted_role=Role.PEER_WORKER)


def peer_support_groups(queryset: QuerySet[GroupSession] | None = None) -> QuerySet[GroupSession]:
    """Group sessions that are peer support: a peer worker facilitated or co-facilitated them."""
    queryset = GroupSession.objects.all() if queryset is None else queryset
    return queryset.filter(Q(facilitator__role=Role.PEER_WORKER) | Q(co_facilitator__role=Role.PEER_WORKER))


def _by(peer_worker_id: int) -> Q:
    return Q(run_by_id=peer_worker_id) | Q(run_by__isnull=True, practitioner_id=peer_worker_id)


def people_supported_by(peer_worker: User, team: Team) -> QuerySet[User]:
    """Service users who attended a peer support session with this peer worker in this team: a one-to-one
    appointment they ran that ended, or a group they (co-)facilitated that the person attended."""
    one_to_one = Appointment.objects.filter(_by(peer_worker.pk), team=team, status=Appointment.Status.ENDED).values("service_user_id")
    groups = GroupAttendee.objects.filter(
        Q(group__facilitator=peer_worker) | Q(group__co_facilitator=peer_worker), group__team=team,
        group__status=GroupSession.Status.ENDED, attendance__in=ATTENDED_IN_GROUP,
    ).values("person_id")
    return User.objects.filter(role=Role.SERVICE_USER).filter(Q(pk__in=one_to_one) | Q(pk__in=groups))


# --- Supervision -----------------------------------------------------------------------------------------
def supervision_entries_visible_to(user: User) -> QuerySet[SupervisionEntry]:
    """The supervisor and the peer worker of each entry, within their organisation; nobody else."""
    if user.role not in SUPERVISOR_ROLES or user.organisation_id is None:
        return SupervisionEntry.objects.none()
    return SupervisionEntry.objects.filter(Q(supervisor=user) | Q(peer_worker=user), organisation_id=user.organisation_id).select_related(
        "supervisor", "peer_worker", "team")


def supervision_entry_for(user: User, entry_id: int) -> SupervisionEntry:
    entry = supervision_entries_visible_to(user).filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(f"No supervision entry {entry_id}.", field="entry_id")
    return entry


def peer_workers_to_supervise(user: User) -> QuerySet[TeamMembership]:
    """The (peer worker, team) pairs a supervisor may record supervision for: peer workers of their own
    organisation's teams, other than themselves."""
    if user.role not in SUPERVISOR_ROLES or user.organisation_id is None:
        return TeamMembership.objects.none()
    return TeamMembership.objects.filter(
        user__role=Role.PEER_WORKER, user__is_active=True, user__organisation_id=user.organisation_id,
        team__organisation_id=user.organisation_id,
    ).exclude(user=user).select_related("user", "team").order_by("user__full_name", "team__name", "id")


def supervision_pair_for(user: User, peer_worker_id: int, team_id: int) -> TeamMembership:
    """The peer worker in that team, if the asker may record their supervision (404 otherwise: nothing revealed)."""
    membership = peer_workers_to_supervise(user).filter(user_id=peer_worker_id, team_id=team_id).first()
    if membership is None:
        raise NotFound("There is no peer worker with that id in that team of your organisation.", field="peer_worker_id")
    return membership


# --- Fidelity --------------------------------------------------------------------------------------------
def fidelity_questionnaires_for_admin(user: User) -> QuerySet[FidelityQuestionnaire]:
    if user.role != Role.ADMIN or user.organisation_id is None:
        return FidelityQuestionnaire.objects.none()
    return FidelityQuestionnaire.objects.filter(organisation_id=user.organisation_id).select_related("instrument")


def current_questionnaire(organisation_id: int, informant: str) -> FidelityQuestionnaire | None:
    """The newest registration for these informants whose instrument is still active."""
    return (FidelityQuestionnaire.objects.filter(organisation_id=organisation_id, informant=informant, instrument__is_active=True)
            .select_related("instrument").order_by("-id").first())


def fidelity_ratings_visible_to(user: User) -> QuerySet[FidelityRating]:
    """The ratings the asker gave, and nothing else (a person's view of their peer worker is theirs)."""
    return FidelityRating.objects.filter(rated_by=user).select_related("peer_worker", "team", "questionnaire__instrument")


def informant_for(user: User, peer_worker_id: int, team_id: int) -> tuple[str, User, Team]:
    """Which of the three informants the asker is for this peer worker in this team, with the peer worker
    and the team. Anyone else gets one NotAnInformant (403), the same whether or not the ids exist, so
    the answer reveals nothing about accounts the asker may not see."""
    membership = TeamMembership.objects.filter(
        user_id=peer_worker_id, team_id=team_id, user__role=Role.PEER_WORKER, user__is_active=True,
    ).select_related("user", "team").first()
    if membership is None:
        raise NotAnInformant(NOT_AN_INFORMANT, field="peer_worker_id")
    peer_worker, team = membership.user, membership.team
    if user.pk == peer_worker.pk:
        return Informant.PEER_WORKER, peer_worker, team
    if user.role in SUPERVISOR_ROLES and user.organisation_id == team.organisation_id and SupervisionEntry.objects.filter(
            supervisor=user, peer_worker=peer_worker, team=team).exists():
        return Informant.SUPERVISOR, peer_worker, team
    if user.role == Role.SERVICE_USER and people_supported_by(peer_worker, team).filter(pk=user.pk).exists():
        return Informant.PERSON_SUPPORTED, peer_worker, team
    raise NotAnInformant(NOT_AN_INFORMANT, field="peer_worker_id")


def ratable_for(user: User) -> list[tuple[str, User, Team]]:
    """Every (informant, peer worker, team) the asker may rate, for their page."""
    if user.role == Role.PEER_WORKER:
        own = [(Informant.PEER_WORKER, m.user, m.team) for m in TeamMembership.objects.filter(user=user).select_related("user", "team")]
    else:
        own = []
    supervised = []
    if user.role in SUPERVISOR_ROLES:
        pairs = (SupervisionEntry.objects.filter(supervisor=user, organisation_id=user.organisation_id)
                 .values_list("peer_worker_id", "team_id").distinct())
        memberships = TeamMembership.objects.filter(user__role=Role.PEER_WORKER).select_related("user", "team")
        wanted = set(pairs)
        supervised = [(Informant.SUPERVISOR, m.user, m.team) for m in memberships.filter(user_id__in={p for p, _ in wanted})
                      if (m.user_id, m.team_id) in wanted]
    supported = []
    if user.role == Role.SERVICE_USER:
        one_to_one = Appointment.objects.filter(service_user=user, status=Appointment.Status.ENDED).annotate(
            counted_role=appointment_role_expression()).filter(counted_role=Role.PEER_WORKER).annotate(
            worker=Coalesce("run_by_id", "practitioner_id")).values_list("worker", "team_id")
        in_groups = GroupAttendee.objects.filter(person=user, group__status=GroupSession.Status.ENDED, attendance__in=ATTENDED_IN_GROUP)
        pairs = set(one_to_one)
        for facilitator, co, team_id in in_groups.values_list("group__facilitator_id", "group__co_facilitator_id", "group__team_id"):
            pairs |= {(facilitator, team_id), (co, team_id)}
        memberships = TeamMembership.objects.filter(user__role=Role.PEER_WORKER, user__is_active=True).select_related("user", "team")
        supported = [(Informant.PERSON_SUPPORTED, m.user, m.team) for m in memberships.filter(user_id__in={p for p, _ in pairs if p})
                     if (m.user_id, m.team_id) in pairs]
    return sorted(own + supervised + supported, key=lambda r: (r[1].full_name, r[2].name))
