"""Sign-out, password change and deactivation end sessions; the account page."""

from __future__ import annotations

import pytest

from consult.auth import services
from consult.extensions import db
from consult.models import Role
from tests import factories
from tests.helpers import audit_events, is_signed_in, login_as, session_cookie, sign_in
from tests.html import assert_no_active_html, select, text_of

NEW_PASSWORD = "a brand new password"


def replay(app, cookie: str):
    """A fresh browser that presents an old session cookie."""
    client = app.test_client()
    client.set_cookie("consult_session", cookie, domain="consult.test")
    return client


# Sign-out -----------------------------------------------------------------------------------


def test_sign_out_revokes_the_old_cookie(app, client):
    user = factories.user(email="ada@example.org")
    db.session.commit()
    sign_in(client, "ada@example.org")
    old_cookie = session_cookie(client)
    assert is_signed_in(replay(app, old_cookie))  # the cookie really works before sign-out

    response = client.post("/sign-out")

    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert "You have signed out" in page
    assert not is_signed_in(client)
    assert not is_signed_in(replay(app, old_cookie))
    [event] = audit_events("user.sign_out")
    assert event.actor_id == user.id


def test_sign_out_ends_sessions_in_other_browsers_too(app):
    factories.user(email="ada@example.org")
    db.session.commit()
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "ada@example.org")
    sign_in(phone, "ada@example.org")
    laptop.post("/sign-out")
    assert not is_signed_in(phone)


def test_sign_out_needs_a_signed_in_person_and_a_post(app, client):
    response = client.post("/sign-out")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    assert audit_events("user.sign_out") == []
    login_as(client, factories.user())
    assert client.get("/sign-out").status_code == 405
    assert is_signed_in(client)


class TestSignOutCSRF:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["WTF_CSRF_ENABLED"] = True
        return app_config

    def test_sign_out_without_token_is_refused(self, app, client):
        user = factories.user()
        token = user.session_token
        login_as(client, user)
        assert client.post("/sign-out").status_code == 400
        db.session.refresh(user)
        assert user.session_token == token
        assert is_signed_in(client)


# Password change ----------------------------------------------------------------------------


def test_change_password_keeps_this_session_and_ends_the_others(app):
    user = factories.user(email="ada@example.org")
    db.session.commit()
    this, other = app.test_client(), app.test_client()
    sign_in(this, "ada@example.org")
    sign_in(other, "ada@example.org")
    old_cookie = session_cookie(this)

    response = this.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    page = this.get("/account")
    assert page.status_code == 200
    assert "Your password has been changed" in page.get_data(as_text=True)
    assert not is_signed_in(other)
    assert not is_signed_in(replay(app, old_cookie))
    assert is_signed_in(this)
    # The new password works, the old one does not.
    assert sign_in(app.test_client(), "ada@example.org", NEW_PASSWORD).status_code == 303
    assert sign_in(app.test_client(), "ada@example.org").status_code == 422
    [event] = audit_events("user.change_password")
    assert event.actor_id == user.id and event.object_id == user.id


def test_change_password_page(app, client):
    login_as(client, factories.user())
    response = client.get("/account/password")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text_of(html, "title") == "Change your password – Consult"
    assert len(select(html, "h1")) == 1
    for name in ("current_password", "password", "confirm_password"):
        assert select(html, f'[name="{name}"]')


def test_change_password_needs_sign_in(app, client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/account/password"
    response = client.post("/account/password", data={"current_password": "x"})
    assert response.status_code == 302
    assert audit_events("user.change_password") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Enter your current password"),
        ({}, "Enter a new password"),
        ({}, "Confirm your new password"),
        (
            {
                "current_password": "not it at all",
                "password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
            "Your current password is incorrect",
        ),
        (
            {
                "current_password": factories.PASSWORD,
                "password": "short",
                "confirm_password": "short",
            },
            "Password must be 10 characters or more",
        ),
        (
            {
                "current_password": factories.PASSWORD,
                "password": "x" * 201,
                "confirm_password": "x" * 201,
            },
            "Password must be 200 characters or fewer",
        ),
        (
            {
                "current_password": factories.PASSWORD,
                "password": "ada@example.org",
                "confirm_password": "ada@example.org",
            },
            "Password must not be the same as your email address",
        ),
        (
            {
                "current_password": factories.PASSWORD,
                "password": " ADA@example.org ",
                "confirm_password": " ADA@example.org ",
            },
            "Password must not be the same as your email address",
        ),
        (
            {
                "current_password": factories.PASSWORD,
                "password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD + "!",
            },
            "Passwords do not match",
        ),
        (
            {"current_password": factories.PASSWORD, "password": NEW_PASSWORD},
            "Confirm your new password",
        ),
    ],
)
def test_change_password_bad_input(app, client, data, message):
    user = factories.user(email="ada@example.org")
    token = user.session_token
    login_as(client, user)

    response = client.post("/account/password", data=data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert select(html, ".govuk-error-summary")
    db.session.refresh(user)
    assert services.check_password(user, factories.PASSWORD)  # unchanged
    assert user.session_token == token
    assert audit_events("user.change_password") == []


def test_long_passwords_up_to_200_characters_are_accepted(app, client):
    user = factories.user(email="ada@example.org")
    login_as(client, user)
    password = "é" * 200
    response = client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "password": password,
            "confirm_password": password,
        },
    )
    assert response.status_code == 303
    assert sign_in(app.test_client(), "ada@example.org", password).status_code == 303


# Deactivation --------------------------------------------------------------------------------


def test_deactivation_ends_the_session(app, client):
    secretariat = factories.user(Role.SECRETARIAT)
    member = factories.user(email="ada@example.org")
    db.session.commit()
    sign_in(client, "ada@example.org")
    old_cookie = session_cookie(client)
    assert is_signed_in(client)

    services.set_user_active(actor=secretariat, user=member, active=False)
    db.session.commit()

    assert not is_signed_in(client)
    # Reactivation does not bring the old cookie back: the token was rotated.
    services.set_user_active(actor=secretariat, user=member, active=True)
    db.session.commit()
    assert not is_signed_in(replay(app, old_cookie))
    assert [e.action for e in audit_events("user.deactivate")] == ["user.deactivate"]


def test_deactivating_the_organisation_ends_the_session(app, client):
    member = factories.user()
    login_as(client, member)
    assert is_signed_in(client)
    member.organisation.active = False
    db.session.commit()
    assert not is_signed_in(client)


def test_role_change_ends_the_session(app, client):
    secretariat = factories.user(Role.SECRETARIAT)
    member = factories.user()
    login_as(client, member)
    services.change_role(actor=secretariat, user=member, role=Role.OBSERVER)
    db.session.commit()
    assert not is_signed_in(client)


# The account page ---------------------------------------------------------------------------


def test_account_page(app, client):
    org = factories.organisation("Friends of the Fens")
    user = factories.user(Role.OBSERVER, org=org, email="ada@example.org", name="Ada Lovelace")
    login_as(client, user)

    response = client.get("/account")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text_of(html, "title") == "Your account – Consult"
    assert len(select(html, "h1")) == 1
    for text in ("Ada Lovelace", "ada@example.org", "Friends of the Fens", "Observer", "Never"):
        assert text in html
    assert select(html, 'a[href="/account/password"]')


def test_account_page_shows_last_sign_in_in_uk_time(app, client):
    factories.user(email="ada@example.org")
    db.session.commit()
    sign_in(client, "ada@example.org")
    html = client.get("/account").get_data(as_text=True)
    assert "Never" not in text_of(html, ".govuk-summary-list")  # last signed in
    assert " at " in html  # "29 November 2026 at 2:05pm"


def test_account_page_escapes_names(app, client):
    org = factories.organisation('<img src=x onerror="alert(1)">')
    user = factories.user(org=org, name="<script>alert('x')</script>")
    login_as(client, user)
    html = client.get("/account").get_data(as_text=True)
    assert_no_active_html(html)
    main = text_of(html, "main")
    assert "<script>alert('x')</script>" in main  # shown as text
    assert '<img src=x onerror="alert(1)">' in main


def test_account_page_needs_sign_in(app, client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/account"


def test_htmx_request_for_a_protected_page_gets_hx_redirect(app, client):
    response = client.get("/account", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/sign-in?next=/account"
