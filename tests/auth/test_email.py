"""Invitations and password resets through a real SMTP server; the outbox fallback."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from consult.auth import services
from consult.extensions import db
from consult.mail import drain, wait_for_sent_mail
from consult.models import AccountToken, EmailState, OutgoingEmail, Role, TokenPurpose, utcnow
from tests import factories
from tests.helpers import audit_events, is_signed_in, sign_in
from tests.smtp import body_of, closed_port, link_from

PASSWORD = "a long enough password"


@pytest.fixture
def app_config(app_config, smtp_server):
    """Send this module's email over SMTP to the local aiosmtpd server."""
    app_config.update(MAIL_SERVER=smtp_server.hostname, MAIL_PORT=smtp_server.port)
    return app_config


def invite_grace(**overrides):
    secretariat = factories.user(Role.SECRETARIAT, name="Sam Secretary")
    org = factories.organisation("Fens Trust")
    user = services.invite(
        actor=secretariat,
        email="grace@example.org",
        name="Grace Hopper",
        organisation=org,
        role=overrides.get("role", Role.MEMBER),
    )
    db.session.commit()
    return user


def test_invitation_end_to_end(app, client, smtp_server, outbox):
    user = invite_grace()

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "grace@example.org"
    assert message["Subject"] == "Blueprint Coalition: You are invited to Consult"
    assert "Sam Secretary has invited you to join Consult for Fens Trust" in body_of(message)
    link = link_from(message)
    assert link.startswith("http://consult.test/invitations/")
    assert outbox() == []  # it went over SMTP, not to the outbox

    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200
    assert "Fens Trust" in page.get_data(as_text=True)
    response = client.post(
        path, data={"name": "Grace Hopper", "password": PASSWORD, "confirm_password": PASSWORD}
    )

    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert is_signed_in(client)
    assert "Grace Hopper" in client.get("/account").get_data(as_text=True)
    assert [e.object_id for e in audit_events("user.invite")] == [user.id]
    assert [e.object_id for e in audit_events("user.accept_invitation")] == [user.id]

    # The same link again, from another browser: refused, nothing changes.
    again = app.test_client()
    response = again.post(
        path,
        data={
            "name": "Mallory",
            "password": "mallory's password",
            "confirm_password": "mallory's password",
        },
    )
    assert response.status_code == 404
    assert not is_signed_in(again)
    db.session.refresh(user)
    assert user.name == "Grace Hopper"
    assert services.authenticate("grace@example.org", PASSWORD) is user


def test_expired_invitation_from_the_email(app, client, smtp_server):
    user = invite_grace()
    path = urlsplit(link_from(smtp_server.wait_for(1)[0])).path
    token = db.session.scalar(select(AccountToken).where(AccountToken.user_id == user.id))
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 404
    assert "This invitation link has expired or has already been used." in response.get_data(
        as_text=True
    )


def test_password_reset_end_to_end(app, client, smtp_server):
    user = factories.user(email="ada@example.org")
    db.session.commit()

    assert client.post("/password-reset", data={"email": "ada@example.org"}).status_code == 303
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "ada@example.org"
    path = urlsplit(link_from(message)).path
    assert path.startswith("/password-reset/")

    data = {"password": "my new long password", "confirm_password": "my new long password"}
    response = client.post(path, data=data)
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert sign_in(client, "ada@example.org", "my new long password").status_code == 303
    assert [e.object_id for e in audit_events("user.reset_password")] == [user.id]

    # Single use.
    assert app.test_client().post(path, data=data).status_code == 404

    # A second link, left to expire.
    smtp_server.clear()
    app.test_client().post("/password-reset", data={"email": "ada@example.org"})
    second = urlsplit(link_from(smtp_server.wait_for(1)[0])).path
    token = db.session.scalar(
        select(AccountToken).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == TokenPurpose.PASSWORD_RESET,
            AccountToken.used_at.is_(None),
        )
    )
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert app.test_client().get(second).status_code == 404


def test_no_email_for_an_unknown_address(app, client, smtp_server, outbox):
    assert client.post("/password-reset", data={"email": "nobody@example.org"}).status_code == 303
    wait_for_sent_mail()
    assert smtp_server.messages == [] and outbox() == []


def test_smtp_failure_keeps_the_email_queued_to_retry(app, client, smtp_server, outbox, caplog):
    app.config["MAIL_PORT"] = closed_port()
    with caplog.at_level(logging.WARNING, logger="consult.mail"):
        user = invite_grace()
        wait_for_sent_mail()
    [email] = db.session.scalars(select(OutgoingEmail)).all()
    assert email.recipient == "grace@example.org"
    assert email.state == EmailState.QUEUED and email.attempts == 1
    assert email.last_error and email.next_attempt_at > utcnow()
    assert smtp_server.messages == [] and outbox() == []
    assert "retrying" in caplog.text
    # Once the server answers, the retry sends it, and its link works.
    app.config["MAIL_PORT"] = smtp_server.port
    drain(now=email.next_attempt_at)
    [message] = smtp_server.messages
    assert client.get(urlsplit(link_from(message)).path).status_code == 200
    assert not user.has_accepted_invitation


def test_outbox_when_no_mail_server_is_set(app, client, smtp_server, outbox):
    app.config["MAIL_SERVER"] = None
    factories.user(email="ada@example.org")
    db.session.commit()
    client.post("/password-reset", data={"email": "ada@example.org"})
    [message] = outbox()
    assert message["Subject"] == "Blueprint Coalition: Reset your Consult password"
    assert smtp_server.messages == []
    assert client.get(urlsplit(link_from(message)).path).status_code == 200
