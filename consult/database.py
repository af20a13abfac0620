"""When the database does not answer: which errors say so, this process's log of an outage,
and closing a request's session when its connection died under it.

Requests refused meanwhile are answered "Sorry, the service is unavailable" (503, with
Retry-After) by consult.errors; the engine's settings that make them fail fast instead of
hang are in consult.config.engine_options.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from consult.extensions import db

log = logging.getLogger(__name__)

# The database cannot answer now: stopped or restarting, unreachable, too slow (a statement
# timed out), too busy (no free connection in the pool, SQLite locked). (For SQLite, see
# unavailable(): it reports mistakes in SQL as OperationalError too.)
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
# What SQLite says when it cannot answer now (its extended codes start with these).
SQLITE_UNAVAILABLE = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_FULL",
)


def unavailable(error: BaseException | None) -> bool:
    """Whether the error says the database cannot answer now (try again later), rather
    than that the request is at fault. PostgreSQL's driver keeps mistakes in SQL out of
    OperationalError; SQLite's does not ("no such table", "syntax error"), so for SQLite only
    its codes for busy, locked, unreadable or full count."""
    if not isinstance(error, DATABASE_UNAVAILABLE):
        return False
    cause = getattr(error, "orig", None)
    if isinstance(cause, sqlite3.Error):
        return str(getattr(cause, "sqlite_errorname", "")).startswith(SQLITE_UNAVAILABLE)
    return True


class Outage:
    """This process's log of the database not answering, never with a traceback: a line when
    a request is refused, at most one a minute (each saying how many were refused since the
    last), and a line when a connection is made again after refusals."""

    REPEAT_SECONDS = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0  # requests refused since the last line
        self._down = False  # refused since the last connection was made
        self._logged_at: float | None = None

    def refused(self, error: BaseException) -> None:
        """Note a request refused (or a live stream ended) because the database did not
        answer."""
        with self._lock:
            self._count += 1
            self._down = True
            now = time.monotonic()
            if self._logged_at is not None and now - self._logged_at < self.REPEAT_SECONDS:
                return
            count, self._count, self._logged_at = self._count, 0, now
        log.error(
            "The database is not answering: %s (%d request%s refused since the last line)",
            summary(error),
            count,
            "" if count == 1 else "s",
        )

    def connected(self) -> None:
        """A database connection was made."""
        if not self._down:  # the usual case, without taking the lock
            return
        with self._lock:
            if not self._down:
                return
            count, self._count, self._down = self._count, 0, False
        log.warning("The database answers again (%d more requests refused)", count)


outage = Outage()


@event.listens_for(Engine, "connect")
def _connected(dbapi_connection, connection_record) -> None:
    outage.connected()


def summary(error: BaseException) -> str:
    """The error's first line: its driver's error class and message."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"


def close_session(exc: BaseException | None) -> None:
    """Close the request's database session (before Flask-SQLAlchemy's own teardown does).

    When the database stopped answering after the request's last statement, closing fails:
    the rollback cannot be sent (the server has dropped the transaction anyway). That is no
    reason to fail a request already answered: closing again lets the dead connection go.
    """
    try:
        db.session.remove()
    except DATABASE_UNAVAILABLE as error:
        if not unavailable(error):
            raise
        log.info("The database connection was lost as a request ended: %s", summary(error))
        db.session.remove()
