"""Every kind of account against every socket and the session page: one table, beside the REST
permission matrix (tests/accounts/test_permission_matrix.py), so the sockets and pages are seen to
follow the same rule as the API (`session_access_for`).

The session is running; the host (clinician), the person and the carer they invited are admitted.
The team's peer worker may see the appointment but does not take part in it; the others are from
the other team, a carer the person never linked, an evaluator and an admin.
"""

import pytest
from django.test import Client

from tests.sessions.test_signalling_consumer import running_session
from tests.websockets import open_socket

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNTS = ["anonymous", "clinician", "peer_worker", "service_user", "carer", "evaluator", "admin",
            "other_clinician", "other_service_user", "unlinked_carer"]

ACCEPTED = "accepted"
PARTICIPANTS_ONLY = {name: 4404 for name in ACCOUNTS} | {"anonymous": 4401, "clinician": ACCEPTED, "service_user": ACCEPTED, "carer": ACCEPTED}

# socket: (path builder, first message type when accepted, expected outcome per account)
SOCKETS = {
    "call": (lambda w: f"/ws/sessions/{w.appointment.pk}/", "welcome", PARTICIPANTS_ONLY),
    # A colleague of the team (the peer worker here) may run the session, covering: they see its waiting
    # room; the call socket is for those admitted to the call.
    "waiting-room": (lambda w: f"/ws/sessions/{w.appointment.pk}/waiting-room/", "lobby", PARTICIPANTS_ONLY | {"peer_worker": ACCEPTED}),
    "risk-flags": (lambda w: "/ws/risk-flags/", "open-flags",
                   {name: 4403 for name in ACCOUNTS} | {"anonymous": 4401, "clinician": ACCEPTED, "other_clinician": ACCEPTED}),
}

# The session page: participants and the team's colleagues (who may cover) get it; anyone else logged in
# gets 404 (nothing revealed); anonymous is sent to log in.
PAGE = {name: 404 for name in ACCOUNTS} | {"anonymous": 302, "clinician": 200, "peer_worker": 200, "service_user": 200, "carer": 200}


def account(world, name):
    return None if name == "anonymous" else getattr(world, name)


def test_every_account_has_a_row():
    assert all(set(expected) == set(ACCOUNTS) for _, _, expected in SOCKETS.values()) and set(PAGE) == set(ACCOUNTS)


@pytest.mark.parametrize("socket", sorted(SOCKETS))
async def test_account_against_socket(socket):
    world = await running_session(with_carer=True)
    path, accepted_type, expected = SOCKETS[socket]
    outcomes = {}
    for name in ACCOUNTS:
        communicator = await open_socket(path(world), account(world, name))
        first = await communicator.receive_json_from(timeout=5)
        if first["type"] == accepted_type:
            outcomes[name] = ACCEPTED
        else:
            assert first["type"] == "error", first
            closing = await communicator.receive_output(timeout=5)
            outcomes[name] = closing["code"] if closing["type"] == "websocket.close" else closing
        await communicator.disconnect()
    assert outcomes == expected


def test_account_against_the_session_page():
    world = running_session.func(with_carer=True)  # the same set-up, called synchronously
    outcomes = {}
    for name in ACCOUNTS:
        client = Client()
        user = account(world, name)
        if user is not None:
            client.force_login(user)
        outcomes[name] = client.get(f"/sessions/{world.appointment.pk}/").status_code
    assert outcomes == PAGE
