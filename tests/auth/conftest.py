"""Fixtures for the auth tests: a real SMTP server, and helpers to sign in through the form."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.conftest import audit_events  # noqa: F401 (shared)
from tests.factories import PASSWORD
from tests.smtp import smtp_server  # noqa: F401

_CSRF = re.compile(r'name="csrf_token"[^>]*value="[^"]*"|"X-CSRFToken": "[^"]*"')


def sign_in(
    client: FlaskClient, email: str, password: str = PASSWORD, next: str | None = None, **environ
):
    """Post the sign-in form, as a browser would."""
    query = {"next": next} if next is not None else None
    return client.post(
        "/sign-in", query_string=query, data={"email": email, "password": password}, **environ
    )


def without_csrf(html: str) -> str:
    """The page with its per-session CSRF tokens blanked out, for comparing two pages."""
    return _CSRF.sub("csrf", html)


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("consult_session", domain="consult.test")
    assert cookie is not None, "no session cookie"
    return cookie.value


def is_signed_in(client: FlaskClient) -> bool:
    """True if the client's session opens the account page; False if it is sent to sign in."""
    response = client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    return False
