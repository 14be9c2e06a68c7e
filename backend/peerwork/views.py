"""Peer work pages: the supervision log (peer workers and supervisors) and fidelity rating, one page per
informant. Thin: parse the form, call one selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.consent.views import page_for
from backend.core.errors import DomainError, NotFound
from backend.outcomes.models import Instrument

from . import selectors, services
from .forms import RatingForm, SupervisionForm, show_error
from .models import Domain, Informant, SupervisionTopic

peer_work_page = page_for(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, who="peer workers, their supervisors and the people they support")
supervision_page_for = page_for(Role.CLINICIAN, Role.PEER_WORKER, who="peer workers and their supervisors")
TOPIC_LABELS = dict(SupervisionTopic.choices)


@peer_work_page
@require_http_methods(["GET", "HEAD"])
def home(request):
    user = request.user
    entries = list(selectors.supervision_entries_visible_to(user)[:100])
    audit_list(actor=Actor.from_request(request), object_type="peerwork.supervisionentry", ids=[e.pk for e in entries])
    context = {
        "received": [e for e in entries if e.peer_worker_id == user.pk],
        "given": [e for e in entries if e.supervisor_id == user.pk],
        "may_supervise": selectors.peer_workers_to_supervise(user).exists(),
        "ratable": [{"as": Informant(i).label, "worker": w, "team": t} for i, w, t in selectors.ratable_for(user)],
        "topic_labels": TOPIC_LABELS,
    }
    return render(request, "peerwork/home.html", context)


@supervision_page_for
@require_http_methods(["GET", "HEAD", "POST"])
def supervision_new(request):
    pairs = list(selectors.peer_workers_to_supervise(request.user))
    form = SupervisionForm(request.POST or None, pairs=pairs)
    if request.method == "POST" and form.is_valid():
        try:
            membership = selectors.supervision_pair_for(request.user, *form.pair())
            entry = services.supervision_record(
                actor=Actor.from_request(request), supervisor=request.user, membership=membership,
                **{k: form.cleaned_data[k] for k in ("held_on", "topics", "actions", "notes")})
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, f"Done. The supervision of {entry.peer_worker.full_name} is in the log.")
            return redirect("peerwork-supervision", entry_id=entry.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "peerwork/supervision_new.html", {"form": form, "pairs": pairs}, status=status)


@supervision_page_for
@require_http_methods(["GET", "HEAD"])
def supervision_page(request, entry_id: int):
    try:
        entry = selectors.supervision_entry_for(request.user, entry_id)
    except NotFound:
        raise Http404("No such supervision entry.") from None
    audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=entry)
    return render(request, "peerwork/supervision.html", {"entry": entry, "topics": [TOPIC_LABELS.get(t, t) for t in entry.topics]})


@peer_work_page
@require_http_methods(["GET", "HEAD", "POST"])
def rating_page(request, peer_worker_id: int, team_id: int):
    try:
        informant, peer_worker, team = selectors.informant_for(request.user, peer_worker_id, team_id)
    except DomainError as error:
        return render(request, "peerwork/not_an_informant.html", {"detail": error.detail}, status=403)
    questionnaire = selectors.current_questionnaire(team.organisation_id, informant)
    instrument = None if questionnaire is None else Instrument.objects.prefetch_related("items", "options").get(pk=questionnaire.instrument_id)
    form = RatingForm(request.POST or None, instrument=instrument)
    if request.method == "POST" and instrument is not None and form.is_valid():
        try:
            services.fidelity_rate(actor=Actor.from_request(request), rater=request.user, peer_worker_id=peer_worker.pk, team_id=team.pk,
                                   rated_on=form.cleaned_data["rated_on"], answers=form.answers())
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, "Done. Thank you: your answers are saved.")
            return redirect("peerwork-home")
    domains = []
    if questionnaire is not None:
        for domain in Domain:
            domains.append({"label": domain.label, "fields": [form[f"item_{n}"] for n in form.numbers
                                                              if questionnaire.item_domains.get(str(n)) == domain.value]})
    context = {"form": form, "peer_worker": peer_worker, "team": team, "informant": informant,
               "informant_label": Informant(informant).label, "questionnaire": questionnaire, "domains": domains,
               "is_self": informant == Informant.PEER_WORKER}
    return render(request, "peerwork/rate.html", context, status=400 if request.method == "POST" else 200)
