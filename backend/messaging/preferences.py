"""How each person wants to be contacted, and the channel every message takes.

Messages are grouped for the person (five choices, not seven): booking confirmations, reminders,
changes and cancellations, how to join, and questionnaires. Each group goes by text message, email,
both, or not at all; changes and cancellations cannot be turned off on their own, because a person
who is not told their appointment moved or was cancelled turns up to nothing, so they stop only when
the person turns every message off (docs/messaging.md, "Preferences").

Defaults, for people who never chose: every group by text message when a mobile number is known,
by email otherwise (everyone has an email address: it is their login).
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from django.conf import settings

from backend.accounts.models import User
from backend.core.phone import normalise_phone_number
from backend.messaging.models import ContactPreference, Message

K = Message.Kind
C = Message.Channel

SMS, EMAIL, BOTH, OFF = "sms", "email", "both", "off"
CHOICES = {SMS: "By text message", EMAIL: "By email", BOTH: "By text message and email", OFF: "Do not send these"}

# group code -> (what the person reads, the kinds in it, whether it can be turned off on its own)
GROUPS = {
    "confirmation": ("When an appointment is booked", [K.CONFIRMATION], True),
    "reminder": ("Reminders before an appointment", [K.REMINDER], True),
    "change": ("When an appointment is changed or cancelled", [K.CHANGED, K.CANCELLED], False),
    "join": ("How to join (the video link, the phone call or the address)", [K.JOIN_LINK], True),
    "questionnaire": ("Questions to answer before an appointment", [K.QUESTIONNAIRE_DUE, K.QUESTIONNAIRE_NUDGE], True),
}
GROUP_OF = {kind: group for group, (_, kinds, _) in GROUPS.items() for kind in kinds}


def is_mobile(e164: str) -> bool:
    """Whether a stored (E.164) number can receive text messages (a mobile, by libphonenumber's rules)."""
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164, getattr(settings, "PHONE_DEFAULT_REGION", "GB"))
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def mobile_number_clean(text: str) -> str:
    """A typed mobile number as E.164, or "" for none; ValueError with a plain reason otherwise."""
    number = normalise_phone_number(text)
    if number and not is_mobile(number):
        raise ValueError("This is not a mobile number, so it cannot get text messages. Give a mobile number, or leave it empty.")
    return number


@dataclass(frozen=True)
class Contact:
    """A person's contact details and choices as they apply now (their row, or the defaults)."""

    person: User
    mobile_number: str
    email: str
    channels: dict[str, str]
    all_off: bool
    chosen: bool  # False: nobody has chosen yet, these are the defaults

    def choice_for(self, group: str) -> str:
        return self.channels[group]

    def channels_for(self, kind: str) -> list[str]:
        """The channels a message of `kind` goes by ([] when the person turned it off)."""
        if self.all_off:
            return []
        choice = self.channels[GROUP_OF[kind]]
        if choice == OFF:
            return []
        return [SMS, EMAIL] if choice == BOTH else [choice]

    def address_for(self, channel: str) -> str:
        return self.mobile_number if channel == SMS else self.email


def contact_for(person: User) -> Contact:
    row = ContactPreference.objects.filter(person=person).first()
    mobile = row.mobile_number if row and row.mobile_number else (person.phone_number if is_mobile(person.phone_number) else "")
    default = SMS if mobile else EMAIL
    channels = {group: default for group in GROUPS}
    if row is not None:
        channels.update({g: c for g, c in row.channels.items() if g in GROUPS and c in CHOICES})
    for group, (_, _, can_turn_off) in GROUPS.items():
        if not can_turn_off and channels[group] == OFF:
            channels[group] = default
    return Contact(
        person=person, mobile_number=mobile, email=(row.email if row and row.email else person.email), channels=channels,
        all_off=bool(row and row.all_off), chosen=row is not None,
    )


def fallback_channel_for(message: Message) -> str | None:
    """The channel to try when `message` failed for good on its own channel (a number that bounces, an
    inbox that refuses), or None when there is none left: the other channel, if the person has an
    address for it, did not turn the message's group off, and is not already getting a copy of it there.

    The sender (msgcore) calls this after marking a permanent failure; `message_fallback_queue` in
    services.py queues the copy."""
    other = EMAIL if message.channel == SMS else SMS
    contact = contact_for(message.recipient)
    if contact.all_off or contact.channels[GROUP_OF[message.kind]] == OFF or not contact.address_for(other):
        return None
    if other in contact.channels_for(message.kind):
        return None  # it already goes there too
    return other
