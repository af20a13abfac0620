"""Fixtures for the live-update tests."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from consult.live.broker import InProcessBroker, RedisBroker
from tests.helpers import REDIS_URL
from tests.live.helpers import RedisServer


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, killed at the end."""
    server = RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def broker(app: Flask, backend: str) -> Iterator[InProcessBroker | RedisBroker]:
    """The app's broker for this test: in-process on SQLite; on PostgreSQL, Redis with
    channels of this test's own (other test runs may share that Redis)."""
    original = app.extensions["consult_broker"]
    if backend == "postgres":
        replacement = RedisBroker(REDIS_URL, prefix=f"consult-test-{uuid.uuid4().hex}:")
    else:
        replacement = InProcessBroker()
    app.extensions["consult_broker"] = replacement
    try:
        yield replacement
    finally:
        app.extensions["consult_broker"] = original
        replacement.close()


@pytest.fixture
def server(app: Flask, broker) -> Iterator[int]:
    """The app on werkzeug's threaded server (its streams run side by side, as in
    production), with this test's broker; its port."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_port
    finally:
        httpd.shutdown()
        thread.join(timeout=5)
