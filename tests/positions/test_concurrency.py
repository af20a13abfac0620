"""200 concurrent "set position" requests from one organisation's two delegates at a real
multi-process server (gunicorn, 2 workers) sharing the run's database: SQLite, or PostgreSQL
with --backend=postgres. Exactly one row; no 5xx; one audit event per accepted change, each
recording as "before" what the change before it left; and the last one is the row."""

from __future__ import annotations

import http.client
import random
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.models import Position, Stance
from tests.helpers import audit_events
from tests.live.helpers import free_port, signed_in, start_server, stop, wait_for_port

# Depends on the database engine: also runs with --backend=postgres.
pytestmark = pytest.mark.database

REQUESTS = 200
THREADS = 20


def set_position(port: int, ask_id: int, cookie: str, token: str, n: int) -> int:
    """POST the position form once; returns the status."""
    stance = random.Random(n).choice(list(Stance))
    reason = f"Reason {n}." if stance.needs_reason or n % 3 == 0 else ""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            f"/asks/{ask_id}/position",
            body=urlencode({"csrf_token": token, "stance": stance.value, "reason": reason}),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_200_concurrent_changes_leave_one_row_and_audit_every_accepted_one(
    app, delegates, ask, database_url, tmp_path
):
    cookies = [signed_in(app, delegates.first), signed_in(app, delegates.second)]
    ask_id = ask.id  # (the threads have no application context to load it in)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    server = start_server(
        port, database_url, "unused:", app.config["SECRET_KEY"], log, redis=False, workers=2
    )
    try:
        wait_for_port(port, 30, server)
        with ThreadPoolExecutor(THREADS) as pool:
            statuses = list(
                pool.map(
                    lambda n: set_position(port, ask_id, *cookies[n % 2], n),
                    range(REQUESTS),
                    timeout=120,
                )
            )
    except BaseException:
        sys.stderr.write(log.read_text(errors="replace"))
        raise
    finally:
        stop(server)

    assert not [s for s in statuses if s >= 500], log.read_text(errors="replace")[-3000:]
    accepted = statuses.count(303)
    assert accepted > 0 and set(statuses) <= {303}, statuses

    db.session.expire_all()
    [row] = db.session.scalars(select(Position)).all()
    events = audit_events("position.set")
    assert len(events) == accepted
    assert {e.object_id for e in events} == {row.id}
    assert {e.actor_id for e in events} == {delegates.first.id, delegates.second.id}
    # Each change recorded what the change committed just before it had left.
    assert events[0].before is None
    assert [e.before for e in events[1:]] == [e.after for e in events[:-1]]
    assert events[-1].after == {"stance": row.stance.value, "reason": row.reason or None}
    assert events[-1].actor_id == row.set_by_id
