"""The historic import's optional consent columns (docs/import.md): a decision a person made in the
earlier system (to evaluation, say), parsed with its row, checked against the file and against what
is stored, and written through the consent app's `consent_record_historic`, so imported people can be
in evaluation exports without one API call per person.

Each row may carry one decision; the same decision repeated on a person's other rows counts once.
Decisions are recorded in the order they were made, after any already stored (the latest record is
the one that holds), against the wording in force on the day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.utils import timezone

from backend.accounts.models import ServiceUserReference, Team
from backend.audit.actor import Actor
from backend.consent import services as consent_services
from backend.consent.models import ConsentPurpose, ConsentRecord
from backend.core.errors import InvalidInput

CONSENT_COLUMNS = ["consent_purpose", "consent_decision", "consent_date", "consent_method", "consent_evidence"]
DECISIONS = {"give": ConsentRecord.Decision.GIVEN, "refuse": ConsentRecord.Decision.REFUSED, "withdraw": ConsentRecord.Decision.WITHDRAWN}
MAX_EVIDENCE = 200


@dataclass(frozen=True)
class HistoricConsent:
    """One row's consent columns, parsed."""

    purpose: str
    decision: str
    when: datetime
    method: str
    evidence: str


def parse_consent(value: dict) -> HistoricConsent | None:
    """The row's decision, or None when its consent columns are empty (or absent)."""
    purpose = value.get("consent_purpose", "")
    if not purpose:
        filled = next((name for name in CONSENT_COLUMNS[1:] if value.get(name)), None)
        if filled:
            raise InvalidInput(f"{filled} is filled in but consent_purpose is empty: name the purpose, e.g. evaluation.",
                               field="consent_purpose")
        return None
    decision = DECISIONS.get(value.get("consent_decision", "").lower())
    if decision is None:
        raise InvalidInput(f"consent_decision '{value.get('consent_decision', '')}' is not give, refuse or withdraw.",
                           field="consent_decision")
    text = value.get("consent_date", "")
    try:
        when = datetime.fromisoformat(text) if "T" in text or " " in text else datetime.combine(date.fromisoformat(text), time(12))
    except ValueError:
        raise InvalidInput(f"consent_date '{text}' is not a date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM).",
                           field="consent_date") from None
    when = when if timezone.is_aware(when) else timezone.make_aware(when)
    if when > timezone.now():
        raise InvalidInput("consent_date is in the future: only decisions already made can be imported.", field="consent_date")
    method = value.get("consent_method", "").lower()
    if method not in consent_services.HISTORIC_METHODS:
        raise InvalidInput(f"consent_method '{value.get('consent_method', '')}' is not online, verbal or written.", field="consent_method")
    evidence = value.get("consent_evidence", "")
    if not evidence:
        raise InvalidInput("consent_evidence is empty: give the reference of the form, letter or record that shows the decision.",
                           field="consent_evidence")
    if len(evidence) > MAX_EVIDENCE:
        raise InvalidInput(f"consent_evidence is longer than {MAX_EVIDENCE} characters.", field="consent_evidence")
    return HistoricConsent(purpose=purpose.lower(), decision=decision, when=when, method=method, evidence=evidence)


@dataclass
class ConsentPlan:
    """What the file's consent columns come to: problems, and the decisions to record, in order."""

    errors: list[dict] = field(default_factory=list)
    new: list[tuple[str, ConsentPurpose, HistoricConsent]] = field(default_factory=list)  # (service_user_ref, purpose, decision)
    unchanged: int = 0


def plan(rows: Iterable, team: Team) -> ConsentPlan:
    """Check every row's decision (purpose, wording in force, order, what it follows) and list the new ones."""
    result = ConsentPlan()
    given = [(row, row.consent) for row in rows if getattr(row, "consent", None) is not None]
    if not given:
        return result
    purposes = {p.code: p for p in ConsentPurpose.objects.filter(code__in={c.purpose for _, c in given}).prefetch_related("wordings")}
    people = dict(ServiceUserReference.objects.filter(organisation=team.organisation_id).values_list("reference", "service_user_id"))
    stored: dict[tuple[int, int], list[ConsentRecord]] = {}
    for record in ConsentRecord.objects.filter(
        service_user__in=[people[r.service_user_ref] for r, _ in given if r.service_user_ref in people],
        purpose__in=purposes.values(), carer__isnull=True,
    ).select_related("wording").order_by("id"):
        stored.setdefault((record.service_user_id, record.purpose_id), []).append(record)
    decisions: dict[tuple[str, str], dict[datetime, tuple[int, HistoricConsent]]] = {}
    for row, consent in given:
        purpose = purposes.get(consent.purpose)
        if purpose is None:
            result.errors.append(_error(row.line, "consent_purpose", f"consent_purpose '{consent.purpose}' is not a consent purpose."))
            continue
        if purpose.names_a_carer:
            result.errors.append(_error(row.line, "consent_purpose",
                                        f"Consent to '{purpose.code}' names a carer and cannot be imported: the person gives it in Rapport."))
            continue
        if _wording_on(purpose, timezone.localdate(consent.when)) is None:
            first = min((w.effective_from for w in purpose.wordings.all()), default=None)
            result.errors.append(_error(row.line, "consent_date", (
                f"No wording of '{purpose.code}' was in force on {timezone.localdate(consent.when)}"
                + (f": the first took effect on {first}." if first else ".")
            )))
            continue
        same_day = decisions.setdefault((row.service_user_ref, purpose.code), {})
        earlier = same_day.get(consent.when)
        if earlier is not None and earlier[1] != consent:
            result.errors.append(_error(row.line, "consent_decision",
                                        f"Line {earlier[0]} records a different decision about '{purpose.code}' at the same time."))
            continue
        same_day.setdefault(consent.when, (row.line, consent))
    for (ref, code), by_time in decisions.items():
        purpose = purposes[code]
        history = stored.get((people.get(ref), purpose.pk), [])
        latest = history[-1] if history else None
        state = (latest.decision, latest.wording.version) if latest else None
        last_when = latest.recorded_at if latest else None
        for when in sorted(by_time):
            line, consent = by_time[when]
            if any(r.recorded_at == when and r.decision == consent.decision for r in history):
                result.unchanged += 1  # imported before
                continue
            if last_when is not None and when <= last_when:
                result.errors.append(_error(line, "consent_date", (
                    f"A later decision about '{code}' ({timezone.localdate(last_when)}) is already recorded for {ref}; "
                    "decisions are recorded in the order they were made."
                )))
                continue
            version = _wording_on(purpose, timezone.localdate(when)).version
            problem = consent_services.historic_decision_problem(state, consent.decision, version)
            if problem:
                result.errors.append(_error(line, "consent_decision", f"'{code}' cannot be {consent.decision} then: {problem}."))
                continue
            state, last_when = (consent.decision, version), when
            result.new.append((ref, purpose, consent))
    return result


def write(actor: Actor, team: Team, rows: Iterable) -> int:
    """Record the file's new decisions (after the people exist); returns how many."""
    decided = plan(rows, team)
    people = {r.reference: r.service_user for r in ServiceUserReference.objects.filter(
        organisation=team.organisation_id, reference__in={ref for ref, _, _ in decided.new}).select_related("service_user")}
    for ref, purpose, consent in decided.new:
        consent_services.consent_record_historic(
            actor=actor, service_user=people[ref], purpose=purpose, decision=consent.decision, decided_at=consent.when,
            method=consent.method, evidence=consent.evidence,
        )
    return len(decided.new)


def _wording_on(purpose: ConsentPurpose, day: date):
    found = [w for w in purpose.wordings.all() if w.effective_from <= day]
    return max(found, key=lambda w: w.version) if found else None


def _error(line: int, column: str, reason: str) -> dict:
    return {"line": line, "field": column, "reason": reason}
