"""The sessions of a process's open streams are checked together: one query per heartbeat
whatever the number of streams (consult/live/standing.py), ending only the streams whose
session no longer stands."""

from __future__ import annotations

import threading
import uuid

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from consult import database
from consult.auth import services
from consult.extensions import db
from consult.live.services import announce
from consult.live.standing import SIGNED_OUT, UNAVAILABLE, SessionWatch
from consult.models import Role
from tests import factories
from tests.helpers import login_as
from tests.live.helpers import HTTPStream, StreamReader, cookie_for, wait_until

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

HEARTBEAT = 0.1


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """An app of each test's own: its session watch counts only this test's streams."""
    return {
        **app_config,
        "SECRET_KEY": f"session-watch-{uuid.uuid4().hex}",
        "LIVE_HEARTBEAT_SECONDS": HEARTBEAT,
        "LIVE_STREAM_SECONDS": 30,  # far longer than any test waits
    }


@pytest.fixture
def watch(app: Flask):
    session_watch: SessionWatch = app.extensions["consult_session_watch"]
    yield session_watch
    session_watch.close()


@pytest.fixture
def ask(app: Flask):
    return factories.ask(factories.consultation())


class Stream:
    def __init__(self, app: Flask, ask, person) -> None:
        client = login_as(app.test_client(), person)
        self.response = client.get(f"/asks/{ask.id}/events", buffered=False)
        assert self.response.status_code == 200
        self.reader = StreamReader(self.response.response)
        self.reader.read_until(lambda text: ": connected" in text, timeout=5)


def open_streams(app: Flask, ask, people: list) -> list[Stream]:
    return [Stream(app, ask, person) for person in people]


def close(streams: list[Stream]) -> None:
    for stream in streams:
        stream.response.close()


@pytest.mark.parametrize("streams_per_person, people", [(1, 1), (2, 3), (3, 4)])
def test_one_query_checks_every_open_stream(app, ask, broker, watch, streams_per_person, people):
    app.config["LIVE_HEARTBEAT_SECONDS"] = 60  # the watch's own thread stays out of the way
    members = [factories.user(Role.MEMBER) for _ in range(people)]
    streams = open_streams(app, ask, [m for m in members for _ in range(streams_per_person)])
    try:
        assert watch.count() == people * streams_per_person
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert watch.check() == 0  # everyone's session stands
            assert watch.check() == 0
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert len(statements) == 2, statements  # one each, whatever the number of streams
        assert all("session_token" in s for s in statements)
    finally:
        close(streams)


def test_the_watch_checks_once_a_heartbeat_not_once_a_stream(app, ask, server, watch):
    members = [factories.user(Role.MEMBER) for _ in range(3)]
    db.session.commit()
    streams = [
        HTTPStream(server, f"/asks/{ask.id}/events", cookie_for(app, member))
        for member in members * 2
    ]
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if "session_token" in statement:
            statements.append(statement)

    try:
        for stream in streams:
            assert stream.response.status == 200
            stream.reader.read_until(lambda text: ": connected" in text, timeout=5)
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            first = watch.checks
            # Ten heartbeats go by, each stream sending its pings without a query of its own.
            for stream in streams:
                stream.reader.read_until(lambda text: text.count(": ping") >= 10, timeout=10)
            checks, queries = watch.checks - first, len(statements)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        pings = sum(stream.reader.text.count(": ping") for stream in streams)
        # One query per check (give or take the one running as the counts were read), about
        # one check per heartbeat: not one per stream and heartbeat.
        assert checks - 1 <= queries <= checks + 1, (checks, queries)
        assert queries < pings / 3, (queries, pings)
    finally:
        for stream in streams:
            stream.close()


def test_signing_out_ends_only_that_persons_streams(app, ask, broker, watch):
    leaving, staying, other = (factories.user(Role.MEMBER) for _ in range(3))
    theirs = open_streams(app, ask, [leaving, leaving])
    others = open_streams(app, ask, [staying, other, staying])
    try:
        services.record_sign_out(leaving)  # sign-out in another browser rotates the token
        db.session.commit()
        for stream in theirs:
            stream.reader.read_to_end(timeout=5)
        # The others go on: heartbeats after the check, then the next event.
        for stream in others:
            pings = stream.reader.text.count(": ping")
            stream.reader.read_until(lambda text, n=pings: text.count(": ping") >= n + 2, 5)
        announce(ask_id=ask.id, name="comment-added", object_id=7)
        db.session.commit()
        for stream in others:
            stream.reader.read_until(lambda text: "event: comment-added" in text, timeout=5)
            assert not stream.reader.ended
        assert all("comment-added" not in stream.reader.text for stream in theirs)
        assert wait_until(lambda: watch.count() == len(others), 5)
    finally:
        close(theirs + others)
    assert wait_until(lambda: watch.count() == 0, 5)


def test_a_watched_session_that_no_longer_stands_is_ended_and_woken(app, ask, watch):
    leaving, staying = factories.user(Role.MEMBER), factories.user(Role.MEMBER)
    db.session.commit()
    woken: list[str] = []
    gone = watch.watch(leaving.session_token, 4e9, lambda: woken.append("leaving"))
    kept = watch.watch(staying.session_token, 4e9, lambda: woken.append("staying"))
    try:
        services.set_user_active(actor=factories.user(Role.SECRETARIAT), user=leaving, active=False)
        db.session.commit()
        assert watch.check() == 1
        assert (gone.ended, kept.ended) == (SIGNED_OUT, None)
        assert woken == ["leaving"]
        assert not gone.stands() and kept.stands()
    finally:
        gone.close()
        kept.close()
    assert watch.count() == 0


def test_a_session_past_its_time_does_not_stand_without_a_query(app, watch):
    past = watch.watch("some-token", 1.0, lambda: None)
    try:
        assert not past.stands()
    finally:
        past.close()


def test_the_database_not_answering_ends_every_stream(app, ask, broker, watch, monkeypatch):
    members = [factories.user(Role.MEMBER) for _ in range(2)]
    streams = open_streams(app, ask, members)
    refused: list[BaseException] = []

    def no_answer(tokens):
        raise OperationalError("SELECT", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(database.outage, "refused", refused.append)
    monkeypatch.setattr(services, "sessions_that_stand", no_answer)
    try:
        for stream in streams:
            stream.reader.read_to_end(timeout=5)
            assert "event:" not in stream.reader.text
    finally:
        close(streams)
    assert refused, "the outage was not noted"
    assert wait_until(lambda: watch.count() == 0, 5)


def test_a_failed_check_ends_the_watched_streams(app, watch, monkeypatch):
    def no_answer(tokens):
        raise OperationalError("SELECT", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(database.outage, "refused", lambda error: None)
    monkeypatch.setattr(services, "sessions_that_stand", no_answer)
    watched = watch.watch("some-token", 4e9, lambda: None)
    try:
        assert watch.check() == 1
        assert watched.ended == UNAVAILABLE
        assert isinstance(watched.error, OperationalError)
    finally:
        watched.close()


def test_the_watch_stops_when_no_stream_is_open(app, ask, broker, watch):
    streams = open_streams(app, ask, [factories.user(Role.MEMBER)])
    assert watch._thread is not None
    close(streams)
    assert wait_until(lambda: watch._thread is None, 5)
    # The next stream starts it again.
    streams = open_streams(app, ask, [factories.user(Role.MEMBER)])
    try:
        assert watch._thread is not None
        streams[0].reader.read_until(lambda text: ": ping" in text, timeout=5)
    finally:
        close(streams)


def test_a_stream_not_read_holds_one_heartbeat_at_most(app):
    from consult.live.broker import TICK, InProcessBroker

    subscription = InProcessBroker().subscribe("ask:1")
    for _ in range(5):
        subscription.tick()
    assert subscription.queue.qsize() == 1
    assert subscription.get(timeout=0) is TICK
    subscription.tick_pending = False  # as the stream does when it takes it
    subscription.tick()
    assert subscription.queue.qsize() == 1


def test_a_stream_watched_after_close_has_its_heartbeats(app, watch):
    """close() tells the running thread to stop; a stream watched before it has ended gets a
    new thread of its own rather than none (the stream would never hear a heartbeat)."""
    first = watch.watch("some-token", 4e9, lambda: None)
    old = watch._thread
    assert old is not None and old.is_alive()
    ticks = threading.Event()
    try:
        watch._stop.set()  # told to stop, as close() does, but not yet ended
        second = watch.watch("other-token", 4e9, lambda: None, tick=ticks.set)
        try:
            assert watch._thread is not old
            assert ticks.wait(5), "the stream watched after close() had no heartbeat"
        finally:
            second.close()
    finally:
        first.close()


def test_a_new_heartbeat_setting_applies_to_the_next_stream(app, watch):
    """The thread keeps the heartbeat it started with; a stream watched after the setting
    changed gets a thread with the new one, not a wait for the old one to run out (the
    shared test apps change it between tests)."""
    app.config["LIVE_HEARTBEAT_SECONDS"] = 60
    first = watch.watch("some-token", 4e9, lambda: None)
    first.close()  # the thread now waits out its 60 s
    app.config["LIVE_HEARTBEAT_SECONDS"] = HEARTBEAT
    ticks = threading.Event()
    second = watch.watch("other-token", 4e9, lambda: None, tick=ticks.set)
    try:
        assert ticks.wait(5), "the new stream waited for the old heartbeat"
    finally:
        second.close()
