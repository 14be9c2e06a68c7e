"""The modality report: counts, did-not-attend rates with Wilson intervals, suppression; API, page and downloads.

The cohort (conftest.py), worked by hand. Appointments attended / not attended:
    video 6 / 2 (8); phone 0 / 0 (0); face to face 8 / 0 (8); all 14 / 2 (16).
Primary suppression hides video's 2 and the total 2; video's row then hides its 6, and the totals row
its 14. Face to face is shown whole: 0 of 8 did not attend, Wilson 95% interval 0% to 32.4%.
"""

import csv
import io

from openpyxl import load_workbook

from backend.audit.models import AuditEvent
from backend.consent.models import PurposeCode
from backend.evaluation.report import report_build
from backend.evaluation.selectors import Filters
from backend.evaluation.statistics import TOTAL
from tests.factories import withdraw_consent


def by_modality(report):
    return {row.modality: row for row in report.by_modality}


def test_the_report_counts_suppresses_and_gives_intervals(cohort):
    report = report_build(Filters())
    assert report.enough_people and list(report.by_team) == [cohort.world.north.name]
    rows = by_modality(report)
    assert (rows["video"].courses, rows["video"].attended, rows["video"].did_not_attend, rows["video"].appointments) == (6 + 2, None, None, 8)
    assert rows["video"].dna.suppressed
    assert (rows["phone"].attended, rows["phone"].did_not_attend, rows["phone"].appointments, rows["phone"].courses) == (0, 0, 0, 0)
    assert rows["phone"].dna.value is None and not rows["phone"].dna.suppressed
    face = rows["face_to_face"]
    assert (face.courses, face.attended, face.did_not_attend, face.appointments) == (8, 8, 0, 8)
    assert (face.dna.value, face.dna.low, round(face.dna.high, 4)) == (0.0, 0.0, 0.3244)
    total = rows[TOTAL]
    assert (total.courses, total.attended, total.did_not_attend, total.appointments) == (8, None, None, 16)
    assert report.unattributed == 0  # the cancelled appointment is not an appointment here, and is not unattributed
    assert [(r.modality, r.attended, r.appointments) for r in report.by_team[cohort.world.north.name]] == [
        (r.modality, r.attended, r.appointments) for r in report.by_modality]


def test_fewer_than_five_people_shows_nothing(cohort):
    for user in cohort.people[:4]:
        withdraw_consent(user, PurposeCode.EVALUATION)
    report = report_build(Filters())
    assert not report.enough_people and report.by_modality == [] and report.by_team == {}


def test_the_api_answers_the_report_and_audits_it(cohort, api):
    response = api(cohort.world.evaluator).get("/api/v1/evaluation/report/", {"team": cohort.world.north.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    face = next(r for r in body["by_modality"] if r["modality"] == "face_to_face")
    assert face["did_not_attend_rate"]["numerator"] == 0 and round(face["did_not_attend_rate"]["high"], 4) == 0.3244
    video = next(r for r in body["by_modality"] if r["modality"] == "video")
    assert video["did_not_attend"] is None and video["did_not_attend_rate"]["suppressed"] is True
    assert body["by_team"][0]["team"] == cohort.world.north.name
    event = AuditEvent.objects.filter(object_type="evaluation.report").latest("sequence")
    assert event.detail["filters"] == {"team": cohort.world.north.pk} and event.actor == cohort.world.evaluator


def test_the_api_refuses_bad_filters(world, api):
    client = api(world.evaluator)
    assert client.get("/api/v1/evaluation/report/", {"colour": "red"}).json()["errors"][0]["field"] == "colour"
    backwards = client.get("/api/v1/evaluation/report/", {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert backwards.status_code == 400 and backwards.json()["errors"][0]["code"] == "date_range_backwards"


def test_the_page_shows_tables_and_a_chart_to_evaluators_only(cohort, client):
    client.force_login(cohort.world.evaluator)
    page = client.get("/evaluation/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Did-not-attend rate (95% interval)" in html and "0.0% (0.0% to 32.4%)" in html
    assert 'src="data:image/svg+xml;base64,' in html and "<script" not in html.split("</head>")[1]
    assert cohort.people[0].full_name not in html
    client.force_login(cohort.world.admin)
    assert client.get("/evaluation/").status_code == 403


def test_the_page_says_what_is_wrong_with_the_filters(world, client):
    client.force_login(world.evaluator)
    html = client.get("/evaluation/", {"date_from": "2026-05-02", "date_to": "2026-05-01"}).content.decode()
    assert "There is a problem" in html and "date_from is after date_to" in html


def test_the_tables_download_as_csv_and_excel_with_suppression_marked(cohort, client):
    client.force_login(cohort.world.evaluator)
    response = client.get("/evaluation/report.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    video = next(r for r in rows if r["team"] == "All teams" and r["modality"] == "video")
    assert (video["attended"], video["did_not_attend"], video["appointments"], video["did_not_attend_rate"]) == ("*", "*", "8", "*")
    workbook = load_workbook(io.BytesIO(client.get("/evaluation/report.xlsx").content))
    assert list(workbook["report"].values)[0][:3] == ("team", "modality", "courses")
    assert AuditEvent.objects.filter(object_type="evaluation.report", detail__shown_as="xlsx").exists()


def test_an_export_from_the_page_downloads_the_zip(cohort, client):
    client.force_login(cohort.world.evaluator)
    response = client.post("/evaluation/export/", {"dataset": "sessions", "format": "csv", "dates": "month", "site": "Leeds"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert AuditEvent.objects.filter(object_type="evaluation.export", via="web", detail__filters={"site": "Leeds"}).exists()
