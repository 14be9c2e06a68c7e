"""A real SMTP server on loopback (aiosmtpd), started by the tests that send email, and what it received.

Rapport sends through Django's SMTP backend to it, exactly as it would to a production relay, and the
test reads the messages back (parsed with the standard library's email package).
"""

from __future__ import annotations

import email
import re
import socket
import threading
from dataclasses import dataclass, field
from email.message import Message

from aiosmtpd.controller import Controller


@dataclass
class Received:
    envelope_to: list[str]
    message: Message

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_payload(decode=True) if not self.message.is_multipart() else self.message.get_payload(0).get_payload(decode=True)
        return part.decode("utf-8")

    def link(self) -> str:
        """The first http(s) link in the body."""
        match = re.search(r"https?://\S+", self.body)
        assert match, f"no link in the email: {self.body!r}"
        return match.group(0)


@dataclass
class _Inbox:
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's handler hook)
        with self.lock:
            self.messages.append(Received(list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


class MailServer:
    def __init__(self):
        self._inbox = _Inbox()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller = Controller(self._inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> MailServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[Received]:
        with self._inbox.lock:
            return list(self._inbox.messages)

    def clear(self) -> None:
        with self._inbox.lock:
            self._inbox.messages.clear()

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.envelope_to]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list[Received]:
        """The messages to `address` once there are `count` of them (the server may deliver a moment later)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} email(s) to {address}, got {len(self.to(address))}")
