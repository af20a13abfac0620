"""CSRF (issue 11's suite): every state-changing route of the route × role matrix refuses a
request without a token and one carrying another session's token, for a role that may use
the route, and changes nothing. (The one-click unsubscribe is exempt by design: RFC 8058
mail clients send no form token; its signed link is its authority — tests/notifications.)"""

from __future__ import annotations

import re

import pytest

from tests.helpers import database_rows, login_as
from tests.test_access import ANON, MATRIX, ROLES, world  # noqa: F401 (the world fixture)

pytestmark = pytest.mark.database

EXEMPT = {"notifications.confirm_unsubscribe"}
ALLOWED = (200, 302, 303, 422)
CASES = [
    (method, endpoint, url, next(ROLES[i] for i, s in enumerate(expected) if s in ALLOWED))
    for method, endpoint, url, expected in MATRIX
    if method != "GET"
    and endpoint not in EXEMPT
    and any(s in ALLOWED and s != ANON for s in expected)
]
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def _token_of_another_session(app, people, role: str) -> str:
    """A valid token, but of another session (the same person signed in elsewhere)."""
    other = app.test_client()
    if role != "anonymous":
        login_as(other, people[role])
    page = other.get("/account" if role != "anonymous" else "/sign-in")
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, "no token on the page"
    return match.group(1) or match.group(2)


def test_the_sweep_covers_the_routes():
    assert len(CASES) >= 40


@pytest.mark.parametrize("method, endpoint, url, role", CASES, ids=[c[1] for c in CASES])
def test_a_missing_or_foreign_token_is_refused(app, client, world, method, endpoint, url, role):
    people, ids = world
    path = url.format(**ids)
    foreign = _token_of_another_session(app, people, role)
    login_as(client, people[role] if role != "anonymous" else None)
    client.get("/account" if role != "anonymous" else "/sign-in")  # this session's own token
    before = database_rows()
    for data in ({}, {"csrf_token": foreign}):
        response = client.open(path, method=method, data=data)
        response.close()
        assert response.status_code in (302, 400, 401), (data, response.status_code)
        if response.status_code == 302:  # signed out, a plain form: sign in, then back
            assert response.headers["Location"].startswith("/sign-in")
    assert database_rows() == before
