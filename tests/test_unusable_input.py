"""Issue 11's low findings on input and caching: JSON or multipart bodies on form routes gave
a 500 (anonymously on /sign-in); NUL bytes gave a 500 on PostgreSQL; signed-in pages had no
`Cache-Control: no-store`; the stylesheet's build sources under static/src were served.
Each is a 4xx with a clear message now, or the header is there."""

from __future__ import annotations

import io

import pytest

from consult.extensions import db
from consult.models import Comment
from tests import factories
from tests.helpers import count, login_as
from tests.html import text_of

pytestmark = pytest.mark.database


@pytest.mark.parametrize("url", ["/sign-in", "/password-reset"])
@pytest.mark.parametrize(
    "body",
    [{"email": 1, "password": 2}, {"email": ["a"], "password": {"x": 1}}, [1, 2], "text"],
)
def test_a_json_body_is_refused_not_a_500(client, url, body):
    # With a valid CSRF token, wtforms was handed numbers and lists, and failed.
    response = client.post(url, json=body)
    assert response.status_code == 415
    assert "Consult accepts what its own forms send" in text_of(response, "main")


def test_a_multipart_body_is_refused_not_a_500(client):
    response = client.post(
        "/sign-in",
        data={"email": "a@example.org", "password": (io.BytesIO(b"x"), "a.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415


def test_a_nul_byte_is_refused_before_the_database_sees_it(client, people, ask):
    login_as(client, people.member)
    before = count(Comment)
    response = client.post(f"/asks/{ask.id}/comments", data={"body": "Hello\x00there"})
    assert response.status_code == 400
    assert "cannot be stored (a NUL byte)" in text_of(response, "main")
    assert count(Comment) == before
    assert client.get("/search?q=a\x00b").status_code == 400
    assert client.get("/sign-in?next=/\x00").status_code == 400


def test_signed_in_pages_are_not_stored_by_caches(client, people, ask):
    assert "no-store" not in client.get("/sign-in").headers.get("Cache-Control", "")
    login_as(client, people.member)
    for url in ("/", f"/asks/{ask.id}", "/account", f"/consultations/{ask.consultation_id}"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url


def test_the_stylesheets_build_sources_are_not_served(client):
    assert client.get("/static/src/consult.scss").status_code == 404
    served = client.get("/static/css/consult.css")
    served.close()
    assert served.status_code == 200


def test_a_form_still_posts(client):
    factories.user(email="ada@example.org")
    db.session.commit()
    response = client.post("/password-reset", data={"email": "ada@example.org"})
    assert response.status_code == 303
