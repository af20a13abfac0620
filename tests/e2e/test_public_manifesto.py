"""The public manifesto in a real browser: the secretariat publishes it; an anonymous
visitor reads it (on a phone and on a desktop), backs it, confirms from the emailed link;
the secretariat approves the backer, and the visitor's page lists it. axe finds nothing
wrong with the publish confirmation, the public page at 320 and 1280 px, the check-your-email
page, the confirm page and the backers page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from consult.extensions import db
from consult.models import Decision, Endorsement, Participant, Role
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import LiveServer, assert_accessible
from tests.publication.helpers import agree
from tests.smtp import link_from

SECRETARIAT = "sam@secretariat.example"


@pytest.fixture
def consultation_id(live_server: LiveServer) -> int:
    """A closed consultation whose two asks are agreed and whose sign-off has closed."""
    with live_server.app.app_context():
        secretariat = factories.user(
            Role.SECRETARIAT,
            factories.organisation("Coalition Secretariat"),
            email=SECRETARIAT,
            name="Sam Secretariat",
        )
        listed = factories.organisation("Listed Trust")
        consultation = factories.consultation(
            "Clean air for every child",
            summary="We ask for **clean air** near every school, by 2030.",
            opens_in_days=-30,
            closes_in_days=-2,
        )
        consultation.participants = [Participant(organisation=listed)]
        for title, body in (
            ("Monitor the air", "Monitor the air near every school.\n\n- Publish the data."),
            ("School streets", "Close the streets by schools at drop-off and pick-up."),
        ):
            agree(secretariat, factories.ask(consultation, title=title, versions=(body,)))
        db.session.add(
            Endorsement(
                consultation_id=consultation.id,
                organisation_id=listed.id,
                decision=Decision.ENDORSE,
                list_publicly=True,
                set_by_id=secretariat.id,
            )
        )
        consultation.signoff_opened_at = consultation.closes_at
        consultation.signoff_closed_at = consultation.closes_at + timedelta(days=1)
        db.session.commit()
        return consultation.id


def new_page(browser: Browser, width: int = 1280) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(5000)
    return context.new_page()


def sign_in(browser: Browser, server: LiveServer, email: str) -> Page:
    page = new_page(browser)
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page


def check(page: Page) -> None:
    page.wait_for_load_state("load")
    assert_accessible(page)


def test_publish_read_back_confirm_approve(
    browser: Browser, live_server: LiveServer, smtp_server, consultation_id: int
):
    public_url = f"{live_server.url}/manifestos/{consultation_id}"
    visitor = new_page(browser, width=320)
    assert visitor.goto(public_url).status == 404  # not published yet

    secretariat = sign_in(browser, live_server, SECRETARIAT)
    secretariat.goto(f"{live_server.url}/consultations/{consultation_id}")
    secretariat.get_by_role("link", name="Publish the manifesto").click()
    expect(secretariat.locator("h1")).to_have_text(
        "Are you sure you want to publish the manifesto?"
    )
    expect(secretariat.locator("#publish-what")).to_contain_text("Listed Trust")
    check(secretariat)
    secretariat.get_by_role("button", name="Publish the manifesto").click()
    expect(secretariat).to_have_url(public_url)
    expect(secretariat.locator(".govuk-notification-banner")).to_contain_text("Manifesto published")

    # An anonymous visitor on a phone reads it: nothing wider than the screen.
    visitor.goto(public_url)
    expect(visitor.locator("h1")).to_have_text("Clean air for every child")
    expect(visitor.locator("#manifesto-text")).to_contain_text("Publish the data.")
    expect(visitor.locator("#endorsing-organisations")).to_have_text("Listed Trust")
    assert visitor.evaluate("document.documentElement.scrollWidth") <= 320
    check(visitor)
    visitor.set_viewport_size({"width": 1280, "height": 900})
    check(visitor)
    visitor.set_viewport_size({"width": 320, "height": 900})
    # Printed, it is the text and the names: no navigation, form or downloads.
    visitor.emulate_media(media="print")
    expect(visitor.locator("#manifesto-text")).to_be_visible()
    expect(visitor.locator("#back-the-manifesto")).to_be_hidden()
    expect(visitor.locator(".govuk-service-navigation")).to_be_hidden()
    visitor.emulate_media(media="screen")

    # The visitor backs it.
    visitor.get_by_label("Organisation name").fill("Friends of the Park")
    visitor.get_by_label("Your name").fill("Fran Friend")
    visitor.get_by_label("Email address").fill("fran@example.org")
    visitor.get_by_label("Website (optional)").fill("https://friends.example.org")
    visitor.get_by_role("button", name="Back the manifesto").click()
    expect(visitor.locator("h1")).to_have_text("Check your email")
    check(visitor)

    link = link_from(smtp_server.wait_for(1)[-1])
    assert "/backers/confirm/" in link
    visitor.goto(link)
    expect(visitor.locator("h1")).to_have_text("Confirm your support")
    check(visitor)
    visitor.get_by_role("button", name="Confirm support").click()
    expect(visitor).to_have_url(public_url)
    expect(visitor.locator(".govuk-notification-banner")).to_contain_text(
        "your support is confirmed"
    )
    expect(visitor.locator("#manifesto-backers")).not_to_contain_text("Friends of the Park")

    # The secretariat approves it.
    secretariat.goto(f"{live_server.url}/consultations/{consultation_id}/backers")
    expect(secretariat.locator("#backers")).to_contain_text("Friends of the Park")
    check(secretariat)
    secretariat.get_by_role("button", name="Approve Friends of the Park").click()
    expect(secretariat.locator(".govuk-notification-banner")).to_contain_text("Backer approved")

    visitor.reload()
    backer = visitor.locator("#approved-backers a")
    expect(backer).to_have_text("Friends of the Park")
    expect(backer).to_have_attribute("href", "https://friends.example.org")
