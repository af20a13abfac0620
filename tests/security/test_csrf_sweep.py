"""CSRF (issue 11's suite): every state-changing route of the route × role matrix refuses a
request without a token, one carrying another session's token and one carrying its own
session's token once expired, for a role that may use the route, and changes nothing. (The one-click unsubscribe is exempt by design: RFC 8058
mail clients send no form token; its signed link is its authority — tests/notifications.)"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from consult.models import utcnow
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
    # A form token lasts a minute here; the session itself lasts far longer.
    return {**app_config, "WTF_CSRF_ENABLED": True, "WTF_CSRF_TIME_LIMIT": 60}


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
    # Signed in two minutes ago (the session stands), its form token from then (expired).
    with time_machine.travel(utcnow() - timedelta(minutes=2), tick=True):
        login_as(client, people[role] if role != "anonymous" else None)
        page = client.get("/account" if role != "anonymous" else "/sign-in")
        assert page.status_code == 200
        match = TOKEN.search(page.get_data(as_text=True))
        own_but_expired = match.group(1) or match.group(2)
    before = database_rows()
    for data in ({}, {"csrf_token": foreign}, {"csrf_token": own_but_expired}):
        response = client.open(path, method=method, data=data)
        response.close()
        assert response.status_code in (302, 400, 401), (data, response.status_code)
        if response.status_code == 302:  # signed out, a plain form: sign in, then back
            assert response.headers["Location"].startswith("/sign-in")
    assert database_rows() == before


def test_an_own_token_works_until_it_expires(client, people):
    """The control for the sweep's third case: the same kind of token, fresh, is accepted."""
    with time_machine.travel(utcnow() - timedelta(minutes=2), tick=True):
        login_as(client, people.member)
        old = TOKEN.search(client.get("/account").get_data(as_text=True))
    expired = old.group(1) or old.group(2)
    assert client.post("/sign-out", data={"csrf_token": expired}).status_code == 400
    fresh = TOKEN.search(client.get("/account").get_data(as_text=True))
    token = fresh.group(1) or fresh.group(2)
    assert client.post("/sign-out", data={"csrf_token": token}).status_code in (302, 303)
