"""Forms for the messaging pages: they collect what a person typed; the rules stay in services.py."""

from __future__ import annotations

from django import forms

from backend.consent.models import Modality
from backend.messaging import preferences
from backend.messaging.models import Message

P = preferences

# What the person reads for each choice; changes and cancellations offer no "off" on their own.
_CHOICES_IN_MY_WORDS = [(P.SMS, "Text message"), (P.EMAIL, "Email"), (P.BOTH, "Both"), (P.OFF, "Do not send these")]


class ContactForm(forms.Form):
    """How a person wants to be contacted: their mobile number and email, and a channel per group."""

    mobile_number = forms.CharField(
        label="Mobile number for text messages", required=False, max_length=32,
        help_text="Only a mobile can get text messages. Leave it empty if you do not want texts.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label="Email address for messages", required=False, max_length=254,
        help_text="Leave it empty to use the email address you log in with.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    all_off = forms.BooleanField(
        label="Send me no messages at all", required=False,
        help_text="Then nobody texts or emails you about appointments, not even when one is moved or cancelled: "
        "check your appointments page, or your team will phone you.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for group, (label, _, can_turn_off) in P.GROUPS.items():
            choices = [c for c in _CHOICES_IN_MY_WORDS if can_turn_off or c[0] != P.OFF]
            help_text = "" if can_turn_off else "These always come, so you are never left waiting for an appointment that moved."
            self.fields[f"channel_{group}"] = forms.ChoiceField(
                label=label, choices=choices, widget=forms.RadioSelect, help_text=help_text,
                error_messages={"required": f"{label}: choose how we send these."},
            )

    def channel_fields(self):
        return [self[f"channel_{group}"] for group in P.GROUPS]

    def channels(self) -> dict[str, str]:
        return {group: self.cleaned_data[f"channel_{group}"] for group in P.GROUPS}

    @classmethod
    def initial_for(cls, contact: P.Contact) -> dict:
        row_email = "" if contact.email == contact.person.email else contact.email
        return {"mobile_number": contact.mobile_number, "email": row_email, "all_off": contact.all_off,
                **{f"channel_{g}": c for g, c in contact.channels.items()}}


MODALITY_CHOICES = [("", "Every way of meeting"), *Modality.choices]


class TemplateForm(forms.Form):
    """One template on the team's messages page."""

    kind = forms.ChoiceField(choices=Message.Kind.choices, widget=forms.HiddenInput)
    channel = forms.ChoiceField(choices=Message.Channel.choices, widget=forms.HiddenInput)
    modality = forms.ChoiceField(label="For which way of meeting", choices=MODALITY_CHOICES, required=False)
    subject = forms.CharField(label="Email subject line", required=False, max_length=200)
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 6}), max_length=2000,
                           error_messages={"required": "Write the message: it cannot be empty."})


class TeamMessagingForm(forms.Form):
    sender_name = forms.CharField(
        label="Sender name", max_length=100,
        help_text="A neutral name people recognise, such as “Leeds NHS”. Never the team's clinical name: it shows on the phone's screen.",
        error_messages={"required": "Give the name messages come from. Without it, no message is sent."},
    )
    reminder_days = forms.CharField(
        label="Reminders, in days before the appointment", max_length=40, initial="7, 1",
        help_text="Separate them with commas, e.g. 7, 1. Use 0.5 for 12 hours.",
    )
    caller_number_kind = forms.CharField(
        label="Phone appointments: the call comes from", max_length=100, initial="a withheld number",
        help_text="What the message says about the number, e.g. “a withheld number” or “0113 496 0000”.",
    )
    questionnaire_days_before = forms.IntegerField(label="Send questionnaires this many days before", min_value=0, max_value=28, initial=3)
    nudge_hours_before = forms.IntegerField(label="Nudge if not answered, this many hours before", min_value=1, max_value=24 * 14, initial=24)

    def clean_reminder_days(self):
        text = self.cleaned_data["reminder_days"]
        try:
            hours = [round(float(part) * 24) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError("Type numbers of days separated by commas, e.g. 7, 1.") from None
        return hours


class BannedWordForm(forms.Form):
    word = forms.CharField(label="Add a word or phrase", max_length=100,
                           error_messages={"required": "Type the word or phrase to add."})


class OrganisationMessagingForm(forms.Form):
    """The organisation's senders on its admins' messages page; the rules stay in
    services.organisation_messaging_update."""

    _SMS = [("notify", "GOV.UK Notify"), ("console", "Nowhere: the server's console (development only)")]
    _EMAIL = [("smtp", "Your email server (EMAIL_URL)"), ("notify", "GOV.UK Notify"),
              ("console", "Nowhere: the server's console (development only)")]

    sms_sender = forms.ChoiceField(label="Send text messages by", choices=_SMS, widget=forms.RadioSelect,
                                   error_messages={"required": "Choose how text messages go out."})
    email_sender = forms.ChoiceField(label="Send emails by", choices=_EMAIL, widget=forms.RadioSelect,
                                     error_messages={"required": "Choose how emails go out."})
    notify_sms_template_id = forms.CharField(
        label="Notify text message template id", required=False, max_length=64,
        help_text="Needed to send texts by Notify. The template's whole text is ((body)).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    notify_email_template_id = forms.CharField(
        label="Notify email template id", required=False, max_length=64,
        help_text="Needed to send emails by Notify. Its subject is ((subject)) and its body ((body)).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    notify_key_variable = forms.CharField(
        label="Name of the environment variable holding the Notify API key", max_length=64, initial="NOTIFY_API_KEY",
        help_text="NOTIFY_API_KEY, or NOTIFY_API_KEY_ and a name, e.g. NOTIFY_API_KEY_LEEDS. The key itself stays on the server: never type it here.",
        error_messages={"required": "Give the name of the environment variable, e.g. NOTIFY_API_KEY."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
