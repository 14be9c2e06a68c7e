"""Hooks through which higher layers add to session pages and follow appointments, so sessions never
imports them.

The outcomes app registers a waiting-room panel that lists the questionnaires due that day, so a
person can fill them in while they wait (STYLE: the higher layer supplies its own fragment).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Panel:
    """A piece of page a higher layer adds: its template and that template's context."""

    template: str
    context: dict = field(default_factory=dict)


# Each provider takes (the person waiting, the appointment) and returns a Panel, or None to add nothing.
WAITING_ROOM_PANELS: list[Callable[..., Panel | None]] = []


# Each provider takes (the person viewing, the service user the person page is about) and returns a
# Panel, or None: e.g. the relatives app's "invite to the relatives' space" beside each carer link.
PERSON_PAGE_PANELS: list[Callable[..., Panel | None]] = []


def person_page_panels(user, person) -> list[Panel]:
    panels = (provider(user, person) for provider in PERSON_PAGE_PANELS)
    return [panel for panel in panels if panel is not None]


# Each callback takes an AppointmentEvent just written (booked, rescheduled, status changed, modality
# chosen, ...) and runs inside the same transaction, so what it writes (the messaging app queues the
# confirmation, reminders and cancellations) commits or rolls back with the change itself.
APPOINTMENT_EVENTS: list[Callable[..., None]] = []


def waiting_room_panels(user, appointment) -> list[Panel]:
    panels = (provider(user, appointment) for provider in WAITING_ROOM_PANELS)
    return [panel for panel in panels if panel is not None]
