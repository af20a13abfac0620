"""gunicorn settings for production's live-update streams: GET /asks/<id>/events only.

    gunicorn -c python:consult.gunicorn_streams wsgi:app

gevent workers, so that open streams are cheap: each is a greenlet waiting on a queue, not a
thread, and one worker holds hundreds. nginx sends this pool the streams and nothing else
(deploy/nginx/consult.conf): the pages, whose rendering keeps a CPU busy, are served by the
other pool (consult/gunicorn_pages.py), so a burst of page views never holds up the events
that every open page is waiting for.

Run alone, without nginx in front, this pool also serves pages (the code is one): that is the
simplest deployment, but under load a few requests then wait seconds while most are fast.
"""

from __future__ import annotations

import os

from consult.gunicorn_common import *  # noqa: F403
from consult.gunicorn_common import setting

bind = os.environ.get("GUNICORN_STREAMS_BIND") or "127.0.0.1:8001"
worker_class = "gevent"
workers = setting("GUNICORN_STREAMS_WORKERS", 2)
worker_connections = setting("GUNICORN_WORKER_CONNECTIONS", 1000)  # open connections per worker
# The gevent worker tells the master it is alive from its own loop: long streams do not trip this.
timeout = setting("GUNICORN_TIMEOUT", 30)
# Open streams do not finish on their own: on restart give them a few seconds, then close them
# (browsers reconnect with Last-Event-ID and are sent what they missed).
graceful_timeout = setting("GUNICORN_STREAMS_GRACEFUL_TIMEOUT", 5)
keepalive = 5
