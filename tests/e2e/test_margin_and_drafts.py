"""The ask page's margins and the secretariat's drafts, in a real browser, on the demo.

- Each paragraph's discussion is beside it on a wide screen and after it on a phone; "Show
  the threads" fetches the paragraph's threads into the margin, and a thread's link moves
  focus to the thread in the discussion below. axe finds nothing wrong with them open.
- A draft the secretariat saves, of a new ask or of the next version of one, is invisible to
  members until it is published."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from consult.demo import demo_data
from consult.extensions import db
from consult.models import Ask, Consultation
from tests.helpers import LiveServer, assert_accessible

SECRETARIAT = "secretariat@blueprint.example"
AMIRA = "amira.khan@eastmere.example"
FUNDING_ASK = "Reform and devolve funding streams"  # a thread and an amendment on paragraph 2


def sign_in(browser: Browser, server: LiveServer, email: str, width: int = 1280) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(demo_data()["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page


def ask_id(server: LiveServer, title: str) -> int:
    with server.app.app_context():
        return db.session.scalar(select(Ask.id).where(Ask.title == title))


@pytest.mark.parametrize("width", [1280, 375])
def test_a_paragraphs_discussion_is_in_its_margin(browser, demo_server, width):
    page = sign_in(browser, demo_server, AMIRA, width)
    page.goto(f"{demo_server.url}/asks/{ask_id(demo_server, FUNDING_ASK)}")
    paragraph = page.locator(".app-paragraph").nth(1)
    text = paragraph.locator(".app-paragraph__main")
    margin = paragraph.get_by_role("complementary", name="Discussion of paragraph 2")
    expect(margin).to_contain_text("2 comments")
    expect(margin).to_contain_text("1 open amendment")
    text_box, margin_box = text.bounding_box(), margin.bounding_box()
    if width >= 1280:  # beside the paragraph, level with it
        assert margin_box["x"] >= text_box["x"] + text_box["width"]
        assert abs(margin_box["y"] - text_box["y"]) < 20
    else:  # after it
        assert margin_box["y"] >= text_box["y"] + text_box["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    margin.get_by_text("Show the threads").click()
    thread = margin.locator(".app-margin__thread").first
    expect(thread).to_contain_text("Tom Hughes, Eastmere City Council")
    expect(thread).to_contain_text("Eastmere bid for eleven separate pots")
    assert_accessible(page)

    thread.get_by_role("link", name=re.compile(r"^Read the thread")).click()
    comment = page.locator("#threads > li.app-comment").first
    expect(comment).to_be_focused()
    expect(page).to_have_url(re.compile(r"#comment-\d+$"))


def test_drafts_are_invisible_to_members(browser, demo_server):
    with demo_server.app.app_context():
        consultation_id = db.session.scalar(
            select(Consultation.id).join(Ask).where(Ask.title == FUNDING_ASK)
        )
    funding = ask_id(demo_server, FUNDING_ASK)
    sam = sign_in(browser, demo_server, SECRETARIAT)

    # A new ask, with a saved draft and nothing published.
    sam.goto(f"{demo_server.url}/consultations/{consultation_id}/asks/new")
    sam.get_by_label("Title").fill("Fund local nature recovery")
    sam.get_by_role("button", name=re.compile("Add|Save")).click()
    expect(sam.get_by_role("heading", level=1, name="Fund local nature recovery")).to_be_visible()
    new_ask = int(re.search(r"/asks/(\d+)", sam.url).group(1))
    sam.get_by_role("button", name="Write a new version").click()
    sam.get_by_label("Wording").fill("Every council gets a nature recovery budget.")
    sam.get_by_role("button", name="Save draft").click()
    expect(
        sam.get_by_text("Draft saved. Members cannot see it until you publish it.")
    ).to_be_visible()
    sam.goto(f"{demo_server.url}/asks/{new_ask}")
    expect(sam.locator("#saved-draft")).to_be_visible()

    # The next version of a published ask, saved as a draft.
    sam.goto(f"{demo_server.url}/asks/{funding}/versions/new")
    sam.get_by_label("Wording").fill("A SECRET REWRITE of the funding ask.")
    sam.get_by_label("What changed").fill("Rewritten.")
    sam.get_by_role("button", name="Save draft").click()
    expect(
        sam.get_by_text("Draft saved. Members cannot see it until you publish it.")
    ).to_be_visible()
    assert_accessible(sam)
    sam.goto(f"{demo_server.url}/asks/{funding}")
    expect(sam.locator("#saved-draft")).to_be_visible()

    amira = sign_in(browser, demo_server, AMIRA)
    amira.goto(f"{demo_server.url}/consultations/{consultation_id}")
    expect(amira.get_by_role("link", name=FUNDING_ASK, exact=True).first).to_be_visible()
    expect(amira.get_by_text("Fund local nature recovery")).to_have_count(0)
    amira.goto(f"{demo_server.url}/")
    expect(amira.get_by_role("link", name=FUNDING_ASK, exact=True).first).to_be_visible()
    expect(amira.get_by_text("Fund local nature recovery")).to_have_count(0)
    response = amira.goto(f"{demo_server.url}/asks/{new_ask}")
    assert response is not None and response.status in (403, 404)
    amira.goto(f"{demo_server.url}/asks/{funding}")
    expect(amira.get_by_role("heading", level=1, name=FUNDING_ASK)).to_be_visible()
    expect(amira.get_by_text("SECRET REWRITE")).to_have_count(0)
    expect(amira.locator("#saved-draft")).to_have_count(0)
    expect(amira.get_by_role("button", name=re.compile("draft|new version"))).to_have_count(0)
