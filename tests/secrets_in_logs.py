"""No password, token or cookie in any log line of a whole test run (issue 11).

tests/conftest.py attaches `SecretWatch` to the root logger for the whole session (each
pytest-xdist worker watches its own tests) and fails the run at its end if any log line held:
a password the tests use, the tests' secret key, a single-use link's token (password reset,
invitation, unsubscribe), a session or CSRF cookie, or an argon2 hash.

The test servers do not log each request (as gunicorn does not by default, `accesslog`
unset): a request line holds whatever the address held, a reset link's token included.
"""

from __future__ import annotations

import logging
import re

from werkzeug.serving import WSGIRequestHandler

from tests.factories import PASSWORD

PASSWORDS = (
    PASSWORD,
    "blueprint-demo-2026",
    "a different long password",
    "a long enough password",
    "my new long password",
    "test-secret-key",
)
PATTERNS = re.compile(
    r"/password-reset/[A-Za-z0-9_-]{20,}"
    r"|/invitations/[A-Za-z0-9_-]{20,}"
    r"|/unsubscribe/[A-Za-z0-9_.-]{20,}"
    r"|consult_session="
    r"|csrf_token=[A-Za-z0-9_.-]{10,}"
    r"|\$argon2id\$"
)


class SecretWatch(logging.Handler):
    """Keeps every log line that gives a secret away."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f" {record.exc_info[1]!r}"
        except Exception:  # a malformed record is not ours to judge
            return
        if any(secret in text for secret in PASSWORDS) or PATTERNS.search(text):
            self.leaks.append(f"{record.name}: {text[:300]}")


class QuietRequestHandler(WSGIRequestHandler):
    """The test servers' request handler, without a log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass
