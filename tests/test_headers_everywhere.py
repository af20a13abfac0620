"""Issue 11's suite: the security headers are on every response (error pages, fragments,
static files and the untrusted-host answer included), and production never shows a
traceback. (The route × role matrix in tests/test_access.py checks every route's answer for
every role too.)"""

from __future__ import annotations

import pytest

from tests.helpers import HTMX, SECURITY_HEADERS, login_as

pytestmark = pytest.mark.database


def _assert_headers(response, what: str) -> None:
    for header in SECURITY_HEADERS:
        assert header in response.headers, (header, what)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_error_pages_fragments_and_static_files(client, people, ask):
    answers = {
        "404": client.get("/no-such-page"),
        "405": client.put("/sign-in"),
        "415": client.post("/sign-in", json={"email": 1}),
        "400 NUL": client.get("/search?q=%00"),
        "static": client.get("/static/css/consult.css"),
    }
    login_as(client, people.member)
    answers["htmx fragment"] = client.get(f"/asks/{ask.id}", headers=HTMX)
    answers["403"] = client.get("/admin/audit")
    answers["htmx 403"] = client.get("/admin/audit", headers=HTMX)
    for what, response in answers.items():
        _assert_headers(response, what)
        response.close()
    assert answers["404"].status_code == 404 and answers["415"].status_code == 415


def test_an_untrusted_host_gets_the_headers_too(app_config):
    from tests.helpers import make_app

    app = make_app({**app_config, "TRUSTED_HOSTS": ["consult.example.org"]})
    response = app.test_client().get("/sign-in", headers={"Host": "attacker.example"})
    assert response.status_code == 400
    _assert_headers(response, "untrusted host")


def test_a_failure_in_production_shows_no_traceback(app_config, tmp_path):
    from consult import create_app

    app = create_app(
        {
            **app_config,
            "TESTING": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'boom.sqlite3'}",
        }
    )

    @app.get("/__boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    response = app.test_client().get("/__boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with Consult" in body
    assert "Traceback" not in body and "hunter2" not in body and "RuntimeError" not in body
    _assert_headers(response, "500")
    with app.app_context():
        from consult.extensions import db

        db.engine.dispose()
