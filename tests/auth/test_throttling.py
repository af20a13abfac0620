"""Throttling of sign-in, password reset requests and password changes."""

from __future__ import annotations

import pytest
import time_machine

from consult.auth import services
from consult.extensions import db
from tests import factories
from tests.helpers import is_signed_in, login_as, sign_in
from tests.html import text_of

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

OTHER_ADDRESS = {"environ_base": {"REMOTE_ADDR": "203.0.113.7"}}


def assert_refused(response) -> None:
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert text_of(html, "h1") == "Too many attempts"
    assert "Wait a few minutes, then try again." in html
    assert int(response.headers["Retry-After"]) > 0


def test_ten_failed_attempts_lock_the_account_for_everyone(app):
    factories.user(email="ada@example.org")
    factories.user(email="bob@example.org")
    db.session.commit()
    attacker = app.test_client()

    for n in range(10):
        email = "ada@example.org" if n % 2 else "ADA@Example.org "  # same account, any spelling
        assert sign_in(attacker, email, f"guess number {n}").status_code == 422

    # Even the right password, even from another address, is refused for now...
    owner = app.test_client()
    assert_refused(sign_in(owner, "ada@example.org", **OTHER_ADDRESS))
    assert not is_signed_in(owner)
    # ...while other accounts are unaffected.
    assert sign_in(app.test_client(), "bob@example.org").status_code == 303


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

    assert_refused(sign_in(client, "ada@example.org"))
    assert not is_signed_in(client)
    # Another address may still sign in to the same account.
    other = app.test_client()
    assert sign_in(other, "ada@example.org", **OTHER_ADDRESS).status_code == 303


def test_viewing_the_page_is_never_limited(app, client):
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "1 per 5 minutes"
    sign_in(client, "nobody@example.org", "wrong password")
    for _ in range(5):
        assert client.get("/sign-in").status_code == 200


class TestLimitLifts:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["SIGN_IN_ACCOUNT_LIMIT"] = "2 per 5 minutes"
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
            assert_refused(sign_in(client, "ada@example.org"))

            clock.shift(2)

            assert sign_in(client, "ada@example.org").status_code == 303
            assert is_signed_in(client)


def test_password_reset_requests_are_limited_per_address(app, client, outbox):
    factories.user(email="ada@example.org")
    db.session.commit()
    for n in range(5):
        response = client.post("/password-reset", data={"email": f"someone{n}@example.org"})
        assert response.status_code == 303
    assert_refused(client.post("/password-reset", data={"email": "ada@example.org"}))
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
    assert_refused(response)
    db.session.refresh(user)
    assert services.check_password(user, factories.PASSWORD)  # unchanged
