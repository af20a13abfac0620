"""What Consult's two gunicorn configurations share (consult/gunicorn_pages.py and
consult/gunicorn_streams.py). Not a configuration of its own: each of them imports it.

This module must not import the app: the gevent worker patches the standard library before
it loads the app, and the master never loads it (no preload).
"""

from __future__ import annotations

import os


def setting(name: str, default: int) -> int:
    """An integer setting from the environment (empty or unset: the default)."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


preload_app = False  # never import the app in the master: gevent must patch first
control_socket_disable = True  # gunicorn 27 otherwise opens a control socket under ~/.gunicorn
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # "-" logs requests to stdout
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
