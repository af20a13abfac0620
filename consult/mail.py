"""Email: queued in the database with the change that causes it, sent after commit.

Services call queue_message() (an email from a template pair under templates/emails/, naming
the coalition) or queue_email() (text already written). Either adds an `outgoing_email` row to
the current transaction, so a change that rolls back sends nothing, and asks for the queue to
be drained once the transaction commits:

- with MAIL_SERVER set, by one background thread per process (never the request's thread, so
  how long a request takes does not tell whether an email was sent), over one SMTP connection
  per batch;
- without it, by writing each email to the outbox folder, at once (a quick local write).

A sender claims each row atomically (an UPDATE that only one process can win) before sending
it, so two processes never send one row twice; a claim is a lease that runs out if the
process dies mid-send. A failure is retried after 1 minute, 5 minutes, 30 minutes and
2 hours, then the email is marked failed; the secretariat sees failed and retrying emails at
/admin/mail and may retry one at once. `flask consult send-mail` (for cron) sends whatever is
due, retries included.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app, url_for
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from consult import audit
from consult.extensions import db
from consult.models import EmailState, OutgoingEmail, utcnow
from consult.text import one_line
from consult.transactions import after_commit

log = logging.getLogger(__name__)

# How long to wait before each retry; after the last, the email is marked failed.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
# A claimed row is another sender's to take again if it is still "sending" after this long.
LEASE = timedelta(minutes=10)
BATCH_SIZE = 50
ERROR_MAX = 1000

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
    """An absolute link for an email, always on PUBLIC_URL: never on the host a request
    names (its Host header is the sender's to choose: a reset link must not point at an
    attacker's site), and the same from a request as from the command line."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)


# Queueing ----------------------------------------------------------------------------------


def queue_email(
    *,
    to: str,
    subject: str,
    body: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutgoingEmail | None:
    """Queue this email in the current transaction; it is sent once the transaction commits
    (never inside unsent(): then None)."""
    if _held_back.get():
        log.debug("Not sent (made-up data): email %r to %s", subject, to)
        return None
    email = OutgoingEmail(
        recipient=to,
        subject=subject,
        text_body=body,
        html_body=html,
        headers={"Message-ID": make_msgid(domain="consult.local"), **(headers or {})},
        state=EmailState.QUEUED,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(email)
    after_commit(wake_sender)
    return email


def render_email(template: str, **context: Any) -> tuple[str, str]:
    """The plain-text and HTML bodies of templates/emails/<template>.txt and .html (the HTML
    escaped by Jinja's autoescaping, the text not)."""
    env = current_app.jinja_env
    context = {"coalition": current_app.config["COALITION_NAME"], **context}
    text = env.get_template(f"emails/{template}.txt").render(**context)
    html = env.get_template(f"emails/{template}.html").render(**context)
    return text.strip() + "\n", html


def queue_message(
    *,
    to: str,
    template: str,
    subject: str,
    unsubscribe_url: str | None = None,
    **context: Any,
) -> OutgoingEmail | None:
    """Queue an email written from a template pair: its subject and first line name the
    coalition; a notification carries its one-click unsubscribe link and headers (RFC 8058)."""
    coalition = current_app.config["COALITION_NAME"]
    text, html = render_email(template, subject=subject, unsubscribe_url=unsubscribe_url, **context)
    headers = {}
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return queue_email(
        to=to, subject=f"{coalition}: {subject}", body=text, html=html, headers=headers
    )


# Sending -----------------------------------------------------------------------------------


@dataclass
class SendRun:
    """What one pass over the queue did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed


def _message(email: OutgoingEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = email.recipient
    # The subject is made of names and titles people typed: on one line, a line break in
    # one cannot try to start a header (the email library would refuse the message).
    message["Subject"] = one_line(email.subject)
    for name, value in (email.headers or {}).items():
        message[name] = value
    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(idstring=str(email.id), domain="consult.local")
    message.set_content(email.text_body)
    if email.html_body:
        message.add_alternative(email.html_body, subtype="html")
    return message


def _built(email: OutgoingEmail, run: SendRun) -> EmailMessage | None:
    """The email as a message, or None when no message can be made of it (an address with a
    line break in it, say): then it is marked failed at once, as trying again would not help,
    and the emails after it are sent all the same."""
    try:
        return _message(email)
    except (ValueError, TypeError) as error:
        email.state = EmailState.FAILED
        email.last_error = f"Could not be made into an email: {type(error).__name__}: {error}"[
            :ERROR_MAX
        ]
        run.failed += 1
        log.error(
            "Email %s to %r could not be made into an email; given up", email.id, email.recipient
        )
        return None


def _write_to_outbox(message: EmailMessage) -> Path:
    outbox = Path(current_app.config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    path = outbox / f"{stamp}-{message['Message-ID'].strip('<>').split('@')[0]}.eml"
    path.write_bytes(bytes(message))
    return path


def _claim(session: Session, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due emails for this sender and commit the claim. Each UPDATE
    succeeds for one sender only: whoever moves next_attempt_at past now first."""
    due = session.scalars(
        select(OutgoingEmail.id)
        .where(
            OutgoingEmail.state.in_([EmailState.QUEUED, EmailState.SENDING]),
            OutgoingEmail.next_attempt_at <= now,
        )
        .order_by(OutgoingEmail.id)
        .limit(limit)
    ).all()
    claimed = []
    for email_id in due:
        result = cast(
            CursorResult,
            session.execute(
                update(OutgoingEmail)
                .where(
                    OutgoingEmail.id == email_id,
                    OutgoingEmail.state.in_([EmailState.QUEUED, EmailState.SENDING]),
                    OutgoingEmail.next_attempt_at <= now,
                )
                .values(
                    state=EmailState.SENDING,
                    next_attempt_at=now + LEASE,
                    attempts=OutgoingEmail.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount == 1:
            claimed.append(email_id)
    session.commit()
    return claimed


def _failed(email: OutgoingEmail, error: str, now: datetime, run: SendRun) -> None:
    email.last_error = error[:ERROR_MAX]
    if email.attempts <= len(RETRY_DELAYS):
        email.state = EmailState.QUEUED
        email.next_attempt_at = now + RETRY_DELAYS[email.attempts - 1]
        run.retrying += 1
        log.warning("Email %s to %s not sent (%s); retrying", email.id, email.recipient, error)
    else:
        email.state = EmailState.FAILED
        run.failed += 1
        log.error("Email %s to %s not sent (%s); given up", email.id, email.recipient, error)


def _sent(email: OutgoingEmail, now: datetime, run: SendRun) -> None:
    email.state = EmailState.SENT
    email.sent_at = now
    email.last_error = None
    run.sent += 1


def _send_batch(emails: list[OutgoingEmail], now: datetime, run: SendRun) -> None:
    """Send these claimed emails: over one SMTP connection, or into the outbox folder."""
    config = current_app.config
    server = config["MAIL_SERVER"]
    if not server:
        for email in emails:
            message = _built(email, run)
            if message is None:
                continue
            path = _write_to_outbox(message)
            log.warning(
                "No MAIL_SERVER: email %r to %s written to %s", email.subject, email.recipient, path
            )
            _sent(email, now, run)
        return
    try:
        smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
        with smtp_class(server, config["MAIL_PORT"], timeout=10) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            for email in emails:
                message = _built(email, run)
                if message is None:
                    continue
                try:
                    smtp.send_message(message)
                except (OSError, smtplib.SMTPException) as error:
                    _failed(email, f"{type(error).__name__}: {error}", now, run)
                else:
                    _sent(email, now, run)
                    log.info("Sent email %r to %s over SMTP", email.subject, email.recipient)
    except (OSError, smtplib.SMTPException) as error:
        # The connection failed (or closed early): every email not yet settled retries.
        for email in emails:
            if email.state == EmailState.SENDING:
                _failed(email, f"{type(error).__name__}: {error}", now, run)


def send_due(*, now: datetime | None = None, limit: int = BATCH_SIZE) -> SendRun:
    """Claim and send one batch of due emails (in a session of its own, committed here)."""
    now = now or utcnow()
    run = SendRun()
    with Session(db.engine, expire_on_commit=False) as session:
        claimed = _claim(session, now, limit)
        if not claimed:
            return run
        emails = list(
            session.scalars(
                select(OutgoingEmail)
                .where(OutgoingEmail.id.in_(claimed))
                .order_by(OutgoingEmail.id)
            )
        )
        _send_batch(emails, now, run)
        session.commit()
    return run


def drain(*, now: datetime | None = None) -> SendRun:
    """Send every due email, batch after batch (`flask consult send-mail`, and the
    background sender)."""
    total = SendRun()
    while True:
        run = send_due(now=now)
        if not run.claimed:
            return total
        total.sent += run.sent
        total.retrying += run.retrying
        total.failed += run.failed


# The background sender: at most one thread per process at a time --------------------------

_lock = threading.Lock()
_sender: threading.Thread | None = None
# The apps whose queues are waiting to be drained (a test process may hold several apps).
_waiting: dict[int, Flask] = {}


def wake_sender() -> None:
    """Drain the queue: at once into the outbox, or over SMTP from the background thread."""
    global _sender
    if not current_app.config["MAIL_SERVER"]:
        drain()
        return
    app = cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    with _lock:
        _waiting[id(app)] = app
        if _sender is None:
            # Not a daemon: the process waits for it before it exits, so nothing is dropped.
            _sender = threading.Thread(target=_send_in_background, name="consult-mail")
            _sender.start()


def _send_in_background() -> None:
    global _sender
    while True:
        with _lock:
            if not _waiting:
                _sender = None
                return
            _, app = _waiting.popitem()
        with app.app_context():
            try:
                drain()
            except Exception:  # the queue keeps the emails: cron or the next wake sends them
                log.exception("The mail sender stopped; queued emails wait for the next run")


def wait_for_sent_mail(timeout: float = 10.0) -> None:
    """Wait until the background sender has drained the queue (for tests)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _lock:
            sender = _sender
        if sender is None:
            return
        sender.join(max(0.0, deadline - time.monotonic()))


def retry_now(email: OutgoingEmail, *, actor: Any = None) -> None:
    """Try a failed or retrying email again as soon as the transaction commits (the
    secretariat's request, audited)."""
    email.state = EmailState.QUEUED
    email.next_attempt_at = utcnow()
    db.session.flush()
    audit.record(
        actor, "email.retry", email, after={"recipient": email.recipient, "subject": email.subject}
    )
    after_commit(wake_sender)
