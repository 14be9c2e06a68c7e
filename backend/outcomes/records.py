"""The questionnaires section of a person's own record (backend/accounts/records.py)."""

from backend.accounts.records import RecordSection
from backend.outcomes.models import Response


def response_rows(user) -> list[dict]:
    responses = (Response.objects.filter(service_user=user).select_related("instrument")
                 .prefetch_related("answers__item").order_by("completed_at", "id"))
    return [{
        "questionnaire": r.instrument.name, "completed": r.completed_at.isoformat(), "status": r.get_status_display(),
        "score": str(r.score) if r.score is not None else "", "band": r.band,
        "answers": "; ".join(f"{a.item.number}: {'' if a.value is None else a.value}" for a in sorted(r.answers.all(), key=lambda a: a.item.number)),
    } for r in responses]


SECTIONS = [RecordSection("questionnaires", "Your questionnaire answers and scores", response_rows, order=30)]
