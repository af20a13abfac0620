"""Password reset: asking for a link (same answer whether or not the account exists), using it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from consult.auth import services
from consult.extensions import db
from consult.models import AccountToken, Role, TokenPurpose, utcnow
from tests import factories
from tests.helpers import (
    audit_events,
    is_signed_in,
    login_as,
    session_cookie,
    sign_in,
    sql_during,
    without_csrf,
)
from tests.html import assert_no_active_html, text_of
from tests.html import select as css_select
from tests.smtp import body_of, link_from

SENT = (
    "If an account exists for that email address, we have sent a link to reset the "
    "password. The link expires in 2 hours."
)
EXPIRED = "This password reset link has expired or has already been used."
NEW_PASSWORD = "my new long password"


def request_reset(client, email):
    return client.post("/password-reset", data={"email": email})


def reset_path(outbox) -> str:
    return urlsplit(link_from(outbox()[-1])).path


def test_request_page(client):
    response = client.get("/password-reset")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text_of(html, "title") == "Reset your password – Consult"
    assert len(css_select(html, "h1")) == 1
    assert css_select(html, 'a[href="/sign-in"]')


@pytest.mark.database
def test_known_email_gets_a_link(app, client, outbox):
    user = factories.user(email="ada@example.org")
    db.session.commit()

    response = request_reset(client, "ADA@example.org")

    assert response.status_code == 303
    assert response.headers["Location"] == "/password-reset/sent"
    page = client.get("/password-reset/sent")
    assert page.status_code == 200
    assert SENT in page.get_data(as_text=True)
    [message] = outbox()
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Blueprint Coalition: Reset your Consult password"
    assert link_from(message).startswith("http://consult.test/password-reset/")
    assert "expires in 2 hours" in body_of(message)
    [event] = audit_events("user.request_password_reset")
    assert event.object_id == user.id and event.actor_id is None


@pytest.mark.parametrize("kind", ["unknown", "deactivated", "invited", "organisation_deactivated"])
def test_no_link_but_the_same_answer(app, outbox, kind):
    email = "ada@example.org"
    if kind == "deactivated":
        factories.user(email=email, active=False)
    elif kind == "invited":
        factories.user(email=email, password=None)
    elif kind == "organisation_deactivated":
        factories.user(email=email, org=factories.organisation(active=False))
    factories.user(email="bob@example.org")
    db.session.commit()

    def answer(address):
        client = app.test_client()
        response = request_reset(client, address)
        page = client.get(response.headers["Location"])
        return (
            response.status_code,
            response.headers["Location"],
            without_csrf(page.get_data(as_text=True)),
        )

    assert answer(email) == answer("bob@example.org")
    assert [m["To"] for m in outbox()] == ["bob@example.org"]


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address"),
        ("   ", "Enter your email address"),
        ("not an email", "Enter an email address in the correct format, like name@example.com"),
        (
            "<script>alert(1)</script>@example.org",
            "Enter an email address in the correct format, like name@example.com",
        ),
        ("a" * 250 + "@example.org", "Email address must be 254 characters or fewer"),
    ],
)
def test_request_bad_input(app, client, outbox, email, message):
    response = request_reset(client, email)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert_no_active_html(html)
    assert outbox() == []
    assert audit_events("user.request_password_reset") == []


def test_reset_with_the_link(app, outbox):
    user = factories.user(email="ada@example.org")
    db.session.commit()
    elsewhere = app.test_client()
    sign_in(elsewhere, "ada@example.org")
    old_cookie = session_cookie(elsewhere)
    client = app.test_client()
    request_reset(client, "ada@example.org")
    path = reset_path(outbox)

    page = client.get(path)
    assert page.status_code == 200
    assert text_of(page.get_data(as_text=True), "title") == "Choose a new password – Consult"
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})

    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in"
    assert "Your password has been reset" in client.get("/sign-in").get_data(as_text=True)
    assert not is_signed_in(client)  # not signed in automatically
    assert not is_signed_in(elsewhere)  # and every earlier session has ended
    replayed = app.test_client()
    replayed.set_cookie("consult_session", old_cookie, domain="consult.test")
    assert not is_signed_in(replayed)
    assert sign_in(app.test_client(), "ada@example.org").status_code == 422
    assert sign_in(client, "ada@example.org", NEW_PASSWORD).status_code == 303
    [event] = audit_events("user.reset_password")
    assert event.actor_id == user.id and event.object_id == user.id


def test_the_link_works_once(app, client, outbox):
    user = factories.user(email="ada@example.org")
    db.session.commit()
    request_reset(client, "ada@example.org")
    path = reset_path(outbox)
    data = {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert client.post(path, data=data).status_code == 303
    db.session.refresh(user)
    hash_after_first = user.password_hash

    again = {"password": "someone else's password", "confirm_password": "someone else's password"}
    for response in (client.get(path), client.post(path, data=again)):
        assert response.status_code == 404
        assert EXPIRED in response.get_data(as_text=True)
        assert css_select(response.get_data(as_text=True), 'a[href="/password-reset"]')
    db.session.refresh(user)
    assert user.password_hash == hash_after_first
    assert len(audit_events("user.reset_password")) == 1


def test_an_expired_link_does_not_work(app, client, outbox):
    user = factories.user(email="ada@example.org")
    db.session.commit()
    request_reset(client, "ada@example.org")
    path = reset_path(outbox)
    token = db.session.scalar(
        select(AccountToken).where(
            AccountToken.user_id == user.id, AccountToken.purpose == TokenPurpose.PASSWORD_RESET
        )
    )
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    response = client.post(path, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 404
    assert EXPIRED in response.get_data(as_text=True)
    db.session.refresh(user)
    assert services.check_password(user, factories.PASSWORD)  # unchanged


def test_a_newer_link_replaces_the_older(app, client, outbox):
    factories.user(email="ada@example.org")
    db.session.commit()
    request_reset(client, "ada@example.org")
    first = reset_path(outbox)
    request_reset(client, "ada@example.org")
    second = reset_path(outbox)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_the_link_stops_working_when_the_person_is_deactivated(app, client, outbox):
    user = factories.user(email="ada@example.org")
    db.session.commit()
    request_reset(client, "ada@example.org")
    path = reset_path(outbox)
    user.active = False
    db.session.commit()
    assert client.get(path).status_code == 404


def test_the_link_stops_working_when_the_password_is_changed_on_the_account_page(
    app, client, outbox
):
    """Issue 11: a reset link asked for earlier still worked after the person changed their
    password themselves."""
    user = factories.user(email="ada@example.org")
    db.session.commit()
    request_reset(client, "ada@example.org")
    path = reset_path(outbox)
    assert client.get(path).status_code == 200
    services.change_password(user=user, new_password="a different long password")
    db.session.commit()
    assert client.get(path).status_code == 404


def test_unknown_link(client):
    response = client.get("/password-reset/not-a-real-token")
    assert response.status_code == 404
    assert EXPIRED in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Enter a new password"),
        (
            {"password": "short", "confirm_password": "short"},
            "Password must be 10 characters or more",
        ),
        (
            {"password": "y" * 201, "confirm_password": "y" * 201},
            "Password must be 200 characters or fewer",
        ),
        (
            {"password": "ada@example.org", "confirm_password": "ada@example.org"},
            "Password must not be the same as your email address",
        ),
        ({"password": NEW_PASSWORD, "confirm_password": "different"}, "Passwords do not match"),
        ({"password": NEW_PASSWORD}, "Confirm your new password"),
    ],
)
def test_reset_bad_input(app, client, outbox, data, message):
    user = factories.user(email="ada@example.org")
    db.session.commit()
    request_reset(client, "ada@example.org")
    path = reset_path(outbox)

    response = client.post(path, data=data)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert services.check_password(user, factories.PASSWORD)  # unchanged
    assert client.get(path).status_code == 200  # still usable


def test_a_reset_is_answered_before_the_address_is_looked_up(client, outbox):
    """Timing must not tell which addresses have accounts (issue 11: an existing account
    took twice as long). The answer is made and sent before anything depends on the
    address: while answering, the same statements run for an address with an account and
    for one without, none of them about accounts; the lookup, the link and the email come
    once the answer has gone (a server closes the response after sending it).
    (bench/password_reset.py times both through a real server.)"""
    factories.user(email="ada@example.org")
    db.session.commit()
    answers = {}
    statements = {}
    for email in ("ada@example.org", "nobody@example.org"):
        statements[email] = [
            " ".join(s.split()[:4])
            for s in sql_during(
                lambda email=email: answers.__setitem__(
                    email, client.post("/password-reset", data={"email": email}, buffered=False)
                )
            )
        ]
        assert answers[email].status_code == 303
    assert statements["ada@example.org"] == statements["nobody@example.org"]
    assert not any(
        table in statement
        for statement in statements["ada@example.org"]
        for table in ("user_account", "account_token", "audit_event", "outgoing_email")
    ), statements
    assert outbox() == [] and audit_events("user.request_password_reset") == []

    for answer in answers.values():
        answer.close()  # sent: now the work is done

    assert [email["To"] for email in outbox()] == ["ada@example.org"]
    known, unknown = audit_events("user.request_password_reset")
    assert known.object_id is not None and unknown.object_id is None


def test_the_audit_log_shows_a_reset_asked_for_an_address_with_no_account(client):
    secretariat = factories.user(Role.SECRETARIAT)
    db.session.commit()
    request_reset(client, "nobody@example.org")
    html = login_as(client, secretariat).get("/admin/audit").get_data(as_text=True)
    assert "Someone asked for a password reset link for an email address with no account" in (
        text_of(html)
    )
    assert "nobody@example.org" not in html  # the address typed is not kept
