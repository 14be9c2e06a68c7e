"""Forms for the appointment pages. Whether a choice is allowed (offered, consented to, before the
cut-off) is the service's rule; the form only checks that a choice was made."""

from django import forms

from backend.consent.models import Modality
from backend.sessions.models import Appointment


class AppointmentChoiceForm(forms.Form):
    """A service user choosing how to be seen at one appointment."""

    modality = forms.ChoiceField(
        choices=Modality.choices,
        error_messages={
            "required": "Choose how you would like to be seen, then press Save my choice.",
            "invalid_choice": "Choose one of the ways offered for this appointment, then press Save my choice.",
        },
    )


# --- Booking, moving, cancelling (practitioners) and asking to rearrange (service users) ------------
# Whether a booking is allowed (caseload, future, face to face offered, clashes, a series within a
# year) is the service's rule; these forms turn the page's fields into the service's arguments.
REPEAT_CHOICES = [("", "Just this once"), ("weekly", "Every week"), ("fortnightly", "Every 2 weeks")]
REMOTE_OFFER_CHOICES = [(Modality.VIDEO, "Video call"), (Modality.PHONE, "Phone call")]


class _WhenFields(forms.Form):
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}),
                           error_messages={"required": "Enter the date.", "invalid": "Enter a real date, for example 7 December 2026."})
    time = forms.TimeField(label="Start time", widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M"),
                           error_messages={"required": "Enter the start time.", "invalid": "Enter a time, for example 14:30."})
    duration_minutes = forms.IntegerField(label="Length in minutes", min_value=5, max_value=240, initial=50,
                                          error_messages={"required": "Enter how long it lasts, in minutes.",
                                                          "min_value": "It must last at least 5 minutes.",
                                                          "max_value": "It can last at most 240 minutes (4 hours)."})

    def starts_at(self):
        from datetime import datetime

        from django.utils import timezone

        return timezone.make_aware(datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"]))

    def clean_date(self):
        from backend.core.limits import is_supported_date

        value = self.cleaned_data["date"]
        if not is_supported_date(value):
            raise forms.ValidationError("Enter a date between 1900 and 2100.")
        return value


class BookingForm(_WhenFields):
    """Book one appointment or a series. The person, team and practitioner lists are what the booker
    may book for (their teams' caseloads and members); the service checks them again."""

    service_user = forms.TypedChoiceField(label="Person", coerce=int, error_messages={"required": "Choose the person.",
                                                                                       "invalid_choice": "Choose someone on your teams' caseloads."})
    team = forms.TypedChoiceField(label="Team", coerce=int, error_messages={"required": "Choose the team.", "invalid_choice": "Choose one of your teams."})
    practitioner = forms.TypedChoiceField(label="With", coerce=int, error_messages={"required": "Choose who the appointment is with.",
                                                                                    "invalid_choice": "Choose someone in your teams."})
    kind = forms.ChoiceField(label="Kind of appointment", choices=Appointment.Kind.choices, initial=Appointment.Kind.TREATMENT,
                             widget=forms.RadioSelect)
    remote_offered = forms.MultipleChoiceField(
        label="Ways to meet offered", choices=REMOTE_OFFER_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Face to face is always offered as well. The person chooses among these until the team's cut-off.",
    )
    repeat = forms.ChoiceField(label="Repeat", choices=REPEAT_CHOICES, required=False, widget=forms.RadioSelect, initial="")
    count = forms.IntegerField(label="Number of sessions, including the first", min_value=2, max_value=100, required=False,
                               help_text="For a weekly or fortnightly series. A series can last up to a year.",
                               error_messages={"min_value": "A series has at least 2 sessions.", "max_value": "A series can last up to a year."})
    confirm_clash = forms.BooleanField(label="Book it anyway, overlapping the appointments listed above", required=False)

    def __init__(self, *args, people, teams, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_user"].choices = [("", "Choose the person"), *((p.pk, p.full_name) for p in people)]
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]
        self.fields["practitioner"].choices = [(u.pk, u.full_name) for u in practitioners]

    def clean(self):
        data = super().clean()
        if data.get("repeat") and not data.get("count"):
            self.add_error("count", "Enter how many sessions the series has (2 or more).")
        return data

    def modalities_offered(self) -> list[str]:
        return [*self.cleaned_data["remote_offered"], Modality.FACE_TO_FACE]


class RescheduleForm(_WhenFields):
    reason = forms.CharField(label="Why it is moving", max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="The person sees this on their appointments page.",
                             error_messages={"required": "Say why the appointment is moving: the person will see it."})
    confirm_clash = forms.BooleanField(label="Move it anyway, overlapping the appointments listed above", required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(label="Why it is cancelled", max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "Say why the appointment is cancelled.",
                                             "max_length": "Keep the reason to 500 characters or fewer."})


class RearrangeForm(forms.Form):
    reason = forms.CharField(label="What would suit you better, and why", max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "Tell your team why, and what would suit you better.",
                                             "max_length": "Keep it to 500 characters or fewer."})


class WeekQuery(forms.Form):
    """The week page's query string: which day, a day or a week, and (optionally) which team."""

    date = forms.DateField(required=False)
    view = forms.ChoiceField(choices=[("week", "Week"), ("day", "Day")], required=False)
    team = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def clean_date(self):
        from backend.core.limits import is_supported_date

        value = self.cleaned_data["date"]
        if value and not is_supported_date(value):
            raise forms.ValidationError("Out of range.")
        return value


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
