"""Pages where service users see what they have agreed to, and say how they would like to be seen.

Thin: parse the form, call one selector or service, render. The rules live in services.py.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts import selectors as access
from backend.accounts.models import Role, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.consent import selectors, services
from backend.consent.forms import REASON_CHOICES, ConsentDecisionForm, PreferenceForm, first_error
from backend.consent.models import ConsentRecord, Modality, ModalityPreference, ModalityReason
from backend.core.errors import DomainError, InvalidInput

D = ConsentRecord.Decision


def page_for(*roles: str, who: str):
    """A page for some roles only. Anyone else who is logged in gets a 403 page saying who the page is
    for and where to go instead; anyone not logged in is sent to log in."""
    allowed = frozenset(roles)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if request.user.role not in allowed:
                return render(request, "consent/not_for_you.html", {"who": who}, status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def preference_summary(preference: ModalityPreference | None, reason_labels: dict | None = None) -> dict | None:
    """A preference in words, for templates (which cannot look up choice labels in a list)."""
    if preference is None:
        return None
    reason_labels = reason_labels or dict(ModalityReason.choices)
    return {
        "preference": preference,
        "ranking": [Modality(code).label for code in preference.ranking],
        "reasons": [reason_labels[code] for code in preference.reasons if code in reason_labels],
        "needs": [selectors.ACCESS_NEED_LABELS[need] for need in selectors.access_needs(preference)],
    }


def _subject(purpose, carer: User | None) -> str:
    return f"“{purpose.name}” for {carer.full_name}" if carer else f"“{purpose.name}”"


# --- What you have agreed to ----------------------------------------------------------------------
@page_for(Role.SERVICE_USER, who="people receiving care")
@require_http_methods(["GET", "HEAD"])
def consent_page(request):
    user: User = request.user
    states = selectors.consent_states(user)
    audit_record(
        actor=Actor.from_request(request), action=AuditEvent.Action.READ, object_type="consent.consentstate", object_id=user.pk,
        detail={"page": "consent"},
    )
    return render(request, "consent/consent.html", {"states": states})


@page_for(Role.SERVICE_USER, who="people receiving care")
@require_POST
def consent_decide(request):
    user: User = request.user
    form = ConsentDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing has changed. {first_error(form)}")
        return redirect("consent-page")
    data = form.cleaned_data
    giving = data["decision"] == D.GIVEN
    try:
        purpose = selectors.purpose_by_code(data["purpose"])
        carer = None
        if data["carer"] is not None:
            link = access.carer_links_visible_to(user).in_effect().filter(carer_id=data["carer"]).first()
            if link is None:
                raise InvalidInput("You no longer involve this person. Go to your home page to involve them again.", field="carer")
            carer = link.carer
        services.consent_record(
            actor=Actor.from_request(request), service_user=user, purpose=purpose, decision=data["decision"],
            # Stopping always works, whatever wording was on the page; agreeing is to the wording read.
            wording_version=data["wording_version"] if giving else None,
            carer=carer, share_outcomes=giving and carer is not None and data["share_outcomes"],
        )
    except DomainError as error:
        messages.error(request, f"{error.detail} Nothing has changed: check where things stand below, or ask your care team.")
        return redirect("consent-page")
    if giving:
        messages.success(request, f"Done. You have agreed to {_subject(purpose, carer)}. You can stop at any time.")
    else:
        messages.success(request, f"Done. You have stopped agreeing to {_subject(purpose, carer)}. This took effect straight away.")
    return redirect("consent-page")


# --- How you would like to be seen ----------------------------------------------------------------
@page_for(Role.SERVICE_USER, who="people receiving care")
@require_http_methods(["GET", "HEAD", "POST"])
def preferences_page(request):
    user: User = request.user
    actor = Actor.from_request(request)
    current = selectors.preference_current(user)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            try:
                services.preference_set(actor=actor, service_user=user, **form.service_arguments())
            except DomainError as error:
                messages.error(request, error.detail)
            else:
                messages.success(request, "Saved. Your care team will see how you would like to be seen. You can change it at any time.")
                return redirect("preferences-page")
    else:
        form = PreferenceForm(initial=PreferenceForm.initial_from(current))
    if current is not None:
        audit_record(actor=actor, action=AuditEvent.Action.READ, obj=current, detail={"page": "preferences"})
    return render(request, "consent/preferences.html", {"form": form, "current": preference_summary(current, dict(REASON_CHOICES))})
