"""Outcome measures, appointments and consent as HL7 FHIR R4 resources, for FHIR Bulk Data NDJSON exports.

- `Questionnaire` (https://hl7.org/fhir/R4/questionnaire.html): one per instrument, its items as choice
  items with the instrument's answers as `answerOption.valueCoding` and LOINC codes where the
  catalogue has verified ones (docs/instruments.md), then a read-only `score` item for the total.
- `QuestionnaireResponse` (https://hl7.org/fhir/R4/questionnaireresponse.html): one per current
  response, its items linked by `linkId` to the Questionnaire's (and so to their LOINC codes; R4
  response items carry no code of their own). The subject is `Patient/<pseudonym>`, a reference to nothing but the pseudonym: no Patient
  resource, name, identifier or birth date is ever written. `authored` follows the export's date
  setting; a coarsened month is a FHIR partial date (YYYY-MM), which `dateTime` allows.
- `Encounter` (https://hl7.org/fhir/R4/encounter.html) and `Appointment`
  (https://hl7.org/fhir/R4/appointment.html): one of each per appointment, both with its `A…`
  reference as id; roles, never people (docs/evaluation.md, FHIR).
- `Consent` (https://hl7.org/fhir/R4/consent.html): one per consent decision.

Pure functions over plain values: the selectors feed them a chunk at a time. Only elements that
exist in R4 (4.0.1) are used; the tests parse every line with `fhir.resources` (its R4B package,
identical to R4 for these resources).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

LOINC = "http://loinc.org"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
SCORE_LINK = "score"


@dataclass(frozen=True)
class Item:
    number: int
    text: str
    loinc: str


@dataclass(frozen=True)
class Form:
    """What the resources need of an instrument."""

    code: str
    version: str
    title: str
    is_active: bool
    licence: str
    loinc_panel: str
    loinc_total: str
    items: tuple[Item, ...]
    options: dict[int, str]  # value -> label

    @property
    def url(self) -> str:
        return f"urn:rapport:questionnaire:{self.code}"

    @property
    def answer_system(self) -> str:
        return f"{self.url}:answer"

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"


def fhir_id(code: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) from an instrument code (a slug, which may hold underscores)."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", code)[:64]


def _loinc(code: str, display: str) -> list[dict]:
    return [{"system": LOINC, "code": code, "display": display}] if code else []


def _coding(form: Form, value: int) -> dict:
    return {"system": form.answer_system, "code": str(value), "display": form.options.get(value, str(value))}


def questionnaire(form: Form) -> dict:
    items = []
    for item in form.items:
        entry = {"linkId": str(item.number), "text": item.text, "type": "choice", "required": True}
        if item.loinc:
            entry["code"] = _loinc(item.loinc, item.text)
        entry["answerOption"] = [
            {"valueCoding": {**_coding(form, value), "extension": [{"url": ORDINAL_VALUE, "valueDecimal": value}]}}
            for value in sorted(form.options)
        ]
        items.append(entry)
    score = {"linkId": SCORE_LINK, "text": f"{form.title}: reported score", "type": "decimal", "readOnly": True}
    if form.loinc_total:
        score["code"] = _loinc(form.loinc_total, f"{form.title} total score")
    resource = {
        "resourceType": "Questionnaire", "id": fhir_id(form.code), "url": form.url, "version": form.version,
        "name": re.sub(r"[^A-Za-z0-9_]", "_", form.code.upper()), "title": form.title,
        "status": "active" if form.is_active else "retired",
    }
    if form.licence:
        resource["copyright"] = form.licence
    if form.loinc_panel:
        resource["code"] = _loinc(form.loinc_panel, form.title)
    resource["item"] = [*items, score]
    return resource


def questionnaire_response(*, form: Form, ref: str, person: str, appointment: str | None, authored: date | str,
                           answers: list[tuple[int, int | None]], score: Decimal | float | None) -> dict:
    """`answers`: (item number, value or None when unanswered), in item order. R4 response items have
    no `code`: each links by `linkId` to its Questionnaire item, which carries the LOINC code."""
    items = [{"linkId": str(number), "answer": [{"valueCoding": _coding(form, value)}]} for number, value in answers if value is not None]
    if score is not None:
        items.append({"linkId": SCORE_LINK, "answer": [{"valueDecimal": float(score)}]})
    resource = {
        "resourceType": "QuestionnaireResponse", "id": ref, "questionnaire": form.canonical, "status": "completed",
        "subject": {"reference": f"Patient/{person}"},
    }
    if appointment:
        resource["encounter"] = {"reference": f"Encounter/{appointment}"}
    resource["authored"] = authored.isoformat() if isinstance(authored, date) else authored
    resource["item"] = items
    return resource


# --- Encounters, appointments and consent ----------------------------------------------------------------
# Times of day are never exported (docs/evaluation.md, Dates): FHIR's Appointment.start and end are
# instants, so they carry the data-absent-reason `masked` instead, and the day (per the export's date
# setting) is in requestedPeriod and in the Encounter's period.
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CANCELLATION_REASON = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
UCUM = "http://unitsofmeasure.org"
KIND_SYSTEM = "urn:rapport:appointment-kind"
MODALITY_SYSTEM = "urn:rapport:modality"
ROLE_SYSTEM = "urn:rapport:role"
PURPOSE_SYSTEM = "urn:rapport:consent-purpose"

# Encounter.class (v3 ActCode): VR "virtual" for video and phone, AMB "ambulatory" for face to face.
ENCOUNTER_CLASS = {"video": ("VR", "virtual"), "phone": ("VR", "virtual"), "face_to_face": ("AMB", "ambulatory")}
# Rapport's appointment status -> (Encounter.status, Appointment.status), R4 value sets.
STATUSES = {
    "scheduled": ("planned", "booked"), "waiting": ("arrived", "arrived"), "in_progress": ("in-progress", "arrived"),
    "ended": ("finished", "fulfilled"), "cancelled": ("cancelled", "cancelled"), "did_not_attend": ("cancelled", "noshow"),
}
# Consent.scope (R4 consentscope) by purpose: evaluation is research; carer involvement shares
# information; remote care and video are about treatment; any other purpose an admin adds shares information.
CONSENT_SCOPES = {
    "evaluation": ("research", "Research"), "remote_care": ("treatment", "Treatment"), "video": ("treatment", "Treatment"),
    "carer_involvement": ("patient-privacy", "Privacy Consent"),
}
OTHER_SCOPE = ("patient-privacy", "Privacy Consent")
PATIENT_CONSENT = {"system": LOINC, "code": "59284-0", "display": "Patient Consent"}


@dataclass(frozen=True)
class Contact:
    """What the Encounter and Appointment resources need of one appointment (dates already shown per
    the export's date setting; roles are roles, never people)."""

    ref: str
    person: str
    course: str | None
    status: str
    kind: str
    modality: str | None  # delivered, else chosen
    day: date | str
    started: date | str | None
    ended: date | str | None
    minutes: float | None
    booked_minutes: int
    practitioner_role: str | None
    carer_joined: bool
    cancelled_by_person: bool | None  # None: not cancelled, or by someone unknown


def _absent(reason: str = "masked") -> dict:
    return {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": reason}]}


def _day(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else value


def _participation(code: str, display: str, role: str) -> list[dict]:
    """A participant's type: the v3 participation, and the Rapport role (never who it was)."""
    return [{"coding": [{"system": PARTICIPATION_TYPE, "code": code, "display": display}]},
            {"coding": [{"system": ROLE_SYSTEM, "code": role}]}]


def _kind(contact: Contact) -> dict:
    return {"coding": [{"system": KIND_SYSTEM, "code": contact.kind}]}


def encounter(contact: Contact) -> dict:
    status = STATUSES[contact.status][0]
    code, display = ENCOUNTER_CLASS.get(contact.modality or "", (None, None))
    klass = ({"system": ACT_CODE, "code": code, "display": display} if code
             else {"system": NULL_FLAVOR, "code": "UNK", "display": "unknown"})
    types = [_kind(contact)]
    if contact.modality:
        types.append({"coding": [{"system": MODALITY_SYSTEM, "code": contact.modality}]})
    resource = {"resourceType": "Encounter", "id": contact.ref, "status": status, "class": klass, "type": types,
                "subject": {"reference": f"Patient/{contact.person}"}}
    if contact.course:
        resource["episodeOfCare"] = [{"reference": f"EpisodeOfCare/{contact.course}"}]
    participants = []
    if contact.practitioner_role:
        participants.append({"type": _participation("PPRF", "primary performer", contact.practitioner_role)})
    if contact.carer_joined:
        participants.append({"type": _participation("PART", "Participation", "carer")})
    if participants:
        resource["participant"] = participants
    resource["appointment"] = [{"reference": f"Appointment/{contact.ref}"}]
    period = {"start": _day(contact.started if contact.started is not None else contact.day)}
    if contact.ended is not None:
        period["end"] = _day(contact.ended)
    resource["period"] = period
    if contact.minutes is not None:
        resource["length"] = {"value": contact.minutes, "unit": "min", "system": UCUM, "code": "min"}
    return resource


def appointment(contact: Contact) -> dict:
    status = STATUSES[contact.status][1]
    resource = {"resourceType": "Appointment", "id": contact.ref, "status": status}
    if status == "cancelled" and contact.cancelled_by_person is not None:
        code, display = ("pat", "Patient") if contact.cancelled_by_person else ("prov", "Provider")
        resource["cancelationReason"] = {"coding": [{"system": CANCELLATION_REASON, "code": code, "display": display}]}
    resource.update({
        "appointmentType": _kind(contact), "_start": _absent(), "_end": _absent(), "minutesDuration": contact.booked_minutes,
        "requestedPeriod": [{"start": _day(contact.day), "end": _day(contact.day)}],
        "participant": [{"actor": {"reference": f"Patient/{contact.person}"}, "status": "accepted"}],
    })
    if contact.practitioner_role:
        practitioner = _participation("PPRF", "primary performer", contact.practitioner_role)
        resource["participant"].append({"type": practitioner, "status": "accepted"})
    return resource


def consent(*, ref: str, person: str, purpose: str, decision: str, in_force: bool, recorded: date | str,
            wording_version: int) -> dict:
    """One consent decision. `in_force`: no later decision of the person's replaces it (for the same
    purpose and carer). Status: a refusal is rejected; a withdrawal, or a consent given and since
    replaced, inactive; a consent given and in force, active. provision.type says what was decided."""
    status = "rejected" if decision == "refused" else "active" if decision == "given" and in_force else "inactive"
    scope, display = CONSENT_SCOPES.get(purpose, OTHER_SCOPE)
    return {
        "resourceType": "Consent", "id": ref, "status": status,
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": scope, "display": display}]},
        "category": [{"coding": [PATIENT_CONSENT]}],
        "patient": {"reference": f"Patient/{person}"}, "dateTime": _day(recorded),
        "policy": [{"uri": f"urn:rapport:consent:{purpose}:wording:{wording_version}"}],
        "provision": {"type": "permit" if decision == "given" else "deny",
                      "purpose": [{"system": PURPOSE_SYSTEM, "code": purpose}]},
    }
