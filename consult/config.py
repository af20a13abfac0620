"""Settings from environment variables, and nothing secret in the repo."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url


class ConfigError(RuntimeError):
    """The environment does not describe a configuration that may start."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret_key(instance_path: Path) -> str:
    """Generate a secret key once for development and keep it under instance/."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _database_url(url: str | None, instance_path: Path) -> str:
    if not url:
        return f"sqlite:///{instance_path / 'consult.sqlite3'}"
    # Heroku-style URLs and plain postgresql:// both mean psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_environment(
    instance_path: Path, env: os._Environ[str] | dict[str, str] = os.environ
) -> dict:
    """Build the Flask configuration from environment variables."""
    production = env.get("CONSULT_ENV", "development").strip().lower() == "production"
    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY must be set when CONSULT_ENV=production.")
        secret_key = _dev_secret_key(instance_path)
    redis_url = env.get("REDIS_URL") or None
    live_broker = (env.get("LIVE_BROKER") or "").strip().lower() or None
    if live_broker not in (None, "redis", "database", "memory"):
        raise ConfigError("LIVE_BROKER must be redis, database or memory.")
    if live_broker == "redis" and not redis_url:
        raise ConfigError("LIVE_BROKER=redis needs REDIS_URL.")
    public_url = (env.get("PUBLIC_URL") or "").strip()
    if production and not public_url:
        raise ConfigError(
            "PUBLIC_URL must be set when CONSULT_ENV=production: links in emails are built on it."
        )
    public_url = public_url or "http://localhost:5000"
    idle_minutes = float(env.get("SESSION_IDLE_MINUTES") or 120)
    return {
        "PRODUCTION": production,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": _database_url(env.get("DATABASE_URL"), instance_path),
        # PostgreSQL: how long a request waits, in seconds, before it is answered "Sorry, the
        # service is unavailable" (503) rather than hang: to connect (and for the server to
        # acknowledge what was sent), for one statement, and for a free connection of the
        # pool (engine_options below; migrations take as long as they need).
        "DATABASE_CONNECT_TIMEOUT": int(env.get("DATABASE_CONNECT_TIMEOUT") or 5),
        "DATABASE_STATEMENT_TIMEOUT": float(env.get("DATABASE_STATEMENT_TIMEOUT") or 30),
        # (Whole seconds: SQLAlchemy's pool would take 0.5 as 0, giving up at once.)
        "DATABASE_POOL_TIMEOUT": int(env.get("DATABASE_POOL_TIMEOUT") or 10),
        # PostgreSQL: connections each worker process keeps open, and how many more it may
        # open at busy moments (closed again when returned). The budget: hosts × workers ×
        # (size + overflow), plus the scheduled commands, must stay under the server's
        # max_connections (README, "Connection budget").
        "DATABASE_POOL_SIZE": int(env.get("DATABASE_POOL_SIZE") or 5),
        "DATABASE_MAX_OVERFLOW": int(env.get("DATABASE_MAX_OVERFLOW") or 10),
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT") or 25),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(env.get("MAIL_USE_SSL")),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER") or "Consult <consult@localhost>",
        # Named in every email's subject and first line.
        "COALITION_NAME": env.get("COALITION_NAME") or "Blueprint Coalition",
        # Where people write about their data, accessibility or the terms (the footer's
        # pages); without it, those pages say to contact the secretariat.
        "CONTACT_EMAIL": (env.get("CONTACT_EMAIL") or "").strip() or None,
        "MAIL_OUTBOX": env.get("MAIL_OUTBOX") or str(instance_path / "outbox"),
        "SERVER_NAME": env.get("SERVER_NAME") or None,
        # Where people open Consult: every link in an email is built on it (never on the
        # Host a request names). Required in production.
        "PUBLIC_URL": public_url,
        # Requests naming any other host are refused (400): Flask checks request.host.
        "TRUSTED_HOSTS": _trusted_hosts(env.get("TRUSTED_HOSTS"), public_url, production),
        # `flask consult send-reminders` reminds delegates this many days before the close.
        "REMINDER_DAYS_BEFORE_CLOSE": float(env.get("REMINDER_DAYS_BEFORE_CLOSE") or 3),
        # How many reverse proxies in front of the app to believe: each appends the address it
        # saw to X-Forwarded-For. 0 (the default) believes none: the app faces clients itself.
        "TRUSTED_PROXY_COUNT": int(env.get("TRUSTED_PROXY_COUNT") or 0),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "SESSION_COOKIE_NAME": env.get("SESSION_COOKIE_NAME") or "consult_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        # A session ends this long after sign-in however busy (the absolute limit), and
        # after SESSION_IDLE_MINUTES without a request (consult/auth/sessions.py).
        "PERMANENT_SESSION_LIFETIME": int(env.get("SESSION_LIFETIME_SECONDS") or 14 * 24 * 3600),
        "SESSION_IDLE_MINUTES": idle_minutes,
        # The cookie is sent again only when the session changes: at least once a minute
        # while the person is active (consult/auth/sessions.py, SEEN_EVERY).
        "SESSION_REFRESH_EACH_REQUEST": False,
        # A page's form token works this long (then the page's script fetches a fresh one:
        # nothing typed is lost); by default as long as an idle session. Rotated at sign-in
        # and sign-out.
        "WTF_CSRF_TIME_LIMIT": int(env.get("CSRF_TIME_LIMIT_SECONDS") or idle_minutes * 60),
        "INVITATION_DAYS": int(env.get("INVITATION_DAYS") or 7),
        "PASSWORD_RESET_HOURS": int(env.get("PASSWORD_RESET_HOURS") or 2),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Ask pages each worker process keeps rendered for as long as nothing they show has
        # changed (consult/page_cache.py); 0: none.
        "PAGE_CACHE_SIZE": int(env.get("PAGE_CACHE_SIZE") or 200),
        # How many comments and replies one person may post in a window.
        "COMMENT_RATE_LIMIT": env.get("COMMENT_RATE_LIMIT") or "10 per minute",
        # Live updates: an event stream ends after this long (the browser reconnects with
        # Last-Event-ID and is sent what it missed), and sends a comment line this often.
        "LIVE_STREAM_SECONDS": float(env.get("LIVE_STREAM_SECONDS") or 300),
        "LIVE_HEARTBEAT_SECONDS": float(env.get("LIVE_HEARTBEAT_SECONDS") or 15),
        # Open streams allowed to one person (a few tabs) and to one worker process (the
        # rest of its connections stay free for pages: gunicorn's worker_connections is
        # 1000). Past them a stream is refused: 429 and 503, with Retry-After. Counted per
        # process: with several workers one person may hold this many in each.
        "LIVE_STREAMS_PER_PERSON": int(env.get("LIVE_STREAMS_PER_PERSON") or 6),
        "LIVE_STREAMS_PER_PROCESS": int(env.get("LIVE_STREAMS_PER_PROCESS") or 500),
        # Redis channels are named <prefix>ask:<id>: separate deployments sharing a Redis.
        "LIVE_CHANNEL_PREFIX": env.get("LIVE_CHANNEL_PREFIX") or "consult:",
        # How live events reach the pages open on every worker process: "redis" (the default
        # when REDIS_URL is set, and the recommended path), "database" (the default without
        # Redis: each process reads the live-event table every LIVE_POLL_SECONDS) or "memory"
        # (one process only: tests, or a server known to run a single worker).
        "LIVE_BROKER": live_broker,
        "LIVE_POLL_SECONDS": float(env.get("LIVE_POLL_SECONDS") or 0.5),
        # Live events are kept this long (`flask consult prune-live-events` deletes older
        # ones); a page whose last event is older reloads instead of catching up.
        "LIVE_EVENT_RETENTION_HOURS": float(env.get("LIVE_EVENT_RETENTION_HOURS") or 48),
    }


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """SQLAlchemy's engine options for the configured database (SQLALCHEMY_ENGINE_OPTIONS
    given in the configuration win).

    For PostgreSQL, a request fails fast when the server does not answer, and the app
    recovers by itself when it is back: each connection is checked before use (a stopped
    and restarted server leaves the pool's connections dead), connecting gives up after
    DATABASE_CONNECT_TIMEOUT seconds (also how long the server may take to acknowledge
    what was sent, so that an unreachable host is noticed), a statement is cancelled after
    DATABASE_STATEMENT_TIMEOUT and waiting for a free connection gives up after
    DATABASE_POOL_TIMEOUT (the pool holding DATABASE_POOL_SIZE connections, and up to
    DATABASE_MAX_OVERFLOW more at busy moments). consult.errors answers all of these with a 503. (SQLite has its
    busy timeout: consult._sqlite_pragmas.)
    """
    given = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        return given
    connect_timeout = int(config["DATABASE_CONNECT_TIMEOUT"])
    statement_ms = round(float(config["DATABASE_STATEMENT_TIMEOUT"]) * 1000)
    given_in_url = url.query.get("options") or ""  # kept: the URL's own come first
    server_options = " ".join(given_in_url) if isinstance(given_in_url, tuple) else given_in_url
    connect_args = {
        "connect_timeout": connect_timeout,
        "tcp_user_timeout": connect_timeout * 1000,  # milliseconds
        "options": f"{server_options} -c statement_timeout={statement_ms}".strip(),
    }
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": int(config["DATABASE_POOL_SIZE"]),
        "max_overflow": int(config["DATABASE_MAX_OVERFLOW"]),
        "pool_timeout": int(config["DATABASE_POOL_TIMEOUT"]),
        "connect_args": {**connect_args, **given.pop("connect_args", {})},
    }
    return {**options, **given}


def _trusted_hosts(value: str | None, public_url: str, production: bool) -> list[str] | None:
    """The host names requests may name: TRUSTED_HOSTS (comma-separated), or in production
    PUBLIC_URL's host; None (any host) in development."""
    hosts = [h.strip() for h in (value or "").split(",") if h.strip()]
    if not hosts and production:
        hostname = urlsplit(public_url).hostname
        hosts = [hostname] if hostname else []
    return hosts or None
