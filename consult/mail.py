"""Email over SMTP when MAIL_SERVER is set, otherwise into the outbox folder. Never dropped.

Services call queue_email(): the message goes when the request's transaction commits, and not
at all if it rolls back, so nobody is sent a link to something that was never saved. Over SMTP
it goes from a background thread, so that how long a request takes does not tell whether an
email was sent (for example, whether an account exists).
"""

from __future__ import annotations

import logging
import smtplib
import threading
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from consult.models import utcnow

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


_QUEUE = "consult_outgoing_mail"


def queue_email(*, to: str, subject: str, body: str) -> None:
    """Send this email once the current database transaction commits."""
    from consult.extensions import db

    db.session().info.setdefault(_QUEUE, []).append({"to": to, "subject": subject, "body": body})


_senders: list[threading.Thread] = []


def _send_all(app, messages: list[dict]) -> None:
    with app.app_context():
        for message in messages:
            send_email(**message)


@event.listens_for(Session, "after_commit")
def _send_queued(session: Session) -> None:
    messages = session.info.pop(_QUEUE, [])
    if not messages:
        return
    if not current_app.config["MAIL_SERVER"]:
        _send_all(current_app, messages)  # the outbox: a quick local write
        return
    # Not a daemon: the process waits for it before it exits, so nothing is dropped.
    sender = threading.Thread(target=_send_all, name="consult-mail", daemon=False,
                              args=(current_app._get_current_object(), messages))
    sender.start()
    _senders[:] = [t for t in _senders if t.is_alive()] + [sender]


def wait_for_sent_mail(timeout: float = 10.0) -> None:
    """Wait until every email handed to SMTP so far has been sent (or kept in the outbox)."""
    for sender in list(_senders):
        sender.join(timeout)


@event.listens_for(Session, "after_rollback")
def _drop_queued(session: Session) -> None:
    session.info.pop(_QUEUE, None)
