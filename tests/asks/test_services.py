"""The asks services, without HTTP: state changes, audit events, immutability."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.asks import services
from consult.extensions import db
from consult.models import Ask, AskState, DraftVersion, ImmutableError
from tests import factories
from tests.helpers import V1, V2, audit_events

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def test_create_ask_goes_last_and_is_audited(people):
    consultation = factories.consultation()
    factories.ask(consultation, sort_order=7, versions=())
    ask = services.create_ask(
        actor=people.secretariat, consultation=consultation, title=" Title ", theme=" Theme "
    )
    assert (ask.title, ask.theme, ask.sort_order, ask.state) == (
        "Title",
        "Theme",
        8,
        AskState.DRAFTING,
    )
    [event_] = audit_events("ask.create")
    assert event_.actor_id == people.secretariat.id and event_.object_id == ask.id
    assert event_.after == {
        "consultation_id": consultation.id,
        "title": "Title",
        "theme": "Theme",
        "sort_order": 8,
    }


def test_first_ask_of_a_consultation_is_first_in_order(people):
    ask = services.create_ask(
        actor=people.secretariat, consultation=factories.consultation(), title="First"
    )
    assert ask.sort_order == 1


def test_services_never_commit(people):
    consultation = factories.consultation()
    db.session.commit()
    services.create_ask(actor=people.secretariat, consultation=consultation, title="Uncommitted")
    db.session.rollback()
    assert db.session.scalar(select(Ask).where(Ask.title == "Uncommitted")) is None
    assert audit_events("ask.create") == []


def test_update_ask(people):
    ask = factories.ask(title="Old", theme="", versions=())
    assert services.update_ask(actor=people.secretariat, ask=ask, title="New", theme="Theme")
    [event_] = audit_events("ask.update")
    assert event_.before == {"title": "Old", "theme": ""}
    assert event_.after == {"title": "New", "theme": "Theme"}
    assert not services.update_ask(actor=people.secretariat, ask=ask, title="New", theme="Theme")
    assert len(audit_events("ask.update")) == 1


def test_move_ask(people):
    consultation = factories.consultation()
    a, b = (factories.ask(consultation, sort_order=p, versions=()) for p in (5, 9))
    assert services.move_ask(actor=people.secretariat, ask=b, direction="up")
    assert (b.sort_order, a.sort_order) == (1, 2)
    assert not services.move_ask(actor=people.secretariat, ask=b, direction="up")
    assert len(audit_events("ask.move")) == 1
    with pytest.raises(services.AskError):
        services.move_ask(actor=people.secretariat, ask=b, direction="left")


def test_move_stays_within_the_consultation(people):
    one, two = factories.consultation(), factories.consultation()
    first = factories.ask(one, sort_order=1, versions=())
    factories.ask(two, sort_order=0, versions=())
    assert not services.move_ask(actor=people.secretariat, ask=first, direction="up")
    assert not services.move_ask(actor=people.secretariat, ask=first, direction="down")


def test_publish_version(people):
    ask = factories.ask(versions=(V1,), author=people.secretariat, state=AskState.IN_REVIEW)
    version = services.publish_version(
        actor=people.secretariat, ask=ask, body=V2, change_note=" Stronger verb "
    )
    assert (version.number, version.body, version.change_note) == (2, V2, "Stronger verb")
    assert ask.current_version is version
    assert ask.state == AskState.IN_REVIEW
    [event_] = audit_events("version.publish")
    assert event_.object_id == version.id
    assert event_.before == {"number": 1, "state": "in_review"}
    assert event_.after == {
        "number": 2,
        "change_note": "Stronger verb",
        "ask_id": ask.id,
        "state": "in_review",
    }


def test_first_publish_moves_drafting_to_in_review(people):
    ask = factories.ask(versions=())
    version = services.publish_version(
        actor=people.secretariat, ask=ask, body="Wording.", change_note=""
    )
    assert version.number == 1 and ask.state == AskState.IN_REVIEW


def test_identical_wording_is_refused(people):
    ask = factories.ask(versions=(V1, V2))
    with pytest.raises(services.AskError, match="This wording is the same as v2"):
        services.publish_version(
            actor=people.secretariat, ask=ask, body=V2 + "\n\n", change_note="No change"
        )
    # Earlier wording is a real change back, and allowed.
    assert (
        services.publish_version(
            actor=people.secretariat, ask=ask, body=V1, change_note="Back to v1"
        ).number
        == 3
    )


@pytest.mark.parametrize("state", [AskState.AGREED, AskState.PUBLISHED])
def test_agreed_or_published_asks_are_locked(people, state):
    ask = factories.ask(versions=(V1,), state=state)
    with pytest.raises(services.AskError, match="you cannot publish a new version"):
        services.publish_version(actor=people.secretariat, ask=ask, body=V2, change_note="x")
    assert [v.number for v in ask.versions] == [1]


def test_duplicate_number_is_refused_by_the_database(people, monkeypatch):
    """Two publishes at once computed the same number: the unique constraint refuses the
    second, and the service says so as the same typed conflict."""
    ask = factories.ask(versions=(V1, V2))
    monkeypatch.setattr(services, "latest_number", lambda ask: 1)  # a stale read
    with pytest.raises(services.VersionConflict, match="Someone else published a version"):
        services.publish_version(actor=people.secretariat, ask=ask, body="New.", change_note="x")
    db.session.rollback()


def test_publishing_on_top_of_an_unseen_version_is_a_conflict(people):
    """The writer started from v1, but v2 has been published since."""
    ask = factories.ask(versions=(V1, V2))
    with pytest.raises(services.VersionConflict) as conflict:
        services.publish_version(
            actor=people.secretariat, ask=ask, body="New.", change_note="x", based_on=1
        )
    assert isinstance(conflict.value, services.AskError)
    assert [v.number for v in ask.versions] == [1, 2]
    assert audit_events("version.publish") == []
    # Even an identical wording is a conflict first: the writer has not seen v2.
    with pytest.raises(services.VersionConflict):
        services.publish_version(
            actor=people.secretariat, ask=ask, body=V2, change_note="x", based_on=1
        )


def test_publishing_on_top_of_the_latest_version(people):
    ask = factories.ask(versions=())
    first = services.publish_version(
        actor=people.secretariat, ask=ask, body="One.", change_note="", based_on=0
    )
    second = services.publish_version(
        actor=people.secretariat, ask=ask, body="Two.", change_note="x", based_on=1
    )
    assert (first.number, second.number) == (1, 2)


def test_versions_are_immutable(people):
    ask = factories.ask(versions=(V1,))
    db.session.commit()
    version = db.session.scalar(select(DraftVersion).where(DraftVersion.ask_id == ask.id))
    version.body = "Quietly changed."
    with pytest.raises(ImmutableError):
        db.session.flush()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(DraftVersion, version.id).body == V1


def test_normalise_wording():
    assert services.normalise_wording("\r\n\r\nA  \r\n\r\nB\t\r\n\n") == "A\n\nB"
    assert services.normalise_wording("  indented code\n") == "  indented code"
