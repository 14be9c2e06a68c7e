"""Schemathesis against the live schema, as every demo role: no request it can make gets a server
error, and every answer matches the schema (issue 10). Examples per operation are bounded (FUZZ_EXAMPLES)
so the whole run stays within a few minutes on a busy two-core machine; raise it locally to dig deeper.

Requests go through Django's WSGI handler in-process, inside the test's transaction, so the test world
(tests/factories.py) is what the fuzzer finds; each role logs in with a real knox token.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from backend.accounts.services import api_token_issue
from backend.audit.actor import Actor

pytestmark = pytest.mark.django_db

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
ROLES = ["anonymous", "service_user", "carer", "peer_worker", "clinician", "evaluator", "admin"]
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def wsgi_app():
    """Django's WSGI app, kept on the test's database connection (as Django's test client does: a
    finished request would otherwise close the connection that holds the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


def _real_ids(world) -> dict[str, list]:
    """Path parameters that name rows of the test world, by the parameter's name in the schema."""
    from tests.network import helpers as network
    from tests.relatives.helpers import relatives_world

    rw = relatives_world(world)  # the relatives' space: the carer a relative, the peer worker a supporter
    return {
        "member_id": [network.member(world).pk],
        "snapshot_id": [network.snapshot(world).pk],
        "signpost_id": [network.signpost(world).pk],
        "resource_id": [network.resource(world).pk],
        "module_id": [rw.modules[0].module_id],
        "page_id": [rw.page.pk],
        "thread_id": [rw.thread.pk],
        "post_id": [rw.published_post.pk, rw.held_post.pk],
        "appointment_id": [world.appointment.pk, world.past_appointment.pk],
        "service_user_id": [world.service_user.pk, world.other_service_user.pk],
        "team_id": [world.north.pk, world.south.pk],
        "course_id": [world.course.pk],
        "user_id": [world.service_user.pk, world.clinician.pk, world.carer.pk],
        "link_id": [world.carer_link.pk],
        "organisation_id": [world.organisation.pk],
        "code": ["phq9", "video", "carer_involvement"],
        **_group_ids(world),
        **_college_ids(world),
    }


def _college_ids(world) -> dict[str, list]:
    from tests.college.helpers import college_world

    cw = college_world(world)  # a published run (the carer co-facilitates it), a draft, the service user enrolled
    return {"run_id": [cw.run.pk, cw.draft.pk], "enrolment_id": [cw.enrolment.pk], "number": [1, 2]}


def _group_ids(world) -> dict[str, list]:
    from tests.factories import book_group

    group = book_group(world)
    return {"group_id": [group.pk], "attendee_id": [group.attendees.get().pk]}


@pytest.mark.parametrize("role", ROLES)
def test_no_server_errors_and_no_schema_violations(world, role, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    user = world.as_role(role)
    headers = {}
    if user is not None:
        token, _ = api_token_issue(actor=Actor(user, via="test"), user=user)
        headers["Authorization"] = f"Token {token}"
    ids = _real_ids(world)
    failures, exercised = [], 0
    for operation in _operations(schema):
        if operation.path == "/api/v1/auth/logout/":
            continue  # it would end this role's token for every operation after it

        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), real=st.booleans(), data=st.data())
        def fuzz(case, real, data):
            if real and case.path_parameters:
                # Random ids mostly miss (404); half the time, aim the fuzzed body and query at real rows.
                case.path_parameters = {name: data.draw(st.sampled_from(ids.get(name, [value])))
                                        for name, value in case.path_parameters.items()}
            case.call_and_validate(headers=headers, checks=CHECKS)

        exercised += 1
        try:
            fuzz()
        except Exception as error:  # noqa: BLE001 (collect every operation's failure, then report them all)
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:1500]}")
    assert not failures, f"{len(failures)} operations failed as {role}:\n\n" + "\n\n".join(failures)
    assert exercised > 70  # every operation of the schema, not a loader that found none
