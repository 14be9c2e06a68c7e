"""The questionnaire as a web form: one radio group per item, built from the instrument's rows."""

import uuid

from django import forms

from backend.core.limits import TEXT_MAX_LENGTH
from backend.outcomes.models import Instrument, Response
from backend.sessions.models import CourseOfCare

CLINICIAN_MODE_CHOICES = [
    (Response.Mode.CLINICIAN_PHONE, "They told me by phone"),
    (Response.Mode.IN_PERSON, "They told me in person"),
    (Response.Mode.PAPER, "They filled in a paper form"),
]


class QuestionnaireForm(forms.Form):
    """Every item must be answered here (the API takes incomplete answers for paper forms)."""

    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, instrument: Instrument, for_clinician: bool, corrects: Response | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        if not self.is_bound:
            self.initial["submission_key"] = uuid.uuid4().hex
        if corrects is not None:
            # The appointment already has answers to this questionnaire: these correct them (`replaces`).
            self.fields["replacement_reason"] = forms.CharField(
                label="Why are you correcting the earlier answers?", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                help_text="For example: the paper form was misread; the person changed an answer when we went through it.",
                error_messages={"required": "Say why the earlier answers are being corrected."},
            )
        if for_clinician:
            self.fields["mode"] = forms.ChoiceField(
                label="How did the person give these answers?", choices=CLINICIAN_MODE_CHOICES, widget=forms.RadioSelect,
                error_messages={"required": "Choose how the person gave their answers."},
            )
        choices = [(str(option.value), option.label) for option in instrument.options.all()]
        for item in instrument.items.all():
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=f"{item.number}. {item.text}", choices=choices, coerce=int, widget=forms.RadioSelect,
                error_messages={"required": f"Choose an answer for question {item.number}."},
            )

    def answers(self) -> dict[int, int]:
        return {item.number: self.cleaned_data[f"item_{item.number}"] for item in self.instrument.items.all()}

    def item_fields(self):
        return [self[f"item_{item.number}"] for item in self.instrument.items.all()]


class AcknowledgeForm(forms.Form):
    action_taken = forms.CharField(
        label="What did you do?", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
        help_text="For example: phoned them and reviewed their safety plan; discussed with the duty worker.",
        error_messages={"required": "Say what you did about this risk."},
    )


class CourseEndForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is the course ending?", choices=CourseOfCare.EndingReason.choices, widget=forms.RadioSelect,
        error_messages={"required": "Choose why the course is ending."},
    )
    note = forms.CharField(label="Anything to add (needed for another reason)", required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))
