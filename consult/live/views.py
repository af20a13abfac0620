"""The Server-Sent Events stream of an ask's page: doorbells, never HTML.

Each event names what changed and its database id (`comment-added`, 42); the page fetches the
fragment through the ordinary, permission-checked GET. The stream:

- requires sign-in (401 otherwise: EventSource gives up on a 401/403 rather than reconnect in
  a loop; htmx's SSE extension then retries with a growing delay, up to about a minute) and
  read permission on the consultation (403);
- replays, from the database, the events after the `Last-Event-ID` the browser sends when it
  reconnects (or `?last_event_id=`, for a page that knows which event it was rendered after);
- closes its database session before streaming: an open stream holds no connection;
- sends `: ping` every LIVE_HEARTBEAT_SECONDS (all of a process's streams at once, paced by
  its session watch) and ends after LIVE_STREAM_SECONDS (noticed at the next heartbeat or
  message); the browser reconnects after `retry:` milliseconds, with Last-Event-ID;
- ends within a heartbeat when the person's session no longer stands (signed out, password
  changed, deactivated): this process checks the sessions of all its open streams in one
  query every LIVE_HEARTBEAT_SECONDS (consult/live/standing.py) and wakes those that must
  end. It also ends when the session would time out. The reconnection then gets a 401. It
  also ends when the database does not answer that query (the reconnection gets a 503 until
  it does);
- is one of at most LIVE_STREAMS_PER_PERSON of a person's and LIVE_STREAMS_PER_PROCESS of
  this process's (consult/live/limits.py): past them, 429 or 503 with Retry-After;
- sends only `event: reload` when the events after Last-Event-ID have been pruned (kept
  LIVE_EVENT_RETENTION_HOURS): the page reloads (static/js/consult.js) instead of catching up.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request
from flask_login import current_user
from sqlalchemy import select

from consult import permissions
from consult.auth import sessions
from consult.extensions import db
from consult.live.broker import TICK, Subscription, channel_for
from consult.live.limits import Slot, StreamRefused
from consult.live.services import cursor_expired
from consult.live.standing import Watched
from consult.loading import load
from consult.models import Ask, LiveEvent

bp = Blueprint("live", __name__)

REPLAY_LIMIT = 500  # at most this many missed events are replayed on reconnect
RETRY_MILLISECONDS = 3000
SENT_IDS_KEPT = 1000  # ids remembered to avoid sending an event twice
RELOAD = f"retry: {RETRY_MILLISECONDS}\nevent: reload\ndata: {{}}\n\n"

HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once
}


def format_event(event_id: int, name: str, object_id: int | None, *, id_line: bool = True) -> str:
    """One SSE event. The id line is left out when it would move the browser's
    Last-Event-ID backwards (an older event committed after a newer one was sent)."""
    data = json.dumps({"id": event_id, "object_id": object_id})
    head = f"id: {event_id}\n" if id_line else ""
    return f"{head}event: {name}\ndata: {data}\n\n"


# Every open stream of an ask sends the same text for an event: formatted once per process.
_format_shared = functools.lru_cache(maxsize=1024)(format_event)


def _last_event_id() -> int:
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id") or ""
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return 0
    return int(raw)


@bp.get("/asks/<int:ask_id>/events")
def stream(ask_id: int) -> Response:
    """The live event stream of an ask's page, for people who may read it."""
    if not current_user.is_authenticated:
        return Response("Sign in to receive live updates.\n", 401, mimetype="text/plain")
    load(Ask, ask_id, permissions.can_follow_discussion)

    after = _last_event_id()
    if cursor_expired(after):  # what it missed is gone: the page reloads
        db.session.remove()
        return Response(RELOAD, mimetype="text/event-stream", headers=HEADERS)
    config = current_app.config
    try:
        slot = current_app.extensions["consult_open_streams"].take(
            current_user.id,
            per_person=int(config["LIVE_STREAMS_PER_PERSON"]),
            per_process=int(config["LIVE_STREAMS_PER_PROCESS"]),
        )
    except StreamRefused as refused:
        db.session.remove()
        return Response(
            refused.message + "\n",
            refused.status,
            mimetype="text/plain",
            headers={"Retry-After": str(refused.retry_after)},
        )
    session_token, session_ends = sessions.token(), sessions.ends_at()
    broker = current_app.extensions["consult_broker"]
    # Subscribe before reading the database: an event committed in between is in both,
    # and is sent once.
    try:
        subscription = broker.subscribe(channel_for(ask_id))
    except BaseException:
        slot.release()
        raise
    try:
        watched = current_app.extensions["consult_session_watch"].watch(
            session_token, session_ends, subscription.wake, subscription.tick
        )
    except BaseException:
        subscription.close()
        slot.release()
        raise
    try:
        replay = list(
            db.session.execute(
                select(LiveEvent.id, LiveEvent.name, LiveEvent.object_id)
                .where(LiveEvent.ask_id == ask_id, LiveEvent.id > after)
                .order_by(LiveEvent.id.desc())
                .limit(REPLAY_LIMIT)
            ).all()
        )
        replay.reverse()
        # It ends by LIVE_STREAM_SECONDS, and when the session would.
        stream_seconds = min(
            float(config.get("LIVE_STREAM_SECONDS", 300)),
            max((session_ends or time.time()) - time.time(), 0),
        )
        # Let go of the database connection: the stream may stay open for minutes.
        db.session.remove()
        events = _events(subscription, slot, watched, replay, after, stream_seconds)
        response = Response(events, mimetype="text/event-stream", headers=HEADERS)
    except BaseException:
        watched.close()
        subscription.close()
        slot.release()
        raise
    # Also when the stream is never iterated (a HEAD request, a client gone at once).
    response.call_on_close(watched.close)
    response.call_on_close(subscription.close)
    response.call_on_close(slot.release)
    return response


def _events(
    subscription: Subscription,
    slot: Slot,
    watched: Watched,
    replay: list,
    after: int,
    stream_seconds: float,
) -> Iterator[str]:
    # `after` is the browser's Last-Event-ID: the id lines never go below it.
    """Yield the stream's text; runs outside any request or application context."""
    try:
        deadline = time.monotonic() + stream_seconds
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
        sent: dict[int, None] = {}  # insertion-ordered set of the ids sent (or replayed)
        last_id = after
        for event_id, name, object_id in replay:
            sent[event_id] = None
            last_id = max(last_id, event_id)
            yield format_event(event_id, name, object_id)
        if time.monotonic() >= deadline:
            return
        while True:
            # No timed wait (a timer per stream and message costs more than the rest of the
            # wait): the process's session watch wakes every stream at each heartbeat (TICK),
            # events and the watch's verdict wake it otherwise.
            message = subscription.get(timeout=None)
            if subscription.needs_resync:
                return  # messages were lost: the browser reconnects and replays them
            if watched.ended is not None:
                # The session no longer stands, or the database did not answer its check (the
                # reconnection is answered 503 until it does): send nothing more.
                return
            if time.monotonic() >= deadline:
                return
            if message is TICK:
                subscription.tick_pending = False
                if not watched.stands():
                    return  # timed out (or signed out, deactivated): send nothing more
                yield ": ping\n\n"
                continue
            if message is None:
                continue
            # Sent unless it was replayed. Whatever arrives here was published after this
            # stream subscribed, so its browser cannot have had it, even if its id is older
            # than Last-Event-ID (ids are numbered at flush, events published at commit).
            event_id = message.get("id")
            if not isinstance(event_id, int) or event_id in sent:
                continue
            sent[event_id] = None
            if len(sent) > SENT_IDS_KEPT:
                del sent[next(iter(sent))]
            advances = event_id > last_id
            last_id = max(last_id, event_id)
            object_id = message.get("object_id")
            formatted = _format_shared if isinstance(object_id, int | None) else format_event
            yield formatted(event_id, str(message.get("name")), object_id, id_line=advances)
    finally:
        watched.close()
        subscription.close()
        slot.release()
