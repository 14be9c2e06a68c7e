"""The evaluators' report page in a real browser: tables, server-drawn charts, downloads, at desktop and
phone sizes; axe (WCAG 2.2 AA) and no CSP violations or console errors."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from playwright.sync_api import Page, expect

from backend.accounts.models import Role, User
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.browser.test_call import outside_playwrights_loop
from tests.evaluation.conftest import COURSE_PLAN, CORE10_OF_B, KINDS, appointment, attend, import_courses, import_rows, person
from tests.factories import make_user

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def _cohort(world) -> None:
    for index in range(6):
        user = person(world)
        attend(world, appointment(world, user, days_ago=10 + index), "face_to_face")
        attend(world, appointment(world, user, days_ago=5, choose="video"), "video")
    # The twenty imported courses with paired scores of tests/evaluation/test_outcomes.py.
    rows = []
    for course, modality, kind in COURSE_PLAN:
        rows += import_rows(course, [modality, modality], *KINDS[kind], core=CORE10_OF_B.get(course, (None, None)))
    import_courses(world, rows)


@pytest.fixture
def evaluator(world) -> User:
    """Six people who consent to evaluation, each seen once face to face and once by video (no count
    under five, so nothing is suppressed), and twenty more with finished, imported courses of care. Made in a thread of its own: the session services tell the Channels layer
    (async_to_sync), which refuses to run in this thread while Playwright's loop is marked running."""
    outside_playwrights_loop(_cohort, world=world)
    return make_user(Role.EVALUATOR, email="eve.evaluator@example.test", full_name="Eve Evaluator", password=PASSWORD)


def test_evaluator_reads_the_report_and_downloads_tables_and_a_dataset(page: Page, page_problems, evaluator):
    log_in(page, evaluator.email)
    page.get_by_role("link", name="Evaluation report", exact=True).click()
    expect(page.get_by_role("heading", name="Service evaluation report", level=1)).to_be_visible()
    modality_table = page.get_by_role("table", name="Courses, appointments and did-not-attend rate by modality, all teams")
    expect(modality_table.get_by_role("row", name="Face to face")).to_contain_text("6")
    expect(page.get_by_role("img", name="Bar chart of the did-not-attend rate by modality with 95% intervals. The numbers are in the table above.")).to_be_visible()
    outcomes = page.get_by_role("table", name="Paired outcomes (NHS Talking Therapies) and mean change by course modality, all teams")
    # Recovery 10 of 15, reliable deterioration 5 of 20, with Wilson intervals (worked in test_outcomes.py).
    expect(outcomes.get_by_role("row", name="All modalities")).to_contain_text("10 of 15: 66.7% (41.7% to 84.8%)")
    expect(outcomes.get_by_role("row", name="All modalities")).to_contain_text("5 of 20: 25.0% (11.2% to 46.9%)")
    expect(outcomes.get_by_role("row", name="Video")).to_contain_text("5 of 10: 50.0% (23.7% to 76.3%)")
    # Each count over the one before it: all 20 ended courses finished a course of treatment; 15 of the 20 with paired scores at caseness.
    expect(outcomes.get_by_role("columnheader", name="Finished a course of treatment (of ended courses)")).to_be_visible()
    expect(outcomes.get_by_role("row", name="All modalities")).to_contain_text("20 of 20 (100.0%)")
    expect(outcomes.get_by_role("row", name="All modalities")).to_contain_text("15 of 20 (75.0%)")
    expect(page.get_by_role("img", name="Bar chart of recovery, reliable recovery, reliable improvement and reliable deterioration rates by course "
                                        "modality with 95% intervals. The numbers are in the table above.")).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="These tables as CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert {row["modality"] for row in rows} == {"video", "phone", "face_to_face", "mixed", "none", "total"}
    total = next(row for row in rows if row["team"] == "All teams" and row["modality"] == "total")
    assert (total["recovery_numerator"], total["recovery_denominator"]) == ("10", "15")

    page.get_by_label("Parquet").check()
    page.get_by_label("Shifted by a fixed number of days per person").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the dataset (zip)").click()
    assert set(zipfile.ZipFile(download.value.path()).namelist()) == {"sessions.parquet", "data-dictionary.csv", "data-dictionary.md"}
    page_problems.assert_none(page)


def test_the_report_page_works_on_a_phone_and_explains_bad_filters(new_page, page_problems, evaluator):
    page = new_page(**PHONE)
    log_in(page, evaluator.email)
    page.goto("/evaluation/")
    page.get_by_label("From (first day included)").fill("2026-05-02")
    page.get_by_label("To (last day included)").fill("2026-05-01")
    page.get_by_role("button", name="Show the report").click()
    expect(page.get_by_role("alert")).to_contain_text("date_from is after date_to")
    assert_accessible(page)
    page_problems.assert_none(page)
