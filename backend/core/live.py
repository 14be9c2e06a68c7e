"""Telling connected browsers about a change, through the channel layer, once it has committed."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def broadcast_on_commit(group: str, event: dict) -> None:
    """Send `event` to every socket in `group` after the surrounding transaction commits, so nobody
    hears of a change that was rolled back."""
    transaction.on_commit(lambda: async_to_sync(get_channel_layer().group_send)(group, event))
