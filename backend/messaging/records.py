"""The messages section of a person's own record (backend/accounts/records.py): every message Rapport
sent or tried to send them, by which channel, when, and what became of it."""

from backend.accounts.records import RecordSection
from backend.messaging.models import Message


def message_rows(user) -> list[dict]:
    return [
        {
            "message": m.get_kind_display(), "sent by": m.get_channel_display(), "to": m.to,
            "to be sent": m.send_after.isoformat(), "sent": m.sent_at.isoformat() if m.sent_at else "",
            "what happened": m.get_status_display(), "why": m.status_reason,
            "appointment": m.appointment.starts_at.isoformat() if m.appointment_id else "",
        }
        for m in Message.objects.filter(recipient=user).select_related("appointment").order_by("send_after", "id")
    ]


SECTIONS = [RecordSection("messages", "Text messages and emails we sent you", message_rows, order=40)]
