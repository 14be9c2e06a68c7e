"""The peer work pages' forms: the same limits as the API (core/limits.py), checked by the same services."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from backend.core.limits import validate_supported_date

from .models import SupervisionTopic


def show_error(form: forms.Form, error) -> None:
    """A service's refusal on the form: beside its field if the form has it, above the form otherwise."""
    form.add_error(error.field if error.field in form.fields else None, error.detail)


class SupervisionForm(forms.Form):
    who = forms.ChoiceField(label="Peer worker and team", help_text="Whose supervision this was, and the team it was about.")
    held_on = forms.DateField(label="Date of the supervision", help_text="For example 2026-11-27.", validators=[validate_supported_date],
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    topics = forms.MultipleChoiceField(label="What you talked about", choices=SupervisionTopic.choices, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": "Choose at least one topic."})
    actions = forms.CharField(label="Actions agreed", max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
                              help_text="Who will do what, and by when. Write 'none' if nothing was agreed.")
    notes = forms.CharField(label="Notes (optional)", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 4}),
                            help_text="Seen only by you and the peer worker. Never exported.")

    def __init__(self, *args, pairs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["who"].choices = [("", "Choose a peer worker")] + [
            (f"{m.user_id}:{m.team_id}", f"{m.user.full_name}, {m.team.name}") for m in pairs]
        self.fields["held_on"].initial = timezone.localdate()

    def pair(self) -> tuple[int, int]:
        peer_worker, team = self.cleaned_data["who"].split(":")
        return int(peer_worker), int(team)


NOT_ANSWERED = ""


class RatingForm(forms.Form):
    """One field per item of the loaded questionnaire, with its options; an item may be left unanswered."""

    rated_on = forms.DateField(label="Date", help_text="For example 2026-11-27.", validators=[validate_supported_date],
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, instrument=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rated_on"].initial = timezone.localdate()
        self.numbers = []
        if instrument is None:
            return
        options = [(str(o.value), o.label) for o in instrument.options.all()]
        for item in instrument.items.all():
            self.numbers.append(item.number)
            self.fields[f"item_{item.number}"] = forms.ChoiceField(
                label=f"{item.number}. {item.text}", choices=options, required=False, widget=forms.RadioSelect)

    def answers(self) -> dict[int, int | None]:
        return {n: (int(v) if (v := self.cleaned_data.get(f"item_{n}")) not in (None, NOT_ANSWERED) else None) for n in self.numbers}
