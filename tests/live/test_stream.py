"""The event stream of an ask's page: who may open it, what it sends, and when it ends."""

from __future__ import annotations

import json
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consult.comments.services import add_comment
from consult.extensions import db
from consult.live import views
from consult.live.services import announce, channel_for
from consult.models import LiveEvent, Role
from tests import factories
from tests.helpers import login_as
from tests.live.helpers import StreamReader, parse_events, wait_until

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # Short enough that a silent stream still yields often, and ends by itself.
    return {**app_config, "LIVE_HEARTBEAT_SECONDS": 0.2, "LIVE_STREAM_SECONDS": 10}


@pytest.fixture
def ask(app: Flask):
    return factories.ask(factories.consultation())


def url(ask) -> str:
    return f"/asks/{ask.id}/events"


def open_stream(client: FlaskClient, ask, **kwargs):
    response = client.get(url(ask), buffered=False, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response, StreamReader(response.response)


def connected(text: str) -> bool:
    return ": connected\n\n" in text


# Who may open it ------------------------------------------------------------------------------


def test_anonymous_is_refused_with_401_not_a_redirect(client, ask, broker):
    response = login_as(client, None).get(url(ask))
    assert response.status_code == 401
    assert response.mimetype == "text/plain"
    assert broker.subscriber_count() == 0


def test_member_cannot_open_the_stream_of_an_upcoming_consultation(client, broker):
    upcoming = factories.ask(factories.consultation(opens_in_days=3))
    member = factories.user(Role.MEMBER)
    response = login_as(client, member).get(url(upcoming))
    assert response.status_code == 403
    assert broker.subscriber_count() == 0


def test_unknown_ask_is_404(client, broker):
    response = login_as(client, factories.user(Role.MEMBER)).get("/asks/999999/events")
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.MEMBER, Role.OBSERVER, Role.SECRETARIAT])
def test_readers_get_a_stream(client, ask, broker, role):
    response, reader = open_stream(login_as(client, factories.user(role)), ask)
    try:
        assert response.mimetype == "text/event-stream"
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["X-Accel-Buffering"] == "no"
        text = reader.read_until(connected, timeout=5)
        assert text.startswith("retry: 3000\n: connected\n\n")
        assert broker.subscriber_count() == 1
    finally:
        response.close()
    assert broker.subscriber_count() == 0


def test_secretariat_may_open_the_stream_of_an_upcoming_consultation(client, broker):
    upcoming = factories.ask(factories.consultation(opens_in_days=3))
    response, reader = open_stream(login_as(client, factories.user(Role.SECRETARIAT)), upcoming)
    try:
        assert response.status_code == 200
        assert reader.read_until(connected, timeout=5).startswith("retry: 3000\n: connected")
    finally:
        response.close()


def test_a_head_request_leaves_no_subscription_behind(client, ask, broker):
    response = login_as(client, factories.user(Role.MEMBER)).head(url(ask))
    assert response.status_code == 200
    response.close()  # what a WSGI server does once it has sent the (empty) body
    assert broker.subscriber_count() == 0


# What it sends --------------------------------------------------------------------------------


def _events(ask, *names: str) -> list[LiveEvent]:
    made = [LiveEvent(ask_id=ask.id, name=name, object_id=100 + n) for n, name in enumerate(names)]
    db.session.add_all(made)
    db.session.flush()
    return made


def test_reconnecting_replays_exactly_the_events_after_last_event_id(client, ask, broker):
    other_ask = factories.ask(ask.consultation)
    first, second, third, fourth = _events(
        ask, "comment-added", "comment-updated", "comment-added", "version-published"
    )
    _events(other_ask, "comment-added")
    member = factories.user(Role.MEMBER)

    response, reader = open_stream(
        login_as(client, member), ask, headers={"Last-Event-ID": str(second.id)}
    )
    try:
        reader.read_until(lambda text: f"id: {fourth.id}\n" in text, timeout=5)
    finally:
        response.close()
    assert [(e.id, e.name, e.data) for e in reader.events] == [
        (third.id, "comment-added", {"id": third.id, "object_id": third.object_id}),
        (fourth.id, "version-published", {"id": fourth.id, "object_id": fourth.object_id}),
    ]
    # The exact wire format.
    assert (
        f"id: {third.id}\nevent: comment-added\n"
        f"data: {json.dumps({'id': third.id, 'object_id': third.object_id})}\n\n"
    ) in reader.text


def test_last_event_id_may_come_in_the_query_string(client, ask, broker):
    first, second = _events(ask, "comment-added", "comment-added")
    response, reader = open_stream(
        login_as(client, factories.user(Role.MEMBER)), ask, query_string={"last_event_id": first.id}
    )
    try:
        reader.read_until(lambda text: f"id: {second.id}\n" in text, timeout=5)
    finally:
        response.close()
    assert [e.id for e in reader.events] == [second.id]


@pytest.mark.parametrize("header", ["", "junk", "-1", "1e3", "١٢", "9" * 40])
def test_a_missing_or_malformed_last_event_id_replays_from_the_start(client, ask, broker, header):
    made = _events(ask, "comment-added", "comment-added")
    response, reader = open_stream(
        login_as(client, factories.user(Role.MEMBER)), ask, headers={"Last-Event-ID": header}
    )
    try:
        reader.read_until(lambda text: f"id: {made[-1].id}\n" in text, timeout=5)
    finally:
        response.close()
    assert [e.id for e in reader.events] == [e.id for e in made]


def test_replay_is_bounded_to_the_latest_events(client, ask, broker, monkeypatch):
    monkeypatch.setattr(views, "REPLAY_LIMIT", 3)
    made = _events(ask, *["comment-added"] * 6)
    response, reader = open_stream(
        login_as(client, factories.user(Role.MEMBER)), ask, headers={"Last-Event-ID": "0"}
    )
    try:
        reader.read_until(lambda text: f"id: {made[-1].id}\n" in text, timeout=5)
    finally:
        response.close()
    assert [e.id for e in reader.events] == [e.id for e in made[-3:]]


def test_the_stream_holds_no_database_connection(client, ask, broker):
    _events(ask, "comment-added")
    response, reader = open_stream(login_as(client, factories.user(Role.MEMBER)), ask)
    try:
        reader.read_until(lambda text: "event: comment-added" in text, timeout=5)
        db.session.remove()  # the test's own session lets go of its connection too
        # (Once a heartbeat, this process's session watch holds one for a query, briefly.)
        assert wait_until(lambda: db.engine.pool.checkedout() == 0, 2)
        reader.read_until(lambda text: ": ping" in text, timeout=5)
        assert wait_until(lambda: db.engine.pool.checkedout() == 0, 2)
    finally:
        response.close()


def test_an_event_committed_while_connected_is_delivered(client, ask, broker):
    member = factories.user(Role.MEMBER)
    response, reader = open_stream(login_as(client, member), ask)
    try:
        reader.read_until(connected, timeout=5)
        comment, _ = add_comment(author=factories.user(Role.MEMBER), ask=ask, body="Agreed.")
        db.session.commit()  # announce() publishes after commit
        event_id = db.session.scalar(
            db.select(LiveEvent.id).where(LiveEvent.object_id == comment.id)
        )
        reader.read_until(lambda text: "event: comment-added" in text, timeout=2)
    finally:
        response.close()
    assert [(e.id, e.name, e.data) for e in reader.events] == [
        (event_id, "comment-added", {"id": event_id, "object_id": comment.id})
    ]


def test_an_event_of_another_ask_is_not_delivered(client, ask, broker):
    other = factories.ask(ask.consultation)
    response, reader = open_stream(login_as(client, factories.user(Role.MEMBER)), ask)
    try:
        reader.read_until(connected, timeout=5)
        announce(ask_id=other.id, name="comment-added", object_id=1)
        announce(ask_id=ask.id, name="comment-updated", object_id=2)
        db.session.commit()
        reader.read_until(lambda text: "event: comment-updated" in text, timeout=2)
    finally:
        response.close()
    assert [e.name for e in reader.events] == ["comment-updated"]


def test_live_events_already_replayed_are_not_sent_twice(client, ask, broker):
    old, replayed = _events(ask, "comment-added", "comment-added")
    response, reader = open_stream(
        login_as(client, factories.user(Role.MEMBER)), ask, headers={"Last-Event-ID": str(old.id)}
    )
    try:
        reader.read_until(lambda text: f"id: {replayed.id}\n" in text, timeout=5)
        channel = channel_for(ask.id)
        broker.publish(channel, {"id": replayed.id, "name": "comment-added", "object_id": 2})
        broker.publish(channel, {"id": replayed.id + 5, "name": "comment-updated", "object_id": 3})
        # Numbered before, committed after, a newer one: sent, without an id line, so the
        # browser's Last-Event-ID does not go back (and a reconnection repeats nothing).
        broker.publish(channel, {"id": replayed.id + 2, "name": "comment-added", "object_id": 4})
        broker.publish(channel, {"id": old.id - 1, "name": "comment-updated", "object_id": 5})
        reader.read_until(lambda text: '"object_id": 5' in text, timeout=2)
    finally:
        response.close()
    assert [(e.id, e.name, e.data) for e in reader.events] == [
        (replayed.id, "comment-added", {"id": replayed.id, "object_id": replayed.object_id}),
        (replayed.id + 5, "comment-updated", {"id": replayed.id + 5, "object_id": 3}),
        (None, "comment-added", {"id": replayed.id + 2, "object_id": 4}),
        (None, "comment-updated", {"id": old.id - 1, "object_id": 5}),
    ]


def test_heartbeat_comes_every_live_heartbeat_seconds(client, ask, broker, app):
    app.config["LIVE_HEARTBEAT_SECONDS"] = 0.05
    response, reader = open_stream(login_as(client, factories.user(Role.MEMBER)), ask)
    try:
        started = time.monotonic()
        reader.read_until(lambda text: text.count(": ping\n\n") >= 3, timeout=5)
        elapsed = time.monotonic() - started
    finally:
        response.close()
    assert 0.1 <= elapsed < 2
    assert parse_events(reader.text) == []


# A heartbeat longer than the stream too: streams wait without a timer between heartbeats,
# except within a heartbeat of their end, so that they end on time.
@pytest.mark.parametrize("heartbeat", [0.1, 30])
def test_the_stream_ends_by_itself_after_live_stream_seconds(client, ask, broker, app, heartbeat):
    app.config["LIVE_STREAM_SECONDS"] = 0.3
    app.config["LIVE_HEARTBEAT_SECONDS"] = heartbeat
    response, reader = open_stream(login_as(client, factories.user(Role.MEMBER)), ask)
    started = time.monotonic()
    try:
        reader.read_to_end(timeout=5)
    finally:
        response.close()
    assert 0.2 < time.monotonic() - started < 2
    assert reader.text.startswith("retry: 3000\n: connected\n\n")
    assert wait_until(lambda: broker.subscriber_count() == 0, 2)


def test_a_stream_that_fell_behind_ends_so_the_browser_catches_up(client, ask, app):
    from consult.live.broker import InProcessBroker

    original = app.extensions["consult_broker"]
    app.extensions["consult_broker"] = small = InProcessBroker(queue_size=2)
    try:
        response, reader = open_stream(login_as(client, factories.user(Role.MEMBER)), ask)
        try:
            reader.read_until(connected, timeout=5)
            for n in range(1, 5):
                small.publish(
                    channel_for(ask.id), {"id": n, "name": "comment-added", "object_id": n}
                )
            started = time.monotonic()
            reader.read_to_end(timeout=5)
        finally:
            response.close()
        assert time.monotonic() - started < 1  # long before LIVE_STREAM_SECONDS
        assert small.subscriber_count() == 0
    finally:
        app.extensions["consult_broker"] = original
