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
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import func, select

from consult import create_app
from consult.extensions import db, limiter
from consult.models import AuditEvent, Role, User

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="database (and broker) to run the suite against",
    )


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI requires it", pytrace=False)
    pytest.skip(reason)


def postgres_url(name: str) -> str:
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
    url = postgres_url(name)
    try:
        yield url
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(postgres_database, tmp_path_factory) -> str:
    """The database every test of this run uses, emptied before each test."""
    return postgres_database or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture
def app_config(tmp_path, database_url, postgres_database) -> dict:
    """The test configuration; a test may change it before asking for `app`."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": None,
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
        "SERVER_NAME": "consult.test",
        # argon2 at the library's strength costs ~0.6 s a hash on these machines.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    if postgres_database:
        config["REDIS_URL"] = REDIS_URL
        config["RATELIMIT_STORAGE_URI"] = REDIS_URL
    return config


class FreshContextClient(FlaskClient):
    """A test client whose every request gets its own application context, as in production.

    Tests hold an application context open (to use the database directly); without this,
    requests would reuse it and share `g` (where Flask-Login caches the signed-in person)
    and the test's database session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


class _MemoryBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app the tests make."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = _MemoryBytecodeCache()


def make_app(config: dict) -> Flask:
    """create_app() for tests, sharing compiled templates between apps."""
    app = create_app(config)
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    app.test_client_class = FreshContextClient
    return app


# Settings read when the app is built; every other setting is read per request, so one app
# serves every test that agrees on these, with that test's own configuration laid over it.
# (Building an app costs ~0.1 s: compiling its URL rules and templates.)
_BUILD_KEYS = (
    "SQLALCHEMY_DATABASE_URI",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_ENABLED",
    "REDIS_URL",
    "SECRET_KEY",
    "TRUSTED_PROXY_COUNT",
)
_apps: dict[tuple, tuple[Flask, dict]] = {}


def _empty_database() -> None:
    # DELETE is much quicker than TRUNCATE on tables this small.
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(scope="session", autouse=True)
def _dispose_apps() -> Iterator[None]:
    """Close the shared apps' database connections at the end of the run."""
    yield
    for built, _ in _apps.values():
        with built.app_context():
            db.engine.dispose()
    _apps.clear()


@pytest.fixture
def app(app_config: dict) -> Iterator[Flask]:
    key = tuple(repr(app_config.get(k)) for k in _BUILD_KEYS)
    if key not in _apps:
        built = make_app(app_config)
        with built.app_context():
            db.create_all()
        _apps[key] = (built, dict(built.config))
    app, pristine = _apps[key]
    app.config.clear()
    app.config.update(pristine)
    app.config.update(app_config)
    limiter.reset()
    with app.app_context():
        _empty_database()
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


ROLES = ("anonymous", "observer", "member", "other_member", "secretariat")


@dataclass
class People:
    """One person of each role: an observer and a member of one organisation, a member of
    another organisation, and the secretariat."""

    observer: User
    member: User
    other_member: User
    secretariat: User

    def get(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def people(app) -> People:
    from tests import factories

    home = factories.organisation("Home Organisation")
    other = factories.organisation("Other Organisation")
    coalition = factories.organisation("Coalition Secretariat")
    result = People(
        observer=factories.user(Role.OBSERVER, home, name="Olive Observer"),
        member=factories.user(Role.MEMBER, home, name="Mina Member"),
        other_member=factories.user(Role.MEMBER, other, name="Otto Other"),
        secretariat=factories.user(Role.SECRETARIAT, coalition, name="Sam Secretariat"),
    )
    db.session.commit()
    return result


def audit_events(action: str | None = None) -> list[AuditEvent]:
    """The audit events (of this action), oldest first."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def audit_count(action: str | None = None) -> int:
    """How many audit events there are (of this action)."""
    query = select(func.count(AuditEvent.id))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return db.session.scalar(query)


def is_sign_in_redirect(response) -> bool:
    return response.status_code == 302 and "/sign-in" in response.headers["Location"]


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
        return [
            email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(folder.glob("*.eml"))
        ]

    return read
