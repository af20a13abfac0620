"""announce(): record a live event in the current transaction; publish it after commit.

Posting never depends on the push channel: the event row is saved with the change, and if
publishing fails the pages catch up from the database when they reconnect.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from consult.extensions import db
from consult.models import LiveEvent

log = logging.getLogger(__name__)

_QUEUE = "consult_live_events"


def channel_for(ask_id: int) -> str:
    """The broker channel of one ask's page."""
    return f"ask:{ask_id}"


def announce(*, ask_id: int, name: str, object_id: int | None) -> LiveEvent:
    """Record that something changed on an ask's page; it is published once committed."""
    live_event = LiveEvent(ask_id=ask_id, name=name, object_id=object_id)
    db.session.add(live_event)
    db.session().info.setdefault(_QUEUE, []).append(live_event)
    return live_event


_READY = "consult_live_messages"


@event.listens_for(Session, "before_commit")
def _number(session: Session) -> None:
    """Flush, so the events have their ids, and keep what will be published."""
    events = session.info.pop(_QUEUE, [])
    if events:
        session.flush()
        session.info.setdefault(_READY, []).extend(
            (channel_for(e.ask_id), {"id": e.id, "name": e.name, "object_id": e.object_id})
            for e in events
        )


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    messages = session.info.pop(_READY, [])
    if not messages:
        return
    broker = current_app.extensions.get("consult_broker")
    if broker is None:
        return
    for channel, message in messages:
        try:
            broker.publish(channel, message)
        except Exception:  # the push channel is down: pages catch up on reconnect
            log.exception("Could not publish live event %s", message)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_QUEUE, None)
    session.info.pop(_READY, None)
