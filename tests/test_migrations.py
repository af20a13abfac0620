"""The migrations build the schema from empty on SQLite and PostgreSQL, with no drift; and
with the demo loaded, every migration downgrades and upgrades again losing no row."""

from __future__ import annotations

import uuid

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from consult import create_app
from consult.demo import load_demo
from consult.extensions import db
from consult.models.base import include_in_autogenerate
from tests.helpers import (
    POSTGRES_ADMIN_URL,
    postgres_available,
    postgres_url,
    stale_comment_html,
    unavailable,
)

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
    "data_revision",
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


def _row_counts() -> dict[str, int]:
    """How many rows each of the database's tables holds (but Alembic's own and SQLite's
    full-text index, whose tables follow search_document's)."""
    db.session.remove()
    names = [
        name
        for name in inspect(db.engine).get_table_names()
        if name != "alembic_version" and not name.startswith("search_fts")
    ]
    with db.engine.connect() as connection:
        return {
            name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in names
        }


def _indexed() -> dict[str, int]:
    """How many rows of each kind the search index holds."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT kind, count(*) FROM search_document GROUP BY kind")
        ).all()
    return {kind: count for kind, count in rows}


def _migrating_app(url: str, tmp_path) -> Flask:
    """An app on this database, for migrating it and loading the demo (hashing kept cheap)."""
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "x",
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
        }
    )


def _round_trip_with_the_demo(url: str, tmp_path) -> None:
    app = _migrating_app(url, tmp_path)
    with app.app_context():
        try:
            flask_migrate.upgrade()
            load_demo()
            db.session.commit()
            loaded = _row_counts()
            assert set(loaded) == TABLES - {"alembic_version"}
            assert loaded["audit_event"] > 0 and loaded["comment"] > 0
            indexed = _indexed()
            assert set(indexed) == {"ask", "paragraph", "comment", "amendment"}

            # Down one migration at a time, to the first: every table still there keeps
            # every row (the tables a migration made go with it).
            config = app.extensions["migrate"].migrate.get_config()
            revisions = list(ScriptDirectory.from_config(config).walk_revisions())
            first = revisions[-1]
            assert first.down_revision is None
            for revision in revisions[:-1]:
                flask_migrate.downgrade(revision=revision.down_revision)
                now = _row_counts()
                assert now == {name: loaded[name] for name in now}, revision.doc
            first_tables = set(now)
            assert {"organisation", "user_account", "audit_event", "ask"} <= first_tables

            # Up again to the head: the rows are all there, the search index rebuilt, the
            # schema the models' own and the audit log append-only again.
            flask_migrate.upgrade()
            again = _row_counts()
            assert {name: again[name] for name in first_tables} == {
                name: loaded[name] for name in first_tables
            }
            # (Comments and amendments went with their migrations, so did their search rows.)
            assert _indexed() == {
                kind: count for kind, count in indexed.items() if kind in ("ask", "paragraph")
            }
            result = app.test_cli_runner().invoke(args=["db", "check"])
            assert result.exit_code == 0, result.output
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text("DELETE FROM audit_event"))
            db.session.rollback()

            # And the first migration too: down to nothing, then up again.
            db.session.remove()
            flask_migrate.downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            flask_migrate.upgrade()
            assert TABLES <= set(inspect(db.engine).get_table_names())
        finally:
            db.session.remove()
            db.engine.dispose()


STORED_HTML = "d4b7e1a9c3f6"  # comments keep their HTML
COPIED = (
    "ask_id, version_id, paragraph_anchor, quote, parent_id, author_id, organisation_id, body, "
    "state, created_at, edited_at, hidden_reason, hidden_at, hidden_by_id, resolved_at, "
    "resolved_by_id, resolution"
)


def _comments_rendered_by_the_migration(url: str, tmp_path) -> None:
    app = _migrating_app(url, tmp_path)
    with app.app_context():
        try:
            flask_migrate.upgrade()
            load_demo()
            db.session.commit()
            db.session.remove()
            config = app.extensions["migrate"].migrate.get_config()
            migration = ScriptDirectory.from_config(config).get_revision(STORED_HTML)
            flask_migrate.downgrade(revision=migration.down_revision)
            # Comments from before it, more than one batch of them: copies of the demo's.
            with db.engine.begin() as connection:
                count = text("SELECT count(*) FROM comment")
                while connection.execute(count).scalar_one() <= migration.module.BATCH:
                    connection.execute(
                        text(f"INSERT INTO comment ({COPIED}) SELECT {COPIED} FROM comment")
                    )
                comments = connection.execute(count).scalar_one()
                resolved = connection.execute(
                    text("SELECT count(*) FROM comment WHERE resolution IS NOT NULL")
                ).scalar_one()
            assert resolved > 0

            flask_migrate.upgrade()
            assert stale_comment_html() == []
            columns = {c["name"]: c for c in inspect(db.engine).get_columns("comment")}
            assert not columns["body_html"]["nullable"]
            assert not columns["body_html_version"]["nullable"]
            assert db.session.scalar(text("SELECT count(*) FROM comment")) == comments
            assert (
                db.session.scalar(
                    text("SELECT count(*) FROM comment WHERE resolution_html IS NOT NULL")
                )
                == resolved
            )
        finally:
            db.session.remove()
            db.engine.dispose()


def test_sqlite_upgrades_from_empty_to_head(tmp_path):
    _upgrade_and_check(f"sqlite:///{tmp_path / 'empty.sqlite3'}")


def test_sqlite_migrations_go_down_and_up_again_with_the_demo_losing_no_row(tmp_path):
    _round_trip_with_the_demo(f"sqlite:///{tmp_path / 'demo.sqlite3'}", tmp_path)


@pytest.fixture
def postgres_scratch_url():
    """A PostgreSQL database of the test's own, dropped afterwards."""
    if not postgres_available():
        unavailable("PostgreSQL does not answer")
    import psycopg

    name = f"consult_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgres_upgrades_from_empty_to_head(postgres_scratch_url):
    _upgrade_and_check(postgres_scratch_url)


def test_postgres_migrations_go_down_and_up_again_with_the_demo_losing_no_row(
    postgres_scratch_url, tmp_path
):
    _round_trip_with_the_demo(postgres_scratch_url, tmp_path)


def test_sqlite_migration_renders_the_html_of_existing_comments(tmp_path):
    _comments_rendered_by_the_migration(f"sqlite:///{tmp_path / 'html.sqlite3'}", tmp_path)


def test_postgres_migration_renders_the_html_of_existing_comments(postgres_scratch_url, tmp_path):
    _comments_rendered_by_the_migration(postgres_scratch_url, tmp_path)


@pytest.mark.parametrize("module", ["consult.models"])
def test_models_match_metadata(module):
    """Every model's table is in the metadata that the migrations are checked against."""
    models = __import__(module, fromlist=["Base"])
    assert TABLES - {"alembic_version"} == set(models.Base.metadata.tables)
