"""TURN proved, not assumed (issue 12, point 10): coturn accepts the credentials Rapport mints.

The test starts Debian's coturn (`turnserver`, installed by tests/setup_services.sh) on 127.0.0.1 only,
with a static auth secret, relaying on loopback. Rapport is configured with that secret; the two
people's credentials come from the ICE-servers endpoint (`appointments/{id}/ice-servers/`). Two
aiortc peers with `iceTransportPolicy: relay` (only relayed candidates are gathered and used) then
connect and carry video: the media goes through coturn. An expired credential and a tampered one are
refused by coturn itself (the allocation fails with 401).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time

import aioice.ice
import aioice.stun
import aioice.turn
import av
import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
from aiortc.mediastreams import VideoStreamTrack
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from backend.sessions.ice import turn_credentials
from tests.live_server import free_port
from tests.sessions.test_webrtc_e2e import CONNECT_TIMEOUT, FRAME_TIMEOUT, running_session
from tests.signalling_client import FrameSink, local_candidates, loopback_host_addresses, wait_connected

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "test-only-coturn-static-auth-secret"
REALM = "rapport.test"


def _udp_answers(port: int) -> bool:
    """Whether something answers a STUN binding request on 127.0.0.1:port (turnserver is up)."""
    request = aioice.stun.Message(message_method=aioice.stun.Method.BINDING, message_class=aioice.stun.Class.REQUEST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(bytes(request), ("127.0.0.1", port))
            sock.recvfrom(2048)
            return True
        except OSError:
            return False


@pytest.fixture(scope="module")
def coturn(tmp_path_factory):
    """coturn on 127.0.0.1:<free port>, relaying on 127.0.0.1 only, shared-secret auth; stopped afterwards."""
    binary = shutil.which("turnserver")
    assert binary, "Debian's coturn is needed for this test: tests/setup_services.sh installs it (apt-get install coturn)"
    directory = tmp_path_factory.mktemp("coturn")
    port = free_port()
    low = 49152 + (port % 1000) * 10  # a small relay range of our own
    command = [
        binary, "-n", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint",
        "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1", "--listening-port", str(port),
        "--min-port", str(low), "--max-port", str(low + 9), "--allowed-peer-ip", "127.0.0.1",
        "--allow-loopback-peers",  # coturn refuses loopback peers unless told; both peers are on 127.0.0.1 here
        "--use-auth-secret", "--static-auth-secret", SECRET, "--realm", REALM,
        "--userdb", str(directory / "turndb"), "--pidfile", str(directory / "turnserver.pid"),
        "--log-file", str(directory / "turnserver.log"), "--simple-log", "--no-stdout-log", "--verbose",
    ]
    log = open(directory / "stdout.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 10
        while not _udp_answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"turnserver did not start: {(directory / 'stdout.log').read_text(errors='replace')}", pytrace=False)
            time.sleep(0.1)
        yield port, directory
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture(autouse=True)
def _loopback(monkeypatch, settings, coturn):
    port, _ = coturn
    monkeypatch.setattr(aioice.ice, "get_host_addresses", loopback_host_addresses)
    settings.STUN_URLS = []
    settings.TURN_URLS = [f"turn:127.0.0.1:{port}?transport=udp"]
    settings.TURN_SECRET = SECRET
    settings.TURN_TTL_SECONDS = 600


@database_sync_to_async
def ice_servers_from_the_endpoint(user, appointment_id: int) -> list[dict]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/appointments/{appointment_id}/ice-servers/")
    assert response.status_code == 200, response.content
    return response.json()["ice_servers"]


def relay_only_peer(ice_servers: list[dict]) -> RTCPeerConnection:
    servers = [RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential")) for s in ice_servers]
    return RTCPeerConnection(RTCConfiguration(iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy.RELAY))


async def test_two_peers_relay_only_carry_video_through_coturn_with_credentials_from_the_endpoint(coturn):
    world, _ = await running_session()
    host_servers = await ice_servers_from_the_endpoint(world.clinician, world.appointment.pk)
    person_servers = await ice_servers_from_the_endpoint(world.service_user, world.appointment.pk)
    assert [s["urls"] for s in host_servers] == [[f"turn:127.0.0.1:{coturn[0]}?transport=udp"]]
    assert host_servers[0]["username"] != person_servers[0]["username"]  # one credential per person

    host, person = relay_only_peer(host_servers), relay_only_peer(person_servers)
    received = {}

    @person.on("track")
    def on_track(track):
        received["video"] = FrameSink(track)

    host.addTrack(VideoStreamTrack())
    person.addTransceiver("video", direction="recvonly")
    try:
        await host.setLocalDescription(await host.createOffer())
        await person.setRemoteDescription(host.localDescription)
        await person.setLocalDescription(await person.createAnswer())
        await host.setRemoteDescription(person.localDescription)
        for pc in (host, person):  # relay candidates only, allocated on coturn's loopback relay range
            candidates = [c["candidate"] for c in local_candidates(pc.localDescription)]
            assert candidates and all(" typ relay" in c and " 127.0.0.1 " in c for c in candidates), candidates
        await asyncio.gather(wait_connected(host, CONNECT_TIMEOUT), wait_connected(person, CONNECT_TIMEOUT))
        for _ in range(100):
            if "video" in received:
                break
            await asyncio.sleep(0.05)
        frame = await received["video"].more(5, FRAME_TIMEOUT)
        assert isinstance(frame, av.VideoFrame) and frame.width > 0
        pair = person.getTransceivers()[0].receiver.transport.transport.iceGatherer._connection._nominated
        assert all(p.local_candidate.type == "relay" for p in pair.values()), pair
        # coturn's own account: each person's credential from the endpoint got an allocation and a channel to the other.
        log = (coturn[1] / "turnserver.log").read_text(errors="replace")
        for servers in (host_servers, person_servers):
            user = f"user <{servers[0]['username']}>"
            assert f"{user}: incoming packet ALLOCATE processed, success" in log, log[-3000:]
            assert f"{user}: incoming packet CHANNEL_BIND processed, success" in log, log[-3000:]
    finally:
        if "video" in received:
            received["video"].stop()
        await host.close()
        await person.close()


async def allocate(port: int, username: str, password: str) -> None:
    """Ask coturn for a relay allocation with these credentials (raises TransactionFailed if refused)."""
    transport, _ = await aioice.turn.create_turn_endpoint(
        asyncio.DatagramProtocol, ("127.0.0.1", port), username, password, lifetime=60,
    )
    transport.close()


async def test_coturn_refuses_expired_and_tampered_credentials(coturn):
    port, _ = coturn
    identity = "1-u1"
    username, password = turn_credentials(identity, secret=SECRET, ttl_seconds=600)
    await asyncio.wait_for(allocate(port, username, password), 10)  # the genuine one is accepted

    expired = turn_credentials(identity, secret=SECRET, ttl_seconds=-60)
    later_expiry = f"{int(time.time()) + 86400}:{identity}"  # expiry moved on, password kept
    wrong_secret = turn_credentials(identity, secret="not-the-secret", ttl_seconds=600)
    for name, (user, credential) in {
        "expired": expired,
        "username tampered": (later_expiry, password),
        "password tampered": (username, password[:-2] + ("A=" if password[-2:] != "A=" else "B=")),
        "minted with another secret": wrong_secret,
    }.items():
        with pytest.raises(aioice.stun.TransactionFailed) as refused:
            await asyncio.wait_for(allocate(port, user, credential), 10)
        assert "401" in str(refused.value), (name, refused.value)
