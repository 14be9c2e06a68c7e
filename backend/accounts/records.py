"""What Rapport holds about a person, for them to download or for a subject access request.

Accounts is the lowest layer, so it cannot read appointments, consent or questionnaires itself. Each
higher app adds a section collector to `RECORD_SECTIONS` in its `AppConfig.ready()` (as with
`hooks.ACCESS_CHANGED`); this module puts the account's own section first and the others after it.
A collector takes the person and returns rows: plain dicts of text, numbers and ISO dates, ready for
JSON and for the page alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from backend.accounts import selectors
from backend.accounts.models import CarerLink, Role, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.core.errors import NotFound


@dataclass(frozen=True)
class RecordSection:
    key: str
    title: str
    collect: Callable[[User], list[dict]]
    order: int = 50


RECORD_SECTIONS: list[RecordSection] = []


def register_section(section: RecordSection) -> None:
    if all(existing.key != section.key for existing in RECORD_SECTIONS):
        RECORD_SECTIONS.append(section)


def _account_rows(user: User) -> list[dict]:
    rows = [{
        "name": user.full_name, "preferred name": user.preferred_name, "email": user.email,
        "phone number": user.phone_number, "role": user.get_role_display(), "account created": user.date_joined.isoformat(),
    }]
    return rows


def _registration_rows(user: User) -> list[dict]:
    return [{"organisation": r.organisation.name, "registered": r.registered_at.isoformat()}
            for r in user.registrations.select_related("organisation")]


def _carer_rows(user: User) -> list[dict]:
    return [{"email": link.carer_email, "relationship": link.get_relationship_display(), "state": CarerLink.State(link.state).label, "proposed": link.created_at.isoformat()}
            for link in user.carer_links.all()]


_OWN = [
    RecordSection("account", "Your account", _account_rows, order=0),
    RecordSection("registrations", "Organisations you are registered with", _registration_rows, order=1),
    RecordSection("carers", "People you asked to be involved", _carer_rows, order=2),
]


def subject_record_for(*, actor: Actor, subject: User) -> dict:
    """Everything Rapport holds about `subject`, as sections of rows. The person themselves, or an
    admin of an organisation they are registered with (a subject access request); audited either way."""
    asker = actor.user
    if asker is None or subject.role != Role.SERVICE_USER:
        raise NotFound(f"No record {subject.pk}.", field="service_user_id")
    if asker.pk != subject.pk and not (asker.role == Role.ADMIN and selectors.users_for_admin(asker).filter(pk=subject.pk).exists()):
        raise NotFound(f"No record {subject.pk}.", field="service_user_id")
    sections = sorted([*_OWN, *RECORD_SECTIONS], key=lambda s: (s.order, s.key))
    record = {
        "person": subject.full_name,
        "produced_at": timezone.now().isoformat(),
        "produced_for": "the person themselves" if asker.pk == subject.pk else "a subject access request",
        "sections": [{"key": s.key, "title": s.title, "rows": s.collect(subject)} for s in sections],
    }
    audit_record(actor=actor, action=AuditEvent.Action.READ, obj=subject,
                 detail={"records_export": True, "subject_access_request": asker.pk != subject.pk})
    return record


def readable_value(value) -> str:
    """A row's value for the page: dates and times in NHS style ("Monday 30 November 2026, 2:30pm")."""
    from datetime import datetime

    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            moment = timezone.localtime(datetime.fromisoformat(value))
        except ValueError:
            return value
        hour = moment.hour % 12 or 12
        clock = f"{hour}{'' if moment.minute == 0 else f':{moment.minute:02d}'}{'am' if moment.hour < 12 else 'pm'}"
        return f"{moment:%A} {moment.day} {moment:%B %Y}, {clock}"
    return "" if value is None else str(value)


def readable(record: dict) -> list[dict]:
    """The record's sections with every value made readable, for the page."""
    return [{"title": section["title"], "rows": [[(label, readable_value(v)) for label, v in row.items()] for row in section["rows"]]}
            for section in record["sections"]]
