"""Brokers: how a live event published by one request reaches the streams that are open.

`RedisBroker` publishes through Redis pub/sub, so every worker process of every server gets
every event: each process holds ONE Redis subscription (a pattern), read by one background
thread that fans messages out to a bounded queue per open stream. The recommended path.
`DatabaseBroker` is for when there is no Redis: each process watches the live-event table
with ONE background thread (an indexed query about every LIVE_POLL_SECONDS), so several
workers still reach every open page.
`InProcessBroker` fans out inside one process only; it is used when configured explicitly
(LIVE_BROKER=memory: tests, or a server known to run a single process).

Both work with threads (werkzeug's threaded server) and with gevent (gunicorn's gevent workers
patch `threading`, `queue` and `socket` before the app is imported, so the reader "thread" is a
greenlet and a waiting stream yields to the others).

A subscription can ask its stream to end (`needs_resync`): when its queue overflowed, or when
Redis was unreachable while it was open. The browser then reconnects with `Last-Event-ID` and
the stream replays what was missed from the database.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from consult.config import ConfigError
from consult.extensions import db
from consult.models import LiveEvent

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

QUEUE_SIZE = 100
RESYNC: dict[str, Any] = {"resync": True}  # queued to wake a stream that must end
WAKE: dict[str, Any] = {"wake": True}  # queued to wake a stream to look at its state
TICK: dict[str, Any] = {"tick": True}  # queued at each heartbeat: the stream sends a ping


def channel_for(ask_id: int) -> str:
    """The broker channel of one ask's page."""
    return f"ask:{ask_id}"


class Subscription:
    """One open stream's view of one channel: a bounded queue of messages."""

    def __init__(self, broker: InProcessBroker, channel: str, maxsize: int = QUEUE_SIZE) -> None:
        self.broker = broker
        self.channel = channel
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize)
        self.dropped = 0
        self.needs_resync = False
        self.tick_pending = False  # a TICK is queued and not yet taken

    def get(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message, or None when none arrives within `timeout` seconds."""
        try:
            return self.queue.get(timeout=timeout if timeout is None else max(timeout, 0))
        except queue.Empty:
            return None

    def deliver(self, message: dict[str, Any]) -> bool:
        """Queue a message; a full queue drops it and asks the stream to resync."""
        try:
            self.queue.put_nowait(message)
            return True
        except queue.Full:
            self.dropped += 1
            self.resync()
            return False

    def resync(self) -> None:
        """Ask the stream to end so that the browser reconnects and catches up."""
        self.needs_resync = True
        try:  # wake the stream up at once (a full queue wakes it anyway)
            self.queue.put_nowait(RESYNC)
        except queue.Full:
            pass

    def wake(self) -> None:
        """Wake the stream at once (its session no longer stands): it looks at why."""
        try:
            self.queue.put_nowait(WAKE)
        except queue.Full:
            pass  # a full queue wakes it anyway

    def tick(self) -> None:
        """A heartbeat: the stream sends a ping (one TICK queued at most, so a stream whose
        reader is slow does not fill its queue with them)."""
        if self.tick_pending:
            return
        self.tick_pending = True
        try:
            self.queue.put_nowait(TICK)
        except queue.Full:
            self.tick_pending = False  # a full queue wakes it anyway

    def close(self) -> None:
        self.broker.unsubscribe(self)


class InProcessBroker:
    """Fan-out between the requests of one process; thread- and greenlet-safe."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._lock = threading.Lock()
        self._subscriptions: dict[str, set[Subscription]] = {}

    def subscribe(self, channel: str) -> Subscription:
        """Start receiving what is published on `channel`."""
        subscription = Subscription(self, channel, self.queue_size)
        with self._lock:
            self._subscriptions.setdefault(channel, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop receiving; unsubscribing twice is harmless."""
        with self._lock:
            subscribers = self._subscriptions.get(subscription.channel)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscriptions[subscription.channel]

    def publish(self, channel: str, message: dict[str, Any]) -> int:
        """Give a message to every local subscriber of `channel`; returns how many took it."""
        with self._lock:
            subscribers = list(self._subscriptions.get(channel, ()))
        return sum(subscription.deliver(message) for subscription in subscribers)

    def resync_all(self) -> None:
        """Ask every open stream to end and catch up (messages may have been lost)."""
        with self._lock:
            subscribers = [s for group in self._subscriptions.values() for s in group]
        for subscription in subscribers:
            subscription.resync()

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(group) for group in self._subscriptions.values())

    def close(self) -> None:
        """Nothing to release."""


class RedisBroker:
    """Fan-out between processes through Redis pub/sub.

    publish() is a PUBLISH with short timeouts and no retries: it raises when Redis is away
    (announce() logs it; the comment is saved regardless). Each process has one pub/sub
    connection (PSUBSCRIBE "<prefix>ask:*"), opened by a daemon thread started on the first
    subscribe(); it reconnects with backoff for as long as the process lives.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "consult:",
        queue_size: int = QUEUE_SIZE,
        publish_timeout: float = 1.0,
        pattern: str = "ask:*",
        ready_timeout: float = 2.0,
    ) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = url
        self.prefix = prefix
        self.pattern = prefix + pattern
        self.reader_name = f"{prefix}live-reader"  # as Redis's CLIENT LIST shows it
        self.ready_timeout = ready_timeout
        self.local = InProcessBroker(queue_size)
        self._redis = redis
        self._no_retry = lambda: Retry(NoBackoff(), 0)
        self._publisher = redis.Redis.from_url(
            url,
            socket_timeout=publish_timeout,
            socket_connect_timeout=publish_timeout,
            retry=self._no_retry(),
            health_check_interval=30,
        )
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._started_at = 0.0
        self._stop = threading.Event()
        self.connected = threading.Event()

    # Publishing ------------------------------------------------------------------------

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """PUBLISH the message as JSON on the prefixed channel; raises if Redis is away."""
        self._publisher.publish(self.prefix + channel, json.dumps(message))

    # Subscribing -----------------------------------------------------------------------

    def subscribe(self, channel: str) -> Subscription:
        """Start receiving `channel`; the first call starts this process's reader thread
        and waits (briefly) until Redis has confirmed the pattern subscription."""
        started_at = self._ensure_reader()
        wait = started_at + self.ready_timeout - time.monotonic()
        if wait > 0:
            self.connected.wait(wait)
        # If Redis is away the stream still opens (and sends heartbeats): it is asked to
        # resync as soon as the reader is subscribed again.
        return self.local.subscribe(channel)

    def unsubscribe(self, subscription: Subscription) -> None:
        self.local.unsubscribe(subscription)

    def subscriber_count(self) -> int:
        return self.local.subscriber_count()

    def _ensure_reader(self) -> float:
        """Start the reader thread unless it runs; returns when it was started."""
        with self._lock:
            if self._reader is None or not self._reader.is_alive():
                self._stop.clear()
                self._reader = threading.Thread(
                    target=self._run, name="consult-live-redis", daemon=True
                )
                self._started_at = time.monotonic()
                self._reader.start()
            return self._started_at

    def _run(self) -> None:
        """Read the pattern subscription for ever, reconnecting with backoff."""
        backoff = 0.1
        first = True
        while not self._stop.is_set():
            client = pubsub = None
            try:
                client = self._redis.Redis.from_url(
                    self.url,
                    socket_connect_timeout=2,
                    socket_keepalive=True,
                    retry=self._no_retry(),
                    health_check_interval=15,
                    client_name=self.reader_name,
                )
                pubsub = client.pubsub()
                pubsub.psubscribe(self.pattern)
                while not self._stop.is_set():
                    item = pubsub.get_message(timeout=0.25)  # also how soon close() is noticed
                    if item is None:
                        continue
                    kind = item["type"]
                    if kind == "psubscribe":
                        # Whatever was published while no subscription was confirmed is lost
                        # to the open streams: they end and replay it from the database.
                        self.local.resync_all()
                        self.connected.set()
                        backoff = 0.1
                        log.info("Live events: subscribed to Redis %s", self.pattern)
                    elif kind == "pmessage":
                        self._dispatch(item["channel"], item["data"])
            except Exception as error:  # Redis went away (or never answered): retry
                if self.connected.is_set() or first:
                    log.warning("Live events: no Redis subscription (%s); retrying", error)
                else:
                    log.debug("Live events: Redis still unavailable (%s)", error)
            finally:
                first = False
                self.connected.clear()
                for closable in (pubsub, client):
                    if closable is not None:
                        try:
                            closable.close()
                        except Exception:
                            pass
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def _dispatch(self, raw_channel: bytes | str, raw_data: bytes | str) -> None:
        channel = raw_channel.decode() if isinstance(raw_channel, bytes) else raw_channel
        try:
            message = json.loads(raw_data)
        except (TypeError, ValueError):
            log.warning("Live events: ignored a malformed message on %s", channel)
            return
        self.local.publish(channel[len(self.prefix) :], message)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the reader thread and close the connections (tests, shutdown)."""
        self._stop.set()
        reader = self._reader
        if reader is not None:
            reader.join(timeout)
        self._reader = None
        self._publisher.close()


class DatabaseBroker:
    """Fan-out between processes through the live-event table, for when there is no Redis.

    publish() gives the message to this process's streams at once; every process (this one
    included) also has ONE watcher, a daemon thread (a greenlet under gevent) started by the
    first subscribe() and stopped once no stream has been open for `idle_seconds`. About
    every `poll_seconds` it runs one query on the primary key,

        SELECT id, ask_id, name, object_id FROM live_event WHERE id > :low ORDER BY id LIMIT n

    and hands each event it has not delivered yet to the local streams of its ask. Database
    errors are logged and retried with backoff; the cursor is in the table, so nothing
    committed meanwhile is lost.

    How far it has read: ids of one ask follow commit order (announce() locks the ask), but
    ids of different asks do not: event 10 (ask A) may commit after event 11 (ask B). So the
    watcher cannot simply remember the highest id it has read. It remembers:

    - `top`, the highest id read;
    - the ids at or below `top` that it has not read (`gaps`), each with when it was first
      missed: an event still to commit, or a number a rolled-back transaction used up;
    - the ids above `low` already delivered (`seen`), whether read or published here.

    It reads from `low` = just below the oldest gap (or `top` when there is none) and skips
    what it has seen, so a late commit fills its gap and is delivered exactly once. A gap
    is given up after `gap_seconds` (longer than any request that announces takes), so
    numbers lost to rollbacks stop holding `low` back. This was preferred to reading a fixed
    number of ids behind (which misses a transaction slower than the window, or rereads
    for nothing) and to a cursor per ask (which cannot see a new ask's first event without
    reading everything). At start it reads the current max id and the ids of the last
    `start_window` numbers below it, so an event still committing then is not lost. When
    nothing new arrives it checks now and then (`check_seconds`) that the highest id has
    not gone back (a database emptied or restored), and if so starts again.

    publish() and the watcher both note the ids they have given to local streams (the last
    MAX_GAPS of them), so each event reaches a stream of this process once.
    """

    MAX_GAPS = 1000

    def __init__(
        self,
        engine: Callable[[], Engine],
        *,
        poll_seconds: float = 0.5,
        batch: int = 500,
        gap_seconds: float = 60.0,
        idle_seconds: float = 60.0,
        start_window: int = 1000,
        check_seconds: float = 10.0,
        queue_size: int = QUEUE_SIZE,
        ready_timeout: float = 2.0,
    ) -> None:
        self._engine_factory = engine
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.gap_seconds = gap_seconds
        self.idle_seconds = idle_seconds
        self.start_window = start_window
        self.check_seconds = check_seconds
        self.ready_timeout = ready_timeout
        self.local = InProcessBroker(queue_size)
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self.ready = threading.Event()  # the watcher has read where the table starts
        self.polls = 0  # completed polls (tests wait on it)
        self.errors = 0  # failed ones
        self._low = 0
        self._top = 0
        self._seen: set[int] = set()
        self._delivered: dict[int, None] = {}  # the latest ids given to local streams, in order
        self._checked_at = 0.0  # when the watcher last checked that ids had not gone back
        self._gaps: dict[int, float] = {}

    # Publishing ------------------------------------------------------------------------

    def publish(self, channel: str, message: dict[str, Any]) -> int:
        """Give a committed event to this process's streams now (other processes read it
        from the table); returns how many streams took it."""
        event_id = message.get("id")
        with self._lock:
            if self.ready.is_set() and isinstance(event_id, int):
                if event_id in self._delivered:
                    return 0  # the watcher was quicker
                self._seen.add(event_id)
                self._gaps.pop(event_id, None)
                self._remember(event_id)
        return self.local.publish(channel, message)

    # Subscribing -----------------------------------------------------------------------

    def subscribe(self, channel: str) -> Subscription:
        """Start receiving `channel`; the first call starts this process's watcher and waits
        (briefly) until it has read where the table starts."""
        with self._lock:
            if self._watcher is None:
                self._stop.clear()
                self.ready.clear()
                self._watcher = threading.Thread(
                    target=self._run, name="consult-live-database", daemon=True
                )
                self._watcher.start()
            subscription = self.local.subscribe(channel)
        self.ready.wait(self.ready_timeout)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.local.unsubscribe(subscription)

    def subscriber_count(self) -> int:
        return self.local.subscriber_count()

    @property
    def watching(self) -> bool:
        """Whether this process's watcher is running."""
        with self._lock:
            return self._watcher is not None

    def close(self, timeout: float = 5.0) -> None:
        """Stop the watcher (tests, shutdown)."""
        self._stop.set()
        with self._lock:
            watcher = self._watcher
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(timeout)

    # The watcher -----------------------------------------------------------------------

    def _run(self) -> None:
        table = LiveEvent.__table__
        backoff = self.poll_seconds
        failing = False
        idle_since: float | None = None
        engine: Engine | None = None
        try:
            while not self._stop.is_set():
                try:
                    if engine is None:
                        engine = self._engine_factory()
                    with engine.connect() as connection:
                        if not self.ready.is_set():
                            self._start(connection, table)
                            self.ready.set()
                            log.info("Live events: watching the database after id %s", self._top)
                        if not self._poll(connection, table) and self._ids_went_back(
                            connection, table
                        ):
                            log.warning("Live events: ids start again lower; reading afresh")
                            self._start(connection, table)
                    self.polls += 1
                    if failing:
                        log.info("Live events: reading the database again")
                    failing = False
                    backoff = self.poll_seconds
                except Exception as error:  # the database is away: try again later
                    self.errors += 1
                    if not failing:
                        log.warning("Live events: cannot read live events (%s); retrying", error)
                    failing = True
                    backoff = min(max(backoff, self.poll_seconds) * 2, 5.0)
                with self._lock:
                    if self.local.subscriber_count():
                        idle_since = None
                    elif idle_since is None:
                        idle_since = time.monotonic()
                    elif time.monotonic() - idle_since >= self.idle_seconds:
                        self._watcher = None  # the next subscribe() starts another
                        self.ready.clear()
                        return
                self._stop.wait(backoff if failing else self.poll_seconds)
        finally:
            with self._lock:
                if self._watcher is threading.current_thread():
                    self._watcher = None
                    self.ready.clear()

    def _remember(self, event_id: int) -> None:
        """Note an id given to the local streams (the lock is held)."""
        self._delivered[event_id] = None
        if len(self._delivered) > self.MAX_GAPS:
            del self._delivered[next(iter(self._delivered))]

    def _start(self, connection: Any, table: Any) -> None:
        """Where to read from: just after the newest event, minding recent missing ids."""
        top = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        low = max(top - self.start_window, 0)
        recent = set(connection.execute(select(table.c.id).where(table.c.id > low)).scalars().all())
        now = time.monotonic()
        with self._lock:
            self._top = top
            self._seen = recent
            self._delivered.clear()
            self._checked_at = now
            self._gaps = {i: now for i in range(low + 1, top + 1) if i not in recent}
            self._low = min(self._gaps) - 1 if self._gaps else top

    def _ids_went_back(self, connection: Any, table: Any) -> bool:
        """Whether the table's highest id is now below what was read (the database was
        emptied or restored); checked every `check_seconds` while nothing new arrives."""
        now = time.monotonic()
        if now - self._checked_at < self.check_seconds:
            return False
        self._checked_at = now
        newest = connection.execute(select(func.max(table.c.id))).scalar_one()
        return (newest or 0) < self._top

    def _poll(self, connection: Any, table: Any) -> int:
        """Read the events after `low` and deliver those not delivered yet; returns how many
        rows it read."""
        after = self._low
        deliveries: list[tuple[str, dict[str, Any]]] = []
        read = 0
        while True:
            rows = connection.execute(
                select(table.c.id, table.c.ask_id, table.c.name, table.c.object_id)
                .where(table.c.id > after)
                .order_by(table.c.id)
                .limit(self.batch)
            ).all()
            read += len(rows)
            now = time.monotonic()
            with self._lock:
                for event_id, ask_id, name, object_id in rows:
                    if event_id > self._top:
                        missing = range(max(self._top + 1, event_id - self.MAX_GAPS), event_id)
                        for i in missing:
                            if i not in self._seen:
                                self._gaps[i] = now
                        self._top = event_id
                    self._gaps.pop(event_id, None)
                    if event_id in self._seen or event_id <= self._low:
                        continue
                    self._seen.add(event_id)
                    self._remember(event_id)
                    message = {"id": event_id, "name": name, "object_id": object_id}
                    deliveries.append((channel_for(ask_id), message))
            if len(rows) < self.batch:
                break
            after = rows[-1][0]
        with self._lock:
            expired = now - self.gap_seconds
            self._gaps = {i: t for i, t in self._gaps.items() if t > expired}
            if len(self._gaps) > self.MAX_GAPS:
                self._gaps = dict(sorted(self._gaps.items())[-self.MAX_GAPS :])
            self._low = min(self._gaps) - 1 if self._gaps else self._top
            self._seen = {i for i in self._seen if i > self._low}
        for channel, message in deliveries:
            self.local.publish(channel, message)
        return read


def for_app(app: Flask) -> InProcessBroker | RedisBroker | DatabaseBroker:
    """The broker LIVE_BROKER names: Redis when REDIS_URL is set, else the database, unless
    `memory` (one process only) is asked for."""
    kind = app.config.get("LIVE_BROKER") or ("redis" if app.config.get("REDIS_URL") else "database")
    if kind == "memory":
        return InProcessBroker()
    if kind == "redis":
        if not app.config.get("REDIS_URL"):
            raise ConfigError("LIVE_BROKER=redis needs REDIS_URL.")
        return RedisBroker(app.config["REDIS_URL"], prefix=app.config["LIVE_CHANNEL_PREFIX"])

    def engine() -> Engine:
        with app.app_context():
            return db.engine

    return DatabaseBroker(engine, poll_seconds=float(app.config.get("LIVE_POLL_SECONDS", 0.5)))
