"""Outcome datasets, FHIR output and the report's paired outcomes, on the imported courses of
conftest.outcomes_cohort, worked by hand:

Twenty finished courses of treatment, two sessions each (a combined assessment and treatment, then a
treatment), PHQ-9 and GAD-7 at both (caseness 10 and 8, reliable
change 6 and 4):
    A x5 (video)         PHQ 15 -> 5,  GAD 12 -> 4   at caseness, recovered, improved, reliably recovered
    B x5 (face to face)  PHQ 11 -> 9,  GAD 8 -> 7    at caseness, recovered, no reliable change
    C x5 (video)         PHQ 12 -> 18, GAD 9 -> 13   at caseness, not recovered, deteriorated
    D x5 (face to face)  PHQ 9 -> 2,   GAD 7 -> 2    not at caseness, improved
So: video 10 courses, 10 at caseness, recovered 5, reliably recovered 5, improved 5, deteriorated 5;
face to face 10, 5 at caseness, recovered 5, reliably recovered 0, improved 5, deteriorated 0;
all 20, 15 at caseness, recovered 10, reliably recovered 5, improved 10, deteriorated 5.
Mean change (last - first), PHQ-9: video (5 x -10 + 5 x 6) / 10 = -2.0; face to face (5 x -2 + 5 x -7)
/ 10 = -4.5; all -65 / 20 = -3.25. GAD-7: video (-40 + 20) / 10 = -2.0; face to face (-5 - 25) / 10 =
-3.0; all -2.5. B's CORE-10 (items 2 and 3 reverse keyed, 0-4): ticks adding to 20, 18, 16, 22, 24 then
14, scored 16, 14, 12, 18, 20 then 10: changes -6, -4, -2, -8, -10, mean -6.0 over 5 courses.
Plus O1 (open, video) and X1 (no evaluation consent): 21 people exported.
"""

import csv
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from backend.audit.models import AuditEvent
from backend.consent.models import PurposeCode
from backend.evaluation.dictionary import COURSES, RESPONSES, RESPONSES_LONG
from backend.evaluation.pseudonyms import course_ref, pseudonym
from backend.evaluation.report import report_build, report_table
from backend.evaluation.selectors import Filters
from backend.evaluation.statistics import TOTAL
from tests.evaluation.conftest import import_courses, import_rows
from tests.factories import withdraw_consent

URL = "/api/v1/evaluation/exports/"


def export(api, world, dataset, fmt="csv", **body):
    return api(world.evaluator).post(URL, {"dataset": dataset, "format": fmt, **body}, format="json")


def unzip(response) -> dict[str, bytes]:
    assert response.status_code == 200, response.content
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {name: archive.read(name) for name in archive.namelist()}


def rows_of(files: dict, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(files[name].decode())))


# --- Datasets ---------------------------------------------------------------------------------------
def test_responses_long_has_one_row_per_item_with_reverse_keying(outcomes_cohort, api):
    files = unzip(export(api, outcomes_cohort.world, "responses_long", dates="exact"))
    rows = rows_of(files, "responses_long.csv")
    assert list(rows[0]) == RESPONSES_LONG.names
    # 20 courses x 2 sessions x (9 + 7 items), B's CORE-10 5 x 2 x 10, O1's 2 x 16; never X1's.
    assert len(rows) == 640 + 100 + 32
    assert {r["person"] for r in rows} == {pseudonym(u.pk) for c, u in outcomes_cohort.people.items() if c != "X1"}
    b1 = pseudonym(outcomes_cohort.people["B1"].pk)
    core_first = [r for r in rows if r["person"] == b1 and r["instrument"] == "core10" and r["date"] == "2024-02-10"]
    # Ticked 3, 3, 3, 3, 3, 3, 2, 0, 0, 0: items 2 and 3 are reverse keyed, so they count 4 - 3 = 1.
    assert [(r["item"], r["value"], r["scored_value"], r["reverse_keyed"]) for r in core_first[:3]] == [
        ("1", "3", "3", "false"), ("2", "3", "1", "true"), ("3", "3", "1", "true")]
    assert [(r["item"], r["risk_flag"]) for r in core_first[5:7]] == [("6", "true"), ("7", "")]
    phq_item_9 = [r["risk_flag"] for r in rows if r["instrument"] == "phq9" and r["item"] == "9"]
    assert len(phq_item_9) == 42 and set(phq_item_9) == {"false"}
    assert {r["risk_flag"] for r in rows if r["instrument"] == "gad7" or r["item"] != "9" and r["instrument"] == "phq9"} == {""}
    phq_item_1 = next(r for r in rows if r["instrument"] == "phq9" and r["item"] == "1")
    assert (phq_item_1["item_loinc"], phq_item_1["mode"], phq_item_1["team"], phq_item_1["site"]) == ("44250-9", "imported", "North", "Leeds")
    assert phq_item_1["modality"] in {"video", "face_to_face"} and phq_item_1["course"].startswith("C")
    assert len({r["response"] for r in rows}) == 94


def test_responses_has_one_row_per_questionnaire(outcomes_cohort, api):
    rows = rows_of(unzip(export(api, outcomes_cohort.world, "responses", dates="month")), "responses.csv")
    assert list(rows[0]) == RESPONSES.names and len(rows) == 20 * 2 * 2 + 5 * 2 + 2 * 2
    a1 = [r for r in rows if r["person"] == pseudonym(outcomes_cohort.people["A1"].pk) and r["instrument"] == "phq9"]
    assert [(r["date"], r["score"], r["band"], r["at_caseness"], r["status"], r["modality"]) for r in a1] == [
        ("2024-02", "15", "Moderately severe", "true", "scored", "video"), ("2024-03", "5", "Mild", "false", "scored", "video")]
    assert all(r["corrects_earlier"] == "false" and r["prorated"] == "false" and r["unanswered_items"] == "0" for r in rows)
    # The risk items: PHQ-9 item 9 (always answered 0 here), none on GAD-7, CORE-10 item 6 (B1 ticked 3 then 0).
    assert [(r["risk_item_answer"], r["risk_flag"]) for r in a1] == [("0", "false"), ("0", "false")]
    assert {(r["risk_item_answer"], r["risk_flag"]) for r in rows if r["instrument"] == "gad7"} == {("", "")}
    b1 = [r for r in rows if r["person"] == pseudonym(outcomes_cohort.people["B1"].pk) and r["instrument"] == "core10"]
    assert [(r["date"], r["risk_item_answer"], r["risk_flag"]) for r in b1] == [("2024-02", "3", "true"), ("2024-03", "0", "false")]


def test_courses_are_wide_with_first_and_last_scores_and_paired_outcomes(outcomes_cohort, api):
    rows = {r["person"]: r for r in rows_of(unzip(export(api, outcomes_cohort.world, "courses", dates="exact")), "courses.csv")}
    people = outcomes_cohort.people
    assert len(rows) == 21 and pseudonym(people["X1"].pk) not in rows
    a1 = rows[pseudonym(people["A1"].pk)]
    assert list(a1) == COURSES.names
    assert (a1["started"], a1["ended"], a1["referral_date"], a1["ended_reason"]) == ("2024-02-10", "2024-06-30", "2024-01-02", "completed")
    assert (a1["attended_appointments"], a1["attended_treatment_appointments"], a1["did_not_attend"], a1["attended_video"],
            a1["attended_face_to_face"], a1["modality"], a1["finished_treatment"]) == ("2", "2", "0", "2", "0", "video", "true")
    assert (a1["phq9_scores"], a1["phq9_first"], a1["phq9_last"], a1["gad7_first"], a1["gad7_last"], a1["core10_scores"]) == (
        "2", "15", "5", "12", "4", "0")
    flags = ("paired_outcome_counts", "at_caseness_at_start", "recovered", "reliable_improvement", "reliable_deterioration", "reliable_recovery")
    assert [a1[f] for f in flags] == ["true", "true", "true", "true", "false", "true"]
    assert [rows[pseudonym(people["B1"].pk)][f] for f in flags] == ["true", "true", "true", "false", "false", "false"]
    assert [rows[pseudonym(people["C1"].pk)][f] for f in flags] == ["true", "true", "false", "false", "true", "false"]
    assert [rows[pseudonym(people["D1"].pk)][f] for f in flags] == ["true", "false", "", "true", "false", ""]
    b1 = rows[pseudonym(people["B1"].pk)]
    assert (b1["core10_first"], b1["core10_last"], b1["modality"]) == ("16", "10", "face_to_face")
    o1 = rows[pseudonym(people["O1"].pk)]
    assert (o1["ended"], o1["ended_reason"], o1["finished_treatment"], o1["paired_outcome_counts"], o1["recovered"], o1["phq9_last"]) == (
        "", "", "false", "false", "", "5")
    assert a1["course"] == course_ref(people["A1"].courses_of_care.get().pk)


def test_a_courses_modality_is_its_majority_else_mixed_else_none(outcomes_cohort, api):
    people = import_courses(outcomes_cohort.world, [
        *import_rows("M1", ["video", "face_to_face", "phone"], (15, 5), (12, 4)),  # one each: mixed
        *import_rows("M2", ["video", "video", "phone"], (15, 5), (12, 4)),  # two of three video: video
        *import_rows("N1", ["video", "video"], (15, 5), (12, 4), attended=["no", "no"]),  # nothing attended: none
        *import_rows("S1", ["face_to_face", "face_to_face"], (15, 5), (12, 4), attended=["yes", "no"]),  # one attended appointment
    ])
    rows = {r["person"]: r for r in rows_of(unzip(export(api, outcomes_cohort.world, "courses")), "courses.csv")}
    got = {name: rows[pseudonym(people[name].pk)] for name in ("M1", "M2", "N1", "S1")}
    assert {name: r["modality"] for name, r in got.items()} == {"M1": "mixed", "M2": "video", "N1": "none", "S1": "face_to_face"}
    assert (got["N1"]["did_not_attend"], got["S1"]["attended_appointments"], got["S1"]["finished_treatment"],
            got["S1"]["paired_outcome_counts"]) == ("2", "1", "false", "false")
    face = rows_of(unzip(export(api, outcomes_cohort.world, "courses", filters={"modality": "face_to_face"})), "courses.csv")
    assert len(face) == 11 and {r["modality"] for r in face} == {"face_to_face"}


def test_the_instrument_filter_narrows_responses_and_an_unknown_one_is_a_400(outcomes_cohort, api):
    core = rows_of(unzip(export(api, outcomes_cohort.world, "responses", filters={"instrument": "core10"})), "responses.csv")
    assert len(core) == 10 and {r["instrument"] for r in core} == {"core10"}
    gad = rows_of(unzip(export(api, outcomes_cohort.world, "responses_long", filters={"instrument": "gad7"})), "responses_long.csv")
    assert len(gad) == 21 * 2 * 7
    for dataset, field, code in [("responses", "filters.instrument", "does_not_exist"), ("courses", "filters.instrument", "not_applicable")]:
        response = export(api, outcomes_cohort.world, dataset, filters={"instrument": "phq10"})
        assert response.status_code == 400 and {"field": field, "code": code} in [
            {k: e[k] for k in ("field", "code")} for e in response.json()["errors"]]


def test_a_withdrawal_leaves_every_outcome_dataset(outcomes_cohort, api):
    gone = outcomes_cohort.people["A1"]
    withdraw_consent(gone, PurposeCode.EVALUATION)
    for dataset in ("responses_long", "responses", "courses"):
        rows = rows_of(unzip(export(api, outcomes_cohort.world, dataset)), f"{dataset}.csv")
        assert pseudonym(gone.pk) not in {r["person"] for r in rows} and len({r["person"] for r in rows}) == 20
    lines = unzip(export(api, outcomes_cohort.world, "fhir", "ndjson"))["QuestionnaireResponse.ndjson"].decode().splitlines()
    assert f"Patient/{pseudonym(gone.pk)}" not in "".join(lines) and len(lines) == 94 - 4


# (rows, queries per further chunk) of each part of a dataset: fhir's QuestionnaireResponses cost one
# (their answers), its Encounters and Appointments one (their events: 42 appointments of 21 people), its
# Consents none.
@pytest.mark.parametrize("dataset, parts", [
    ("responses_long", [(772, 0)]), ("responses", [(94, 0)]), ("courses", [(21, 3)]), ("fhir", [(94, 1), (42, 1), (21, 0)]),
])
def test_outcome_exports_cost_a_fixed_number_of_queries_per_chunk(outcomes_cohort, tmp_path, dataset, parts):
    fmt = "ndjson" if dataset == "fhir" else "csv"

    def run(chunk_size):
        out = tmp_path / f"{dataset}-{chunk_size}.zip"
        with CaptureQueriesContext(connection) as queries:
            call_command("export_evaluation", "--dataset", dataset, "--format", fmt, "--dates", "exact", "--output", str(out),
                         "--chunk-size", str(chunk_size), stdout=io.StringIO())
        archive = zipfile.ZipFile(out)
        return [archive.read(n) for n in archive.namelist() if not n.startswith("data-dictionary")], len(queries)

    whole, once = run(5000)
    small, many = run(10)
    assert small == whole
    assert many - once == sum(per_chunk * (-(-rows // 10) - 1) for rows, per_chunk in parts)


# --- FHIR -----------------------------------------------------------------------------------------
def test_fhir_bulk_ndjson_parses_as_fhir_and_names_nobody(outcomes_cohort, api):
    files = unzip(export(api, outcomes_cohort.world, "fhir", "ndjson", dates="month"))
    assert set(files) == {"Questionnaire.ndjson", "QuestionnaireResponse.ndjson", "Encounter.ndjson", "Appointment.ndjson",
                          "Consent.ndjson", "data-dictionary.csv", "data-dictionary.md"}
    questionnaires = [Questionnaire.model_validate_json(line) for line in files["Questionnaire.ndjson"].decode().splitlines()]
    responses = [QuestionnaireResponse.model_validate_json(line) for line in files["QuestionnaireResponse.ndjson"].decode().splitlines()]
    assert [q.id for q in questionnaires] == ["core10", "gad7", "phq9"] and len(responses) == 94
    phq = questionnaires[2]
    assert (phq.url, phq.status, phq.code[0].code, phq.item[0].code[0].code) == ("urn:rapport:questionnaire:phq9", "active", "44249-1", "44250-9")
    assert [(o.valueCoding.code, o.valueCoding.display) for o in phq.item[0].answerOption] == [
        ("0", "Not at all"), ("1", "Several days"), ("2", "More than half the days"), ("3", "Nearly every day")]
    assert (phq.item[-1].linkId, phq.item[-1].code[0].code, phq.item[-1].readOnly) == ("score", "44261-6", True)
    a1 = pseudonym(outcomes_cohort.people["A1"].pk)
    first = next(r for r in responses if r.subject.reference == f"Patient/{a1}" and r.questionnaire.startswith("urn:rapport:questionnaire:phq9"))
    assert (str(first.authored), first.status, first.encounter.reference[:9]) == ("2024-02", "completed", "Encounter")
    assert [(i.linkId, i.answer[0].valueCoding.code) for i in first.item[:2]] == [("1", "3"), ("2", "3")]
    assert (first.item[-1].linkId, float(first.item[-1].answer[0].valueDecimal)) == ("score", 15.0)
    everything = b"".join(files.values()).decode()
    for course, user in outcomes_cohort.people.items():
        assert user.full_name not in everything and user.email not in everything and f"NHS-{course}" not in everything
    assert pseudonym(outcomes_cohort.people["X1"].pk) not in everything
    event = AuditEvent.objects.filter(object_type="evaluation.export").latest("sequence")
    assert {"Questionnaire.ndjson", "QuestionnaireResponse.ndjson"} <= set(event.detail["sha256"])
    assert event.detail["rows"] == 3 + 94 + 42 * 2 + 21  # and an Encounter and an Appointment per appointment, a Consent per decision
    encounters = {e.id: e for e in (Encounter.model_validate_json(line) for line in files["Encounter.ndjson"].decode().splitlines())}
    # Every response given at an appointment points at an Encounter in the same export.
    assert {r.encounter.reference.removeprefix("Encounter/") for r in responses} <= set(encounters)
    imported = encounters[first.encounter.reference.removeprefix("Encounter/")]
    assert (imported.status, imported.class_fhir.code, str(imported.period.start), imported.participant) == ("finished", "VR", "2024-02", None)


def test_fhir_comes_only_as_ndjson_and_tables_never_do(outcomes_cohort, api):
    for dataset, fmt in [("fhir", "csv"), ("responses", "ndjson")]:
        response = export(api, outcomes_cohort.world, dataset, fmt)
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "format"


def test_fhir_with_fewer_than_five_people_exports_nothing(outcomes_cohort, api):
    response = export(api, outcomes_cohort.world, "fhir", "ndjson", filters={"modality": "phone"})
    assert response.status_code == 409 and response.json()["code"] == "too_few_people"


# --- The report's outcomes --------------------------------------------------------------------------
def outcome_rows(report):
    return {row.modality: row for row in report.outcomes_by_modality}


def test_the_report_gives_talking_therapies_rates_with_their_denominators_and_intervals(outcomes_cohort):
    report = report_build(Filters())
    rows = outcome_rows(report)
    video, face, total = rows["video"], rows["face_to_face"], rows[TOTAL]
    assert [r.counts for r in (video, face, total)] == [(10, 10, 10, 10), (10, 10, 10, 5), (20, 20, 20, 15)]
    assert {name: (share.numerator, share.denominator) for name, share in total.shares.items()} == {
        "finished_treatment": (20, 20), "paired_scores": (20, 20), "at_caseness": (15, 20)}

    def rates(row):
        return {name: (rate.numerator, rate.denominator) for name, rate in row.rates.items()}

    assert rates(video) == {"recovery": (5, 10), "reliable_recovery": (5, 10), "reliable_improvement": (5, 10), "reliable_deterioration": (5, 10)}
    assert rates(face) == {"recovery": (5, 5), "reliable_recovery": (0, 5), "reliable_improvement": (5, 10), "reliable_deterioration": (0, 10)}
    assert rates(total) == {"recovery": (10, 15), "reliable_recovery": (5, 15), "reliable_improvement": (10, 20), "reliable_deterioration": (5, 20)}
    # Wilson by hand for 10 of 15: p = 2/3, z^2 = 3.8415; centre (0.6667 + 0.1281) / 1.2561 = 0.6327;
    # half-width (1.96 / 1.2561) x sqrt(0.2222 / 15 + 3.8415 / 900) = 0.2155: 0.4171 to 0.8482.
    recovery = total.rates["recovery"]
    assert (round(recovery.value, 4), round(recovery.low, 4), round(recovery.high, 4)) == (0.6667, 0.4171, 0.8482)
    assert (round(face.rates["recovery"].low, 4), face.rates["recovery"].high) == (0.5655, 1.0)
    assert [(m.instrument, m.courses, m.mean) for m in total.mean_change] == [("phq9", 20, -3.25), ("gad7", 20, -2.5), ("core10", 5, -6.0)]
    assert [(m.courses, m.mean) for m in video.mean_change] == [(10, -2.0), (10, -2.0), (0, None)]
    assert [(m.courses, m.mean) for m in face.mean_change] == [(10, -4.5), (10, -3.0), (5, -6.0)]
    assert [m.code for m in report.measures] == ["phq9", "gad7", "core10"]
    assert rows["mixed"].counts == (0, 0, 0, 0) and rows["phone"].rates["recovery"].value is None
    # One team: its rows are the overall rows.
    assert [(r.modality, r.counts) for r in report.outcomes_by_team["North"]] == [(r.modality, r.counts) for r in report.outcomes_by_modality]
    # The appointments table counts real courses of care: O1 is a video course too; X1 is not consenting.
    assert {r.modality: r.courses for r in report.by_modality} == {"video": 11, "phone": 0, "face_to_face": 10, TOTAL: 21}


def test_a_few_mixed_courses_are_suppressed_and_cannot_be_worked_out(outcomes_cohort):
    import_courses(outcomes_cohort.world, [
        *import_rows("M1", ["video", "face_to_face"], (15, 5), (12, 4)),
        *import_rows("M2", ["face_to_face", "video"], (15, 5), (12, 4)),
    ])
    rows = outcome_rows(report_build(Filters()))
    # Mixed: 2 courses, both kind A. Hidden, and in each line with them one more is hidden, so
    # neither the total minus the rest nor the parts give them away.
    assert rows["mixed"].counts == (None, None, None, None) and rows["mixed"].rates["recovery"].suppressed
    for count in ("ended", "finished", "paired", "at_caseness"):
        line = [getattr(rows[m], count) for m in ("video", "phone", "face_to_face", "mixed", "none", TOTAL)]
        assert line.count(None) != 1, (count, line)


def test_outcomes_count_courses_that_ended_within_the_dates(outcomes_cohort):
    from datetime import date

    assert outcome_rows(report_build(Filters(date_to=date(2024, 6, 29))))[TOTAL].counts == (0, 0, 0, 0)
    assert outcome_rows(report_build(Filters(date_from=date(2024, 6, 30))))[TOTAL].counts == (20, 20, 20, 15)


def test_the_api_page_and_download_show_the_rates(outcomes_cohort, api, client):
    body = api(outcomes_cohort.world.evaluator).get("/api/v1/evaluation/report/").json()
    total = next(r for r in body["outcomes_by_modality"] if r["modality"] == TOTAL)
    assert (total["recovery"]["numerator"], total["recovery"]["denominator"], round(total["recovery"]["low"], 4)) == (10, 15, 0.4171)
    assert total["mean_change"][0] == {"instrument": "phq9", "courses": 20, "mean": -3.25}
    assert (total["ended_courses"], total["finished_treatment"]["numerator"], total["paired_scores"]["denominator"],
            total["at_caseness"]["numerator"]) == (20, 20, 20, 15)
    assert [m["code"] for m in body["measures"]] == ["phq9", "gad7", "core10"] and body["outcomes_by_team"][0]["team"] == "North"
    client.force_login(outcomes_cohort.world.evaluator)
    html = client.get("/evaluation/").content.decode()
    assert "Outcomes of courses that ended, by modality" in html and "10 of 15: 66.7% (41.7% to 84.8%)" in html
    assert "Finished a course of treatment (of ended courses)" in html and "20 of 20 (100.0%)" in html and "15 of 20 (75.0%)" in html
    assert "5 of 20: 25.0% (11.2% to 46.9%)" in html and "-3.25 (20)" in html
    table = list(csv.DictReader(io.StringIO(client.get("/evaluation/report.csv").content.decode())))
    all_total = next(r for r in table if r["team"] == "All teams" and r["modality"] == TOTAL)
    assert (all_total["recovery_numerator"], all_total["recovery_denominator"], all_total["recovery_rate"]) == ("10", "15", "0.6667")
    assert (all_total["mean_change_core10"], all_total["mean_change_core10_courses"]) == ("-6.0", "5")
    assert (all_total["ended_courses"], all_total["finished_treatment_numerator"], all_total["finished_treatment_denominator"],
            all_total["paired_scores_numerator"], all_total["at_caseness_numerator"], all_total["at_caseness_denominator"]) == (
        "20", "20", "20", "20", "15", "20")
    assert report_table(report_build(Filters()))[0]["team"] == "All teams"
    everything = html + json.dumps(body)
    assert outcomes_cohort.people["A1"].full_name not in everything
