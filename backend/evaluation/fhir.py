"""Outcome measures as HL7 FHIR R4 resources, for FHIR Bulk Data NDJSON exports.

- `Questionnaire` (https://hl7.org/fhir/R4/questionnaire.html): one per instrument, its items as choice
  items with the instrument's answers as `answerOption.valueCoding` and LOINC codes where the
  catalogue has verified ones (docs/instruments.md), then a read-only `score` item for the total.
- `QuestionnaireResponse` (https://hl7.org/fhir/R4/questionnaireresponse.html): one per current
  response, its items linked by `linkId` to the Questionnaire's (and so to their LOINC codes; R4
  response items carry no code of their own). The subject is `Patient/<pseudonym>`, a reference to nothing but the pseudonym: no Patient
  resource, name, identifier or birth date is ever written. `authored` follows the export's date
  setting; a coarsened month is a FHIR partial date (YYYY-MM), which `dateTime` allows.

Pure functions over plain values: the selectors feed them a chunk at a time. Only elements that
exist in R4 (4.0.1) are used; the tests parse every line with `fhir.resources` (its R4B package,
identical to R4 for these two resources).
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
