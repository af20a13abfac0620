"""after_commit(): do something once the current transaction commits, never if it rolls back.
after_the_answer(): do something in a transaction of its own once the response has gone.

Emails and live events use after_commit, so nobody is told about a change that was not saved.

A callback belongs to the transaction that was innermost when it was registered: the
session's transaction, or the savepoint (`begin_nested()`) open at the time.

- a savepoint rolled back drops its own callbacks (and those of savepoints inside it), and
  only those: work saved around it is still announced;
- a savepoint released (committed) hands its callbacks to the transaction around it;
- the outermost commit runs every callback still held, in the order they were registered;
- the outermost transaction ending any other way (rollback, `session.close()`) drops them.

SQLAlchemy's own `after_commit` event also fires when a savepoint is released, and
`after_rollback` when one is rolled back, so neither alone says which callbacks to run.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import copy_current_request_context, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from werkzeug.wrappers import Response as BaseResponse

from consult.extensions import db

_KEY = "consult_after_commit"

# (the transaction or savepoint that registered it, or None when none had begun; callback)
_Pending = list[tuple[SessionTransaction | None, Callable[[], None]]]


def after_commit(callback: Callable[[], None]) -> None:
    """Call callback (in this app context) after the current transaction commits."""
    session = db.session()
    owner = session.get_nested_transaction() or session.get_transaction()
    _pending(session).append((owner, callback))


def _pending(session: Session) -> _Pending:
    return session.info.setdefault(_KEY, [])


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    """Whether `transaction` is `ancestor` or was begun inside it."""
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session has loaded: for a request that answers from
    the objects it has just saved through this session, where reloading them would read back
    only what it wrote (two statements and their loading, a fifth of a comment's POST)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    # Fired for a released savepoint too: its callbacks simply stay, now the parent's.
    if session.get_nested_transaction() is not None:
        return
    for _, callback in session.info.pop(_KEY, []):
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _drop_savepoint(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        return  # the outermost transaction: _drop_all has dropped everything
    pending = session.info.get(_KEY)
    if pending:
        pending[:] = [(t, c) for t, c in pending if not _within(t, previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _drop_all(session: Session, transaction: SessionTransaction) -> None:
    # After a commit they have run already; after a rollback or close they never will.
    if transaction.parent is None:
        session.info.pop(_KEY, None)


def after_the_answer(response: BaseResponse, work: Callable[[], None]) -> BaseResponse:
    """Do `work` in a transaction of its own once `response` has been sent, and commit it.

    For work whose duration would tell the person something they must not learn (whether an
    address has an account): the answer leaves before the work starts, so it takes the same
    time either way. The work still has the request (for the audit log's address); a
    failure is logged and rolled back, never shown (the answer has gone)."""

    @copy_current_request_context
    def run() -> None:
        try:
            work()
            db.session.commit()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("Work done after the answer failed")

    response.call_on_close(run)
    return response
