"""Issue 11, reliability: PostgreSQL stopped for 10 s under load.

Consult runs under its production gunicorn configuration (two gevent workers) on a PostgreSQL
server of this test's own (never the shared one), while a few clients keep asking for pages
and posting comments. The server is stopped (fast shutdown) for 10 s, then started again.
While it is away every answer is "Sorry, the service is unavailable" (503, Retry-After, as
a page or, for htmx, as the message fragment), and nothing waits long; once it is back the
same workers answer pages again at once, without being restarted. An open live-update
stream ends when the database stops answering (its browser reconnects) and a new one opens
once it is back. The outage is logged once per worker, without a traceback.
"""

from __future__ import annotations

import http.client
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.models import Comment, Role
from tests import factories
from tests.helpers import HTMX, make_app
from tests.html import parse, text_of
from tests.live.helpers import (
    HTTPStream,
    PostgresServer,
    comment_id,
    free_port,
    send_comment,
    signed_in,
    start_server,
    stop,
    wait_for_port,
    wait_until,
    worker_pids,
)

# Depends on the database engine: runs with --backend=postgres (make test-postgres).
pytestmark = pytest.mark.database

SECRET_KEY = "database-outage-test-secret-key"
WORKERS = 2
OUTAGE_SECONDS = 10
BOUND_SECONDS = 10  # no request may take longer, whatever the database does
RECOVERY_SECONDS = 5  # pages answer again this soon after the database is back
CLIENT_TIMEOUT = 20  # a client's own limit: an answer slower than BOUND_SECONDS still shows
PAUSE = 0.05  # between one client's requests
UNAVAILABLE = "Sorry, the service is unavailable"


@dataclass
class Answer:
    client: str
    started: float
    ended: float
    status: int | None  # None: no answer (the connection failed or timed out)
    headers: dict[str, str]
    body: str

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def succeeded(self) -> bool:
        return self.status in (200, 303)


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        return response.status, dict(response.getheaders()), body
    finally:
        connection.close()


class Load:
    """Clients sending requests one after another until stopped, each answer kept."""

    def __init__(self, clients: dict[str, Callable[[int], tuple[int, dict[str, str], str]]]):
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(name, send), daemon=True)
            for name, send in clients.items()
        ]

    def _run(self, name: str, send: Callable[[int], tuple[int, dict[str, str], str]]) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            started = time.monotonic()
            try:
                status, headers, body = send(n)
            except (OSError, http.client.HTTPException) as error:
                status, headers, body = None, {}, repr(error)
            self.answers.append(Answer(name, started, time.monotonic(), status, headers, body))
            self._stop.wait(PAUSE)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.ident is not None:  # started
                thread.join(CLIENT_TIMEOUT + 5)


@pytest.fixture
def postgres_server(backend: str) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, which it stops and starts."""
    if backend != "postgres":
        pytest.skip("stops a PostgreSQL server of its own: run with --backend=postgres")
    server = PostgresServer()
    try:
        yield server
    finally:
        server.remove()


def _assert_unavailable_page(answer: Answer) -> None:
    """A 503 with Retry-After and the friendly page (or, for htmx, its message fragment)."""
    assert answer.status == 503, (answer.client, answer.status, answer.body[:1000])
    retry_after = answer.headers.get("Retry-After", "")
    assert retry_after.isdigit() and 10 <= int(retry_after) <= 120, answer.headers
    page = parse(answer.body)
    if answer.client == "fragment":
        assert answer.headers.get("HX-Retarget") == "#messages", answer.headers
        assert text_of(page, ".govuk-error-summary__title") == UNAVAILABLE
        assert page.find("html") is None  # the fragment, not a page
    else:
        assert text_of(page, "title") == f"{UNAVAILABLE} – Consult"
        assert text_of(page, "h1") == UNAVAILABLE
        assert "Try again" in text_of(page, "main")
        # Made as for someone signed out: who is signed in could not be looked up.
        assert text_of(page, "#account") == "Sign in"


def test_postgresql_stopped_for_10_seconds_under_load(postgres_server: PostgresServer, tmp_path):
    database_url = postgres_server.create_database("consult")
    app = make_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "ARGON2_TIME_COST": 1,  # the person's password is hashed quickly
            "ARGON2_MEMORY_COST": 1024,
        }
    )
    with app.app_context():
        db.create_all()
        ask = factories.ask(factories.consultation())
        member = factories.user(Role.MEMBER)
        db.session.commit()
        ask_id = ask.id
        cookie, token = signed_in(app, member)
        db.session.remove()
        db.engine.dispose()

    port = free_port()
    log: Path = tmp_path / "gunicorn.log"
    server = start_server(
        port, database_url, "unused:", SECRET_KEY, log, redis=False, workers=WORKERS
    )
    page, dashboard = f"/asks/{ask_id}", "/"
    signed_in_headers = {"Cookie": cookie}
    load = Load(
        {
            "page": lambda n: _get(port, page, signed_in_headers),
            "dashboard": lambda n: _get(port, dashboard, signed_in_headers),
            "fragment": lambda n: _get(port, page, {**signed_in_headers, **HTMX}),
            "comment": lambda n: send_comment(
                port, ask_id, cookie, token, f"Comment {n}.", timeout=CLIENT_TIMEOUT
            ),
        }
    )
    streams: list[HTTPStream] = []
    try:
        wait_for_port(port, 30, server)
        # Every worker booted and answering (a worker's first answer can take seconds).
        assert wait_until(lambda: _get(port, page, signed_in_headers)[0] == 200, 30)
        assert wait_until(lambda: len(worker_pids(server)) == WORKERS, 10)
        workers = worker_pids(server)
        stream = HTTPStream(port, f"/asks/{ask_id}/events", signed_in_headers)
        streams.append(stream)
        assert stream.response.status == 200
        stream.reader.read_until(lambda text: ": connected" in text, timeout=10)

        load.start()
        time.sleep(3)
        stopping = time.monotonic()
        postgres_server.stop()
        stopped = time.monotonic()
        # The stream notices at its next heartbeat (0.5 s) and ends, cleanly.
        stream.reader.read_to_end(timeout=OUTAGE_SECONDS / 2)
        time.sleep(max(0.0, stopped + OUTAGE_SECONDS - time.monotonic()))
        starting = time.monotonic()
        postgres_server.start()
        started = time.monotonic()
        assert wait_until(
            lambda: (
                {a.client for a in load.answers if a.started >= started and a.succeeded}
                >= {"page", "dashboard", "fragment", "comment"}
            ),
            RECOVERY_SECONDS,
        ), "pages did not answer again within a few seconds of the database's return"
        time.sleep(1)
        load.stop()
        # Live updates are back too.
        again = HTTPStream(port, f"/asks/{ask_id}/events", signed_in_headers)
        streams.append(again)
        assert again.response.status == 200
        again.reader.read_until(lambda text: ": connected" in text, timeout=10)
        # The same workers: nothing was restarted.
        assert worker_pids(server) == workers
    except BaseException:
        sys.stderr.write(log.read_text(errors="replace"))
        raise
    finally:
        load.stop()
        for open_stream in streams:
            open_stream.close()
        stop(server)
    server_log = log.read_text(errors="replace")

    answers = load.answers
    # Every request was answered, and quickly.
    assert [a for a in answers if a.status is None] == []
    slow = [(a.client, a.status, round(a.seconds, 1)) for a in answers if a.seconds > BOUND_SECONDS]
    assert slow == []
    # Before the stop: pages. While the server was down: the friendly 503, every time.
    before = [a for a in answers if a.ended < stopping]
    during = [a for a in answers if a.started > stopped and a.ended < starting]
    after = [a for a in answers if a.started > started]
    assert before and all(a.succeeded for a in before), {a.status for a in before}
    for client in ("page", "dashboard", "fragment", "comment"):
        assert len([a for a in during if a.client == client]) >= 5, client
    assert not [a for a in during if a.succeeded]
    # Every answer that was not the page (or the comment posted) was the friendly 503: while
    # the server was down, and around its stop and start.
    for answer in answers:
        if not answer.succeeded:
            _assert_unavailable_page(answer)
    # After the start: every request answered as before.
    assert after and all(a.succeeded for a in after), [
        (a.client, a.status, a.body[:300]) for a in after if not a.succeeded
    ]

    # Each comment whose form was answered 303 was saved.
    posted = [comment_id(a.headers.get("Location")) for a in answers if a.status == 303]
    assert posted
    with app.app_context():
        try:
            saved = set(db.session.scalars(select(Comment.id).where(Comment.id.in_(posted))))
        finally:
            db.session.remove()
            db.engine.dispose()
    assert saved == set(posted)

    # Logged once by each worker that saw the outage (and its end), never with a traceback.
    assert 1 <= server_log.count("The database is not answering") <= WORKERS, server_log
    assert server_log.count("The database answers again") >= 1, server_log
    assert "Traceback" not in server_log, server_log
