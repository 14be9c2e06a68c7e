"""No input makes a 500 (issue 10): each finding of the outside-in review, as a request that once
answered 500 and must now answer a 4xx in the Error shape naming the field."""

import io

import pytest

from tests.outcomes.test_import import GOOD, HEADER, csv_text, row

pytestmark = pytest.mark.django_db

HUGE = "9" * 5000


def refused(answer, field: str, status: int = 400) -> None:
    """A 4xx in the Error shape whose errors name `field`."""
    assert answer.status_code == status, (answer.status_code, answer.content[:500])
    body = answer.json()
    assert set(body) == {"status", "code", "detail", "errors"}, body
    assert field in {e["field"] for e in body["errors"]}, body


# --- Query parameters -----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["1\x00", "²", "١٢", HUGE, "99999999999999999999", "-1", "1.5", " 1"])
def test_response_list_service_user_id_is_a_strict_bounded_integer(world, api, value):
    refused(api(world.clinician).get("/api/v1/responses/", {"service_user_id": value}), "service_user_id")


def test_response_list_instrument_with_a_nul_byte_is_refused(world, api):
    refused(api(world.clinician).get("/api/v1/responses/", {"instrument": "phq9\x00"}), "instrument")


def test_risk_flag_status_with_a_nul_byte_is_refused(world, api):
    refused(api(world.clinician).get("/api/v1/risk-flags/", {"status": "open\x00"}), "status")


def test_instrument_list_include_retired_is_a_boolean(world, api):
    refused(api(world.clinician).get("/api/v1/instruments/", {"include_retired": "yes\x00"}), "include_retired")
    assert api(world.clinician).get("/api/v1/instruments/", {"include_retired": "true"}).status_code == 200


@pytest.mark.parametrize("name,value", [("team", "²"), ("team", HUGE), ("team", "99999999999999999999"), ("site", "Leeds\x00"),
                                        ("date_to", "9999-12-31"), ("date_from", "0001-01-01")])
def test_report_filters_are_strict_and_bounded(world, api, name, value):
    refused(api(world.evaluator).get("/api/v1/evaluation/report/", {name: value}), name)


def test_report_dates_inside_the_range_still_work(world, api):
    assert api(world.evaluator).get("/api/v1/evaluation/report/", {"date_to": "2100-12-31"}).status_code == 200


def test_a_nul_byte_in_any_query_parameter_name_or_value_is_refused(world, api):
    refused(api(world.clinician).get("/api/v1/appointments/", {"whatever": "a\x00b"}), "whatever")


# --- Bodies ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["²", "١", HUGE, "99999999999999999999", "1\x00"])
def test_answer_keys_are_strict_item_numbers(world, api, key):
    body = {"instrument": "phq9", "service_user_id": world.service_user.pk, "appointment_id": world.past_appointment.pk,
            "mode": "clinician_entered", "answers": {key: 1}}
    answer = api(world.clinician).post("/api/v1/responses/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    refused(answer, "answers")


@pytest.mark.parametrize("starts_at", ["9999-12-31T10:00:00Z", "2101-01-01T10:00:00Z"])
def test_appointments_cannot_be_booked_outside_1900_to_2100(world, api, starts_at):
    body = {"service_user_id": world.service_user.pk, "team_id": world.north.pk, "starts_at": starts_at,
            "modalities_offered": ["video"]}
    refused(api(world.clinician).post("/api/v1/appointments/", body, format="json"), "starts_at")


@pytest.mark.parametrize("field,value", [("started_on", "0001-01-01"), ("started_on", "1899-12-31"), ("referral_date", "9999-12-31")])
def test_courses_cannot_start_outside_1900_to_2100(world, api, field, value):
    body = {"service_user_id": world.other_service_user.pk, "team_id": world.south.pk, field: value}
    refused(api(world.other_clinician).post("/api/v1/courses/", body, format="json"), field)


def test_free_text_has_a_length_limit(world, api):
    body = {"reason": "other", "note": "x" * 1_000_000}
    refused(api(world.clinician).post(f"/api/v1/courses/{world.course.pk}/end/", body, format="json"), "note")


def test_a_nul_byte_in_a_json_string_is_refused(world, api):
    body = {"reason": "other", "note": "fine\x00"}
    refused(api(world.clinician).post(f"/api/v1/courses/{world.course.pk}/end/", body, format="json"), "note")


# --- Imports --------------------------------------------------------------------------------------
def _import(world, api, text):
    upload = io.BytesIO(text.encode())
    upload.name = "records.csv"
    return api(world.admin).post("/api/v1/outcomes/imports/", {"team_id": world.north.pk, "file": upload}, format="multipart")


def test_an_import_reference_with_a_nul_byte_is_refused(world, api):
    text = csv_text(row("NHS-\x001", "C-1", "A-1", "2024-01-10", phq=[1] * 9))
    answer = _import(world, api, text)
    refused(answer, "file")


@pytest.mark.parametrize("column", ["phq9_²", "phq9_١", f"phq9_{HUGE}", "phq9_1\x00"])
def test_an_import_header_with_a_strange_item_number_is_refused(world, api, column):
    text = GOOD.replace("phq9_9", column, 1)
    refused(_import(world, api, text), "file")


def test_an_import_date_outside_1900_to_2100_is_refused(world, api):
    text = csv_text(row("NHS-1", "C-1", "A-1", "9999-12-31", phq=[1] * 9))
    answer = _import(world, api, text)
    assert answer.status_code == 400, answer.content[:300]
    assert HEADER  # the header the rows follow


# --- Unique constraints under concurrency ---------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_simultaneous_creates_with_one_email_give_one_201_and_409s(api):
    """Five admins' requests at once: each passes the service's "is the email taken?" check before any
    commits, so the database's unique index decides; the losers get 409 naming email, not 500."""
    import threading

    from django.db import connection

    from backend.accounts.models import Role, User
    from tests.factories import make_user

    admin = make_user(Role.ADMIN)
    clients = [api(admin) for _ in range(5)]
    barrier = threading.Barrier(5)
    answers = []

    def create(client):
        try:
            barrier.wait(timeout=10)
            body = {"email": "same@example.test", "full_name": "Same Person", "role": "clinician",
                    "password": "a long unusual passphrase 7x!"}
            answers.append(client.post("/api/v1/users/", body, format="json"))
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409, 409, 409], [a.content[:200] for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            refused(answer, "email", status=409)
    assert User.objects.filter(email="same@example.test").count() == 1


def test_a_5000_digit_number_in_a_json_body_is_a_400(world, api):
    raw = '{"service_user_id": ' + HUGE + ', "team_id": 1, "starts_at": "2030-01-01T10:00:00Z", "modalities_offered": ["video"]}'
    answer = api(world.clinician).post("/api/v1/appointments/", raw, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] == "parse_error", answer.content[:300]


def test_an_answer_too_big_for_a_bigint_is_refused_naming_it(world, api):
    body = {"instrument": "phq9", "service_user_id": world.service_user.pk, "appointment_id": world.past_appointment.pk,
            "mode": "clinician_entered", "answers": {"1": 2**63}}
    refused(api(world.clinician).post("/api/v1/responses/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2"), "answers.1")


@pytest.mark.parametrize("cell", ["²", "١", HUGE])
def test_an_import_answer_cell_must_be_ascii_digits(world, api, cell):
    text = csv_text(row("NHS-1", "C-1", "A-1", "2024-01-10", phq=[cell, 1, 1, 1, 1, 1, 1, 1, 1]))
    answer = _import(world, api, text)
    assert answer.status_code == 400, answer.content[:300]
    assert "phq9_1" in answer.content.decode()


def test_1_mb_strings_are_refused_in_notes_and_wordings(world, api):
    big = "x" * 1_000_000
    url = f"/api/v1/service-users/{world.service_user.pk}/consent/"
    refused(api(world.clinician).post(url, {"purpose": "video", "decision": "given", "wording_version": 1, "note": big}, format="json"), "note")
    wording = {"text": big, "effective_from": "2099-01-01"}
    refused(api(world.admin).post("/api/v1/consent/purposes/video/wordings/", wording, format="json"), "text")
    check = {"current_location": "Home", "notes": big}
    refused(api(world.clinician).post(f"/api/v1/appointments/{world.appointment.pk}/safety-checks/", check, format="json"), "notes")


# --- Export date arithmetic is safe even for rows stored before the bounds --------------------------
def test_shifted_dates_at_the_ends_of_the_calendar_do_not_overflow():
    from datetime import date

    import pandas as pd

    from backend.evaluation.pseudonyms import DateMode, DateSetting, shift_days

    setting = DateSetting(mode=DateMode.SHIFTED, max_shift_days=30)
    person = next(pk for pk in range(1, 100) if shift_days(pk, 30) < 0)  # someone shifted backwards
    assert setting.show(date.min, person) == date.min
    other = next(pk for pk in range(1, 100) if shift_days(pk, 30) > 0)
    assert setting.show(date.max, other) == date.max
    # A stored 0001-01-01 (as the review made) as epoch seconds: shown empty, the rest of the column kept.
    epochs = pd.Series([-62135596800, 1_700_000_000])
    shown = setting.show_many(epochs, pd.Series([person, person]))
    assert pd.isna(shown.iloc[0]) and shown.iloc[1] is not None


def test_a_filter_up_to_the_last_representable_day_does_not_overflow():
    from datetime import date

    from backend.evaluation.selectors import Filters, _within

    assert _within(Filters(date_to=date.max), "starts_at") is not None
