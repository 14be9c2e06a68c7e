"""Template filters for the admin pages."""

from datetime import datetime

from django import template
from django.utils import timezone

from backend.core.phone import phone_number_for_display

register = template.Library()


@register.filter
def nhs_time(value: datetime | None) -> str:
    """A time as the NHS style guide writes it: "10am", "2:30pm", "12pm" for midday (local time)."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


@register.filter
def phone(value: str) -> str:
    return phone_number_for_display(value)
