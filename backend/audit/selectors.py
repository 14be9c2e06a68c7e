"""Queries over the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from backend.audit.chain import GENESIS_HASH, hash_of
from backend.audit.models import AuditEvent


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    broken_at: int | None = None  # the sequence number of the first event that does not fit
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def audit_chain_verify(*, batch_size: int = 2000) -> ChainReport:
    """Walk the chain from the first event and report the first broken link, if any."""
    expected_sequence, expected_prev = 1, GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=batch_size):
        if event.sequence != expected_sequence:
            return ChainReport(checked, expected_sequence, f"event #{expected_sequence} is missing (next found is #{event.sequence})")
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.sequence, "its previous-hash does not match the event before it")
        if hash_of(event) != event.hash:
            return ChainReport(checked, event.sequence, "its content does not match its hash: the row was changed")
        checked += 1
        expected_sequence, expected_prev = event.sequence + 1, event.hash
    return ChainReport(checked)
