"""Queries about consent and choice. `has_consent` is the one question every other app asks.

Consent holds when the latest record for (person, purpose[, carer]) is 'given' and is not stale:
stale means a wording version that requires re-consent has taken effect since the one agreed to.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from backend.accounts.models import CarerLink, User
from backend.accounts.selectors import sharing_carer_links
from backend.consent.models import Access, ConsentPurpose, ConsentRecord, ConsentWording, Modality, ModalityPreference, PurposeCode
from backend.core.errors import Conflict, InvalidInput


class ConsentMissing(Conflict):
    """An action needs a consent the person has not given (or has withdrawn). Names the purpose."""

    code = "consent_missing"


def purpose_by_code(code: str) -> ConsentPurpose:
    purpose = ConsentPurpose.objects.filter(code=code).first()
    if purpose is None:
        raise InvalidInput(f"There is no consent purpose '{code}'.", field="purpose", code="unknown_purpose")
    return purpose


def current_wording(purpose: ConsentPurpose) -> ConsentWording | None:
    """The wording in effect today: the highest version whose date has come."""
    return purpose.wordings.filter(effective_from__lte=timezone.localdate()).order_by("-version").first()


def wording_in_force(purpose: ConsentPurpose, on: date) -> ConsentWording | None:
    """The wording a decision made on `on` was made against: the highest version in effect that day."""
    return purpose.wordings.filter(effective_from__lte=on).order_by("-version").first()


def reconsent_version(purpose: ConsentPurpose) -> int:
    """Consent given to a version below this is stale (0: nothing requires re-consent)."""
    found = purpose.wordings.filter(requires_reconsent=True, effective_from__lte=timezone.localdate()).aggregate(v=Max("version"))["v"]
    return found or 0


def consent_latest(service_user: User, purpose: ConsentPurpose, carer: User | None = None) -> ConsentRecord | None:
    return (
        ConsentRecord.objects.filter(service_user=service_user, purpose=purpose, carer=carer)
        .select_related("wording").order_by("-id").first()
    )


def record_holds(record: ConsentRecord | None, purpose: ConsentPurpose) -> bool:
    return (
        record is not None
        and record.decision == ConsentRecord.Decision.GIVEN
        and record.wording.version >= reconsent_version(purpose)
    )


def has_consent(person: User, purpose_code: str, *, carer: User | None = None) -> bool:
    """Whether `person`'s consent to `purpose_code` (for `carer`, if the purpose names one) holds now."""
    purpose = purpose_by_code(purpose_code)
    return record_holds(consent_latest(person, purpose, carer), purpose)


def consents_holding(person: User, purpose_codes: list[str]) -> set[str]:
    """Which of `purpose_codes` `person`'s consent holds for now (not carer-specific purposes): the same
    question as `has_consent`, for several purposes in one query (the signalling socket's join and
    re-check ask it for remote care and video).

    Written as SQL, built once per process: as an ORM query with three correlated subqueries, building
    and compiling it cost about 3 ms of CPU per call, a quarter of a socket's whole join (issue 12,
    docs/performance.md). tests/consent/test_consent_records.py holds it to `has_consent`'s answers."""
    if not purpose_codes:
        return set()
    if connection.vendor != "postgresql":  # the SQL below is PostgreSQL's (LATERAL, ANY); SQLite asks one by one
        return {code for code in purpose_codes if has_consent(person, code)}
    with connection.cursor() as cursor:
        cursor.execute(_consents_holding_sql(), {"person": person.pk, "codes": list(purpose_codes), "today": timezone.localdate()})
        rows = cursor.fetchall()
    return {code for code, decision, version, needed in rows
            if decision == ConsentRecord.Decision.GIVEN and version is not None and version >= (needed or 0)}


@functools.cache
def _consents_holding_sql() -> str:
    """For each purpose: its code, the person's latest (non-carer) record's decision and wording version,
    and the highest version requiring re-consent that has taken effect."""
    purpose, record, wording = (model._meta.db_table for model in (ConsentPurpose, ConsentRecord, ConsentWording))
    return f"""
        SELECT p.code, latest.decision, latest.version,
               (SELECT max(w.version) FROM "{wording}" w
                 WHERE w.purpose_id = p.id AND w.requires_reconsent AND w.effective_from <= %(today)s)
          FROM "{purpose}" p
          LEFT JOIN LATERAL (
                SELECT r.decision, w.version FROM "{record}" r JOIN "{wording}" w ON w.id = r.wording_id
                 WHERE r.purpose_id = p.id AND r.service_user_id = %(person)s AND r.carer_id IS NULL
                 ORDER BY r.id DESC LIMIT 1) latest ON true
         WHERE p.code = ANY(%(codes)s)"""


def require_consent(person: User, purpose_code: str, *, because: str) -> None:
    """Raise ConsentMissing, naming the purpose, unless `person`'s consent to it holds."""
    if not has_consent(person, purpose_code):
        name = purpose_by_code(purpose_code).name
        raise ConsentMissing(
            f"{because} needs consent to '{name}', which has not been given or was withdrawn. "
            "It can be given on the consent page; face to face is always possible.",
            field=f"consent.{purpose_code}",
        )


def _holding(queryset: QuerySet, purpose: ConsentPurpose, service_user_ref: str, carer_ref: str | None = None) -> QuerySet:
    """Narrow `queryset` to rows whose service user (and carer) currently hold consent to `purpose`."""
    latest = ConsentRecord.objects.filter(purpose=purpose, service_user=OuterRef(service_user_ref))
    latest = latest.filter(carer=OuterRef(carer_ref)) if carer_ref else latest.filter(carer__isnull=True)
    latest = latest.order_by("-id")
    decision, version = f"_consent_{purpose.code}_decision", f"_consent_{purpose.code}_version"
    return queryset.annotate(
        **{decision: Subquery(latest.values("decision")[:1]), version: Subquery(latest.values("wording__version")[:1])}
    ).filter(**{decision: ConsentRecord.Decision.GIVEN, f"{version}__gte": reconsent_version(purpose)})


def service_users_consenting_to(purpose_code: str, among: QuerySet[User] | None = None) -> QuerySet[User]:
    """Service users whose consent to `purpose_code` holds now (e.g. evaluation, for every export)."""
    among = among if among is not None else User.objects.filter(role="service_user")
    return _holding(among, purpose_by_code(purpose_code), "pk")


def links_with_carer_consent(links: QuerySet[CarerLink]) -> QuerySet[CarerLink]:
    """Carer links through which anything is shared: the person's consent to involve that carer holds.
    Registered with accounts as a carer sharing rule (see ConsentConfig.ready)."""
    return _holding(links, purpose_by_code(PurposeCode.CARER_INVOLVEMENT), "service_user", "carer")


@dataclass(frozen=True)
class ConsentState:
    """Where one purpose stands for a person now."""

    purpose: ConsentPurpose
    wording: ConsentWording | None  # the current wording, which any new decision is made against
    latest: ConsentRecord | None
    carer: User | None = None

    @property
    def status(self) -> str:
        """given, refused, withdrawn, stale (given to a superseded wording) or not_asked."""
        if self.latest is None:
            return "not_asked"
        if self.latest.decision == ConsentRecord.Decision.GIVEN and not record_holds(self.latest, self.purpose):
            return "stale"
        return self.latest.decision

    @property
    def holds(self) -> bool:
        return self.status == ConsentRecord.Decision.GIVEN


def consent_states(service_user: User) -> list[ConsentState]:
    """One state per purpose, and per active carer link for purposes that name a carer."""
    purposes = list(ConsentPurpose.objects.all())
    records = ConsentRecord.objects.filter(service_user=service_user).select_related("wording", "carer").order_by("id")
    latest = {(r.purpose_id, r.carer_id): r for r in records}  # later rows overwrite earlier ones
    carers = [link.carer for link in CarerLink.objects.in_effect().filter(service_user=service_user).select_related("carer")]
    states = []
    for purpose in purposes:
        wording = current_wording(purpose)
        for carer in carers if purpose.names_a_carer else [None]:
            states.append(ConsentState(purpose, wording, latest.get((purpose.pk, carer.pk if carer else None)), carer))
    return states


def consent_history(service_user: User) -> QuerySet[ConsentRecord]:
    return ConsentRecord.objects.filter(service_user=service_user).select_related(
        "purpose", "wording", "carer", "recorded_by"
    ).order_by("-id")


# --- Modality preference and digital access -------------------------------------------------------
def preference_current(service_user: User) -> ModalityPreference | None:
    return ModalityPreference.objects.filter(service_user=service_user).order_by("-id").first()


def preference_history(service_user: User) -> QuerySet[ModalityPreference]:
    return ModalityPreference.objects.filter(service_user=service_user).select_related("recorded_by").order_by("-id")


def preferences_current_for(service_users) -> dict[int, ModalityPreference]:
    """The current preference of each of many people, in one query (for caseload pages)."""
    latest_ids = ModalityPreference.objects.filter(service_user__in=service_users).values("service_user").annotate(last=Max("id")).values("last")
    return {p.service_user_id: p for p in ModalityPreference.objects.filter(id__in=latest_ids)}


def access_needs(preference: ModalityPreference | None) -> list[str]:
    """What a clinician should see at a glance: who needs face to face, a phone call, or support.

    Derived from the person's own answers; the codes are in the data dictionary.
    """
    if preference is None:
        return ["not_asked"]
    needs = []
    lacks = lambda answer: answer == Access.NO  # noqa: E731
    if preference.first_choice == Modality.FACE_TO_FACE or lacks(preference.has_private_space) or lacks(preference.has_suitable_device):
        needs.append("face_to_face")
    if preference.first_choice == Modality.PHONE or lacks(preference.has_enough_data):
        needs.append("phone")
    if preference.wants_help or preference.confident_using in (Access.NO, Access.UNSURE):
        needs.append("support")
    return needs


ACCESS_NEED_LABELS = {
    "not_asked": "Preference not asked yet",
    "face_to_face": "May need face to face",
    "phone": "May need a phone call",
    "support": "Would like help with video",
}



def service_users_sharing_scores_with(carer: User) -> QuerySet[User]:
    """People who chose to share their questionnaire scores with this carer, while their consent to
    involve the carer holds (the carer's sharing links already require that)."""
    latest = ConsentRecord.objects.filter(
        purpose__code=PurposeCode.CARER_INVOLVEMENT, service_user=OuterRef("service_user"), carer=OuterRef("carer")
    ).order_by("-id")
    links = sharing_carer_links().filter(carer=carer).annotate(_shares_scores=Subquery(latest.values("share_outcomes")[:1]))
    return User.objects.filter(pk__in=links.filter(_shares_scores=True).values("service_user"))
