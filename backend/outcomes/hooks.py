"""Hooks through which higher layers follow what happens to questionnaires, so outcomes never imports them.

RESPONSE_FILED: each callback takes a Response just written (by the person online, a clinician, or an
import) and runs inside the same transaction, so what it changes commits or rolls back with the
response. The messaging app registers one that uses up the person's questionnaire links and cancels
the reminders still queued for that questionnaire (a reminder never fires after the answers are in).
"""

from __future__ import annotations

from collections.abc import Callable

RESPONSE_FILED: list[Callable[..., None]] = []


def response_filed(response) -> None:
    for callback in RESPONSE_FILED:
        callback(response=response)
