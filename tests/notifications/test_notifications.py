"""Notifications and the mail queue: through a real SMTP server and the outbox; preferences,
digests, one-click unsubscribe, retries and one connection per batch."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from consult.comments import services as comments
from consult.extensions import db
from consult.mail import RETRY_DELAYS, drain, wait_for_sent_mail
from consult.models import (
    Delivery,
    DigestItem,
    EmailState,
    NotificationKind,
    OutgoingEmail,
    utcnow,
)
from consult.notifications import services as notifications
from consult.notifications.services import unsubscribe_token
from tests.helpers import audit_events, comment, login_as
from tests.html import select as select_html
from tests.html import select_one, text_of
from tests.smtp import body_of, closed_port, smtp_server  # noqa: F401

pytestmark = pytest.mark.database


@pytest.fixture
def smtp_config(app, smtp_server):
    app.config.update(MAIL_SERVER=smtp_server.hostname, MAIL_PORT=smtp_server.port)
    return smtp_server


def _reply(people, ask, body="I agree <b>strongly</b> & more."):
    first = comment(people.member, ask, "A first comment.")
    db.session.commit()
    reply = comment(people.other_member, ask, body, parent=first)
    db.session.commit()
    return first, reply


def test_a_reply_is_emailed_once_at_once_as_text_and_html(app, smtp_config, people, ask):
    _, reply = _reply(people, ask)
    wait_for_sent_mail()
    [message] = smtp_config.messages_to(people.member.email)
    assert len(smtp_config.messages) == 1  # nobody else (not the replier)
    assert message["Subject"].startswith("Blueprint Coalition: ")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text.splitlines()[0].startswith("Blueprint Coalition")
    assert "I agree <b>strongly</b> & more." in text
    assert "I agree &lt;b&gt;strongly&lt;/b&gt; &amp; more." in html and "<b>" not in html
    assert f"http://consult.test/comments/{reply.id}" in text
    unsubscribe = str(message["List-Unsubscribe"]).strip()
    assert unsubscribe.startswith("<http://consult.test/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_link_opens_the_thread_at_the_reply(app, client, outbox, people, ask):
    _, reply = _reply(people, ask)
    [message] = outbox()
    link = next(w for w in body_of(message).split() if "/comments/" in w)
    login_as(client, people.member)
    response = client.get(urlsplit(link).path)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#comment-{reply.id}")


def test_a_rolled_back_reply_sends_nothing(app, outbox, people, ask):
    first = comment(people.member, ask, "A first comment.")
    db.session.commit()
    comment(people.other_member, ask, "Reply", parent=first)
    db.session.rollback()
    assert outbox() == []
    assert db.session.scalars(select(OutgoingEmail)).all() == []


def test_no_one_is_told_of_their_own_action(app, outbox, people, ask):
    first = comment(people.member, ask, "A first comment.")
    comment(people.member, ask, "Replying to myself", parent=first)
    db.session.commit()
    assert outbox() == []


def test_never_and_digest_preferences(app, outbox, people, ask):
    notifications.set_preferences(
        person=people.member, choices={NotificationKind.REPLY: Delivery.NEVER}
    )
    db.session.commit()
    _reply(people, ask)
    assert outbox() == [] and db.session.scalars(select(DigestItem)).all() == []

    notifications.set_preferences(
        person=people.member, choices={NotificationKind.REPLY: Delivery.DIGEST}
    )
    db.session.commit()
    _reply(people, ask, "Second reply")
    assert outbox() == []
    [item] = db.session.scalars(select(DigestItem)).all()
    assert item.user_id == people.member.id and item.digested_at is None


def test_digests_group_by_ask_and_never_send_twice(app, runner, outbox, people, ask):
    for kind in (NotificationKind.REPLY, NotificationKind.RESOLVED):
        notifications.set_preferences(person=people.member, choices={kind: Delivery.DIGEST})
    db.session.commit()
    first, _ = _reply(people, ask)
    comments.resolve_comment(actor=people.secretariat, comment=first, response="Done.")
    db.session.commit()
    result = runner.invoke(args=["consult", "send-digests"])
    assert "Sent 1 digest (2 items)" in result.output, result.output
    [message] = outbox()
    assert message["To"] == people.member.email
    text = body_of(message)
    assert text.count("Declare a climate emergency") == 1  # one group for the ask
    assert "replied to your comment" in text and "resolved your comment" in text
    assert "List-Unsubscribe" in message
    again = runner.invoke(args=["consult", "send-digests"])
    assert "Sent 0 digests" in again.output
    assert len(outbox()) == 1


def test_hiding_tells_the_author_and_the_reporters(app, outbox, people, ask):
    made = comment(people.member, ask, "Rude words")
    db.session.commit()
    comments.report_comment(actor=people.other_member, comment=made, reason="Rude")
    db.session.commit()
    comments.hide_comment(actor=people.secretariat, comment=made, reason="Breaks the rules")
    db.session.commit()
    by_person = {m["To"]: m for m in outbox()}
    assert set(by_person) == {people.member.email, people.other_member.email}
    assert "Breaks the rules" in body_of(by_person[people.member.email])
    assert "hidden" in by_person[people.other_member.email]["Subject"]


def test_unsubscribe_needs_a_post_and_only_stops_its_own_kind(app, client, outbox, people):
    token = unsubscribe_token(people.member, NotificationKind.REPLY)
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert select_html(page.get_data(as_text=True), "form button")
    # GET changed nothing.
    assert notifications.preferences(people.member)[NotificationKind.REPLY] == Delivery.IMMEDIATELY
    # An RFC 8058 one-click POST: no sign-in, no form token.
    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    chosen = notifications.preferences(people.member)
    assert chosen[NotificationKind.REPLY] == Delivery.NEVER
    assert chosen[NotificationKind.HIDDEN] == Delivery.IMMEDIATELY
    assert notifications.preferences(people.other_member)[NotificationKind.REPLY] == (
        Delivery.IMMEDIATELY
    )


@pytest.mark.parametrize("token", ["nonsense", "x" * 40])
def test_a_bad_unsubscribe_link_is_a_clear_404(app, client, people, token):
    for method in ("GET", "POST"):
        response = client.open(f"/unsubscribe/{token}", method=method)
        assert response.status_code == 404
        assert "not valid" in response.get_data(as_text=True)


def test_a_tampered_token_is_refused(app, client, people):
    token = unsubscribe_token(people.member, NotificationKind.REPLY)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post(f"/unsubscribe/{tampered}").status_code == 404
    assert notifications.preferences(people.member)[NotificationKind.REPLY] == Delivery.IMMEDIATELY


def test_preferences_on_the_account_page(app, client, people):
    login_as(client, people.member)
    page = client.get("/account").get_data(as_text=True)
    assert select_html(page, 'input[name="new_version"][value="digest"][checked]')
    data = {kind.value: "immediately" for kind in NotificationKind}
    data["reply"] = "never"
    response = client.post("/account/notifications", data=data)
    assert response.status_code == 303
    assert notifications.preferences(people.member)[NotificationKind.REPLY] == Delivery.NEVER
    bad = client.post("/account/notifications", data={**data, "reply": "sometimes"})
    assert bad.status_code == 422


def test_a_failing_server_retries_with_backoff_and_shows_on_the_secretariat_page(
    app, client, people, ask
):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port())
    _reply(people, ask)
    wait_for_sent_mail()
    [email] = db.session.scalars(select(OutgoingEmail)).all()
    assert email.state == EmailState.QUEUED and email.attempts == 1 and email.last_error
    first_retry = email.next_attempt_at
    # Each retry waits longer; after the last, it is given up.
    for delay in RETRY_DELAYS[1:]:
        tried_at = email.next_attempt_at
        drain(now=tried_at)
        db.session.refresh(email)
        assert email.state == EmailState.QUEUED
        assert email.next_attempt_at == tried_at + delay
    assert email.next_attempt_at - first_retry > timedelta(hours=2)
    drain(now=email.next_attempt_at)
    db.session.refresh(email)
    assert email.state == EmailState.FAILED and email.attempts == len(RETRY_DELAYS) + 1
    login_as(client, people.secretariat)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert people.member.email in text_of(page, f"#email-{email.id}")
    assert "Refused" in page or "Error" in page
    button = select_one(page, f"#email-{email.id} button")
    assert text_of(button) == f"Try again now (email to {email.recipient}: {email.subject})"
    response = client.post(f"/admin/mail/{email.id}/retry")
    assert response.status_code == 303
    wait_for_sent_mail()
    db.session.refresh(email)
    assert email.attempts == len(RETRY_DELAYS) + 2
    [retried] = audit_events("email.retry")
    assert retried.actor_id == people.secretariat.id
    assert retried.after == {"recipient": email.recipient, "subject": email.subject}


def test_one_connection_sends_a_batch(app, smtp_config, people, ask, monkeypatch):
    connections = []
    real = smtplib.SMTP

    def counting(*args, **kwargs):
        connections.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(smtplib, "SMTP", counting)
    app.config["MAIL_SERVER"] = None  # queue without sending...
    first = comment(people.member, ask, "First")
    db.session.commit()
    app.config["MAIL_SERVER"] = smtp_config.hostname
    for n in range(5):
        comment(people.other_member, ask, f"Reply {n}", parent=first)
    # ...then send all five in one batch
    db.session.commit()
    wait_for_sent_mail()
    assert len(smtp_config.messages) == 5
    assert len(connections) == 1
    assert {e.state for e in db.session.scalars(select(OutgoingEmail))} == {EmailState.SENT}


def test_two_senders_never_send_one_row_twice(app, smtp_config, people, ask):
    app.config["MAIL_SERVER"] = None
    first, _ = _reply(people, ask)
    db.session.execute(
        OutgoingEmail.__table__.update().values(
            state="queued", sent_at=None, next_attempt_at=utcnow()
        )
    )
    db.session.commit()
    app.config["MAIL_SERVER"] = smtp_config.hostname
    assert drain().sent == 1
    assert drain().sent == 0
    assert len(smtp_config.messages) == 1
