"""Recording consent, wording versions and modality preferences. Each action is one transaction that
appends a row (never edits one) and writes its audit event."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from backend.accounts import selectors as access
from backend.accounts.hooks import access_changed
from backend.accounts.models import CarerLink, Role, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.consent.models import Access, ConsentPurpose, ConsentRecord, ConsentWording, Modality, ModalityPreference, ModalityReason
from backend.consent.selectors import consent_latest, current_wording, record_holds, wording_in_force
from backend.core.errors import Conflict, Forbidden, InvalidInput, NotFound

A = AuditEvent.Action
D = ConsentRecord.Decision


def _lock_person(service_user: User) -> None:
    """Serialise decisions about one person, so concurrent requests each see the one before."""
    User.objects.select_for_update().filter(pk=service_user.pk).first()


def _recording_method(actor: Actor, service_user: User, note: str) -> str:
    """The person themselves online, or a clinician on their team taking verbal consent with a note."""
    user = actor.user
    if user is not None and user.pk == service_user.pk:
        return ConsentRecord.Method.ONLINE
    if user is not None and user.role == Role.CLINICIAN:
        if not access.service_users_visible_to(user).filter(pk=service_user.pk).exists():
            raise NotFound("This person is not on your team's caseload.", field="service_user_id")
        if not note.strip():
            raise InvalidInput("Say how and when the person gave their decision (for example, 'by phone, 3 May').", field="note", code="required")
        return ConsentRecord.Method.VERBAL
    if user is not None and user.role == Role.CARER:
        raise Forbidden("Only the person themselves, or their clinician with them, can record their consent.")
    raise Forbidden("Only the person themselves, or a clinician on their team, can record consent.")


# --- Purposes and wording (admins) ---------------------------------------------------------------
def purpose_create(*, actor: Actor, code: str, name: str, description: str, names_a_carer: bool = False) -> ConsentPurpose:
    with transaction.atomic():
        if ConsentPurpose.objects.filter(code=code).exists():
            raise Conflict("A purpose with this code already exists.", field="code", code="code_taken")
        purpose = ConsentPurpose.objects.create(code=code, name=name, description=description, names_a_carer=names_a_carer)
        audit_record(actor=actor, action=A.CREATE, obj=purpose)
    return purpose


def wording_publish(
    *, actor: Actor, purpose: ConsentPurpose, text: str, effective_from: date, requires_reconsent: bool = False
) -> ConsentWording:
    """Add the next version of a purpose's wording. Earlier versions stay as they were."""
    if effective_from < timezone.localdate():
        raise InvalidInput("A new wording cannot take effect in the past.", field="effective_from", code="in_the_past")
    with transaction.atomic():
        ConsentPurpose.objects.select_for_update().filter(pk=purpose.pk).first()
        latest = purpose.wordings.aggregate(v=Max("version"))["v"] or 0
        wording = ConsentWording.objects.create(
            purpose=purpose, version=latest + 1, text=text, effective_from=effective_from,
            requires_reconsent=requires_reconsent, created_by=actor.user,
        )
        audit_record(actor=actor, action=A.CREATE, obj=wording, detail={"purpose": purpose.code, "version": wording.version})
    return wording


# --- Consent records ------------------------------------------------------------------------------
def consent_record(
    *,
    actor: Actor,
    service_user: User,
    purpose: ConsentPurpose,
    decision: str,
    wording_version: int | None = None,
    carer: User | None = None,
    share_outcomes: bool = False,
    note: str = "",
) -> ConsentRecord:
    """Give, refuse or withdraw consent. Appends a record; the person's history is never rewritten."""
    if service_user.role != Role.SERVICE_USER:
        raise InvalidInput("Consent is recorded for service users.", field="service_user_id", code="wrong_role")
    method = _recording_method(actor, service_user, note)
    if purpose.names_a_carer:
        if carer is None:
            raise InvalidInput("Say which carer this is about.", field="carer_id", code="required")
        # Only a link the carer accepted: a pending proposal is not yet someone the person involves.
        if not CarerLink.objects.in_effect().filter(service_user=service_user, carer=carer).exists():
            raise InvalidInput("This person is not a carer you involve. Add them first.", field="carer_id", code="not_linked")
    elif carer is not None or share_outcomes:
        field = "carer_id" if carer is not None else "share_outcomes"
        raise InvalidInput(f"This purpose is not about a carer: leave out {field}.", field=field, code="not_applicable")
    wording = current_wording(purpose)
    if wording is None:
        raise Conflict("There is no wording in effect for this purpose yet.", field="purpose", code="no_wording")
    if decision in (D.GIVEN, D.REFUSED):  # a withdrawal is always possible, whatever wording was on screen
        if wording_version != wording.version:
            raise InvalidInput(
                f"Version {wording_version} is not the current wording; read version {wording.version} and decide on that.",
                field="wording_version", code="not_current",
            )
    with transaction.atomic():
        _lock_person(service_user)
        latest = consent_latest(service_user, purpose, carer)
        holds = record_holds(latest, purpose)
        if decision == D.GIVEN and holds and latest.share_outcomes == share_outcomes:
            raise Conflict("Consent is already given.", field="decision", code="already_given")
        if decision == D.WITHDRAWN and not holds and not (latest and latest.decision == D.GIVEN):
            raise Conflict("There is no consent to withdraw.", field="decision", code="nothing_to_withdraw")
        if decision == D.REFUSED and latest is not None and latest.decision == D.GIVEN:
            raise Conflict("Consent is currently given: withdraw it instead.", field="decision", code="withdraw_instead")
        if decision == D.REFUSED and latest is not None and latest.decision == D.REFUSED:
            raise Conflict("Consent is already refused.", field="decision", code="already_refused")
        record = ConsentRecord.objects.create(
            service_user=service_user, purpose=purpose, wording=wording, decision=decision, carer=carer,
            share_outcomes=share_outcomes if decision == D.GIVEN else False, method=method, note=note,
            recorded_by=actor.user,
        )
        audit_record(
            actor=actor, action=A.CREATE, obj=record,
            detail={"service_user": service_user.pk, "purpose": purpose.code, "decision": decision, "version": wording.version},
        )
        if decision == D.WITHDRAWN:
            # "They will lose access straight away": open connections too, not only the next request.
            access_changed(reason="consent_withdrawn", user_ids=[carer.pk] if carer else [],
                           service_user_id=service_user.pk, purpose=purpose.code)
    return record


# --- Historic decisions (the import of records from an earlier system) --------------------------------
HISTORIC_METHODS = (ConsentRecord.Method.ONLINE, ConsentRecord.Method.VERBAL, ConsentRecord.Method.WRITTEN)


def historic_decision_problem(latest: tuple[str, int] | None, decision: str, version: int) -> str:
    """Why `decision` (against wording `version`) cannot follow the person's latest decision
    (`latest`: its decision and wording version, or None), or "" if it can: the live rules."""
    if decision == D.GIVEN and latest is not None and latest == (D.GIVEN, version):
        return "consent was already given to this wording"
    if decision == D.WITHDRAWN and (latest is None or latest[0] != D.GIVEN):
        return "there was no consent to withdraw"
    if decision == D.REFUSED and latest is not None and latest[0] in (D.GIVEN, D.REFUSED):
        return "consent was given then (a withdrawal, not a refusal)" if latest[0] == D.GIVEN else "consent was already refused"
    return ""


def consent_record_historic(
    *, actor: Actor, service_user: User, purpose: ConsentPurpose, decision: str, decided_at: datetime, method: str, evidence: str,
) -> ConsentRecord:
    """An admin records a decision a person made before Rapport (the historic import): against the
    wording in force on that day, dated when it was made, with how it was recorded and the evidence
    (a form's or a letter's reference) in the note. Appended like any other record; never in front of
    a decision already recorded for the person, as the latest record is the one that holds."""
    user = actor.user
    if user is None or user.role != Role.ADMIN or not access.service_users_visible_to(user).filter(pk=service_user.pk).exists():
        raise Forbidden("Only an admin of an organisation the person is registered with can import their consent.")
    if purpose.names_a_carer:
        raise InvalidInput("Consent that names a carer cannot be imported: the person gives it in Rapport.", field="consent_purpose",
                           code="names_a_carer")
    if decision not in D.values:
        raise InvalidInput("The decision is give, refuse or withdraw.", field="consent_decision", code="invalid_choice")
    if method not in HISTORIC_METHODS:
        raise InvalidInput("Say how it was recorded: online, verbal or written.", field="consent_method", code="invalid_choice")
    if not evidence.strip():
        raise InvalidInput("Give the evidence's reference (the form, letter or record that shows the decision).",
                           field="consent_evidence", code="required")
    if decided_at > timezone.now():
        raise InvalidInput("The decision cannot be in the future.", field="consent_date", code="in_the_future")
    wording = wording_in_force(purpose, timezone.localdate(decided_at))
    if wording is None:
        raise InvalidInput(f"No wording of '{purpose.code}' was in force on {timezone.localdate(decided_at)}.", field="consent_date",
                           code="no_wording")
    with transaction.atomic():
        _lock_person(service_user)
        latest = consent_latest(service_user, purpose)
        if latest is not None and latest.recorded_at >= decided_at:
            raise Conflict("A later decision is already recorded for this person and purpose.", field="consent_date", code="out_of_order")
        problem = historic_decision_problem((latest.decision, latest.wording.version) if latest else None, decision, wording.version)
        if problem:
            raise Conflict(f"Not possible then: {problem}.", field="consent_decision", code="not_possible")
        record = ConsentRecord.objects.create(
            service_user=service_user, purpose=purpose, wording=wording, decision=decision, method=method,
            note=f"Imported from an earlier system; evidence: {evidence.strip()}", recorded_at=decided_at, recorded_by=user,
        )
        audit_record(actor=actor, action=A.CREATE, obj=record, detail={
            "service_user": service_user.pk, "purpose": purpose.code, "decision": decision, "version": wording.version,
            "imported": True, "decided_at": decided_at.isoformat(), "evidence": evidence.strip(),
        })
        if decision == D.WITHDRAWN:
            access_changed(reason="consent_withdrawn", user_ids=[], service_user_id=service_user.pk, purpose=purpose.code)
    return record


# --- Modality preference and digital access -------------------------------------------------------
def preference_set(
    *,
    actor: Actor,
    service_user: User,
    ranking: list[str],
    reasons: list[str],
    has_suitable_device: str,
    has_enough_data: str,
    has_private_space: str,
    confident_using: str,
    wants_help: bool = False,
    note: str = "",
) -> ModalityPreference:
    """Record how a person prefers to be seen, why, and what they have for remote care."""
    user = actor.user
    if user is None or not (user.pk == service_user.pk or (user.is_practitioner and access.service_users_visible_to(user).filter(pk=service_user.pk).exists())):
        raise Forbidden("Only the person themselves, or their care team with them, can set their preference.")
    if sorted(ranking) != sorted(Modality.values):
        raise InvalidInput("Put all three (video, phone and face to face) in your order of preference.", field="ranking", code="incomplete_ranking")
    answers = {"has_suitable_device": has_suitable_device, "has_enough_data": has_enough_data,
               "has_private_space": has_private_space, "confident_using": confident_using}
    for field, answer in answers.items():
        if answer not in Access.values:
            raise InvalidInput("Answer yes, no or not sure.", field=field, code="invalid_choice")
    unknown = [code for code in reasons if code not in ModalityReason.values]
    if unknown:
        raise InvalidInput(f"'{unknown[0]}' is not a reason code.", field="reasons", code="unknown_reason")
    if ModalityReason.OTHER in reasons and not note.strip():
        raise InvalidInput("Say a little about the other reason.", field="note", code="required")
    with transaction.atomic():
        _lock_person(service_user)
        preference = ModalityPreference.objects.create(
            service_user=service_user, ranking=list(ranking), reasons=sorted(set(reasons)), note=note,
            has_suitable_device=has_suitable_device, has_enough_data=has_enough_data, has_private_space=has_private_space,
            confident_using=confident_using, wants_help=wants_help, recorded_by=user,
        )
        audit_record(actor=actor, action=A.CREATE, obj=preference, detail={"service_user": service_user.pk, "first_choice": ranking[0]})
    return preference
