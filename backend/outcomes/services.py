"""Recording outcome measures: responses (scored as published), risk flags, schedules, local questionnaires."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from backend.accounts.models import PRACTITIONER_ROLES, Organisation, Role, Team, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_append_pending, audit_record
from backend.core.errors import Conflict, DomainError, Forbidden, InvalidInput
from backend.core.live import broadcast_on_commit
from backend.outcomes import selectors
from backend.outcomes.hooks import response_filed
from backend.outcomes.models import (
    Answer,
    Instrument,
    InstrumentBand,
    InstrumentItem,
    InstrumentOption,
    MeasureSchedule,
    Response,
    RiskFlag,
    RiskFlagAcknowledgement,
)
from backend.outcomes.scoring import Scale, Score, risk_items_raised, score_answers, unanswered
from backend.sessions.models import Appointment, CourseOfCare

A = AuditEvent.Action
M = Response.Mode
CLINICIAN_MODES = {M.CLINICIAN_PHONE, M.PAPER, M.IN_PERSON}


class CourseClosed(Conflict):
    code = "course_closed"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Submission:
    """A questionnaire as given: which one, for whom, in which course or appointment, how, and the answers."""

    instrument: Instrument
    service_user: User
    course: CourseOfCare
    appointment: Appointment | None
    mode: str
    answers: dict[int, int | None]
    completed_at: datetime

    def fingerprint(self) -> str:
        body = {
            "instrument": self.instrument.code, "service_user": self.service_user.pk, "course": self.course.pk,
            "appointment": self.appointment.pk if self.appointment else None, "mode": self.mode,
            "answers": {str(k): v for k, v in sorted(self.answers.items())},
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def answered_at(*, appointment: Appointment | None, mode: str, stated: datetime | None = None) -> datetime:
    """When the answers were given: as stated, if stated. Answers a practitioner enters for an
    appointment that has started (given on paper, by phone or in person: the clinician modes) were
    given at that appointment, so they are dated to its start, not to when they were typed in; a
    trajectory or a first-and-last pairing then puts them where they belong. Otherwise now."""
    if stated is not None:
        return stated
    now = timezone.now()
    if appointment is not None and mode in CLINICIAN_MODES and appointment.starts_at <= now:
        return appointment.starts_at
    return now


def _require_may_submit(actor: Actor, submission: Submission) -> None:
    """The person fills in their own questionnaires online; their team's practitioners enter answers
    given by phone, on paper or in person. Nobody else records answers."""
    user = actor.user
    if user is None:
        raise Forbidden("Log in to record answers.")
    if user.pk == submission.service_user.pk:
        if submission.mode != M.SELF_ONLINE:
            raise InvalidInput("Answers you give yourself are recorded as self-completed online.", field="mode", code="invalid_choice")
        return
    if user.role in PRACTITIONER_ROLES and _on_care_team(user, submission.course):
        if submission.mode not in CLINICIAN_MODES:
            raise InvalidInput("Say how the person gave their answers: by phone, on paper or in person.", field="mode", code="invalid_choice")
        return
    raise Forbidden("Only the person or their care team can record these answers.")


def _on_care_team(user: User, course: CourseOfCare) -> bool:
    """Whether `user` is on the course's team. selectors.submission_target answers this in its one
    query and notes it on the course (for that user only), which saves a round trip per submission."""
    noted = getattr(course, "on_team_of", None)
    if noted is not None and noted[0] == user.pk:
        return noted[1]
    return course.team.memberships.filter(user=user).exists()


def resolve_course(service_user: User, course: CourseOfCare | None, appointment: Appointment | None) -> CourseOfCare:
    """The course a response belongs to: the appointment's, or the one named; they must agree."""
    if appointment is not None:
        if appointment.service_user_id != service_user.pk:
            raise InvalidInput("That appointment is for someone else.", field="appointment_id", code="other_person")
        if appointment.course_id is None:
            raise Conflict("This appointment is not part of a course of care, so answers cannot be filed against it.",
                           field="appointment_id", code="no_course")
        if course is not None and course.pk != appointment.course_id:
            raise InvalidInput("The appointment belongs to a different course of care.", field="course_id", code="mismatch")
        return appointment.course
    if course is None:
        raise InvalidInput("Name the appointment or the course of care these answers belong to.", field="course_id", code="required")
    if course.service_user_id != service_user.pk:
        raise InvalidInput("That course of care is someone else's.", field="course_id", code="other_person")
    return course


def response_submit(
    *, actor: Actor, submission: Submission, idempotency_key: str, accept_incomplete: bool = False,
    replaces: Response | None = None, replacement_reason: str = "",
) -> tuple[Response, bool]:
    """Score and store a questionnaire; raise risk flags. Returns (response, created).

    A retry with the same idempotency key and the same answers returns the first response unchanged
    (created False); the same key with different answers is a 409. Too many unanswered items is a 400
    naming them, unless `accept_incomplete` (the person chose not to answer): then it is stored, unscored.
    """
    _require_may_submit(actor, submission)
    if not idempotency_key or len(idempotency_key) > 100 or "\x00" in idempotency_key:
        raise InvalidInput("Send an Idempotency-Key header (up to 100 characters) so a retry is not stored twice.",
                           field="Idempotency-Key", code="required")
    fingerprint = submission.fingerprint()
    try:
        score = _checked(submission, accept_incomplete, replaces, replacement_reason)
    except DomainError:
        # A retry of a submission stored before (the course has ended since, say) is answered as the
        # first time. Looked up only here and on a duplicate key below: a new submission (nearly all
        # of them) is one round trip shorter for not looking first.
        earlier = Response.objects.filter(entered_by=actor.user, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replayed(earlier, fingerprint), False
        raise
    try:
        with transaction.atomic():
            response = record_response(
                actor=actor, submission=submission, score=score, idempotency_key=idempotency_key, fingerprint=fingerprint,
                replaces=replaces, replacement_reason=replacement_reason,
            )
            audit_append_pending()  # the event commits with the response (backend/audit/services.py)
    except IntegrityError:
        # The key was used before (a retry), or the same retry arrived twice at once: answer as the
        # first did. Otherwise the one-to-one `replaces` refused a second correction of the same answers.
        earlier = Response.objects.filter(entered_by=actor.user, idempotency_key=idempotency_key).first()
        if earlier is None:
            raise Conflict("This response was corrected at the same moment by someone else. Reload and check.", code="conflict")
        return _replayed(earlier, fingerprint), False
    return response, True


def _checked(submission: Submission, accept_incomplete: bool, replaces: Response | None, replacement_reason: str) -> Score:
    """Everything that can refuse a submission before it is written; returns its score."""
    if not submission.course.is_open:
        raise CourseClosed(f"This course of care ended on {submission.course.ended_on:%d %B %Y}; answers cannot be added to it.",
                           field="course_id")
    if not submission.instrument.is_active:
        raise Conflict("This questionnaire has been retired.", field="instrument", code="retired")
    if submission.completed_at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput("The answers cannot have been given in the future.", field="completed_at", code="in_the_future")
    scale = Scale.of(submission.instrument)
    score = score_answers(scale, submission.answers)  # refuses values and items the instrument does not have
    if not score.is_scored and not accept_incomplete:
        missing = unanswered(scale, submission.answers)
        raise InvalidInput(
            f"Answer item{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))}: "
            f"{'no' if scale.max_missing_items == 0 else f'at most {scale.max_missing_items}'} unanswered "
            f"item{'s' if scale.max_missing_items != 1 else ''} can be scored for {submission.instrument.name}.",
            field=f"answers.{missing[0]}", code="required",
        )
    if replaces is not None:
        _check_replacement(replaces, submission, replacement_reason)
    return score


def _replayed(earlier: Response, fingerprint: str) -> Response:
    if earlier.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for different answers. Use a new key for a new submission.",
            field="Idempotency-Key",
        )
    return earlier


def _check_replacement(replaces: Response, submission: Submission, reason: str) -> None:
    if not reason.strip():
        raise InvalidInput("Say why the earlier answers are being corrected.", field="replacement_reason", code="required")
    if replaces.instrument_id != submission.instrument.pk or replaces.service_user_id != submission.service_user.pk:
        raise InvalidInput("A correction must be for the same person and questionnaire.", field="replaces", code="mismatch")
    if Response.objects.filter(replaces=replaces).exists():
        raise Conflict("Those answers were already corrected; correct the latest version instead.", field="replaces", code="already_replaced")


# A response and its answers are written in ONE statement on PostgreSQL: the response's INSERT and the
# answers' INSERT joined in a data-modifying WITH, one round trip instead of two, and no Answer objects
# built (a submission's answers are never used as objects afterwards). The columns are the model's, in
# its order, each value prepared by its field as Django's own INSERT prepares it (`pre_save`, then
# `get_db_prep_save`), so nothing is written differently from `Response.objects.create`; no signal
# handler listens to these models. Elsewhere (SQLite, `make run`'s default) the ORM writes them.
_RESPONSE_FIELDS = [f for f in Response._meta.concrete_fields if not f.primary_key]
_INSERT_WITH_ANSWERS = (
    f"WITH response AS (INSERT INTO {Response._meta.db_table} ({', '.join(f.column for f in _RESPONSE_FIELDS)})"
    f" VALUES ({', '.join(['%s'] * len(_RESPONSE_FIELDS))}) RETURNING id),"
    f" answers AS (INSERT INTO {Answer._meta.db_table} (response_id, item_id, value)"
    " SELECT response.id, answer.item_id, answer.value"
    " FROM response, unnest(%s::bigint[], %s::smallint[]) AS answer (item_id, value))"
    " SELECT id FROM response"
)


def _insert_with_answers(response: Response, answers: list[tuple[int, int | None]]) -> None:
    """Insert the new `response` and its answers, (item id, value) pairs, inside the caller's transaction."""
    if connection.vendor != "postgresql":
        response.save()
        Answer.objects.bulk_create([Answer(response=response, item_id=item, value=value) for item, value in answers])
        return
    values = [field.get_db_prep_save(field.pre_save(response, True), connection) for field in _RESPONSE_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_WITH_ANSWERS, [*values, [item for item, _ in answers], [value for _, value in answers]])
        response.pk = cursor.fetchone()[0]
    response._state.adding, response._state.db = False, connection.alias


def record_response(
    *, actor: Actor, submission: Submission, score: Score, idempotency_key: str, fingerprint: str,
    replaces: Response | None = None, replacement_reason: str = "",
) -> Response:
    """Write a checked, scored submission with its answers and risk flags (inside the caller's
    transaction). Used by response_submit and by the import of historic records."""
    response = Response(
        instrument=submission.instrument, service_user=submission.service_user, course=submission.course,
        appointment=submission.appointment, mode=submission.mode, completed_at=submission.completed_at,
        entered_by=actor.user, idempotency_key=idempotency_key, request_fingerprint=fingerprint,
        status=Response.Status.SCORED if score.is_scored else Response.Status.INCOMPLETE,
        raw_total=score.raw_total, score=score.score, band=score.band, at_caseness=score.at_caseness,
        prorated=score.prorated, unanswered_items=score.unanswered_items, replaces=replaces, replacement_reason=replacement_reason,
    )
    items = {item.number: item for item in submission.instrument.items.all()}
    _insert_with_answers(response, [(item.pk, submission.answers.get(number)) for number, item in items.items()])
    # A new response has no correction yet: say so, so showing it does not ask the database.
    Response.replaced_by.related.set_cached_value(response, None)
    audit_record(actor=actor, action=A.CREATE, obj=response, detail={
        "instrument": submission.instrument.code, "service_user": submission.service_user.pk, "status": response.status,
        **({"replaces": replaces.pk} if replaces else {}),
    })
    response_filed(response)  # higher layers follow it in this transaction (outcomes/hooks.py)
    if submission.mode != M.IMPORTED:
        for number in risk_items_raised(selectors.risk_limits(submission.instrument), submission.answers):
            risk_flag_raise(actor=actor, response=response, item=items[number], value=submission.answers[number])
    return response


# --- Risk flags -------------------------------------------------------------------------------------

def _flag_event(flag: RiskFlag) -> dict:
    return {"type": "risk.flag", "flag_id": flag.pk}


def risk_flag_raise(*, actor: Actor, response: Response, item: InstrumentItem, value: int) -> RiskFlag:
    """Record the flag and push it to every responsible clinician who is online, once committed.
    Clinicians who are not online see it on their pages and when their socket next connects."""
    flag = RiskFlag.objects.create(response=response, service_user=response.service_user, item=item, value=value)
    audit_record(actor=actor, action=A.CREATE, obj=flag, detail={
        "service_user": response.service_user_id, "instrument": response.instrument.code, "item": item.number, "value": value,
    })
    for clinician_id in selectors.clinicians_responsible_for(response.service_user).values_list("pk", flat=True):
        broadcast_on_commit(selectors.risk_flag_group(clinician_id), _flag_event(flag))
    return flag


def risk_flag_acknowledge(*, actor: Actor, flag: RiskFlag, action_taken: str) -> RiskFlagAcknowledgement:
    user = actor.user
    if user is None or user.role != Role.CLINICIAN or not selectors.risk_flags_visible_to(user).filter(pk=flag.pk).exists():
        raise Forbidden("Only the person's clinicians can acknowledge a risk flag.")
    if not action_taken.strip():
        raise InvalidInput("Say what you did about this risk.", field="action_taken", code="required")
    try:
        with transaction.atomic():
            acknowledgement = RiskFlagAcknowledgement.objects.create(flag=flag, acknowledged_by=user, action_taken=action_taken)
            audit_record(actor=actor, action=A.UPDATE, obj=flag, detail={"acknowledged": True})
            for clinician_id in selectors.clinicians_responsible_for(flag.service_user).values_list("pk", flat=True):
                broadcast_on_commit(selectors.risk_flag_group(clinician_id), {"type": "risk.acknowledged", "flag_id": flag.pk})
    except IntegrityError:
        done = RiskFlagAcknowledgement.objects.select_related("acknowledged_by").get(flag=flag)
        raise Conflict(
            f"{done.acknowledged_by.full_name} already acknowledged this flag at {timezone.localtime(done.acknowledged_at):%H:%M on %d %B}.",
            code="already_acknowledged",
        )
    return acknowledgement


# --- Schedules --------------------------------------------------------------------------------------

def schedule_set(*, actor: Actor, team: Team, instrument: Instrument, when: str) -> MeasureSchedule:
    """An admin sets when a team asks for a questionnaire (replacing that team's earlier rule for it)."""
    if not instrument.is_active:
        raise Conflict("This questionnaire has been retired.", field="instrument", code="retired")
    if instrument.organisation_id not in (None, team.organisation_id):
        raise InvalidInput("That questionnaire belongs to another organisation.", field="instrument", code="other_organisation")
    with transaction.atomic():
        schedule, created = MeasureSchedule.objects.select_for_update().update_or_create(
            team=team, instrument=instrument, defaults={"when": when}
        )
        audit_record(actor=actor, action=A.CREATE if created else A.UPDATE, obj=schedule,
                     detail={"team": team.pk, "instrument": instrument.code, "when": when})
    return schedule


def schedule_remove(*, actor: Actor, schedule: MeasureSchedule) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action=A.END, obj=schedule, detail={"team": schedule.team_id, "instrument": schedule.instrument.code})
        schedule.delete()


# --- Local questionnaires ---------------------------------------------------------------------------

def instrument_create(
    *, actor: Actor, organisation: Organisation, code: str, name: str, title: str, stem: str, higher_is_worse: bool,
    options: list[dict], items: list[dict], bands: list[dict], max_missing_items: int = 0,
) -> Instrument:
    """An admin defines a service's own questionnaire: items, shared options, sum scoring with reverse
    keys, and bands covering every possible total. It has no caseness or reliable change threshold:
    those are clinical facts that need a published source."""
    if Instrument.objects.filter(code=code).exists():
        raise Conflict(f"A questionnaire with the code '{code}' already exists. Choose another code.", field="code", code="exists")
    values = [o["value"] for o in options]
    if len(options) < 2 or len(set(values)) != len(values):
        raise InvalidInput("Give at least two answers, each with a different value.", field="options", code="invalid")
    numbers = [i["number"] for i in items]
    if not items or sorted(numbers) != list(range(1, len(items) + 1)):
        raise InvalidInput("Number the items 1, 2, 3 and so on, with none missing or repeated.", field="items", code="invalid")
    if max_missing_items >= len(items):
        raise InvalidInput("At least one item must be answered to score.", field="max_missing_items", code="invalid")
    low_total, high_total = min(values) * len(items), max(values) * len(items)
    _check_bands(bands, Decimal(low_total), Decimal(high_total))
    with transaction.atomic():
        instrument = Instrument.objects.create(
            code=code, name=name, title=title, stem=stem, higher_is_worse=higher_is_worse, max_missing_items=max_missing_items,
            missing_rule=(f"Up to {max_missing_items} unanswered item(s) prorated (mean of the answered items times the number of items)."
                          if max_missing_items else "Every item must be answered."),
            organisation=organisation, created_by=actor.user, source="A local questionnaire defined by the service.",
        )
        InstrumentOption.objects.bulk_create([InstrumentOption(instrument=instrument, value=o["value"], label=o["label"]) for o in options])
        InstrumentItem.objects.bulk_create([
            InstrumentItem(instrument=instrument, number=i["number"], text=i["text"], reverse_keyed=i.get("reverse_keyed", False),
                           risk_above=i.get("risk_above"))
            for i in items
        ])
        InstrumentBand.objects.bulk_create([InstrumentBand(instrument=instrument, **b) for b in bands])
        audit_record(actor=actor, action=A.CREATE, obj=instrument, detail={"code": code, "organisation": organisation.pk})
    return instrument


def _check_bands(bands: list[dict], low: Decimal, high: Decimal) -> None:
    if not bands:
        return
    ordered = sorted(bands, key=lambda b: b["lower"])
    if ordered[0]["lower"] != low or ordered[-1]["upper"] != high:
        raise InvalidInput(f"The bands must run from {low} to {high}, the lowest and highest possible totals.", field="bands", code="invalid")
    for before, after in zip(ordered, ordered[1:]):
        if after["lower"] != before["upper"] + 1:
            raise InvalidInput(f"The bands must follow on without gaps or overlaps: {before['label']} ends at {before['upper']}, "
                               f"{after['label']} starts at {after['lower']}.", field="bands", code="invalid")
    for band in ordered:
        if band["lower"] > band["upper"]:
            raise InvalidInput(f"The band {band['label']} ends before it starts.", field="bands", code="invalid")


def instrument_retire(*, actor: Actor, instrument: Instrument) -> Instrument:
    """Stop giving a questionnaire; its responses stay."""
    with transaction.atomic():
        Instrument.objects.filter(pk=instrument.pk).update(is_active=False)
        MeasureSchedule.objects.filter(instrument=instrument).delete()
        audit_record(actor=actor, action=A.END, obj=instrument, detail={"code": instrument.code})
    instrument.is_active = False
    return instrument
