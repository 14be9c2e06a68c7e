"""The published finished-course rule, end to end: courses imported through the real CSV import, then
every count of the report (object, API, page, CSV) and the courses dataset checked by hand.

NHS Talking Therapies counts a referral in paired outcomes only when it "has ended having had at least
two attended treatment appointments"; assessment and review appointments do not count towards the two,
and a combined assessment and treatment appointment does (docs/instruments.md). Five courses of each
kind, all face to face, PHQ-9 and GAD-7 (caseness 10 and 8, reliable change 6 and 4) at the first and
last attended appointment:

    E x5  assessment, treatment                      scored at both   ended, NOT finished (one treatment)
    F x5  assessment, treatment, treatment           PHQ 15 -> 5, GAD 12 -> 4    finished: recovered, reliably
    G x5  assessment and treatment x2 (combined)     PHQ 12 -> 18, GAD 9 -> 13   finished: deteriorated
    H x5  treatment x3, none attended                no scores        ended, NOT finished (a course with
                                                                      no attended appointment: modality none)

Before this rule E counted too (scores at two appointments were enough): 15 paired courses instead of 10.
So: ended 20 (face to face 15, none 5); finished 10 of 20; with paired scores 10 of 10; at caseness 10
of 10; recovery 5 of 10; reliable recovery 5 of 10; reliable improvement 5 of 10; reliable
deterioration 5 of 10. Mean change PHQ-9 (5 x -10 + 5 x 6) / 10 = -2.0; GAD-7 (5 x -8 + 5 x 4) / 10 = -2.0.
"""

import csv
import io
import zipfile

import pytest

from backend.evaluation.pseudonyms import pseudonym
from backend.evaluation.report import report_build
from backend.evaluation.selectors import Filters
from backend.evaluation.statistics import TOTAL
from tests.evaluation.conftest import import_courses, import_rows

PLAN = {
    "E": dict(modalities=2, kinds=["assessment", "treatment"], phq=(15, 5), gad=(12, 4)),
    "F": dict(modalities=3, kinds=["assessment", "treatment", "treatment"], phq=(15, 5), gad=(12, 4)),
    "G": dict(modalities=2, kinds=["assessment_and_treatment", "assessment_and_treatment"], phq=(12, 18), gad=(9, 13)),
    "H": dict(modalities=3, kinds=["treatment"] * 3, phq=(None, None), gad=(None, None), attended=["no"] * 3),
}


@pytest.fixture
def courses(world):
    rows = []
    for kind, plan in PLAN.items():
        for n in range(1, 6):
            rows += import_rows(f"{kind}{n}", ["face_to_face"] * plan["modalities"], plan["phq"], plan["gad"], kinds=plan["kinds"],
                                attended=plan.get("attended"))
    return world, import_courses(world, rows)


def test_every_report_count_follows_the_published_finished_course_rule(courses):
    report = report_build(Filters())
    rows = {row.modality: row for row in report.outcomes_by_modality}
    total, face, none = rows[TOTAL], rows["face_to_face"], rows["none"]
    # (ended, finished a course of treatment, with paired scores, at caseness at the start)
    assert total.counts == (20, 10, 10, 10)
    assert face.counts == (15, 10, 10, 10) and none.counts == (5, 0, 0, 0)
    assert rows["video"].counts == rows["phone"].counts == rows["mixed"].counts == (0, 0, 0, 0)

    def pairs(rates):
        return {name: (rate.numerator, rate.denominator) for name, rate in rates.items()}

    assert pairs(total.shares) == {"finished_treatment": (10, 20), "paired_scores": (10, 10), "at_caseness": (10, 10)}
    assert pairs(face.shares) == {"finished_treatment": (10, 15), "paired_scores": (10, 10), "at_caseness": (10, 10)}
    assert pairs(none.shares)["finished_treatment"] == (0, 5) and none.shares["paired_scores"].value is None
    assert pairs(total.rates) == {"recovery": (5, 10), "reliable_recovery": (5, 10), "reliable_improvement": (5, 10),
                                  "reliable_deterioration": (5, 10)}
    assert [(m.instrument, m.courses, m.mean) for m in total.mean_change] == [("phq9", 10, -2.0), ("gad7", 10, -2.0)]


def test_the_api_page_and_download_name_each_count_over_its_denominator(courses, api, client):
    world, _ = courses
    body = api(world.evaluator).get("/api/v1/evaluation/report/").json()
    total = next(r for r in body["outcomes_by_modality"] if r["modality"] == TOTAL)
    assert total["ended_courses"] == 20
    assert [(total[name]["numerator"], total[name]["denominator"]) for name in ("finished_treatment", "paired_scores", "at_caseness")] == [
        (10, 20), (10, 10), (10, 10)]
    assert (total["recovery"]["numerator"], total["recovery"]["denominator"]) == (5, 10)

    client.force_login(world.evaluator)
    html = client.get("/evaluation/").content.decode()
    for heading in ("Ended courses", "Finished a course of treatment (of ended courses)", "With paired scores (of those finished)",
                    "At caseness at the start (of those with paired scores)"):
        assert f'<th scope="col">{heading}</th>' in html
    assert "10 of 20 (50.0%)" in html and "10 of 15 (66.7%)" in html and "0 of 5 (0.0%)" in html
    assert "ended having had at least two attended treatment appointments" in html

    for fmt in ("csv", "xlsx"):
        assert client.get(f"/evaluation/report.{fmt}").status_code == 200
    table = list(csv.DictReader(io.StringIO(client.get("/evaluation/report.csv").content.decode())))
    row = next(r for r in table if r["team"] == "All teams" and r["modality"] == TOTAL)
    assert {name: row[name] for name in ("ended_courses", "finished_treatment_numerator", "finished_treatment_denominator",
                                         "finished_treatment_rate", "paired_scores_numerator", "paired_scores_denominator",
                                         "at_caseness_numerator", "at_caseness_denominator", "recovery_numerator",
                                         "recovery_denominator")} == {
        "ended_courses": "20", "finished_treatment_numerator": "10", "finished_treatment_denominator": "20",
        "finished_treatment_rate": "0.5", "paired_scores_numerator": "10", "paired_scores_denominator": "10",
        "at_caseness_numerator": "10", "at_caseness_denominator": "10", "recovery_numerator": "5", "recovery_denominator": "10"}


def test_the_courses_dataset_shows_what_the_rule_was_judged_on(courses, api):
    world, people = courses
    response = api(world.evaluator).post("/api/v1/evaluation/exports/", {"dataset": "courses", "format": "csv"}, format="json")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    rows = {r["person"]: r for r in csv.DictReader(io.StringIO(archive.read("courses.csv").decode()))}
    columns = ("ended_reason", "attended_appointments", "attended_treatment_appointments", "did_not_attend", "finished_treatment",
               "paired_outcome_counts", "phq9_scores", "modality")
    got = {kind: tuple(rows[pseudonym(people[f"{kind}1"].pk)][c] for c in columns) for kind in PLAN}
    assert got == {
        "E": ("completed", "2", "1", "0", "false", "false", "2", "face_to_face"),
        "F": ("completed", "3", "2", "0", "true", "true", "2", "face_to_face"),
        "G": ("completed", "2", "2", "0", "true", "true", "2", "face_to_face"),
        "H": ("completed", "0", "0", "3", "false", "false", "0", "none"),
    }
