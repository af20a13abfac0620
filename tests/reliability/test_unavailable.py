"""When the database does not answer: the 503 page, its log lines and the engine settings
that make a request fail fast. (The real outage, a PostgreSQL server stopped under load, is
tests/reliability/test_database_outage.py.)"""

from __future__ import annotations

import logging
import sqlite3
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from consult import audit, database
from consult.auth import services as auth_services
from consult.config import engine_options, from_environment
from consult.database import Outage, unavailable
from consult.extensions import db
from consult.models import AuditEvent, Comment
from tests.helpers import HTMX, login_as, make_app
from tests.html import text_of

UNAVAILABLE = "Sorry, the service is unavailable"


def _refused(*args, **kwargs):
    raise OperationalError("SELECT 1", {}, Exception("connection refused\nIs the server running?"))


@pytest.fixture
def outage(monkeypatch) -> Outage:
    """A fresh log of outages for this test (the process has one)."""
    fresh = Outage()
    monkeypatch.setattr(database, "outage", fresh)
    return fresh


def test_a_page_whose_database_does_not_answer_is_the_friendly_503(
    client, people, monkeypatch, outage, caplog
):
    login_as(client, people.member)
    # Who is signed in is the first thing looked up.
    monkeypatch.setattr(auth_services, "person_for_session", _refused)
    caplog.set_level(logging.INFO, logger="consult.database")

    page = client.get("/")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "60"
    assert page.headers["Cache-Control"] == "no-store"
    assert text_of(page, "title") == f"{UNAVAILABLE} – Consult"
    assert text_of(page, "h1") == UNAVAILABLE
    assert "Try again in a minute" in text_of(page, "main")
    # Made as for someone signed out: who is signed in could not be looked up.
    assert text_of(page, "#account") == "Sign in"

    fragment = client.get("/", headers=HTMX)
    assert fragment.status_code == 503 and fragment.headers["Retry-After"] == "60"
    assert fragment.headers["HX-Retarget"] == "#messages"
    assert text_of(fragment, ".govuk-error-summary__title") == UNAVAILABLE
    assert "<html" not in fragment.get_data(as_text=True)

    # Logged once, in one line, without a traceback.
    lines = [r for r in caplog.records if r.name == "consult.database"]
    assert [(r.levelname, r.getMessage()) for r in lines] == [
        (
            "ERROR",
            "The database is not answering: Exception: connection refused "
            "(1 request refused since the last line)",
        )
    ]
    assert lines[0].exc_info is None


def test_a_mistake_in_sql_is_not_taken_for_an_outage(client, people, monkeypatch, outage):
    """SQLite reports a mistake in SQL as OperationalError too (PostgreSQL's driver as
    ProgrammingError): that is the 500 path (which the test client raises), not a 503."""

    def mistake(*args, **kwargs):
        db.session.execute(text("SELEC 1"))

    login_as(client, people.member)
    monkeypatch.setattr(auth_services, "person_for_session", mistake)
    with pytest.raises(DBAPIError, match="syntax error"):
        client.get("/")


def test_sqlite_busy_or_locked_counts_as_unavailable_and_a_mistake_does_not(tmp_path):
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path)
    other = sqlite3.connect(path, timeout=0)
    try:
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(sqlite3.OperationalError, match="locked") as locked:
            other.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(sqlite3.OperationalError, match="syntax error") as mistake:
            other.execute("SELEC 1")
    finally:
        holder.close()
        other.close()
    assert unavailable(OperationalError("INSERT", {}, locked.value))
    assert not unavailable(OperationalError("SELEC 1", {}, mistake.value))
    # PostgreSQL's driver keeps mistakes out of OperationalError: all of it counts.
    assert unavailable(OperationalError("SELECT 1", {}, Exception("connection refused")))
    assert not unavailable(ValueError("not a database error"))


def test_a_comment_refused_midway_is_rolled_back(client, people, ask, monkeypatch, outage):
    """The database stops answering after the comment was written, before its audit event:
    503, and nothing of it is kept."""
    login_as(client, people.member)
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    monkeypatch.setattr(audit, "record", _refused)
    response = client.post(
        f"/asks/{ask.id}/comments",
        data={"body": "We agree.", "submission_key": "0123456789abcdef" * 2, "placement": "page"},
    )
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert text_of(response, "h1") == UNAVAILABLE
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_an_outage_is_logged_once_and_its_end_once(caplog):
    caplog.set_level(logging.INFO, logger="consult.database")
    outage = Outage()
    refused = OperationalError("SELECT 1", {}, Exception("connection refused"))

    def lines() -> list[str]:
        found = [r.getMessage() for r in caplog.records if r.name == "consult.database"]
        caplog.clear()
        return found

    for _ in range(3):
        outage.refused(refused)
    assert lines() == [
        "The database is not answering: Exception: connection refused "
        "(1 request refused since the last line)"
    ]
    outage.connected()
    outage.connected()  # connections made afterwards say nothing
    assert lines() == ["The database answers again (2 more requests refused)"]
    # Flapping: a second outage within a minute of the first line is not logged again at
    # once; its end is.
    outage.refused(refused)
    assert lines() == []
    outage.connected()
    assert lines() == ["The database answers again (1 more requests refused)"]
    # A minute after the last line, an outage still going on is logged again.
    outage.refused(refused)
    outage._logged_at = time.monotonic() - Outage.REPEAT_SECONDS
    outage.refused(refused)
    assert lines() == [
        "The database is not answering: Exception: connection refused "
        "(2 requests refused since the last line)"
    ]


def test_postgresql_connections_fail_fast_and_are_checked_before_use(tmp_path):
    config = from_environment(
        tmp_path, {"DATABASE_URL": "postgresql://consult@db.example.org/consult"}
    )
    options = engine_options(config)
    assert options == {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 10,
        "pool_timeout": 10,
        "connect_args": {
            "connect_timeout": 5,
            "tcp_user_timeout": 5000,
            "options": "-c statement_timeout=30000",
        },
    }
    # Set from the environment; options the URL gives the server are kept.
    config = from_environment(
        tmp_path,
        {
            "DATABASE_URL": "postgresql://db.example.org/consult?options=-c%20search_path%3Dapp",
            "DATABASE_CONNECT_TIMEOUT": "3",
            "DATABASE_STATEMENT_TIMEOUT": "2.5",
            "DATABASE_POOL_TIMEOUT": "4",
            "DATABASE_POOL_SIZE": "3",
            "DATABASE_MAX_OVERFLOW": "0",
        },
    )
    options = engine_options(config)
    assert options["pool_timeout"] == 4
    assert (options["pool_size"], options["max_overflow"]) == (3, 0)
    assert options["connect_args"] == {
        "connect_timeout": 3,
        "tcp_user_timeout": 3000,
        "options": "-c search_path=app -c statement_timeout=2500",
    }
    # SQLite has its busy timeout instead; options given in the configuration win.
    assert engine_options(from_environment(tmp_path, {})) == {}
    given = {**config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_timeout": 1, "echo": False}}
    assert engine_options(given)["pool_timeout"] == 1 and engine_options(given)["echo"] is False


@pytest.mark.database
def test_a_statement_past_the_timeout_is_cancelled(app_config, backend):
    if backend != "postgres":
        pytest.skip("PostgreSQL's statement timeout: run with --backend=postgres")
    quick = make_app({**app_config, "DATABASE_STATEMENT_TIMEOUT": 0.2})
    try:
        with quick.app_context():
            started = time.monotonic()
            with pytest.raises(OperationalError, match="statement timeout"):
                db.session.execute(text("SELECT pg_sleep(5)"))
            assert time.monotonic() - started < 4
            db.session.rollback()
            assert db.session.scalar(text("SELECT 1")) == 1
    finally:
        with quick.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.database
def test_a_request_that_finds_the_pool_used_up_is_a_503_after_the_pool_timeout(
    app, app_config, backend, outage
):
    """Every connection of the worker's pool busy: a request waits DATABASE_POOL_TIMEOUT for
    one, then is answered "Sorry, the service is unavailable", never left hanging."""
    if backend != "postgres":
        pytest.skip("the PostgreSQL pool's settings: run with --backend=postgres")
    small = make_app(
        {
            **app_config,
            "DATABASE_POOL_SIZE": 1,
            "DATABASE_MAX_OVERFLOW": 0,
            "DATABASE_POOL_TIMEOUT": 1,
        }
    )
    try:
        with small.app_context():
            holder = db.engine.connect()  # the pool's only connection, busy elsewhere
            try:
                started = time.monotonic()
                page = small.test_client().get("/manifestos/1")
                waited = time.monotonic() - started
            finally:
                holder.close()
            assert page.status_code == 503 and page.headers["Retry-After"] == "60"
            assert text_of(page, "h1") == UNAVAILABLE
            assert 0.8 <= waited < 5
            # Once the connection is free again, the same pool serves (no such manifesto).
            assert small.test_client().get("/manifestos/1").status_code == 404
    finally:
        with small.app_context():
            db.session.remove()
            db.engine.dispose()
