"""A slow database query does not stall a gevent worker (issue 12): while one request waits
on PostgreSQL, the same worker answers other requests.

psycopg waits for the server with gevent's cooperative poll when gevent has patched the
standard library before psycopg is imported (gunicorn's gevent worker does, and never
preloads the app). Its C wait function, chosen otherwise, blocks the whole worker: forced
(PSYCOPG_WAIT_FUNC=wait_c), the worker stopped answering altogether and gunicorn killed it
for missing its heartbeat."""

from __future__ import annotations

import http.client
import sys
import threading
import time

import pytest
from sqlalchemy import text

from consult.extensions import db
from consult.models import Role
from tests import factories
from tests.live.helpers import free_port, signed_in, start_server, stop, wait_for_port

pytestmark = pytest.mark.database

SLOW = 2.0  # seconds the ask page's query waits for a lock the test holds


def _get(port: int, path: str, cookie: str = "") -> tuple[int, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        connection.close()


def test_a_slow_query_leaves_the_worker_answering(app, backend, database_url, broker, tmp_path):
    if backend != "postgres":
        pytest.skip("waiting on PostgreSQL: run with --backend=postgres")
    ask = factories.ask(factories.consultation())
    member = factories.user(Role.MEMBER)
    db.session.commit()
    cookie, _ = signed_in(app, member)
    page = f"/asks/{ask.id}"
    db.session.commit()  # the test's own session holds no lock on `ask` from here on
    port = free_port()
    server = start_server(
        port,
        database_url,
        broker.prefix,
        app.config["SECRET_KEY"],
        tmp_path / "server.log",
        workers=1,
    )
    try:
        wait_for_port(port, 30, server)
        assert _get(port, page, cookie)[0] == 200  # connections made, code warm
        assert _get(port, "/privacy")[0] == 200

        slow: list[tuple[int, float]] = []
        with db.engine.connect() as locker:
            # The ask page's query waits behind this lock until it is released.
            locker.execute(text("LOCK TABLE ask IN ACCESS EXCLUSIVE MODE"))
            locked = time.monotonic()
            waiting = threading.Thread(target=lambda: slow.append(_get(port, page, cookie)))
            waiting.start()
            time.sleep(0.3)  # the ask page is waiting on PostgreSQL by now
            status, quick = _get(port, "/privacy")
            answered_while_waiting = not slow
            time.sleep(max(0.0, SLOW - (time.monotonic() - locked)))
            locker.rollback()
        waiting.join(timeout=30)
    except BaseException:
        sys.stderr.write((tmp_path / "server.log").read_text(errors="replace"))
        raise
    finally:
        stop(server)

    assert status == 200 and slow and slow[0][0] == 200
    assert slow[0][1] > SLOW - 0.5  # it really waited for the lock
    assert answered_while_waiting and quick < 1.0, quick
