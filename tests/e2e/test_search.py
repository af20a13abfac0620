"""Search in a real browser, on the demo: the header's box finds a paragraph and a comment,
and each result jumps to it (the paragraph is the page's target, the comment is shown); axe
finds nothing wrong with the results, which do not scroll sideways at 320 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from consult.demo import demo_data
from tests.helpers import LiveServer, assert_accessible

AMIRA = "amira.khan@eastmere.example"
FUNDING_ASK = "Reform and devolve funding streams"


def sign_in(browser: Browser, server: LiveServer, email: str, width: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(demo_data()["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page


def test_search_finds_a_paragraph_and_a_comment_and_jumps_to_them(browser, demo_server):
    page = sign_in(browser, demo_server, AMIRA, 1280)
    box = page.get_by_role("search", name="Site").get_by_label(
        "Search asks, comments and amendments"
    )
    box.fill("bidding pots")
    box.press("Enter")
    expect(page).to_have_title("Search results for ‘bidding pots’ – Consult")
    results = page.locator("#search-results")
    expect(results.locator("mark").first).to_be_visible()
    page.wait_for_load_state("load")
    assert_accessible(page)

    paragraph = results.get_by_role("link", name=f"Paragraph 2 of ‘{FUNDING_ASK}’")
    paragraph.click()
    expect(page).to_have_url(re.compile(r"/asks/\d+#p-[0-9a-f]{10}$"))
    anchor = page.evaluate("location.hash")
    target = page.locator(":target")
    expect(target).to_have_attribute("id", anchor[1:])
    expect(target).to_contain_text("Short-term, competitive bidding pots")
    # The browser scrolls to the target once the page is laid out, which on a busy machine
    # may be after the URL has changed: wait for it rather than look once.
    expect(target).to_be_in_viewport()

    page.go_back()
    results.get_by_role(
        "link", name=f"Comment from Eastmere City Council on ‘{FUNDING_ASK}’"
    ).click()
    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    comment_id = page.evaluate("location.hash")
    comment = page.locator(comment_id)
    expect(comment).to_be_visible()
    expect(comment).to_contain_text("Eastmere bid for eleven separate pots")
    expect(comment).to_be_in_viewport()


@pytest.mark.parametrize("query", ["bidding pots", "zzzz nothing"])
def test_results_do_not_scroll_sideways_at_320_px(browser, demo_server, query):
    page = sign_in(browser, demo_server, AMIRA, 320)
    page.goto(f"{demo_server.url}/search?q={query}")
    expect(page.locator("#search-summary")).to_be_visible()
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)
