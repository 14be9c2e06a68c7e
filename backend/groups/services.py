"""Actions on group sessions. Each changes the database in one transaction with its audit event; the Janus side
(backend/groups/janus.py) is called after the rows are locked, and a Janus failure leaves the rows unchanged."""

from __future__ import annotations

import datetime as dt
import time
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.accounts.models import PRACTITIONER_ROLES, Role, Team, User
from backend.accounts.selectors import service_users_visible_to
from backend.audit.actor import Actor
from backend.audit.services import audit_record
from backend.core.errors import Conflict, InvalidInput

from . import janus
from .models import GroupAttendee, GroupSession
from .selectors import media_allowed


class GroupsUnavailable(Conflict):
    """Group sessions need a Janus server; none is configured or none answers. A 409 with its own code, not a
    5xx: Rapport itself is working, and the page turns it into the "call these numbers" message."""

    code = "groups_unavailable"


def group_book(
    *, actor: Actor, team: Team, title: str, facilitator: User, starts_at: dt.datetime, people: list[User],
    co_facilitator: User | None = None, capacity: int | None = None, duration_minutes: int = 90,
    for_carers: bool = False, repeat_weeks: int = 1, open_course: bool = False,
) -> list[GroupSession]:
    """Book a group (weekly, `repeat_weeks` meetings as one series) with these people in every meeting.

    `open_course=True` is the college's narrow path (backend/college): a Recovery College course's sessions,
    whose students enrol themselves (service users, carers or staff) and are added later with
    `attendee_add`; nobody is checked against, or put on, a caseload."""
    capacity = capacity or settings.GROUP_CAPACITY_DEFAULT
    if capacity > settings.GROUP_CAPACITY_DEFAULT:
        raise InvalidInput(f"A group holds at most {settings.GROUP_CAPACITY_DEFAULT} people.", field="capacity")
    if len(people) > capacity:
        raise InvalidInput(f"{len(people)} people booked, but the group holds {capacity}.", field="people")
    for role_holder, field in ((facilitator, "facilitator"), (co_facilitator, "co_facilitator")):
        if role_holder is not None and (role_holder.role not in PRACTITIONER_ROLES or not team.memberships.filter(user=role_holder).exists()):
            raise InvalidInput("The facilitators must be clinicians or peer workers of the team.", field=field)
    expected = Role.CARER if for_carers else Role.SERVICE_USER
    if open_course:
        if any(person.role == Role.GUEST or not person.is_active for person in people):
            raise InvalidInput("Course students need an active account of their own.", field="people")
    elif any(person.role != expected for person in people):
        raise InvalidInput("A carers' group books carers; any other group books service users.", field="people")
    if not for_carers and not open_course:
        on_caseload = set(service_users_visible_to(actor.user).filter(caseload_entries__team=team, pk__in=[p.pk for p in people]).values_list("pk", flat=True))
        if on_caseload != {p.pk for p in people}:
            raise InvalidInput("Everyone booked must be on the team's caseload.", field="people")
    series = uuid.uuid4()
    with transaction.atomic():
        meetings = []
        for week in range(repeat_weeks):
            group = GroupSession.objects.create(
                team=team, title=title, for_carers=for_carers, facilitator=facilitator, co_facilitator=co_facilitator,
                capacity=capacity, starts_at=starts_at + dt.timedelta(weeks=week), duration_minutes=duration_minutes,
                series=series, booked_by=actor.user, janus_room_id=janus.new_room_id(),
            )
            GroupAttendee.objects.bulk_create([GroupAttendee(group=group, person=person) for person in people])
            audit_record(actor=actor, action="group.booked", obj=group, detail={"people": len(people), "series": str(series)})
            meetings.append(group)
    return meetings


def attendee_add(*, actor: Actor, group: GroupSession, person: User) -> GroupAttendee:
    """Book one more person into a scheduled group (the college's path: a student enrolling or promoted from a
    waiting list after the sessions were booked). Someone removed earlier is booked again on their old row."""
    if person.role == Role.GUEST or not person.is_active:
        raise InvalidInput("Only an active account can be booked into a group.", field="person")
    with transaction.atomic():
        group = GroupSession.objects.select_for_update().get(pk=group.pk)
        if group.status != GroupSession.Status.SCHEDULED:
            raise Conflict("People can be added only before a group starts.", field="status")
        attendee = group.attendees.filter(person=person).first()
        booked = group.attendees.exclude(state__in=[GroupAttendee.State.REMOVED]).count()
        if (attendee is None or attendee.state == GroupAttendee.State.REMOVED) and booked >= group.capacity:
            raise Conflict(f"The group holds {group.capacity} people and is full.", field="capacity", code="group_full")
        if attendee is None:
            attendee = GroupAttendee.objects.create(group=group, person=person)
        elif attendee.state == GroupAttendee.State.REMOVED:
            attendee.state = GroupAttendee.State.BOOKED
            attendee.save(update_fields=["state"])
        audit_record(actor=actor, action="group.attendee_added", obj=attendee)
    return attendee


def group_start(*, actor: Actor, group: GroupSession) -> GroupSession:
    """Open the group's room on its Janus server (again, after a Janus restart: `room_ensure` is idempotent)."""
    if not janus.available():
        raise GroupsUnavailable("Group sessions are not available on this server.", field="group_id")
    with transaction.atomic():
        group = GroupSession.objects.select_for_update().get(pk=group.pk)
        if group.status in (GroupSession.Status.ENDED, GroupSession.Status.CANCELLED):
            raise Conflict("This group session has ended.", field="status")
        tokens = list(group.attendees.filter(state=GroupAttendee.State.ADMITTED).exclude(janus_token="").values_list("janus_token", flat=True))
        try:
            server = janus.room_ensure(room_id=group.janus_room_id, description=f"group {group.pk}", publishers=group.capacity + 2, allowed=tokens)
        except (janus.JanusUnavailable, janus.JanusError) as error:
            raise GroupsUnavailable("The group video service is not answering. Call the numbers on this page to join by phone.", field="group_id") from error
        first = group.status == GroupSession.Status.SCHEDULED
        group.status, group.janus_server = GroupSession.Status.IN_PROGRESS, server.url
        group.started_at = group.started_at or timezone.now()
        group.save(update_fields=["status", "janus_server", "started_at"])
        audit_record(actor=actor, action="group.started" if first else "group.room_recreated", obj=group)
    return group


def attendee_admit(*, actor: Actor, attendee: GroupAttendee) -> GroupAttendee:
    """Let one person in: check their consent now, mint a token for this room only, put it on the room's list."""
    allowed, video = media_allowed(attendee)
    if not allowed:
        raise Conflict(f"{attendee.person.display_name} does not agree to remote care, so cannot join online.", field="consent", code="remote_care_missing")
    with transaction.atomic():
        attendee = GroupAttendee.objects.select_for_update().select_related("group").get(pk=attendee.pk)
        group = attendee.group
        if group.status != GroupSession.Status.IN_PROGRESS:
            raise Conflict("The group has not started.", field="status")
        if attendee.state == GroupAttendee.State.REMOVED:
            raise Conflict("This person was removed from the session.", field="state")
        expires = min(int(time.time()) + settings.JANUS_TOKEN_TTL_SECONDS,
                      int((group.starts_at + dt.timedelta(minutes=group.duration_minutes + 60)).timestamp()))
        expires = max(expires, int(time.time()) + 15 * 60)  # a late-running group still gets a usable token
        token = janus.sign_token(expires_at=expires)
        try:
            janus.room_allow(room_id=group.janus_room_id, tokens=[token])
        except (janus.JanusUnavailable, janus.JanusError) as error:
            raise GroupsUnavailable("The group video service is not answering. Call the numbers on this page to join by phone.", field="group_id") from error
        attendee.state, attendee.video_allowed = GroupAttendee.State.ADMITTED, video
        attendee.janus_token, attendee.janus_token_expires_at = token, dt.datetime.fromtimestamp(expires, tz=dt.UTC)
        attendee.janus_feed_id = attendee.janus_feed_id or janus.new_feed_id()
        attendee.first_joined_at = attendee.first_joined_at or timezone.now()
        attendee.save(update_fields=["state", "video_allowed", "janus_token", "janus_token_expires_at", "janus_feed_id", "first_joined_at"])
        audit_record(actor=actor, action="group.admitted", obj=attendee, detail={"video": video})
    return attendee


def attendee_media(*, actor: Actor, attendee: GroupAttendee) -> GroupAttendee:
    """An admitted attendee (re)joining: their current token, or a new one on the room's list when it has expired
    or is about to (a dropped connection rejoins with it; after a Janus restart `group_start` re-adds tokens)."""
    if attendee.state != GroupAttendee.State.ADMITTED or not attendee.janus_token:
        raise Conflict("Wait in the waiting room until the facilitator lets you in.", field="state", code="not_admitted")
    if attendee.janus_token_expires_at and attendee.janus_token_expires_at > timezone.now() + dt.timedelta(minutes=5):
        audit_record(actor=actor, action="group.media_issued", obj=attendee, detail={"reissued": False})
        return attendee
    with transaction.atomic():
        attendee = GroupAttendee.objects.select_for_update().select_related("group").get(pk=attendee.pk)
        old = attendee.janus_token
        expires = int(time.time()) + min(settings.JANUS_TOKEN_TTL_SECONDS, 2 * 60 * 60)
        token = janus.sign_token(expires_at=expires)
        try:
            janus.room_allow(room_id=attendee.group.janus_room_id, tokens=[token])
            janus.room_remove(room_id=attendee.group.janus_room_id, tokens=[old], feed_ids=[])
        except (janus.JanusUnavailable, janus.JanusError) as error:
            raise GroupsUnavailable("The group video service is not answering. Call the numbers on this page to join by phone.", field="group_id") from error
        attendee.janus_token, attendee.janus_token_expires_at = token, dt.datetime.fromtimestamp(expires, tz=dt.UTC)
        attendee.save(update_fields=["janus_token", "janus_token_expires_at"])
        audit_record(actor=actor, action="group.media_issued", obj=attendee, detail={"reissued": True})
    return attendee


def attendee_remove(*, actor: Actor, attendee: GroupAttendee, hold: bool = False) -> GroupAttendee:
    """Remove one person (or hold them back in the waiting room): their token leaves the room's list and Janus
    kicks their feed, so it takes effect in the media, not only on Rapport's pages."""
    with transaction.atomic():
        attendee = GroupAttendee.objects.select_for_update().select_related("group").get(pk=attendee.pk)
        if attendee.janus_token and attendee.group.status == GroupSession.Status.IN_PROGRESS:
            try:
                janus.room_remove(room_id=attendee.group.janus_room_id, tokens=[attendee.janus_token],
                                  feed_ids=[attendee.janus_feed_id] if attendee.janus_feed_id else [])
            except (janus.JanusUnavailable, janus.JanusError) as error:
                raise GroupsUnavailable("The group video service is not answering; try again.", field="group_id") from error
        attendee.state = GroupAttendee.State.HELD if hold else GroupAttendee.State.REMOVED
        attendee.janus_token, attendee.janus_token_expires_at = "", None
        attendee.last_left_at = timezone.now()
        attendee.save(update_fields=["state", "janus_token", "janus_token_expires_at", "last_left_at"])
        audit_record(actor=actor, action="group.held" if hold else "group.removed", obj=attendee)
    return attendee


def group_mute_all(*, actor: Actor, group: GroupSession) -> None:
    feeds = list(group.attendees.filter(state=GroupAttendee.State.ADMITTED).exclude(janus_feed_id=None).values_list("janus_feed_id", flat=True))
    try:
        janus.room_mute_all(room_id=group.janus_room_id, feed_ids=feeds)
    except (janus.JanusUnavailable, janus.JanusError) as error:
        raise GroupsUnavailable("The group video service is not answering; try again.", field="group_id") from error
    audit_record(actor=actor, action="group.muted_all", obj=group, detail={"feeds": len(feeds)})


def group_end(*, actor: Actor, group: GroupSession) -> GroupSession:
    """Close the room in Janus and fill in the register: attended, left early or did not attend."""
    with transaction.atomic():
        group = GroupSession.objects.select_for_update().get(pk=group.pk)
        if group.status != GroupSession.Status.IN_PROGRESS:
            raise Conflict("The group is not in progress.", field="status")
        try:
            janus.room_destroy(room_id=group.janus_room_id)
        except (janus.JanusUnavailable, janus.JanusError):
            pass  # the room dies with Janus anyway; the register must still be kept
        now = timezone.now()
        group.status, group.ended_at = GroupSession.Status.ENDED, now
        group.save(update_fields=["status", "ended_at"])
        attendees = list(group.attendees.select_for_update())
        for attendee in attendees:
            if attendee.first_joined_at is None:
                attendee.attendance = GroupAttendee.Attendance.DID_NOT_ATTEND
                continue
            left = attendee.last_left_at if attendee.state != GroupAttendee.State.ADMITTED else now
            attendee.attended_seconds = max(0, int((left - attendee.first_joined_at).total_seconds()))
            attendee.attendance = GroupAttendee.Attendance.ATTENDED if attendee.state == GroupAttendee.State.ADMITTED else GroupAttendee.Attendance.LEFT_EARLY
            if attendee.state == GroupAttendee.State.ADMITTED:
                attendee.last_left_at = now
            attendee.janus_token, attendee.janus_token_expires_at = "", None
        GroupAttendee.objects.bulk_update(attendees, ["attendance", "attended_seconds", "last_left_at", "janus_token", "janus_token_expires_at"])
        audit_record(actor=actor, action="group.ended", obj=group, detail={"attended": sum(a.attendance != GroupAttendee.Attendance.DID_NOT_ATTEND for a in attendees)})
    return group


def attendance_correct(*, actor: Actor, attendee: GroupAttendee, attendance: str, attended_seconds: int | None = None) -> GroupAttendee:
    if attendance not in GroupAttendee.Attendance.values or not attendance:
        raise InvalidInput("Choose attended, left early or did not attend.", field="attendance")
    with transaction.atomic():
        attendee = GroupAttendee.objects.select_for_update().get(pk=attendee.pk)
        before = attendee.attendance
        attendee.attendance, attendee.attendance_corrected_by = attendance, actor.user
        if attended_seconds is not None:
            attendee.attended_seconds = attended_seconds
        attendee.save(update_fields=["attendance", "attendance_corrected_by", "attended_seconds"])
        audit_record(actor=actor, action="group.attendance_corrected", obj=attendee, detail={"from": before, "to": attendance})
    return attendee
