"""gunicorn settings for production: gevent workers, so open event streams are cheap.

    gunicorn -c python:consult.gunicorn_conf wsgi:app

Each open live-update stream is a greenlet waiting on a queue, not a thread: one worker holds
hundreds of streams while still answering ordinary requests. Every setting can be changed from
the environment (below) or on the command line after `-c`.

This module must not import the app: the gevent worker patches the standard library before
it loads the app, and the master never loads it (no preload).
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{_int('PORT', 8000)}"
worker_class = "gevent"
workers = _int("WEB_CONCURRENCY", 2)
worker_connections = _int("GUNICORN_WORKER_CONNECTIONS", 1000)  # open connections per worker
preload_app = False  # never import the app in the master: gevent must patch first
# The gevent worker tells the master it is alive from its own loop: long streams do not trip this.
timeout = _int("GUNICORN_TIMEOUT", 30)
# Open streams do not finish on their own: on restart give them a few seconds, then close them
# (browsers reconnect with Last-Event-ID and are sent what they missed).
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 5)
keepalive = 5
control_socket_disable = True  # gunicorn 27 otherwise opens a control socket under ~/.gunicorn
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # "-" logs requests to stdout
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
