"""What an admin may read on the admin pages that no other app's selector already narrows: the part
of the audit trail that concerns their organisation, and its export log.

The audit trail is one hash chain for the whole deployment (backend/audit/), and the audit app sits
below accounts, so it cannot know organisations. Here, above both, an admin's view of it is narrowed to
events done by an account they manage (`users_for_admin`: their staff, their service users, those
people's carers) or about one of those accounts. Events by the system or by other organisations' staff
about other people stay out of sight. The chain check itself walks every event: the chain is only
whole as a whole, and its report names sequence numbers, not people.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from backend.accounts.models import User
from backend.accounts.selectors import users_for_admin
from backend.audit.models import AuditEvent

EXPORT_TYPES = ("evaluation.export", "evaluation.report")


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events_for_admin(admin: User) -> QuerySet[AuditEvent]:
    """Events done by, or about, an account `admin` manages (Forbidden for anyone but an admin)."""
    managed = users_for_admin(admin)
    managed_ids_as_text = managed.annotate(id_text=Cast("pk", CharField())).values("id_text")
    return AuditEvent.objects.filter(
        Q(actor__in=managed.values("pk")) | Q(object_type="accounts.user", object_id__in=managed_ids_as_text)
    )


def people_matching(admin: User, text: str) -> QuerySet[User]:
    """Accounts `admin` manages whose name or email contains `text`."""
    text = text.strip()
    return users_for_admin(admin).filter(Q(full_name__icontains=text) | Q(email__icontains=text) | Q(preferred_name__icontains=text))


def audit_search(admin: User, *, person: str = "", actor: str = "", date_from: date | None = None,
                 date_to: date | None = None) -> QuerySet[AuditEvent]:
    """The admin's events, newest first, narrowed by who they are about, who did them, and when."""
    events = audit_events_for_admin(admin)
    if person:
        ids = list(people_matching(admin, person).values_list("pk", flat=True)[:200])
        events = events.filter(object_type="accounts.user", object_id__in=[str(i) for i in ids])
    if actor:
        events = events.filter(actor__in=people_matching(admin, actor).values("pk"))
    if date_from:
        events = events.filter(occurred_at__gte=_start_of(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=_start_of(date_to + timedelta(days=1)))
    return events.order_by("-sequence")


def export_log(admin: User) -> QuerySet[AuditEvent]:
    """Every evaluation export and report made (or refused) by the admin's organisation's staff, newest first."""
    return audit_events_for_admin(admin).filter(object_type__in=EXPORT_TYPES).order_by("-sequence")
