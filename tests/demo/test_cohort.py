"""The demo's synthetic cohort: `seed_demo --cohort 200` (what `make run` uses) gives an evaluator a
report with figures for every modality, made through the services, the same every time."""

from datetime import date

from django.core.management import call_command

from backend.accounts.models import ServiceUserReference
from backend.consent.models import ConsentRecord, PurposeCode
from backend.demo.cohort import cohort_csv
from backend.evaluation.report import report_build
from backend.evaluation.selectors import Filters
from backend.evaluation.statistics import TOTAL
from backend.outcomes.models import Response
from backend.sessions.models import Appointment, CourseOfCare


def test_the_cohort_is_the_same_for_the_same_day_and_differs_by_seed():
    today = date(2026, 11, 30)
    text = cohort_csv(200, today=today)
    assert text == cohort_csv(200, today=today) and text != cohort_csv(200, today=today, seed=1)
    rows = text.splitlines()[1:]
    assert len({row.split(",")[0] for row in rows}) == 200
    # Every appointment is in the past year.
    days = [date.fromisoformat(row.split(",")[6]) for row in rows]
    assert max(days) < today and (today - min(days)).days <= 365
    assert {row.split(",")[7] for row in rows} == {"assessment", "assessment_and_treatment", "treatment"}
    assert {row.split(",")[8] for row in rows} == {"video", "phone", "face_to_face"}


def test_seed_demo_with_a_cohort_gives_a_report_with_every_modality_shown(db, capsys):
    call_command("seed_demo", "--cohort", "200")
    assert "Synthetic cohort: 200 people imported" in capsys.readouterr().out
    cohort = ServiceUserReference.objects.filter(reference__startswith="COHORT-")
    assert cohort.count() == 200
    people = cohort.values("service_user_id")
    evaluation = ConsentRecord.objects.filter(service_user__in=people, purpose__code=PurposeCode.EVALUATION)
    assert (evaluation.filter(decision="given").count(), evaluation.filter(decision="refused").count()) == (180, 10)
    appointments = Appointment.objects.filter(service_user__in=people)
    assert 0.05 < appointments.filter(status="did_not_attend").count() / appointments.count() < 0.2  # some missed, most not
    assert Response.objects.filter(service_user__in=people, mode="imported").exists()
    assert CourseOfCare.objects.filter(service_user__in=people, ended_on__isnull=True).count() >= 15  # some still in care

    report = report_build(Filters())
    assert report.enough_people
    rows = {row.modality: row for row in report.outcomes_by_modality}
    for modality in ("video", "phone", "face_to_face", TOTAL):
        row = rows[modality]
        assert None not in row.counts and row.finished >= 30, (modality, row.counts)
        assert not any(rate.suppressed for rate in [*row.rates.values(), *row.shares.values()]), modality
        assert row.rates["reliable_deterioration"].numerator >= 5 and row.at_caseness < row.paired < row.finished + 1
        assert row.finished < row.ended  # some ended without finishing a course of treatment
    for row in report.by_modality:
        assert None not in row.counts and row.dna.numerator >= 5, row.modality

    # Again: the cohort is there already and stays as it is.
    call_command("seed_demo", "--cohort", "200")
    assert "already there" in capsys.readouterr().out and cohort.count() == 200
    assert evaluation.count() == 190
