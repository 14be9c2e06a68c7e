"""Page forms of the relatives' space. They check shapes only; the rules (size limits, the name check,
who may write) are the services', and their refusals are shown beside the field they name."""

from django import forms

from backend.relatives.models import RelativesSettings

TEXTAREA = {"rows": 6}


class InviteForm(forms.Form):
    full_name = forms.CharField(label="Their name", max_length=200)
    email = forms.EmailField(label="Their email address", help_text="We email them a link to set a password.")


class ThreadStartForm(forms.Form):
    subject = forms.CharField(label="What is it about?", max_length=200)
    body = forms.CharField(label="Your message", widget=forms.Textarea(attrs=TEXTAREA),
                           help_text="Supporters share information, not advice. Do not include anyone's full name.")


class MessageForm(forms.Form):
    body = forms.CharField(label="Your message", widget=forms.Textarea(attrs=TEXTAREA))


class PostForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    body = forms.CharField(label="Your post", widget=forms.Textarea(attrs=TEXTAREA),
                           help_text="Do not name the person you support or anyone else: say \"my son\" or \"my partner\".")
    ask_supporter_to_check = forms.BooleanField(
        label="Ask a supporter to check my post", required=False,
        help_text="Tick this if your post was refused for naming someone but you have not named anyone. A supporter reads it first.")


class ReplyForm(forms.Form):
    body = forms.CharField(label="Your reply", widget=forms.Textarea(attrs=TEXTAREA),
                           help_text="Do not name the person you support or anyone else.")
    ask_supporter_to_check = forms.BooleanField(label="Ask a supporter to check my reply", required=False)


class ReportForm(forms.Form):
    reason = forms.CharField(label="Why should a supporter look at this post?", max_length=500)


class ModerateForm(forms.Form):
    decision = forms.ChoiceField(choices=[("publish", "Publish"), ("remove", "Remove")])
    note = forms.CharField(label="Note for the record (optional)", max_length=500, required=False)


class SettingsForm(forms.Form):
    forum_mode = forms.ChoiceField(label="How the forum is moderated", choices=RelativesSettings.ForumMode.choices, widget=forms.RadioSelect)
    max_post_characters = forms.IntegerField(label="Longest post, in characters", min_value=100, max_value=10000)
    risk_words = forms.CharField(label="Words that flag a post or message for a supporter", required=False,
                                 widget=forms.Textarea(attrs=TEXTAREA),
                                 help_text="One a line. Leave empty to use Rapport's list. A prompt for a person to look, not a clinical judgement.")


class SupporterForm(forms.Form):
    email = forms.EmailField(label="Email address of the staff member or trained relative")


class ModuleForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    summary = forms.CharField(label="Summary", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SectionForm(forms.Form):
    title = forms.CharField(label="Section title", max_length=200)


class PageForm(forms.Form):
    section = forms.TypedChoiceField(label="Section", coerce=int, choices=[])
    title = forms.CharField(label="Page title", max_length=200)
    body = forms.CharField(label="Words of the page", widget=forms.Textarea(attrs={"rows": 10}),
                           help_text="Plain text. Leave a blank line between paragraphs.")

    def __init__(self, *args, sections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = [(s.pk, s.title) for s in sections]


class PageEditForm(forms.Form):
    title = forms.CharField(label="Page title", max_length=200)
    body = forms.CharField(label="Words of the page", widget=forms.Textarea(attrs={"rows": 12}))


class ResourceForm(forms.Form):
    title = forms.CharField(label="Name of the resource", max_length=200)
    url = forms.URLField(label="Web address", required=False, assume_scheme="https")
    description = forms.CharField(label="What it offers", required=False, widget=forms.Textarea(attrs={"rows": 3}))


def show_error(form: forms.Form, error) -> None:
    """A service refusal beside the field it names (or above the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.detail)
