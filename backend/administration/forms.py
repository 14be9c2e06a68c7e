"""The admin pages' forms. They only collect and lay out what a person types: each page then checks it
with the API's own input serializer (`checked`) and calls the API's service, so a page and the API
accept and refuse exactly the same things and write through one code path."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as DRFValidationError

from backend.accounts.models import STAFF_ROLES, Role
from backend.core.errors import DomainError
from backend.outcomes.models import MeasureSchedule

STAFF_ROLE_CHOICES = [(role.value, role.label) for role in Role if role in STAFF_ROLES]


def checked(serializer_class: type[serializers.Serializer], data: dict, partial: bool = False) -> dict:
    """`data` validated by the API's input serializer; DRF's ValidationError if it refuses it."""
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _messages(value)]
    return [str(detail)]


def show_problem(form: forms.Form, problem: DRFValidationError | DomainError, rename: dict[str, str] | None = None) -> None:
    """Put the API's refusal on the form: each message beside the field it names (the serializer's or
    service's field name, or `rename` of it), or above the form when it names none of the form's fields."""
    rename = rename or {}

    def place(field: str | None, message: str) -> None:
        base = (field or "").split(".")[0]
        name = rename.get(base, base)
        form.add_error(name if name in form.fields else None, message)

    if isinstance(problem, DomainError):
        place(problem.field, problem.detail)
        return
    detail = problem.detail
    if isinstance(detail, dict):
        for field, value in detail.items():
            for message in _messages(value):
                place(None if field == "non_field_errors" else str(field), message)
    else:
        for message in _messages(detail):
            place(None, message)


# --- Teams ---------------------------------------------------------------------------------------
class TeamForm(forms.Form):
    name = forms.CharField(label="Team name", max_length=200, error_messages={"required": "Enter the team's name."})
    service = forms.CharField(label="Kind of service", max_length=200, help_text="For example: Talking therapies.",
                              error_messages={"required": "Enter the kind of service, for example Talking therapies."})
    site = forms.CharField(label="Site", max_length=200, help_text="Where the team is based.",
                           error_messages={"required": "Enter where the team is based."})
    phone_number = forms.CharField(
        label="Team phone number", max_length=32, required=False,
        help_text="The number people phone the team on. Shown wherever a page tells someone to phone their team.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    face_to_face_address = forms.CharField(
        label="Address for face-to-face appointments", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    opening_hours = forms.CharField(label="Opening hours", max_length=200, required=False,
                                    help_text="When the phone is answered, for example: Monday to Friday, 9am to 5pm.")


class TeamSettingsForm(forms.Form):
    safety_check_required = forms.BooleanField(
        label="Clinicians record a safety and privacy check before every remote session", required=False,
    )
    choice_cutoff_hours = forms.IntegerField(
        label="Hours before an appointment that people can still choose how to be seen", min_value=0, max_value=24 * 14,
        help_text="Between 0 and 336 (two weeks).", error_messages={"required": "Enter a number of hours, for example 24."},
    )


class ScheduleForm(forms.Form):
    instrument = forms.ChoiceField(label="Questionnaire", error_messages={"required": "Choose a questionnaire."})
    when = forms.ChoiceField(label="When to ask", choices=MeasureSchedule.When.choices, widget=forms.RadioSelect,
                             error_messages={"required": "Choose when the team asks for it."})

    def __init__(self, *args, instruments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = [("", "Choose a questionnaire")] + [(i.code, f"{i.name}: {i.title}") for i in instruments]


class PersonChoiceForm(forms.Form):
    """Choose one person from a list (a practitioner for a team, a service user for a caseload)."""

    person = forms.TypedChoiceField(coerce=int, error_messages={"required": "Choose someone from the list."})

    def __init__(self, *args, label: str, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].label = label
        self.fields["person"].choices = [("", "Choose")] + [(p.pk, f"{p.full_name} ({p.email})") for p in people]


class TeamChoiceForm(forms.Form):
    team = forms.TypedChoiceField(coerce=int, error_messages={"required": "Choose a team."})

    def __init__(self, *args, label: str, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].label = label
        self.fields["team"].choices = [("", "Choose a team")] + [(t.pk, t.name) for t in teams]


# --- People --------------------------------------------------------------------------------------
class PersonForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=200, error_messages={"required": "Enter their full name."})
    preferred_name = forms.CharField(label="What they like to be called (optional)", max_length=100, required=False)
    email = forms.EmailField(label="Email address", help_text="They log in with it, and their invitation goes to it.",
                             error_messages={"required": "Enter their email address.", "invalid": "Enter an email address like name@example.org."},
                             widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    phone_number = forms.CharField(label="Phone number (optional)", max_length=32, required=False,
                                   widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))


class StaffForm(PersonForm):
    role = forms.ChoiceField(label="Role", choices=STAFF_ROLE_CHOICES, widget=forms.RadioSelect,
                             error_messages={"required": "Choose their role."})


class StaffDetailsForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=200, error_messages={"required": "Enter their full name."})
    preferred_name = forms.CharField(label="What they like to be called (optional)", max_length=100, required=False)
    phone_number = forms.CharField(label="Phone number (optional)", max_length=32, required=False,
                                   widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))
    role = forms.ChoiceField(label="Role", choices=STAFF_ROLE_CHOICES, widget=forms.RadioSelect,
                             help_text="A clinician or peer worker who becomes an evaluator or admin leaves their teams.",
                             error_messages={"required": "Choose their role."})


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Send the invitation to", max_length=254,
                             help_text="Their account's email address becomes this one, and they log in with it.",
                             error_messages={"required": "Enter the email address to send the invitation to.",
                                             "invalid": "Enter an email address like name@example.org."},
                             widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}))


# --- Consent -------------------------------------------------------------------------------------
class WordingForm(forms.Form):
    text = forms.CharField(label="The new wording", max_length=20_000, widget=forms.Textarea(attrs={"rows": 8}),
                           help_text="Exactly as people will read it or have it read to them.",
                           error_messages={"required": "Enter the new wording."})
    effective_from = forms.DateField(label="Takes effect on", help_text="Today or later, for example 2027-01-31.",
                                     widget=forms.DateInput(attrs={"type": "date"}),
                                     error_messages={"required": "Enter the date it takes effect.", "invalid": "Enter a date like 2027-01-31."})
    requires_reconsent = forms.BooleanField(
        label="Everyone must agree again to this new wording", required=False,
        help_text="From the day it takes effect, agreements to earlier wordings stop counting until the person agrees again.",
    )


class PurposeForm(forms.Form):
    code = forms.SlugField(label="Short code", max_length=64, help_text="Lower-case letters, numbers and underscores, for example research_contact. It never changes.",
                           error_messages={"required": "Enter a short code.", "invalid": "Use only lower-case letters, numbers, hyphens and underscores."})
    name = forms.CharField(label="Name", max_length=200, error_messages={"required": "Enter a name."})
    description = forms.CharField(label="What agreeing means, in plain words", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
                                  error_messages={"required": "Say what agreeing means."})
    names_a_carer = forms.BooleanField(label="People agree to this for each carer separately", required=False)


# --- Local questionnaires ------------------------------------------------------------------------
_OPTION = re.compile(r"^\s*(-?\d+)\s*=\s*(.+?)\s*$")
_BAND = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:-|to)\s*(-?\d+(?:\.\d+)?)\s*=\s*(.+?)\s*$")


def _lines(text: str) -> list[str]:
    return [line for line in (text or "").splitlines() if line.strip()]


class QuestionnaireForm(forms.Form):
    """A local questionnaire in plain text boxes, turned into the API's InstrumentCreateInput."""

    code = forms.SlugField(label="Short code", max_length=40, help_text="Lower-case letters and numbers, for example wellbeing5. It never changes.",
                           error_messages={"required": "Enter a short code.", "invalid": "Use only lower-case letters, numbers, hyphens and underscores."})
    name = forms.CharField(label="Short name", max_length=80, error_messages={"required": "Enter a short name."})
    title = forms.CharField(label="Full title", max_length=200, error_messages={"required": "Enter the full title."})
    stem = forms.CharField(label="Instructions shown above the questions", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": "Enter the instructions."})
    items = forms.CharField(
        label="Questions, one per line", widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Start a line with R: when a higher answer means better (it is reverse scored).",
        error_messages={"required": "Enter at least one question."},
    )
    options = forms.CharField(
        label="Answers, one per line, as score = words", widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example: 0 = Not at all. Every question has these answers.", error_messages={"required": "Enter the answers."},
    )
    bands = forms.CharField(
        label="Bands, one per line, as lowest to highest = words (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: 0 to 4 = Low. Together they must cover every possible total.",
    )
    higher_is_worse = forms.TypedChoiceField(
        label="Does a higher total mean things are worse?", choices=[("true", "Yes, higher is worse"), ("false", "No, higher is better")],
        coerce=lambda value: value == "true", widget=forms.RadioSelect, error_messages={"required": "Say whether a higher total is worse."},
    )
    max_missing_items = forms.IntegerField(label="How many questions may be left unanswered and still score", min_value=0, initial=0,
                                           error_messages={"required": "Enter a number, 0 if every question must be answered."})

    def clean_items(self) -> list[dict]:
        items = []
        for number, line in enumerate(_lines(self.cleaned_data["items"]), start=1):
            reverse = line.lstrip().upper().startswith("R:")
            items.append({"number": number, "text": line.strip()[2:].strip() if reverse else line.strip(), "reverse_keyed": reverse})
        if not items:
            raise forms.ValidationError("Enter at least one question.")
        return items

    def clean_options(self) -> list[dict]:
        options = []
        for line in _lines(self.cleaned_data["options"]):
            match = _OPTION.match(line)
            if not match:
                raise forms.ValidationError(f"“{line.strip()[:60]}” is not score = words, for example 0 = Not at all.")
            options.append({"value": int(match[1]), "label": match[2]})
        return options

    def clean_bands(self) -> list[dict]:
        bands = []
        for line in _lines(self.cleaned_data.get("bands", "")):
            match = _BAND.match(line)
            if not match:
                raise forms.ValidationError(f"“{line.strip()[:60]}” is not lowest to highest = words, for example 0 to 4 = Low.")
            try:
                bands.append({"lower": Decimal(match[1]), "upper": Decimal(match[2]), "label": match[3]})
            except InvalidOperation:
                raise forms.ValidationError(f"“{line.strip()[:60]}” does not have numbers for its lowest and highest totals.") from None
        return bands


# --- The historic import -------------------------------------------------------------------------
class ImportForm(forms.Form):
    team = forms.TypedChoiceField(label="The team whose records these are", coerce=int, error_messages={"required": "Choose a team."})
    file = forms.FileField(label="The CSV file", help_text="Saved as CSV UTF-8, in the format of docs/import.md.",
                           error_messages={"required": "Choose the CSV file to check.", "empty": "The file is empty."})

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "Choose a team")] + [(t.pk, t.name) for t in teams]


# --- The audit trail ------------------------------------------------------------------------------
class AuditSearchForm(forms.Form):
    person = forms.CharField(label="About this person (name or email)", max_length=254, required=False)
    actor = forms.CharField(label="Done by (name or email)", max_length=254, required=False)
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"invalid": "Enter a date like 2026-11-30."})
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                              error_messages={"invalid": "Enter a date like 2026-11-30."})

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data
