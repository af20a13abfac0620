"""The stream on a real, threaded werkzeug server (as `flask run` and the browser tests use)."""

from __future__ import annotations

import http.client
import time

import pytest

from consult.extensions import db
from consult.models import Role
from tests import factories
from tests.live.helpers import HTTPStream, cookie_for, wait_until

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {
        **app_config,
        "SERVER_NAME": None,
        "LIVE_HEARTBEAT_SECONDS": 0.1,
        "LIVE_STREAM_SECONDS": 30,
    }


def test_open_streams_do_not_block_other_requests_and_leaving_unsubscribes(app, server, broker):
    ask = factories.ask(factories.consultation())
    member = factories.user(Role.MEMBER)
    db.session.commit()
    cookie = cookie_for(app, member)

    streams = [HTTPStream(server, f"/asks/{ask.id}/events", cookie) for _ in range(3)]
    try:
        for stream in streams:
            assert stream.response.status == 200
            assert stream.response.getheader("Content-Type").startswith("text/event-stream")
            stream.reader.read_until(lambda text: ": connected" in text, timeout=5)
        assert broker.subscriber_count() == 3

        # An ordinary request is answered while the streams stay open.
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
        connection.request("GET", "/sign-in")
        assert connection.getresponse().status == 200
        connection.close()
        assert time.monotonic() - started < 2

        # A browser that goes away is noticed at the next heartbeat, and unsubscribed.
        streams[0].close()
        assert wait_until(lambda: broker.subscriber_count() == 2, 5)
        streams[1].reader.read_until(lambda text: text.count(": ping") >= 2, timeout=5)
    finally:
        for stream in streams:
            stream.close()
    assert wait_until(lambda: broker.subscriber_count() == 0, 5)
