"""Forms for the evaluators' report page. They check what was typed; the rules (which filters apply,
a backwards date range, an unknown team) stay in Filters.check_for, shared with the API."""

from __future__ import annotations

from django import forms

from backend.core.limits import validate_supported_date
from backend.evaluation.dictionary import DATASETS
from backend.evaluation.formats import FORMATS
from backend.evaluation.pseudonyms import DateMode, DateSetting
from backend.evaluation.selectors import Filters, team_choices
from backend.evaluation.services import ExportRequest


class DateInput(forms.DateInput):
    input_type = "date"


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(label="From (first day included)", required=False, widget=DateInput, validators=[validate_supported_date])
    date_to = forms.DateField(label="To (last day included)", required=False, widget=DateInput, validators=[validate_supported_date])
    team = forms.TypedChoiceField(label="Team", required=False, coerce=int, empty_value=None)
    site = forms.CharField(label="Site", required=False, max_length=200, help_text="For example, Leeds.")

    def __init__(self, *args, organisation: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The evaluator's organisation's teams only (the services refuse any other team anyway).
        self.fields["team"].choices = [("", "All teams"), *team_choices(organisation)]

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(date_from=data.get("date_from"), date_to=data.get("date_to"), team=data.get("team"), site=data.get("site") or None)


class ExportForm(ReportFilterForm):
    """An export from the page: the report's filters (hidden, as shown) and what to download."""

    dataset = forms.ChoiceField(label="Dataset", choices=[(d.code, d.title) for d in DATASETS.values()], widget=forms.RadioSelect, initial="sessions")
    format = forms.ChoiceField(label="Format", choices=list(FORMATS.items()), widget=forms.RadioSelect, initial="csv")
    dates = forms.ChoiceField(label="Dates", choices=DateMode.choices, widget=forms.RadioSelect, initial=DateMode.MONTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("date_from", "date_to", "team", "site"):
            self.fields[name].widget = forms.HiddenInput()

    def export_request(self) -> ExportRequest:
        data = self.cleaned_data
        return ExportRequest(dataset=data["dataset"], format=data["format"], dates=DateSetting(mode=data["dates"]), filters=self.filters())
