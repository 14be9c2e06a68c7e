"""Times in the NHS style ("10am", "2:30pm", "12pm"): the NHS digital service manual's content style.

One helper for the server; the call page's script has the same rule (backend/static/rapport/call.js,
`timeNow`). Aware datetimes are shown in the current time zone (Europe/London).
"""

from __future__ import annotations

from datetime import datetime, time

from django.utils import timezone


def format_nhs_time(value: datetime | time | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.time()
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"
