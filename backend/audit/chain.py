"""The audit hash chain: how an event's hash is computed, in one place for writing and verifying."""

import hashlib
import json

GENESIS_HASH = "0" * 64


def event_hash(*, sequence, occurred_at, actor_id, actor_email, actor_role, action, object_type, object_id,
               ip_address, user_agent, via, detail, prev_hash) -> str:
    content = {
        "sequence": sequence,
        "occurred_at": occurred_at.isoformat(),
        "actor_id": actor_id,
        "actor_email": actor_email,
        "actor_role": actor_role,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "ip_address": ip_address,
        "user_agent": user_agent,
        "via": via,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def hash_of(event) -> str:
    """Recompute the hash of a stored AuditEvent from its stored content."""
    return event_hash(
        sequence=event.sequence, occurred_at=event.occurred_at, actor_id=event.actor_id,
        actor_email=event.actor_email, actor_role=event.actor_role, action=event.action,
        object_type=event.object_type, object_id=event.object_id, ip_address=event.ip_address,
        user_agent=event.user_agent, via=event.via, detail=event.detail, prev_hash=event.prev_hash,
    )
