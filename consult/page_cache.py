"""Whole pages kept rendered between requests, for as long as nothing they show has changed.

The database has a revision (consult/models/revision.py): a token that each transaction of
the app's session that writes replaces, in the same transaction, just before it commits.
What counts as a write is seen where every statement goes, the engine's cursor: any INSERT,
UPDATE or DELETE, from the ORM, Core or text, but to the tables no cached page reads
(UNSEEN). So no service has to say what it changed, and a write that a service forgets to
announce cannot leave a page stale. (A transaction on a connection of its own,
`db.engine.begin()`, gives no new revision: only tests empty the database that way.)

A cached page reads the token first, before anything it shows, and is kept under a key of
that token, the page's address, who is viewing and the minute (pages say "3 minutes left",
and a consultation closes at its time with no write): served again only while all four are
the same. Reading a page again then costs the statements that say who may read it, the
token and the visit; a write anywhere makes every page render anew on its next reading.

What differs between two requests for the same page is kept out of the kept text: the form
token (rendered as a placeholder and put in for each answer), and flashed messages (a
request that has any renders afresh and keeps nothing). Each process keeps its own pages,
the least recently used going first (PAGE_CACHE_SIZE pages; 0 turns the cache off).
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, Response, current_app, g, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import Insert, Table, bindparam, event, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from consult.auth.sessions import CSRF_FIELD
from consult.extensions import db
from consult.fragments import FragmentCache
from consult.models import DataRevision, utcnow

# Tables whose rows no cached page shows: written without changing the revision. A visit is
# written by reading an ask's page (only the dashboard shows visits); the revision's own row.
UNSEEN = frozenset({"ask_visit", "data_revision"})

_WROTE = "consult_wrote"  # in a connection's info: it has written since its last commit
_DML = re.compile(
    r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+\"?(\w+)",
    re.IGNORECASE,
)
_DML_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
# Statements that change no rows.
_READS = ("SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "SHOW", "EXPLAIN")
# Stands for the form token in a kept page: letters and digits, so that neither HTML nor
# JSON escaping changes it; new in each process.
PLACEHOLDER = f"form-token-{secrets.token_hex(16)}"


def writes(statement: str) -> bool:
    """Whether a statement may change rows that a cached page shows (when unsure, yes)."""
    found = _DML.match(statement)
    if found:
        return found.group(1).lower() not in UNSEEN
    head = statement.lstrip()[:9].upper()
    if head.startswith("WITH"):  # a common table expression before a SELECT, or a write
        return _DML_WORD.search(statement) is not None
    return not head.startswith(_READS)


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn: Connection, cursor, statement, parameters, context, executemany) -> None:
    if writes(statement):
        conn.info[_WROTE] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget_write(conn: Connection) -> None:
    conn.info.pop(_WROTE, None)


@event.listens_for(Session, "before_commit")
def _new_revision(session: Session) -> None:
    """The outermost commit of a transaction that wrote gives the database a new revision."""
    if session.get_nested_transaction() is not None or session.get_transaction() is None:
        return
    session.flush()  # what is still pending is written now, and seen
    connection = session.connection()
    if connection.info.get(_WROTE):
        connection.execute(
            _replace_token(connection.dialect.name), {"token": secrets.token_hex(16)}
        )


@functools.cache
def _replace_token(dialect: str) -> Insert:
    """INSERT … ON CONFLICT DO UPDATE of the one row, made once, run as Core: about 0.1 ms
    a comment POST in-process, where the ORM's upsert took 0.7 ms."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, DataRevision.__table__)
    statement = insert(table).values(id=1, token=bindparam("token"))
    return statement.on_conflict_do_update(
        index_elements=[table.c.id], set_={"token": statement.excluded.token}
    )


_TOKEN = select(DataRevision.token).where(DataRevision.id == 1)


def revision() -> str:
    """The database's revision now ("" for an empty database's). Read as Core on the
    session's connection, as every reading of a kept page does: about 70 µs, against 160 µs
    for the same select through the ORM."""
    return db.session.connection().execute(_TOKEN).scalar() or ""


@dataclass(frozen=True)
class Page:
    """A kept page: its text with the placeholder for the form token, and what the view
    needs to know of how it was made (for the ask page, what the reader has now seen)."""

    body: str
    made_with: Any


class PageCache:
    """This process's pages."""

    def __init__(self, capacity: int) -> None:
        self.pages = FragmentCache(capacity) if capacity > 0 else None

    def answer(
        self, key: Hashable, revision: str, render: Callable[[], tuple[Response, Any]]
    ) -> tuple[Response, Any]:
        """The page under key for this request: kept, or rendered by `render` (which gives
        the response and what it was made with) and kept if it answered 200. `revision`
        must have been read before anything the page shows."""
        if (
            self.pages is None
            or "_flashes" in session
            or request.method not in ("GET", "HEAD")
            or request.headers.get("HX-Request") == "true"
        ):
            return render()
        full_key = (
            key,
            revision,
            request.url,
            current_user.get_id(),
            utcnow().replace(second=0, microsecond=0),
        )
        page = self.pages.find(full_key)
        if page is None:
            # generate_csrf() gives back the token it finds in g: every form on the page
            # shows the placeholder.
            setattr(g, CSRF_FIELD, PLACEHOLDER)
            try:
                response, made_with = render()
            finally:
                g.pop(CSRF_FIELD, None)
            body = response.get_data(as_text=True)
            if response.status_code != 200:
                response.set_data(body.replace(PLACEHOLDER, generate_csrf()))
                return response, made_with
            page = Page(body, made_with)
            self.pages.keep(full_key, page)
        answer = make_response(page.body.replace(PLACEHOLDER, generate_csrf()))
        answer.vary.add("HX-Request")
        return answer, page.made_with


def register(app: Flask) -> None:
    app.extensions["consult_pages"] = PageCache(int(app.config["PAGE_CACHE_SIZE"]))


def pages() -> PageCache:
    """This app's pages, in this process."""
    return current_app.extensions["consult_pages"]
