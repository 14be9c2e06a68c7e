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


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )


class SetPasswordForm(forms.Form):
    """A new password, typed twice. Django's validators run in the service, which names what is wrong."""

    password = forms.CharField(
        label="New password", strip=False, max_length=4096,
        help_text="At least 10 characters. Not a common password, not only numbers, not like your name or email.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Type the new password again", strip=False, max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", "The two passwords are not the same. Type them again.")
        return data


class PasswordChangeForm(SetPasswordForm):
    old_password = forms.CharField(
        label="Your current password", strip=False, max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "password", "password_again"]


class OtpCodeForm(forms.Form):
    code = forms.CharField(
        label="Code", max_length=32,
        help_text="The 6 numbers your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false", "autofocus": True}),
    )


class AccountDetailsForm(forms.Form):
    preferred_name = forms.CharField(label="What should we call you?", max_length=100, required=False,
                                     help_text="Leave empty to be called by your full name.")
    phone_number = forms.CharField(label="Phone number", max_length=32, required=False,
                                   help_text="The number your team can call you on, for example 07700 900123.",
                                   widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))

    def clean_phone_number(self):
        from backend.core.phone import normalise_phone_number

        try:
            return normalise_phone_number(self.cleaned_data["phone_number"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label="New email address", help_text="We email a link to it. Your address changes when you open the link.",
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}))


class PhoneNumberForm(forms.Form):
    phone_number = forms.CharField(label="Phone number", max_length=32, required=False,
                                   help_text="As you would dial it, for example 07400 123456. Leave it empty to remove it.")
