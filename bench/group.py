"""Benchmark: one publisher and N audio subscribers through Janus (an SFU), beside the same N in a mesh.

SFU: Debian's janus started with the tests' configuration (tests/janus_server.py: loopback APIs, token auth),
a VideoRoom made through Rapport's client (backend/groups/janus.py), one aiortc publisher (audio only, to fit
the machine) and N aiortc subscribers (tests/janus_peer.py). Mesh: the same publisher sends its audio to N
aiortc peers directly, one peer connection (and one encoder) each, as a browser in a mesh does.
Measured over a window once everyone is receiving: the publisher's upstream bytes/s (outbound RTP), the CPU
of this Python process per second (publisher and receivers alike, in both modes) and, for the SFU, of the
janus process; "held" means every subscriber received at least 90% of the audio frames expected (50/s).

    .venv/bin/python bench/group.py [--sizes 1,2,4,8,16] [--seconds 6]

Needs Debian's janus (tests/setup_services.sh installs it). No database. ICE on the machine's own address only
(Janus never gathers on loopback; see tests/janus_server.py), no STUN or TURN.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
os.environ.pop("DATABASE_URL", None)  # embedded settings: no database is used

import django  # noqa: E402

django.setup()

import aioice.ice  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection  # noqa: E402
from aiortc.mediastreams import AudioStreamTrack  # noqa: E402
from django.conf import settings  # noqa: E402

from backend.groups import janus as client  # noqa: E402
from tests.janus_peer import JanusPeer  # noqa: E402
from tests.janus_server import JanusServer, own_address  # noqa: E402
from tests.signalling_client import FrameSink  # noqa: E402

FRAMES_PER_SECOND = 50  # aiortc's audio track: 20 ms frames


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _janus_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _bytes_sent(pcs) -> int:
    total = 0
    for pc in pcs:
        for stat in (await pc.getStats()).values():
            if stat.type == "outbound-rtp":
                total += stat.bytesSent
    return total


async def _window(publisher_pcs, sinks, seconds: float, janus_pid: int | None):
    sent0, cpu0, frames0 = await _bytes_sent(publisher_pcs), _cpu(), [s.count for s in sinks]
    j0 = _janus_cpu(janus_pid) if janus_pid else 0.0
    start = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - start
    sent1, cpu1, frames1 = await _bytes_sent(publisher_pcs), _cpu(), [s.count for s in sinks]
    j1 = _janus_cpu(janus_pid) if janus_pid else 0.0
    worst = min((b - a) / elapsed for a, b in zip(frames0, frames1)) if sinks else 0
    return {
        "upstream_bytes_per_s": (sent1 - sent0) / elapsed, "process_cpu": (cpu1 - cpu0) / elapsed,
        "janus_cpu": (j1 - j0) / elapsed if janus_pid else None, "worst_frames_per_s": worst,
        "held": worst >= 0.9 * FRAMES_PER_SECOND,
    }


async def sfu(janus: JanusServer, n: int, seconds: float) -> dict:
    tokens = [client.sign_token(expires_at=int(time.time()) + 600) for _ in range(n + 1)]
    room = client.new_room_id()
    client.room_ensure(room_id=room, description="bench", publishers=n + 1, allowed=tokens)
    publisher = JanusPeer(janus.url, tokens[0], room, client.new_feed_id(), name="publisher", video=False)
    subscribers = [JanusPeer(janus.url, t, room, client.new_feed_id(), name=f"s{i}", audio=False, video=False) for i, t in enumerate(tokens[1:])]
    try:
        await publisher.open()
        await publisher.join()
        await publisher.publish()
        for peer in subscribers:
            await peer.open()
            await peer.join()  # a participant who does not publish: only subscribes
        for peer in subscribers:
            await peer.wait_publishers(1)  # the publisher's media is up (Janus lists it)
        await asyncio.gather(*(peer.subscribe([publisher.feed_id]) for peer in subscribers))
        deadline = time.monotonic() + 20
        while any((publisher.feed_id, "audio") not in p.sinks for p in subscribers) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        sinks = [p.sinks[(publisher.feed_id, "audio")] for p in subscribers if (publisher.feed_id, "audio") in p.sinks]
        await asyncio.sleep(1)
        result = await _window([publisher.pub_pc], sinks, seconds, janus.process.pid)
        result["held"] = result["held"] and len(sinks) == n
        return result
    finally:
        for peer in (publisher, *subscribers):
            await peer.close()
        client.room_destroy(room_id=room)


async def mesh(n: int, seconds: float) -> dict:
    senders, receivers, sinks = [], [], []
    try:
        for _ in range(n):
            sender, receiver = RTCPeerConnection(RTCConfiguration(iceServers=[])), RTCPeerConnection(RTCConfiguration(iceServers=[]))
            senders.append(sender)
            receivers.append(receiver)
            sender.addTrack(AudioStreamTrack())  # a browser in a mesh encodes once per peer connection
            arrived = asyncio.get_running_loop().create_future()
            receiver.on("track", lambda track, f=arrived: f.done() or f.set_result(track))
            await sender.setLocalDescription(await sender.createOffer())
            await receiver.setRemoteDescription(sender.localDescription)
            await receiver.setLocalDescription(await receiver.createAnswer())
            await sender.setRemoteDescription(receiver.localDescription)
            sinks.append(FrameSink(await asyncio.wait_for(arrived, 20)))
        await asyncio.sleep(1)
        return await _window(senders, sinks, seconds, None)
    finally:
        for sink in sinks:
            sink.stop()
        for pc in (*senders, *receivers):
            await pc.close()


async def main(sizes: list[int], seconds: float) -> None:
    address = own_address()
    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: [address]
    janus = JanusServer(Path(tempfile.mkdtemp(prefix="bench-janus-"))).start()
    settings.JANUS_SERVERS, settings.JANUS_TOKEN_SECRET, settings.JANUS_ADMIN_KEY = [janus.url], janus.token_secret, janus.admin_key
    print(f"{'N':>3} {'mode':>5} {'upstream B/s':>13} {'py CPU':>7} {'janus CPU':>9} {'worst fps':>9} held")
    largest = {"sfu": 0, "mesh": 0}
    try:
        for n in sizes:
            for mode in ("sfu", "mesh"):
                result = await (sfu(janus, n, seconds) if mode == "sfu" else mesh(n, seconds))
                janus_cpu = f"{result['janus_cpu']:.2f}" if result["janus_cpu"] is not None else "-"
                print(f"{n:>3} {mode:>5} {result['upstream_bytes_per_s']:>13.0f} {result['process_cpu']:>7.2f} {janus_cpu:>9} "
                      f"{result['worst_frames_per_s']:>9.1f} {'yes' if result['held'] else 'no'}", flush=True)
                if result["held"]:
                    largest[mode] = max(largest[mode], n)
    finally:
        janus.stop()
    print(f"largest N held on this machine: SFU {largest['sfu']}, mesh {largest['mesh']} (of sizes tried: {sizes})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,2,4,8,16")
    parser.add_argument("--seconds", type=float, default=6)
    args = parser.parse_args()
    asyncio.run(main([int(n) for n in args.sizes.split(",")], args.seconds))
