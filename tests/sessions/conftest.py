"""Fixtures shared by the tests that run real aiortc peers against live servers."""

from __future__ import annotations

import aioice.ice
import pytest

from tests.signalling_client import FrameSink, SignallingClient, loopback_host_addresses


@pytest.fixture
def ice_on_loopback_only(monkeypatch):
    """aioice gathers host candidates on every interface; here, on 127.0.0.1 only."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", loopback_host_addresses)


@pytest.fixture
async def clients():
    """Collects the test's signalling clients and closes them afterwards: each says bye (as a client hanging
    up does), then its socket and peer connections close."""
    made: list[SignallingClient] = []
    sinks: list[FrameSink] = []
    yield made, sinks
    for sink in sinks:
        sink.stop()
    for client in made:
        await client.close(bye=True)
