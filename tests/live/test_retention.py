"""Live events are kept LIVE_EVENT_RETENTION_HOURS: older ones are pruned, and a page whose
cursor is older than what is kept reloads instead of catching up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from consult.comments.services import add_comment
from consult.extensions import db
from consult.live.services import announce, cursor_expired, prune
from consult.models import LiveEvent, Role, utcnow
from tests import factories
from tests.helpers import login_as
from tests.live.helpers import StreamReader

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

HTMX = {"HX-Request": "true"}


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "LIVE_HEARTBEAT_SECONDS": 0.2, "LIVE_STREAM_SECONDS": 2}


@pytest.fixture
def ask(app: Flask):
    return factories.ask(factories.consultation())


def events(ask, count: int, hours_ago: float) -> list[int]:
    """`count` live events of the ask, made `hours_ago` hours ago."""
    ids = [announce(ask_id=ask.id, name="comment-added", object_id=n) for n in range(count)]
    db.session.execute(
        update(LiveEvent)
        .where(LiveEvent.id.in_(ids))
        .values(created_at=utcnow() - timedelta(hours=hours_ago))
    )
    db.session.commit()
    return ids


def kept() -> list[int]:
    return list(db.session.scalars(select(LiveEvent.id).order_by(LiveEvent.id)))


# Pruning ------------------------------------------------------------------------------------


def test_prune_deletes_the_events_older_than_the_cutoff(ask):
    old = events(ask, 3, hours_ago=50)
    recent = events(ask, 2, hours_ago=1)
    assert prune(older_than=utcnow() - timedelta(hours=48)) == 3
    db.session.commit()
    assert kept() == recent
    assert old[-1] < recent[0]


def test_prune_always_keeps_the_newest_event_so_ids_never_start_again(ask):
    ids = events(ask, 3, hours_ago=50)
    assert prune(older_than=utcnow()) == 2
    db.session.commit()
    assert kept() == [ids[-1]]
    # The next event is numbered after it (SQLite numbers after the highest id left).
    newer = events(ask, 1, hours_ago=0)
    assert newer[0] > ids[-1]
    assert prune(older_than=utcnow() - timedelta(hours=1)) == 1
    assert kept() == newer


def test_prune_of_an_empty_table(app):
    assert prune(older_than=utcnow()) == 0


def test_a_batch_deletes_at_most_its_limit_the_oldest_first(ask):
    old = events(ask, 5, hours_ago=50)
    recent = events(ask, 2, hours_ago=1)
    cutoff = utcnow() - timedelta(hours=48)
    assert prune(older_than=cutoff, limit=2) == 2
    assert kept() == old[2:] + recent
    assert prune(older_than=cutoff, limit=2) == 2
    assert prune(older_than=cutoff, limit=2) == 1  # the last old one; the recent ones stay
    assert prune(older_than=cutoff, limit=2) == 0
    assert kept() == recent


def test_only_events_older_than_the_cutoff_are_deleted_even_out_of_order(ask):
    """An event numbered after a kept one but dated before the cutoff (two writers' clocks)
    waits until the one before it goes: a kept event is never deleted, and the ids kept
    stay one run."""
    first = events(ask, 2, hours_ago=50)
    newer = events(ask, 1, hours_ago=1)
    late = events(ask, 1, hours_ago=50)
    last = events(ask, 1, hours_ago=0)
    cutoff = utcnow() - timedelta(hours=48)
    for limit in (1, None):
        prune(older_than=cutoff, limit=limit)
        db.session.commit()
    assert kept() == newer + late + last
    assert first[-1] < newer[0] < late[0]


def test_the_command_deletes_in_batches_each_its_own_transaction(app, ask, runner, monkeypatch):
    from consult.live import services

    app.config["LIVE_EVENT_RETENTION_HOURS"] = 10
    events(ask, 5, hours_ago=11)
    recent = events(ask, 2, hours_ago=9)
    batches: list[int] = []
    committed_after: list[int] = []

    def counted(**kwargs) -> int:
        assert kwargs["limit"] == 2
        batches.append(prune(**kwargs))
        return batches[-1]

    commit = db.session.commit

    def counted_commit() -> None:
        committed_after.append(len(batches))
        commit()

    monkeypatch.setattr(services, "PRUNE_BATCH", 2)
    monkeypatch.setattr(services, "prune", counted)
    monkeypatch.setattr(db.session, "commit", counted_commit)
    result = runner.invoke(args=["consult", "prune-live-events"])
    assert result.exit_code == 0, result.output
    assert result.output == "Deleted 5 live events older than 10 hours.\n"
    assert batches == [2, 2, 1, 0]
    assert committed_after[:3] == [1, 2, 3]  # each batch committed before the next
    db.session.rollback()
    assert kept() == recent


def test_the_command_says_how_often_to_run_it(runner):
    result = runner.invoke(args=["consult", "prune-live-events", "--help"])
    assert result.exit_code == 0
    assert "run it from cron every hour" in result.output


def test_the_command_prunes_with_the_configured_retention(app, ask, runner):
    app.config["LIVE_EVENT_RETENTION_HOURS"] = 10
    events(ask, 2, hours_ago=11)
    recent = events(ask, 1, hours_ago=9)
    result = runner.invoke(args=["consult", "prune-live-events"])
    assert result.exit_code == 0, result.output
    assert result.output == "Deleted 2 live events older than 10 hours.\n"
    db.session.rollback()
    assert kept() == recent


def test_the_command_takes_hours(app, ask, runner):
    events(ask, 2, hours_ago=3)
    result = runner.invoke(args=["consult", "prune-live-events", "--hours", "2"])
    assert result.exit_code == 0, result.output
    assert result.output == "Deleted 1 live events older than 2 hours.\n"
    assert runner.invoke(args=["consult", "prune-live-events", "--hours", "-1"]).exit_code == 2


# Which cursors are too old --------------------------------------------------------------------


def test_a_cursor_is_expired_when_events_after_it_may_have_been_pruned(ask):
    ids = events(ask, 5, hours_ago=50)
    assert not any(cursor_expired(i) for i in [0, *ids])
    prune(older_than=utcnow())  # keeps only the newest
    db.session.commit()
    assert cursor_expired(ids[2]) and cursor_expired(str(ids[0]))
    assert not cursor_expired(ids[3])  # nothing between it and the oldest kept
    assert not cursor_expired(ids[4]) and not cursor_expired(ids[4] + 10)
    assert not cursor_expired(0) and not cursor_expired("") and not cursor_expired("x1")


# A stream and a changes fetch with an expired cursor ---------------------------------------


def test_a_stream_with_an_expired_last_event_id_tells_the_page_to_reload(client, ask, broker):
    ids = events(ask, 3, hours_ago=50)
    prune(older_than=utcnow())
    db.session.commit()
    login_as(client, factories.user(Role.MEMBER))
    response = client.get(
        f"/asks/{ask.id}/events", headers={"Last-Event-ID": str(ids[0])}, buffered=False
    )
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    reader = StreamReader(response.response)
    reader.read_to_end(timeout=5)
    assert [(e.id, e.name) for e in reader.events] == [(None, "reload")]
    assert broker.subscriber_count() == 0


def test_a_stream_with_a_kept_last_event_id_catches_up(client, ask, broker):
    ids = events(ask, 3, hours_ago=50)
    prune(older_than=utcnow() - timedelta(hours=51))  # nothing that old
    db.session.commit()
    login_as(client, factories.user(Role.MEMBER))
    response = client.get(f"/asks/{ask.id}/events?last_event_id={ids[0]}", buffered=False)
    reader = StreamReader(response.response)
    reader.read_until(lambda text: f"id: {ids[2]}\n" in text, timeout=5)
    assert [e.id for e in reader.events] == ids[1:]
    response.close()


def test_a_changes_fetch_with_an_expired_cursor_reloads_the_page(client, ask):
    member = factories.user(Role.MEMBER)
    ids = events(ask, 3, hours_ago=50)
    add_comment(author=member, ask=ask, body="Still here.")
    db.session.commit()
    prune(older_than=utcnow() - timedelta(hours=1))
    db.session.commit()
    assert kept()[0] > ids[-1]  # only the comment's event is left
    login_as(client, member)

    response = client.get(f"/asks/{ask.id}/comments/changes?after={ids[0]}", headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Refresh"] == "true"
    assert response.get_data(as_text=True) == ""

    fresh = client.get(f"/asks/{ask.id}/comments/changes?after={kept()[0]}", headers=HTMX)
    assert fresh.status_code == 200 and "HX-Refresh" not in fresh.headers
    assert fresh.headers["Cache-Control"] == "no-store"
