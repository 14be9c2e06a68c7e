"""The peer work pages' rules (the browser tests, tests/browser/test_peerwork_pages.py, run axe on them)."""

import pytest

from backend.audit.models import AuditEvent
from backend.peerwork.models import FidelityRating, SupervisionEntry
from tests.peerwork.helpers import load_all, supervise

pytestmark = pytest.mark.django_db


def test_who_may_open_the_pages(world, client):
    entry = supervise(world)
    for user in (world.evaluator, world.admin, world.carer):
        client.force_login(user)
        assert client.get("/peer-work/").status_code == 403
        assert client.get(f"/peer-work/supervision/{entry.pk}/").status_code == 403
    client.force_login(world.service_user)
    assert client.get("/peer-work/").status_code == 200
    assert client.get("/peer-work/supervision/new/").status_code == 403
    client.force_login(world.other_clinician)
    assert client.get(f"/peer-work/supervision/{entry.pk}/").status_code == 404
    client.force_login(world.peer_worker)
    page = client.get(f"/peer-work/supervision/{entry.pk}/")
    assert page.status_code == 200 and b"Read the lone working policy" in page.content
    assert AuditEvent.objects.filter(action="read", object_type="peerwork.supervisionentry", object_id=str(entry.pk)).exists()
    client.logout()
    assert client.get("/peer-work/").status_code == 302  # to log in


def test_the_rating_page_refuses_someone_who_is_not_an_informant_and_saves_nothing(world, client):
    load_all(world)
    client.force_login(world.other_clinician)
    url = f"/peer-work/fidelity/{world.peer_worker.pk}/{world.north.pk}/"
    assert client.get(url).status_code == 403
    answer = client.post(url, {"rated_on": "2026-11-20", "item_1": "3"})
    assert answer.status_code == 403 and b"three informants" in answer.content
    assert not FidelityRating.objects.exists()


def test_the_peer_worker_rates_from_the_page_and_bad_input_is_sent_back(world, client):
    load_all(world)
    client.force_login(world.peer_worker)
    url = f"/peer-work/fidelity/{world.peer_worker.pk}/{world.north.pk}/"
    page = client.get(url)
    assert page.status_code == 200 and b"Placeholder item 8" in page.content and b"Test licence" in page.content
    assert client.post(url, {"rated_on": "2026-11-20"}).status_code == 400  # nothing answered
    assert client.post(url, {"rated_on": "2026-11-20", "item_1": "9"}).status_code == 400  # not an option
    assert not FidelityRating.objects.exists()
    assert client.post(url, {"rated_on": "2026-11-20", "item_1": "3", "item_2": "1"}).status_code == 302
    assert FidelityRating.objects.get().answers.filter(value__isnull=False).count() == 2


def test_a_supervisor_records_from_the_page(world, client):
    client.force_login(world.clinician)
    page = client.get("/peer-work/supervision/new/")
    assert page.status_code == 200
    choice = f"{world.peer_worker.pk}:{world.north.pk}"
    assert choice.encode() in page.content
    assert client.post("/peer-work/supervision/new/", {"who": choice, "held_on": "2999-01-01", "topics": ["boundaries"],
                                                       "actions": "x"}).status_code == 400
    answer = client.post("/peer-work/supervision/new/", {"who": choice, "held_on": "2026-11-02", "topics": ["boundaries"], "actions": "x"})
    assert answer.status_code == 302 and SupervisionEntry.objects.count() == 1
