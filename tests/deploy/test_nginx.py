"""Consult deployed as deploy/ describes, past one machine: Debian's nginx running
deploy/nginx/consult.conf in front of two app "hosts" that share PostgreSQL and Redis, each
with its two pools of workers (two gunicorn masters started with the systemd unit's commands,
consult@pages and consult@streams, and the environment file: 2 sync workers for pages, 2
gevent workers for streams), with real browser pages (Playwright and Debian's Chromium) open
on an ask.

Through nginx: every stream is served by a streams pool and every page and post by a pages
pool; a comment posted on either host reaches the pages whose streams are on the other; one
host is then stopped (SIGTERM to both its masters, by PID) mid-stream, and each page
whose stream it held reconnects through nginx to the surviving host and is sent, from the
database after its Last-Event-ID, the comments posted while it was away: every page ends
with every event, in order, once. Static files come from nginx itself, with a year's
immutable cache for hashed URLs, and pages keep the app's security headers.

Browser pages rather than a Python SSE client: what is tested is what browsers do on their
own (EventSource's reconnection with Last-Event-ID, after the server's `retry:`), not a
model of it. Four pages and one Chromium cost a few seconds of the test's ~25.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Route
from sqlalchemy import select

from consult.extensions import db
from consult.models import AuditEvent, LiveEvent, Role
from deploy import local_nginx
from tests import factories
from tests.deploy.helpers import POOLS, ROOT, host_settings, unit_command
from tests.factories import PASSWORD
from tests.helpers import REDIS_URL, unavailable
from tests.html import select as select_all
from tests.live.helpers import (
    free_port,
    post_comment_form,
    post_form,
    posted_comment_id,
    signed_in,
    stop,
    subprocess_env,
    wait_for_port,
)

# Needs PostgreSQL and Redis: runs with --backend=postgres.
pytestmark = pytest.mark.database

STATIC = ROOT / "static"
# The test's nginx names, on each answer, the app host's pool that gave it ($upstream_addr:
# after a failed attempt, the addresses tried, the one that answered last). Static files have
# none.
UPSTREAM_HEADER = "add_header X-Upstream $upstream_addr always;"
EVENTS = re.compile(r"/asks/\d+/events")

# Run in every page before its own scripts (the page's CSP does not apply to it): count the
# times the page's event stream opened and broke, and keep each comment-added event the
# browser received (one listener per EventSource, which keeps it across reconnections).
WATCH = """
window.__opens = 0;
window.__breaks = 0;
window.__bells = [];
window.__errors = [];
const bell = (event) => { window.__bells.push(JSON.parse(event.data)); };
document.addEventListener('htmx:sseOpen', (event) => {
  window.__opens += 1;
  event.detail.source.addEventListener('comment-added', bell);
});
document.addEventListener('htmx:sseError', () => { window.__breaks += 1; });
document.addEventListener('securitypolicyviolation', (e) => {
  window.__errors.push('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI);
});
"""


class Gate:
    """Holds the pages' new stream requests while closed, lets them through when opened: so
    that comments can be posted while a page is surely disconnected."""

    def __init__(self) -> None:
        self.closed = False
        self.held: list[Route] = []

    def handle(self, route: Route) -> None:
        if self.closed:
            self.held.append(route)
        else:
            route.continue_()

    def open(self) -> None:
        self.closed = False
        for route in self.held:
            route.continue_()
        self.held.clear()


class OpenPage:
    """A browser page on the ask, with the app host of each stream it opened."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.streams: list[str] = []  # app host of each stream, in order
        self.document_pools: list[str] = []  # the pool that served the page itself

    def value(self, expression: str):
        return self.page.evaluate(expression)


def upstream_of(headers, pools: dict[str, tuple[str, str]], pool: str) -> str:
    """Which app host ("a" or "b") answered, from the test's X-Upstream header; and that its
    pool was `pool` ("pages" or "streams")."""
    answered = headers.get("x-upstream", "").split(",")[-1].strip()
    assert answered in pools, f"no app host answered: {headers}"
    host, answered_pool = pools[answered]
    assert answered_pool == pool, f"{pool} served by host {host}'s {answered_pool} pool"
    return host


def get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 30):
    """A GET: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def start_pool(pool: str, settings: dict[str, str], log: Path) -> subprocess.Popen:
    """One of an app host's pools: the systemd unit's command for that instance, in the
    unit's working directory, with the environment file's settings."""
    with log.open("wb") as out:
        return subprocess.Popen(
            unit_command(pool),
            cwd=ROOT,
            env=subprocess_env(**settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_two_hosts_behind_nginx(
    app: Flask, backend: str, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
):
    if backend != "postgres":
        pytest.skip("two hosts share PostgreSQL and Redis: run with --backend=postgres")
    if local_nginx.executable() is None:
        unavailable("nginx is not installed (make test installs it: apt-get install nginx)")
    started = time.monotonic()
    ask = factories.ask(factories.consultation())
    reader = factories.user(Role.MEMBER)
    author = factories.user(Role.MEMBER)
    db.session.commit()
    ask_id = ask.id
    reader_cookie, _ = signed_in(app, reader)
    author_cookie, author_token = signed_in(app, author)

    nginx_port = free_port()
    base = f"http://127.0.0.1:{nginx_port}"
    ports = {host: {pool: free_port() for pool in POOLS} for host in ("a", "b")}
    # Each pool's address: its host and which pool it is.
    pools = {
        f"127.0.0.1:{port}": (host, pool)
        for host, by_pool in ports.items()
        for pool, port in by_pool.items()
    }
    prefix = f"consult-test-{uuid.uuid4().hex}:"
    procs: dict[str, subprocess.Popen] = {}
    logs: list[Path] = []
    for name, by_pool in ports.items():
        settings = host_settings(
            secret_key=app.config["SECRET_KEY"],
            public_url=base,
            database_url=database_url,
            redis_url=REDIS_URL,
            bind=f"127.0.0.1:{by_pool['pages']}",
            streams_bind=f"127.0.0.1:{by_pool['streams']}",
        )
        settings.update(
            WEB_CONCURRENCY="2",
            GUNICORN_STREAMS_WORKERS="2",
            # This nginx speaks plain HTTP (TLS is the operator's): the cookie must travel.
            SESSION_COOKIE_SECURE="false",
            # Redis channels and rate limits of this test's own (other runs share the Redis,
            # where their people have the same ids).
            LIVE_CHANNEL_PREFIX=prefix,
            RATELIMIT_ENABLED="false",
            MAIL_OUTBOX=str(tmp_path / "outbox"),
        )
        for pool in POOLS:
            logs.append(tmp_path / f"{name}-{pool}.log")
            procs[f"{name} {pool}"] = start_pool(pool, settings, logs[-1])
    nginx_folder = tmp_path / "nginx"
    conf = local_nginx.prepare(
        nginx_folder,
        local_nginx.site_values(
            f"127.0.0.1:{nginx_port}",
            [
                (f"127.0.0.1:{by_pool['pages']}", f"127.0.0.1:{by_pool['streams']}")
                for by_pool in ports.values()
            ],
        ),
        extra_http=f"    {UPSTREAM_HEADER}",
    )
    procs["nginx"] = local_nginx.start(nginx_folder, conf)
    contexts = []
    try:
        # Chromium starts while the hosts' workers load the app.
        browser: Browser = request.getfixturevalue("browser")
        wait_for_port(nginx_port, 10, procs["nginx"])
        for name, by_pool in ports.items():
            for pool, port in by_pool.items():
                wait_for_port(port, 30, procs[f"{name} {pool}"])
                # The master listens at once; its workers answer once they have loaded the
                # app (seconds on a busy machine). A streams pool run alone serves pages too.
                assert get(port, "/sign-in", timeout=60)[0] == 200
        ready = time.monotonic()

        gate = Gate()
        errors: list[str] = []
        cookie_name, _, cookie_value = reader_cookie.partition("=")

        def open_page() -> OpenPage:
            context = browser.new_context()
            contexts.append(context)
            context.set_default_timeout(15_000)
            context.add_cookies([{"name": cookie_name, "value": cookie_value, "url": base}])
            context.add_init_script(WATCH)
            page = context.new_page()
            opened = OpenPage(page)
            page.on("pageerror", lambda error: errors.append(str(error)))

            def answered(response) -> None:
                if EVENTS.search(response.url):
                    opened.streams.append(upstream_of(response.headers, pools, "streams"))
                elif response.request.resource_type == "document":
                    address = response.headers.get("x-upstream", "").split(",")[-1].strip()
                    opened.document_pools.append(pools[address][1])

            page.on("response", answered)
            page.route(EVENTS, gate.handle)
            page.goto(f"{base}/asks/{ask_id}")
            page.wait_for_function("() => window.__opens > 0")
            page.evaluate("window.__sameDocument = true")  # gone if the page reloads
            return opened

        # Two pages with their stream on each host.
        pages: dict[str, list[OpenPage]] = {"a": [], "b": []}
        for _ in range(12):
            if all(len(on_host) == 2 for on_host in pages.values()):
                break
            opened = open_page()
            assert len(opened.streams) == 1, opened.streams
            host = opened.streams[0]
            if len(pages[host]) == 2:
                # nginx's round robin sends the next page's stream to the other host.
                opened.page.context.close()
            else:
                pages[host].append(opened)
        assert [len(on_host) for on_host in pages.values()] == [2, 2]
        every_page = pages["a"] + pages["b"]
        posted: list[int] = []

        def post(body: str) -> str:
            """Post a comment through nginx; which host took it."""
            answer = post_comment_form(nginx_port, ask_id, author_cookie, author_token, body)
            posted.append(posted_comment_id(answer))
            return upstream_of({k.lower(): v for k, v in answer.headers.items()}, pools, "pages")

        def wait_for_every_bell(pages: list[OpenPage]) -> None:
            expected = len(posted)
            for opened in pages:
                opened.page.wait_for_function(f"() => window.__bells.length >= {expected}")

        # A comment posted on each host reaches every page, those on the other host included.
        took = set()
        for n in range(6):
            took.add(post(f"Comment {n + 1}, before any host stops."))
            wait_for_every_bell(every_page)
            if took == {"a", "b"}:
                break
        assert took == {"a", "b"}
        for opened in every_page:
            assert [bell["object_id"] for bell in opened.value("window.__bells")] == posted

        # Host B stops (SIGTERM to both its masters: each finishes what it can within its
        # graceful timeout, then the open streams are cut). Its pages' new streams are held
        # back until comments have been posted, so those reach them only by the replay.
        gate.closed = True
        for pool in POOLS:
            procs[f"b {pool}"].terminate()
        deadline = time.monotonic() + 20
        while len(gate.held) < len(pages["b"]) and time.monotonic() < deadline:
            every_page[0].page.wait_for_timeout(100)  # lets Playwright pass on the requests
        assert len(gate.held) == len(pages["b"]), "B's pages did not try to reconnect"
        for pool in POOLS:
            assert procs[f"b {pool}"].wait(timeout=40) == 0

        while_down = [post(f"Comment {n}, while host B is down.") for n in (1, 2)]
        assert while_down == ["a", "a"]
        for opened in pages["b"]:
            assert opened.value("window.__opens") == 1  # not connected since
        gate.open()
        for opened in pages["b"]:
            opened.page.wait_for_function("() => window.__opens === 2")
        assert post("Comment 3, right after they reconnected.") == "a"
        wait_for_every_bell(every_page)

        # Every page has every event, in order, once.
        events = db.session.execute(
            select(LiveEvent.id, LiveEvent.object_id)
            .where(LiveEvent.ask_id == ask_id, LiveEvent.name == "comment-added")
            .order_by(LiveEvent.id)
        ).all()
        assert [object_id for _, object_id in events] == posted
        expected = [{"id": event_id, "object_id": object_id} for event_id, object_id in events]
        for opened in every_page:
            assert opened.value("window.__bells") == expected
            assert opened.value("window.__sameDocument") is True, "the page was reloaded"
            assert opened.value("window.__errors") == []
        for opened in every_page:
            assert opened.document_pools == ["pages"]
        for opened in pages["a"]:
            assert (opened.streams, opened.value("window.__opens")) == (["a"], 1)
        for opened in pages["b"]:
            # Broken once (the stop), reconnected through nginx to the surviving host.
            assert opened.streams == ["b", "a"]
            assert opened.value("window.__breaks") >= 1
        assert errors == []

        # A page through nginx: the app's answer, its security headers intact.
        status, headers, body = get(nginx_port, f"/asks/{ask_id}", {"Cookie": reader_cookie})
        assert status == 200
        assert upstream_of({k.lower(): v for k, v in headers.items()}, pools, "pages") == "a"
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Strict-Transport-Security"].startswith("max-age=")  # production
        assert headers["Cache-Control"] == "no-store"  # signed in

        # Its static files come from nginx itself (no app host named), kept a year.
        links = [e["href"] for e in select_all(body.decode(), "link[rel=stylesheet]")]
        links += [e["src"] for e in select_all(body.decode(), "script[src]")]
        assert len(links) >= 3
        for link in links:
            assert re.search(r"^/static/[^?]+\?v=[0-9a-f]{12}$", link), link
            status, headers, content = get(nginx_port, link)
            assert status == 200
            assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert "X-Upstream" not in headers
            assert content == (STATIC / link.split("?")[0].removeprefix("/static/")).read_bytes()
        unhashed = get(nginx_port, "/static/vendor/govuk-frontend.min.js")
        assert (unhashed[0], unhashed[1]["Cache-Control"]) == (200, "no-cache")
        assert get(nginx_port, "/static/src/package.json")[0] == 404

        # The forwarded headers match the app's settings: another host name is refused
        # (TRUSTED_HOSTS, from PUBLIC_URL), and the address the app believes is the one nginx
        # saw, not what the client claims (TRUSTED_PROXY_COUNT=1).
        assert get(nginx_port, "/sign-in", {"Host": "evil.example"})[0] == 400
        status, headers, body = get(nginx_port, "/sign-in")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        signing_in = post_form(
            nginx_port,
            "/sign-in",
            cookie,
            {"csrf_token": token, "email": reader.email, "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert signing_in.status == 303, signing_in.text[:2000]
        db.session.expire_all()
        sign_in = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.sign_in")
        ).one()
        assert sign_in.ip_address == "127.0.0.1"

        print(f"hosts ready in {ready - started:.1f} s, done in {time.monotonic() - started:.1f} s")
    except BaseException:
        for log in logs:
            sys.stderr.write(f"--- {log.stem}\n")
            sys.stderr.write(log.read_text(errors="replace")[-6000:])
        error_log = nginx_folder / "error.log"
        if error_log.exists():
            sys.stderr.write("--- nginx\n" + error_log.read_text(errors="replace")[-6000:])
        raise
    finally:
        for context in contexts:
            context.close()
        stop(*procs.values())
