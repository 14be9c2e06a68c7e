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
from backend.audit.actor import Actor
from backend.audit.services import audit_record
from backend.core.errors import Conflict, InvalidInput

from . import janus
from .models import GroupAttendee, GroupSession, GroupTeamSettings
from .selectors import group_people_bookable, group_safety_check_mode, media_allowed, series_meetings


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
    if open_course:
        if any(person.role == Role.GUEST or not person.is_active for person in people):
            raise InvalidInput("Course students need an active account of their own.", field="people")
    else:
        _check_people(actor=actor, team=team, people=people, for_carers=for_carers)
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


def _check_people(*, actor: Actor, team: Team, people: list[User], for_carers: bool) -> None:
    """Everyone booked must be someone the booker may book into this team's group: on the team's caseload, or
    for a carers' group a carer whom someone on that caseload has agreed to involve (the carer-sharing rule)."""
    expected = Role.CARER if for_carers else Role.SERVICE_USER
    if any(person.role != expected for person in people):
        raise InvalidInput("A carers' group books carers; any other group books service users.", field="people")
    allowed = set(group_people_bookable(actor.user, team, for_carers=for_carers).filter(pk__in=[p.pk for p in people]).values_list("pk", flat=True))
    missing = [p for p in people if p.pk not in allowed]
    if not missing:
        return
    if for_carers:
        names = ", ".join(p.display_name for p in missing)
        raise InvalidInput(f"{names}: nobody on the team's caseload has agreed to involve them as a carer, so they cannot be booked "
                           "into this carers' group.", field="people", code="carer_involvement_missing")
    raise InvalidInput("Everyone booked must be on the team's caseload.", field="people")


def _from_here(group: GroupSession, whole_series: bool) -> list[GroupSession]:
    """This meeting, or (whole_series) this and the later scheduled meetings of its series; locked, in order."""
    meetings = list(GroupSession.objects.select_for_update().filter(pk=group.pk))
    if whole_series:
        meetings += list(series_meetings(group).select_for_update().filter(starts_at__gt=group.starts_at, status=GroupSession.Status.SCHEDULED))
    return meetings


def group_people_add(*, actor: Actor, group: GroupSession, people: list[User], whole_series: bool = False) -> list[GroupSession]:
    """Book more people into a meeting (or into it and the later meetings of its series), within its capacity."""
    if not people:
        raise InvalidInput("Choose at least one person to add.", field="people")
    _check_people(actor=actor, team=group.team, people=people, for_carers=group.for_carers)
    with transaction.atomic():
        meetings = _from_here(group, whole_series)
        for meeting in meetings:
            if meeting.status in (GroupSession.Status.ENDED, GroupSession.Status.CANCELLED):
                raise Conflict("People can be added only before a meeting ends, and not to a cancelled one.", field="status")
            booked = set(meeting.attendees.values_list("person_id", flat=True))
            new = [p for p in people if p.pk not in booked]
            if len(booked) + len(new) > meeting.capacity:
                free = max(0, meeting.capacity - len(booked))
                raise InvalidInput(f"The meeting on {timezone.localtime(meeting.starts_at):%d %B} has {free} place{'s' if free != 1 else ''} "
                                   f"left, but you chose {len(new)} more {'person' if len(new) == 1 else 'people'}.", field="people",
                                   code="group_full")
            GroupAttendee.objects.bulk_create([GroupAttendee(group=meeting, person=p) for p in new])
            audit_record(actor=actor, action="group.people_added", obj=meeting, detail={"people": [p.pk for p in new]})
    return meetings


def group_person_unbook(*, actor: Actor, attendee: GroupAttendee, whole_series: bool = False) -> int:
    """Take a booked person out of a meeting (or out of it and the later meetings of its series) before it starts.
    Their place is deleted (nobody attended it); the audit trail and the row's history keep that it existed.
    Returns how many places were freed."""
    with transaction.atomic():
        meetings = _from_here(attendee.group, whole_series)
        places = list(GroupAttendee.objects.select_for_update().filter(group__in=meetings, person_id=attendee.person_id))
        if any(p.group.status != GroupSession.Status.SCHEDULED or p.first_joined_at for p in places):
            raise Conflict("Only people booked into a meeting that has not started can be taken off it; once it has started, "
                           "use the register.", field="status")
        for place in places:
            audit_record(actor=actor, action="group.person_unbooked", obj=place.group, detail={"person": place.person_id})
            place.delete()
    return len(places)


def group_cancel(*, actor: Actor, group: GroupSession, reason: str, whole_series: bool = False) -> list[GroupSession]:
    """Cancel a meeting that has not started (or it and the later ones of its series), with the reason."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why the meeting is cancelled.", field="reason")
    with transaction.atomic():
        meetings = _from_here(group, whole_series)
        if meetings[0].status != GroupSession.Status.SCHEDULED:
            raise Conflict("Only a meeting that has not started can be cancelled.", field="status")
        now = timezone.now()
        for meeting in meetings:
            meeting.status, meeting.cancelled_at, meeting.cancelled_reason = GroupSession.Status.CANCELLED, now, reason[:500]
            meeting.save(update_fields=["status", "cancelled_at", "cancelled_reason"])
            audit_record(actor=actor, action="group.cancelled", obj=meeting, detail={"series": whole_series})
    return meetings


def group_settings_update(*, actor: Actor, team: Team, safety_check: str) -> GroupTeamSettings:
    """Set who confirms each attendee's safety and privacy check in the team's groups."""
    if safety_check not in GroupTeamSettings.SafetyCheck.values:
        raise InvalidInput("Choose the facilitator or the attendee.", field="safety_check")
    with transaction.atomic():
        row, _ = GroupTeamSettings.objects.select_for_update().get_or_create(team=team)
        before = row.safety_check
        row.safety_check, row.updated_at = safety_check, timezone.now()
        row.save(update_fields=["safety_check", "updated_at"])
        audit_record(actor=actor, action="group.settings_updated", obj=row, detail={"safety_check": [before, safety_check]})
    return row
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
    if not allowed and attendee.group.for_carers:
        raise Conflict(f"Nobody on the team's caseload agrees now to involve {attendee.person.display_name} as a carer, so they cannot "
                       "join this carers' group.", field="consent", code="carer_involvement_missing")
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
    if attendee.group.status != GroupSession.Status.IN_PROGRESS:
        raise Conflict("The group is not in progress.", field="status", code="not_admitted")
    if attendee.janus_token_expires_at and attendee.janus_token_expires_at > timezone.now() + dt.timedelta(minutes=5):
        # The room may have gone with a Janus restart: recreate it (idempotent) with this token on its list.
        try:
            _room_ensure(attendee.group, [attendee.janus_token], attendee.janus_feed_id)
        except (janus.JanusUnavailable, janus.JanusError) as error:
            raise GroupsUnavailable("The group video service is not answering. Call the numbers on this page to join by phone.", field="group_id") from error
        audit_record(actor=actor, action="group.media_issued", obj=attendee, detail={"reissued": False})
        return attendee
    with transaction.atomic():
        attendee = GroupAttendee.objects.select_for_update().select_related("group").get(pk=attendee.pk)
        old = attendee.janus_token
        expires = int(time.time()) + min(settings.JANUS_TOKEN_TTL_SECONDS, 2 * 60 * 60)
        token = janus.sign_token(expires_at=expires)
        try:
            _room_ensure(attendee.group, [token], attendee.janus_feed_id)
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


def group_mute_all(*, actor: Actor, group: GroupSession, mute: bool = True) -> None:
    """Mute (or let speak again) every attendee's microphone in Janus; the facilitators are not muted. Each page
    also learns it from the group's status and shows it."""
    feeds = list(group.attendees.filter(state=GroupAttendee.State.ADMITTED).exclude(janus_feed_id=None).values_list("janus_feed_id", flat=True))
    try:
        janus.room_mute_all(room_id=group.janus_room_id, feed_ids=feeds, mute=mute)
    except (janus.JanusUnavailable, janus.JanusError) as error:
        raise GroupsUnavailable("The group video service is not answering; try again.", field="group_id") from error
    GroupSession.objects.filter(pk=group.pk).update(muted_all=mute)
    group.muted_all = mute
    audit_record(actor=actor, action="group.muted_all" if mute else "group.unmuted_all", obj=group, detail={"feeds": len(feeds)})


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


def attendance_correct(*, actor: Actor, attendee: GroupAttendee, attendance: str, attended_seconds: int | None = None,
                       reason: str = "") -> GroupAttendee:
    """Correct one line of the register, with why; the row's history keeps each correction. Any meeting but a cancelled
    one: a meeting held by phone or face to face (the video service down) still needs its register kept."""
    if attendance not in GroupAttendee.Attendance.values or not attendance:
        raise InvalidInput("Choose attended, left early or did not attend.", field="attendance")
    if attended_seconds is not None and not 0 <= attended_seconds <= 24 * 3600:
        raise InvalidInput("Enter a time between 0 and 24 hours.", field="attended_seconds")
    with transaction.atomic():
        attendee = GroupAttendee.objects.select_for_update(of=("self",)).select_related("group").get(pk=attendee.pk)
        if attendee.group.status == GroupSession.Status.CANCELLED:
            raise Conflict("This meeting was cancelled, so it has no register.", field="status")
        before = attendee.attendance
        attendee.attendance, attendee.attendance_corrected_by = attendance, actor.user
        attendee.attendance_reason = reason.strip()[:500]
        if attendance == GroupAttendee.Attendance.DID_NOT_ATTEND:
            attended_seconds = 0
        if attended_seconds is not None:
            attendee.attended_seconds = attended_seconds
        attendee.save(update_fields=["attendance", "attendance_corrected_by", "attended_seconds", "attendance_reason"])
        audit_record(actor=actor, action="group.attendance_corrected", obj=attendee, detail={"from": before, "to": attendance})
    return attendee


def _room_ensure(group: GroupSession, tokens: list[str], feed_id: int | None = None) -> None:
    """The group's room on Janus with these tokens on its list, recreated if Janus lost it (a restart), and the
    joiner's stale feed (same id) kicked so they can rejoin at once."""
    janus.room_prepare_join(room_id=group.janus_room_id, description=f"group {group.pk}", publishers=group.capacity + 2,
                            tokens=tokens, kick_feed_ids=[feed_id] if feed_id else [])


def attendee_arrive(*, actor: Actor, attendee: GroupAttendee, safety_confirmed: bool = False) -> GroupAttendee:
    """A booked person opens the group's waiting room. Where the team has attendees confirm the safety and privacy
    check themselves, they must confirm it to wait; otherwise the facilitator ticks it for them."""
    with transaction.atomic():
        attendee = GroupAttendee.objects.select_for_update().select_related("group__team").get(pk=attendee.pk)
        group = attendee.group
        if group.status in (GroupSession.Status.ENDED, GroupSession.Status.CANCELLED):
            raise Conflict("This group session has ended.", field="status", code="group_ended")
        if attendee.state == GroupAttendee.State.REMOVED:
            raise Conflict("The facilitator has removed you from this session.", field="state", code="removed")
        fields = []
        if group_safety_check_mode(group.team) == "attendee" and attendee.safety_confirmed_at is None:
            if not safety_confirmed:
                raise InvalidInput("Confirm the safety and privacy check to wait for the group.", field="safety_confirmed")
            attendee.safety_confirmed_at = timezone.now()
            fields.append("safety_confirmed_at")
        if attendee.state in (GroupAttendee.State.BOOKED, GroupAttendee.State.LEFT):
            attendee.state = GroupAttendee.State.WAITING
            fields.append("state")
        if fields:
            attendee.save(update_fields=fields)
            audit_record(actor=actor, action="group.arrived", obj=attendee, detail={"safety_confirmed": "safety_confirmed_at" in fields})
    return attendee


def attendee_safety_confirm(*, actor: Actor, attendee: GroupAttendee) -> GroupAttendee:
    """The facilitator ticks one attendee's safety and privacy check (they asked them where they are, and whether
    they can talk privately)."""
    with transaction.atomic():
        attendee = GroupAttendee.objects.select_for_update().get(pk=attendee.pk)
        if attendee.safety_confirmed_at is None:
            attendee.safety_confirmed_at = timezone.now()
            attendee.save(update_fields=["safety_confirmed_at"])
            audit_record(actor=actor, action="group.safety_confirmed", obj=attendee)
    return attendee


def attendee_leave(*, actor: Actor, attendee: GroupAttendee) -> GroupAttendee:
    """The attendee leaves the call themselves: their token leaves the room's list; the register says when."""
    with transaction.atomic():
        attendee = GroupAttendee.objects.select_for_update().select_related("group").get(pk=attendee.pk)
        if attendee.state not in (GroupAttendee.State.ADMITTED, GroupAttendee.State.WAITING, GroupAttendee.State.HELD):
            return attendee
        if attendee.janus_token and attendee.group.status == GroupSession.Status.IN_PROGRESS:
            try:
                janus.room_remove(room_id=attendee.group.janus_room_id, tokens=[attendee.janus_token],
                                  feed_ids=[attendee.janus_feed_id] if attendee.janus_feed_id else [])
            except (janus.JanusUnavailable, janus.JanusError):
                pass  # the token expires anyway; leaving must always work
        was_in = attendee.state == GroupAttendee.State.ADMITTED
        attendee.state = GroupAttendee.State.LEFT
        attendee.janus_token, attendee.janus_token_expires_at = "", None
        if was_in:
            attendee.last_left_at = timezone.now()
        attendee.save(update_fields=["state", "janus_token", "janus_token_expires_at", "last_left_at"])
        audit_record(actor=actor, action="group.left", obj=attendee)
    return attendee


def group_message(*, actor: Actor, group: GroupSession, text: str) -> GroupSession:
    """The facilitator's message to everyone in the waiting room (replaces the last one; empty clears it)."""
    text = " ".join((text or "").split())
    if len(text) > 500:
        raise InvalidInput("A message has at most 500 characters.", field="text")
    if group.status in (GroupSession.Status.ENDED, GroupSession.Status.CANCELLED):
        raise Conflict("This group session has ended.", field="status")
    GroupSession.objects.filter(pk=group.pk).update(waiting_message=text, waiting_message_at=timezone.now())
    group.refresh_from_db(fields=["waiting_message", "waiting_message_at"])
    audit_record(actor=actor, action="group.message", obj=group, detail={"length": len(text)})
    return group


def attendees_admit_all(*, actor: Actor, group: GroupSession) -> tuple[list[GroupAttendee], list[tuple[GroupAttendee, str]]]:
    """Admit everyone waiting whose safety check is done. Returns (admitted, [(not admitted, why)])."""
    admitted, skipped = [], []
    for attendee in group.attendees.filter(state=GroupAttendee.State.WAITING).select_related("person", "group"):
        if attendee.safety_confirmed_at is None:
            skipped.append((attendee, "the safety and privacy check is not done"))
            continue
        try:
            admitted.append(attendee_admit(actor=actor, attendee=attendee))
        except GroupsUnavailable:
            raise
        except Conflict as error:
            skipped.append((attendee, error.detail))
    return admitted, skipped


def facilitator_media(*, actor: Actor, group: GroupSession) -> dict:
    """A facilitator's way into the room: a fresh token for this room (on its list; recreating the room if Janus
    lost it) and their own derived participant id. Facilitators are not attendees, so nothing is stored."""
    if group.status != GroupSession.Status.IN_PROGRESS:
        raise Conflict("Start the group first.", field="status", code="not_started")
    expires = int(time.time()) + min(settings.JANUS_TOKEN_TTL_SECONDS, 2 * 60 * 60)
    token = janus.sign_token(expires_at=expires)
    feed_id = janus.facilitator_feed_id(group.janus_room_id, actor.user.pk)
    try:
        _room_ensure(group, [token], feed_id)
    except (janus.JanusUnavailable, janus.JanusError) as error:
        raise GroupsUnavailable("The group video service is not answering. Call the numbers on this page to join by phone.", field="group_id") from error
    audit_record(actor=actor, action="group.media_issued", obj=group, detail={"facilitator": True})
    return {"token": token, "expires_at": dt.datetime.fromtimestamp(expires, tz=dt.UTC),
            "feed_id": feed_id, "video": True}
