"""Delegates of every organisation taking part hear of a new version, to reconfirm."""

from __future__ import annotations

import pytest

from consult.asks.services import publish_version
from consult.extensions import db
from consult.models import Role
from tests import factories
from tests.helpers import V2
from tests.smtp import body_of

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def test_a_new_version_emails_every_active_delegate_with_the_comparison(
    people, delegates, ask, outbox
):
    gone = factories.user(Role.MEMBER, delegates.third_org, is_delegate=True)
    gone.active = False
    db.session.commit()
    version = publish_version(
        actor=people.secretariat,
        ask=ask,
        body=V2 + "\n\nA third paragraph.",
        change_note="Adds a paragraph on funding.",
    )
    db.session.commit()
    messages = {str(m["To"]): m for m in outbox()}
    assert sorted(messages) == sorted(
        [delegates.first.email, delegates.second.email, delegates.other.email]
    )
    message = messages[delegates.other.email]
    assert str(message["Subject"]) == (
        "Blueprint Coalition: "
        f"New wording of “Declare a climate emergency” ({version.label}): reconfirm your position"
    )
    body = body_of(message)
    assert f"/asks/{ask.id}/compare?from=2&to=3" in body
    assert f"/asks/{ask.id}/position" in body
    assert "Adds a paragraph on funding." in body
    assert "Other Organisation's position on v2 does not count for v3" in body


def test_nothing_is_sent_for_a_version_that_was_not_saved(people, delegates, ask, outbox):
    publish_version(actor=people.secretariat, ask=ask, body=V2 + "\n\nMore.", change_note="")
    db.session.rollback()
    assert outbox() == []
