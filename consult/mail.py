"""Email over SMTP when MAIL_SERVER is set, otherwise into the outbox folder. Never dropped.

Services call queue_email(): the message goes when the request's transaction commits, and not
at all if it rolls back, so nobody is sent a link to something that was never saved. Over SMTP
it goes from a background thread, so that how long a request takes does not tell whether an
email was sent (for example, whether an account exists).
"""

from __future__ import annotations

import functools
import logging
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, url_for

from consult.models import utcnow
from consult.transactions import after_commit

log = logging.getLogger(__name__)


def _write_to_outbox(message: EmailMessage) -> Path:
    outbox = Path(current_app.config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    path = outbox / f"{stamp}-{message['Message-ID'].strip('<>').split('@')[0]}.eml"
    path.write_bytes(bytes(message))
    return path


def send_email(*, to: str, subject: str, body: str) -> None:
    """Send a plain-text email; if it cannot go over SMTP, keep it in the outbox and log it."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="consult.local")
    message.set_content(body)

    server = config["MAIL_SERVER"]
    if server:
        try:
            smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
            with smtp_class(server, config["MAIL_PORT"], timeout=10) as smtp:
                if config["MAIL_USE_TLS"]:
                    smtp.starttls()
                if config["MAIL_USERNAME"]:
                    smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
                smtp.send_message(message)
            log.info("Sent email %r to %s over SMTP", subject, to)
            return
        except (OSError, smtplib.SMTPException):
            path = _write_to_outbox(message)
            log.exception("SMTP failed; email %r to %s kept in %s", subject, to, path)
            return
    path = _write_to_outbox(message)
    log.warning("No MAIL_SERVER: email %r to %s written to %s\n%s", subject, to, path, body)


_senders: list[threading.Thread] = []

# True inside unsent(): emails queued there are dropped.
_held_back: ContextVar[bool] = ContextVar("consult_mail_held_back", default=False)


@contextmanager
def unsent() -> Iterator[None]:
    """Emails queued inside this block are dropped, never sent: for loading made-up data
    (the demo), whose people are not real and whose events happened days before."""
    token = _held_back.set(True)
    try:
        yield
    finally:
        _held_back.reset(token)


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute link for an email: from the request, SERVER_NAME, or else PUBLIC_URL (the
    command line)."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)


def queue_email(*, to: str, subject: str, body: str) -> None:
    """Send this email once the current database transaction commits (never inside
    unsent())."""
    if _held_back.get():
        log.debug("Not sent (made-up data): email %r to %s", subject, to)
        return
    after_commit(functools.partial(_deliver, {"to": to, "subject": subject, "body": body}))


def _deliver(message: dict) -> None:
    if not current_app.config["MAIL_SERVER"]:
        send_email(**message)  # the outbox: a quick local write
        return
    # Not a daemon: the process waits for it before it exits, so nothing is dropped.
    sender = threading.Thread(
        target=_send_in_background,
        name="consult-mail",
        daemon=False,
        # The app itself, not the context-bound proxy (Flask's documented accessor, which its
        # type hints do not declare).
        args=(current_app._get_current_object(), message),  # type: ignore[attr-defined]
    )
    sender.start()
    _senders[:] = [t for t in _senders if t.is_alive()] + [sender]


def _send_in_background(app, message: dict) -> None:
    with app.app_context():
        send_email(**message)


def wait_for_sent_mail(timeout: float = 10.0) -> None:
    """Wait until every email handed to SMTP so far has been sent (or kept in the outbox)."""
    for sender in list(_senders):
        sender.join(timeout)
