"""after_commit(): do something once the current transaction commits, never if it rolls back.

Emails and live events use it, so nobody is told about a change that was not saved.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from consult.extensions import db

_KEY = "consult_after_commit"


def after_commit(callback: Callable[[], None]) -> None:
    """Call callback (in this app context) after the current transaction commits."""
    db.session().info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    for callback in session.info.pop(_KEY, []):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_KEY, None)
