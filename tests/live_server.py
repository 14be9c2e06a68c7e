"""Rapport's real ASGI app under uvicorn, in a subprocess on a free loopback port.

Used by the end-to-end call tests (tests/sessions/test_webrtc_e2e.py, two servers sharing one Redis
channel layer) and by the benchmarks under bench/. Plain Python (no pytest, no Django import), so a
benchmark can use it too. Everything listens and connects on 127.0.0.1 only.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0

# Loopback only: never let urllib pick up a proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_with_name(url: str, name: str) -> str:
    """`url` (postgres://...) with its database name swapped for `name`."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def answers(url: str) -> bool:
    """Whether an HTTP server answers at `url` at all (any status: the app is up)."""
    try:
        with _opener.open(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def http_post(url: str, *, token: str | None = None, timeout: float = 10) -> tuple[int, bytes]:
    """POST an empty JSON body (loopback only). Returns (status, body)."""
    request = urllib.request.Request(url, data=b"", method="POST", headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class LiveServer:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(env: dict[str, str], log_path: Path, *, extra_args: tuple[str, ...] = ()) -> LiveServer:
    """Start `uvicorn backend.asgi:application` on a free loopback port with exactly `env`. Does not wait."""
    port = free_port()
    command = [
        resolve_python(), "-m", "uvicorn", "backend.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off", "--no-server-header", *extra_args,
    ]
    # The harness's sitecustomize keeps server-side WebRTC (the connection test's peer) on loopback.
    env = {**env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT / "tests" / "harness")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    return LiveServer(process=process, port=port, log_path=log_path)


def wait_until_up(*servers: LiveServer, timeout: float = START_TIMEOUT) -> None:
    """Wait for every server to answer HTTP; stop them all and raise RuntimeError (with the log) if one does not."""
    deadline = time.monotonic() + timeout
    pending = list(servers)
    while pending:
        for server in list(pending):
            if server.process.poll() is not None:
                for s in servers:
                    s.stop()
                raise RuntimeError(f"uvicorn exited with status {server.process.returncode}:\n{server.log()}")
            if answers(f"{server.base_url}/api/v1/"):
                pending.remove(server)
        if pending and time.monotonic() > deadline:
            for s in servers:
                s.stop()
            raise RuntimeError(f"uvicorn did not answer within {timeout:.0f} s:\n{pending[0].log()}")
        if pending:
            time.sleep(0.1)


def resolve_python() -> str:
    """The project's virtualenv Python (the one uvicorn and aiortc are installed in)."""
    python = ROOT / ".venv" / "bin" / "python"
    return str(python if python.exists() else sys.executable)
