"""tests/helpers.built_once: a fixture's rows made once, then put back as they were made
(SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.models import Organisation
from tests import factories
from tests.helpers import built_once, empty_database

pytestmark = pytest.mark.database


def test_the_rows_come_back_as_built_whatever_a_test_did_to_them(app):
    builds: list[int] = []

    def build() -> int:
        builds.append(1)
        made = factories.organisation(name="Built once")
        db.session.flush()
        return made.id

    first = built_once("test: one organisation", build)
    # What a test might do: change a built row and add one of its own.
    db.session.get(Organisation, first).name = "Changed by a test"
    factories.organisation(name="Added by a test")
    db.session.commit()

    empty_database()  # as the next test's `app` fixture does
    again = built_once("test: one organisation", build)

    names = db.session.scalars(select(Organisation.name)).all()
    assert names == ["Built once"]
    assert builds == [1] and again == first  # put back, not built again
    # The next row made gets the id it would have had after building.
    assert factories.organisation(name="Next").id == first + 1


def test_it_refuses_a_database_where_a_fixture_already_made_rows(app):
    factories.organisation(name="Made by an earlier fixture")
    db.session.commit()
    # (With the database's revision, which the commit gave it.)
    with pytest.raises(
        AssertionError,
        match=r"needs an empty database; rows are in \['data_revision', 'organisation'\]",
    ):
        built_once("test: refused", lambda: None)
    assert db.session.scalars(select(Organisation.name)).all() == ["Made by an earlier fixture"]
