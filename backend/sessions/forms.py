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
