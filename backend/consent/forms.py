"""Forms for the consent pages. They check what a person typed or pressed; the rules about consent
itself (current wording, who may record, what can be withdrawn) stay in services.py."""

from __future__ import annotations

from django import forms

from backend.consent.models import Access, ConsentRecord, Modality, ModalityReason
from backend.consent.selectors import ConsentState
from backend.core.limits import BIGINT_MAX

D = ConsentRecord.Decision


def first_error(form: forms.Form) -> str:
    """The first problem with a form, for a page that answers with a message rather than the form again."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return "Something was missing. Try again."


class ConsentDecisionForm(forms.Form):
    """One press of "I agree" or "Stop agreeing" on the consent page.

    `wording_version` is the version the person was shown, so if the wording changed while they were
    reading, the service refuses and they are asked to read the new one.
    """

    purpose = forms.SlugField(max_length=64)
    decision = forms.ChoiceField(choices=[(D.GIVEN, "I agree"), (D.WITHDRAWN, "Stop agreeing")])
    wording_version = forms.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)
    carer = forms.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)
    share_outcomes = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("decision") == D.GIVEN and data.get("wording_version") is None:
            raise forms.ValidationError("The page did not say which wording you read. Read it again below, then press I agree.")
        return data


RANK_CHOICES = [("", "Choose one"), *Modality.choices]

# The reasons as a person says them about themselves (the model's labels describe them to staff).
REASONS_IN_MY_WORDS = {
    ModalityReason.NO_PRIVATE_SPACE: "I have no private space at home",
    ModalityReason.NO_SUITABLE_DEVICE: "I have no suitable phone, tablet or computer",
    ModalityReason.POOR_CONNECTION: "My internet connection is poor",
    ModalityReason.PREFERS_IN_PERSON: "I prefer to meet in person",
    ModalityReason.FITS_AROUND_COMMITMENTS: "It is easier to fit around work or caring",
    ModalityReason.ACCESSIBILITY_NEEDS: "I have accessibility needs",
    ModalityReason.TRAVEL_ANXIETY: "Travelling makes me anxious",
    ModalityReason.TRAVEL_COST_OR_DISTANCE: "Travel costs too much or is too far",
    ModalityReason.FEELS_SAFER_AT_HOME: "I feel safer or more comfortable at home",
    ModalityReason.OTHER: "Another reason (say more in the note below)",
}
REASON_CHOICES = [(code, REASONS_IN_MY_WORDS.get(code, label)) for code, label in ModalityReason.choices]
ACCESS_REQUIRED = "Answer this question: choose Yes, No or Not sure."


def _rank(label: str, place: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=RANK_CHOICES,
        error_messages={"required": f"Choose your {place} choice: video call, phone call or face to face."},
    )


def _access(label: str) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=Access.choices, widget=forms.RadioSelect, error_messages={"required": ACCESS_REQUIRED})


class PreferenceForm(forms.Form):
    """How a person would like to be seen: an order of all three ways, why, and what they have for video."""

    first_choice = _rank("First choice", "first")
    second_choice = _rank("Second choice", "second")
    third_choice = _rank("Third choice", "third")
    reasons = forms.MultipleChoiceField(
        label="Why? Tick any that apply (optional)", choices=REASON_CHOICES, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label="Anything else your care team should know (optional)", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="If you ticked 'Another reason', say a little about it here.",
    )
    has_suitable_device = _access("Do you have a phone, tablet or computer that can make video calls?")
    has_enough_data = _access("Do you have enough mobile data or broadband for a video call?")
    has_private_space = _access("Do you have a private space where you can talk without being overheard?")
    confident_using = _access("Do you feel confident using video calls?")
    wants_help = forms.BooleanField(label="I would like help getting set up", required=False)

    RANK_FIELDS = ("first_choice", "second_choice", "third_choice")
    ACCESS_FIELDS = ("has_suitable_device", "has_enough_data", "has_private_space", "confident_using")

    @classmethod
    def initial_from(cls, preference) -> dict:
        """The form filled in with a person's current preference (empty if they have none)."""
        if preference is None:
            return {}
        initial = dict(zip(cls.RANK_FIELDS, preference.ranking))
        initial.update({name: getattr(preference, name) for name in cls.ACCESS_FIELDS})
        initial.update(reasons=preference.reasons, note=preference.note, wants_help=preference.wants_help)
        return initial

    def clean(self):
        data = super().clean()
        seen = set()
        for name in self.RANK_FIELDS:
            choice = data.get(name)
            if not choice:
                continue
            if choice in seen:
                self.add_error(
                    name,
                    f"You chose {Modality(choice).label.lower()} twice. Put video call, phone call and face to face "
                    "in your order, each one once.",
                )
            seen.add(choice)
        return data

    def service_arguments(self) -> dict:
        """What `preference_set` needs, from a valid form."""
        data = self.cleaned_data
        return {
            "ranking": [data[name] for name in self.RANK_FIELDS],
            "reasons": list(data["reasons"]),
            "note": data["note"],
            "wants_help": data["wants_help"],
            **{name: data[name] for name in self.ACCESS_FIELDS},
        }


class VerbalConsentForm(forms.Form):
    """A clinician recording a decision the person gave them in words (by phone, or face to face).

    `subject` is one consent state: a purpose, and the carer for purposes that name one. An empty
    wording version means the current one, as shown on the page.
    """

    subject = forms.ChoiceField(label="What they decided about", error_messages={"required": "Choose what they decided about."})
    decision = forms.ChoiceField(
        label="What they decided", widget=forms.RadioSelect,
        choices=[(D.GIVEN, "They agreed"), (D.REFUSED, "They said no"), (D.WITHDRAWN, "They stopped agreeing")],
        error_messages={"required": "Choose what they decided."},
    )
    wording_version = forms.IntegerField(
        label="Wording version read to them (optional)", required=False, min_value=1, max_value=BIGINT_MAX,
        help_text="Leave this empty if you read them the current wording shown in the table above.",
        error_messages={"invalid": "Enter the version number as a whole number, such as 2, or leave it empty."},
    )
    share_outcomes = forms.BooleanField(
        label="They also agreed to share their questionnaire scores with this carer", required=False,
    )
    note = forms.CharField(
        label="How and when they told you", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: 'By phone on 3 May, after I read them the wording.'",
        error_messages={"required": "Say how and when they told you, for example 'by phone on 3 May'."},
    )

    def __init__(self, *args, states: list[ConsentState], **kwargs):
        super().__init__(*args, **kwargs)
        self.states = {self.key(state): state for state in states}
        self.fields["subject"].choices = [("", "Choose one"), *((key, self.label(state)) for key, state in self.states.items())]

    @staticmethod
    def key(state: ConsentState) -> str:
        return f"{state.purpose.code}:{state.carer.pk}" if state.carer else state.purpose.code

    @staticmethod
    def label(state: ConsentState) -> str:
        version = f" (current wording: version {state.wording.version})" if state.wording else " (no wording yet)"
        return f"{state.purpose.name}: {state.carer.full_name}{version}" if state.carer else f"{state.purpose.name}{version}"

    def clean_subject(self) -> ConsentState:
        return self.states[self.cleaned_data["subject"]]

    def clean(self):
        data = super().clean()
        state, decision = data.get("subject"), data.get("decision")
        if data.get("share_outcomes") and state is not None and (state.carer is None or decision != D.GIVEN):
            self.add_error("share_outcomes", "Only tick this when someone agrees to involve a carer. Untick it, or choose that carer above.")
        return data

    def service_arguments(self) -> dict:
        """What `consent_record` needs, from a valid form (besides actor and person)."""
        data = self.cleaned_data
        state: ConsentState = data["subject"]
        version = data["wording_version"]
        if version is None and data["decision"] != D.WITHDRAWN and state.wording is not None:
            version = state.wording.version
        return {
            "purpose": state.purpose, "carer": state.carer, "decision": data["decision"], "wording_version": version,
            "share_outcomes": data["share_outcomes"] and state.carer is not None, "note": data["note"],
        }
