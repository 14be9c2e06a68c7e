"""The map and signposting pages' forms. They collect what a person types; the services check it
(the same checks as the API), and a refusal is shown beside the field it names."""

from __future__ import annotations

from django import forms
from datetime import timedelta

from django.utils import timezone

from backend.network.models import Category, MapMember, MapSnapshot, SignpostFollowUp

CIRCLE_CHOICES = [(1, "1: closest, most important"), (2, "2: important"), (3, "3: less close, still part of my life")]


def show_error(form: forms.Form, error) -> None:
    """A service's refusal on the form: beside its field if the form has it, above the form otherwise."""
    form.add_error(error.field if error.field in form.fields else None, error.detail)


class StartForm(forms.Form):
    care_team = forms.BooleanField(
        label="The person agrees that their care team can see this map and change it with them", required=True,
        error_messages={"required": "Tick this to build the map together. Without it, the person can start it on their own."},
    )


class OwnStartForm(forms.Form):
    care_team = forms.BooleanField(label="Share my map with my care team", required=False, initial=True,
                                   help_text="They can then look at it and change it with you. You can stop this at any time.")


class MemberForm(forms.Form):
    label = forms.CharField(label="Who or what", max_length=60, help_text="A first name, a nickname or a word like 'Mum' or 'Football' is enough.",
                            error_messages={"required": "Say who or what this is."})
    kind = forms.ChoiceField(label="What is it", choices=MapMember.Kind.choices, widget=forms.RadioSelect,
                             error_messages={"required": "Choose what it is."})
    circle = forms.TypedChoiceField(label="How important", choices=CIRCLE_CHOICES, coerce=int, widget=forms.RadioSelect,
                                    error_messages={"required": "Choose a circle: 1, 2 or 3.", "invalid_choice": "Choose a circle: 1, 2 or 3."})
    relationship = forms.ChoiceField(label="Relationship (for people)", choices=[("", "Not a person, or prefer not to say"), *MapMember.Relationship.choices],
                                     required=False)
    contact_frequency = forms.ChoiceField(label="How often are you in touch", choices=MapMember.Frequency.choices, widget=forms.RadioSelect,
                                          error_messages={"required": "Choose how often you are in touch."})
    illness_support = forms.BooleanField(label="Helps with my illness (medicines, appointments, symptoms)", required=False)
    everyday_support = forms.BooleanField(label="Helps with everyday things (shopping, lifts, money, chores)", required=False)
    emotional_support = forms.BooleanField(label="Gives emotional support (listens, someone to talk to)", required=False)
    carer_id = forms.TypedChoiceField(label="Is this a carer linked in Rapport?", coerce=int, required=False, empty_value=None)

    def __init__(self, *args, carers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carer_id"].choices = [("", "No"), *((c.pk, c.display_name) for c in carers)]
        if not carers:
            del self.fields["carer_id"]


class InterestsForm(forms.Form):
    interests = forms.MultipleChoiceField(label="What interests you", choices=Category.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                          help_text="Things you enjoy or would like to try.")
    needs = forms.MultipleChoiceField(label="What you would like help with", choices=Category.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    postcode_district = forms.CharField(label="The first part of your postcode (optional)", max_length=8, required=False,
                                        help_text="For example LS6. It finds things near you; leave it empty to see only online and national ones.")


class SharingForm(forms.Form):
    care_team = forms.BooleanField(label="My care team can see my map and change it with me", required=False)
    carer_ids = forms.TypedMultipleChoiceField(label="Carers who can see my map", coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
                                               help_text="They can look at it, not change it.")

    def __init__(self, *args, carers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carer_ids"].choices = [(c.pk, c.display_name) for c in carers]
        if not carers:
            del self.fields["carer_ids"]


class SnapshotForm(forms.Form):
    setting = forms.ChoiceField(label="Where was this map made", choices=MapSnapshot.Setting.choices, widget=forms.RadioSelect,
                                error_messages={"required": "Say where the map was made."})
    note = forms.CharField(label="Note (optional)", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SignpostForm(forms.Form):
    resource_id = forms.IntegerField(widget=forms.HiddenInput)
    follow_up_on = forms.DateField(label="When to ask how it went", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                   error_messages={"required": "Choose a date to follow up.", "invalid": "Give the date as a day, month and year."})
    from_suggestions = forms.BooleanField(required=False, initial=True, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["follow_up_on"].initial = timezone.localdate() + timedelta(days=14)


class FollowUpForm(forms.Form):
    outcome = forms.ChoiceField(label="What happened", choices=SignpostFollowUp.Outcome.choices, widget=forms.RadioSelect,
                                error_messages={"required": "Say what happened."})
    reason = forms.ChoiceField(label="If they did not go, why", choices=[("", "Choose a reason"), *SignpostFollowUp.Reason.choices], required=False)
    happened_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                  error_messages={"required": "Give the date.", "invalid": "Give the date as a day, month and year."})
    note = forms.CharField(label="Note (optional)", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["happened_on"].initial = timezone.localdate()
