"""The consent section of a person's own record (backend/accounts/records.py)."""

from backend.accounts.records import RecordSection
from backend.consent.models import ConsentRecord, ModalityPreference


def consent_rows(user) -> list[dict]:
    records = ConsentRecord.objects.filter(service_user=user).select_related("purpose", "carer").order_by("recorded_at", "id")
    return [{
        "what": r.purpose.name, "decision": r.get_decision_display(), "carer": r.carer.full_name if r.carer else "",
        "how": r.get_method_display(), "note": r.note, "recorded": r.recorded_at.isoformat(),
    } for r in records]


def preference_rows(user) -> list[dict]:
    return [{
        "ranking, most preferred first": ", ".join(p.ranking), "reasons": ", ".join(p.reasons), "note": p.note,
        "wants help to get set up": p.wants_help, "recorded": p.recorded_at.isoformat(),
    } for p in ModalityPreference.objects.filter(service_user=user).order_by("recorded_at", "id")]


SECTIONS = [
    RecordSection("consent", "What you agreed to, and when (consent history)", consent_rows, order=20),
    RecordSection("preferences", "How you said you would like to be seen", preference_rows, order=21),
]
