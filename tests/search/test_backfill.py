"""The search index's migration indexes what was already there: downgrading past it and
upgrading again finds the asks, paragraphs, comments and amendments as before (and leaves
withdrawn comments out), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import flask_migrate
import pytest
from sqlalchemy import select

from consult import create_app
from consult.comments import services as comment_services
from consult.extensions import db
from consult.models import Amendment, AmendmentState, Role, SearchDocument, User
from consult.search.services import search
from consult.text import paragraphs
from tests import factories
from tests.helpers import POSTGRES_ADMIN_URL, postgres_available, postgres_url, unavailable

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

BEFORE = "e4a7c2d9b1f3"  # the revision before the search index


def _rows() -> set[tuple]:
    return set(
        db.session.execute(
            select(
                SearchDocument.kind,
                SearchDocument.object_id,
                SearchDocument.ask_id,
                SearchDocument.paragraph_anchor,
                SearchDocument.position,
                SearchDocument.text,
            )
        ).all()
    )


def _backfill_matches_the_events(url: str) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context(), app.test_request_context():
        try:
            flask_migrate.upgrade()
            org = factories.organisation("Home")
            member = factories.user(Role.MEMBER, org)
            consultation = factories.consultation("Backfill")
            ask = factories.ask(
                consultation, title="Moorland", versions=("Old grouse.", "Peat bogs.\n\nCurlews.")
            )
            kept = comment_services.add_comment(author=member, ask=ask, body="Curlews *nest*.")[0]
            gone = comment_services.add_comment(author=member, ask=ask, body="Curlews go.")[0]
            comment_services.withdraw_comment(actor=member, comment=gone)
            db.session.add(
                Amendment(
                    ask=ask,
                    version=ask.current_version,
                    paragraph_anchor=paragraphs(ask.current_version.body)[1].anchor,
                    original="Curlews.",
                    wording="Curlews and lapwings.",
                    rationale="Waders.",
                    organisation=org,
                    proposer=member,
                    state=AmendmentState.OPEN,
                )
            )
            db.session.commit()
            by_events = _rows()
            assert len(by_events) == 5  # the ask, two paragraphs, a comment, an amendment

            member_id, kept_id, gone_id = member.id, kept.id, gone.id
            db.session.remove()
            flask_migrate.downgrade(revision=BEFORE)
            flask_migrate.upgrade()

            assert _rows() == by_events
            reader = db.session.get(User, member_id)
            found = db.session.execute(search(reader, "curlew")).all()
            assert {(row.kind, row.object_id) for row in found} >= {("comment", kept_id)}
            assert ("comment", gone_id) not in {(row.kind, row.object_id) for row in found}
            assert "paragraph" in {row.kind for row in found}
            db.session.remove()
        finally:
            db.engine.dispose()


def test_sqlite_backfill(tmp_path):
    _backfill_matches_the_events(f"sqlite:///{tmp_path / 'backfill.sqlite3'}")


def test_postgres_backfill():
    if not postgres_available():
        unavailable("PostgreSQL does not answer")
    import psycopg

    name = f"consult_backfill_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        _backfill_matches_the_events(postgres_url(name))
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
