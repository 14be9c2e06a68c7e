"""Scoped throttles count in Redis, one round trip a request (backend/core/throttling.py): every worker
process shares the counts, a count lasts one window, and the 429 says when the window ends."""

import pytest
import redis
from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle

from backend.core import throttling

pytestmark = pytest.mark.django_db


def test_counts_are_shared_by_every_process_and_expire_with_their_window():
    assert throttling.count_request("rapport:throttle:test:1", 60) == 1
    assert throttling.count_request("rapport:throttle:test:1", 60) == 2
    throttling._redis.cache_clear()  # as another worker: a client (and connection pool) of its own
    assert throttling.count_request("rapport:throttle:test:1", 60) == 3
    other = redis.Redis.from_url(settings.REDIS_URL)
    assert int(other.get("rapport:throttle:test:1")) == 3 and 0 < other.ttl("rapport:throttle:test:1") <= 61


def test_a_refused_submission_says_when_the_window_ends(world, api, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"responses": "2/minute"})
    person = api(world.service_user)
    body = {"instrument": "phq9", "service_user_id": world.service_user.pk, "course_id": world.course.pk,
            "mode": "self_online", "answers": {"1": 0}}
    statuses = [person.post("/api/v1/responses/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"k{n}").status_code for n in range(3)]
    assert statuses[2] == 429, statuses
    refused = person.post("/api/v1/responses/", body, format="json", HTTP_IDEMPOTENCY_KEY="k9")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    # Another account is counted on its own.
    clinician = api(world.clinician)
    assert clinician.post("/api/v1/responses/", {**body, "mode": "paper"}, format="json", HTTP_IDEMPOTENCY_KEY="c1").status_code != 429
