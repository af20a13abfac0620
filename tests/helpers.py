"""Helpers the tests import: signing in, audit and database snapshots, test backends,
form data, and the shared test data. (Fixtures and hooks live in the conftest modules,
which nothing imports.)

HTML is read through tests/html.py (CSS selectors over a real parser); the live-update
tests have their own small tests/live/helpers.py.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import Table, event, func, literal, select

from consult import create_app
from consult.comments import services as comment_services
from consult.extensions import db
from consult.models import (
    Ask,
    AuditEvent,
    Comment,
    CommentReport,
    Consultation,
    DraftVersion,
    Organisation,
    User,
    utcnow,
)
from consult.models.audit import APPEND_ONLY_DDL, LIFT_APPEND_ONLY_DDL
from consult.text import COMMENT_RENDERER_VERSION, paragraphs, render_comment
from tests import factories
from tests.factories import PASSWORD

# Backends -----------------------------------------------------------------------------------

# Debian's Chromium, which Playwright drives (it cannot download a browser here).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(reason: str) -> None:
    """Skip the test because a service does not answer; under CI, fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI requires it", pytrace=False)
    pytest.skip(reason)


def postgres_url(name: str) -> str:
    """SQLAlchemy's URL (psycopg 3 driver) for a database on the test PostgreSQL server."""
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def postgres_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


# Apps and clients ---------------------------------------------------------------------------


class FreshContextClient(FlaskClient):
    """A test client whose every request gets its own application context, as in production.

    Tests hold an application context open (to use the database directly); without this,
    requests would reuse it and share `g` (where Flask-Login caches the signed-in person)
    and the test's database session.

    Responses are read whole and closed before they are returned, as a server does once it
    has sent them (work left for after the answer, `after_the_answer`, is done by then);
    streams ask for `buffered=False`.
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            return super().open(*args, **kwargs)


class _MemoryBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app the tests make."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = _MemoryBytecodeCache()


def make_app(config: dict) -> Flask:
    """create_app() for tests, sharing compiled templates between apps."""
    app = create_app(config)
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    app.test_client_class = FreshContextClient
    return app


def empty_database(*, restart_ids: bool = False) -> None:
    """Delete every row of every table, and commit. The audit log's append-only triggers are
    lifted for the delete and put back in the same transaction.

    restart_ids: the next row of each table gets id 1 again, as in a new database (SQLite
    does so by itself once a table is empty; PostgreSQL's sequences are set back)."""
    dialect = db.engine.dialect.name
    deletes = [
        str(table.delete().compile(dialect=db.engine.dialect))
        for table in reversed(db.metadata.sorted_tables)
    ]
    statements = [*LIFT_APPEND_ONLY_DDL[dialect], *deletes, *APPEND_ONLY_DDL[dialect]]
    if restart_ids and dialect == "postgresql":
        statements += [
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), 1, false)"
            for table in db.metadata.sorted_tables
            if "id" in table.columns
        ]
    db.session.remove()
    # Outside the session: an emptied database has no revision (consult/page_cache.py gives
    # one to what the app's session commits).
    with db.engine.begin() as connection:
        if dialect == "postgresql":
            # One round trip for them all (psycopg takes several statements in a text without
            # parameters): about 6 ms a test, against 18 to 27 ms with a round trip each.
            connection.exec_driver_sql(";\n".join(statements))
        else:
            # DELETE is much quicker than TRUNCATE on tables this small.
            for statement in statements:
                connection.exec_driver_sql(statement)


T = TypeVar("T")


class _SQLiteCopy:
    """Every page of an SQLite database, in memory (SQLite's backup API, both ways)."""

    def __init__(self) -> None:
        self.pages = sqlite3.connect(":memory:", check_same_thread=False)
        with db.engine.connect() as connection:
            connection.connection.driver_connection.backup(self.pages)

    def put_back(self) -> None:
        with db.engine.connect() as connection:
            self.pages.backup(connection.connection.driver_connection)


class _PostgresCopy:
    """Every table's rows (COPY, as text) and every id sequence's state, put back into the
    emptied tables in the order of their foreign keys."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, bytes]] = []
        self.sequences: list[tuple[str, int, bool]] = []
        with db.engine.connect() as connection:
            cursor = connection.connection.driver_connection.cursor()
            for table in db.metadata.sorted_tables:
                with cursor.copy(f"COPY {table.name} TO STDOUT") as copy:
                    rows = b"".join(bytes(chunk) for chunk in copy)
                if rows:
                    self.rows.append((table.name, rows))
                if "id" in table.columns:
                    sequence = cursor.execute(
                        "SELECT pg_get_serial_sequence(%s, 'id')", (table.name,)
                    ).fetchone()[0]
                    value, called = cursor.execute(
                        f"SELECT last_value, is_called FROM {sequence}"
                    ).fetchone()
                    self.sequences.append((sequence, value, called))

    def put_back(self) -> None:
        """Into the tables built_once has found empty."""
        with db.engine.begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            for table, rows in self.rows:
                with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    copy.write(rows)
            for sequence, value, called in self.sequences:
                cursor.execute("SELECT setval(%s, %s, %s)", (sequence, value, called))


_built: dict[tuple[str, str], tuple[_SQLiteCopy | _PostgresCopy, Any]] = {}


def built_once(name: str, build: Callable[[], T]) -> T:
    """What `build` makes in an empty test database, made once per test process and put back
    for each later test that asks for `name`: a few milliseconds, where building the rows of
    the larger fixtures took a tenth of a second to two seconds.

    Every database of an engine in a test run has the same tables, made by
    `db.create_all()`, so rows made in the shared test database are put back in a live
    server's SQLite database too (the copies are kept by engine and name).
    `build` returns plain values (ids, tokens), never ORM objects: those belong to one
    test's session. It needs an empty database: it refuses to start when an earlier fixture
    has made rows, which putting the copy back would lose."""
    db.session.commit()
    tables = db.metadata.sorted_tables
    filled = db.session.execute(
        select(*(select(literal(1)).select_from(t).exists() for t in tables))
    )
    made = [table.name for table, has_rows in zip(tables, filled.one(), strict=True) if has_rows]
    assert not made, f"built_once({name!r}) needs an empty database; rows are in {made}"
    db.session.remove()  # nothing loaded before the rows are put back
    key = (db.engine.dialect.name, name)
    if key in _built:
        copy, value = _built[key]
        copy.put_back()
        return value
    value = build()
    db.session.commit()
    _built[key] = (_SQLiteCopy() if key[0] == "sqlite" else _PostgresCopy(), value)
    return value


def signed_in_session(user: User) -> dict[str, Any]:
    """What signing in puts in the session cookie: the person's session token, and when
    they signed in and were last seen (now)."""
    now = int(time.time())
    return {"_user_id": user.session_token, "_fresh": True, "_signed_in_at": now, "_seen_at": now}


def login_as(client: FlaskClient, user: User | None) -> FlaskClient:
    """Sign the client in as user (None: stay anonymous), without the sign-in form."""
    db.session.commit()
    if user is not None:
        with client.session_transaction() as session:
            session.update(signed_in_session(user))
    return client


def is_sign_in_redirect(response) -> bool:
    return response.status_code == 302 and "/sign-in" in response.headers["Location"]


HTMX = {"HX-Request": "true"}

# People -------------------------------------------------------------------------------------

ROLES = ("anonymous", "observer", "member", "other_member", "secretariat")


@dataclass
class People:
    """One person of each role: an observer and a member of one organisation, a member of
    another organisation, and the secretariat."""

    observer: User
    member: User
    other_member: User
    secretariat: User

    def get(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


@dataclass
class PeopleWithColleague(People):
    """The shared people, and a colleague of the member (same organisation)."""

    colleague: User


@dataclass
class Cast:
    """The admin tests' people: the secretariat, a member and an observer of one
    organisation, and a member of another."""

    secretariat_org: Organisation
    member_org: Organisation
    other_org: Organisation
    secretariat: User
    member: User
    observer: User
    other_member: User

    def by_role(self, role: str) -> User | None:
        return {
            "anonymous": None,
            "secretariat": self.secretariat,
            "member": self.member,
            "observer": self.observer,
            "other_member": self.other_member,
        }[role]


# The database -------------------------------------------------------------------------------


def audit_events(action: str | None = None) -> list[AuditEvent]:
    """The audit events (of this action), oldest first."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def audit_count(action: str | None = None) -> int:
    """How many audit events there are (of this action)."""
    query = select(func.count(AuditEvent.id))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return db.session.scalar(query) or 0


def audit_actions() -> list[str]:
    """The actions of every audit event, oldest first."""
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def count(model) -> int:
    """How many rows the model's table has."""
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def consultation_count() -> int:
    return count(Consultation)


def data_tables() -> list[Table]:
    """Every table but the database's revision: not data, but a token that any committed
    write replaces, even one that changed nothing (consult/page_cache.py)."""
    return [table for table in db.metadata.sorted_tables if table.name != "data_revision"]


def database_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as committed, for checking that nothing changed."""
    db.session.rollback()
    db.session.expire_all()
    return {
        table.name: sorted(
            (tuple(map(repr, row)) for row in db.session.execute(table.select())),
        )
        for table in data_tables()
    }


Row = dict[str, str]


def database_by_key() -> dict[str, dict[tuple[Any, ...], Row]]:
    """Every row of every table, as committed: by table, then by primary key, each row as
    {column: repr(value)} (for saying what changed: `database_changes`)."""
    db.session.rollback()
    db.session.expire_all()
    found: dict[str, dict[tuple[Any, ...], Row]] = {}
    for table in data_tables():
        key = [column.name for column in table.primary_key.columns]
        found[table.name] = {
            tuple(row[name] for name in key): {name: repr(value) for name, value in row.items()}
            for row in db.session.execute(table.select()).mappings()
        }
    return found


def database_changes(
    before: dict[str, dict[tuple[Any, ...], Row]], after: dict[str, dict[tuple[Any, ...], Row]]
) -> dict[str, dict[tuple[Any, ...], tuple[Row | None, Row | None]]]:
    """The rows added, changed or deleted between two `database_by_key()` snapshots: by table
    and primary key, (the row before or None, the row after or None)."""
    changes: dict[str, dict[tuple[Any, ...], tuple[Row | None, Row | None]]] = {}
    for name in before.keys() | after.keys():
        old, new = before.get(name, {}), after.get(name, {})
        changed = {
            key: (old.get(key), new.get(key))
            for key in old.keys() | new.keys()
            if old.get(key) != new.get(key)
        }
        if changed:
            changes[name] = changed
    return changes


def asks_snapshot() -> dict:
    """Everything the asks feature may change, as committed in the database."""
    db.session.rollback()
    db.session.expire_all()
    return {
        "asks": db.session.execute(
            select(Ask.id, Ask.title, Ask.theme, Ask.sort_order, Ask.state).order_by(Ask.id)
        ).all(),
        "versions": db.session.execute(
            select(
                DraftVersion.ask_id,
                DraftVersion.number,
                DraftVersion.body,
                DraftVersion.change_note,
            ).order_by(DraftVersion.id)
        ).all(),
        "audit": db.session.scalar(select(func.count()).select_from(AuditEvent)),
    }


def comments_snapshot() -> dict:
    """Everything the comments feature may change, as committed in the database."""
    db.session.rollback()
    db.session.expire_all()
    return {
        "comments": db.session.execute(
            select(
                Comment.id,
                Comment.body,
                Comment.state,
                Comment.edited_at,
                Comment.hidden_reason,
                Comment.resolved_at,
                Comment.resolution,
            ).order_by(Comment.id)
        ).all(),
        "reports": db.session.execute(
            select(CommentReport.id, CommentReport.handled_at).order_by(CommentReport.id)
        ).all(),
        "audit": db.session.scalar(select(func.count()).select_from(AuditEvent)),
    }


# Consultations, asks and comments -----------------------------------------------------------

V1 = "The council should act.\n\nEvery party commits to net zero.\n\n- Homes\n- Transport"
V2 = "The council must act now.\n\nEvery party commits to net zero.\n\n- Homes\n- Transport"

# Wording that tries every way into the page: shown as text everywhere.
XSS_WORDING = (
    "Safe opening paragraph.\n\n"
    "<script>alert('wording')</script>\n\n"
    "An image <img src=x onerror=alert(1)> in a paragraph.\n\n"
    'A [link](javascript:alert(1)) and <a href="javascript:alert(2)">raw</a>.\n\n'
    '<div hx-get="/evil" hx-trigger="load">htmx payload</div>'
)


def published_consultation(**fields) -> Consultation:
    return factories.consultation(published_at=utcnow(), **fields)


def consultation_form(**overrides) -> dict:
    """A valid consultation form: 1 July 2030 09:00 to 31 July 2030 17:00, UK time."""
    data = {
        "title": "Net zero by 2040",
        "summary": "A round of review of the *energy* asks.",
        "opens_date": ["1", "7", "2030"],
        "opens_time": "09:00",
        "closes_date": ["31", "7", "2030"],
        "closes_time": "17:00",
        "quorum_percent": "60",
        "threshold_percent": "80",
        "objection_blocks": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def anchors(ask: Ask) -> list[str]:
    """The anchors of the paragraphs of the ask's current version."""
    return [p.anchor for p in paragraphs(ask.current_version.body)]


def comment(author: User, ask: Ask, body: str = "A comment.", **fields) -> Comment:
    """A comment made through the service (flushed, not committed)."""
    made, _ = comment_services.add_comment(author=author, ask=ask, body=body, **fields)
    return made


def stale_comment_html() -> list[int]:
    """The comments (ids) whose stored HTML is not what rendering their body and response now
    gives, or was made by another renderer: a write that forgot them."""
    db.session.flush()
    rows = db.session.execute(
        select(
            Comment.id,
            Comment.body,
            Comment.body_html,
            Comment.resolution,
            Comment.resolution_html,
            Comment.body_html_version,
        ).order_by(Comment.id)
    )
    return [
        row.id
        for row in rows
        if row.body_html != str(render_comment(row.body))
        or row.resolution_html
        != (None if row.resolution is None else str(render_comment(row.resolution)))
        or row.body_html_version != COMMENT_RENDERER_VERSION
    ]


# Signing in through the forms ---------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="[^"]*"|"X-CSRFToken": "[^"]*"')


def sign_in(
    client: FlaskClient, email: str, password: str = PASSWORD, next: str | None = None, **environ
):
    """Post the sign-in form, as a browser would."""
    query = {"next": next} if next is not None else None
    return client.post(
        "/sign-in", query_string=query, data={"email": email, "password": password}, **environ
    )


def without_csrf(html: str) -> str:
    """The page with its per-session CSRF tokens blanked out, for comparing two pages."""
    return _CSRF.sub("csrf", html)


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("consult_session", domain="consult.test")
    assert cookie is not None, "no session cookie"
    return cookie.value


def is_signed_in(client: FlaskClient) -> bool:
    """True if the client's session opens the account page; False if it is sent to sign in."""
    response = client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    return False


# Browser journeys ---------------------------------------------------------------------------


@dataclass
class LiveServer:
    app: Flask
    url: str


_axe = None


def assert_accessible(page) -> None:
    """axe-core with the WCAG 2.2 AA rule tags reports no violations on this page.

    It waits for the page's load event first: run before the stylesheet has loaded, axe
    measures unstyled links (target-size) on a busy machine."""
    page.wait_for_load_state("load")
    global _axe
    if _axe is None:
        from axe_playwright_python.sync_playwright import Axe

        _axe = Axe()
    results = _axe.run(
        page,
        options={
            "runOnly": {
                "type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
            }
        },
    )
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def sql_during(action: Callable[[], Any]) -> list[str]:
    """The SQL statements `action` ran, in order: those of this thread only. (Other threads
    use the same engine: the live events' database broker polls from its own thread, and its
    statements, counted by chance, were the "intermittent extra statement" on busy runs.)"""
    statements: list[str] = []
    mine = threading.get_ident()

    def keep(conn, cursor, statement, *args) -> None:
        if threading.get_ident() == mine:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return statements


class StatementCount(int):
    """A number of SQL statements that remembers them: when two counts differ in an
    assertion, pytest shows both lists (an intermittent extra statement has been seen on
    the ask page; this says which one it is when it happens)."""

    statements: list[str]

    def __new__(cls, statements: list[str]) -> StatementCount:
        count = super().__new__(cls, len(statements))
        count.statements = statements
        return count

    def __repr__(self) -> str:
        shown = "\n  ".join(" ".join(s.split())[:200] for s in self.statements)
        return f"{len(self.statements)} statements:\n  {shown}\n"


def statements_during(action: Callable[[], Any]) -> StatementCount:
    """How many SQL statements the database ran while `action` ran."""
    return StatementCount(sql_during(action))


def statements_for_page(client: FlaskClient, url: str) -> StatementCount:
    """How many SQL statements a GET of this page ran (it must answer 200)."""
    responses = []
    count = statements_during(lambda: responses.append(client.get(url)))
    assert responses[0].status_code == 200, responses[0].status_code
    return count


@dataclass
class Delegates:
    """A delegate of the member's organisation, one of the other member's, and a third
    organisation taking part with its own delegate (the `delegates` fixture)."""

    home: User
    other: User
    third: User
    third_org: Organisation


# The headers every response carries (consult/security.py).
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
    "Cross-Origin-Opener-Policy",
    "Permissions-Policy",
)


def at_once(send: Callable[[int], Any], times: int) -> list[Any]:
    """Call send(0) ... send(times - 1) from `times` threads released together (a burst of
    requests arriving at the same moment); their results in order. Each test-client request
    gets its own application context (FreshContextClient), as under a threaded server."""
    barrier = threading.Barrier(times)

    def one(n: int) -> Any:
        barrier.wait(timeout=30)
        return send(n)

    with ThreadPoolExecutor(times) as pool:
        return list(pool.map(one, range(times), timeout=120))
