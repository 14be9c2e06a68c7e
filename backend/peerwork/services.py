"""Recording peer work: supervision entries, the fidelity questionnaire in use, and fidelity ratings.

Each service is one transaction that writes its own audit event; a refused call saves nothing.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import Role, TeamMembership, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.outcomes.models import Instrument
from backend.outcomes.scoring import Scale, score_answers

from . import selectors
from .models import Domain, FidelityAnswer, FidelityQuestionnaire, FidelityRating, Informant, SupervisionEntry, SupervisionTopic

A = AuditEvent.Action


def _not_in_future(day: date, field: str) -> None:
    if day > timezone.localdate():
        raise InvalidInput("This date is in the future: record it on or after the day.", field=field, code="in_future")


def supervision_record(*, actor: Actor, supervisor: User, membership: TeamMembership, held_on: date, topics: list[str],
                       actions: str, notes: str = "") -> SupervisionEntry:
    """The supervisor records a supervision of a peer worker in one of their teams (from
    `selectors.supervision_pair_for`, which bounds who may be named)."""
    if supervisor.role not in selectors.SUPERVISOR_ROLES:
        raise Forbidden("Only clinicians and peer workers supervise peer workers.", code="not_a_supervisor")
    if membership.user_id == supervisor.pk:
        raise InvalidInput("You cannot record your own supervision: your supervisor records it.", field="peer_worker_id", code="self")
    _not_in_future(held_on, "held_on")
    unknown = [t for t in topics if t not in SupervisionTopic.values]
    if not topics or unknown:
        raise InvalidInput("Choose at least one topic from the list.", field="topics", code="invalid")
    if not actions.strip():
        raise InvalidInput("Write the actions agreed (or 'none').", field="actions", code="required")
    with transaction.atomic():
        entry = SupervisionEntry.objects.create(
            organisation_id=membership.team.organisation_id, team=membership.team, supervisor=supervisor, peer_worker=membership.user,
            held_on=held_on, topics=list(dict.fromkeys(topics)), actions=actions.strip(), notes=notes.strip(),
        )
        audit_record(actor=actor, action=A.CREATE, obj=entry, detail={"peer_worker": membership.user_id, "team": membership.team_id})
    return entry


def fidelity_questionnaire_register(*, actor: Actor, admin: User, instrument_code: str, informant: str, item_domains: dict[str, str],
                                    licence: str, source: str) -> FidelityQuestionnaire:
    """An admin names the local questionnaire (already loaded through outcomes' instruments-as-data,
    `POST instruments/`) that informants of one kind answer, with each item's domain. Every item needs
    a domain, every domain at least one item; Rapport supplies no wording or scoring of its own."""
    if admin.role != Role.ADMIN or admin.organisation_id is None:
        raise Forbidden("Only an administrator of an organisation registers fidelity questionnaires.")
    if informant not in Informant.values:
        raise InvalidInput("Choose one of the three informants.", field="informant", code="invalid_choice")
    instrument = Instrument.objects.filter(code=instrument_code, organisation_id=admin.organisation_id, is_published=False).prefetch_related(
        "items").first()
    if instrument is None:
        raise NotFound(f"Your organisation has no local questionnaire '{instrument_code}'. Load the licensed items first "
                       "(POST /api/v1/instruments/).", field="instrument")
    if not instrument.is_active:
        raise Conflict("This questionnaire is retired: load the items again as a new questionnaire.", field="instrument", code="retired")
    numbers = {str(item.number) for item in instrument.items.all()}
    if set(item_domains) != numbers:
        raise InvalidInput(f"Give a domain for every item of the questionnaire (items {', '.join(sorted(numbers, key=int))}), and no others.",
                           field="item_domains", code="incomplete")
    bad = sorted({d for d in item_domains.values() if d not in Domain.values})
    if bad:
        raise InvalidInput(f"'{bad[0]}' is not one of the four domains.", field="item_domains", code="invalid_choice")
    missing = [d.label for d in Domain if d.value not in item_domains.values()]
    if missing:
        raise InvalidInput(f"No item is in the domain '{missing[0]}': every domain needs at least one item.", field="item_domains", code="incomplete")
    if not licence.strip() or not source.strip():
        raise InvalidInput("Say under which licence the items are used and where they come from.", field="licence" if not licence.strip() else "source",
                           code="required")
    with transaction.atomic():
        registered = FidelityQuestionnaire.objects.create(
            organisation_id=admin.organisation_id, informant=informant, instrument=instrument, item_domains=item_domains,
            licence=licence.strip(), source=source.strip(), registered_by=admin,
        )
        audit_record(actor=actor, action=A.CREATE, obj=registered, detail={"instrument": instrument.code, "informant": informant})
    return registered


def fidelity_rate(*, actor: Actor, rater: User, peer_worker_id: int, team_id: int, rated_on: date,
                  answers: dict[int, int | None]) -> FidelityRating:
    """One informant's rating of a peer worker in a team. Someone who is not one of the three informants
    gets NotAnInformant (403) and nothing is saved; answers are checked and scored against the loaded
    questionnaire's own definition."""
    informant, peer_worker, team = selectors.informant_for(rater, peer_worker_id, team_id)
    _not_in_future(rated_on, "rated_on")
    questionnaire = selectors.current_questionnaire(team.organisation_id, informant)
    if questionnaire is None:
        raise Conflict(f"No fidelity questionnaire is loaded for {Informant(informant).label.lower()} yet: an administrator loads "
                       "the licensed items first (docs/peerwork.md).", field="peer_worker_id", code="no_questionnaire")
    instrument = Instrument.objects.prefetch_related("items", "options", "bands").get(pk=questionnaire.instrument_id)
    scale = Scale.of(instrument)
    if not any(value is not None for value in answers.values()):
        raise InvalidInput("Answer at least one question.", field="answers", code="required")
    score = score_answers(scale, answers)  # refuses unknown items and values (InvalidInput naming answers.<n>)
    items = {item.number: item for item in instrument.items.all()}
    with transaction.atomic():
        rating = FidelityRating.objects.create(
            organisation_id=team.organisation_id, team=team, peer_worker=peer_worker, informant=informant, rated_by=rater,
            questionnaire=questionnaire, rated_on=rated_on, score=score.score, unanswered_items=score.unanswered_items,
        )
        FidelityAnswer.objects.bulk_create([FidelityAnswer(rating=rating, item=items[n], value=answers.get(n)) for n in sorted(items)])
        audit_record(actor=actor, action=A.CREATE, obj=rating, detail={"peer_worker": peer_worker.pk, "team": team.pk, "informant": informant})
    return rating
