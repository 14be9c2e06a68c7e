"""Forms for the staff's group pages. Who may be booked, capacity and consent are the services' rules; the
forms only turn the page's fields into the services' arguments (and say plainly what is missing)."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.conf import settings
from django.utils import timezone

from backend.core.limits import is_supported_date

from .models import GroupAttendee, GroupTeamSettings

class GroupBookForm(forms.Form):
    title = forms.CharField(label="Name of the group", max_length=200,
                            help_text="People see this name, for example “Managing anxiety” or “Carers' support group”.",
                            error_messages={"required": "Enter the name of the group.", "max_length": "Keep the name to 200 characters or fewer."})
    team = forms.TypedChoiceField(label="Team", coerce=int, error_messages={"required": "Choose the team.", "invalid_choice": "Choose one of your teams."})
    facilitator = forms.TypedChoiceField(label="Facilitator", coerce=int, help_text="A clinician or peer support worker of the team.",
                                         error_messages={"required": "Choose who runs the group.", "invalid_choice": "Choose someone in your teams."})
    co_facilitator = forms.TypedChoiceField(label="Co-facilitator (optional)", coerce=int, required=False, empty_value=None,
                                            error_messages={"invalid_choice": "Choose someone in your teams, or nobody."})
    date = forms.DateField(label="Date of the first meeting", widget=forms.DateInput(attrs={"type": "date"}),
                           error_messages={"required": "Enter the date.", "invalid": "Enter a real date, for example 7 December 2026."})
    time = forms.TimeField(label="Start time", widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M"),
                           error_messages={"required": "Enter the start time.", "invalid": "Enter a time, for example 14:30."})
    duration_minutes = forms.IntegerField(label="Length in minutes", min_value=15, max_value=240, initial=90,
                                          error_messages={"required": "Enter how long each meeting lasts, in minutes.",
                                                          "min_value": "A meeting lasts at least 15 minutes.",
                                                          "max_value": "A meeting can last at most 240 minutes (4 hours)."})
    repeat_weeks = forms.IntegerField(label="Number of weekly meetings", min_value=1, max_value=52, initial=1,
                                      help_text="1 for a single meeting; more for a weekly series (up to 52), same day and time each week.",
                                      error_messages={"required": "Enter how many meetings (1 for a single one).",
                                                      "min_value": "Enter 1 or more.", "max_value": "A series can have at most 52 meetings."})
    capacity = forms.IntegerField(label="Places", min_value=2,
                                  error_messages={"required": "Enter how many people the group holds.", "min_value": "A group holds at least 2 people."})
    people = forms.TypedMultipleChoiceField(label="People booked", coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
                                            help_text="You can add people later too.",
                                            error_messages={"invalid_choice": "Choose people from the list."})

    def __init__(self, *args, teams, practitioners, people, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.GROUP_CAPACITY_DEFAULT
        self.fields["capacity"].max_value = limit
        self.fields["capacity"].widget.attrs.update({"max": limit, "min": 2})
        self.fields["capacity"].validators.append(_at_most(limit))
        self.fields["capacity"].help_text = f"At most {limit}."
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]
        self.fields["facilitator"].choices = [(u.pk, f"{u.full_name} ({u.get_role_display().lower()})") for u in practitioners]
        self.fields["co_facilitator"].choices = [("", "Nobody"), *((u.pk, f"{u.full_name} ({u.get_role_display().lower()})") for u in practitioners)]
        self.fields["people"].choices = [(p.pk, label) for p, label in people]

    def clean_date(self):
        value = self.cleaned_data["date"]
        if not is_supported_date(value):
            raise forms.ValidationError("Enter a date between 1900 and 2100.")
        return value

    def clean(self):
        data = super().clean()
        if data.get("co_facilitator") and data.get("co_facilitator") == data.get("facilitator"):
            self.add_error("co_facilitator", "Choose someone other than the facilitator, or nobody.")
        if data.get("date") and data.get("time") and self.starts_at() <= timezone.now():
            self.add_error("date", "Choose a date and time in the future.")
        return data

    def starts_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"]))


def _at_most(limit: int):
    def check(value):
        if value is not None and value > limit:
            raise forms.ValidationError(f"A group holds at most {limit} people.")
    return check


class PeopleAddForm(forms.Form):
    people = forms.TypedMultipleChoiceField(label="People to add", coerce=int, widget=forms.CheckboxSelectMultiple,
                                            error_messages={"required": "Choose at least one person to add.",
                                                            "invalid_choice": "Choose people from the list."})
    whole_series = forms.BooleanField(label="Also book them into the later meetings of this series", required=False)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["people"].choices = [(p.pk, label) for p, label in people]


class UnbookForm(forms.Form):
    whole_series = forms.BooleanField(label="Also take them off the later meetings of this series", required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(label="Why it is cancelled", max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "Say why the meeting is cancelled.",
                                             "max_length": "Keep the reason to 500 characters or fewer."})
    whole_series = forms.BooleanField(label="Cancel the later meetings of this series too", required=False)


class AttendanceForm(forms.Form):
    attendance = forms.ChoiceField(label="Attendance", choices=[c for c in GroupAttendee.Attendance.choices if c[0]], widget=forms.RadioSelect,
                                   error_messages={"required": "Choose attended, left early or did not attend.",
                                                   "invalid_choice": "Choose attended, left early or did not attend."})
    minutes = forms.IntegerField(label="Minutes in the group", min_value=0, max_value=24 * 60, required=False,
                                 help_text="Leave empty to keep the time recorded.",
                                 error_messages={"min_value": "Enter 0 or more minutes.", "max_value": "Enter at most 1440 minutes (24 hours).",
                                                 "invalid": "Enter a whole number of minutes."})
    reason = forms.CharField(label="Why you are correcting it", max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "Say why the register is being corrected.",
                                             "max_length": "Keep the reason to 500 characters or fewer."})


class GroupSettingsForm(forms.Form):
    safety_check = forms.ChoiceField(label="Safety and privacy check in groups", choices=GroupTeamSettings.SafetyCheck.choices,
                                     widget=forms.RadioSelect,
                                     help_text="Before each person joins a group: are they somewhere private and safe, and can they be "
                                               "reached if the call drops?",
                                     error_messages={"required": "Choose who confirms the check.",
                                                     "invalid_choice": "Choose who confirms the check."})
