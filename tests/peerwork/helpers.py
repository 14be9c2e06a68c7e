"""Peer work test set-up, made through the real services.

The questionnaire here is a stand-in with placeholder wording ("Placeholder item 1"), made only for
tests: Rapport ships no wording or scoring of the Peer Support Fidelity Index (docs/peerwork.md).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from backend.audit.actor import Actor
from backend.outcomes.services import instrument_create
from backend.peerwork import selectors, services
from backend.peerwork.models import Domain, Informant
from tests.factories import World

DOMAINS = list(Domain.values)


def load_questionnaire(world: World, informant: str = Informant.PEER_WORKER, *, code: str | None = None, items: int = 8):
    """A placeholder local questionnaire (options 1-4, item 2 reverse-keyed), registered for `informant`,
    two items per domain in order."""
    code = code or f"fidelity-{informant.replace('_', '-')}"
    instrument = instrument_create(
        actor=Actor(world.admin, via="test"), organisation=world.organisation, code=code, name=code, title="Placeholder fidelity items",
        stem="Placeholder instructions.", higher_is_worse=False, max_missing_items=2,
        options=[{"value": v, "label": f"Option {v}"} for v in (1, 2, 3, 4)],
        items=[{"number": n, "text": f"Placeholder item {n}", "reverse_keyed": n == 2} for n in range(1, items + 1)], bands=[],
    )
    return services.fidelity_questionnaire_register(
        actor=Actor(world.admin, via="test"), admin=world.admin, instrument_code=instrument.code, informant=informant,
        item_domains={str(n): DOMAINS[(n - 1) * 4 // items] for n in range(1, items + 1)},
        licence="Test licence", source="Test source",
    )


def load_all(world: World) -> None:
    for informant in Informant.values:
        load_questionnaire(world, informant)


def supervise(world: World, supervisor=None, *, days_ago: int = 3, team=None):
    membership = selectors.supervision_pair_for(supervisor or world.clinician, world.peer_worker.pk, (team or world.north).pk)
    return services.supervision_record(
        actor=Actor(supervisor or world.clinician, via="test"), supervisor=supervisor or world.clinician, membership=membership,
        held_on=timezone.localdate() - timedelta(days=days_ago), topics=["boundaries", "wellbeing"], actions="Read the lone working policy",
        notes="Talked about a hard week at 12 Private Road",
    )


ANSWERS = {"1": 4, "2": 1, "3": 3, "4": 3, "5": 2, "6": 2, "7": 4, "8": None}
