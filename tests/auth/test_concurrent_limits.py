"""Rate limits hold against a burst: every request is counted before it is processed, so
requests sent at the same moment cannot all be checked before any is counted (issue 11)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consult.auth import services
from consult.extensions import db
from consult.models import Comment
from tests import factories
from tests.helpers import at_once, login_as, sign_in

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

BURST = 40


def assert_at_most(statuses: list[int], limit: int, *, passed: int) -> None:
    """At most `limit` of the burst got through (`passed`); the rest were refused (429)."""
    assert 0 < statuses.count(passed) <= limit, statuses
    assert statuses.count(passed) + statuses.count(429) == len(statuses), statuses


def test_a_burst_of_wrong_passwords_gets_no_more_checks_than_the_limit(app):
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "5 per 5 minutes"
    factories.user(email="ada@example.org")
    db.session.commit()
    clients = [app.test_client() for _ in range(BURST)]

    statuses = at_once(
        lambda n: sign_in(clients[n], "ada@example.org", f"guess {n}").status_code, BURST
    )

    assert_at_most(statuses, 5, passed=422)  # checked (and wrong)


def test_a_burst_from_many_addresses_gets_one_check_past_the_account_limit(app):
    factories.user(email="ada@example.org")
    db.session.commit()
    clients = [app.test_client() for _ in range(BURST)]

    statuses = at_once(
        lambda n: (
            sign_in(
                clients[n],
                "ada@example.org",
                f"guess {n}",
                environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
            ).status_code
        ),
        BURST,
    )

    # The account's 10, then one at a time (the next waits a second).
    assert_at_most(statuses, 11, passed=422)


def test_a_burst_of_wrong_current_passwords_gets_no_more_checks_than_the_limit(app):
    app.config["CHANGE_PASSWORD_LIMIT"] = "3 per 5 minutes"
    user = factories.user()
    clients = [login_as(app.test_client(), user) for _ in range(BURST)]
    new = {"password": "a brand new password", "confirm_password": "a brand new password"}

    statuses = at_once(
        lambda n: (
            clients[n]
            .post("/account/password", data={"current_password": f"guess {n}", **new})
            .status_code
        ),
        BURST,
    )

    assert_at_most(statuses, 3, passed=422)
    db.session.refresh(user)
    assert services.check_password(user, factories.PASSWORD)


def test_a_burst_of_comments_creates_no_more_than_the_limit(app, people, ask):
    app.config["COMMENT_RATE_LIMIT"] = "4 per minute"
    clients = [login_as(app.test_client(), people.member) for _ in range(BURST)]
    ask_id = ask.id

    statuses = at_once(
        lambda n: (
            clients[n]
            .post(
                f"/asks/{ask_id}/comments",
                data={"body": f"Comment {n}.", "submission_key": f"{n:032x}", "placement": "page"},
            )
            .status_code
        ),
        BURST,
    )

    assert_at_most(statuses, 4, passed=303)
    assert db.session.scalar(select(func.count(Comment.id))) == statuses.count(303)
