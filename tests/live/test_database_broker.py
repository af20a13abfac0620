"""DatabaseBroker: without Redis, each process watches the live-event table itself."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, event
from sqlalchemy.exc import OperationalError

from consult.config import ConfigError
from consult.extensions import db
from consult.live.broker import DatabaseBroker, InProcessBroker, RedisBroker, for_app
from consult.models import LiveEvent
from tests import factories
from tests.live.helpers import wait_until

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

POLL = 0.05


class Engines:
    """The app's engine, which a test may make fail as if the database had gone away."""

    def __init__(self, app: Flask) -> None:
        with app.app_context():
            self.engine = db.engine
        self.broken = False

    def __call__(self) -> Any:
        return self

    def connect(self):
        if self.broken:
            raise OperationalError("SELECT", {}, Exception("the database is away"))
        return self.engine.connect()


@pytest.fixture
def engines(app: Flask) -> Engines:
    return Engines(app)


@pytest.fixture
def make_broker(engines: Engines) -> Iterator:
    made: list[DatabaseBroker] = []

    def make(**kwargs) -> DatabaseBroker:
        broker = DatabaseBroker(engines, poll_seconds=POLL, **kwargs)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.close()


@pytest.fixture
def asks(app: Flask):
    consultation = factories.consultation()
    result = factories.ask(consultation), factories.ask(consultation)
    db.session.commit()
    return result


def add_event(ask_id: int, object_id: int, event_id: int | None = None) -> int:
    """A live event committed by "another process" (nothing published here)."""
    live_event = LiveEvent(id=event_id, ask_id=ask_id, name="comment-added", object_id=object_id)
    db.session.add(live_event)
    db.session.commit()
    return live_event.id


def received(subscription, timeout: float = 3) -> list[int]:
    """The ids delivered to the subscription until it has been quiet for a few polls."""
    ids = []
    message = subscription.get(timeout=timeout)
    while message is not None:
        ids.append(message["id"])
        message = subscription.get(timeout=POLL * 6)
    return ids


def test_an_event_committed_elsewhere_reaches_the_subscribers_of_its_ask(asks, make_broker):
    one, other = asks
    before = add_event(one.id, 1)  # already there when the watcher starts: not delivered
    broker = make_broker()
    subscription = broker.subscribe(f"ask:{one.id}")
    elsewhere = broker.subscribe(f"ask:{other.id}")
    assert broker.ready.is_set()

    event_id = add_event(one.id, 2)

    message = subscription.get(timeout=3)
    assert message == {"id": event_id, "name": "comment-added", "object_id": 2}
    assert event_id > before
    assert subscription.get(timeout=POLL * 6) is None
    assert elsewhere.get(timeout=POLL * 6) is None


def test_an_event_published_here_is_delivered_once(asks, make_broker, engines):
    one, _ = asks
    broker = make_broker()
    subscription = broker.subscribe(f"ask:{one.id}")
    first = add_event(one.id, 1)
    # The watcher reads it first, then this process's after-commit publish arrives.
    assert wait_until(lambda: first in broker._seen or first <= broker._low, 3)
    message = {"id": first, "name": "comment-added", "object_id": 1}
    assert broker.publish(f"ask:{one.id}", message) == 0
    # This process publishes it first (the watcher is held up); the watcher reads it later.
    engines.broken = True
    assert wait_until(lambda: broker.errors > 0, 3)
    second = add_event(one.id, 2)
    message = {"id": second, "name": "comment-added", "object_id": 2}
    assert broker.publish(f"ask:{one.id}", message) == 1
    engines.broken = False
    polls = broker.polls
    assert wait_until(lambda: broker.polls > polls + 2, 3)
    assert received(subscription) == [first, second]


def test_a_lower_id_committed_later_is_still_delivered(asks, make_broker):
    """Ids of different asks do not follow commit order: event n+1 of one ask may commit
    before event n of another."""
    one, other = asks
    base = add_event(one.id, 0)
    broker = make_broker()
    subscription_one = broker.subscribe(f"ask:{one.id}")
    subscription_other = broker.subscribe(f"ask:{other.id}")

    later = add_event(other.id, 2, event_id=base + 2)
    assert received(subscription_other) == [later]
    earlier = add_event(one.id, 1, event_id=base + 1)
    assert received(subscription_one) == [earlier]
    assert received(subscription_other, timeout=POLL * 6) == []


def test_a_gap_is_given_up_after_gap_seconds(asks, make_broker):
    one, _ = asks
    base = add_event(one.id, 0)
    broker = make_broker(gap_seconds=1)
    subscription = broker.subscribe(f"ask:{one.id}")
    add_event(one.id, 2, event_id=base + 2)  # base + 1: a rolled-back transaction's number
    assert subscription.get(timeout=3)["id"] == base + 2
    assert base + 1 in broker._gaps and broker._low <= base  # still waiting for base + 1
    assert wait_until(lambda: broker._low == base + 2, 3)


def test_the_watcher_survives_a_database_outage_and_misses_nothing(asks, make_broker, engines):
    one, _ = asks
    broker = make_broker()
    subscription = broker.subscribe(f"ask:{one.id}")
    engines.broken = True
    assert wait_until(lambda: broker.errors > 0, 3)
    during = add_event(one.id, 1)
    assert subscription.get(timeout=POLL * 6) is None
    assert broker.watching
    engines.broken = False
    assert received(subscription) == [during]


def test_one_watcher_and_one_query_per_poll_however_many_streams(asks, make_broker, engines):
    one, other = asks
    broker = make_broker()
    queries: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if "live_event" in statement and threading.current_thread() is broker._watcher:
            queries.append(statement)

    event.listen(engines.engine, "before_cursor_execute", count)
    try:
        subscriptions = [broker.subscribe(f"ask:{(one, other)[n % 2].id}") for n in range(20)]
        watchers = [t for t in threading.enumerate() if t.name == "consult-live-database"]
        assert broker._watcher in watchers
        assert sum(t is broker._watcher for t in watchers) == 1
        start, before = broker.polls, len(queries)
        assert wait_until(lambda: broker.polls >= start + 5, 3)
        polls, made = broker.polls - start, len(queries) - before
    finally:
        event.remove(engines.engine, "before_cursor_execute", count)
    # One a poll (and one more if a poll was under way when counting started or ended).
    assert polls - 1 <= made <= polls + 1
    event_id = add_event(one.id, 1)
    for n, subscription in enumerate(subscriptions):
        assert received(subscription, timeout=3 if n % 2 == 0 else POLL) == (
            [event_id] if n % 2 == 0 else []
        )


def test_the_watcher_stops_when_no_stream_is_open_and_starts_again(asks, make_broker):
    one, _ = asks
    broker = make_broker(idle_seconds=0.1)
    subscription = broker.subscribe(f"ask:{one.id}")
    assert broker.watching
    subscription.close()
    assert wait_until(lambda: not broker.watching, 3)
    again = broker.subscribe(f"ask:{one.id}")
    assert broker.watching and broker.ready.is_set()
    event_id = add_event(one.id, 1)
    assert received(again) == [event_id]


def test_the_watcher_starts_again_when_the_ids_go_back(asks, make_broker):
    one, _ = asks
    ids = [add_event(one.id, n) for n in range(3)]
    broker = make_broker(check_seconds=0.1)
    subscription = broker.subscribe(f"ask:{one.id}")
    assert wait_until(lambda: broker._top == ids[-1], 3)
    # The database is emptied (or restored from an older backup): numbering starts again.
    db.session.execute(delete(LiveEvent))
    db.session.commit()
    assert wait_until(lambda: broker._top == 0, 3)
    again = add_event(one.id, 9, event_id=1)
    assert received(subscription) == [again]


# Which broker an app gets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("live_broker", "redis_url", "kind"),
    [
        (None, None, DatabaseBroker),
        (None, "redis://127.0.0.1:1/0", RedisBroker),
        ("database", "redis://127.0.0.1:1/0", DatabaseBroker),
        ("memory", None, InProcessBroker),
        ("redis", "redis://127.0.0.1:1/0", RedisBroker),
    ],
)
def test_without_redis_the_database_carries_live_events_unless_memory_is_asked_for(
    live_broker, redis_url, kind
):
    app = Flask(__name__)
    app.config.update(
        LIVE_BROKER=live_broker, REDIS_URL=redis_url, LIVE_CHANNEL_PREFIX="consult-test:"
    )
    broker = for_app(app)
    try:
        assert type(broker) is kind
    finally:
        broker.close()


def test_live_broker_is_checked_when_the_app_starts(tmp_path):
    from consult.config import from_environment

    base = {"SECRET_KEY": "x"}
    assert from_environment(tmp_path, base)["LIVE_BROKER"] is None
    assert from_environment(tmp_path, {**base, "LIVE_BROKER": "Memory"})["LIVE_BROKER"] == "memory"
    with pytest.raises(ConfigError):
        from_environment(tmp_path, {**base, "LIVE_BROKER": "carrier pigeon"})
    with pytest.raises(ConfigError):
        from_environment(tmp_path, {**base, "LIVE_BROKER": "redis"})
