"""announce(): record a live event in the current transaction; publish it after commit.

Posting never depends on the push channel: the event row is saved with the change, and if
publishing fails the pages catch up from the database when they reconnect.
"""

from __future__ import annotations

import functools
import logging

from flask import current_app

from consult.extensions import db
from consult.models import LiveEvent
from consult.transactions import after_commit

log = logging.getLogger(__name__)


def channel_for(ask_id: int) -> str:
    """The broker channel of one ask's page."""
    return f"ask:{ask_id}"


def announce(*, ask_id: int, name: str, object_id: int | None) -> LiveEvent:
    """Record that something changed on an ask's page; it is published once committed."""
    live_event = LiveEvent(ask_id=ask_id, name=name, object_id=object_id)
    db.session.add(live_event)
    db.session.flush()  # its id is the SSE id
    message = {"id": live_event.id, "name": name, "object_id": object_id}
    after_commit(functools.partial(_publish, channel_for(ask_id), message))
    return live_event


def _publish(channel: str, message: dict) -> None:
    broker = current_app.extensions.get("consult_broker")
    if broker is None:
        return
    try:
        broker.publish(channel, message)
    except Exception:  # the push channel is down: pages catch up on reconnect
        log.exception("Could not publish live event %s", message)
