"""Posting never depends on the push channel: a real redis-server is killed mid-discussion."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import func, select

from consult.comments.services import add_comment
from consult.extensions import db
from consult.live.broker import RedisBroker
from consult.models import Comment, LiveEvent, Role
from tests import factories
from tests.helpers import login_as
from tests.live.helpers import StreamReader, wait_until

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


@pytest.fixture
def app_config(app_config: dict, redis_server) -> dict:
    return {
        **app_config,
        "REDIS_URL": redis_server.url,
        "LIVE_HEARTBEAT_SECONDS": 0.2,
        "LIVE_STREAM_SECONDS": 60,
    }


@pytest.fixture
def redis_broker(app: Flask):
    """The app's own RedisBroker (this app is built for this test's redis-server alone)."""
    broker = app.extensions["consult_broker"]
    assert isinstance(broker, RedisBroker)
    yield broker
    broker.close()


def _post(ask, author, body: str) -> Comment:
    comment, created = add_comment(author=author, ask=ask, body=body)
    assert created
    db.session.commit()
    return comment


def _event_id(comment: Comment) -> int:
    return db.session.scalar(
        select(LiveEvent.id).where(
            LiveEvent.name == "comment-added", LiveEvent.object_id == comment.id
        )
    )


def _open(client, ask, last_event_id: int | None = None):
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    response = client.get(f"/asks/{ask.id}/events", headers=headers, buffered=False)
    assert response.status_code == 200
    return response, StreamReader(response.response)


def test_comments_are_saved_while_redis_is_down_and_pages_catch_up(
    app, client, redis_server, redis_broker, caplog
):
    caplog.set_level(logging.WARNING)
    ask = factories.ask(factories.consultation())
    author = factories.user(Role.MEMBER)
    login_as(client, factories.user(Role.MEMBER))  # the reader, another organisation

    response, stream = _open(client, ask)
    try:
        stream.read_until(lambda text: ": connected" in text, timeout=5)
        assert redis_broker.connected.is_set()
        first = _post(ask, author, "Before the outage.")
        stream.read_until(lambda text: "event: comment-added" in text, timeout=2)
        assert [e.data["object_id"] for e in stream.events] == [first.id]
        seen = stream.events[-1].id

        # Redis dies in the middle of the discussion.
        redis_server.kill()
        assert wait_until(lambda: not redis_broker.connected.is_set(), 5)
        during = [_post(ask, author, f"During the outage, comment {n}.") for n in range(1, 4)]

        # Every comment is stored; the failed publications were logged, not raised.
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 4
        assert sorted(db.session.scalars(select(Comment.body))) == sorted(
            ["Before the outage."] + [f"During the outage, comment {n}." for n in range(1, 4)]
        )
        assert sum("Could not publish live event" in r.getMessage() for r in caplog.records) == 3

        # The open stream stays up and keeps sending heartbeats, but hears nothing new.
        pings = stream.text.count(": ping")
        stream.read_until(lambda text: text.count(": ping") >= pings + 2, timeout=5)
        assert len(stream.events) == 1

        # A page that reconnects (with Last-Event-ID) is sent what it missed, from the
        # database, even while Redis is still down.
        again, catch_up = _open(client, ask, last_event_id=seen)
        try:
            last = _event_id(during[-1])
            catch_up.read_until(lambda text: f"id: {last}\n" in text, timeout=5)
        finally:
            again.close()
        assert [(e.name, e.data["object_id"]) for e in catch_up.events] == [
            ("comment-added", c.id) for c in during
        ]

        # Redis comes back: the stream that was open through the outage ends, so that its
        # browser reconnects and catches up the same way.
        redis_server.start()
        stream.read_to_end(timeout=15)
        assert len(stream.events) == 1
    finally:
        response.close()
    assert wait_until(lambda: redis_broker.subscriber_count() == 0, 2)

    # And new comments are live again.
    response, stream = _open(client, ask, last_event_id=_event_id(during[-1]))
    try:
        stream.read_until(lambda text: ": connected" in text, timeout=5)
        after = _post(ask, author, "After the outage.")
        stream.read_until(lambda text: "event: comment-added" in text, timeout=2)
    finally:
        response.close()
    assert [e.data["object_id"] for e in stream.events] == [after.id]
