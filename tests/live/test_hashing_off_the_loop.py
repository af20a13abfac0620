"""Password hashing does not stop a gevent worker (issue 11): a burst of sign-ins, each
checking an argon2 hash made with the library's full parameters, runs in a small pool of
threads while the worker's event loop goes on answering other people's requests."""

from __future__ import annotations

import http.client
import re
import sys
import threading
import time
from urllib.parse import urlencode

import pytest
from argon2 import PasswordHasher

from consult.extensions import db
from consult.models import Role
from tests import factories
from tests.live.helpers import free_port, start_server, stop, wait_for_port

pytestmark = pytest.mark.database

BURST = 24
PASSWORD = "a long enough password"


def _sign_in_form(port: int) -> tuple[str, str]:
    """The anonymous session cookie and CSRF token of a fresh sign-in page."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/sign-in")
        response = connection.getresponse()
        page = response.read().decode()
        assert response.status == 200, page[:2000]
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        return cookie, token
    finally:
        connection.close()


def _timed(port: int, method: str, path: str, body: str = "", headers=None) -> tuple[int, float]:
    """(status, seconds) of one request on its own connection."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        connection.close()


def test_other_requests_are_answered_during_a_burst_of_sign_ins(app, database_url, tmp_path):
    person = factories.user(Role.MEMBER)
    # The production hasher's parameters (the test suite's own are lowered to be quick).
    person.password_hash = PasswordHasher().hash(PASSWORD)
    db.session.commit()

    port = free_port()
    server = start_server(
        port,
        database_url,
        "unused:",
        app.config["SECRET_KEY"],
        tmp_path / "server.log",
        redis=False,
    )
    try:
        wait_for_port(port, 30, server)
        cookie, token = _sign_in_form(port)
        form = urlencode({"csrf_token": token, "email": person.email, "password": PASSWORD})
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        # One sign-in alone, so that the burst below is compared with what one costs here.
        status, one = _timed(port, "POST", "/sign-in", form, headers)
        assert status == 303

        results: list[tuple[int, float]] = []
        threads = [
            threading.Thread(
                target=lambda: results.append(_timed(port, "POST", "/sign-in", form, headers))
            )
            for _ in range(BURST)
        ]
        burst_started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(max(one, 0.05))  # the burst is under way: its first hashes are running
        status, page = _timed(port, "GET", "/privacy")
        for thread in threads:
            thread.join(timeout=120)
        burst = time.monotonic() - burst_started
    except BaseException:
        sys.stderr.write((tmp_path / "server.log").read_text(errors="replace"))
        raise
    finally:
        stop(server)

    assert status == 200
    assert [code for code, _ in results] == [303] * BURST
    # The burst takes as long as its hashes (two at a time); the page asked for during it
    # waits for none of them. Blocking the loop, it waited for nearly the whole burst.
    assert burst > 4 * one, (burst, one)
    assert page < burst / 4, f"/privacy took {page:.2f} s during a {burst:.2f} s burst"
