"""The connection map and signposting sections of a person's own record (backend/accounts/records.py)."""

from backend.accounts.records import RecordSection
from backend.network.models import MapMember, MapSharing, MapSnapshot, Signpost


def member_rows(user) -> list[dict]:
    members = MapMember.objects.filter(map__service_user=user).order_by("circle", "label", "id")
    return [{
        "who or what": m.label, "kind": m.get_kind_display(), "circle": m.circle, "relationship": m.get_relationship_display(),
        "how often in touch": m.get_contact_frequency_display(), "illness-related support": m.illness_support,
        "everyday support": m.everyday_support, "emotional support": m.emotional_support,
    } for m in members]


def snapshot_rows(user) -> list[dict]:
    return [{
        "saved": s.taken_at.isoformat(), "where": s.get_setting_display(), "members": s.measures["size"],
        "on circle 1, 2, 3": ", ".join(str(s.measures["by_circle"][c]) for c in "123"), "note": s.note,
    } for s in MapSnapshot.objects.filter(map__service_user=user).order_by("taken_at", "id")]


def sharing_rows(user) -> list[dict]:
    return [{"care team can see it": s.care_team, "carers (account numbers)": ", ".join(map(str, s.carers)), "recorded": s.recorded_at.isoformat()}
            for s in MapSharing.objects.filter(service_user=user).order_by("recorded_at", "id")]


def signpost_rows(user) -> list[dict]:
    rows = []
    for s in Signpost.objects.filter(service_user=user).select_related("resource").prefetch_related("follow_ups").order_by("offered_on", "id"):
        latest = list(s.follow_ups.all())[-1:] or [None]
        rows.append({
            "service": s.resource.name, "offered": s.offered_on.isoformat(), "follow up on": s.follow_up_on.isoformat(),
            "how it went": latest[0].get_outcome_display() if latest[0] else "", "why not": latest[0].get_reason_display() if latest[0] else "",
        })
    return rows


SECTIONS = [
    RecordSection("network_members", "The people, groups, activities and places on your connection map", member_rows, order=40),
    RecordSection("network_snapshots", "Your saved connection maps", snapshot_rows, order=41),
    RecordSection("network_sharing", "Who you chose to share your connection map with", sharing_rows, order=42),
    RecordSection("signposts", "Services suggested to you, and how it went", signpost_rows, order=43),
]
