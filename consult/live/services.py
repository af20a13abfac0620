"""announce(): record a live event in the current transaction; publish it after commit.

Posting never depends on the push channel: the event row is saved with the change, and if
publishing fails the pages catch up from the database when they reconnect.

The ids of one ask's events follow commit order. Pages read "the events after id N" (the
stream's Last-Event-ID, the changes fetch's `after=`, `latest_ids()`), so an event numbered
before another but committed after it would never be read. On PostgreSQL announce() takes a
transaction-level advisory lock on the ask before the row is numbered: a second transaction
announcing on the same ask waits until the first commits or rolls back, and so is numbered
after it. Ids of different asks are not ordered by commit (see DatabaseBroker).
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import Table, delete, func, insert, select, text

from consult.extensions import db
from consult.live.broker import channel_for
from consult.models import LiveEvent
from consult.transactions import after_commit

log = logging.getLogger(__name__)

# pg_advisory_xact_lock(key1, key2): key1 says whose lock it is ("live" in ASCII), key2 the ask.
ADVISORY_LOCK_NAMESPACE = 0x6C697665


# An event is a row appended and never read back by the request that writes it: one Core
# INSERT, as an audit event is (consult.audit).
_table: Table = LiveEvent.__table__  # type: ignore[assignment]
_INSERT = insert(_table).returning(_table.c.id)


def announce(*, ask_id: int, name: str, object_id: int | None) -> int:
    """Record that something changed on an ask's page; it is published once committed.
    Returns the event's id (the SSE id)."""
    _wait_for_earlier_announcements(ask_id)
    event_id = (
        db.session.connection()
        .execute(_INSERT, {"ask_id": ask_id, "name": name, "object_id": object_id})
        .scalar_one()
    )
    message = {"id": event_id, "name": name, "object_id": object_id}
    after_commit(functools.partial(_publish, channel_for(ask_id), message))
    return event_id


def _wait_for_earlier_announcements(ask_id: int) -> None:
    """Hold the ask's announcement lock until this transaction ends (PostgreSQL).

    SQLite needs none: it has one writer at a time, and a transaction holds the write lock
    from its first write (the change being announced, or this event's row) to its commit, so
    ids are always taken in commit order there.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :ask_id)"),
            {"namespace": ADVISORY_LOCK_NAMESPACE, "ask_id": ask_id},
        )


def _publish(channel: str, message: dict) -> None:
    broker = current_app.extensions.get("consult_broker")
    if broker is None:
        return
    try:
        broker.publish(channel, message)
    except Exception:  # the push channel is down: pages catch up on reconnect
        log.exception("Could not publish live event %s", message)


# How many live events the scheduled command deletes in one transaction.
PRUNE_BATCH = 5_000


def prune(*, older_than: datetime, limit: int | None = None) -> int:
    """Delete the live events made before `older_than`, oldest first, at most `limit` of them
    (None: all); returns how many.

    Always a run of the lowest ids (kept events are every id from the oldest kept one up),
    so `cursor_expired()` can tell from the oldest id alone whether a page may have missed
    something. The newest event is always kept: SQLite numbers a new row after the highest
    id left, and ids must never go back to where a page's cursor already is.

    Reads along the primary key from the oldest event to the first one kept, within the ids
    it may delete (a batch reads at most `limit` rows): the events kept are never scanned."""
    oldest = db.session.scalar(select(func.min(LiveEvent.id)))
    newest = db.session.scalar(select(func.max(LiveEvent.id)))
    if oldest is None or newest is None:
        return 0
    end = newest if limit is None else min(newest, oldest + limit)
    first_kept = db.session.scalar(
        select(LiveEvent.id)
        .where(LiveEvent.id < end, LiveEvent.created_at >= older_than)
        .order_by(LiveEvent.id)
        .limit(1)
    )
    boundary = end if first_kept is None else first_kept
    result = db.session.execute(delete(LiveEvent).where(LiveEvent.id < boundary))
    return int(getattr(result, "rowcount", 0) or 0)


def cursor_expired(cursor: int | str | None) -> bool:
    """Whether a page whose last live event was `cursor` may have missed events that have
    since been pruned: it must reload rather than catch up. (A page that has seen none, 0,
    catches up with whatever is kept.)"""
    if isinstance(cursor, str):
        cursor = int(cursor) if cursor.isascii() and cursor.isdigit() and len(cursor) < 19 else 0
    if not cursor:
        return False
    oldest = db.session.scalar(select(func.min(LiveEvent.id)))
    # Every id from `oldest` up is kept; ids between the cursor and it may have been events.
    return oldest is not None and cursor < oldest - 1
