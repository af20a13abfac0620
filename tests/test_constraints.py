"""Invariants that the database itself enforces, whatever the code in front of it does."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from consult.extensions import db
from consult.models import AuditEvent, Organisation, Participant
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


# The audit log is append-only in the database (issue 11), not only through the ORM.


def _one_audit_event() -> int:
    from consult.audit import record

    organisation = factories.organisation()
    event_id = record(None, "organisation.create", organisation, after={"name": organisation.name})
    db.session.commit()
    return event_id


def _refused(statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()


def test_the_database_refuses_to_update_or_delete_audit_events(app):
    event_id = _one_audit_event()
    _refused(f"UPDATE audit_event SET action = 'forged' WHERE id = {event_id}")
    _refused("UPDATE audit_event SET ip_address = NULL")
    _refused(f"DELETE FROM audit_event WHERE id = {event_id}")
    _refused("DELETE FROM audit_event")
    # Nothing changed, and the log still takes new events.
    assert db.session.scalars(select(AuditEvent.action)).all() == ["organisation.create"]
    _one_audit_event()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 2


def test_postgres_refuses_to_truncate_the_audit_log(app, backend):
    if backend != "postgres":
        pytest.skip("TRUNCATE is PostgreSQL's (SQLite's DELETE is refused above)")
    _one_audit_event()
    _refused("TRUNCATE audit_event CASCADE")
    _refused("TRUNCATE user_account, audit_event CASCADE")
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 1
