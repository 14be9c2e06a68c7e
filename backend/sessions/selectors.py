"""Who may see which appointments, and who may join and run a session: `session_access_for` is the
one rule (docs/architecture.md, "Who may be in a call"). Practitioners see their teams' appointments,
service users their own, carers the times of appointments of people who share them (consent holds);
evaluators and admins none here."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core import signing
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from backend.accounts.models import PRACTITIONER_ROLES, Role, Team, User
from backend.accounts.selectors import sharing_carer_links
from backend.consent.models import REMOTE_MODALITIES, Modality, PurposeCode
from backend.consent.selectors import consents_holding, has_consent
from backend.core.compiled import CompiledQuery
from backend.core.errors import Conflict, Forbidden, NotFound, one_visible
from backend.core.phone import phone_number_for_display
from backend.sessions.models import (
    Appointment,
    AppointmentEvent,
    ConnectionSample,
    CourseOfCare,
    IceStateChange,
    Participant,
    RearrangeRequest,
    TeamSessionSettings,
)


def appointments_visible_to(user: User) -> QuerySet[Appointment]:
    appointments = Appointment.objects.select_related("service_user", "practitioner", "team")
    if user.role in PRACTITIONER_ROLES:
        return appointments.filter(team__memberships__user=user)
    if user.role == Role.SERVICE_USER:
        return appointments.filter(service_user=user)
    if user.role == Role.CARER:
        return appointments.filter(service_user__in=sharing_carer_links().filter(carer=user).values("service_user"))
    if user.role == Role.GUEST:
        # A guest account exists for one session: they see it while they are still invited to it.
        invited = Participant.objects.filter(user=user, role=Participant.Role.GUEST).exclude(state=Participant.State.REMOVED)
        return appointments.filter(pk__in=invited.values("appointment_id"))
    return appointments.none()


ACTIVE_STATUSES = (Appointment.Status.SCHEDULED, Appointment.Status.WAITING, Appointment.Status.IN_PROGRESS)
LONGEST_APPOINTMENT = timedelta(minutes=240)  # the booking limit; bounds the overlap search below


def clashes_for(*, practitioner: User, service_user: User, slots: list[datetime], duration_minutes: int,
                exclude: int | None = None) -> list[Appointment]:
    """Active appointments of the practitioner or of the person that overlap any of `slots` (each
    lasting `duration_minutes`). Whoever books must see these, whichever team they are with; the
    booking page shows the practitioner's and the person's own, which the booker may see."""
    length = timedelta(minutes=duration_minutes)
    window = Q()
    for start in slots:
        window |= Q(starts_at__lt=start + length, starts_at__gt=start - LONGEST_APPOINTMENT)
    candidates = (Appointment.objects.select_related("service_user", "practitioner", "team")
                  .filter(Q(practitioner=practitioner) | Q(service_user=service_user), window, status__in=ACTIVE_STATUSES)
                  .exclude(pk=exclude).order_by("starts_at", "id"))
    return [a for a in candidates
            if any(a.starts_at < start + length and start < a.starts_at + timedelta(minutes=a.duration_minutes) for start in slots)]


def appointments_between(user: User, first_day: date, last_day: date) -> QuerySet[Appointment]:
    """Appointments `user` may see that start on `first_day` to `last_day` (local dates), soonest first."""
    from django.utils import timezone

    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first_day, datetime.min.time()), zone)
    end = timezone.make_aware(datetime.combine(last_day + timedelta(days=1), datetime.min.time()), zone)
    return appointments_visible_to(user).filter(starts_at__gte=start, starts_at__lt=end).order_by("starts_at", "id")


def rearrange_requests_visible_to(user: User) -> QuerySet[RearrangeRequest]:
    """Requests to rearrange appointments the asker may see in full: the team's practitioners, the person."""
    if user.role not in (*PRACTITIONER_ROLES, Role.SERVICE_USER):
        return RearrangeRequest.objects.none()
    return RearrangeRequest.objects.select_related(
        "appointment__service_user", "appointment__practitioner", "appointment__team", "requested_by", "answered_by",
    ).filter(appointment__in=appointments_visible_to(user).values("pk"))


def last_changes(appointments: list[Appointment]) -> dict[int, AppointmentEvent]:
    """The latest reschedule of each appointment, in one query, so pages can say what moved and why."""
    latest: dict[int, AppointmentEvent] = {}
    for event in AppointmentEvent.objects.filter(
            appointment_id__in=[a.pk for a in appointments], kind=AppointmentEvent.Kind.RESCHEDULED).select_related("actor").order_by("id"):
        latest[event.appointment_id] = event
    return latest


# --- Who may see, join and run a session: the one rule ------------------------------------------
SEE, JOIN, RUN = "see", "join", "run"


@dataclass(frozen=True)
class SessionAccess:
    """What `session_access_for` found: the appointment, and for "join" and "run" the asker's role in
    the session (host, service_user, carer) and their Participant row if they have entered it."""

    appointment: Appointment
    role: str | None = None
    participant: Participant | None = None
    participants: tuple[Participant, ...] = ()  # everyone in the session, when asked for (`with_participants`)


class NoSessionAccess(Forbidden):
    """The asker may see the appointment but not do this with it (join it, or run it)."""

    code = "not_a_participant"


def session_access_for(user: User, appointment_id: int, need: str = SEE, *, with_participants: bool = False) -> SessionAccess:
    """The one rule for who may do what with a session, used by every REST view, page and socket
    (Zulip's `access_stream_by_id`). Raises NotFound when the asker may not see the appointment at
    all (so ids reveal nothing), NoSessionAccess (403) when they may see it but not `need` it.

    - "see": read the appointment (`appointments_visible_to`: the team's practitioners, the person,
      a carer they share with and consent to involve, for the times only).
    - "join": be in its waiting room and call, and get its TURN credentials: the practitioner it is
      with, the person, or a carer the person invited while that carer may still see it (link
      active, consent to involve them holding).
    - "run": host it (safety check, start, admit, move people, end, phone): any clinician or peer
      worker of the appointment's team (seeing it already means they are on its team), so a
      colleague can cover; `session_start` records who actually ran it (`Appointment.run_by`).

    Whether the call itself may be entered now (started, admitted, consent to the way it happens)
    is `call_participant_for`, built on this.

    `with_participants` (for "join"): read every participant of the session, with their accounts, in
    the query that finds the asker's own row (`SessionAccess.participants`), for a caller that needs
    them too (the signalling socket's welcome). The rule is the same either way.
    """
    appointment = visible_appointment(user, appointment_id)
    if need == SEE:
        return SessionAccess(appointment)
    # Practitioners only see their own teams' appointments, so every one who got this far may host it.
    is_host = user.role in PRACTITIONER_ROLES
    if need == RUN:
        if not is_host:
            raise NoSessionAccess("Only the clinicians and peer workers of the appointment's team can run the session.", code="not_the_host")
        return SessionAccess(appointment, Participant.Role.HOST, _participant_of(appointment, user))
    if need != JOIN:
        raise ValueError(f"Unknown need {need!r}")
    participant, participants = _participants_of(appointment, user, with_participants)
    if is_host:
        role = Participant.Role.HOST
    elif user.pk == appointment.service_user_id:
        role = Participant.Role.SERVICE_USER
    elif (user.role == Role.CARER and participant is not None and participant.role == Participant.Role.CARER
          and participant.state != Participant.State.REMOVED):
        role = Participant.Role.CARER  # invited; seeing the appointment already means link and consent hold
    elif user.role == Role.GUEST and participant is not None and participant.role == Participant.Role.GUEST:
        role = Participant.Role.GUEST  # seeing it already means they were added and not removed
    else:
        raise NoSessionAccess("You are not taking part in this session.")
    return SessionAccess(appointment, role, participant, participants)


def team_waiting_area_for(user: User) -> QuerySet[Participant]:
    """Everyone waiting (or on hold) today for any session of the teams `user` works in, longest wait
    first: the team waiting area. Built on `appointments_visible_to`, so another team's people never
    appear, and every entry is one the viewer may run (`session_access_for(..., RUN)`)."""
    if user.role not in PRACTITIONER_ROLES:
        return Participant.objects.none()
    today = timezone.localdate()
    appointments = appointments_visible_to(user).filter(
        starts_at__date=today, status__in=[Appointment.Status.SCHEDULED, Appointment.Status.WAITING, Appointment.Status.IN_PROGRESS]
    )
    return (
        Participant.objects.filter(appointment__in=appointments, state__in=[Participant.State.WAITING, Participant.State.ON_HOLD])
        .exclude(role=Participant.Role.HOST)
        .select_related("user", "appointment__team", "appointment__practitioner", "appointment__service_user")
    )


def carers_invitable_to(appointment: Appointment) -> list[User]:
    """The carers the person involves and consents to involving: the ones who may be invited."""
    links = sharing_carer_links().filter(service_user_id=appointment.service_user_id).select_related("carer")
    return [link.carer for link in links if has_consent(appointment.service_user, PurposeCode.CARER_INVOLVEMENT, carer=link.carer)]


def sessions_invited_to(user: User) -> QuerySet[Participant]:
    """A carer's invitations to sessions not yet over, soonest first, for appointments they may still
    see (link active, consent holding: `appointments_visible_to`)."""
    return Participant.objects.filter(
        user=user, role=Participant.Role.CARER, state__in=[Participant.State.INVITED, Participant.State.WAITING, Participant.State.ADMITTED, Participant.State.ON_HOLD],
        appointment__in=appointments_visible_to(user).filter(
            status__in=[Appointment.Status.SCHEDULED, Appointment.Status.WAITING, Appointment.Status.IN_PROGRESS]),
    ).select_related("appointment__service_user", "appointment__team").order_by("appointment__starts_at", "id")


# --- The join's queries, compiled once per process ----------------------------------------------------
# A socket's join (and every re-check) asks session_access_for, whose appointment query (the access rule
# appointments_visible_to, narrowed to one id) and participants query cost more CPU to build and compile
# through the ORM than PostgreSQL takes to answer them: at a clinic's 9 o'clock, half of the server's CPU
# per socket (docs/performance.md, "Third pass"). Their SQL depends only on the asker's role (the rule
# reads nothing else of the user but their id); everything else is an id. So each process builds them
# from the same rule once per role (backend/core/compiled.py, as outcomes' submission query) and reuses
# the SQL with each join's ids. Nothing about access is cached: only SQL text, never a row or an answer.
# Carers are not compiled: their rule (sharing_carer_links, consent to involve them) reads the purpose's
# re-consent version from the database while the query is built and writes it into the SQL as a
# constant, so SQL kept from an earlier build would miss a raised re-consent version; a carer's join
# builds the query afresh, as before. tests/sessions/test_session_access.py checks the SQL run is the
# SQL the ORM builds for the real asker, and that the carer's is never kept.
_USER_FIELDS = [f.attname for f in User._meta.concrete_fields]
_TEAM_FIELDS = [f.attname for f in Team._meta.concrete_fields]
_APPOINTMENT_FIELDS = [f.attname for f in Appointment._meta.concrete_fields]
_PARTICIPANT_FIELDS = [f.attname for f in Participant._meta.concrete_fields]
# Rules that read nothing from the database while built (the others: carers, above; the rest see none).
_COMPILED_ROLES = (*PRACTITIONER_ROLES, Role.SERVICE_USER, Role.GUEST)


def visible_appointment_rows(user: User, appointment_id: int) -> QuerySet:
    """`appointments_visible_to(user)` narrowed to `appointment_id`, as one row of the appointment, its
    person, practitioner (or NULLs) and team: what `one_visible(appointments_visible_to(user), ...)` reads."""
    return (appointments_visible_to(user).filter(pk=appointment_id).select_related(None).order_by("pk")
            .values_list(*_APPOINTMENT_FIELDS, *(f"service_user__{f}" for f in _USER_FIELDS),
                         *(f"practitioner__{f}" for f in _USER_FIELDS), *(f"team__{f}" for f in _TEAM_FIELDS))[:1])


def _visible_appointment_query(shape: tuple, *, user_id: int, appointment_id: int) -> QuerySet:
    (role,) = shape
    return visible_appointment_rows(User(pk=user_id, role=role), appointment_id)


_VISIBLE_APPOINTMENT = CompiledQuery(_visible_appointment_query)


def _from_row(model, fields: list[str], row: tuple):
    return None if row[0] is None else model.from_db("default", fields, row)


def visible_appointment(user: User, appointment_id: int) -> Appointment:
    """The appointment `appointment_id` if `user` may see it (appointments_visible_to), with its person,
    practitioner and team; else NotFound, exactly as one_visible answers."""
    if user.role not in _COMPILED_ROLES:
        return one_visible(appointments_visible_to(user), appointment_id, noun="appointment", field="appointment_id")
    row = _VISIBLE_APPOINTMENT.first((user.role,), user_id=user.pk, appointment_id=int(appointment_id))
    if row is None:
        raise NotFound(f"No appointment {appointment_id} that you can see.", field="appointment_id")
    a, u = len(_APPOINTMENT_FIELDS), len(_USER_FIELDS)
    appointment = Appointment.from_db("default", _APPOINTMENT_FIELDS, row[:a])
    Appointment.service_user.field.set_cached_value(appointment, _from_row(User, _USER_FIELDS, row[a:a + u]))
    Appointment.practitioner.field.set_cached_value(appointment, _from_row(User, _USER_FIELDS, row[a + u:a + 2 * u]))
    Appointment.team.field.set_cached_value(appointment, _from_row(Team, _TEAM_FIELDS, row[a + 2 * u:]))
    return appointment


def participant_rows(appointment_id: int, user_id: int | None) -> QuerySet:
    """The session's participants (only `user_id`'s, if given), each with its account, in id order."""
    rows = Participant.objects.filter(appointment_id=appointment_id)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    return rows.order_by("id").values_list(*_PARTICIPANT_FIELDS, *(f"user__{f}" for f in _USER_FIELDS))


def _participants_query(shape: tuple, *, appointment_id: int, user_id: int = 0) -> QuerySet:
    (one,) = shape
    return participant_rows(appointment_id, user_id if one else None)


_PARTICIPANTS = CompiledQuery(_participants_query)


def _participants(appointment: Appointment, user_id: int | None) -> tuple[Participant, ...]:
    values = {"appointment_id": appointment.pk} if user_id is None else {"appointment_id": appointment.pk, "user_id": user_id}
    found = []
    n = len(_PARTICIPANT_FIELDS)
    for row in _PARTICIPANTS.rows((user_id is not None,), **values):
        participant = Participant.from_db("default", _PARTICIPANT_FIELDS, row[:n])
        Participant.user.field.set_cached_value(participant, User.from_db("default", _USER_FIELDS, row[n:]))
        participant.appointment = appointment
        found.append(participant)
    return tuple(found)


def _participants_of(appointment: Appointment, user: User, everyone: bool) -> tuple[Participant | None, tuple[Participant, ...]]:
    """The asker's Participant row (or None) and, with `everyone`, all the session's rows: one query either way."""
    if not everyone:
        return _participant_of(appointment, user), ()
    rows = _participants(appointment, None)
    return next((row for row in rows if row.user_id == user.pk), None), rows


def _participant_of(appointment: Appointment, user: User) -> Participant | None:
    return next(iter(_participants(appointment, user.pk)), None)


def appointment_for(user: User, appointment_id: int) -> Appointment:
    """An appointment `user` may see (session_access_for with need "see")."""
    return session_access_for(user, appointment_id, SEE).appointment


def courses_visible_to(user: User) -> QuerySet[CourseOfCare]:
    """Courses of the teams a practitioner belongs to; a person's own; none for anyone else."""
    courses = CourseOfCare.objects.select_related("service_user", "team")
    if user.role in (Role.CLINICIAN, Role.PEER_WORKER):
        return courses.filter(team__memberships__user=user)
    if user.role == Role.SERVICE_USER:
        return courses.filter(service_user=user)
    return courses.none()


def course_for(user: User, course_id: int) -> CourseOfCare:
    return one_visible(courses_visible_to(user), course_id, noun="course of care", field="course_id")


def team_settings(team: Team) -> TeamSessionSettings:
    """The team's settings, or the defaults if it has never changed them (nothing is written)."""
    return TeamSessionSettings.objects.filter(team=team).first() or TeamSessionSettings(team=team)


def has_current_safety_check(appointment: Appointment) -> bool:
    """Whether the latest safety check for this appointment confirms what a remote session needs."""
    check = appointment.safety_checks.order_by("-id").first()
    return bool(check and check.emergency_contact_confirmed and check.identity_confirmed)


def participants_of(appointment: Appointment):
    return appointment.participants.select_related("user").order_by("id")


class NotAdmitted(Forbidden):
    code = "not_admitted"


class NotInProgress(Conflict):
    code = "not_in_progress"


class SessionConsentMissing(Forbidden):
    """The person's consent to the way the call happens (remote care; video for a video call) no
    longer holds: the call cannot go on this way (docs/signalling.md, close code 4431)."""

    code = "consent_withdrawn"


def call_participant_for(user: User, appointment_id: int) -> Participant:
    """The participant `user` is in this session's call, if they may signal now; otherwise a domain error.
    (The rule: `_call_access`.)"""
    return _call_access(user, appointment_id).participant


def call_join(user: User, appointment_id: int) -> tuple[Participant, list[Participant]]:
    """`call_participant_for`, and the session's admitted participants (the asker included), in the
    same queries: what the signalling socket's welcome needs."""
    access = _call_access(user, appointment_id, with_participants=True)
    return access.participant, [p for p in access.participants if p.state == Participant.State.ADMITTED]


def _call_access(user: User, appointment_id: int, *, with_participants: bool = False) -> SessionAccess:
    """Whether `user` may be in this session's call now: the access, or a domain error.

    `session_access_for(..., "join")`, then: they have entered the session, it is in progress, the
    person's consent to the way it is happening holds (remote care; video for a video call), and
    they are admitted. The signalling consumer asks this on connect and again whenever access may
    have changed.
    """
    access = session_access_for(user, appointment_id, JOIN, with_participants=with_participants)
    participant = access.participant
    if participant is None:
        raise NotFound(f"No session {appointment_id} that you are part of.", field="appointment_id")
    appointment = access.appointment
    if appointment.status != Appointment.Status.IN_PROGRESS:
        raise NotInProgress(f"The session is {appointment.get_status_display().lower()}.", field="status")
    modality = appointment.delivered_modality
    required = ([PurposeCode.REMOTE_CARE] if modality in REMOTE_MODALITIES else []) + ([PurposeCode.VIDEO] if modality == Modality.VIDEO else [])
    holding = consents_holding(appointment.service_user, required)  # one query for both
    for needed in required:
        if needed not in holding:
            what = "video calls" if needed == PurposeCode.VIDEO else "remote care"
            raise SessionConsentMissing(f"{appointment.service_user.display_name} no longer agrees to {what}, so this call has stopped.",
                                        field="consent", code=f"{needed}_withdrawn")
    if participant.state != Participant.State.ADMITTED:
        raise NotAdmitted("Wait in the waiting room until you are admitted.", field="state")
    return access


def participant_in(user: User, appointment_id: int) -> Participant:
    """`user`'s place in this session, whatever its state, if they may join it; NotFound if they have none."""
    participant = session_access_for(user, appointment_id, JOIN).participant
    if participant is None:
        raise NotFound(f"You are not taking part in session {appointment_id}.", field="appointment_id")
    return participant


def admitted_participants(appointment_id: int) -> list[Participant]:
    return list(
        Participant.objects.filter(appointment_id=appointment_id, state=Participant.State.ADMITTED).select_related("user")
    )


def lobby_snapshot(appointment_id: int, viewer_role: str) -> dict:
    """What the waiting room shows now. The host sees everyone; others see the status and themselves."""
    appointment = Appointment.objects.get(pk=appointment_id)
    participants = [
        {"user_id": p.user_id, "name": p.user.display_name, "role": p.role, "state": p.state,
         # How each takes part (video or phone) and, for the host who phones them, their number.
         "modality": p.delivered_modality, "phone_number": phone_number_for_display(p.user.phone_number)}
        for p in appointment.participants.select_related("user").order_by("id")
    ]
    return {
        "type": "lobby",
        "status": appointment.status,
        "host_ready": appointment.status == Appointment.Status.IN_PROGRESS,
        "modality": appointment.delivered_modality,  # how the session is happening now ("" before it starts)
        "participants": participants if viewer_role == Participant.Role.HOST else None,
    }


# --- Join links -----------------------------------------------------------------------------------
JOIN_LINK_SALT = "rapport.sessions.join-link"


@dataclass(frozen=True)
class JoinGrant:
    """What a valid join link grants: one person, one session."""

    appointment_id: int
    user_id: int
    expires: int

    def as_session_value(self) -> dict:
        return {"a": self.appointment_id, "u": self.user_id, "e": self.expires}


class JoinLinkInvalid(NotFound):
    """A join link that cannot be used; `code` says why: invalid, expired or ended."""

    code = "invalid"


def join_link_resolve(token: str) -> JoinGrant:
    try:
        data = signing.loads(token, salt=JOIN_LINK_SALT)
    except signing.BadSignature:
        raise JoinLinkInvalid("This link is not right: it may be incomplete.", code="invalid") from None
    grant = JoinGrant(appointment_id=int(data["a"]), user_id=int(data["u"]), expires=int(data["e"]))
    grant_check(grant)
    return grant


def grant_check(grant: JoinGrant) -> Appointment:
    """Whether a grant (from a link, or kept in the browser session) still works; the appointment if so."""
    if grant.expires < time.time():
        raise JoinLinkInvalid("This link has expired.", code="expired")
    appointment = Appointment.objects.filter(pk=grant.appointment_id).first()
    if appointment is None:
        raise JoinLinkInvalid("This link is not right.", code="invalid")
    if appointment.status in (Appointment.Status.ENDED, Appointment.Status.CANCELLED, Appointment.Status.DID_NOT_ATTEND):
        raise JoinLinkInvalid(f"This session is {appointment.get_status_display().lower()}.", code="ended")
    return appointment


def grant_user(session_value: dict | None, appointment_id: int) -> User | None:
    """The person a browser session's join grant stands for, for this appointment only (None otherwise)."""
    if not session_value or int(session_value.get("a", 0)) != appointment_id:
        return None
    grant = JoinGrant(appointment_id=int(session_value["a"]), user_id=int(session_value["u"]), expires=int(session_value["e"]))
    try:
        grant_check(grant)
    except JoinLinkInvalid:
        return None
    return User.objects.filter(pk=grant.user_id, is_active=True).first()


# --- Connection quality ---------------------------------------------------------------------------
def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


def connection_summary(appointment: Appointment) -> dict:
    """A session's connection quality, for clinicians and evaluators (see connection_summaries)."""
    return connection_summaries([appointment.pk])[appointment.pk]


def connection_summaries(appointment_ids: list[int]) -> dict[int, dict]:
    """The connection quality of many sessions in two queries (evaluation exports read them in chunks):
    medians over every sample from every participant; time to connect (a connection's first
    `new`/`checking` to its first `connected`, median over connections); reconnects (a connection back
    to `connected` after `disconnected` or `failed`)."""
    samples: dict[int, list[dict]] = {pk: [] for pk in appointment_ids}
    for sample in ConnectionSample.objects.filter(appointment_id__in=appointment_ids).values(
            "appointment_id", "round_trip_ms", "packet_loss_pct", "jitter_ms", "inbound_kbps"):
        samples[sample["appointment_id"]].append(sample)
    changes: dict[int, list[tuple]] = {pk: [] for pk in appointment_ids}
    for appointment_id, *change in IceStateChange.objects.filter(appointment_id__in=appointment_ids).order_by(
            "changed_at", "id").values_list("appointment_id", "participant_id", "remote_peer", "state", "changed_at"):
        changes[appointment_id].append(change)
    return {pk: _summary(samples[pk], changes[pk]) for pk in appointment_ids}


def _summary(samples: list[dict], changes: list[tuple]) -> dict:
    first_seen, connected, broken = {}, set(), set()
    connect_seconds, reconnects = [], 0
    for participant_id, peer, state, at in changes:
        key = (participant_id, peer)
        if state in ("new", "checking") and key not in connected:
            first_seen.setdefault(key, at)
        elif state in ("connected", "completed"):
            if key in broken:
                reconnects += 1
                broken.discard(key)
            elif key not in connected and key in first_seen:
                connect_seconds.append((at - first_seen[key]).total_seconds())
            connected.add(key)
        elif state in ("disconnected", "failed") and key in connected:
            broken.add(key)
    return {
        "samples": len(samples),
        "median_round_trip_ms": _median([s["round_trip_ms"] for s in samples]),
        "median_packet_loss_pct": _median([s["packet_loss_pct"] for s in samples]),
        "median_jitter_ms": _median([s["jitter_ms"] for s in samples]),
        "median_inbound_kbps": _median([s["inbound_kbps"] for s in samples]),
        "median_seconds_to_connect": _median(connect_seconds),
        "reconnects": reconnects,
    }


# --- Courses of treatment -------------------------------------------------------------------------
def attended_appointment(prefix: str = "") -> Q:
    """Appointments that were attended: the session ran and ended. `prefix` is the path to the
    appointment from the queried model, e.g. "appointments__" from a course of care."""
    return Q(**{f"{prefix}status": Appointment.Status.ENDED})


def attended_treatment_appointment(prefix: str = "") -> Q:
    """Attended appointments that NHS Talking Therapies counts as treatment: treatment, or combined
    assessment and treatment; never assessment or review ones (docs/instruments.md)."""
    return attended_appointment(prefix) & Q(**{f"{prefix}kind__in": Appointment.TREATMENT_KINDS})


def attended_treatment_counts(course_ids) -> dict[int, tuple[bool, int]]:
    """Each course's (ended, attended treatment appointments), in one query."""
    rows = CourseOfCare.objects.filter(pk__in=course_ids).annotate(
        treatment=Count("appointments", filter=attended_treatment_appointment("appointments__"))
    ).values_list("pk", "ended_on", "treatment")
    return {pk: (ended_on is not None, treatment) for pk, ended_on, treatment in rows}
