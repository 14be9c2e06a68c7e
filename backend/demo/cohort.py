"""A synthetic cohort for the demo, so an evaluator sees a report with figures for every modality.

Made of invented people only (references COHORT-0001 ...; no names, no contact details). A year of
courses of care is written as the CSV a historic system would export and brought in through the real
historic import (`backend.outcomes.imports.import_csv`: service users, courses, appointments and
scored responses are all made by the services), then most people agree to evaluation through
`consent_record`. A seeded random generator makes the same cohort every time for the same day.

The shape is invented to look like routine NHS Talking Therapies care, not drawn from any data set
(and its proportions are not published figures): each person has a way of being seen they mostly use
(video, phone or face to face, a third each) and sometimes another; about one treatment appointment in
eight is missed; a course is an assessment (sometimes a combined assessment and treatment) then two to
nine treatment appointments a week or two apart; PHQ-9 and GAD-7 are asked at every attended
appointment and follow one of the paths below.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from backend.accounts.models import ServiceUserReference, Team, User
from backend.audit.actor import Actor
from backend.consent import services as consent_services
from backend.consent.models import ConsentPurpose, ConsentRecord, Modality, PurposeCode
from backend.consent.selectors import current_wording
from backend.outcomes import imports

PREFIX = "COHORT-"
SEED = 20261130
MODALITIES = (Modality.VIDEO, Modality.PHONE, Modality.FACE_TO_FACE)
PHQ_ITEMS, GAD_ITEMS = 9, 7
HEADER = ["service_user_ref", "course_ref", "referral_date", "end_date", "ending_reason", "appointment_ref", "date", "type", "modality",
          "attended", *[f"phq9_{n}" for n in range(1, PHQ_ITEMS + 1)], *[f"gad7_{n}" for n in range(1, GAD_ITEMS + 1)]]


def _items(total: int, count: int, rng: random.Random, *, spare_last: bool = False) -> list[int]:
    """Item answers (0 to 3) adding up to `total`, spread at random. With `spare_last` the last item
    (PHQ-9 item 9, the risk item) stays 0, so the cohort raises no risk flags of its own."""
    slots = count - 1 if spare_last else count
    total = max(0, min(total, 3 * slots))
    values = [0] * slots
    for _ in range(total):
        values[rng.choice([i for i, v in enumerate(values) if v < 3])] += 1
    return values + ([0] if spare_last else [])


# Each person follows one of ten paths, dealt in turn to video, phone and face-to-face users so that
# every path has five or more people in every modality once there are 150 or more people (fewer would
# be suppressed in the report). For each path, the ranges of the first and the last PHQ-9 score, then of
# GAD-7, chosen against the published cut-offs (caseness 10 and 8; reliable change 6 and 4,
# docs/instruments.md) so that every person on a path has its outcome.
PATHS = (
    ("reliable recovery", (16, 20, 3, 9), (12, 15, 2, 7)),
    ("reliable recovery", (16, 20, 3, 9), (12, 15, 2, 7)),
    ("recovery without reliable change", (10, 12, 7, 9), (8, 9, 6, 7)),
    ("reliable improvement, still a case", (20, 25, 12, 14), (14, 18, 9, 10)),
    ("no reliable change", (14, 16, 13, 17), (10, 12, 10, 12)),
    ("reliable deterioration", (10, 13, 19, 22), (8, 10, 14, 16)),
    ("not at caseness at the start", (5, 9, 2, 5), (3, 7, 1, 4)),
    ("ended after one treatment appointment", (12, 20, 10, 18), (9, 15, 7, 14)),
    ("ended after the assessment", (12, 20, 12, 20), (9, 15, 9, 15)),
    ("still in care", (12, 20, 8, 18), (9, 15, 6, 14)),
)


def _scores(rng: random.Random, spec: tuple[int, int, int, int], attended: int) -> list[int]:
    """A score for each attended appointment, from a first to a last in `spec`'s ranges, roughly linear."""
    first, last = rng.randint(spec[0], spec[1]), rng.randint(spec[2], spec[3])
    if attended == 1:
        return [first]
    between = (max(0, round(first + (last - first) * k / (attended - 1)) + rng.choice([-1, 0, 0, 1])) for k in range(1, attended - 1))
    return [first, *between, last]


def _course(number: int, rng: random.Random, today: date) -> list[list]:
    """One person's course as import rows. `number` counts from 1."""
    ref = f"{PREFIX}{number:04d}"
    usual = MODALITIES[(number - 1) % len(MODALITIES)]
    path = ((number - 1) // len(MODALITIES)) % len(PATHS)
    name, phq_spec, gad_spec = PATHS[path]
    # Who came to what: an assessment (a third of the time combined with the first treatment), then
    # treatment appointments a week or two apart; about one in eight missed, never the first or last.
    if name == "ended after one treatment appointment":
        went = [True, True]
    elif name == "ended after the assessment":
        went = [True, False, False]
    else:
        went = [True, True, *(rng.random() > 0.12 for _ in range(rng.randint(1, 7))), True]
    gaps = [rng.choice([7, 7, 7, 14]) for _ in went]
    span = sum(gaps[:-1])
    if name == "still in care":
        went = went[:rng.randint(2, 4)]
        start = today - timedelta(days=rng.randint(1, 3) + sum(gaps[:len(went) - 1]))
    else:
        start = today - timedelta(days=rng.randint(span + 21, 365))
    referral = start - timedelta(days=rng.randint(7, 42))
    phq = iter(_scores(rng, phq_spec, sum(went)))
    gad = iter(_scores(rng, gad_spec, sum(went)))
    rows, when, kept, switched = [], start, 0, 0
    for index, attended in enumerate(went):
        kind = ("assessment_and_treatment" if rng.random() < 0.3 else "assessment") if index == 0 else "treatment"
        # Now and then another way of meeting, but never so often that the usual one is not the
        # majority of attended appointments (so no course is "mixed").
        modality = usual
        if attended and kept > switched + 1 and rng.random() < 0.15:
            modality = rng.choice([m for m in MODALITIES if m != usual])
        if attended:
            kept, switched = (kept + 1, switched) if modality == usual else (kept, switched + 1)
        answers = [*_items(next(phq), PHQ_ITEMS, rng, spare_last=True), *_items(next(gad), GAD_ITEMS, rng)] if attended else [""] * (
            PHQ_ITEMS + GAD_ITEMS)
        rows.append([ref, f"{ref}-C1", referral.isoformat(), "", "", f"{ref}-A{index + 1:02d}", when.isoformat(), kind, modality,
                     "yes" if attended else "no", *answers])
        when += timedelta(days=gaps[index])
    if name != "still in care":
        end = date.fromisoformat(rows[-1][6]) + timedelta(days=rng.randint(0, 6))
        reason = "completed" if name not in ("ended after one treatment appointment", "ended after the assessment") else rng.choice(
            ["dropped_out", "declined"])
        for row in rows:
            row[3], row[4] = min(end, today).isoformat(), reason
    return rows


def cohort_csv(size: int, *, today: date, seed: int = SEED) -> str:
    """The cohort as an import file (docs/import.md), the same for the same size, day and seed."""
    rng = random.Random(seed)
    rows = [row for number in range(1, size + 1) for row in _course(number, rng, today)]
    return "\n".join(",".join(str(v) for v in line) for line in [HEADER, *rows]) + "\n"


def cohort_seed(*, admin: User, team: Team, size: int, today: date, seed: int = SEED) -> int:
    """Import the cohort into `team` and record evaluation consent for most of it. Does nothing when
    the team's organisation already holds a cohort; returns the number of people created."""
    if ServiceUserReference.objects.filter(organisation=team.organisation_id, reference__startswith=PREFIX).exists():
        return 0
    result = imports.import_csv(actor=Actor(admin, via="command"), team=team, text=cohort_csv(size, today=today, seed=seed))
    purpose = ConsentPurpose.objects.get(code=PurposeCode.EVALUATION)
    wording = current_wording(purpose).version
    people = ServiceUserReference.objects.filter(organisation=team.organisation_id, reference__startswith=PREFIX).select_related(
        "service_user").order_by("reference")
    for index, ref in enumerate(people):
        # Everyone agrees but the last tenth (of 200: the last twenty, at most one in each modality and
        # path), who are split between refusing and never being asked, so the report loses nobody it needs.
        if index < size * 9 // 10:
            decision = ConsentRecord.Decision.GIVEN
        elif index % 2:
            decision = ConsentRecord.Decision.REFUSED
        else:
            continue
        person = ref.service_user
        consent_services.consent_record(actor=Actor(person, via="command"), service_user=person, purpose=purpose, decision=decision,
                                        wording_version=wording)
    return result.service_users_created
