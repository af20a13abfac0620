"""Invariants that the database itself enforces, whatever the code in front of it does."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consult.extensions import db
from consult.models import Organisation, Participant
from tests import factories

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def test_organisation_names_are_unique_ignoring_case(app):
    factories.organisation(name="Blueprint Council")
    with pytest.raises(IntegrityError):
        factories.organisation(name="BLUEPRINT council")
    db.session.rollback()


def test_an_organisation_takes_part_in_a_consultation_once(app):
    consultation = factories.consultation()
    organisation = factories.organisation()
    db.session.add(Participant(consultation=consultation, organisation=organisation))
    db.session.flush()
    db.session.add(Participant(consultation=consultation, organisation=organisation))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_savepoint_as_the_first_write_is_undone_with_its_transaction(app):
    """On SQLite, a SAVEPOINT outside a transaction starts one of its own and its RELEASE
    commits it: the outer rollback would then leave the row behind."""
    with db.session.begin_nested():
        factories.organisation(name="Kept only if committed")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0
