"""Nothing typed is lost, in a real browser: a comment posted after the person signed out in
another tab stays in its form with a message beside it, and posts once they have signed in
again in a new tab; a half-written comment survives a reload. axe finds nothing wrong with
the message shown."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from consult.demo import demo_data
from consult.extensions import db
from consult.models import Ask, Comment
from tests.helpers import LiveServer, assert_accessible

AMIRA = "amira.khan@eastmere.example"  # Eastmere City Council
ASK_TITLE = "Recognise the need for a place-based approach"
TEXT = "Kept through a sign-out: the place-based approach needs a budget line."


@pytest.fixture
def ask_id(demo_server: LiveServer) -> int:
    with demo_server.app.app_context():
        return db.session.scalar(select(Ask.id).where(Ask.title == ASK_TITLE))


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.set_default_timeout(5000)
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    yield context
    context.close()
    assert errors == []


def sign_in(page: Page, email: str = AMIRA) -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(demo_data()["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))


def open_ask(context: BrowserContext, server: LiveServer, ask_id: int) -> Page:
    page = context.new_page()
    page.goto(f"{server.url}/asks/{ask_id}")
    expect(page.get_by_role("heading", level=1, name=ASK_TITLE)).to_be_visible()
    page.wait_for_load_state("load")
    return page


def kept_draft(page: Page) -> str | None:
    """The draft the page keeps for the comment form at its foot."""
    return page.evaluate(
        """() => {
          const form = document.getElementById('comment-form')
          const key = `consult-draft:${form.getAttribute('action')}#${form.id}#body`
          return window.sessionStorage.getItem(key)
        }"""
    )


def comments_saying(server: LiveServer, body: str) -> int:
    with server.app.app_context():
        return len(db.session.scalars(select(Comment).where(Comment.body == body)).all())


def test_a_post_after_signing_out_elsewhere_keeps_the_text(
    context: BrowserContext, demo_server: LiveServer, ask_id: int
) -> None:
    first = context.new_page()
    first.goto(f"{demo_server.url}/sign-in")
    sign_in(first)
    first.close()
    page = open_ask(context, demo_server, ask_id)
    form = page.locator("#comment-form")
    form.get_by_label("Your comment").fill(TEXT)

    # Signed out in another tab of the same browser: this page does not know.
    other = context.new_page()
    other.goto(f"{demo_server.url}/account")
    other.get_by_role("button", name="Sign out").click()
    expect(other.get_by_text("You have signed out")).to_be_visible()
    other.close()

    page.bring_to_front()
    form.get_by_role("button", name="Post comment").click()
    message = page.locator("#comment-session")
    expect(message.get_by_role("heading", name="Your session has ended")).to_be_visible()
    expect(message).to_contain_text("Your text is still here")
    expect(page).to_have_url(re.compile(rf"/asks/{ask_id}$"))  # not the sign-in page
    expect(form.get_by_label("Your comment")).to_have_value(TEXT)
    expect(page.locator(".app-session-ended")).to_be_focused()
    assert comments_saying(demo_server, TEXT) == 0
    assert_accessible(page)

    # Sign in in a new tab, from the link in the message; it comes back to the ask.
    with context.expect_page() as opened:
        message.get_by_role("link", name="Sign in (opens in new tab)").click()
    tab = opened.value
    expect(tab).to_have_url(re.compile(r"/sign-in\?next="))
    sign_in(tab)
    expect(tab).to_have_url(re.compile(rf"/asks/{ask_id}$"))
    tab.close()

    # Post again: the page fetches a fresh form token first, and the comment is posted once.
    page.bring_to_front()
    # GOV.UK Frontend's button ignores a click that comes within a second of the one before
    # (data-prevent-double-click), by a timer that a page in the background may run late. On
    # a quiet machine this test signs in again inside that second, which no person does.
    page.wait_for_timeout(1000)
    form.get_by_role("button", name="Post comment").click()
    expect(page.locator("#comment-status")).to_contain_text("Your comment has been posted")
    expect(form.get_by_label("Your comment")).to_have_value("")
    expect(page.locator("#threads")).to_contain_text(TEXT)
    assert comments_saying(demo_server, TEXT) == 1
    assert kept_draft(page) is None
    assert_accessible(page)


def test_a_half_written_comment_survives_a_reload(
    context: BrowserContext, demo_server: LiveServer, ask_id: int
) -> None:
    first = context.new_page()
    first.goto(f"{demo_server.url}/sign-in")
    sign_in(first)
    first.close()
    page = open_ask(context, demo_server, ask_id)
    field = page.locator("#comment-form").get_by_label("Your comment")
    field.press_sequentially("Half a thought about")
    page.wait_for_function(
        """() => {
          const form = document.getElementById('comment-form')
          const key = `consult-draft:${form.getAttribute('action')}#${form.id}#body`
          return window.sessionStorage.getItem(key) === 'Half a thought about'
        }"""
    )
    page.reload()
    expect(page.locator("#comment-form").get_by_label("Your comment")).to_have_value(
        "Half a thought about"
    )
    # Posted, it is forgotten: a reload then shows an empty form.
    page.locator("#comment-form").get_by_role("button", name="Post comment").click()
    expect(page.locator("#comment-status")).to_contain_text("Your comment has been posted")
    assert kept_draft(page) is None
    page.reload()
    expect(page.get_by_role("heading", level=1, name=ASK_TITLE)).to_be_visible()
    page.wait_for_load_state("load")
    expect(page.locator("#comment-form").get_by_label("Your comment")).to_have_value("")
