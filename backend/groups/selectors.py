"""Who may see and do what with a group session: one rule (`group_access_for`), used by every caller."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from backend.accounts.models import PRACTITIONER_ROLES, Role, Team, User
from backend.accounts.selectors import service_users_visible_to, sharing_carer_links
from backend.consent.models import PurposeCode
from backend.consent.selectors import consents_holding
from backend.core.errors import Forbidden, NotFound

from .hooks import facilitation_granted
from .models import GroupAttendee, GroupSession, GroupTeamSettings

SEE, JOIN, RUN, FACILITATE = "see", "join", "run", "facilitate"


@dataclass
class GroupAccess:
    group: GroupSession
    attendee: GroupAttendee | None = None


def groups_visible_to(user: User) -> QuerySet[GroupSession]:
    """Practitioners: their teams' groups. Anyone else: the groups they are booked into."""
    if user.role in PRACTITIONER_ROLES:
        return GroupSession.objects.filter(team__memberships__user=user).distinct()
    return GroupSession.objects.filter(Q(attendees__person=user)).distinct()


def group_access_for(user: User, group_id: int, need: str = SEE) -> GroupAccess:
    """The one rule for group sessions. NotFound when the asker may not know the group exists; Forbidden when
    they may see it but not `need` it ("join": a booked attendee; "run": a clinician or peer worker of the team;
    "facilitate", the live facilitation only: "run", or a grant from a higher layer through `hooks.FACILITATION_GRANTS`
    for this one group, such as a Recovery College trainer of the run the group is a session of)."""
    group = groups_visible_to(user).filter(pk=group_id).first()
    if need == FACILITATE:
        if group is not None and user.role in PRACTITIONER_ROLES:
            return GroupAccess(group)
        if facilitation_granted(user, group_id):
            granted = GroupSession.objects.filter(pk=group_id).first()
            if granted is not None:
                return GroupAccess(granted)
        if group is None:
            raise NotFound(f"No group session {group_id}.", field="group_id")
        raise Forbidden("Only the group's facilitators can run it.", field="group_id", code="not_the_host")
    if group is None:
        raise NotFound(f"No group session {group_id}.", field="group_id")
    if need == SEE:
        return GroupAccess(group)
    if need == RUN:
        if user.role not in PRACTITIONER_ROLES:
            raise Forbidden("Only the clinicians and peer workers of the group's team can run it.", field="group_id", code="not_the_host")
        return GroupAccess(group)
    attendee = GroupAttendee.objects.filter(group=group, person=user).first()
    if attendee is None:
        raise Forbidden("You are not booked into this group.", field="group_id", code="not_booked")
    return GroupAccess(group, attendee)


def media_allowed(attendee: GroupAttendee) -> tuple[bool, bool]:
    """(may join at all, may send video): remote care consent, then video consent (as for one-to-one calls).
    A carer in a carers' group: only while someone on the group's team's caseload has agreed to involve them
    (the carer-sharing rule, as for a carer in a one-to-one call); then audio and video (carers' own media
    consent is not recorded in the consent catalogue). Anyone else who is not a service user (staff or a carer
    taking a Recovery College course, backend/college) has no care to consent to: audio and video."""
    if attendee.group.for_carers:
        return carer_involved_with_team(attendee.person, attendee.group.team), True
    if attendee.person.role != Role.SERVICE_USER:
        return True, True
    holding = consents_holding(attendee.person, [PurposeCode.REMOTE_CARE, PurposeCode.VIDEO])
    return PurposeCode.REMOTE_CARE in holding, PurposeCode.VIDEO in holding


def carer_involved_with_team(carer: User, team: Team) -> bool:
    """A carer may be in a team's carers' group only through someone on that team's caseload who has agreed
    to involve them now (`sharing_carer_links`: an accepted link and the person's carer_involvement consent)."""
    return carer.role == Role.CARER and sharing_carer_links().filter(carer=carer, service_user__caseload_entries__team=team).exists()


def group_people_bookable(user: User, team: Team, *, for_carers: bool) -> QuerySet[User]:
    """Who `user` may book into `team`'s group: the team's caseload (as far as `user` sees it), or for a carers'
    group the carers whom someone on that caseload has agreed to involve."""
    caseload = service_users_visible_to(user).filter(caseload_entries__team=team)
    if not for_carers:
        return caseload.filter(is_active=True).distinct()
    links = sharing_carer_links().filter(service_user__in=caseload.values("pk"))
    return User.objects.filter(role=Role.CARER, is_active=True, pk__in=links.values("carer_id")).distinct()


def groups_for_staff(user: User) -> QuerySet[GroupSession]:
    """A practitioner's teams' groups with their booked counts (for the staff list)."""
    from django.db.models import Count

    return groups_visible_to(user).select_related("team", "facilitator", "co_facilitator").annotate(booked=Count("attendees", distinct=True))


def series_meetings(group: GroupSession) -> QuerySet[GroupSession]:
    """The meetings of `group`'s series, in order (a single meeting is a series of one)."""
    return GroupSession.objects.filter(series=group.series, team=group.team).order_by("starts_at", "id")


def group_settings(team: Team) -> GroupTeamSettings:
    """The team's group settings; an unsaved row of defaults if the team has none."""
    return GroupTeamSettings.objects.filter(team=team).first() or GroupTeamSettings(team=team)


def group_safety_check_mode(team: Team) -> str:
    """Who confirms each attendee's safety and privacy check for this team's groups: "facilitator" (a checklist the
    facilitator ticks) or "attendee" (the attendee confirms it on entry). Read by the live pages."""
    return group_settings(team).safety_check
