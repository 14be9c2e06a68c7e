"""Simple measures of a map: how many members on each circle, of each kind, and which of GENIE's three
kinds of support (illness-related, everyday, emotional) the network covers (docs/network.md).

No network type is derived: no published typology we could find has rules that this map's data can
apply without inventing a mapping (docs/network.md, "Why no network type"). The map records no ties
between members, so graph measures (networkx) would say nothing the counts do not.
"""

from __future__ import annotations

from collections.abc import Iterable

SUPPORT_TYPES = ("illness_support", "everyday_support", "emotional_support")
SUPPORT_LABELS = {
    "illness_support": "Illness-related support",
    "everyday_support": "Everyday support",
    "emotional_support": "Emotional support",
}
KINDS = ("person", "group", "activity", "place", "professional")


def measures(members: Iterable[dict]) -> dict:
    """Counts of a list of members (dicts with kind, circle and the three support booleans)."""
    members = list(members)
    by_circle = {str(c): sum(1 for m in members if m["circle"] == c) for c in (1, 2, 3)}
    by_kind = {k: sum(1 for m in members if m["kind"] == k) for k in KINDS}
    support = {t: sum(1 for m in members if m[t]) for t in SUPPORT_TYPES}
    return {
        "size": len(members),
        "by_circle": by_circle,
        "by_kind": by_kind,
        "support_counts": support,
        "support_types_covered": [t for t in SUPPORT_TYPES if support[t]],
        "giving_no_support": sum(1 for m in members if not any(m[t] for t in SUPPORT_TYPES)),
    }


def member_facts(member) -> dict:
    """A MapMember as the plain facts a snapshot keeps (no account ids)."""
    return {
        "label": member.label, "kind": member.kind, "circle": member.circle, "relationship": member.relationship,
        "contact_frequency": member.contact_frequency, "illness_support": member.illness_support,
        "everyday_support": member.everyday_support, "emotional_support": member.emotional_support,
        "is_linked_carer": member.carer_id is not None,
    }
