"""The messages dataset: one row per message about an appointment of a consenting person, pseudonymised,
with no content, number or address: did reminders go with fewer non-attendances, by modality?"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from backend.evaluation.dictionary import MESSAGES
from backend.evaluation.pseudonyms import appointment_ref, pseudonym
from backend.messaging import services
from backend.messaging.models import Message
from backend.sessions.models import Appointment
from tests.evaluation.test_exports import csv_rows, unzip

URL = "/api/v1/evaluation/exports/"
BODY = "Reminder: your appointment with the North team is tomorrow at 2pm. Secret words 12 Acacia Avenue."


def _message(appointment: Appointment, *, kind: str, status: str, hours_before: float) -> Message:
    message = services.message_queue(
        recipient=appointment.service_user, organisation=appointment.team.organisation, team=appointment.team, appointment=appointment,
        kind=kind, channel="sms", to="+447700900321", sender_name="North team", body=BODY,
        send_after=appointment.starts_at - timedelta(hours=hours_before),
    )
    Message.objects.filter(pk=message.pk).update(status=status, attempts=1,
                                                 sent_at=message.send_after + timedelta(minutes=6) if status != "cancelled" else None)
    return message


def test_messages_are_exported_without_content_for_consenting_people_only(cohort, api):
    Message.objects.all().delete()  # the cohort's bookings queued their own (failed: no sender name); count only these
    everyones = list(Appointment.objects.filter(service_user__in=[*cohort.people, cohort.refuser]))
    assert any(a.service_user_id == cohort.refuser.pk for a in everyones)
    for appointment in everyones:
        _message(appointment, kind="reminder", status="delivered", hours_before=24)
    consenting = [a for a in everyones if a.service_user_id != cohort.refuser.pk]
    first = consenting[0]
    _message(first, kind="confirmation", status="failed", hours_before=24 * 7)

    response = api(cohort.world.evaluator).post(URL, {"dataset": "messages", "format": "csv", "dates": "exact"}, format="json")
    files = unzip(response)
    rows = csv_rows(files["messages.csv"])
    assert list(rows[0]) == MESSAGES.names
    assert len(rows) == len(consenting) + 1  # the refuser's messages are left out
    people = {pseudonym(p.pk) for p in cohort.people}
    assert {r["person"] for r in rows} <= people and pseudonym(cohort.refuser.pk) not in {r["person"] for r in rows}
    ours = [r for r in rows if r["appointment"] == appointment_ref(first.pk)]
    assert sorted((r["kind"], r["status"], r["hours_before_appointment"], r["channel"]) for r in ours) == [
        ("confirmation", "failed", "168", "sms"), ("reminder", "delivered", "24", "sms")]
    reminder = next(r for r in ours if r["kind"] == "reminder")
    assert reminder["sent_hours_before_appointment"] == "23.9" and reminder["attempts"] == "1"
    statuses = {r["appointment_status"] for r in rows}
    assert statuses <= {"attended", "did_not_attend", "cancelled", "open"} and "attended" in statuses
    assert {r["appointment_modality"] for r in rows} <= {"video", "phone", "face_to_face", ""}
    everything = b"".join(files.values()).decode(errors="replace")
    assert "Acacia" not in everything and "+447700900321" not in everything and "North team is tomorrow" not in everything
