"""What a message says: the default wording, the placeholders a template may use, the banned-word
check, and rendering a template for one appointment and one recipient.

Content rules for a mental-health service (docs/messaging.md): a text message and an email's subject
are seen by anyone who glances at the phone or the inbox, so they never name a diagnosis, a
questionnaire, a score, risk or the kind of clinic. Templates may only use the placeholders below, and
none of them carries free text a clinician typed (a cancellation reason may name a condition, so it is
shown on the appointments page, never in a message).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from django.conf import settings

from backend.messaging.models import BannedWord, Message, MessageTemplate

K = Message.Kind
C = Message.Channel

# The placeholders a template may use, with what each becomes. Nothing else is substituted; an unknown
# one is refused when the template is saved, naming it.
PLACEHOLDERS = {
    "name": "The name of the person the message is for (what they like to be called).",
    "whose": "'your' for the person; for a carer's copy, the person's name with 's (e.g. \"Sam's\").",
    "whose_cap": "The same, to start a sentence: 'Your' or \"Sam's\".",
    "when": "The appointment's day and time, e.g. Monday 3 December 2026 at 10am.",
    "sender": "The team's neutral sender name (never its clinical name).",
    "team_phone": "The team's phone number.",
    "how": "How the appointment happens: by video call, by phone or face to face.",
    "join_details": "How to join for the chosen way: the video link, who will phone and from what number, or the address.",
    "questionnaire_link": "The one-use link to a questionnaire (questionnaire messages only).",
}

# Which placeholders make sense in which kind of message (a questionnaire link only where there is one).
ONLY_IN = {"questionnaire_link": {K.QUESTIONNAIRE_DUE, K.QUESTIONNAIRE_NUDGE}}

# Kinds that have wording per modality by default (the join details differ most).
MODALITY_KINDS = {K.JOIN_LINK}

# The default wording, per (kind, channel); (kind, channel, modality) where it differs by modality.
# Short, plain words; the SMS texts fit in two or three text-message parts.
_SMS = {
    K.CONFIRMATION: "Hello {name}. {whose_cap} appointment with {sender} is booked for {when}, {how}. "
                    "To change it, phone {team_phone}.",
    K.REMINDER: "Hello {name}. A reminder: {whose} appointment with {sender} is on {when}, {how}. "
                "If you cannot come, phone {team_phone}.",
    K.CHANGED: "Hello {name}. {whose_cap} appointment with {sender} has changed. It is now on {when}, {how}. "
               "Questions? Phone {team_phone}.",
    K.CANCELLED: "Hello {name}. {whose_cap} appointment with {sender} on {when} is cancelled. "
                 "To book another, phone {team_phone}.",
    K.JOIN_LINK: "Hello {name}. For {whose} appointment on {when}: {join_details}",
    K.QUESTIONNAIRE_DUE: "Hello {name}. Before {whose} appointment on {when}, please answer a few short questions: "
                         "{questionnaire_link} The link works once, only for you.",
    K.QUESTIONNAIRE_NUDGE: "Hello {name}. There is still time to answer the short questions before {whose} appointment "
                           "on {when}: {questionnaire_link}",
}
_SUBJECTS = {
    K.CONFIRMATION: "Your appointment is booked",
    K.REMINDER: "Reminder of your appointment",
    K.CHANGED: "Your appointment has changed",
    K.CANCELLED: "Your appointment is cancelled",
    K.JOIN_LINK: "How to join your appointment",
    K.QUESTIONNAIRE_DUE: "Some questions before your appointment",
    K.QUESTIONNAIRE_NUDGE: "Some questions before your appointment",
}
_EMAIL_FOOTER = ("\n\nIf you are struggling or feel unsafe, you do not have to wait for your appointment: phone "
                 "{team_phone}, or NHS 111 and choose the mental health option. In an emergency call 999.\n\n"
                 "{sender}")


def default_template(kind: str, channel: str, modality: str = "") -> tuple[str, str]:
    """The default (subject, body) for a kind on a channel (the same for every modality: the join details
    placeholder carries what differs)."""
    body = _SMS[kind]
    if channel == C.EMAIL:
        return _SUBJECTS[kind], body + _EMAIL_FOOTER
    return "", body


# --- Banned words -------------------------------------------------------------------------------------
def banned_words_for(organisation_id: int | None) -> list[str]:
    """The setting's default list and the organisation's own words, lower-case, longest first."""
    words = {w.strip().lower() for w in settings.MESSAGE_BANNED_WORDS if w.strip()}
    if organisation_id:
        words |= {w.lower() for w in BannedWord.objects.filter(organisation_id=organisation_id).values_list("word", flat=True)}
    return sorted(words, key=lambda w: (-len(w), w))


def _word_pattern(word: str) -> re.Pattern:
    # Whole words, any case; spaces and hyphens inside a word match each other or nothing, so
    # "PHQ-9", "PHQ 9" and "PHQ9" are all found for "phq-9".
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", word) if p]
    return re.compile(r"(?<![a-z0-9])" + r"[\s\-]?".join(parts) + r"(?![a-z0-9])", re.IGNORECASE)


def banned_word_in(text: str, words: list[str]) -> str | None:
    """The first banned word `text` contains, or None."""
    for word in words:
        if _word_pattern(word).search(text or ""):
            return word
    return None


# --- Placeholders -------------------------------------------------------------------------------------
class TemplateProblem(ValueError):
    """A template that cannot be saved: `field` names where, the message says what and how to fix it."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def placeholders_in(text: str) -> list[str]:
    """The placeholder names `text` uses, in order; a broken brace is a TemplateProblem for field ''."""
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text or "") if name is not None]
    except ValueError as error:
        raise TemplateProblem(
            f"A curly bracket is not closed or not opened ({error}). Placeholders look like {{when}}; "
            "to write a bracket itself, double it: {{ or }}.", field=""
        ) from None


def template_check(*, kind: str, channel: str, subject: str, body: str, organisation_id: int | None) -> None:
    """Refuse a template that would leak or break: an unknown placeholder (naming it and the field), a
    placeholder of another kind of message, or a banned word in an SMS text or an email subject."""
    fields = [("body", body)] + ([("subject", subject)] if channel == C.EMAIL else [])
    if not (body or "").strip():
        raise TemplateProblem("Write the message: it cannot be empty.", field="body")
    if channel == C.EMAIL and not (subject or "").strip():
        raise TemplateProblem("Write a subject line for the email.", field="subject")
    allowed = {name for name in PLACEHOLDERS if kind in ONLY_IN.get(name, {kind})}
    for field, text in fields:
        try:
            names = placeholders_in(text)
        except TemplateProblem as problem:
            raise TemplateProblem(str(problem), field=field) from None
        for name in names:
            if name not in allowed:
                known = ", ".join("{" + n + "}" for n in sorted(allowed))
                raise TemplateProblem(
                    f"{{{name}}} is not a placeholder this message can use. Use only: {known}.", field=field
                )
    words = banned_words_for(organisation_id)
    checked = [("body", body)] if channel == C.SMS else [("subject", subject)]
    label = {"body": "text message", "subject": "email subject line"}
    for field, text in checked:
        word = banned_word_in(text, words)
        if word:
            raise TemplateProblem(
                f"The {label[field]} contains “{word}”, which must not appear in it: anyone who sees the phone "
                "or inbox could read it. Say it on the appointment page or in the email's body instead.", field=field
            )


# --- Rendering ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class _Values(dict):
    def __missing__(self, key):  # a template checked on saving has no unknown placeholders; defaults none
        return ""


def render(subject: str, body: str, values: dict) -> Rendered:
    values = _Values(values)
    values.setdefault("whose_cap", (values.get("whose") or "your")[:1].upper() + (values.get("whose") or "your")[1:])
    formatter = string.Formatter()
    return Rendered(subject=formatter.vformat(subject, (), values).strip(), body=formatter.vformat(body, (), values).strip())


def template_for(team, kind: str, channel: str, modality: str = "") -> tuple[str, str, MessageTemplate | None]:
    """The wording a team uses for `kind` on `channel` for `modality`: its own for that modality, its own
    for every modality, or the default."""
    found = {t.modality: t for t in MessageTemplate.objects.filter(team=team, kind=kind, channel=channel, modality__in=[modality, ""])}
    chosen = found.get(modality) or found.get("")
    if chosen is not None:
        return chosen.subject, chosen.body, chosen
    subject, body = default_template(kind, channel, modality)
    return subject, body, None
