"""After any sequence of htmx updates the page holds at most one element with autofocus:
each form htmx opens takes focus, and the ones opened before give up the attribute."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from consult.comments import services
from consult.demo import demo_data
from consult.extensions import db
from consult.models import Ask, User

AMIRA = "amira.khan@eastmere.example"
LUCY = "lucy.evans@greenfutures.example"
ASK_TITLE = "Recognise the need for a place-based approach"


def seed_comments(server) -> tuple[int, list[int]]:
    """Two comments by Lucy on the ask; the ask's id and theirs."""
    with server.app.app_context():
        lucy = db.session.scalar(select(User).where(User.email == LUCY))
        ask = db.session.scalar(select(Ask).where(Ask.title == ASK_TITLE))
        made = [
            services.add_comment(author=lucy, ask=ask, body=body)[0]
            for body in ("Say who pays.", "Name the councils.")
        ]
        db.session.commit()
        return ask.id, [c.id for c in made]


def autofocus_count(page: Page) -> int:
    return page.locator("[autofocus]").count()


def test_opening_forms_one_after_another_leaves_one_autofocus(browser: Browser, demo_server):
    ask_id, (first, second) = seed_comments(demo_server)
    context = browser.new_context()
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        page.goto(f"{demo_server.url}/sign-in")
        page.get_by_label("Email address").fill(AMIRA)
        page.get_by_label("Password", exact=True).fill(demo_data()["password"])
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/sign-in"))
        page.goto(f"{demo_server.url}/asks/{ask_id}")
        assert autofocus_count(page) <= 1

        boxes = []
        for comment_id in (first, second):
            page.locator(f"#comment-{comment_id}-content").get_by_role(
                "link", name=re.compile(r"^Reply to ")
            ).click()
            box = page.locator(f"#comment-{comment_id}-form").get_by_label("Your reply")
            expect(box).to_be_focused()
            boxes.append(box)
            assert autofocus_count(page) <= 1

        # Both forms are still open; focus stayed where the last one put it.
        expect(boxes[0]).to_be_visible()
        expect(boxes[1]).to_be_focused()

        # Posting the second form puts its answer in its place, which takes focus.
        boxes[1].fill("And when.")
        page.locator(f"#comment-{second}-form").get_by_role("button", name="Post reply").click()
        done = page.locator(f"#comment-{second}-form").get_by_text("Your reply has been posted")
        expect(done).to_be_focused()
        assert autofocus_count(page) <= 1
    finally:
        context.close()
