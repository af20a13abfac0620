"""Brokers: fan-out in one process, and through Redis between processes."""

from __future__ import annotations

import threading
import uuid

import pytest

from consult.live.broker import RESYNC, InProcessBroker, RedisBroker
from tests.helpers import REDIS_URL, redis_available, unavailable
from tests.live.helpers import wait_until

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def test_in_process_fans_out_to_every_subscriber_of_the_channel():
    broker = InProcessBroker()
    first, second = broker.subscribe("ask:1"), broker.subscribe("ask:1")
    other = broker.subscribe("ask:2")

    assert broker.publish("ask:1", {"id": 1, "name": "comment-added", "object_id": 7}) == 2

    assert first.get(timeout=1) == {"id": 1, "name": "comment-added", "object_id": 7}
    assert second.get(timeout=1) == {"id": 1, "name": "comment-added", "object_id": 7}
    assert other.get(timeout=0.01) is None


def test_in_process_get_times_out_with_none():
    subscription = InProcessBroker().subscribe("ask:1")
    assert subscription.get(timeout=0.01) is None


def test_in_process_full_queue_drops_and_asks_that_stream_to_resync():
    broker = InProcessBroker(queue_size=2)
    slow, fast = broker.subscribe("ask:1"), broker.subscribe("ask:1")
    broker.publish("ask:1", {"id": 1})
    broker.publish("ask:1", {"id": 2})
    assert fast.get(timeout=1) == {"id": 1}
    assert fast.get(timeout=1) == {"id": 2}

    assert broker.publish("ask:1", {"id": 3}) == 1  # only the subscriber with room took it

    assert slow.dropped == 1 and slow.needs_resync
    assert [slow.get(timeout=0.1), slow.get(timeout=0.1), slow.get(timeout=0.01)] == [
        {"id": 1},
        {"id": 2},
        None,
    ]
    assert fast.get(timeout=1) == {"id": 3} and not fast.needs_resync


def test_in_process_unsubscribe_stops_delivery_and_may_be_repeated():
    broker = InProcessBroker()
    subscription = broker.subscribe("ask:1")
    subscription.close()
    subscription.close()
    assert broker.publish("ask:1", {"id": 1}) == 0
    assert subscription.get(timeout=0.01) is None
    assert broker.subscriber_count() == 0


def test_in_process_is_thread_safe():
    broker = InProcessBroker(queue_size=10_000)
    subscriptions = [broker.subscribe("ask:1") for _ in range(5)]

    def publish(start):
        for n in range(start, start + 500):
            broker.publish("ask:1", {"id": n})

    def churn():
        for _ in range(500):
            broker.subscribe("ask:1").close()

    threads = [threading.Thread(target=publish, args=(k * 500,)) for k in range(4)]
    threads.append(threading.Thread(target=churn))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    for subscription in subscriptions:
        assert subscription.queue.qsize() == 2000
    assert broker.subscriber_count() == 5


# Redis ----------------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    if not redis_available():
        unavailable(f"Redis does not answer at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def make_broker():
    """RedisBrokers with a channel prefix of this test's own, closed afterwards."""
    made: list[RedisBroker] = []
    prefix = f"consult-test-{uuid.uuid4().hex}:"

    def make(url: str, **kwargs) -> RedisBroker:
        broker = RedisBroker(url, prefix=prefix, **kwargs)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.close()


def test_redis_publish_reaches_subscribers_of_another_broker(redis_url, make_broker):
    publisher, receiver = make_broker(redis_url), make_broker(redis_url)
    subscription = receiver.subscribe("ask:5")
    other = receiver.subscribe("ask:6")
    assert receiver.connected.is_set()

    publisher.publish("ask:5", {"id": 11, "name": "comment-added", "object_id": 3})

    assert subscription.get(timeout=2) == {"id": 11, "name": "comment-added", "object_id": 3}
    assert other.get(timeout=0.05) is None


def test_redis_one_connection_per_process_fans_out_locally(redis_url, make_broker):
    import redis

    broker = make_broker(redis_url)
    subscriptions = [broker.subscribe(f"ask:{n % 3}") for n in range(20)]
    with redis.Redis.from_url(redis_url) as client:
        readers = [c for c in client.client_list() if c["name"] == broker.reader_name]
    assert len(readers) == 1 and readers[0]["psub"] == "1"
    assert (
        sum(t.name == "consult-live-redis" and t is broker._reader for t in threading.enumerate())
        == 1
    )

    broker.publish("ask:1", {"id": 1, "name": "comment-added", "object_id": 1})
    broker.publish("ask:1", {"id": 2, "name": "comment-added", "object_id": 2})

    for n, subscription in enumerate(subscriptions):
        if n % 3 == 1:  # in the order published
            assert [subscription.get(timeout=2)["id"], subscription.get(timeout=2)["id"]] == [1, 2]
        assert subscription.get(timeout=0.01) is None


def test_redis_ignores_a_malformed_message(redis_url, make_broker):
    import redis

    broker = make_broker(redis_url)
    subscription = broker.subscribe("ask:1")
    with redis.Redis.from_url(redis_url) as client:
        client.publish(broker.prefix + "ask:1", b"not json")
    broker.publish("ask:1", {"id": 2})
    assert subscription.get(timeout=2) == {"id": 2}


def test_redis_publish_raises_when_redis_is_away(make_broker):
    import redis

    port = _closed_port()
    broker = make_broker(f"redis://127.0.0.1:{port}/0", publish_timeout=0.5)
    with pytest.raises(redis.RedisError):
        broker.publish("ask:1", {"id": 1})


def test_redis_subscriber_waits_through_an_outage_and_is_told_to_resync(redis_server, make_broker):
    broker = make_broker(redis_server.url, ready_timeout=5)
    subscription = broker.subscribe("ask:1")
    broker.publish("ask:1", {"id": 1})
    assert subscription.get(timeout=2) == {"id": 1}
    assert not subscription.needs_resync

    redis_server.kill()
    assert wait_until(lambda: not broker.connected.is_set(), 5)
    assert broker._reader.is_alive()
    assert subscription.get(timeout=0.1) is None  # still subscribed, just quiet
    assert not subscription.needs_resync

    # Redis comes back on the same port: the reader subscribes again and the open stream is
    # told that it may have missed events.
    redis_server.start()
    assert wait_until(lambda: broker.connected.is_set(), 10)
    assert subscription.needs_resync
    assert subscription.get(timeout=1) is RESYNC
    fresh = broker.subscribe("ask:1")
    broker.publish("ask:1", {"id": 3})
    assert fresh.get(timeout=2) == {"id": 3} and not fresh.needs_resync


def _closed_port() -> int:
    from tests.live.helpers import free_port

    return free_port()
