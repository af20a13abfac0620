"""Agreement in a real browser: the secretariat declares an ask's wording agreed against the
rule (first without a reason), the ask page says so, and the manifesto shows the whole
agreed text; axe finds nothing wrong with the agree page (with and without its error), the
ask page once agreed, the reopen confirmation and the manifesto."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from consult.extensions import db
from consult.models import AskState, Participant, Role
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import V1, V2, LiveServer, assert_accessible

SECRETARIAT = "sam@secretariat.example"


@pytest.fixture
def ids(live_server: LiveServer) -> dict[str, int]:
    """An ask in review at v2 that no organisation has taken a position on."""
    with live_server.app.app_context():
        home = factories.organisation("Home Organisation")
        secretariat = factories.user(
            Role.SECRETARIAT,
            factories.organisation("Coalition Secretariat"),
            email=SECRETARIAT,
            name="Sam Secretariat",
        )
        consultation = factories.consultation("Net zero by 2040")
        consultation.participants = [Participant(organisation=home)]
        ask = factories.ask(
            consultation, title="Declare a climate emergency", versions=(V1, V2), author=secretariat
        )
        ask.state = AskState.IN_REVIEW
        db.session.commit()
        return {"ask": ask.id, "consultation": consultation.id}


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


def test_declaring_against_the_rule_then_the_manifesto(
    browser: Browser, live_server: LiveServer, ids
):
    page = sign_in(browser, live_server, SECRETARIAT)
    page.goto(f"{live_server.url}/asks/{ids['ask']}")
    page.get_by_role("button", name="Declare wording agreed").click()
    expect(page.locator("h1")).to_have_text("Declare the wording of v2 agreed")
    expect(page.locator("#agreement-against-rule")).to_contain_text("the quorum is not reached")
    assert_accessible(page)

    page.get_by_role("button", name="Declare wording agreed").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Give a reason")
    assert_accessible(page)

    page.get_by_label("Why are you declaring it agreed against the rule?").fill(
        "Agreed at the plenary."
    )
    page.get_by_role("button", name="Declare wording agreed").click()
    expect(page.locator("#agreement h2")).to_contain_text("(v2)")
    expect(page.locator("#agreement-reason")).to_contain_text("Agreed at the plenary.")
    assert_accessible(page)

    page.goto(f"{live_server.url}/consultations/{ids['consultation']}/manifesto")
    expect(page.locator("#manifesto-text")).to_contain_text("The council must act now.")
    assert_accessible(page)

    page.goto(f"{live_server.url}/asks/{ids['ask']}/reopen")
    expect(page.locator("h1")).to_have_text("Are you sure you want to reopen this ask?")
    assert_accessible(page)
