"""Fixtures: app, client, runner, database per test, people, outbox, backends.

Helpers (login_as, audit_events, ...) are in tests/helpers.py: nothing imports a conftest.

The suite runs against SQLite by default. `pytest --backend=postgres` runs it against a
PostgreSQL database that this run creates and drops (127.0.0.1:5432), with Redis for
rate limits. When PostgreSQL or Redis does not answer, that run skips, unless CI is set,
in which case it fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consult import page_cache
from consult.extensions import db, limiter
from consult.models import Ask, AskState, Participant, Role
from tests import factories
from tests.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    POSTGRES_ADMIN_URL,
    REDIS_URL,
    V1,
    V2,
    Delegates,
    People,
    empty_database,
    make_app,
    postgres_available,
    postgres_url,
    redis_available,
    unavailable,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="database (and broker) to run the suite against",
    )


RUN_ID = uuid.uuid4().hex[:12]  # this test process's own names in shared services


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
        unavailable(f"PostgreSQL does not answer at {POSTGRES_ADMIN_URL}")
    if not redis_available():
        unavailable(f"Redis does not answer at {REDIS_URL}")
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
    return _standard_config(tmp_path, database_url, postgres_database)


def _standard_config(tmp_path, database_url, postgres_database) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": None,
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
        "SERVER_NAME": "consult.test",
        "PUBLIC_URL": "http://consult.test",  # where emails' links point
        # argon2 at the library's strength costs ~0.6 s a hash on these machines.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    if postgres_database:
        config["REDIS_URL"] = REDIS_URL
        config["RATELIMIT_STORAGE_URI"] = REDIS_URL
        # Rate limits under this run's own keys: limiter.reset() between tests clears only
        # these, not those of another run (or pytest-xdist worker) sharing the Redis.
        config["RATELIMIT_STORAGE_OPTIONS"] = {"key_prefix": f"consult-test-{RUN_ID}"}
        # Live events on channels of this run's own: another worker's ask 1 is another ask.
        config["LIVE_CHANNEL_PREFIX"] = f"consult-test-{RUN_ID}:"
    return config


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


def pytest_assertrepr_compare(op, left, right):
    """Two counts of SQL statements that differ: show which statements differ (an
    intermittent extra statement has been seen on some pages under load)."""
    from tests.helpers import StatementCount

    if op == "==" and isinstance(left, StatementCount) and isinstance(right, StatementCount):
        import difflib

        def short(statements: list[str]) -> list[str]:
            return [" ".join(s.split())[:160] for s in statements]

        return [f"{int(left)} statements == {int(right)} statements; the difference:"] + list(
            difflib.unified_diff(short(left.statements), short(right.statements), lineterm="", n=0)
        )
    return None


@pytest.fixture(scope="session", autouse=True)
def _no_secrets_in_logs() -> Iterator[None]:
    """No log line of the run gives away a password, token or cookie (issue 11)."""
    import logging

    from tests.secrets_in_logs import SecretWatch

    watch = SecretWatch()
    root = logging.getLogger()
    root.addHandler(watch)
    try:
        yield
    finally:
        root.removeHandler(watch)
    assert watch.leaks == [], "secrets in log lines:\n" + "\n".join(watch.leaks[:20])


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Extend pytest-playwright's own launch options with Debian's Chromium (for the browser
    journeys in tests/e2e and the pages behind nginx in tests/deploy)."""
    import os

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}: apt-get install -y chromium",
            pytrace=False,
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session", autouse=True)
def _dispose_apps() -> Iterator[None]:
    """Close the shared apps' database connections at the end of the run."""
    yield
    for built, _ in _apps.values():
        with built.app_context():
            db.engine.dispose()
    _apps.clear()


@pytest.fixture
def app(app_config: dict, tmp_path, database_url, postgres_database) -> Iterator[Flask]:
    key = tuple(repr(app_config.get(k)) for k in _BUILD_KEYS)
    if key not in _apps:
        # Built from the standard configuration (with this test's build settings): what a
        # test changes for itself (TRUSTED_HOSTS, say) must not become every later test's.
        standard = _standard_config(tmp_path, database_url, postgres_database)
        built = make_app({**standard, **{k: app_config[k] for k in _BUILD_KEYS if k in app_config}})
        with built.app_context():
            db.create_all()
        _apps[key] = (built, dict(built.config))
    app, pristine = _apps[key]
    app.config.clear()
    app.config.update(pristine)
    app.config.update(app_config)
    limiter.reset()
    page_cache.register(app)  # the pages this process keeps: none yet, as at its start
    with app.app_context():
        empty_database()
        yield app
        db.session.remove()


@pytest.fixture
def uncached_pages(app: Flask) -> None:
    """Every ask page rendered afresh (PAGE_CACHE_SIZE 0): for tests of what a render
    costs, which a page kept from an earlier request would not show."""
    app.config["PAGE_CACHE_SIZE"] = 0
    page_cache.register(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def people(app) -> People:
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


# An ask under consultation, for the amendments, agreements, reports and archive tests (the
# positions tests have delegates of their own: tests/positions/conftest.py).


@pytest.fixture
def delegates(people: People) -> Delegates:
    home = factories.user(
        Role.MEMBER, people.member.organisation, name="Dee Delegate", is_delegate=True
    )
    other = factories.user(
        Role.MEMBER, people.other_member.organisation, name="Oda Other", is_delegate=True
    )
    third_org = factories.organisation("Third Organisation")
    third = factories.user(Role.MEMBER, third_org, name="Theo Third", is_delegate=True)
    db.session.commit()
    return Delegates(home, other, third, third_org)


@pytest.fixture
def ask(people: People, delegates: Delegates) -> Ask:
    """An ask in review at v2 (three paragraphs: two sentences and a list) in an open
    consultation taken part in by the home, other and third organisations."""
    consultation = factories.consultation("Net zero by 2040")
    consultation.participants = [
        Participant(organisation=org)
        for org in (
            people.member.organisation,
            people.other_member.organisation,
            delegates.third_org,
        )
    ]
    item = factories.ask(
        consultation,
        title="Declare a climate emergency",
        versions=(V1, V2),
        author=people.secretariat,
    )
    item.state = AskState.IN_REVIEW  # as publishing its first version would have set it
    db.session.commit()
    return item
