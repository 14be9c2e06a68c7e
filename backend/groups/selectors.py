"""Who may see and do what with a group session: one rule (`group_access_for`), used by every caller."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from backend.accounts.models import PRACTITIONER_ROLES, Role, User
from backend.consent.models import PurposeCode
from backend.consent.selectors import consents_holding
from backend.core.errors import Forbidden, NotFound

from .models import GroupAttendee, GroupSession

SEE, JOIN, RUN = "see", "join", "run"


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
    they may see it but not `need` it ("join": a booked attendee; "run": a clinician or peer worker of the team)."""
    group = groups_visible_to(user).filter(pk=group_id).first()
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
    Carers' own consent is not recorded in the consent catalogue; a carers' group admits them audio and video."""
    if attendee.group.for_carers or attendee.person.role != Role.SERVICE_USER:
        # Carers, and staff taking a college course, have no care to consent to: they join with audio and video.
        return True, True
    holding = consents_holding(attendee.person, [PurposeCode.REMOTE_CARE, PurposeCode.VIDEO])
    return PurposeCode.REMOTE_CARE in holding, PurposeCode.VIDEO in holding
