"""Nothing typed is lost when the session has ended: a form posted with htmx gets a 401
message beside it (its text stays in the page), a plain form is sent to sign in and back to
the page it was on, a form token that no longer matches its session is treated the same way,
and a page can fetch a fresh token before posting again. Nothing is ever saved."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from consult.extensions import db
from consult.models import Comment
from tests.helpers import HTMX, comment, login_as
from tests.html import select as css_select
from tests.html import select_one, text_of

pytestmark = pytest.mark.database

KEY = "0123456789abcdef0123456789abcdef"
FORM = {"body": "My careful words.", "submission_key": KEY, "placement": "page"}


def count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Comment))


def htmx_post(client, url, target, page, data=FORM):
    headers = {**HTMX, "HX-Target": target, "HX-Current-URL": f"http://consult.test{page}"}
    return client.post(url, data=data, headers=headers)


def assert_session_ended(response, slot: str, next_path: str) -> None:
    assert response.status_code == 401
    assert response.headers["HX-Retarget"] == slot
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert response.headers["X-Consult"] == "session-ended"
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Redirect" not in response.headers  # the page (and the text in it) stays
    body = response.get_data(as_text=True)
    assert text_of(body, "h2") == "Your session has ended"
    assert "Your text is still here. Nothing was posted. Sign in in a new tab" in body
    link = select_one(body, "a")
    assert link.get("target") == "_blank" and link.get("rel") == ["noopener"]
    assert text_of(body, "a") == "Sign in (opens in new tab)"
    location = urlsplit(link.get("href"))
    assert location.path == "/sign-in" and parse_qs(location.query)["next"] == [next_path]
    assert "<html" not in body  # a fragment, not the sign-in page


def test_a_comment_posted_after_the_session_ended(client, people, ask):
    page = f"/asks/{ask.id}?thread=3"
    response = htmx_post(client, f"/asks/{ask.id}/comments", "comment-form", page)
    assert_session_ended(response, "#comment-session", page)
    assert count() == 0


def test_a_reply_posted_after_the_session_ended(client, people, ask):
    parent = comment(people.member, ask)
    db.session.commit()
    before = count()
    url = f"/comments/{parent.id}/replies"
    response = htmx_post(client, url, f"reply-{parent.id}-form", f"/asks/{ask.id}")
    assert_session_ended(response, f"#reply-{parent.id}-session", f"/asks/{ask.id}")
    assert count() == before


def test_an_unknown_target_gets_the_message_region(client, people, ask):
    response = htmx_post(client, f"/asks/{ask.id}/comments", 'x"]<script>', f"/asks/{ask.id}")
    assert response.status_code == 401 and response.headers["HX-Retarget"] == "#messages"
    response = htmx_post(client, f"/asks/{ask.id}/comments", "preview", "https://evil.example/x")
    assert response.headers["HX-Retarget"] == "#messages"
    link = select_one(response.get_data(as_text=True), "a").get("href")
    assert link == "/sign-in"  # another site's page is never where sign-in leads


def test_an_htmx_get_still_goes_to_sign_in(client, people, ask):
    response = client.get(f"/asks/{ask.id}/comments/new", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/sign-in?next=")


def test_a_plain_post_comes_back_to_its_page_after_sign_in(client, people, ask):
    page = f"/asks/{ask.id}/position"
    response = client.post(
        f"/asks/{ask.id}/comments", data=FORM, headers={"Referer": f"http://consult.test{page}"}
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in" and parse_qs(location.query)["next"] == [page]
    elsewhere = client.post(
        f"/asks/{ask.id}/comments", data=FORM, headers={"Referer": "https://evil.example/x"}
    )
    assert elsewhere.headers["Location"] == "/sign-in"
    assert count() == 0


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_a_stale_form_token_over_htmx_keeps_the_text(csrf_app, client, people, ask):
    # Signed out: the cookie (and the token it held) is gone.
    page = f"/asks/{ask.id}"
    response = htmx_post(client, f"/asks/{ask.id}/comments", "comment-form", page)
    assert_session_ended(response, "#comment-session", page)
    # Signed in again elsewhere: the page's token belongs to the old session.
    login_as(client, people.member)
    response = htmx_post(client, f"/asks/{ask.id}/comments", "comment-form", page)
    assert response.status_code == 400 and response.headers["X-Consult"] == "session-ended"
    assert text_of(response.get_data(as_text=True), "h2") == "This page had expired"
    assert not css_select(response.get_data(as_text=True), "a")
    # With a fresh token the same post is accepted.
    token = client.get("/csrf-token").get_json()["csrfToken"]
    response = client.post(
        f"/asks/{ask.id}/comments", data=FORM, headers={**HTMX, "X-CSRFToken": token}
    )
    assert response.status_code == 200 and count() == 1


def test_a_stale_form_token_without_javascript(csrf_app, client, people, ask):
    page = f"/asks/{ask.id}/amendments/new"
    response = client.post(
        f"/asks/{ask.id}/comments", data=FORM, headers={"Referer": f"http://consult.test{page}"}
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [page]
    login_as(client, people.member)  # signed in: the page had expired; say so, as before
    response = client.post(f"/asks/{ask.id}/comments", data=FORM)
    assert response.status_code == 400
    assert "Your form had expired" in response.get_data(as_text=True)
    assert count() == 0


def test_the_fresh_token(client, people):
    response = client.get("/csrf-token")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["signedIn"] is False and response.get_json()["csrfToken"]
    login_as(client, people.member)
    assert client.get("/csrf-token").get_json()["signedIn"] is True


def test_the_forms_keep_drafts_and_have_a_message_slot(client, people, ask):
    html = login_as(client, people.member).get(f"/asks/{ask.id}").get_data(as_text=True)
    form = select_one(html, "form#comment-form")
    assert form.has_attr("data-keep-draft")
    assert select_one(html, "form#comment-form > #comment-session") is not None
