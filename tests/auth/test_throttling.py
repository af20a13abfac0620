"""Throttling of sign-in, password reset requests and password changes."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import time_machine

from consult.auth import services
from consult.extensions import db
from tests import factories
from tests.helpers import audit_actions, is_signed_in, login_as, sign_in
from tests.html import text_of
from tests.smtp import body_of, link_from

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


@pytest.fixture
def app_config(app_config):
    """The limiter's in-process storage: these tests move the clock (time_machine), which
    that storage reads and Redis, used with --backend=postgres, does not. (The limits over
    Redis are exercised by tests/auth/test_concurrent_limits.py on that backend.)"""
    return {**app_config, "RATELIMIT_STORAGE_URI": "memory://"}


OTHER_ADDRESS = {"environ_base": {"REMOTE_ADDR": "203.0.113.7"}}


def assert_refused(response, wait: str | None = None, seconds: int | None = None) -> None:
    """A 429 saying how long to wait, and a Retry-After that matches it."""
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert text_of(html, "h1") == "Too many attempts"
    retry = int(response.headers["Retry-After"])
    assert retry > 0
    if seconds is not None:
        assert retry == seconds
    if wait is not None:
        assert f"Wait {wait}, then try again." in text_of(html)


def address(n: int) -> dict:
    return {"environ_base": {"REMOTE_ADDR": f"198.51.100.{n}"}}


def test_ten_failed_attempts_from_one_address_do_not_lock_the_owner_out(app):
    factories.user(email="ada@example.org")
    factories.user(email="bob@example.org")
    db.session.commit()
    attacker = app.test_client()

    with time_machine.travel("2030-07-01 09:00 +0000", tick=False):
        for n in range(10):
            email = "ada@example.org" if n % 2 else "ADA@Example.org "  # any spelling
            assert sign_in(attacker, email, f"guess number {n}").status_code == 422

        # That address may not try this account again for 5 minutes, even with the password...
        assert_refused(sign_in(attacker, "ada@example.org"), "5 minutes", 300)
        assert not is_signed_in(attacker)
        # ...but the owner, elsewhere, signs in at once; other accounts are unaffected.
        owner = app.test_client()
        assert sign_in(owner, "ada@example.org", **OTHER_ADDRESS).status_code == 303
        assert is_signed_in(owner)
        assert sign_in(app.test_client(), "bob@example.org").status_code == 303


def test_guessing_from_many_addresses_slows_the_account_without_locking_it(app):
    factories.user(email="ada@example.org")
    db.session.commit()

    with time_machine.travel("2030-07-01 09:00 +0000", tick=False) as clock:
        for n in range(10):  # the account's limit, each from another address
            assert (
                sign_in(app.test_client(), "ada@example.org", "guess", **address(n)).status_code
                == 422
            )
        # Past it, one attempt at a time is checked, the wait doubling: 1 s, 2 s, 4 s...
        for n, wait in enumerate((1, 2, 4, 8), start=10):
            assert (
                sign_in(app.test_client(), "ada@example.org", "guess", **address(n)).status_code
                == 422
            )
            refused = sign_in(app.test_client(), "ada@example.org", "guess", **address(50 + n))
            assert_refused(refused, f"{wait} second{'s' if wait > 1 else ''}", wait)
            assert "If you cannot remember your password, you can reset it." in text_of(
                refused.get_data(as_text=True)
            )
            clock.shift(wait)

        # The owner, asked to wait, gets in once the wait is over: never locked out.
        owner = app.test_client()
        sign_in(owner, "ada@example.org", "guess", **address(99))
        assert_refused(sign_in(owner, "ada@example.org", **OTHER_ADDRESS), "16 seconds", 16)
        clock.shift(16)
        assert sign_in(owner, "ada@example.org", **OTHER_ADDRESS).status_code == 303


def test_the_wait_of_a_slowed_account_is_at_most_a_minute(app):
    app.config["SIGN_IN_ACCOUNT_LIMIT"] = "2 per hour"
    factories.user(email="ada@example.org")
    db.session.commit()
    waits = []
    with time_machine.travel("2030-07-01 09:00 +0000", tick=False) as clock:
        for n in range(12):
            assert (
                sign_in(app.test_client(), "ada@example.org", "guess", **address(n)).status_code
                == 422
            )
            refused = sign_in(app.test_client(), "ada@example.org", "guess", **address(50 + n))
            if refused.status_code == 429:
                waits.append(int(refused.headers["Retry-After"]))
                clock.shift(waits[-1])
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60]


def test_the_owner_is_told_of_failed_attempts_once_a_window(app, outbox):
    factories.user(email="ada@example.org")
    db.session.commit()
    with time_machine.travel("2030-07-01 09:00 +0000", tick=False) as clock:
        for n in range(9):
            sign_in(app.test_client(), "ada@example.org", "guess", **address(n))
        assert outbox() == []

        sign_in(app.test_client(), "ada@example.org", "guess", **address(9))

        [email] = outbox()
        assert email["To"] == "ada@example.org"
        body = body_of(email)
        assert "wrong password 10 times in the last 5 minutes" in body
        assert "Your account is not locked" in body
        assert link_from(email) == "http://consult.test/password-reset"
        assert audit_actions() == ["user.warn_of_failed_sign_ins"]
        for n in range(10, 14):  # more failures in the same window: no more emails
            clock.shift(60)
            assert (
                sign_in(app.test_client(), "ada@example.org", "guess", **address(n)).status_code
                == 422
            )
        assert len(outbox()) == 1
    # Guesses at an address with no account email no one.
    for n in range(10):
        sign_in(app.test_client(), "nobody@example.org", "guess", **address(n))
    assert len(outbox()) == 1


def test_a_password_reset_lets_the_owner_straight_in(app, outbox):
    factories.user(email="ada@example.org")
    db.session.commit()
    with time_machine.travel("2030-07-01 09:00 +0000", tick=False):
        for n in range(11):
            sign_in(app.test_client(), "ada@example.org", "guess", **address(n))
        owner = app.test_client()
        assert sign_in(owner, "ada@example.org", **OTHER_ADDRESS).status_code == 429

        owner.post("/password-reset", data={"email": "ada@example.org"}, **OTHER_ADDRESS)
        [reset] = [e for e in outbox() if "Reset your Consult password" in e["Subject"]]
        path = urlsplit(link_from(reset)).path
        new = {"password": "my new long password", "confirm_password": "my new long password"}
        assert owner.post(path, data=new, **OTHER_ADDRESS).status_code == 303

        response = sign_in(owner, "ada@example.org", "my new long password", **OTHER_ADDRESS)
        assert response.status_code == 303
        assert is_signed_in(owner)


def test_successful_sign_ins_do_not_count(app):
    factories.user(email="ada@example.org")
    db.session.commit()
    for n in range(9):
        assert sign_in(app.test_client(), "ada@example.org", f"guess {n}").status_code == 422
    for _ in range(5):
        assert sign_in(app.test_client(), "ada@example.org").status_code == 303
    assert sign_in(app.test_client(), "ada@example.org", "guess 10").status_code == 422
    assert_refused(sign_in(app.test_client(), "ada@example.org"))


def test_failed_attempts_from_one_address_are_limited(app):
    factories.user(email="ada@example.org")
    db.session.commit()
    client = app.test_client()
    for n in range(30):  # a different account each time: the per-account limit never bites
        assert sign_in(client, f"guess{n}@example.org", "password guess").status_code == 422

    assert_refused(sign_in(client, "ada@example.org"), "5 minutes")
    assert not is_signed_in(client)
    # Another address may still sign in to the same account.
    other = app.test_client()
    assert sign_in(other, "ada@example.org", **OTHER_ADDRESS).status_code == 303


def test_the_refusal_says_how_long_its_window_really_has_left(app):
    factories.user(email="ada@example.org")
    db.session.commit()
    client = app.test_client()
    with time_machine.travel("2030-07-01 09:00 +0000", tick=False) as clock:
        for n in range(10):
            sign_in(client, "ada@example.org", f"guess {n}")
        clock.shift(120)
        assert_refused(sign_in(client, "ada@example.org"), "3 minutes", 180)
        clock.shift(150)
        assert_refused(sign_in(client, "ada@example.org"), "30 seconds", 30)


def test_viewing_the_page_is_never_limited(app, client):
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "1 per 5 minutes"
    sign_in(client, "nobody@example.org", "wrong password")
    for _ in range(5):
        assert client.get("/sign-in").status_code == 200


class TestLimitLifts:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["SIGN_IN_ACCOUNT_ADDRESS_LIMIT"] = "2 per 5 minutes"
        # The limiter's in-process storage reads time.time(), which the test's clock moves
        # (Redis, used with --backend=postgres, keeps its own time).
        app_config["RATELIMIT_STORAGE_URI"] = "memory://"
        return app_config

    def test_the_limit_lifts_by_itself(self, app, client):
        factories.user(email="ada@example.org")
        db.session.commit()
        with time_machine.travel("2030-07-01 09:00 +0000", tick=False) as clock:
            assert sign_in(client, "ada@example.org", "wrong one").status_code == 422
            assert sign_in(client, "ada@example.org", "wrong two").status_code == 422
            clock.shift(299)  # a second before the window ends: still refused
            assert_refused(sign_in(client, "ada@example.org"), "1 second", 1)

            clock.shift(2)

            assert sign_in(client, "ada@example.org").status_code == 303
            assert is_signed_in(client)


def test_password_reset_requests_are_limited_per_address(app, client, outbox):
    factories.user(email="ada@example.org")
    db.session.commit()
    for n in range(5):
        response = client.post("/password-reset", data={"email": f"someone{n}@example.org"})
        assert response.status_code == 303
    assert_refused(client.post("/password-reset", data={"email": "ada@example.org"}), "15 minutes")
    assert outbox() == []
    # Another address is not affected.
    response = client.post("/password-reset", data={"email": "ada@example.org"}, **OTHER_ADDRESS)
    assert response.status_code == 303
    assert len(outbox()) == 1


def test_password_reset_emails_are_limited_per_account(app, outbox):
    factories.user(email="ada@example.org")
    db.session.commit()
    for n in range(3):
        client = app.test_client()
        response = client.post(
            "/password-reset",
            data={"email": "ada@example.org"},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        )
        assert response.status_code == 303
    assert_refused(
        app.test_client().post(
            "/password-reset",
            data={"email": "Ada@example.org"},
            environ_base={"REMOTE_ADDR": "198.51.100.99"},
        )
    )
    assert len(outbox()) == 3


def test_wrong_current_passwords_are_limited(app, client):
    user = factories.user()
    login_as(client, user)
    app.config["CHANGE_PASSWORD_LIMIT"] = "3 per 5 minutes"
    new = {"password": "a brand new password", "confirm_password": "a brand new password"}
    for n in range(3):
        response = client.post("/account/password", data={"current_password": f"guess {n}", **new})
        assert response.status_code == 422
    response = client.post(
        "/account/password", data={"current_password": factories.PASSWORD, **new}
    )
    assert_refused(response, "5 minutes", 300)
    db.session.refresh(user)
    assert services.check_password(user, factories.PASSWORD)  # unchanged
