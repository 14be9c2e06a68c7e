"""{% waiting_room_panels appointment person %}: renders what higher layers add to the waiting room."""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from backend.core.nhs_time import format_nhs_time
from backend.sessions.hooks import waiting_room_panels as panels_for

register = template.Library()


@register.simple_tag(takes_context=True)
def waiting_room_panels(context, appointment, person):
    request = context.get("request")
    # Safe: each panel is rendered by its own template, which escapes its own data.
    return mark_safe("".join(render_to_string(p.template, p.context, request=request) for p in panels_for(person, appointment)))  # noqa: S308


@register.filter
def nhs_time(value):
    """A time as the NHS writes it: "10am", "2:30pm", "12pm" (backend/core/nhs_time.py)."""
    return format_nhs_time(value)
