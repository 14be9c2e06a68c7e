"""The connection test's server-side peer: it sends a person's own audio and video straight back,
so before an appointment they can see that media flows both ways and how long the round trip takes.

aiortc runs in the ASGI server's event loop. Peers are capped per process and closed when the page
goes away or after a time limit, whichever comes first.
"""

from __future__ import annotations

from collections.abc import Callable

from aiortc import MediaStreamTrack, RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay


class _EchoTrack(MediaStreamTrack):
    """Forwards the frames of a received track, telling the page when the first one arrives."""

    def __init__(self, source: MediaStreamTrack, on_first_frame: Callable[[str], None]):
        super().__init__()
        self.kind = source.kind
        self._source = source
        self._on_first_frame = on_first_frame
        self._seen = False

    async def recv(self):
        frame = await self._source.recv()
        if not self._seen:
            self._seen = True
            self._on_first_frame(self.kind)
        return frame


class EchoPeer:
    """One test call: answers the page's offer and echoes each of its tracks back."""

    def __init__(self, ice_servers: list[dict], on_first_frame: Callable[[str], None]):
        servers = [RTCIceServer(**server) for server in ice_servers]
        # Only the servers the deployment configured: aiortc waits on every one while gathering,
        # and with none it gathers host candidates only (it never falls back to a public STUN server).
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self._relay = MediaRelay()

        @self.pc.on("track")
        def on_track(track):
            self.pc.addTrack(_EchoTrack(self._relay.subscribe(track), on_first_frame))

    async def answer(self, offer_sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    async def close(self) -> None:
        await self.pc.close()
