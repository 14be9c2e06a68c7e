"""Forms for the appointment pages. Whether a choice is allowed (offered, consented to, before the
cut-off) is the service's rule; the form only checks that a choice was made."""

from django import forms

from backend.consent.models import Modality


class AppointmentChoiceForm(forms.Form):
    """A service user choosing how to be seen at one appointment."""

    modality = forms.ChoiceField(
        choices=Modality.choices,
        error_messages={
            "required": "Choose how you would like to be seen, then press Save my choice.",
            "invalid_choice": "Choose one of the ways offered for this appointment, then press Save my choice.",
        },
    )


class GuestForm(forms.Form):
    """The clinician adds a guest to one session. Whether the role and language are complete is the
    service's rule (guest_add); the form carries its messages to the right field."""

    name = forms.CharField(label="Their name", max_length=200, help_text="As the others in the call will see it.",
                           error_messages={"required": "Write the guest's name."})
    guest_role = forms.ChoiceField(
        label="Why they are joining", widget=forms.RadioSelect,
        choices=[("interpreter", "Interpreter"), ("advocate", "Advocate"), ("colleague", "Colleague"), ("other", "Other")],
        error_messages={"required": "Choose why the guest is joining: interpreter, advocate, colleague or other."},
    )
    language = forms.CharField(label="Language (for an interpreter)", max_length=64, required=False,
                               help_text="The language they will interpret, for example Polish or British Sign Language.")


class CarerInviteForm(forms.Form):
    carer_id = forms.TypedChoiceField(label="Carer", coerce=int, error_messages={"required": "Choose the carer to invite."})

    def __init__(self, *args, carers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carer_id"].choices = [(c.pk, c.display_name) for c in carers]


class PhoneCallForm(forms.Form):
    number = forms.CharField(label="The number you are calling", max_length=32,
                             error_messages={"required": "Enter the phone number you are calling."})


class SafetyCheckForm(forms.Form):
    current_location = forms.CharField(label="Where are they right now?", max_length=500, required=False,
                                       help_text="An address or a description, enough to send help in an emergency.")
    is_private = forms.BooleanField(label="They can talk without being overheard", required=False)
    emergency_contact_confirmed = forms.BooleanField(label="I have confirmed their emergency contact", required=False)
    identity_confirmed = forms.BooleanField(label="I have confirmed who they are", required=False)
    notes = forms.CharField(label="Notes (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3}))


def add_service_error(form: forms.Form, error) -> None:
    """Put a service's error (InvalidInput etc.) beside the field it names, or at the top."""
    field = getattr(error, "field", None)
    form.add_error(field if field in form.fields else None, error.detail)
