from django import forms
from django.contrib.auth.forms import AuthenticationForm

from backend.accounts.models import CarerLink


class EmailLoginForm(AuthenticationForm):
    """Django's login form, asking for an email address in plain words."""

    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True, "spellcheck": "false"}),
    )
    password = forms.CharField(
        label="Password", strip=False, max_length=4096, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    error_messages = {
        "invalid_login": "The email address or password is not right. Check them and try again.",
        "inactive": "This account is not active. Contact your team.",
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class CarerLinkForm(forms.Form):
    carer_email = forms.EmailField(label="Their email address", help_text="We ask them first: nothing is shared until they accept. They need a carer account with Rapport, which your team can set up.")
    relationship = forms.ChoiceField(label="Who are they to you?", choices=CarerLink.Relationship.choices)


class PhoneNumberForm(forms.Form):
    phone_number = forms.CharField(label="Phone number", max_length=32, required=False,
                                   help_text="As you would dial it, for example 07400 123456. Leave it empty to remove it.")
