"""Brokers: how a live event published by one request reaches the streams that are open.

`InProcessBroker` fans out inside one process (development, tests, a single worker).
`RedisBroker` publishes through Redis pub/sub, so every worker process of every server gets
every event: each process holds ONE Redis subscription (a pattern), read by one background
thread that fans messages out to a bounded queue per open stream.

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
from typing import Any

log = logging.getLogger(__name__)

QUEUE_SIZE = 100
RESYNC: dict[str, Any] = {"resync": True}  # queued to wake a stream that must end


class Subscription:
    """One open stream's view of one channel: a bounded queue of messages."""

    def __init__(self, broker: InProcessBroker, channel: str, maxsize: int = QUEUE_SIZE) -> None:
        self.broker = broker
        self.channel = channel
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize)
        self.dropped = 0
        self.needs_resync = False

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
