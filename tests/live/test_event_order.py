"""Live event ids of an ask follow commit order, so that a reader's cursor (`after=<id>`,
`latest_ids()`) never passes an event that is still to commit."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select, text

from consult.extensions import db
from consult.live.services import announce
from consult.models import LiveEvent
from tests import factories
from tests.live.helpers import wait_until

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

WAITING_ON_AN_ADVISORY_LOCK = text(
    "SELECT count(*) FROM pg_locks JOIN pg_database ON pg_database.oid = pg_locks.database"
    " WHERE pg_locks.locktype = 'advisory' AND NOT pg_locks.granted"
    " AND pg_database.datname = current_database()"
)


def committed_ids(ask_id: int) -> list[int]:
    """The live event ids of the ask that another session can see now."""
    ids = list(
        db.session.scalars(
            select(LiveEvent.id).where(LiveEvent.ask_id == ask_id).order_by(LiveEvent.id)
        )
    )
    db.session.rollback()  # read afresh next time
    return ids


class Announcer(threading.Thread):
    """announce() in a session of its own; commits when told to (or at once)."""

    def __init__(self, app: Flask, ask_id: int, *, hold: bool) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.ask_id = ask_id
        self.announced = threading.Event()
        self.release = threading.Event()
        self.committed = threading.Event()
        self.event_id: int | None = None
        self.error: BaseException | None = None
        if not hold:
            self.release.set()

    def run(self) -> None:
        try:
            with self.app.app_context():
                self.event_id = announce(ask_id=self.ask_id, name="comment-added", object_id=1)
                self.announced.set()
                if not self.release.wait(10):
                    raise TimeoutError("never released")
                db.session.commit()
                self.committed.set()
                db.session.remove()
        except BaseException as error:  # reported by the test
            self.error = error
            self.announced.set()


def finish(*threads: Announcer) -> None:
    for thread in threads:
        thread.release.set()
        thread.join(10)
        assert not thread.is_alive()
        assert thread.error is None, thread.error


@pytest.mark.postgres
def test_a_second_announcement_on_the_same_ask_waits_for_the_first_to_commit(app, backend, broker):
    if backend != "postgres":
        pytest.skip("SQLite serialises writers: run with --backend=postgres")
    ask = factories.ask(factories.consultation())
    db.session.commit()

    first = Announcer(app, ask.id, hold=True)
    first.start()
    try:
        assert first.announced.wait(10) and first.error is None, first.error
        second = Announcer(app, ask.id, hold=False)
        second.start()

        def waiting() -> bool:
            return bool(db.session.scalar(WAITING_ON_AN_ADVISORY_LOCK))

        # Either the second announcement waits for the first transaction, or (the defect)
        # it is numbered after the first and committed before it.
        assert wait_until(lambda: second.committed.is_set() or waiting(), timeout=10)
        db.session.rollback()
        assert not second.committed.is_set(), (
            f"event {second.event_id} committed before event {first.event_id}"
        )
        assert committed_ids(ask.id) == []
    finally:
        finish(first)
    finish(second)
    assert first.event_id is not None and second.event_id is not None
    assert second.event_id > first.event_id
    assert committed_ids(ask.id) == [first.event_id, second.event_id]


@pytest.mark.postgres
def test_announcements_on_different_asks_do_not_wait_for_each_other(app, backend, broker):
    if backend != "postgres":
        pytest.skip("SQLite serialises writers: run with --backend=postgres")
    consultation = factories.consultation()
    one, other = factories.ask(consultation), factories.ask(consultation)
    db.session.commit()

    first = Announcer(app, one.id, hold=True)
    first.start()
    try:
        assert first.announced.wait(10) and first.error is None, first.error
        second = Announcer(app, other.id, hold=False)
        second.start()
        assert second.committed.wait(10), second.error
        assert committed_ids(other.id) == [second.event_id]
    finally:
        finish(first)
    finish(second)
