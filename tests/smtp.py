"""A real local SMTP server (aiosmtpd) for tests, and helpers to read what it received.

Use the fixture by importing it into a conftest.py:

    from tests.smtp import smtp_server  # noqa: F401

then point the app at it, for example by overriding `app_config` in a test module:

    @pytest.fixture
    def app_config(app_config, smtp_server):
        app_config.update(MAIL_SERVER=smtp_server.hostname, MAIL_PORT=smtp_server.port)
        return app_config
"""

from __future__ import annotations

import email
import re
import socket
import threading
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

_URL = re.compile(r"https?://[^\s<>\"']+")


class _Collector:
    """aiosmtpd handler: parse every message it accepts and keep it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd's threaded controller, listening on a port the OS chooses (port 0)."""

    def _trigger_server(self) -> None:
        # The server is bound by now: learn the real port before the controller connects to it.
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SMTPServer:
    """A running local SMTP server that keeps what it receives."""

    def __init__(self) -> None:
        self._collector = _Collector()
        self._controller = _Controller(self._collector, hostname="127.0.0.1", port=0)

    @property
    def hostname(self) -> str:
        return self._controller.hostname

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def messages(self) -> list[EmailMessage]:
        """The messages received so far, oldest first, parsed."""
        with self._collector._lock:
            return list(self._collector.messages)

    def messages_to(self, address: str) -> list[EmailMessage]:
        """The messages received so far for this recipient."""
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least `count` messages have arrived, then return them all."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} email(s), received {len(self.messages)}")
            time.sleep(0.01)
        return self.messages

    def clear(self) -> None:
        with self._collector._lock:
            self._collector.messages.clear()
            self._collector.envelopes.clear()

    def start(self) -> SMTPServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def body_of(message: EmailMessage) -> str:
    """The plain-text body of a message (or its first text part)."""
    part = message.get_body(preferencelist=("plain", "html")) or message
    return part.get_content()


def link_from(message: EmailMessage) -> str:
    """The first http(s) URL in the body of the message."""
    match = _URL.search(body_of(message))
    if match is None:
        raise AssertionError(f"no link in the email {message['Subject']!r}")
    return match.group(0).rstrip(".,;)")


def closed_port() -> int:
    """A local TCP port that nothing listens on (for testing an SMTP failure)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server on 127.0.0.1 at a free port, for the duration of one test."""
    server = SMTPServer().start()
    try:
        yield server
    finally:
        server.stop()
