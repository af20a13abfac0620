"""Security headers, cookies, configuration and CSRF (htmx included)."""

from __future__ import annotations

import json

import pytest

from consult.config import ConfigError, from_environment
from consult.extensions import db
from consult.models import Organisation
from tests import factories
from tests.helpers import login_as
from tests.html import select, select_one


def test_every_response_has_the_security_headers(client):
    for url in ("/", "/sign-in", "/no-such-page", "/static/css/consult.css"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers  # development
        response.close()


def test_pages_have_no_inline_script_or_style(client):
    html = client.get("/sign-in").get_data(as_text=True)
    assert not select(html, "script:not([src])"), "inline <script> (the CSP forbids it)"
    assert not select(html, "[style], style")


def test_production_sends_hsts_and_secure_cookies(app, client):
    app.config.update(PRODUCTION=True, SESSION_COOKIE_SECURE=True)
    response = client.get("/sign-in")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_httponly_and_samesite(client):
    cookie = client.get("/sign-in").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_environment(tmp_path, {"CONSULT_ENV": "production"})
    config = from_environment(
        tmp_path,
        {
            "CONSULT_ENV": "production",
            "SECRET_KEY": "s" * 40,
            "PUBLIC_URL": "https://consult.example.org",
        },
    )
    assert config["SESSION_COOKIE_SECURE"] is True and config["PRODUCTION"] is True


def test_production_refuses_to_start_without_a_public_url(tmp_path):
    """Links in emails are built on PUBLIC_URL, never on a request's Host header."""
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        from_environment(tmp_path, {"CONSULT_ENV": "production", "SECRET_KEY": "s" * 40})


def test_trusted_hosts_default_to_the_public_urls_host_in_production(tmp_path):
    production = {"CONSULT_ENV": "production", "SECRET_KEY": "s" * 40}
    config = from_environment(
        tmp_path, {**production, "PUBLIC_URL": "https://consult.example.org:8443/"}
    )
    assert config["TRUSTED_HOSTS"] == ["consult.example.org"]
    named = from_environment(
        tmp_path,
        {
            **production,
            "PUBLIC_URL": "https://consult.example.org",
            "TRUSTED_HOSTS": "consult.example.org, www.consult.example.org",
        },
    )
    assert named["TRUSTED_HOSTS"] == ["consult.example.org", "www.consult.example.org"]
    assert from_environment(tmp_path, {})["TRUSTED_HOSTS"] is None  # development: any


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    first = from_environment(tmp_path, {})["SECRET_KEY"]
    assert len(first) >= 40
    assert from_environment(tmp_path, {})["SECRET_KEY"] == first


def test_database_url_uses_psycopg_3(tmp_path):
    config = from_environment(tmp_path, {"DATABASE_URL": "postgresql://u:p@db/consult"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/consult"
    sqlite = from_environment(tmp_path, {})["SQLALCHEMY_DATABASE_URI"]
    assert sqlite.startswith("sqlite:///") and sqlite.endswith("consult.sqlite3")


class TestCSRF:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["WTF_CSRF_ENABLED"] = True
        return app_config

    def _token(self, client) -> str:
        html = client.get("/admin/organisations/new").get_data(as_text=True)
        return json.loads(select_one(html, "body")["hx-headers"])["X-CSRFToken"]

    def test_a_state_change_without_a_token_is_refused(self, client):
        login_as(client, factories.user(role="secretariat"))
        response = client.post("/admin/organisations/new", data={"name": "New", "kind": "ngo"})
        assert response.status_code == 400
        assert "Your form had expired" in response.get_data(as_text=True)
        assert db.session.query(Organisation).filter_by(name="New").count() == 0

    def test_htmx_sends_the_token_from_the_body_in_a_header(self, client):
        login_as(client, factories.user(role="secretariat"))
        token = self._token(client)
        response = client.post(
            "/admin/organisations/new",
            data={"name": "New", "kind": "ngo"},
            headers={"X-CSRFToken": token, "HX-Request": "true"},
        )
        assert response.status_code in (204, 303)
        assert db.session.query(Organisation).filter_by(name="New").count() == 1

    def test_htmx_errors_go_to_the_message_region(self, client):
        login_as(client, factories.user(role="secretariat"))
        response = client.post(
            "/admin/organisations/new", data={"name": "x"}, headers={"HX-Request": "true"}
        )
        # Signed in, with a page from an earlier session: a 400 message in the message region
        # that keeps the form as it was (the page's script then fetches a fresh token).
        assert response.status_code == 400
        assert response.headers["HX-Retarget"] == "#messages"
        assert response.headers["X-Consult"] == "session-ended"
        body = response.get_data(as_text=True)
        assert not select(body, "html") and select(body, ".govuk-error-summary")
