"""Fixtures: app, client, runner, database per test, login helper, backends.

The suite runs against SQLite by default. `pytest --backend=postgres` runs it against a
PostgreSQL database that this run creates and drops (127.0.0.1:5432), with Redis for
rate limits. When PostgreSQL or Redis does not answer, that run skips, unless CI is set,
in which case it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from consult import create_app
from consult.extensions import db
from consult.models import User

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=("sqlite", "postgres"), default="sqlite",
                     help="database (and broker) to run the suite against")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI requires it", pytrace=False)
    pytest.skip(reason)


def database_url(name: str) -> str:
    """SQLAlchemy's URL (psycopg 3 driver) for a database on the test PostgreSQL server."""
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def postgres_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--backend")


@pytest.fixture(scope="session")
def postgres_database(backend: str) -> Iterator[str | None]:
    """A PostgreSQL database of this run's own, or None when the backend is SQLite."""
    if backend != "postgres":
        yield None
        return
    if not postgres_available():
        _unavailable(f"PostgreSQL does not answer at {POSTGRES_ADMIN_URL}")
    if not redis_available():
        _unavailable(f"Redis does not answer at {REDIS_URL}")
    import psycopg

    name = f"consult_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app_config(tmp_path, postgres_database) -> dict:
    """The test configuration; a test may change it before asking for `app`."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": postgres_database or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "MAIL_SERVER": None,
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
        "SERVER_NAME": "consult.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_KEY_PREFIX": f"consult-test-{uuid.uuid4().hex[:8]}",
    }
    if postgres_database:
        config["REDIS_URL"] = REDIS_URL
        config["RATELIMIT_STORAGE_URI"] = REDIS_URL
    return config


@pytest.fixture
def app(app_config: dict) -> Iterator[Flask]:
    app = create_app(app_config)
    with app.app_context():
        if app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            db.create_all()
        else:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def login_as(client: FlaskClient, user: User | None) -> FlaskClient:
    """Sign the client in as user (None: stay anonymous), without the sign-in form."""
    db.session.commit()
    if user is not None:
        with client.session_transaction() as session:
            session["_user_id"] = user.session_token
            session["_fresh"] = True
    return client


@pytest.fixture
def outbox(app: Flask):
    """The emails written to the outbox so far, parsed, oldest first."""
    import email
    from email import policy
    from pathlib import Path

    def read():
        folder = Path(app.config["MAIL_OUTBOX"])
        if not folder.exists():
            return []
        return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
                for p in sorted(folder.glob("*.eml"))]

    return read
