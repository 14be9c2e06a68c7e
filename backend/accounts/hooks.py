"""Telling higher layers that someone's access narrowed, so open connections can be closed.

Consent (layer 2) and accounts (layer 1) decide who may see what, but the sockets that must stop
(a call, a waiting room, risk flags) belong to higher layers, which these layers may not import.
So the services that narrow access (a consent withdrawn, a carer link ended, a person taken off a
caseload, a practitioner taken off a team, an account deactivated) call `access_changed`, and each
higher layer adds a callback to `ACCESS_CHANGED` in its `AppConfig.ready()`: sessions closes call
and waiting-room sockets whose access no longer holds, outcomes re-checks risk-flag sockets.

Callbacks run after the transaction commits (`transaction.on_commit`), as Zulip's actions send their
events: a socket is never closed for a change that was rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessChange:
    """What narrowed. `user_ids`: accounts whose own access may have ended (the carer whose link or
    consent ended, the team's practitioners when a person leaves its caseload). `service_user_id`:
    the person whose records or sessions the change is about, so a callback can find every connection
    about them (a withdrawn consent to video stops their calls, whoever is in them). `purpose`: the
    consent purpose withdrawn, if that is the change."""

    reason: str  # consent_withdrawn, carer_link_ended, caseload_removed, team_member_removed, account_deactivated
    user_ids: frozenset[int] = frozenset()
    service_user_id: int | None = None
    purpose: str = ""


# Filled by higher layers (sessions, outcomes). Each callback takes an AccessChange and returns nothing.
ACCESS_CHANGED: list[Callable[[AccessChange], None]] = []


def access_changed(*, reason: str, user_ids=(), service_user_id: int | None = None, purpose: str = "") -> None:
    """Announce, once the current transaction commits, that access narrowed. An id may be None (a
    carer link whose carer has no account yet): nobody to tell, so it is dropped."""
    change = AccessChange(reason=reason, user_ids=frozenset(i for i in user_ids if i is not None), service_user_id=service_user_id, purpose=purpose)
    transaction.on_commit(lambda: _announce(change))


def _announce(change: AccessChange) -> None:
    for callback in list(ACCESS_CHANGED):
        try:
            callback(change)
        except Exception:  # noqa: BLE001 - the change itself has committed; one failing listener must not hide it from the others
            logger.exception("Access-change callback %r failed for %r", callback, change)


# --- Home page panels ----------------------------------------------------------------------------------
# Higher layers add to a person's home page (sessions: the sessions a carer is invited to) without
# accounts importing them. Each provider takes the user and returns (template name, context) or None.
HOME_PANELS: list[Callable] = []


def home_panels(user) -> list[tuple[str, dict]]:
    panels = (provider(user) for provider in HOME_PANELS)
    return [panel for panel in panels if panel is not None]
