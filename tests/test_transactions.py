"""after_commit(): callbacks belong to the transaction (or savepoint) that registered them."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consult.extensions import db
from consult.models import Organisation
from consult.transactions import after_commit, commit_keeping_loaded
from tests import factories
from tests.helpers import statements_during

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


@pytest.fixture
def ran(app) -> list[str]:
    """What the callbacks registered by a test have done, in order."""
    return []


def names() -> set[str]:
    return set(db.session.scalars(select(Organisation.name)))


def test_the_outermost_commit_runs_callbacks_in_order_and_a_rollback_none(app, ran):
    factories.organisation("Saved")
    after_commit(lambda: ran.append("first"))
    after_commit(lambda: ran.append("second"))
    assert ran == []
    db.session.commit()
    assert ran == ["first", "second"]

    factories.organisation("Dropped")
    after_commit(lambda: ran.append("dropped"))
    db.session.rollback()
    db.session.commit()
    assert ran == ["first", "second"]
    assert names() == {"Saved"}


def test_a_savepoint_rolled_back_keeps_the_outer_callbacks(app, ran):
    factories.organisation("Saved")
    after_commit(lambda: ran.append("outer"))
    savepoint = db.session.begin_nested()
    factories.organisation("Undone")
    after_commit(lambda: ran.append("undone"))
    savepoint.rollback()
    after_commit(lambda: ran.append("after the savepoint"))
    assert ran == []
    db.session.commit()
    assert ran == ["outer", "after the savepoint"]
    assert names() == {"Saved"}


def test_a_savepoint_context_that_raises_drops_only_its_own_callbacks(app, ran):
    factories.organisation("Saved")
    after_commit(lambda: ran.append("outer"))
    with pytest.raises(RuntimeError), db.session.begin_nested():
        factories.organisation("Undone")
        after_commit(lambda: ran.append("undone"))
        raise RuntimeError("refused")
    db.session.commit()
    assert ran == ["outer"]
    assert names() == {"Saved"}


def test_a_nested_commit_hands_its_callbacks_to_the_outer_commit(app, ran):
    factories.organisation("Outer")
    after_commit(lambda: ran.append("outer"))
    with db.session.begin_nested():
        factories.organisation("Inner")
        after_commit(lambda: ran.append("inner"))
    assert ran == []  # the savepoint is released, but nothing is committed yet
    db.session.commit()
    assert ran == ["outer", "inner"]
    assert names() == {"Outer", "Inner"}


def test_an_outer_rollback_runs_none_even_after_a_nested_commit(app, ran):
    factories.organisation("Outer")
    after_commit(lambda: ran.append("outer"))
    with db.session.begin_nested():
        factories.organisation("Inner")
        after_commit(lambda: ran.append("inner"))
    db.session.rollback()
    db.session.commit()
    assert ran == []
    assert names() == set()


def test_savepoints_within_savepoints(app, ran):
    factories.organisation("Outer")
    after_commit(lambda: ran.append("outer"))
    with db.session.begin_nested():
        after_commit(lambda: ran.append("middle"))
        inner = db.session.begin_nested()
        factories.organisation("Innermost")
        after_commit(lambda: ran.append("innermost"))
        inner.rollback()
        with db.session.begin_nested():
            after_commit(lambda: ran.append("kept"))
    db.session.commit()
    assert ran == ["outer", "middle", "kept"]
    assert names() == {"Outer"}


def test_closing_the_session_drops_what_was_not_committed(app, ran):
    factories.organisation("Never saved")
    after_commit(lambda: ran.append("dropped"))
    db.session.close()
    factories.organisation("Saved")
    db.session.commit()
    assert ran == []
    assert names() == {"Saved"}


def test_commit_keeping_loaded_saves_and_reads_nothing_back(app, ran):
    saved = factories.organisation("Kept loaded")
    after_commit(lambda: ran.append("committed"))
    commit_keeping_loaded()
    assert ran == ["committed"]
    # What the session loaded is still loaded: reading it runs no statement.
    assert statements_during(lambda: (saved.id, saved.name)) == 0
    assert db.session().expire_on_commit  # the next plain commit expires as before
    db.session.rollback()
    assert names() == {"Kept loaded"}
    db.session.commit()
    assert statements_during(lambda: saved.name) == 1


def test_commit_keeping_loaded_leaves_expiry_on_when_the_commit_fails(app, ran):
    factories.organisation("Twice")
    db.session.commit()
    db.session.add(Organisation(name="Twice"))  # names are unique: the commit's flush fails
    after_commit(lambda: ran.append("never"))
    with pytest.raises(IntegrityError):
        commit_keeping_loaded()
    db.session.rollback()
    assert db.session().expire_on_commit and ran == []
    assert names() == {"Twice"}
