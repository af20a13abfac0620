"""Browser journeys: a live, threaded Consult server and Debian's Chromium via Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from consult.extensions import db, limiter
from tests.helpers import LiveServer, built_once, make_app
from tests.secrets_in_logs import QuietRequestHandler
from tests.smtp import smtp_server  # noqa: F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def base_url() -> None:
    """Each test's live server has its own address; tests build full URLs from it.

    (This also replaces pytest-base-url's fixture, which pytest 9 warns about.)"""
    return None


@pytest.fixture
def live_server(app_config: dict, smtp_server, tmp_path) -> Iterator[LiveServer]:
    """Consult served on a free port of 127.0.0.1 by a threaded server, with a database of
    its own, CSRF on and a real SMTP server."""
    config = {
        **app_config,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite3'}",
        "WTF_CSRF_ENABLED": True,
        "SERVER_NAME": None,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
    }
    app = make_app(config)
    with app.app_context():
        db.create_all()
    # Rate limits start afresh, as with the `app` fixture (with --backend=postgres they are
    # kept in Redis, where earlier tests' people, with the same ids, would still count).
    limiter.reset()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = url  # emails' links lead back here
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=url)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def demo_server(live_server: LiveServer) -> LiveServer:
    """The live server with the demo (organisations, people, the manifesto consultation):
    loaded once per test process, then put back in each live server's database
    (tests/helpers.built_once)."""
    from consult.demo import load_demo

    with live_server.app.app_context():
        built_once("demo", load_demo)
    return live_server
