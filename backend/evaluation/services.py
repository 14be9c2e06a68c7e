"""Making exports: the one action in evaluation, and the one place it is audited.

`export_make` writes a zip (the data file, its data dictionary as CSV and Markdown) into a file the
caller gives, chunk by chunk, and appends an audit event naming who asked, the filters, the date
setting, the row and people counts and the SHA-256 of every file. A refused export (too few people)
is audited too, with what was asked.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from django.utils import timezone

from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.core.errors import Conflict, Forbidden, InvalidInput
from backend.evaluation import dictionary
from backend.evaluation.formats import WRITERS
from backend.evaluation.pseudonyms import DateSetting
from backend.evaluation.report import Report, report_build
from backend.evaluation.roles import ROWS as ROLE_ROWS
from backend.evaluation.roles import RoleSiteReport, role_site_report_build
from backend.evaluation.selectors import DEFAULT_CHUNK_SIZE, ROWS, Filters
from backend.evaluation.statistics import SUPPRESS_BELOW


class TooFewPeople(Conflict):
    """An export or report would hold fewer people than small-number suppression allows."""

    code = "too_few_people"

    def __init__(self, people_word: str = "people"):
        super().__init__(
            f"Fewer than {SUPPRESS_BELOW} {people_word} match, so nothing is exported: people could be recognised in so small "
            "a group. Widen the filters (a longer date range, more teams or sites).",
            field="filters",
        )


@dataclass(frozen=True)
class ExportRequest:
    dataset: str
    format: str
    dates: DateSetting = field(default_factory=DateSetting)
    filters: Filters = field(default_factory=Filters)

    @property
    def filename(self) -> str:
        return f"rapport-{self.dataset}-{timezone.localdate():%Y%m%d}.zip"

    def describe(self) -> dict:
        return {"dataset": self.dataset, "format": self.format, "dates": self.dates.mode,
                "max_shift_days": self.dates.max_shift_days if self.dates.mode == "shifted" else None,
                "filters": self.filters.given()}


@dataclass(frozen=True)
class ExportResult:
    filename: str
    rows: int
    people: int
    sha256: dict[str, str]  # file name (in the zip, and the zip itself) -> hex digest


class _HashingStream:
    """A write-only stream that hashes what passes through it (zipfile then writes without seeking)."""

    def __init__(self, target: BinaryIO):
        self.target, self.hash = target, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _readme(request: ExportRequest, dataset: dictionary.Dataset, rows: int, people: int) -> str:
    given = request.filters.given()
    return "\n".join([
        f"Rapport evaluation export: {dataset.title}",
        "",
        f"- Made: {timezone.localtime():%Y-%m-%d %H:%M %Z}",
        f"- Rows: {rows} ({dataset.unit}); people: {people}",
        f"- Dates: {request.dates.describe()}",
        "- Filters: " + (", ".join(f"{k}={v}" for k, v in given.items()) or "none"),
        "- Only people whose consent to evaluation held when the export was made are included.",
        "",
        "Types: " + "; ".join(f"`{name}`: {meaning}" for name, meaning in dictionary.TYPE_MEANINGS.items()) + ".",
        "",
        *dictionary.section(dataset),
    ]) + "\n"


def within_organisation(actor: Actor, filters: Filters) -> Filters:
    """`filters` bounded to the asking evaluator's organisation: its teams, and people registered with
    it. An account with no organisation gets nothing rather than everything. Only the operator's
    command without `--by` (no account at all: someone with the database in hand) is unbounded."""
    if actor.user is None:
        return filters
    organisation = actor.user.organisation_id
    if organisation is None:
        raise Forbidden("Your account belongs to no organisation, so there is nothing you may export. Ask an administrator.")
    return replace(filters, organisation=organisation)


def export_make(*, actor: Actor, request: ExportRequest, into: BinaryIO, chunk_size: int = DEFAULT_CHUNK_SIZE) -> ExportResult:
    """Write the export as a zip into `into`. Raises InvalidInput for filters the dataset cannot honour
    and TooFewPeople (nothing written) when fewer than SUPPRESS_BELOW people would be in it. Only the
    asker's organisation's data is read (within_organisation)."""
    request = replace(request, filters=within_organisation(actor, request.filters))
    dataset = dictionary.DATASETS[request.dataset]
    if request.format not in dataset.formats:
        raise InvalidInput(f"The {dataset.code} dataset comes as " + " or ".join(dataset.formats) + ".", field="format", code="not_applicable")
    request.filters.check_for(dataset)
    rows_of = {**ROWS, **ROLE_ROWS}[dataset.code]
    with tempfile.TemporaryDirectory(prefix="rapport-export-") as directory:
        writer = WRITERS[request.format](Path(directory), dataset, request.dates.column_type)
        people: set[int] = set()
        try:
            for rows, person_ids in rows_of(request.filters, request.dates, chunk_size):
                writer.write(rows)
                people.update(person_ids)
        finally:
            writer.close()
        # Counted on what was written (in a temporary folder nobody else reads), so a withdrawal
        # during the export cannot let a smaller group out; a refused export leaves nothing behind.
        if len(people) < SUPPRESS_BELOW:
            _audit(actor, request, outcome="refused_too_few_people")
            raise TooFewPeople()
        dictionary_csv = Path(directory) / "data-dictionary.csv"
        pd.DataFrame(dictionary.as_rows(dataset)).to_csv(dictionary_csv, index=False)
        readme = Path(directory) / "data-dictionary.md"
        readme.write_text(_readme(request, dataset, writer.rows, len(people)), encoding="utf-8")
        files = [*writer.paths, dictionary_csv, readme]
        sha256 = {path.name: _sha256(path) for path in files}
        stream = _HashingStream(into)
        # Fastest deflate: Parquet is compressed already, and level 1 shrinks CSV nearly as well as 6.
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for path in files:
                archive.write(path, arcname=path.name)
        sha256[request.filename] = stream.hash.hexdigest()
    result = ExportResult(filename=request.filename, rows=writer.rows, people=len(people), sha256=sha256)
    _audit(actor, request, outcome="made", result=result)
    return result


def _audit(actor: Actor, request: ExportRequest, *, outcome: str, result: ExportResult | None = None) -> None:
    detail = {**request.describe(), "outcome": outcome}
    if result is not None:
        detail.update(rows=result.rows, people=result.people, sha256=result.sha256, filename=result.filename)
    audit_record(actor=actor, action=AuditEvent.Action.LIST, object_type="evaluation.export", detail=detail)


def report_make(*, actor: Actor, filters: Filters, shown_as: str) -> Report:
    """The modality report for `filters`, audited like an export (`shown_as`: page, api, csv, xlsx),
    within the asker's organisation."""
    filters = within_organisation(actor, filters)
    filters.check_for(dictionary.SESSIONS)
    report = report_build(filters)
    audit_record(
        actor=actor, action=AuditEvent.Action.LIST, object_type="evaluation.report",
        detail={"filters": filters.given(), "shown_as": shown_as, "enough_people": report.enough_people, "rows": len(report.rows())},
    )
    return report


def role_site_report_make(*, actor: Actor, filters: Filters, shown_as: str) -> RoleSiteReport:
    """The report by practitioner role and site (engagement and paired outcomes), audited like the
    modality report, within the asker's organisation."""
    filters = within_organisation(actor, filters)
    filters.check_for(dictionary.ENGAGEMENT)
    report = role_site_report_build(filters)
    audit_record(
        actor=actor, action=AuditEvent.Action.LIST, object_type="evaluation.report",
        detail={"report": "by_role_and_site", "filters": filters.given(), "shown_as": shown_as, "enough_people": report.enough_people,
                "rows": len(report.engagement) + len(report.outcomes)},
    )
    return report
