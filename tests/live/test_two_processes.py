"""Two server processes sharing a database: a comment posted through one appears live on a
page whose stream is connected to the other, through Redis (PostgreSQL) or, without Redis,
through each process watching the live-event table (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.models import Comment, LiveEvent, Role
from tests import factories
from tests.helpers import REDIS_URL
from tests.live.helpers import (
    HTTPStream,
    free_port,
    post_comment,
    signed_in,
    stop,
    subprocess_env,
    wait_for_port,
)

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

ROOT = Path(__file__).resolve().parents[2]


def start_server(
    port: int,
    database_url: str,
    prefix: str,
    secret_key: str,
    log: Path,
    *,
    redis: bool = True,
    workers: int = 1,
) -> subprocess.Popen:
    """Consult under the production gunicorn configuration (gevent workers), with Redis or
    (redis=False) with none."""
    broker = {"REDIS_URL": REDIS_URL} if redis else {"LIVE_POLL_SECONDS": "0.2"}
    env = subprocess_env(
        **broker,
        DATABASE_URL=database_url,
        LIVE_CHANNEL_PREFIX=prefix,
        SECRET_KEY=secret_key,
        CONSULT_ENV="development",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(workers),
        LIVE_HEARTBEAT_SECONDS="0.5",
        LIVE_STREAM_SECONDS="30",
        # Rate limits live in the shared Redis, where other test runs' people have our ids.
        RATELIMIT_ENABLED="false",
    )
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:consult.gunicorn_conf", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_comment_posted_through_one_process_appears_on_a_stream_of_another(
    app, backend, database_url, broker, tmp_path
):
    if backend != "postgres":
        pytest.skip("two processes share PostgreSQL and Redis: run with --backend=postgres")
    ask = factories.ask(factories.consultation())
    reader = factories.user(Role.MEMBER)
    author = factories.user(Role.MEMBER)
    db.session.commit()
    reader_cookie, _ = signed_in(app, reader)
    author_cookie, author_token = signed_in(app, author)

    ports = {"a": free_port(), "b": free_port()}
    procs = {
        name: start_server(
            port, database_url, broker.prefix, app.config["SECRET_KEY"], tmp_path / f"{name}.log"
        )
        for name, port in ports.items()
    }
    streams: list[HTTPStream] = []
    try:
        for name, port in ports.items():
            wait_for_port(port, 30, procs[name])
        on_b = HTTPStream(ports["b"], f"/asks/{ask.id}/events", {"Cookie": reader_cookie})
        streams.append(on_b)
        assert on_b.response.status == 200, on_b.response.read()
        on_b.reader.read_until(lambda text: ": connected" in text, timeout=5)

        posted = time.monotonic()
        comment_id = post_comment(
            ports["a"], ask.id, author_cookie, author_token, "Posted through A."
        )
        on_b.reader.read_until(lambda text: "event: comment-added" in text, timeout=2)
        assert time.monotonic() - posted < 2

        event_id = db.session.scalar(
            select(LiveEvent.id).where(
                LiveEvent.name == "comment-added", LiveEvent.object_id == comment_id
            )
        )
        assert db.session.get(Comment, comment_id).body == "Posted through A."
        assert [(e.id, e.name, e.data) for e in on_b.reader.events] == [
            (event_id, "comment-added", {"id": event_id, "object_id": comment_id})
        ]

        # A page that connects to B afterwards is sent the event from the shared database.
        late = HTTPStream(
            ports["b"],
            f"/asks/{ask.id}/events",
            {"Cookie": reader_cookie, "Last-Event-ID": str(event_id - 1)},
        )
        streams.append(late)
        late.reader.read_until(lambda text: f"id: {event_id}\n" in text, timeout=5)
    except BaseException:
        for name in procs:
            sys.stderr.write((tmp_path / f"{name}.log").read_text(errors="replace"))
        raise
    finally:
        for stream in streams:
            stream.close()
        stop(*procs.values())


def test_without_redis_each_process_reads_live_events_from_the_database(
    app, database_url, tmp_path
):
    """Two gunicorn masters without REDIS_URL (so no broker is configured but the default):
    a comment posted through one reaches streams open on both within a few seconds."""
    ask = factories.ask(factories.consultation())
    reader = factories.user(Role.MEMBER)
    author = factories.user(Role.MEMBER)
    db.session.commit()
    reader_cookie, _ = signed_in(app, reader)
    author_cookie, author_token = signed_in(app, author)

    ports = {"a": free_port(), "b": free_port()}
    procs = {
        name: start_server(
            port,
            database_url,
            "unused:",
            app.config["SECRET_KEY"],
            tmp_path / f"{name}.log",
            redis=False,
        )
        for name, port in ports.items()
    }
    streams: dict[str, HTTPStream] = {}
    try:
        for name, port in ports.items():
            wait_for_port(port, 30, procs[name])
            streams[name] = HTTPStream(
                port, f"/asks/{ask.id}/events", {"Cookie": reader_cookie}, timeout=20
            )
            assert streams[name].response.status == 200, streams[name].response.read()
            streams[name].reader.read_until(lambda text: ": connected" in text, timeout=5)

        comment_id = post_comment(
            ports["a"], ask.id, author_cookie, author_token, "Posted through A."
        )
        for stream in streams.values():
            stream.reader.read_until(lambda text: "event: comment-added" in text, timeout=5)
        event_id = db.session.scalar(
            select(LiveEvent.id).where(
                LiveEvent.name == "comment-added", LiveEvent.object_id == comment_id
            )
        )
        for stream in streams.values():
            # Once each, even on A, where it was published at commit and also read back.
            stream.reader.read_until(lambda text: text.count(": ping") >= 3, timeout=5)
            assert [(e.id, e.name, e.data) for e in stream.reader.events] == [
                (event_id, "comment-added", {"id": event_id, "object_id": comment_id})
            ]
    except BaseException:
        for name in procs:
            sys.stderr.write((tmp_path / f"{name}.log").read_text(errors="replace"))
        raise
    finally:
        for stream in streams.values():
            stream.close()
        stop(*procs.values())
