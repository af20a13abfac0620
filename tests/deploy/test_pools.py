"""An app host's two pools of gunicorn workers (consult/gunicorn_pages.py and
consult/gunicorn_streams.py, run by deploy/systemd/consult@.service): each configuration as
gunicorn itself loads it, and a pages worker, which must never hold a stream open, refusing a
stream that reaches it while it serves pages.

(tests/deploy/test_nginx.py runs both pools of two hosts behind nginx.)"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gunicorn.app.base import Application

from consult.extensions import db
from consult.models import Comment, Role
from tests import factories
from tests.live.helpers import (
    free_port,
    post_comment,
    signed_in,
    start_server,
    stop,
    wait_for_port,
    worker_pids,
)


class Settings(Application):
    """gunicorn's settings from one configuration, loaded as `gunicorn -c LOCATION` loads
    them (the app itself is never loaded)."""

    def __init__(self, location: str) -> None:
        self.location = location
        super().__init__()

    def init(self, parser, opts, args) -> None:
        return None

    def load_config(self) -> None:
        self.load_config_from_module_name_or_filename(self.location)

    def load(self):
        raise AssertionError("the app is not loaded")


def settings(monkeypatch: pytest.MonkeyPatch, pool: str, **env: str):
    for name in (
        "GUNICORN_BIND",
        "GUNICORN_STREAMS_BIND",
        "WEB_CONCURRENCY",
        "GUNICORN_STREAMS_WORKERS",
        "PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # Each load reads the environment afresh, as a new gunicorn master would.
    for module in ("consult.gunicorn_common", f"consult.gunicorn_{pool}"):
        sys.modules.pop(module, None)
    loaded = Settings(f"python:consult.gunicorn_{pool}").cfg
    return loaded


def test_pages_are_served_by_sync_workers_that_take_no_streams(monkeypatch):
    cfg = settings(monkeypatch, "pages")
    assert cfg.worker_class_str == "sync"
    assert (cfg.workers, cfg.address) == (2, [("127.0.0.1", 8000)])
    assert cfg.env == {
        "LIVE_STREAMS_PER_PROCESS": "0",
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_MAX_OVERFLOW": "2",
    }
    assert (cfg.timeout, cfg.graceful_timeout, cfg.preload_app) == (30, 30, False)

    cfg = settings(monkeypatch, "pages", GUNICORN_BIND="10.0.0.11:9000", WEB_CONCURRENCY="4")
    assert (cfg.workers, cfg.address) == (4, [("10.0.0.11", 9000)])


def test_streams_are_served_by_gevent_workers(monkeypatch):
    cfg = settings(monkeypatch, "streams")
    assert cfg.worker_class_str == "gevent"
    assert (cfg.workers, cfg.address) == (2, [("127.0.0.1", 8001)])
    assert (cfg.worker_connections, cfg.graceful_timeout, cfg.preload_app) == (1000, 5, False)
    assert cfg.env == {}  # streams as LIVE_STREAMS_PER_PROCESS says

    cfg = settings(
        monkeypatch,
        "streams",
        GUNICORN_BIND="10.0.0.11:9000",  # the pages pool's: no effect here
        GUNICORN_STREAMS_BIND="10.0.0.11:9001",
        GUNICORN_STREAMS_WORKERS="3",
    )
    assert (cfg.workers, cfg.address) == (3, [("10.0.0.11", 9001)])


def niceness(pid: int) -> int:
    """A process's nice value, from /proc (the 19th field of its stat)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_a_pages_worker_yields_the_cpu_to_the_streams(monkeypatch):
    """The pages configuration's post_fork hook lowers the worker's priority (by 10, or
    GUNICORN_PAGES_NICE), in the worker only: run here in a child process of the test's."""
    script = (
        "import os; from consult import gunicorn_pages as pages; before = os.nice(0); "
        "pages.post_fork(None, None); print(os.nice(0) - before)"
    )
    for env, lowered in (({}, 10), ({"GUNICORN_PAGES_NICE": "3"}, 3)):
        completed = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert int(completed.stdout) == min(lowered, 19 - os.nice(0))


def get(port: int, path: str, cookie: str) -> tuple[int, dict[str, str], bytes, float]:
    """A GET: status, headers, body, and the seconds it took."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": cookie})
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read(), time.monotonic() - started
    finally:
        connection.close()


def test_a_pages_worker_serves_pages_and_refuses_a_stream_at_once(app, database_url, tmp_path):
    ask = factories.ask(factories.consultation())
    member = factories.user(Role.MEMBER)
    db.session.commit()
    cookie, token = signed_in(app, member)
    port = free_port()
    server = start_server(
        port,
        database_url,
        "",
        app.config["SECRET_KEY"],
        tmp_path / "pages.log",
        redis=False,
        pool="pages",
    )
    try:
        wait_for_port(port, 30, server)
        status, _, body, _ = get(port, f"/asks/{ask.id}", cookie)
        assert status == 200 and b"Sign out" in body
        # Its worker runs at a lower priority than its master.
        (worker,) = worker_pids(server)
        assert niceness(worker) == min(19, niceness(server.pid) + 10)

        # The stream is refused, not held open: the worker is free for the next page.
        status, headers, body, took = get(port, f"/asks/{ask.id}/events", cookie)
        assert (status, headers["Retry-After"]) == (503, "10")
        assert body == b"Consult is busy. Live updates will resume shortly.\n"
        assert took < 10  # a held stream would last LIVE_STREAM_SECONDS (30 here)

        comment_id = post_comment(port, ask.id, cookie, token, "Posted to a pages worker.")
        db.session.expire_all()
        assert db.session.get(Comment, comment_id).body == "Posted to a pages worker."
    except BaseException:
        sys.stderr.write((tmp_path / "pages.log").read_text(errors="replace"))
        raise
    finally:
        stop(server)
