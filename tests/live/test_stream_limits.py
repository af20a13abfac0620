"""An open stream ends when its session no longer stands (sign-out, password change,
deactivation, timeout), and nobody can open more than a few: per person (429) and per
process (503), each with Retry-After, while ordinary pages keep answering."""

from __future__ import annotations

import http.client
import uuid

import pytest
import time_machine
from flask import Flask

from consult.auth import services
from consult.extensions import db
from consult.live.services import announce
from consult.models import Role
from tests import factories
from tests.helpers import login_as
from tests.live.helpers import HTTPStream, StreamReader, cookie_for, wait_until

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """An app of each test's own (the secret key is one of the settings an app is built
    with): the count of open streams belongs to the app, and another test's stream, still
    ending on a shared app, must not count against this one's caps."""
    return {
        **app_config,
        "SECRET_KEY": f"stream-limits-{uuid.uuid4().hex}",
        "SERVER_NAME": None,
        "LIVE_HEARTBEAT_SECONDS": 0.1,
        "LIVE_STREAM_SECONDS": 30,  # far longer than any test waits: ending is the check's
        "LIVE_STREAMS_PER_PERSON": 3,
        "LIVE_STREAMS_PER_PROCESS": 5,
    }


@pytest.fixture
def ask(app: Flask):
    return factories.ask(factories.consultation())


def url(ask) -> str:
    return f"/asks/{ask.id}/events"


def open_streams(app: Flask) -> int:
    return app.extensions["consult_open_streams"].count()


# An open stream ends when the session no longer stands ---------------------------------------


def open_stream(client, ask) -> tuple:
    response = client.get(url(ask), buffered=False)
    assert response.status_code == 200
    reader = StreamReader(response.response)
    reader.read_until(lambda text: ": connected" in text, timeout=5)
    return response, reader


def test_deactivation_ends_an_open_stream_and_no_event_follows(app, client, ask, broker):
    secretariat = factories.user(Role.SECRETARIAT)
    member = factories.user(Role.MEMBER)
    response, reader = open_stream(login_as(client, member), ask)
    try:
        reader.read_until(lambda text: ": ping" in text, timeout=5)  # checks pass while active
        services.set_user_active(actor=secretariat, user=member, active=False)
        db.session.commit()

        # Ended at the next heartbeat (before the fix: open until LIVE_STREAM_SECONDS).
        reader.read_to_end(timeout=5)
    finally:
        response.close()
    assert broker.subscriber_count() == 0
    # What happens afterwards reaches nobody.
    announce(ask_id=ask.id, name="comment-added", object_id=1)
    db.session.commit()
    assert "id:" not in reader.text
    assert open_streams(app) == 0
    # The browser's reconnection is refused: it stops asking.
    assert client.get(url(ask)).status_code == 401


def test_signing_out_elsewhere_ends_an_open_stream(app, client, ask, broker):
    member = factories.user(Role.MEMBER)
    response, reader = open_stream(login_as(client, member), ask)
    try:
        services.record_sign_out(member)  # sign-out in another browser rotates the token
        db.session.commit()
        reader.read_to_end(timeout=5)
    finally:
        response.close()
    assert client.get(url(ask)).status_code == 401


def test_a_stream_ends_when_its_session_times_out(app, client, ask, broker):
    member = factories.user(Role.MEMBER)
    with time_machine.travel("2030-07-01 09:00 +0000", tick=False) as clock:
        login_as(client, member)
        response, reader = open_stream(client, ask)
        try:
            clock.shift(app.config["SESSION_IDLE_MINUTES"] * 60)
            reader.read_to_end(timeout=5)
        finally:
            response.close()


# Caps on open streams ---------------------------------------------------------------------------


def get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


def test_one_person_may_open_only_a_few_streams(app, server, ask):
    member = factories.user(Role.MEMBER)
    other = factories.user(Role.MEMBER)
    db.session.commit()
    cookie = cookie_for(app, member)
    streams = []
    try:
        for _ in range(3):
            streams.append(HTTPStream(server, url(ask), cookie))
            assert streams[-1].response.status == 200
        assert open_streams(app) == 3

        refused = get(server, url(ask), cookie)

        assert refused.status == 429
        assert refused.getheader("Retry-After") == "30"
        assert open_streams(app) == 3  # the refusal took no place
        # Pages still answer, for this person and others; another person may open a stream.
        assert get(server, "/account", cookie).status == 200
        assert get(server, "/sign-in").status == 200
        streams.append(HTTPStream(server, url(ask), cookie_for(app, other)))
        assert streams[-1].response.status == 200
        # Closing a tab gives its place back (noticed at the next heartbeat).
        streams[0].close()
        assert wait_until(lambda: open_streams(app) == 3, 5)
        streams.append(HTTPStream(server, url(ask), cookie))
        assert streams[-1].response.status == 200
    finally:
        for stream in streams:
            stream.close()
    assert wait_until(lambda: open_streams(app) == 0, 5)


def test_a_process_holds_only_so_many_streams(app, server, ask):
    people = [factories.user(Role.MEMBER) for _ in range(6)]
    db.session.commit()
    streams = []
    try:
        for person in people[:5]:
            streams.append(HTTPStream(server, url(ask), cookie_for(app, person)))
            assert streams[-1].response.status == 200

        refused = get(server, url(ask), cookie_for(app, people[5]))

        assert refused.status == 503
        assert refused.getheader("Retry-After") == "10"
        assert get(server, "/sign-in").status == 200
    finally:
        for stream in streams:
            stream.close()
    assert wait_until(lambda: open_streams(app) == 0, 5)


def test_a_stream_that_is_never_read_gives_its_place_back(app, client, ask, broker):
    login_as(client, factories.user(Role.MEMBER))
    for _ in range(5):  # more than the person's cap
        response = client.head(url(ask))
        assert response.status_code == 200
        response.close()  # what a WSGI server does once it has sent the (empty) body
    assert open_streams(app) == 0
