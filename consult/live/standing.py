"""Whether the sessions of this process's open event streams still stand: ONE query per
heartbeat for all of them, rather than one per stream; and the heartbeat itself.

Each open stream registers its person's session token and when the session would end
(`SessionWatch.watch`). One background thread per process (a greenlet under gevent, which
patches `threading`, as the broker's reader is), started by the first stream and gone once
none is open, asks the database every LIVE_HEARTBEAT_SECONDS which of the distinct tokens
still stand (`consult.auth.services.sessions_that_stand`: person_for_session's rule, for a
set of tokens) and ends the streams whose session does not: signed out, password changed,
deactivated. It wakes them at once (`wake`, which puts a message in the stream's queue), so
such a stream ends within a heartbeat of the change.

When the database does not answer that query, every open stream ends (their sessions cannot
be confirmed), and the browsers' reconnections are answered 503 until it does. Any other
error of the query ends them too, and is logged.

A session's end in time needs no query: the stream compares it with the clock itself
(`Watched.stands`).

The same thread paces the streams' heartbeats: at each one it first wakes every stream to
send its `: ping` (`tick`), then checks. A stream thus waits for its next message without a
timer of its own (a gevent timer, made and cancelled for each message of each stream, cost
more than the rest of the wait); it notices its LIVE_STREAM_SECONDS and its session's end
when it wakes, so at most a heartbeat late.

Before this, each stream ran its own query, in an application context and a database
session of its own, at each of its heartbeats: with 2,000 open streams, about three
quarters of the servers' CPU and a churning connection pool (issue 12).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from consult import database
from consult.auth import services
from consult.database import DATABASE_UNAVAILABLE

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

SIGNED_OUT = "signed-out"  # the session no longer stands
UNAVAILABLE = "unavailable"  # the database did not answer the check
FAILED = "failed"  # the check failed otherwise


class Watched:
    """One open stream's session. `ended` stays None while the session stands; the watch sets
    it (SIGNED_OUT, UNAVAILABLE or FAILED) and wakes the stream."""

    def __init__(
        self,
        watch: SessionWatch,
        token: str | None,
        ends: float | None,
        wake: Callable[[], None],
        tick: Callable[[], None],
    ) -> None:
        self._watch = watch
        self.token = token
        self.ends = ends
        self._wake = wake
        self.tick = tick
        self.ended: str | None = None
        self.error: BaseException | None = None  # why the check failed, when it did

    def stands(self) -> bool:
        """Whether the stream may go on: not ended by the watch, not past its time. No query."""
        return (
            self.ended is None
            and isinstance(self.token, str)
            and self.ends is not None
            and time.time() < self.ends
        )

    def end(self, reason: str, error: BaseException | None = None) -> None:
        if self.ended is None:
            self.ended = reason
            self.error = error
        self._wake()

    def close(self) -> None:
        """The stream has ended: stop watching (twice is harmless)."""
        self._watch._forget(self)


class SessionWatch:
    """This process's open streams' sessions, checked together."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._watched: set[Watched] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._heartbeat = 0.0  # the running thread's LIVE_HEARTBEAT_SECONDS
        self.checks = 0  # queries run (tests count them)

    def watch(
        self,
        token: str | None,
        ends: float | None,
        wake: Callable[[], None],
        tick: Callable[[], None] = lambda: None,
    ) -> Watched:
        """Watch a stream's session from now on; `wake` wakes the stream when it must end,
        `tick` at each heartbeat."""
        watched = Watched(self, token, ends, wake, tick)
        heartbeat = float(self.app.config.get("LIVE_HEARTBEAT_SECONDS", 15))
        with self._lock:
            self._watched.add(watched)
            if (
                self._thread is None
                or self._stop.is_set()
                or not self._thread.is_alive()
                or heartbeat != self._heartbeat
            ):
                # None running; or one told to stop (close()) that has not ended yet; or one
                # keeping another heartbeat (the setting changed: tests): a new thread, with a
                # stop of its own, so that this stream has its heartbeats as set.
                self._stop.set()  # the one running, if any, ends at once
                self._stop = threading.Event()
                self._heartbeat = heartbeat
                self._thread = threading.Thread(
                    target=self._run,
                    args=(self._stop, heartbeat),
                    name="consult-live-sessions",
                    daemon=True,
                )
                self._thread.start()
        return watched

    def _forget(self, watched: Watched) -> None:
        with self._lock:
            self._watched.discard(watched)

    def count(self) -> int:
        with self._lock:
            return len(self._watched)

    def check(self) -> int:
        """Check every watched session now, in one query; end the streams whose session no
        longer stands. Returns how many were ended."""
        with self._lock:
            watched = list(self._watched)
        tokens = {w.token for w in watched if isinstance(w.token, str) and w.ended is None}
        if not tokens:
            return 0
        try:
            with self.app.app_context():  # its database session is removed as it closes
                standing = services.sessions_that_stand(tokens)
        except DATABASE_UNAVAILABLE as error:
            reason = UNAVAILABLE if database.unavailable(error) else FAILED
            if reason == UNAVAILABLE:
                # The browsers reconnect, and are answered 503 until the database is back.
                database.outage.refused(error)
            else:
                log.exception("Live events: the session check failed; ending the streams")
            return self._end(watched, reason, error)
        except Exception as error:
            log.exception("Live events: the session check failed; ending the streams")
            return self._end(watched, FAILED, error)
        finally:
            self.checks += 1
        return self._end([w for w in watched if w.token not in standing], SIGNED_OUT)

    @staticmethod
    def _end(watched: list[Watched], reason: str, error: BaseException | None = None) -> int:
        ended = 0
        for one in watched:
            if one.ended is None:
                one.end(reason, error)
                ended += 1
        return ended

    def tick(self) -> None:
        """A heartbeat: wake every stream to send its ping."""
        with self._lock:
            watched = list(self._watched)
        for one in watched:
            try:
                one.tick()
            except Exception:  # never let one stream stop the others' heartbeats
                log.exception("Live events: a stream's heartbeat failed")

    def _run(self, stop: threading.Event, heartbeat: float) -> None:
        """Every `heartbeat` seconds while a stream is open: the heartbeat, then the check;
        then stop."""
        try:
            while not stop.wait(heartbeat):
                with self._lock:
                    if not self._watched:
                        if self._thread is threading.current_thread():
                            self._thread = None  # the next watch() starts another
                        return
                self.tick()
                self.check()
        finally:
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread (tests, shutdown)."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
