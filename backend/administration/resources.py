"""The admin pages of the resource directory: an organisation's admins add, correct, re-check and
retire its entries. Thin, as the other admin pages: the API's input serializer (`checked`) and the
network services, so a page and the API accept and refuse the same things."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from backend.administration.forms import checked, show_problem
from backend.administration.views import PROBLEMS, _actor, _status, admin_page
from backend.network import selectors, services
from backend.network.models import Category, Resource
from backend.network.serializers import ResourceInput

CATEGORY_LABELS = dict(Category.choices)


class ResourceForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, error_messages={"required": "Give the resource's name."})
    description = forms.CharField(label="What it offers (optional)", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    categories = forms.MultipleChoiceField(label="Categories", choices=Category.choices, widget=forms.CheckboxSelectMultiple,
                                           help_text="It is suggested to people whose interests or needs match one of these.",
                                           error_messages={"required": "Choose at least one category, so it can be suggested to people."})
    scope = forms.ChoiceField(label="Local or national", choices=Resource.Scope.choices, widget=forms.RadioSelect,
                              error_messages={"required": "Say whether it is local or national."})
    delivery = forms.ChoiceField(label="How people use it", choices=Resource.Delivery.choices, widget=forms.RadioSelect,
                                 error_messages={"required": "Say whether it is in person, online, or both."})
    postcode_district = forms.CharField(label="Postcode district", max_length=8, required=False,
                                        help_text="The first part of the postcode where it meets, for example LS6. Required for local in-person resources.")
    address = forms.CharField(label="Address (optional)", max_length=300, required=False)
    wheelchair_access = forms.ChoiceField(label="Wheelchair access", choices=Resource.Access.choices, widget=forms.RadioSelect,
                                          initial=Resource.Access.UNKNOWN)
    transport_links = forms.CharField(label="Transport links (optional)", max_length=300, required=False,
                                      help_text="For example: buses 1 and 6 stop outside; step-free from the station.")
    opening_times = forms.CharField(label="Opening times (optional)", max_length=300, required=False)
    contact_phone = forms.CharField(label="Contact phone", max_length=32, required=False,
                                    help_text="Give at least one of phone, email or website.")
    contact_email = forms.CharField(label="Contact email", max_length=254, required=False)
    contact_website = forms.CharField(label="Website", max_length=300, required=False)
    last_checked_on = forms.DateField(label="Details last checked on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                      error_messages={"required": "Say when these details were last checked.",
                                                      "invalid": "Give the date as a day, month and year."})


def _form_data(form: ResourceForm) -> dict:
    data = dict(form.cleaned_data)
    data["categories"] = list(data["categories"])
    return data


@admin_page
@require_http_methods(["GET", "HEAD", "POST"])
def resources(request):
    form = ResourceForm(request.POST if request.method == "POST" else None, initial={"last_checked_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            resource = services.resource_create(actor=_actor(request), **checked(ResourceInput, _form_data(form)))
        except PROBLEMS as problem:
            show_problem(form, problem)
        else:
            messages.success(request, f"Done. {resource.name} is in the directory; it is suggested to people whose interests match.")
            return redirect("admin-resources")
    entries = [{"resource": r, "categories": [CATEGORY_LABELS[c] for c in r.categories]}
               for r in selectors.resources_visible_to(request.user).order_by("-is_active", "name", "id")]
    return render(request, "administration/resources.html", {"entries": entries, "form": form}, status=_status(form))


@admin_page
@require_http_methods(["GET", "HEAD", "POST"])
def resource(request, resource_id: int):
    entry = selectors.resource_for(request.user, resource_id)
    if request.method == "POST":
        if "is_active" in request.POST:  # retire or bring back: the one button below the form
            services.resource_update(actor=_actor(request), resource=entry, is_active=request.POST["is_active"] == "1")
            messages.success(request, f"Done. {entry.name} is {'back in' if entry.is_active else 'retired from'} the directory.")
            return redirect("admin-resource", resource_id=entry.pk)
        form = ResourceForm(request.POST)
        if form.is_valid():
            try:
                services.resource_update(actor=_actor(request), resource=entry, **checked(ResourceInput, _form_data(form), partial=True))
            except PROBLEMS as problem:
                show_problem(form, problem)
            else:
                messages.success(request, f"Done. {entry.name} is saved.")
                return redirect("admin-resources")
        entry.refresh_from_db()
    else:
        form = ResourceForm(initial={name: getattr(entry, name) for name in ResourceForm.base_fields})
    return render(request, "administration/resource.html", {"entry": entry, "form": form}, status=_status(form))
