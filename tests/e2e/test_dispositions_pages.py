"""Outcomes in a real browser: the secretariat records one from "You said, we did" (first
with the form's errors), comes back to it, and the author's organisation reads it; axe finds
nothing wrong with the page or the form, with or without errors."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from consult.amendments import services as amendments
from consult.comments import services as comments
from consult.extensions import db
from consult.models import Outcome, Participant, Role
from consult.text import paragraphs
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import V1, V2, LiveServer, assert_accessible

SECRETARIAT = "sam@secretariat.example"
MEMBER = "mina@home.example"


@pytest.fixture
def ask_ids(live_server: LiveServer) -> dict[str, int]:
    """An ask at v2 with a comment answered, one not, a hidden one, and an amendment
    declined; the member's organisation made the unanswered comment."""
    with live_server.app.app_context():
        home = factories.organisation("Home Organisation")
        other = factories.organisation("Other Organisation")
        secretariat = factories.user(
            Role.SECRETARIAT,
            factories.organisation("Coalition Secretariat"),
            email=SECRETARIAT,
            name="Sam Secretariat",
        )
        member = factories.user(Role.MEMBER, home, email=MEMBER, name="Mina Member")
        otto = factories.user(Role.MEMBER, other, name="Otto Other")
        consultation = factories.consultation("Net zero by 2040")
        consultation.participants = [
            Participant(organisation=home),
            Participant(organisation=other),
        ]
        ask = factories.ask(
            consultation, title="Declare a climate emergency", versions=(V1, V2), author=secretariat
        )
        anchors = [p.anchor for p in paragraphs(V2)]
        answered, _ = comments.add_comment(
            author=otto, ask=ask, body="Say **when**.", paragraph_anchor=anchors[1]
        )
        waiting, _ = comments.add_comment(author=member, ask=ask, body="Name the *council*.")
        hidden, _ = comments.add_comment(author=otto, ask=ask, body="Rude words.")
        comments.hide_comment(actor=secretariat, comment=hidden, reason="Rude")
        amendment, _ = amendments.propose(
            actor=member,
            ask=ask,
            paragraph=anchors[1],
            wording="Every party commits to net zero by 2040.",
            rationale="A date makes it real.",
        )
        amendments.record_disposition(
            actor=secretariat, outcome=Outcome.ADOPTED, reason="Said in v2.", comment=answered
        )
        amendments.decline(actor=secretariat, amendment=amendment, reason="Too early to say.")
        db.session.commit()
        return {"ask": ask.id, "waiting": waiting.id}


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


def test_the_secretariat_records_an_outcome_that_the_authors_organisation_reads(
    browser: Browser, live_server: LiveServer, ask_ids: dict[str, int]
):
    ask_id, waiting = ask_ids["ask"], ask_ids["waiting"]
    sam = sign_in(browser, live_server, SECRETARIAT)
    try:
        sam.goto(f"{live_server.url}/asks/{ask_id}")
        sam.get_by_role("link", name=re.compile("^You said, we did")).click()
        expect(sam.get_by_role("heading", level=1)).to_have_text("You said, we did")
        expect(sam.locator("#said-summary")).to_have_text("4 comments and amendments.")
        sam.wait_for_load_state("load")
        assert_accessible(sam)

        sam.get_by_role("link", name="Record outcome of Mina Member’s comment").click()
        expect(sam.get_by_role("heading", level=1)).to_have_text("Record the outcome of a comment")
        sam.wait_for_load_state("load")
        assert_accessible(sam)
        sam.get_by_role("button", name="Save outcome").click()
        summary = sam.locator(".govuk-error-summary")
        expect(summary).to_contain_text("Choose the outcome")
        expect(summary).to_contain_text("Give the reason for this outcome")
        expect(summary).to_be_focused()
        sam.wait_for_load_state("load")
        assert_accessible(sam)

        sam.get_by_role("radio", name="Partly adopted").check()
        sam.get_by_label("Reason").fill("The council is *named* in v3.")
        sam.get_by_role("button", name="Save outcome").click()
        expect(sam).to_have_url(re.compile(rf"/asks/{ask_id}/you-said-we-did#comment-{waiting}$"))
        expect(sam.locator(".govuk-notification-banner")).to_contain_text("Outcome recorded")
        expect(sam.locator(f"#comment-{waiting} .app-outcome")).to_contain_text("Partly adopted")
    finally:
        sam.context.close()

    mina = sign_in(browser, live_server, MEMBER)
    try:
        mina.goto(f"{live_server.url}/asks/{ask_id}/you-said-we-did")
        item = mina.locator(f"#comment-{waiting}")
        expect(item).to_contain_text("Your organisation")
        expect(item.locator(".app-outcome")).to_contain_text("Partly adopted")
        expect(item.locator(".app-outcome em")).to_have_text("named")
        expect(mina.get_by_text("Rude words.")).to_have_count(0)
        mina.wait_for_load_state("load")
        assert_accessible(mina)
        mina.goto(f"{live_server.url}/asks/{ask_id}")
        expect(mina.locator(f"#comment-{waiting}-outcome")).to_contain_text("answered in v2")
    finally:
        mina.context.close()
