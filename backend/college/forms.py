"""Page forms of the college. They check shapes only; the rules are the services', and a refusal is shown
beside the field it names with the form kept as typed."""

from django import forms


from . import feedback
from .models import Audience, Delivery, TrainerRecord

TEXTAREA = {"rows": 6}


def show_error(form: forms.Form, error) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.detail)


class CourseForm(forms.Form):
    title = forms.CharField(label="Course title", max_length=200)
    description = forms.CharField(label="What the course is about", max_length=4000, widget=forms.Textarea(attrs=TEXTAREA))
    audience = forms.ChoiceField(label="Who it is for", choices=Audience.choices, widget=forms.RadioSelect)
    delivery = forms.ChoiceField(label="How it is taught", choices=Delivery.choices, widget=forms.RadioSelect)
    sessions = forms.IntegerField(label="Number of sessions", min_value=1, max_value=52)
    capacity = forms.IntegerField(label="Students a run takes", min_value=1, max_value=200, help_text="Up to 20 (the size of a group session).")


class TermForm(forms.Form):
    name = forms.CharField(label="Term name", max_length=100, help_text="For example, Spring 2027.")
    starts_on = forms.DateField(label="First day", help_text="For example, 2027-01-11.", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}))


class TrainerForm(forms.Form):
    email = forms.EmailField(label="Their email address", help_text="Staff of your organisation, someone on your caseloads, or a carer of someone on them.")
    kind = forms.ChoiceField(label="Kind of trainer", choices=TrainerRecord.Kind.choices, widget=forms.RadioSelect)
    training_completed = forms.CharField(label="Trainer training completed", max_length=200)
    training_completed_on = forms.DateField(label="Date training was completed", widget=forms.DateInput(attrs={"type": "date"}))
    accredited_on = forms.DateField(label="Date accredited (leave empty if not yet)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    supervisor_email = forms.EmailField(label="Supervisor's email address (optional)", required=False)


class RunForm(forms.Form):
    course = forms.ChoiceField(label="Course")
    term = forms.ChoiceField(label="Term")
    team = forms.ChoiceField(label="Hosting team", help_text="Its clinician or peer worker hosts the sessions.")
    delivery = forms.ChoiceField(label="How this run meets", choices=[(Delivery.ONLINE, "Online"), (Delivery.IN_PERSON, "In person")], widget=forms.RadioSelect)
    first_session_at = forms.DateTimeField(label="First session (date and time)", help_text="The others follow weekly.",
                                           widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    duration_minutes = forms.IntegerField(label="Length of each session, in minutes", min_value=15, max_value=480, initial=120)
    venue = forms.CharField(label="Venue (for in-person runs)", max_length=300, required=False)

    def __init__(self, *args, courses=(), terms=(), teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].choices = [(c.pk, c.title) for c in courses]
        self.fields["term"].choices = [(t.pk, t.name) for t in terms]
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]


class FacilitatorForm(forms.Form):
    trainer = forms.ChoiceField(label="Trainer")

    def __init__(self, *args, trainers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trainer"].choices = [(t.pk, f"{t.user.full_name} ({t.get_kind_display().lower()})") for t in trainers]


class EnrolSomeoneForm(forms.Form):
    email = forms.EmailField(label="Their email address", help_text="Someone on your caseloads, a carer of someone on them, or staff of your organisation.")


class LearningPlanForm(forms.Form):
    goals = forms.CharField(label="What I hope to get from this course", max_length=4000, required=False, widget=forms.Textarea(attrs=TEXTAREA))
    reflection = forms.CharField(label="Looking back: what I learned and what I will do next", max_length=4000, required=False,
                                 widget=forms.Textarea(attrs=TEXTAREA))


class FeedbackForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for q in feedback.QUESTIONS:
            if q["kind"] == "choice":
                self.fields[q["key"]] = forms.ChoiceField(label=q["text"], choices=q["options"], widget=forms.RadioSelect, required=q["required"])
            else:
                self.fields[q["key"]] = forms.CharField(label=q["text"], max_length=q["max_length"], required=False, widget=forms.Textarea(attrs={"rows": 4}))
