"""Writing audit events. Every service that reads or changes an identifiable record calls
`audit_record`; reads through the API and pages are recorded by `backend/audit/reads.py` as well.

Events are appended at commit, not when recorded: inside a transaction, `audit_record` only collects
the event, and when the outermost transaction commits all of its events are appended to the chain in
ONE statement, under the chain's advisory lock, in a short transaction of their own. So a long
transaction (a 1,000-row import) never holds the chain's lock, and other requests' appends do not
wait for it. A transaction that rolls back writes none of its events (nor does a rolled-back savepoint
write the events recorded inside it), as the change they describe never happened. Outside any
transaction (autocommit), the event is appended at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from backend.audit.actor import Actor
from backend.audit.chain import GENESIS_HASH, event_hash
from backend.audit.models import AuditEvent

# Any constant: the key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_262_773_318

# While set (by `audit_summarised`), events are gathered into this list instead of being appended.
_summarising: ContextVar[list[dict] | None] = ContextVar("audit_summarising", default=None)
# While set (by the read-audit middleware), every event recorded names its object here.
_request_objects: ContextVar[list[tuple[str, str]] | None] = ContextVar("audit_request_objects", default=None)


_LAST_EVENT_SQL = 'SELECT "sequence", "hash" FROM "audit_auditevent" ORDER BY "sequence" DESC LIMIT 1'


def _lock_chain_and_read_last() -> tuple[int, str] | None:
    """Take the chain's lock, then read its last event: one round trip on PostgreSQL (two statements
    sent together; the SELECT runs after the lock is granted, with a snapshot of its own, so it sees
    the event appended by whoever held the lock before)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT pg_advisory_xact_lock(%s); {_LAST_EVENT_SQL}", [_CHAIN_LOCK_KEY])
            cursor.nextset()
        else:
            cursor.execute(_LAST_EVENT_SQL)
        return cursor.fetchone()


def _append(batch: list[dict]) -> None:
    """Append events to the chain: one INSERT, under the chain's lock, in a transaction of its own
    (held for milliseconds: the lock is released at its commit), or as the last statements of the
    caller's transaction (`audit_append_pending`)."""
    if not batch:
        return
    # No savepoint: outside a transaction this is the append's own; inside one, it is the caller's.
    with transaction.atomic(savepoint=False):
        last = _lock_chain_and_read_last()
        sequence, prev_hash = (last[0], last[1]) if last else (0, GENESIS_HASH)
        rows = []
        for content in batch:
            sequence += 1
            fields = {**content, "sequence": sequence, "prev_hash": prev_hash}
            prev_hash = event_hash(**fields)
            rows.append({**fields, "hash": prev_hash})
        _insert(rows)


# The events' INSERT, written from the model's columns once per process, each value prepared by its field
# as Django's own INSERT prepares it (`get_db_prep_save`). bulk_create built and compiled the same
# statement on every append (a third of a millisecond of CPU, on every audited request), and made
# model objects nobody used.
_EVENT_FIELDS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
_INSERT_EVENTS = (f"INSERT INTO {connection.ops.quote_name(AuditEvent._meta.db_table)}"
                  f" ({', '.join(connection.ops.quote_name(f.column) for f in _EVENT_FIELDS)}) VALUES ")
_EVENT_VALUES = f"({', '.join(['%s'] * len(_EVENT_FIELDS))})"


def _insert(rows: list[dict]) -> None:
    # As many events per statement as the database takes parameters (SQLite's limit can be 999).
    per_insert = min(500, (connection.features.max_query_params or 65535) // len(_EVENT_FIELDS))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_insert):
            chunk = rows[start:start + per_insert]
            cursor.execute(_INSERT_EVENTS + ", ".join([_EVENT_VALUES] * len(chunk)),
                           [field.get_db_prep_save(row[field.attname], connection) for row in chunk for field in _EVENT_FIELDS])


class _CommitBatch:
    """The events of one transaction, appended together once it has committed. It is kept last among
    the transaction's on-commit callbacks, so it runs after every `_Collect` that survived."""

    def __init__(self) -> None:
        self.ready: list[dict] = []

    def __call__(self) -> None:
        ready, self.ready = self.ready, []
        _append(ready)


class _Collect:
    """One event's on-commit callback. Django drops it if its savepoint (or the whole transaction)
    rolls back, so an event is appended only if the change it records committed."""

    def __init__(self, batch: _CommitBatch, content: dict) -> None:
        self.batch, self.content = batch, content

    def __call__(self) -> None:
        self.batch.ready.append(self.content)


def _in_callers_transaction() -> bool:
    if not connection.in_atomic_block:
        return False
    # A Django test case's own transaction never commits (it is rolled back after the test), so it
    # is treated like autocommit: the event is appended at once, inside it (as Django's own
    # `durable` check ignores these blocks). Production code never sets `_from_testcase`.
    return not getattr(connection.atomic_blocks[0], "_from_testcase", False)


def _defer(content: dict) -> None:
    """Collect the event for the current transaction's commit."""
    pending = connection.run_on_commit  # (savepoint ids, callback, robust): Django's own list
    batch = next((func for _, func, _ in pending if isinstance(func, _CommitBatch)), None) or _CommitBatch()
    transaction.on_commit(_Collect(batch, content))
    # Keep the batch's append last, and outside every savepoint (so no rollback of a savepoint drops it).
    pending[:] = [entry for entry in pending if entry[1] is not batch] + [(set(), batch, False)]


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict | None = None,
) -> None:
    """Record one event: appended to the chain when the caller's transaction commits (at once
    outside a transaction). Give `obj`, or `object_type` and `object_id`."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    user = actor.user
    content = {
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
    }
    named = _request_objects.get()
    if named is not None:
        named.append((object_type, str(object_id)))
    summary = _summarising.get()
    if summary is not None:
        summary.append(content)
    elif _in_callers_transaction():
        _defer(content)
    else:
        _append([content])


def audit_append_pending() -> None:
    """Append the events the current transaction has recorded so far, now, inside it. A short
    service calls this as the last statement of its transaction (`response_submit`): the chain's
    lock is then held from this append to the COMMIT that follows at once, as the append's own
    transaction would hold it, but the event commits WITH its change (no crash window) and the
    append's own BEGIN and COMMIT are saved (two round trips). Only in the outermost transaction
    block: inside a caller's longer transaction it does nothing, and the events wait for its commit
    as usual (the lock must never be held through someone else's long transaction)."""
    if not _in_callers_transaction() or len(connection.atomic_blocks) != 1:
        return
    pending = connection.run_on_commit
    batch = next((func for _, func, _ in pending if isinstance(func, _CommitBatch)), None)
    if batch is None:
        return
    mine = [func for _, func, _ in pending if isinstance(func, _Collect) and func.batch is batch]
    pending[:] = [entry for entry in pending if entry[1] is not batch and entry[1] not in mine]
    _append([collect.content for collect in mine])


def audit_list(*, actor: Actor, object_type: str, ids: Iterable, detail: dict | None = None) -> None:
    """One event for a list read, naming every record that was shown."""
    audit_record(
        actor=actor, action=AuditEvent.Action.LIST, object_type=object_type,
        detail={"ids": [str(i) for i in ids], **(detail or {})},
    )


@contextlib.contextmanager
def audit_summarised() -> Iterator[list[dict]]:
    """Gather the events the services called inside record, instead of recording each: for a bulk
    action (a historic import) that then records one summary event naming what was done. Yields the
    list of gathered events (their object_type, object_id, action and detail)."""
    gathered: list[dict] = []
    token = _summarising.set(gathered)
    try:
        yield gathered
    finally:
        _summarising.reset(token)


@contextlib.contextmanager
def audit_objects_named() -> Iterator[list[tuple[str, str]]]:
    """Collect the (object_type, object_id) of every event recorded inside (the read-audit middleware
    uses it to see whether a view recorded its read itself)."""
    named: list[tuple[str, str]] = []
    token = _request_objects.set(named)
    try:
        yield named
    finally:
        _request_objects.reset(token)
