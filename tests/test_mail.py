"""Emails go when the transaction commits, and never when it rolls back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.auth import services
from consult.extensions import db
from consult.mail import drain, unsent, wait_for_sent_mail
from consult.models import EmailState, OutgoingEmail, Role
from tests import factories
from tests.helpers import comment
from tests.smtp import smtp_server  # noqa: F401

pytestmark = pytest.mark.database


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


# User text in a header (issue 11) ------------------------------------------------------------


def test_a_line_break_in_a_name_does_not_stop_the_email_nor_add_a_header(app, outbox):
    """A reply from someone whose name holds a line break (stored before names were
    checked): its subject goes on one line, and no header is added."""
    home = factories.organisation()
    author = factories.user(Role.MEMBER, home, name="Ann Author")
    mallory = factories.user(Role.MEMBER, home, name="Mallory\r\nBcc: victim@example.org")
    ask = factories.ask(factories.consultation(), title="Homes\nfor all")
    db.session.commit()
    first = comment(author, ask, "A first comment.")
    db.session.commit()
    comment(mallory, ask, "A reply.", parent=first)
    db.session.commit()
    [message] = outbox()
    assert message["To"] == author.email
    assert message["Subject"] == (
        "Blueprint Coalition: Mallory Bcc: victim@example.org replied to your comment on "
        "“Homes for all”"
    )
    assert message["Bcc"] is None


@pytest.mark.parametrize("over_smtp", [False, True], ids=["outbox", "smtp"])
def test_an_email_that_cannot_be_built_fails_alone(app, outbox, smtp_server, over_smtp):
    """One queued email that no mail program could take (a line break in its address) is
    marked failed; the others are sent, into the outbox or over SMTP."""
    if over_smtp:
        app.config.update(MAIL_SERVER=smtp_server.hostname, MAIL_PORT=smtp_server.port)
    for recipient in (
        "ann@example.org",
        "bad@example.org\r\nBcc: victim@example.org",
        "bob@example.org",
    ):
        db.session.add(
            OutgoingEmail(recipient=recipient, subject="Hello", text_body="Hello.", headers={})
        )
    db.session.flush()  # queued as if before this was fixed: nothing wakes the sender
    db.session.commit()
    run = drain()
    assert (run.sent, run.failed) == (2, 1)
    sent = smtp_server.messages if over_smtp else outbox()
    assert [message["To"] for message in sent] == ["ann@example.org", "bob@example.org"]
    bad = db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.recipient.contains("bad")))
    assert bad.state == EmailState.FAILED and "ValueError" in bad.last_error
