"""The audit log in a real browser at 320 px: sentences first, technical details folded away
(and still not scrolling the page sideways when opened), sign-ins hidden by the filter; axe
finds nothing wrong with the log or a person's page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from consult.admin import services as admin
from consult.comments import services as comments
from consult.extensions import db
from consult.models import Participant, Role
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import V1, V2, LiveServer, assert_accessible

SECRETARIAT = "sam@secretariat.example"
LONG_TITLE = "Recognise the need for a place-based approach, with the funding to deliver it"
LONG_ADDRESS = "https://www.example.org/" + "a-very-long-path-segment-" * 6


@pytest.fixture
def ids(live_server: LiveServer) -> dict[str, int]:
    """The secretariat, a member whose comment was hidden, and an organisation whose website
    changed to a long address."""
    with live_server.app.app_context():
        home = factories.organisation("Greater Manchester Combined Authority Climate Partnership")
        secretariat = factories.user(
            Role.SECRETARIAT,
            factories.organisation("Coalition Secretariat"),
            email=SECRETARIAT,
            name="Sam Okafor",
        )
        member = factories.user(Role.MEMBER, home, name="Mina Member")
        consultation = factories.consultation("Net zero by 2040")
        consultation.participants = [Participant(organisation=home)]
        ask = factories.ask(consultation, title=LONG_TITLE, versions=(V1, V2), author=secretariat)
        said, _ = comments.add_comment(author=member, ask=ask, body="Rude words.")
        comments.hide_comment(actor=secretariat, comment=said, reason="Rude")
        admin.update_organisation(
            actor=secretariat,
            organisation=home,
            name=home.name,
            kind=home.kind,
            website=LONG_ADDRESS,
        )
        db.session.commit()
        return {"member": member.id}


def open_narrow(browser: Browser, server: LiveServer) -> Page:
    context = browser.new_context(viewport={"width": 320, "height": 800})
    context.set_default_timeout(10000)
    page = context.new_page()
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Email address").fill(SECRETARIAT)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page


def scroll_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_audit_log_reads_as_sentences_at_320_px(browser: Browser, live_server: LiveServer, ids):
    page = open_narrow(browser, live_server)
    page.goto(f"{live_server.url}/admin/audit")
    events = page.locator("main li.app-event")
    expect(events.locator(".app-event__sentence")).to_have_text(
        [
            "Sam Okafor signed in",
            "Sam Okafor changed the details of Greater Manchester Combined Authority Climate "
            f"Partnership: website from none to “{LONG_ADDRESS}”",
            f"Sam Okafor hid a comment by Mina Member on v2 of {LONG_TITLE}",
            f"Mina Member commented on v2 of {LONG_TITLE}",
        ]
    )
    # The details are folded away until asked for.
    expect(events.locator(".app-event__action").first).to_be_hidden()
    assert scroll_width(page) <= 320
    assert_accessible(page)

    # Opened, the long address's table scrolls in its own labelled region.
    changed = events.nth(1)
    changed.get_by_text("Technical details").click()
    expect(changed.locator(".app-event__action")).to_have_text("organisation.update")
    region = changed.locator(".app-table-scroll")
    expect(region).to_have_attribute("role", "region")
    expect(region).to_have_attribute("aria-label", re.compile("Values before and after"))
    assert scroll_width(page) <= 320
    assert_accessible(page)

    # Sign-ins hidden, and kept hidden in the address.
    page.get_by_label("Hide sign-ins and sign-outs").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"hide_sign_ins=y"))
    expect(page.get_by_label("Hide sign-ins and sign-outs")).to_be_checked()
    expect(events).to_have_count(3)
    expect(page.get_by_text("Sam Okafor signed in")).to_have_count(0)


def test_a_persons_recent_activity_at_320_px(browser: Browser, live_server: LiveServer, ids):
    page = open_narrow(browser, live_server)
    page.goto(f"{live_server.url}/admin/people/{ids['member']}")
    expect(page.locator("main .app-event__sentence")).to_have_text(
        [f"Mina Member commented on v2 of {LONG_TITLE}"]
    )
    assert scroll_width(page) <= 320
    assert_accessible(page)
