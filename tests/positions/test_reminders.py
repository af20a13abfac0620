"""Reminders before the close: one email per delegate of each organisation that has not set
a position on the current version of an ask, never twice for the same version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.filters import format_datetime
from consult.models import DraftVersion, Reminder, Stance
from consult.positions.reminders import send_reminders
from consult.positions.services import set_position
from tests import factories
from tests.helpers import audit_events, count
from tests.smtp import body_of

# Reminders rely on a unique constraint: also runs with --backend=postgres.
pytestmark = pytest.mark.database


def _before_close(ask, days: float = 2):
    return ask.consultation.closes_at - timedelta(days=days)


def _run(ask, *, days_before: float = 3, days: float = 2):
    run = send_reminders(now=_before_close(ask, days), days_before=days_before)
    db.session.commit()
    return run


def _recipients(outbox) -> list[str]:
    return sorted(str(message["To"]) for message in outbox())


def test_delegates_of_organisations_that_have_not_responded_are_emailed(delegates, ask, outbox):
    set_position(actor=delegates.other, ask=ask, stance=Stance.SUPPORT, reason="")
    db.session.commit()

    run = _run(ask)

    assert run.sent == 2
    assert _recipients(outbox) == sorted([delegates.first.email, delegates.second.email])
    assert run.without_delegate == [("Net zero by 2040", "Third Organisation")]
    message = outbox()[0]
    body = body_of(message)
    assert "Net zero by 2040" in message["Subject"]
    assert "Home Organisation has not yet given its position on 1 ask" in body
    assert "- Declare a climate emergency" in body
    assert f"http://consult.test/asks/{ask.id}" in body
    assert f"closes on {format_datetime(ask.consultation.closes_at)} (UK time)" in body
    rows = db.session.scalars(select(Reminder)).all()
    assert {(r.version_id, r.organisation_id, r.kind) for r in rows} == {
        (ask.current_version.id, delegates.first.organisation_id, "position-missing")
    }
    assert {r.user_id for r in rows} == {delegates.first.id, delegates.second.id}
    [event] = audit_events("reminders.send")
    assert event.actor_id is None
    assert event.after == {
        "days_before": 3,
        "emails": 2,
        "organisations_without_delegate": ["Third Organisation"],
    }


def test_deactivated_delegates_and_organisations_are_not_emailed(delegates, ask, outbox):
    delegates.second.active = False
    delegates.other.organisation.active = False
    db.session.commit()

    run = _run(ask)

    assert run.sent == 1
    assert _recipients(outbox) == [delegates.first.email]


@pytest.mark.parametrize("days_before_close", [5, -0.1])
def test_nothing_for_consultations_closing_later_or_already_closed(
    delegates, ask, outbox, days_before_close
):
    run = _run(ask, days=days_before_close)
    assert run.sent == 0 and outbox() == [] and count(Reminder) == 0


def test_nothing_once_the_secretariat_has_closed_the_consultation(delegates, ask, outbox):
    ask.consultation.closed_at = _before_close(ask, 3)
    db.session.commit()
    assert _run(ask).sent == 0 and outbox() == []


def test_one_email_lists_every_ask_not_answered(people, delegates, ask, outbox):
    second = factories.ask(ask.consultation, title="Insulate every home", author=people.secretariat)
    answered = factories.ask(ask.consultation, title="Fund buses", author=people.secretariat)
    db.session.commit()
    set_position(actor=delegates.first, ask=answered, stance=Stance.ABSTAIN, reason="")
    db.session.commit()

    _run(ask)

    to_first = [m for m in outbox() if m["To"] == delegates.first.email]
    assert len(to_first) == 1
    body = body_of(to_first[0])
    assert "has not yet given its position on 2 asks" in body
    assert f"/asks/{ask.id}" in body and f"/asks/{second.id}" in body
    assert "Declare a climate emergency" in body and "Insulate every home" in body
    assert "Fund buses" not in body


def test_running_twice_sends_nothing_new(delegates, ask, outbox):
    first = _run(ask)
    sent = len(outbox())
    again = _run(ask, days=1)

    assert first.sent == 3 and sent == 3
    assert again.sent == 0 and len(outbox()) == 3
    assert count(Reminder) == 3
    assert [e.after["emails"] for e in audit_events("reminders.send")] == [3, 0]


def test_a_new_version_makes_the_organisation_due_again(people, delegates, ask, outbox):
    set_position(actor=delegates.other, ask=ask, stance=Stance.SUPPORT, reason="")
    db.session.commit()
    _run(ask)
    db.session.add(DraftVersion(ask=ask, number=3, body="Act now.", author=people.secretariat))
    db.session.commit()
    db.session.refresh(ask)

    run = _run(ask, days=1)

    # The other organisation's position was on v2: it is due for v3, as the home one is.
    assert run.sent == 3
    assert _recipients(outbox) == sorted(
        [delegates.first.email, delegates.second.email] * 2 + [delegates.other.email]
    )


def test_links_use_public_url_without_server_name(app, delegates, ask, outbox):
    app.config["SERVER_NAME"] = None
    app.config["PUBLIC_URL"] = "https://consult.example.org"

    _run(ask)

    assert f"https://consult.example.org/asks/{ask.id}" in body_of(outbox()[0])


def test_the_command_reports_emails_and_organisations_without_delegate(
    app, runner, delegates, ask, outbox
):
    # By default, consultations closing within REMINDER_DAYS_BEFORE_CLOSE (3) days: this
    # one closes in 14.
    assert runner.invoke(args=["consult", "send-reminders"]).output.splitlines() == [
        "Sent 0 reminder emails."
    ]
    app.config["REMINDER_DAYS_BEFORE_CLOSE"] = 15
    result = runner.invoke(args=["consult", "send-reminders"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Sent 3 reminder emails.",
        "No delegate to remind: Third Organisation (Net zero by 2040)",
    ]
    assert len(outbox()) == 3 and count(Reminder) == 3

    again = runner.invoke(args=["consult", "send-reminders", "--days", "30"])
    assert again.output.splitlines()[0] == "Sent 0 reminder emails."
    assert len(outbox()) == 3
