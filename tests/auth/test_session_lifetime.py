"""A session begins afresh at sign-in and ends at sign-out, after SESSION_IDLE_MINUTES
without a request, and SESSION_LIFETIME_SECONDS after sign-in however busy; a page's form
token is rotated with it and expires (WTF_CSRF_TIME_LIMIT). Time moves by the test's clock."""

from __future__ import annotations

import time_machine
from flask.testing import FlaskClient

from consult.extensions import db
from tests import factories
from tests.helpers import is_signed_in, session_cookie, sign_in
from tests.html import select_one

START = "2030-07-01 09:00 +0000"
MINUTE = 60


def replay(app, cookie: str) -> FlaskClient:
    """A fresh browser that presents a copy of a session cookie."""
    client = app.test_client()
    client.set_cookie("consult_session", cookie, domain="consult.test")
    return client


def form_token(client: FlaskClient, path: str = "/sign-in") -> str:
    html = client.get(path).get_data(as_text=True)
    return select_one(
        html,
        'form[action="/sign-out"] input[name="csrf_token"], form[action^="/sign-in"] input[name="csrf_token"]',
    ).get("value")


def sign_in_with_token(client: FlaskClient, token: str):
    return client.post(
        "/sign-in",
        data={"email": "ada@example.org", "password": factories.PASSWORD, "csrf_token": token},
    )


def session_values(client: FlaskClient) -> dict:
    with client.session_transaction() as session:
        return dict(session)


# Sign-in begins a new session; sign-out empties it ---------------------------------------------


def test_sign_in_begins_a_new_session_with_a_new_form_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    factories.user(email="ada@example.org")
    db.session.commit()
    before = form_token(client)  # the sign-in page's token: known before signing in
    with client.session_transaction() as session:
        session["planted"] = "set before sign-in"  # e.g. by someone at the keyboard
    raw_before = session_values(client)["csrf_token"]

    response = sign_in_with_token(client, before)

    assert response.status_code == 303
    values = session_values(client)
    assert "planted" not in values
    assert values.get("csrf_token") != raw_before
    # The token known before sign-in does not work after it: nobody can post as the person
    # with a token they saw (or set) on the sign-in page.
    refused = client.post("/sign-out", data={"csrf_token": before})
    assert refused.status_code == 400
    assert is_signed_in(client)
    # The signed-in page's own token does.
    token = form_token(client, "/account")
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 303


def test_sign_out_empties_the_session_and_its_form_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    factories.user(email="ada@example.org")
    db.session.commit()
    sign_in_with_token(client, form_token(client))
    token = form_token(client, "/account")

    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 303

    assert "csrf_token" not in session_values(client)
    # The signed-in page's token no longer works, for signing in again either.
    response = sign_in_with_token(client, token)
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_a_form_token_expires(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    app.config["SESSION_IDLE_MINUTES"] = 24 * 60  # the session outlives the token
    limit = app.config["WTF_CSRF_TIME_LIMIT"]
    assert limit == 120 * MINUTE  # by default, as long as an idle session
    factories.user(email="ada@example.org")
    db.session.commit()
    with time_machine.travel(START, tick=False) as clock:
        sign_in_with_token(client, form_token(client))
        token = form_token(client, "/account")
        clock.shift(limit + 1)

        assert client.post("/sign-out", data={"csrf_token": token}).status_code == 400
        assert is_signed_in(client)
        # The page's script fetches a fresh token (nothing typed is lost), which works.
        fresh = client.get("/csrf-token").get_json()["csrfToken"]
        assert client.post("/sign-out", data={"csrf_token": fresh}).status_code == 303


# Idle and absolute timeouts --------------------------------------------------------------------


def test_a_session_ends_after_two_hours_without_a_request(app, client):
    assert app.config["SESSION_IDLE_MINUTES"] == 120
    factories.user(email="ada@example.org")
    db.session.commit()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, "ada@example.org")
        clock.shift(119 * MINUTE)
        assert is_signed_in(client)  # a request: seen again, the two hours start again
        clock.shift(119 * MINUTE)
        assert is_signed_in(client)
        copy = session_cookie(client)
        clock.shift(120 * MINUTE)

        assert not is_signed_in(client)
        assert not is_signed_in(replay(app, copy))  # a copy of the cookie ends too


def test_the_cookie_is_sent_again_only_when_the_person_was_last_seen_a_minute_ago(app, client):
    """Signing the cookie again on every request costs every page; "last seen" moves at most
    once a minute, so the idle limit holds to the minute."""
    factories.user(email="ada@example.org")
    db.session.commit()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, "ada@example.org")
        client.get("/account")  # shows (and so removes) the signed-in message, if any
        signed = session_cookie(client)
        clock.shift(59)
        response = client.get("/account")

        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers  # nothing changed: nothing sent
        assert session_cookie(client) == signed

        clock.shift(1)
        response = client.get("/account")

        assert "consult_session=" in response.headers["Set-Cookie"]
        assert session_values(client)["_seen_at"] == session_values(client)["_signed_in_at"] + 60
        # Idle from the minute it was last recorded: 119 minutes later, still signed in.
        clock.shift(119 * MINUTE + 59)
        assert is_signed_in(client)


def test_a_session_ends_a_fixed_time_after_sign_in_however_busy(app, client):
    app.config["PERMANENT_SESSION_LIFETIME"] = 8 * 60 * MINUTE
    factories.user(email="ada@example.org")
    db.session.commit()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, "ada@example.org")
        for _ in range(7):
            clock.shift(60 * MINUTE)
            assert is_signed_in(client)
        clock.shift(59 * MINUTE)
        assert is_signed_in(client)
        clock.shift(MINUTE)

        assert not is_signed_in(client)
        # Signing in again begins a new eight hours.
        sign_in(client, "ada@example.org")
        assert is_signed_in(client)


def test_a_cookie_without_its_times_is_not_signed_in(app):
    user = factories.user()
    db.session.commit()
    value = app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": user.session_token, "_fresh": True}  # as cookies were before
    )
    assert not is_signed_in(replay(app, value))


def test_an_open_stream_does_not_keep_a_session_alive(app, client):
    factories.user(email="ada@example.org")
    ask = factories.ask(factories.consultation())
    db.session.commit()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, "ada@example.org")
        clock.shift(100 * MINUTE)
        # The page's stream reconnecting (HEAD: answered without streaming) is not activity.
        assert client.head(f"/asks/{ask.id}/events").status_code == 200
        clock.shift(20 * MINUTE)

        assert not is_signed_in(client)
