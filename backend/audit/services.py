"""Writing audit events. Every service that reads or changes an identifiable record calls
`audit_record` inside its own transaction, so the change and its event commit together."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from backend.audit.actor import Actor
from backend.audit.chain import GENESIS_HASH, event_hash
from backend.audit.models import AuditEvent

# Any constant: the key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_262_773_318


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain. Give `obj`, or `object_type` and `object_id`."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    user = actor.user
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        sequence, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        fields = {
            "sequence": sequence,
            "occurred_at": timezone.now(),
            "actor_id": user.pk if user else None,
            "actor_email": user.email if user else "",
            "actor_role": user.role if user else "",
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "ip_address": actor.ip_address or "",
            "user_agent": actor.user_agent,
            "via": actor.via,
            "detail": detail or {},
            "prev_hash": prev_hash,
        }
        return AuditEvent.objects.create(hash=event_hash(**fields), **fields)


def audit_list(*, actor: Actor, object_type: str, ids: Iterable, detail: dict | None = None) -> AuditEvent:
    """One event for a list read, naming every record that was shown."""
    return audit_record(
        actor=actor, action=AuditEvent.Action.LIST, object_type=object_type,
        detail={"ids": [str(i) for i in ids], **(detail or {})},
    )
