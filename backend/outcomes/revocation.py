"""The outcomes app's callback on the accounts layer's ACCESS_CHANGED hook (backend/accounts/hooks.py),
added in OutcomesConfig.ready(): each account whose access may have narrowed has its risk-flag
sockets re-check (consumers.RiskFlagConsumer.access_changed)."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from backend.accounts.hooks import AccessChange
from backend.outcomes.selectors import risk_flag_group


def on_access_changed(change: AccessChange) -> None:
    layer = get_channel_layer()
    for user_id in change.user_ids:
        async_to_sync(layer.group_send)(risk_flag_group(user_id), {"type": "access.changed", "reason": change.reason})
