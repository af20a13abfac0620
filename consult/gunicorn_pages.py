"""gunicorn settings for production's pages: every request but the live-update streams.

    gunicorn -c python:consult.gunicorn_pages wsgi:app

Sync workers, one request at a time each, about one per CPU (WEB_CONCURRENCY). Behind nginx,
which reads each request and each answer whole before it passes it on (deploy/nginx/
consult.conf), a slow browser never holds a worker. Requests wait in the listening socket's
queue and are served in the order they came, so under load every page waits about as long as
the others: the p99 stays within a small multiple of the p50 (README, "Production").

The live-update streams, which stay open for minutes, are served by the other pool
(consult/gunicorn_streams.py, gevent workers); nginx sends them there. A stream that reaches
this pool all the same is refused at once (LIVE_STREAMS_PER_PROCESS=0: 503 with Retry-After),
never left to hold a worker. Each worker keeps one database connection, and runs at a lower
CPU priority than the streams pool's (GUNICORN_PAGES_NICE, 10).
"""

from __future__ import annotations

import os

from consult.gunicorn_common import *  # noqa: F403
from consult.gunicorn_common import setting

bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{setting('PORT', 8000)}"
worker_class = "sync"
workers = setting("WEB_CONCURRENCY", 2)
# A request still running after this many seconds is ended (its worker restarted).
timeout = setting("GUNICORN_TIMEOUT", 30)
# On a restart, requests under way are given as long to finish.
graceful_timeout = setting("GUNICORN_GRACEFUL_TIMEOUT", 30)
raw_env = [
    "LIVE_STREAMS_PER_PROCESS=0",  # streams belong to the other pool
    # One request at a time needs one database connection: keep one, allow two more at a
    # pinch (README, "Connection budget"). These win over the environment file's, which are
    # the streams pool's.
    "DATABASE_POOL_SIZE=1",
    "DATABASE_MAX_OVERFLOW=2",
]


def post_fork(server, worker) -> None:
    """Each pages worker yields the CPU to the streams pool (and to nginx and the database
    on the same machine) when both want it: rendering a page can wait a few milliseconds,
    an event that every open page is waiting for should not."""
    os.nice(setting("GUNICORN_PAGES_NICE", 10))
