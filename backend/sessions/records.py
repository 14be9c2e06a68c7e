"""The appointments section of a person's own record (backend/accounts/records.py)."""

from backend.accounts.records import RecordSection
from backend.sessions.models import Appointment


def appointment_rows(user) -> list[dict]:
    appointments = Appointment.objects.filter(service_user=user).select_related("team", "practitioner").order_by("starts_at", "id")
    return [{
        "when": a.starts_at.isoformat(), "team": a.team.name, "with": a.practitioner.display_name if a.practitioner else "",
        "kind": a.get_kind_display(), "status": a.get_status_display(),
        "your choice": a.get_chosen_modality_display(), "how it happened": a.get_delivered_modality_display(),
        "minutes": a.duration_minutes,
    } for a in appointments]


SECTIONS = [RecordSection("appointments", "Your appointments and the choices you made", appointment_rows, order=10)]
