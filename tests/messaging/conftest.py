import pytest

from backend.audit.actor import Actor
from backend.messaging import services as messaging


@pytest.fixture
def sending(world):
    """The world's teams with a neutral sender name, so their messages can go."""
    for team in (world.north, world.south):
        messaging.team_messaging_update(
            actor=Actor(world.admin, via="test"), team=team, sender_name="Leeds NHS", reminder_offsets_hours=[168, 24],
            caller_number_kind="a withheld number", questionnaire_days_before=3, nudge_hours_before=24,
        )
    return world
