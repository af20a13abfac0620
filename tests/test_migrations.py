"""The migrations build the schema from empty on SQLite and PostgreSQL, with no drift."""

from __future__ import annotations

import uuid

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from consult import create_app
from consult.extensions import db
from consult.models.base import include_in_autogenerate
from tests.helpers import POSTGRES_ADMIN_URL, postgres_available, postgres_url, unavailable

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

TABLES = {
    "organisation",
    "user_account",
    "account_token",
    "consultation",
    "ask",
    "draft_version",
    "audit_event",
    "comment",
    "comment_report",
    "live_event",
    "participant",
    "position",
    "amendment",
    "amendment_backing",
    "disposition",
    "endorsement",
    "backer",
    "version_draft",
    "reminder",
    "agreement",
    "ask_visit",
    "organisation_note",
    "outgoing_email",
    "notification_preference",
    "digest_item",
    "search_document",
    "alembic_version",
}


def _upgrade_and_check(url: str) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        try:
            flask_migrate.upgrade()
            assert TABLES <= set(inspect(db.engine).get_table_names())
            # `flask db check` exits non-zero when the models and migrations differ...
            result = app.test_cli_runner().invoke(args=["db", "check"])
            assert result.exit_code == 0, result.output
            # ...and Alembic's own comparison finds nothing to migrate.
            with db.engine.connect() as connection:
                context = MigrationContext.configure(
                    connection,
                    opts={"compare_type": True, "include_object": include_in_autogenerate},
                )
                assert compare_metadata(context, db.metadata) == []
        finally:
            db.engine.dispose()


def test_sqlite_upgrades_from_empty_to_head(tmp_path):
    _upgrade_and_check(f"sqlite:///{tmp_path / 'empty.sqlite3'}")


def test_postgres_upgrades_from_empty_to_head():
    if not postgres_available():
        unavailable("PostgreSQL does not answer")
    import psycopg

    name = f"consult_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        _upgrade_and_check(postgres_url(name))
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("module", ["consult.models"])
def test_models_match_metadata(module):
    """Every model's table is in the metadata that the migrations are checked against."""
    models = __import__(module, fromlist=["Base"])
    assert TABLES - {"alembic_version"} == set(models.Base.metadata.tables)
