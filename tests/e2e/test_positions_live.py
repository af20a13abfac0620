"""Positions in a real browser: a delegate sets the organisation's position with the keyboard
only, and another organisation's open ask page shows the new tally without reloading; axe
finds nothing wrong with the form (also with its errors) or the panel."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete, select

from consult.demo import demo_data
from consult.extensions import db
from consult.models import Ask, Participant, Position, User
from tests.helpers import LiveServer, assert_accessible

AMIRA = "amira.khan@eastmere.example"  # Eastmere City Council
LUCY = "lucy.evans@greenfutures.example"  # Green Futures Alliance
ASK_TITLE = "Recognise the need for a place-based approach"
WITHIN = 2000  # ms


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "LIVE_CHANNEL_PREFIX": f"consult-e2e-{uuid.uuid4().hex}:"}


@pytest.fixture
def ask_id(demo_server: LiveServer) -> int:
    """The demo ask; Amira's and Lucy's organisations take part, Lucy is a delegate, and no
    organisation has a position on it yet (the demo's are removed)."""
    with demo_server.app.app_context():
        ask = db.session.scalar(select(Ask).where(Ask.title == ASK_TITLE))
        db.session.execute(delete(Position).where(Position.ask_id == ask.id))
        people = {u.email: u for u in db.session.scalars(select(User))}
        lucy, amira = people[LUCY], people[AMIRA]
        lucy.is_delegate = True
        taking_part = {p.organisation_id for p in ask.consultation.participants}
        for org in (lucy.organisation, amira.organisation):
            if org.id not in taking_part:
                ask.consultation.participants.append(Participant(organisation=org))
        db.session.commit()
        return ask.id


def sign_in(browser: Browser, server: LiveServer, email: str) -> Page:
    context = browser.new_context()
    context.set_default_timeout(5000)
    context.add_init_script(
        "window.__sseOpens = 0;"
        "document.addEventListener('htmx:sseOpen', () => { window.__sseOpens += 1; });"
    )
    page = context.new_page()
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(demo_data()["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page


def test_a_position_set_with_the_keyboard_reaches_another_organisation_live(
    browser: Browser, demo_server: LiveServer, ask_id: int
):
    amira = sign_in(browser, demo_server, AMIRA)
    lucy = sign_in(browser, demo_server, LUCY)
    try:
        amira.goto(f"{demo_server.url}/asks/{ask_id}")
        amira.wait_for_function("() => window.__sseOpens > 0", timeout=5000)
        amira.evaluate("window.__sameDocument = true")
        tally = amira.locator("#positions-tally")
        before = tally.inner_text()
        expect(amira.locator("#positions-list")).to_have_count(0)  # nobody has responded
        assert_accessible(amira)

        lucy.goto(f"{demo_server.url}/asks/{ask_id}")
        lucy.get_by_role("link", name="Set your organisation’s position").focus()
        lucy.keyboard.press("Enter")
        expect(lucy.get_by_role("heading", level=1)).to_have_text(
            "Set your organisation’s position"
        )
        assert_accessible(lucy)
        # Keyboard only: to the radios, choose "Object", then save without a reason.
        lucy.get_by_role("radio", name="Support", exact=True).focus()
        lucy.keyboard.press("Space")
        lucy.keyboard.press("ArrowDown")
        lucy.keyboard.press("ArrowDown")
        expect(lucy.get_by_role("radio", name="Object")).to_be_checked()
        lucy.get_by_role("button", name="Save position").focus()
        lucy.keyboard.press("Enter")
        expect(lucy.locator(".govuk-error-summary")).to_contain_text(
            "Give a reason for your position"
        )
        assert_accessible(lucy)
        lucy.get_by_label("Reason").focus()
        lucy.keyboard.type("It leaves out flood resilience.")
        lucy.get_by_role("button", name="Save position").focus()
        lucy.keyboard.press("Enter")
        expect(lucy).to_have_url(re.compile(rf"/asks/{ask_id}#positions$"))
        expect(lucy.locator("#positions-list")).to_contain_text("Green Futures Alliance: Object")

        # Amira's page, never reloaded, shows the new tally and the objection.
        expect(amira.locator("#positions-list")).to_contain_text(
            "Green Futures Alliance: Object", timeout=WITHIN
        )
        expect(amira.locator("#positions-list")).to_contain_text("It leaves out flood resilience.")
        expect(tally).not_to_have_text(before)
        expect(amira.locator("#positions-not-responded")).not_to_contain_text(
            "Green Futures Alliance"
        )
        assert amira.evaluate("window.__sameDocument") is True
        assert_accessible(amira)
    finally:
        amira.context.close()
        lucy.context.close()
