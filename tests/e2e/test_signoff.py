"""Sign-off in a real browser: the secretariat opens sign-off once every ask is agreed, two
delegates endorse (one asking not to be listed publicly), another open page's signatory
list updates without a reload, and the secretariat closes sign-off; axe finds nothing wrong
with the sign-off page in each state, the form with its error, and both confirmations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from consult.agreements.services import declare_agreed
from consult.extensions import db
from consult.models import AskState, Participant, Role
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import V1, V2, LiveServer, assert_accessible

SECRETARIAT = "sam@secretariat.example"
HOME = "dee@home.example"
OTHER = "oda@other.example"
POLL_TIMEOUT = 15_000  # the list polls every 10 seconds


@pytest.fixture
def consultation_id(live_server: LiveServer) -> int:
    """A consultation whose two asks are both agreed, taken part in by two organisations,
    each with a delegate."""
    with live_server.app.app_context():
        home = factories.organisation("Home Organisation")
        other = factories.organisation("Other Organisation")
        factories.user(Role.MEMBER, home, email=HOME, name="Dee Delegate", is_delegate=True)
        factories.user(Role.MEMBER, other, email=OTHER, name="Oda Other", is_delegate=True)
        secretariat = factories.user(
            Role.SECRETARIAT,
            factories.organisation("Coalition Secretariat"),
            email=SECRETARIAT,
            name="Sam Secretariat",
        )
        consultation = factories.consultation("Net zero by 2040")
        consultation.participants = [
            Participant(organisation=home),
            Participant(organisation=other),
        ]
        for title in ("Declare a climate emergency", "Insulate every home"):
            ask = factories.ask(consultation, title=title, versions=(V1, V2), author=secretariat)
            ask.state = AskState.IN_REVIEW
            db.session.flush()
            declare_agreed(actor=secretariat, ask=ask, reason="Agreed at the plenary.", based_on=2)
        db.session.commit()
        return consultation.id


def sign_in(browser: Browser, server: LiveServer, email: str) -> Page:
    context = browser.new_context()
    context.set_default_timeout(5000)
    page = context.new_page()
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page


def test_opening_endorsing_live_list_and_closing(
    browser: Browser, live_server: LiveServer, consultation_id: int
):
    url = f"{live_server.url}/consultations/{consultation_id}/sign-off"
    secretariat = sign_in(browser, live_server, SECRETARIAT)
    secretariat.goto(f"{live_server.url}/consultations/{consultation_id}")
    secretariat.locator("#signoff-link").click()
    expect(secretariat.locator("#signoff-state")).to_contain_text("Sign-off has not opened yet")
    assert_accessible(secretariat)
    secretariat.get_by_role("button", name="Open sign-off").click()
    expect(secretariat.locator("h1")).to_have_text("Are you sure you want to open sign-off?")
    assert_accessible(secretariat)
    secretariat.get_by_role("button", name="Open sign-off").click()
    expect(secretariat.locator("#signoff-state")).to_contain_text("has been open since")
    expect(secretariat.locator("#signatories-waiting")).to_contain_text("Home Organisation")
    assert_accessible(secretariat)

    home = sign_in(browser, live_server, HOME)
    home.goto(url)
    home.get_by_label("Decline to endorse").check()
    home.get_by_role("button", name="Save answer").click()
    expect(home.locator(".govuk-error-summary")).to_contain_text(
        "Give a reason for declining to endorse"
    )
    assert_accessible(home)
    home.get_by_label("Endorse the manifesto").check()
    home.get_by_label("List our organisation's name publicly as a supporter").check()
    home.get_by_role("button", name="Save answer").click()
    expect(home.locator(".govuk-notification-banner")).to_contain_text(
        "Home Organisation endorses the manifesto"
    )
    assert_accessible(home)

    # The secretariat's page, open all along, shows the new answer without a reload.
    expect(secretariat.locator("#signatories-endorsed")).to_contain_text(
        "Home Organisation", timeout=POLL_TIMEOUT
    )
    expect(secretariat.locator("#signatories-announcer")).to_contain_text("1 endorsed")

    other = sign_in(browser, live_server, OTHER)
    other.goto(url)
    other.get_by_label("Endorse the manifesto").check()
    other.get_by_role("button", name="Save answer").click()
    expect(other.locator("#endorsement-current")).to_contain_text("asked not to be listed publicly")
    expect(home.locator("#signatories-endorsed")).to_contain_text(
        "Other Organisation Not listed publicly", timeout=POLL_TIMEOUT
    )

    secretariat.get_by_role("button", name="Close sign-off").click()
    expect(secretariat.locator("h1")).to_have_text("Are you sure you want to close sign-off?")
    assert_accessible(secretariat)
    secretariat.get_by_role("button", name="Close sign-off").click()
    expect(secretariat.locator("#signoff-state")).to_contain_text("Sign-off closed on")
    assert_accessible(secretariat)
    other.reload()
    expect(other.locator("#endorsement")).to_have_count(0)
