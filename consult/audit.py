"""record(): the only writer of audit events."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from flask import has_request_context, request

from consult.extensions import db
from consult.models import AuditEvent, User


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def snapshot(obj: Any, *fields: str) -> dict[str, Any]:
    """The named attributes of obj as JSON-safe values, for before/after."""
    return {name: _plain(getattr(obj, name)) for name in fields}


class Unknown:
    """The object of an event about something that does not exist (a password reset asked
    for an email address with no account): its table, no id."""

    def __init__(self, tablename: str) -> None:
        self.__tablename__ = tablename
        self.id = None


def record(
    actor: User | None,
    action: str,
    obj: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event for obj to the current transaction (the caller commits)."""
    if getattr(obj, "id", None) is None and not isinstance(obj, Unknown):
        db.session.flush()
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=obj.__tablename__,
        object_id=obj.id,
        before=before,
        after=after,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
