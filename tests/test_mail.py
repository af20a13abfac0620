"""Emails go when the transaction commits, and never when it rolls back."""

from __future__ import annotations

from consult.auth import services
from consult.extensions import db
from consult.mail import unsent, wait_for_sent_mail
from consult.models import Role
from tests import factories
from tests.smtp import smtp_server  # noqa: F401


def _invite(email: str = "grace@example.org"):
    secretariat = factories.user(Role.SECRETARIAT)
    return services.invite(
        actor=secretariat,
        email=email,
        name="Grace",
        organisation=factories.organisation(),
        role=Role.MEMBER,
    )


def test_an_invitation_is_sent_only_when_it_is_committed(app, outbox):
    _invite()
    assert outbox() == []
    db.session.commit()
    [message] = outbox()
    assert message["To"] == "grace@example.org"


def test_a_rolled_back_invitation_sends_nothing(app, outbox):
    _invite()
    db.session.rollback()
    db.session.commit()
    assert outbox() == []


def test_emails_queued_while_loading_made_up_data_are_never_sent(app, outbox):
    with unsent():
        _invite()
    _invite("ada@example.org")
    db.session.commit()
    assert [message["To"] for message in outbox()] == ["ada@example.org"]


def test_smtp_sends_off_the_request_thread(app, smtp_server, outbox):
    app.config.update(MAIL_SERVER=smtp_server.hostname, MAIL_PORT=smtp_server.port)
    _invite()
    db.session.commit()
    wait_for_sent_mail()
    [message] = smtp_server.messages
    assert "/invitations/" in message.get_body().get_content()
    assert outbox() == []
