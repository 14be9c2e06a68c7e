"""Grants from higher layers into group sessions, without groups importing them (docs/architecture.md: hooks for
upward calls).

`FACILITATION_GRANTS`: callbacks `(user, group_id) -> bool` that higher layers add in their `AppConfig.ready()`.
A callback that answers True lets `user` facilitate that one group live (the `facilitate` need of
`selectors.group_access_for`: the facilitator's view, starting, admitting, holding, removing, the message, mute,
ending, and the facilitator's media) although they are not a clinician or peer worker of its team. It grants
nothing else: not the staff pages (booking, adding or taking people off, cancelling, the register's corrections),
not the API's group list or details. The Recovery College (backend/college) grants it to the active
facilitators of a published run, for that run's sessions only, so a carer peer trainer, who has no team,
co-facilitates online (docs/college.md).
"""

from __future__ import annotations

from collections.abc import Callable

FACILITATION_GRANTS: list[Callable[[object, int], bool]] = []


def facilitation_granted(user, group_id: int) -> bool:
    """Whether a higher layer lets `user` facilitate group `group_id` live."""
    return any(grant(user, group_id) for grant in FACILITATION_GRANTS)
