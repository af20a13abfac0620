"""The footer's pages in a real browser: reached from the footer of the home page, and axe
finds nothing wrong with the privacy notice, the accessibility statement or the terms, at
320 and 1280 px; the secretariat's erase confirmation page too."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from consult.extensions import db
from consult.models import Role
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import LiveServer, assert_accessible

LINKS = {
    "Privacy": "Privacy notice",
    "Accessibility statement": "Accessibility statement for Consult",
    "Terms of participation": "Terms of participation",
}


@pytest.mark.parametrize("width", [320, 1280])
def test_the_footer_pages_are_reached_from_the_footer_and_pass_axe(
    browser: Browser, live_server: LiveServer, width: int
):
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        for link, heading in LINKS.items():
            page.goto(f"{live_server.url}/")
            page.get_by_role("contentinfo").get_by_role("link", name=link, exact=True).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert_accessible(page)
    finally:
        context.close()


def test_the_erase_confirmation_page_passes_axe(browser: Browser, live_server: LiveServer):
    with live_server.app.app_context():
        secretariat = factories.user(
            Role.SECRETARIAT, factories.organisation("Coalition Secretariat"), email="sam@s.example"
        )
        person = factories.user(Role.MEMBER, factories.organisation("Home Organisation"))
        db.session.commit()
        person_id, email = person.id, secretariat.email
    context = browser.new_context(viewport={"width": 320, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/sign-in")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/sign-in"))
        page.goto(f"{live_server.url}/admin/people/{person_id}")
        assert_accessible(page)
        page.get_by_role("button", name="Erase person").click()  # a link styled as a button
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Are you sure you want to erase this person?"
        )
        assert_accessible(page)
        page.get_by_role("button", name="Erase person").click()
        expect(page.get_by_text("name and email address were erased").first).to_be_visible()
        assert_accessible(page)
    finally:
        context.close()
