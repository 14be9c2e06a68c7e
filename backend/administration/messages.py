"""The admin pages for a team's messages: its sender name and reminder times, the wording of each
message (per kind, channel and way of meeting) with a live preview on a sample appointment, and the
organisation's own banned words. Thin views over backend/messaging's services, as the other admin pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts import selectors as access
from backend.administration.views import PROBLEMS, _actor, _status, admin_page
from backend.administration import forms as admin_forms
from backend.consent.models import Modality
from backend.messaging import content, selectors
from backend.messaging import services as messaging
from backend.messaging.forms import BannedWordForm, OrganisationMessagingForm, TeamMessagingForm, TemplateForm
from backend.messaging.models import BannedWord, Message
from backend.messaging.triggers import sample_values, team_messaging

K, C = Message.Kind, Message.Channel


def _days(hours: list[int]) -> str:
    return ", ".join(f"{h / 24:g}" for h in hours)


def _messages_page(request, team, **bound):
    row = team_messaging(team)
    own = selectors.templates_of(team)
    rows = []
    for kind, label in K.choices:
        for channel, channel_label in C.choices:
            mine = [own[key] for key in own if key[0] == kind and key[1] == channel]
            rows.append({"kind": kind, "label": label, "channel": channel, "channel_label": channel_label,
                         "own": sorted({Modality(t.modality).label if t.modality else "every way of meeting" for t in mine})})
    context = {
        "team": team, "row": row, "rows": rows,
        "settings_form": bound.get("settings_form") or TeamMessagingForm(initial={
            "sender_name": row.sender_name, "reminder_days": _days(row.reminder_offsets_hours),
            "caller_number_kind": row.caller_number_kind, "questionnaire_days_before": row.questionnaire_days_before,
            "nudge_hours_before": row.nudge_hours_before}),
        "word_form": bound.get("word_form") or BannedWordForm(),
        "own_words": selectors.banned_words_of(team.organisation_id),
        "default_words": sorted(w.lower() for w in settings.MESSAGE_BANNED_WORDS),
    }
    return render(request, "administration/messages.html", context, status=_status(*bound.values()))


@admin_page
@require_http_methods(["GET", "HEAD"])
def team_messages(request, team_id: int):
    return _messages_page(request, access.team_for(request.user, team_id))


@admin_page
@require_POST
def team_messages_settings(request, team_id: int):
    team = access.team_for(request.user, team_id)
    form = TeamMessagingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            messaging.team_messaging_update(
                actor=_actor(request), team=team, sender_name=data["sender_name"], reminder_offsets_hours=data["reminder_days"],
                caller_number_kind=data["caller_number_kind"], questionnaire_days_before=data["questionnaire_days_before"],
                nudge_hours_before=data["nudge_hours_before"])
        except PROBLEMS as problem:
            admin_forms.show_problem(form, problem, rename={"reminder_offsets_hours": "reminder_days"})
        else:
            messages.success(request, "Done. The team's message settings are saved.")
            return redirect("admin-team-messages", team_id=team.pk)
    return _messages_page(request, team, settings_form=form)


@admin_page
@require_POST
def banned_word_add(request, team_id: int):
    team = access.team_for(request.user, team_id)
    form = BannedWordForm(request.POST)
    if form.is_valid():
        try:
            messaging.banned_word_add(actor=_actor(request), organisation_id=team.organisation_id, word=form.cleaned_data["word"])
        except PROBLEMS as problem:
            admin_forms.show_problem(form, problem)
        else:
            messages.success(request, "Done. No text message or email subject can contain it now.")
            return redirect("admin-team-messages", team_id=team.pk)
    return _messages_page(request, team, word_form=form)


@admin_page
@require_POST
def banned_word_remove(request, team_id: int, word_id: int):
    team = access.team_for(request.user, team_id)
    banned = BannedWord.objects.filter(pk=word_id, organisation_id=team.organisation_id).first()
    if banned is None:
        raise Http404("No such word on your organisation's list.")
    messaging.banned_word_remove(actor=_actor(request), banned=banned)
    messages.success(request, f"Done. “{banned.word}” is off your organisation's list.")
    return redirect("admin-team-messages", team_id=team.pk)


@admin_page
@require_http_methods(["GET", "HEAD", "POST"])
def team_message_template(request, team_id: int, kind: str, channel: str):
    """Edit one kind of message on one channel (for a way of meeting, or all), with a preview."""
    team = access.team_for(request.user, team_id)
    if kind not in K.values or channel not in C.values:
        raise Http404("There is no such message.")
    modality = request.POST.get("modality", request.GET.get("modality", ""))
    modality = modality if modality in Modality.values else ""
    subject, body, own = content.template_for(team, kind, channel, modality)
    form = TemplateForm(request.POST or None, initial={"kind": kind, "channel": channel, "modality": modality,
                                                       "subject": subject, "body": body})
    if channel == C.SMS:
        del form.fields["subject"]
    action = request.POST.get("action", "preview")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        subject, body = data.get("subject", ""), data["body"]
        try:
            if action == "reset":
                messaging.template_reset(actor=_actor(request), team=team, kind=kind, channel=channel, modality=modality)
                messages.success(request, "Done. This message uses the default wording again.")
                return redirect("admin-team-messages", team_id=team.pk)
            if action == "save":
                messaging.template_save(actor=_actor(request), team=team, kind=kind, channel=channel, modality=modality,
                                        subject=subject, body=body)
                messages.success(request, "Done. The new wording is used for every message queued from now on.")
                return redirect("admin-team-messages", team_id=team.pk)
            content.template_check(kind=kind, channel=channel, subject=subject, body=body, organisation_id=team.organisation_id)
        except content.TemplateProblem as problem:
            form.add_error(problem.field if problem.field in form.fields else "body", str(problem))
        except PROBLEMS as problem:
            admin_forms.show_problem(form, problem)
    values = sample_values(team, modality, kind)
    try:
        preview = content.render(subject, body, values)
    except (ValueError, IndexError, KeyError):
        preview = None
    allowed = {name: text for name, text in content.PLACEHOLDERS.items() if kind in content.ONLY_IN.get(name, {kind})}
    return render(request, "administration/message_template.html", {
        "team": team, "form": form, "kind_label": K(kind).label, "channel_label": C(channel).label, "channel": channel,
        "kind": kind, "own": own, "preview": preview, "placeholders": allowed,
        "preview_data": {"values": values, "allowed": sorted(allowed), "banned": content.banned_words_for(team.organisation_id),
                         "channel": channel},
    }, status=400 if form.is_bound and form.errors else 200)


def _senders_page(request, form=None):
    organisation = _own_organisation(request)
    status = selectors.organisation_senders(organisation)
    row = status["row"]
    if form is None:
        form = OrganisationMessagingForm(initial={
            "sms_sender": row.sms_sender if row else ("console" if settings.DEBUG else "notify"),
            "email_sender": row.email_sender if row else "smtp",
            "notify_sms_template_id": str(row.notify_sms_template_id or "") if row else "",
            "notify_email_template_id": str(row.notify_email_template_id or "") if row else "",
            "notify_key_variable": row.notify_key_variable if row else "NOTIFY_API_KEY"})
    return render(request, "administration/message_senders.html",
                  {"organisation": organisation, "status": status, "form": form},
                  status=_status(form))


def _own_organisation(request):
    if request.user.organisation_id is None:
        raise Http404("Your account belongs to no organisation.")
    return request.user.organisation


@admin_page
@require_http_methods(["GET", "HEAD", "POST"])
def message_senders(request):
    """How the admin's organisation sends texts and emails (GOV.UK Notify, SMTP, the console)."""
    if request.method != "POST":
        return _senders_page(request)
    form = OrganisationMessagingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            messaging.organisation_messaging_update(
                actor=_actor(request), organisation=_own_organisation(request), sms_sender=data["sms_sender"],
                email_sender=data["email_sender"], notify_key_variable=data["notify_key_variable"],
                notify_sms_template_id=data["notify_sms_template_id"], notify_email_template_id=data["notify_email_template_id"])
        except PROBLEMS as problem:
            admin_forms.show_problem(form, problem)
        else:
            messages.success(request, "Done. Every message sent from now on goes out this way.")
            return redirect("admin-message-senders")
    return _senders_page(request, form)
