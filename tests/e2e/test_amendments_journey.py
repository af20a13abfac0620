"""Amendments in a real browser: a member proposes new wording for a paragraph (after a
refused attempt), another organisation's delegate backs it, the secretariat previews and
accepts it; the new version shows the wording, credits the amendment and its organisation,
compares with the previous version, and asks the proposer's organisation to reconfirm its
position. axe finds nothing wrong with the form (also with an error), the amendment page, the
accept page with its preview, or the ask page with an amendment card."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from consult.extensions import db
from consult.models import Participant, Role, Stance
from consult.positions.services import set_position
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import LiveServer, assert_accessible

V1 = "The council should act.\n\nEvery party commits to net zero by 2050.\n\n- Homes\n- Transport"
V2 = "The council must act now.\n\nEvery party commits to net zero by 2050.\n\n- Homes\n- Transport"


@dataclass
class Journey:
    ask_id: int
    proposer: str  # a delegate of Green Futures
    backer: str  # a delegate of Eastmere Council
    secretariat: str


@pytest.fixture
def journey(live_server: LiveServer) -> Journey:
    """An open consultation two organisations take part in, an ask at v2, and Green Futures'
    position on v2 (so that v3 asks it to reconfirm)."""
    with live_server.app.app_context():
        green = factories.organisation("Green Futures")
        eastmere = factories.organisation("Eastmere Council")
        proposer = factories.user(
            Role.MEMBER, green, email="gina@green.example", name="Gina Green", is_delegate=True
        )
        backer = factories.user(
            Role.MEMBER, eastmere, email="eli@eastmere.example", name="Eli East", is_delegate=True
        )
        secretariat = factories.user(
            Role.SECRETARIAT,
            factories.organisation("Coalition"),
            email="sam@coalition.example",
            name="Sam Secretariat",
        )
        consultation = factories.consultation("Net zero by 2040")
        consultation.participants = [
            Participant(organisation=green),
            Participant(organisation=eastmere),
        ]
        ask = factories.ask(
            consultation, title="Commit to net zero", versions=(V1, V2), author=secretariat
        )
        set_position(actor=proposer, ask=ask, stance=Stance.SUPPORT, reason="")
        db.session.commit()
        return Journey(ask.id, proposer.email, backer.email, secretariat.email)


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


def check(page: Page) -> None:
    page.wait_for_load_state("load")
    assert_accessible(page)


def test_propose_back_accept_and_reconfirm(
    browser: Browser, live_server: LiveServer, journey: Journey
):
    base = live_server.url
    ask_url = f"{base}/asks/{journey.ask_id}"
    gina = sign_in(browser, live_server, journey.proposer)
    eli = sign_in(browser, live_server, journey.backer)
    sam = sign_in(browser, live_server, journey.secretariat)
    try:
        # Gina proposes new wording for paragraph 2, forgetting her reasons the first time.
        gina.goto(ask_url)
        gina.get_by_role("link", name="Propose new wording for paragraph 2").click()
        expect(gina.get_by_role("heading", level=1)).to_have_text("Propose new wording")
        expect(gina.get_by_label("Paragraph 2: Every party commits")).to_be_checked()
        wording = gina.get_by_label("Your wording")
        expect(wording).to_have_value("Every party commits to net zero by 2050.")
        wording.fill("Every party commits to net zero by 2040.")
        gina.get_by_role("button", name="Propose amendment").click()
        expect(gina.locator(".govuk-error-summary")).to_contain_text(
            "Explain why you propose this wording"
        )
        check(gina)
        gina.get_by_label("Why you propose this wording").fill("The science says *2040*.")
        gina.get_by_role("button", name="Preview").click()
        expect(gina.locator("#preview .app-diff ins")).to_contain_text("2040")
        expect(gina.locator("#preview .app-diff del")).to_contain_text("2050")
        check(gina)
        gina.get_by_role("button", name="Propose amendment").click()
        expect(gina).to_have_url(re.compile(rf"/asks/{journey.ask_id}#amendment-\d+$"))
        amendment_id = int(gina.url.rsplit("-", 1)[1])
        expect(gina.locator(".govuk-notification-banner")).to_contain_text(
            f"Amendment {amendment_id} proposed"
        )
        card = gina.locator(f"#amendment-{amendment_id}")
        expect(card).to_contain_text(f"Amendment {amendment_id} from Green Futures")
        expect(card.get_by_role("button")).to_have_count(0)  # her own organisation's

        # Eli, for Eastmere Council, backs it from the card on the ask page.
        eli.goto(ask_url)
        card = eli.locator(f"#amendment-{amendment_id}")
        expect(card).to_contain_text("No organisation has backed or opposed it yet.")
        check(eli)
        card.get_by_role("button", name=f"Back amendment {amendment_id}").click()
        expect(eli).to_have_url(re.compile(rf"#amendment-{amendment_id}$"))
        expect(eli.locator(".govuk-notification-banner")).to_contain_text(
            f"Your organisation backs amendment {amendment_id}"
        )
        expect(eli.locator(f"#amendment-{amendment_id}")).to_contain_text(
            "Backed by 1 organisation: Eastmere Council."
        )
        check(eli)

        # Sam reads it, then accepts it into v3 after a preview.
        sam.goto(f"{base}/amendments/{amendment_id}")
        expect(sam.locator("#amendment-support")).to_contain_text(
            "Backed by 1 organisation: Eastmere Council."
        )
        check(sam)
        sam.get_by_role("button", name="Accept this amendment").click()
        expect(sam.get_by_role("heading", level=1)).to_have_text("Accept amendments")
        expect(sam.get_by_role("checkbox")).to_be_checked()
        sam.get_by_label("What changed (optional)").fill("Agreed at the members’ meeting.")
        sam.get_by_role("button", name="Preview").click()
        expect(sam.locator("#preview-credits")).to_contain_text(
            f"amendment {amendment_id} from Green Futures (paragraph 2)"
        )
        expect(sam.locator("#preview-diff ins")).to_contain_text("2040")
        check(sam)
        sam.get_by_role("button", name="Publish v3").click()
        expect(sam).to_have_url(ask_url)
        expect(sam.locator(".govuk-notification-banner")).to_contain_text(
            "v3 published with 1 amendment"
        )
        wording_region = sam.locator("#wording")
        expect(wording_region).to_contain_text("Every party commits to net zero by 2040.")
        expect(sam.locator("#version-details")).to_contain_text(
            f"Agreed at the members’ meeting. Accepted amendment {amendment_id} from Green "
            "Futures (paragraph 2)."
        )
        expect(sam.locator("#accepted-amendments")).to_contain_text(
            f"Amendment {amendment_id} from Green Futures"
        )
        sam.get_by_role("link", name=re.compile("^Compare with previous version")).click()
        expect(sam.locator("#diff ins")).to_contain_text("2040")
        expect(sam.locator("#diff del")).to_contain_text("2050")

        # Gina's organisation is asked to reconfirm its position on v3.
        gina.goto(ask_url)
        expect(gina.locator("#positions-reconfirm")).to_contain_text("On v2 you supported")
        expect(gina.locator("#wording")).to_contain_text("net zero by 2040.")
    finally:
        for page in (gina, eli, sam):
            page.context.close()


def test_withdraw_decline_and_the_list_pass_axe(
    browser: Browser, live_server: LiveServer, journey: Journey
):
    """The pages around an amendment's end: the list (empty, then with amendments), the
    proposer's confirmation to withdraw, the secretariat's decline form (also with an error)
    and a declined amendment's page."""
    base = live_server.url
    with live_server.app.app_context():
        from consult.amendments import services
        from consult.models import Ask, User
        from consult.text import paragraphs

        ask = db.session.get(Ask, journey.ask_id)
        proposer = db.session.scalar(db.select(User).where(User.email == journey.proposer))
        anchors = [p.anchor for p in paragraphs(ask.current_version.body)]
        first, _ = services.propose(
            actor=proposer, ask=ask, paragraph=anchors[0], wording="Act today.", rationale="Now."
        )
        second, _ = services.propose(
            actor=proposer, ask=ask, paragraph=anchors[1], wording="By 2040.", rationale="Sooner."
        )
        db.session.commit()
        first_id, second_id = first.id, second.id
    gina = sign_in(browser, live_server, journey.proposer)
    sam = sign_in(browser, live_server, journey.secretariat)
    try:
        gina.goto(f"{base}/asks/{journey.ask_id}/amendments?state=declined")
        expect(gina.locator("#amendments-summary")).to_have_text(
            "There are no declined amendments to this ask."
        )
        check(gina)
        gina.goto(f"{base}/amendments/{first_id}")
        gina.get_by_role("button", name="Withdraw this amendment").click()
        expect(gina.get_by_role("heading", level=1)).to_have_text(
            f"Are you sure you want to withdraw amendment {first_id}?"
        )
        check(gina)
        gina.get_by_role("button", name="Withdraw amendment").click()
        expect(gina.locator(".govuk-notification-banner")).to_contain_text("withdrawn")

        sam.goto(f"{base}/amendments/{second_id}/decline")
        sam.get_by_role("button", name="Decline amendment").click()
        expect(sam.locator(".govuk-error-summary")).to_be_visible()
        check(sam)
        sam.get_by_label("Why are you declining this amendment?").fill("Out of scope.")
        sam.get_by_role("button", name="Decline amendment").click()
        sam.goto(f"{base}/amendments/{second_id}")
        expect(sam.locator("main")).to_contain_text("Out of scope.")
        check(sam)
        sam.goto(f"{base}/asks/{journey.ask_id}/amendments")
        expect(sam.locator("main")).to_contain_text(f"Amendment {second_id}")
        check(sam)
    finally:
        for page in (gina, sam):
            page.context.close()
