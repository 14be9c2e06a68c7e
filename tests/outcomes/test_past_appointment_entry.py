"""Answers entered for a past appointment (issue 11): dated to that appointment, not to when they were
typed in; the page warns when the appointment already has answers to that questionnaire and then
records a correction (`replaces`); an appointment of someone else is refused naming the field, with
nothing written; trajectory charts place points by date."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backend.accounts import services as account_services
from backend.accounts.models import Role
from backend.outcomes import charts
from backend.outcomes.models import Response
from backend.outcomes.selectors import TrajectoryPoint
from tests.factories import SYSTEM, book, let_time_pass, make_user

pytestmark = pytest.mark.django_db

PHQ9 = {"1": 3, "2": 3, "3": 2, "4": 2, "5": 1, "6": 1, "7": 1, "8": 0, "9": 0}
GAD7_FORM = {f"item_{n}": "2" for n in range(1, 8)}


def days_ago(world, days):
    return let_time_pass(world.past_appointment, hours_ago=24 * days)


def post(client, body, key="k"):
    return client.post("/api/v1/responses/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_paper_form_entered_through_the_api_is_dated_to_its_appointment(world, api):
    appointment = days_ago(world, 9)
    answer = post(api(world.clinician), {"instrument": "phq9", "service_user_id": world.service_user.pk,
                                         "appointment_id": appointment.pk, "mode": "paper", "answers": PHQ9})
    assert answer.status_code == 201, answer.json()
    response = Response.objects.get(pk=answer.json()["id"])
    assert response.completed_at == appointment.starts_at and response.entered_at > appointment.starts_at + timedelta(days=8)
    # The person's own answers online are dated when given; a stated time is kept as stated.
    own = post(api(world.service_user), {"instrument": "gad7", "service_user_id": world.service_user.pk, "appointment_id": appointment.pk,
                                         "mode": "self_online", "answers": {str(n): 1 for n in range(1, 8)}}, key="own")
    assert abs(Response.objects.get(pk=own.json()["id"]).completed_at - timezone.now()) < timedelta(minutes=1)
    stated = (timezone.now() - timedelta(days=8)).replace(microsecond=0)
    told = post(api(world.clinician), {"instrument": "gad7", "service_user_id": world.service_user.pk, "appointment_id": appointment.pk,
                                       "mode": "clinician_phone", "answers": {str(n): 1 for n in range(1, 8)},
                                       "completed_at": stated.isoformat()}, key="told")
    assert Response.objects.get(pk=told.json()["id"]).completed_at == stated


def test_an_appointment_of_another_person_is_refused_naming_the_field_and_nothing_is_written(world, api):
    neighbour = make_user(Role.SERVICE_USER)
    account_services.caseload_add(actor=SYSTEM, team=world.north, service_user=neighbour)
    theirs = let_time_pass(book(world.clinician, neighbour, world.north))
    client = api(world.clinician)
    body = {"instrument": "phq9", "service_user_id": world.service_user.pk, "mode": "paper", "answers": PHQ9}
    wrong_person = post(client, {**body, "appointment_id": theirs.pk})
    assert wrong_person.status_code == 400 and wrong_person.json()["errors"][0]["field"] == "appointment_id"
    other_team = let_time_pass(book(world.other_clinician, world.other_service_user, world.south))
    unseen = post(client, {**body, "appointment_id": other_team.pk}, key="k2")
    assert unseen.status_code == 404 and unseen.json()["errors"][0]["field"] == "appointment_id"
    assert not Response.objects.exists()


def test_the_page_dates_answers_to_the_appointment_and_warns_of_answers_already_there(world, client):
    appointment = days_ago(world, 12)
    client.force_login(world.clinician)
    url = f"/outcomes/appointments/{appointment.pk}/questionnaires/gad7/"
    page = client.get(url).content.decode()
    assert "the time of that appointment, not today" in page and "already has" not in page
    assert client.post(url, {**GAD7_FORM, "submission_key": "first", "mode": "paper"}).status_code == 302
    first = Response.objects.get()
    assert first.completed_at == appointment.starts_at

    again = client.get(url)
    text = again.content.decode()
    assert "This appointment already has GAD-7 answers" in text and "score 14" in text
    unexplained = client.post(url, {**GAD7_FORM, "item_1": "0", "submission_key": "second", "mode": "paper"})
    assert unexplained.status_code == 400 and "Say why the earlier answers are being corrected." in unexplained.content.decode()
    assert Response.objects.count() == 1
    corrected = client.post(url, {**GAD7_FORM, "item_1": "0", "submission_key": "second", "mode": "paper",
                                  "replacement_reason": "Item 1 was misread on the paper form."})
    assert corrected.status_code == 302
    correction = Response.objects.exclude(pk=first.pk).get()
    assert (correction.replaces_id, correction.raw_total, correction.completed_at) == (first.pk, 12, appointment.starts_at)


def point(days, score):
    return TrajectoryPoint(response_id=days, completed_at=timezone.now() - timedelta(days=100 - days), score=Decimal(score), band="",
                           at_caseness=None, modality="video", mode="paper")


def test_trajectory_charts_place_points_by_date():
    series = {"bands": [], "points": [point(0, 20), point(1, 18), point(10, 9)], "higher_is_worse": True, "caseness_threshold": None}
    chart = charts.trajectory_chart(series)
    x = [p.x for p in chart["points"]]
    assert abs((x[1] - x[0]) / (x[2] - x[0]) - 0.1) < 0.01  # one day of ten, not one step of two
    assert chart["x_ticks"][0]["x"] == x[0] and chart["x_ticks"][-1]["x"] == x[2]
    assert chart["x_ticks"][-1]["label"] == timezone.localtime(series["points"][2].completed_at).strftime("%d %b %Y").lstrip("0")
    single = charts.trajectory_chart({**series, "points": [point(3, 5)]})
    assert len(single["x_ticks"]) == 1 and single["points"][0].x == single["x_ticks"][0]["x"]
