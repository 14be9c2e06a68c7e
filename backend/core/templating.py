"""Template filters and tags every template has without `{% load %}` (TEMPLATES "builtins" in
settings): NHS-style times, and the care team's phone number wherever a page says to phone the team.

`{% phone_team %}` renders "your care team on <a href="tel:…">0113 496 0000</a>", or just "your care
team" when the team has no number. Which team: the one given (`{% phone_team appointment.team %}`),
else the page's `appointment`'s team, else `care_team` (backend/accounts/context_processors.py: a
service user's team that has a number). Core knows no models: it reads `phone_number` off whatever
team it is given.
"""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html

from backend.core.phone import phone_number_for_display
from backend.core.times import nhs_date, nhs_time, nhs_when

register = template.Library()
register.filter("nhs_time", nhs_time)
register.filter("nhs_when", nhs_when)
register.filter("nhs_date", nhs_date)
register.filter("phone", phone_number_for_display)  # a stored E.164 number as people write it


@register.filter
def minutes_since(value) -> str:
    """How long ago, in whole minutes, in words: "less than a minute", "1 minute", "12 minutes"."""
    if value is None:
        return ""
    minutes = int((timezone.now() - value).total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _team_from(context, team):
    if team:
        return team
    appointment = context.get("appointment")
    if appointment is not None and getattr(appointment, "team", None) is not None:
        return appointment.team
    return context.get("care_team")


@register.simple_tag(takes_context=True)
def phone_team(context, team=None, words="your care team"):
    """`words` followed by " on <number>" as a phone link, or `words` alone when there is no number."""
    team = _team_from(context, team)
    number = getattr(team, "phone_number", "") if team else ""
    if not number:
        return words
    return format_html('{} on <a class="phone-link" href="tel:{}">{}</a>', words, number, phone_number_for_display(number))


@register.simple_tag(takes_context=True)
def team_phone_number(context, team=None):
    """Just the number for display ("0113 496 0000"), or "" when the team has none."""
    team = _team_from(context, team)
    return phone_number_for_display(getattr(team, "phone_number", "")) if team else ""
