"""Signing in: success, the one failure message, safe redirects, CSRF."""

from __future__ import annotations

import pytest

from consult.auth import services
from consult.extensions import db
from consult.models import Role
from tests import factories
from tests.helpers import audit_events, is_signed_in, login_as, sign_in, without_csrf
from tests.html import assert_no_active_html, select, select_one, text_of

SIGN_IN_ERROR = "Enter a correct email address and password"


def test_sign_in_page(client):
    response = client.get("/sign-in")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text_of(html, "title") == "Sign in – Consult"
    assert len(select(html, "h1")) == 1
    assert select(html, 'input[name="email"]') and select(html, 'input[type="password"]')
    forgotten = select_one(html, 'a.govuk-link[href="/password-reset"]')
    assert text_of(forgotten) == "Forgotten your password?"
    assert not select(html, "script:not([src]), [style], style")


def test_sign_in_success(app, client):
    user = factories.user(email="ada@example.org", name="Ada Lovelace")
    db.session.commit()

    response = sign_in(client, "ada@example.org")

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert is_signed_in(client)
    db.session.refresh(user)
    assert user.last_login_at is not None
    [event] = audit_events("user.sign_in")
    assert event.actor_id == user.id and event.object_id == user.id
    assert event.ip_address == "127.0.0.1"


def test_session_is_permanent(app, client):
    factories.user(email="ada@example.org")
    db.session.commit()
    sign_in(client, "ada@example.org")
    cookie = client.get_cookie("consult_session", domain="consult.test")
    assert cookie.expires is not None  # a permanent session outlives the browser
    assert cookie.http_only


@pytest.mark.database
def test_email_is_matched_ignoring_case_and_spaces(app, client):
    factories.user(email="ada@example.org")
    db.session.commit()
    response = sign_in(client, "  ADA@Example.ORG ")
    assert response.status_code == 303
    assert is_signed_in(client)


def _unknown(app):
    return "nobody@example.org", factories.PASSWORD


def _wrong_password(app):
    factories.user(email="ada@example.org")
    return "ada@example.org", "not the right password"


def _deactivated(app):
    factories.user(email="ada@example.org", active=False)
    return "ada@example.org", factories.PASSWORD


def _organisation_deactivated(app):
    factories.user(email="ada@example.org", org=factories.organisation(active=False))
    return "ada@example.org", factories.PASSWORD


def _invitation_pending(app):
    factories.user(email="ada@example.org", password=None)
    return "ada@example.org", ""  # no password set yet; try an empty one too below


@pytest.mark.parametrize(
    "case",
    [_unknown, _wrong_password, _deactivated, _organisation_deactivated, _invitation_pending],
)
def test_sign_in_failure(app, client, case):
    email, password = case(app)
    db.session.commit()

    response = sign_in(client, email, password or "some password or other")

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert SIGN_IN_ERROR in html
    assert text_of(html, "title") == "Error: Sign in – Consult"
    assert select(html, ".govuk-error-summary")
    assert not is_signed_in(client)
    assert audit_events("user.sign_in") == []


def test_unknown_email_and_wrong_password_look_the_same(app):
    """Nothing in the response tells whether the account exists."""
    factories.user(email="known@example.org")
    deactivated = factories.user(email="inact@example.org", active=False)
    invited = factories.user(email="invit@example.org", password=None)
    db.session.commit()

    def attempt(email: str, password: str):
        client = app.test_client()
        response = sign_in(client, email, password)
        body = without_csrf(response.get_data(as_text=True)).replace(email, "EMAIL")
        headers = {k: v for k, v in response.headers.items() if k != "Set-Cookie"}
        return response.status_code, headers, body

    unknown = attempt("nouse@example.org", "some wrong password")
    wrong = attempt("known@example.org", "some wrong password")
    assert unknown == wrong
    assert attempt(deactivated.email, factories.PASSWORD) == unknown
    assert attempt(invited.email, "some wrong password") == unknown


def test_signed_in_person_is_sent_to_the_dashboard(app, client):
    login_as(client, factories.user())
    response = client.get("/sign-in")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "password": ""}, "Enter your email address"),
        ({"email": "", "password": ""}, "Enter your password"),
        ({"email": "   ", "password": "x"}, "Enter your email address"),
        (
            {"email": "a" * 250 + "@example.org", "password": "x"},
            "Email address must be 254 characters or fewer",
        ),
        (
            {"email": "ada@example.org", "password": "x" * 201},
            "Password must be 200 characters or fewer",
        ),
        ({}, "Enter your email address"),
    ],
)
def test_sign_in_bad_input(app, client, data, message):
    factories.user(email="ada@example.org")
    db.session.commit()
    response = client.post("/sign-in", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_html_in_email_is_escaped(app, client):
    response = sign_in(client, '<script>alert("x")</script>@example.org', "whatever it is")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert_no_active_html(html)
    assert select_one(html, "input#email")["value"] == '<script>alert("x")</script>@example.org'


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("/consultations", "/consultations"),
        ("/account?tab=1#top", "/account?tab=1#top"),
        ("//evil.com", "/"),
        ("//evil.com/path", "/"),
        ("https://evil.com", "/"),
        ("http://consult.test/account", "/"),
        ("/\\evil.com", "/"),
        ("\\\\evil.com", "/"),
        ("/\t/evil.com", "/"),
        ("/\n/evil.com", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.com", "/"),
        ("", "/"),
    ],
)
def test_next_only_goes_to_same_site_paths(app, client, next_url, location):
    factories.user(email="ada@example.org")
    db.session.commit()
    response = sign_in(client, "ada@example.org", next=next_url)
    assert response.status_code == 303
    assert response.headers["Location"] == location


def test_next_survives_a_failed_attempt(app, client):
    factories.user(email="ada@example.org")
    db.session.commit()
    failed = sign_in(client, "ada@example.org", "wrong password!", next="/account")
    assert select(failed, 'form[action="/sign-in?next=/account"]')
    evil = client.get("/sign-in?next=//evil.com")
    assert "evil.com" not in evil.get_data(as_text=True)


def test_protected_page_round_trip(app, client):
    factories.user(email="ada@example.org")
    db.session.commit()
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/account"
    response = sign_in(client, "ada@example.org", next="/account")
    assert response.headers["Location"] == "/account"


def test_htmx_sign_in_redirects_with_hx_redirect(app, client):
    factories.user(email="ada@example.org")
    db.session.commit()
    response = sign_in(client, "ada@example.org", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"


class TestCSRF:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["WTF_CSRF_ENABLED"] = True
        return app_config

    def test_post_without_token_is_refused_and_nothing_happens(self, app, client):
        user = factories.user(email="ada@example.org")
        db.session.commit()

        response = sign_in(client, "ada@example.org")

        assert response.status_code == 400
        assert "Your form had expired" in response.get_data(as_text=True)
        db.session.refresh(user)
        assert user.last_login_at is None
        assert audit_events("user.sign_in") == []
        assert not is_signed_in(client)

    def test_post_with_token_signs_in(self, app, client):
        factories.user(email="ada@example.org")
        db.session.commit()
        page = client.get("/sign-in").get_data(as_text=True)
        token = select_one(page, 'input[name="csrf_token"]')["value"]
        response = client.post(
            "/sign-in",
            data={"email": "ada@example.org", "password": factories.PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 303
        assert is_signed_in(client)


# Services, without HTTP ----------------------------------------------------------------------


@pytest.mark.database
def test_authenticate(app):
    user = factories.user(email="ada@example.org")
    factories.user(email="gone@example.org", active=False)
    factories.user(email="new@example.org", password=None)
    assert services.authenticate("ADA@example.org", factories.PASSWORD) is user
    assert services.authenticate("ada@example.org", "wrong") is None
    assert services.authenticate("nobody@example.org", factories.PASSWORD) is None
    assert services.authenticate("gone@example.org", factories.PASSWORD) is None
    assert services.authenticate("new@example.org", "") is None


def test_record_sign_in_audits(app):
    user = factories.user(role=Role.OBSERVER)
    services.record_sign_in(user)
    db.session.flush()
    assert user.last_login_at is not None
    assert [e.object_id for e in audit_events("user.sign_in")] == [user.id]
