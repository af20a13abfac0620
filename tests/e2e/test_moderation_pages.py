"""The secretariat's queue of unresolved comments, in a real browser, on the demo: reached
from the consultation page, filtered by ask, a comment resolved from it leaves it; axe finds
nothing wrong with the queue, filtered or not, nor with the member's dashboard figures."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from consult.demo import demo_data
from consult.extensions import db
from consult.models import Ask
from tests.helpers import LiveServer, assert_accessible

SECRETARIAT = "secretariat@blueprint.example"
AMIRA = "amira.khan@eastmere.example"
FUNDING_ASK = "Reform and devolve funding streams"  # one unresolved thread in the demo


def sign_in(browser: Browser, server: LiveServer, email: str) -> Page:
    context = browser.new_context()
    context.set_default_timeout(5000)
    page = context.new_page()
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(demo_data()["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page


def test_the_secretariat_works_through_the_unresolved_queue(browser, demo_server):
    with demo_server.app.app_context():
        ask = db.session.scalar(select(Ask).where(Ask.title == FUNDING_ASK))
        consultation_id, ask_id = ask.consultation_id, ask.id
    sam = sign_in(browser, demo_server, SECRETARIAT)
    sam.goto(f"{demo_server.url}/consultations/{consultation_id}")
    link = sam.locator("#unresolved-link a")
    total = int(re.search(r"\((\d+)\)", link.inner_text()).group(1))
    assert total >= 1
    link.click()
    expect(sam.get_by_role("heading", level=1, name="Unresolved comments")).to_be_visible()
    expect(sam.locator("#unresolved-comments > li")).to_have_count(min(total, 25))
    assert_accessible(sam)

    sam.get_by_label("Ask", exact=True).select_option(str(ask_id))
    sam.get_by_role("button", name="Filter comments").click()
    expect(sam.locator("#unresolved-summary")).to_have_text(
        "1 unresolved comment matches your filters, oldest first."
    )
    assert_accessible(sam)
    item = sam.locator("#unresolved-comments > li").first
    expect(item).to_contain_text(f"{FUNDING_ASK}: on paragraph 2")

    item.get_by_role("link", name=re.compile(r"^Mark as resolved")).click()
    sam.get_by_label("The secretariat's response").fill("We will name five years in v2.")
    sam.get_by_role("button", name="Mark as resolved").click()
    expect(sam.get_by_text("The comment has been marked as resolved")).to_be_visible()
    sam.goto(f"{demo_server.url}/consultations/{consultation_id}")
    expect(sam.locator("#unresolved-link")).to_have_text(f"Unresolved comments ({total - 1})")


def test_the_dashboard_figures_are_accessible(browser, demo_server):
    amira = sign_in(browser, demo_server, AMIRA)
    expect(amira.get_by_role("columnheader", name="New since your last visit")).to_be_visible()
    assert_accessible(amira)
