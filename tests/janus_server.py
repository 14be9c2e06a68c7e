"""A real Janus (Debian's `janus` package) for the tests, with its own configuration in a temporary folder.

What the configuration does, and why:
- Only the VideoRoom plugin and the HTTP transport are loaded (the other plugins and transports are disabled),
  so nothing else listens. The Janus API and the Admin API are bound to 127.0.0.1 on free ports.
- Token auth is on with signed tokens (`token_auth_secret`): every request must carry a token Rapport signed,
  and Janus itself checks its signature and its expiry time. The VideoRoom `admin_key` is set, so only the
  holder of it (Rapport's server side) can create rooms. The Admin API needs the test's admin secret.
- ICE: no STUN server, no TURN, no mDNS, no IPv6, and a small RTP port range. Janus never gathers on
  loopback interfaces (src/ice.c skips every interface flagged IFF_LOOPBACK), and libnice did not pair its
  candidate with an aiortc peer's 127.0.0.1 candidate (tried: ICE failed), so the tests enforce the machine's
  own address (`ice_enforce_list`) and the aiortc peers gather on that address only. The kernel delivers
  packets between two of the machine's own addresses through the loopback device: no packet leaves the
  machine. The Janus and Admin APIs are on 127.0.0.1. docs/deploy.md says how production differs.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PLUGINS_DIRS = ("/usr/lib/x86_64-linux-gnu/janus/plugins", "/usr/lib/aarch64-linux-gnu/janus/plugins", "/usr/lib/janus/plugins")
OTHER_PLUGINS = (
    "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,"
    "libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,"
    "libjanus_voicemail.so"
)
OTHER_TRANSPORTS = "libjanus_websockets.so,libjanus_pfunix.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_rabbitmq.so"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def own_address() -> str:
    """The machine's own non-loopback IPv4 address (the route a packet would take; nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET: connect() on UDP only picks the route
            address = sock.getsockname()[0]
        except OSError:
            address = ""
    if not address or address.startswith("127."):
        raise RuntimeError("Janus needs one non-loopback IPv4 address on this machine (it never gathers on loopback)")
    return address


def _lib_dir(kind: str) -> str:
    for plugins in PLUGINS_DIRS:
        candidate = Path(plugins).parent / kind
        if candidate.is_dir():
            return str(candidate)
    raise RuntimeError(f"Janus's {kind} folder was not found (is Debian's janus package installed?)")


@dataclass
class JanusServer:
    """One janus process on loopback. `url` is the Janus API; `admin_url` the Admin API."""

    directory: Path
    token_secret: str = "test-only-janus-token-secret"
    admin_key: str = "test-only-janus-videoroom-admin-key"
    admin_secret: str = "test-only-janus-admin-secret"
    allow_origin: str = "*"
    port: int = field(default_factory=_free_port)
    admin_port: int = field(default_factory=_free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/janus"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}/admin"

    def write_configuration(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        rtp_low = 20000 + (self.port % 200) * 100
        (self.directory / "janus.jcfg").write_text(
            f"""general: {{
    configs_folder = "{self.directory}"
    plugins_folder = "{_lib_dir('plugins')}"
    transports_folder = "{_lib_dir('transports')}"
    events_folder = "{_lib_dir('events')}"
    loggers_folder = "{_lib_dir('loggers')}"
    debug_level = 4
    admin_secret = "{self.admin_secret}"
    token_auth = true
    token_auth_secret = "{self.token_secret}"
    session_timeout = 60
    server_name = "rapport-test-janus"
}}
media: {{
    ipv6 = false
    rtp_port_range = "{rtp_low}-{rtp_low + 99}"
}}
nat: {{
    ice_enforce_list = "{own_address()}"
    ignore_mdns = true
    full_trickle = true
}}
plugins: {{
    disable = "{OTHER_PLUGINS}"
}}
transports: {{
    disable = "{OTHER_TRANSPORTS}"
}}
events: {{
    broadcast = false
}}
"""
        )
        (self.directory / "janus.transport.http.jcfg").write_text(
            f"""general: {{
    json = "compact"
    base_path = "/janus"
    http = true
    ip = "127.0.0.1"
    port = {self.port}
    https = false
}}
admin: {{
    admin_base_path = "/admin"
    admin_http = true
    admin_ip = "127.0.0.1"
    admin_port = {self.admin_port}
    admin_https = false
}}
cors: {{
    allow_origin = "{self.allow_origin}"
}}
"""
        )
        (self.directory / "janus.plugin.videoroom.jcfg").write_text(
            f"""general: {{
    admin_key = "{self.admin_key}"
    lock_rtp_forward = true
}}
"""
        )

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/info", timeout=1) as response:  # noqa: S310 - loopback
                return json.load(response).get("janus") == "server_info"
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def start(self, timeout: float = 20) -> JanusServer:
        binary = shutil.which("janus")
        if not binary:
            raise RuntimeError("Debian's janus is needed: tests/setup_services.sh installs it (apt-get install janus)")
        self.write_configuration()
        log = open(self.directory / "janus.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603
            [binary, "--configs-folder", str(self.directory), "--config", str(self.directory / "janus.jcfg")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._log = log
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"janus did not start on 127.0.0.1:{self.port}; its log:\n{self.log_text()[-4000:]}")
            time.sleep(0.1)
        return self

    def log_text(self) -> str:
        path = self.directory / "janus.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        """Stop and start again on the same ports (rooms made through the API are gone afterwards)."""
        self.stop()
        self.start()
