"""The whole manifesto journey on the demo, in real browsers and through the pages only: the
secretariat declares the wording of every ask of the open consultation agreed (giving the
reason where the rule is not met), the manifesto shows the whole agreed text, sign-off
opens, two delegates of different organisations endorse (one to be listed publicly, one
not), sign-off closes and the manifesto is published; an anonymous visitor reads the public
page, downloads the PDF and backs the manifesto through the link emailed to a real SMTP
server; the secretariat approves the backer and the public page lists it. axe finds nothing
wrong with any page on the way, in each state visited."""

from __future__ import annotations

import io
import re
import time
from email.message import EmailMessage

from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from consult.demo import demo_data
from tests.helpers import LiveServer, assert_accessible
from tests.smtp import SMTPServer, link_from

CONSULTATION = "A Blueprint for Accelerating Local Climate Action: first draft"
SECRETARIAT = "secretariat@blueprint.example"
AMIRA = ("amira.khan@eastmere.example", "Eastmere City Council")  # listed publicly
LUCY = ("lucy.evans@greenfutures.example", "Green Futures Alliance")  # not listed
BACKER = "Friends of Eastmere Park"
BACKER_EMAIL = "fran@friends-of-eastmere.example"
# A busy two-core machine: pages that agree, open sign-off or render a PDF can take a while.
TIMEOUT = 20_000  # ms
REASON = "Agreed at the coalition plenary on 12 March: every member present supported it."


def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT)
    context.set_default_navigation_timeout(TIMEOUT)
    return context.new_page()


def sign_in(browser: Browser, server: LiveServer, email: str) -> Page:
    page = new_page(browser)
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(demo_data()["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"), timeout=TIMEOUT)
    return page


def check(page: Page) -> None:
    """axe on the page once it has loaded."""
    page.wait_for_load_state("load")
    assert_accessible(page)


def open_consultation(page: Page) -> None:
    """From the dashboard (where signing in leads), the demo's open consultation, found by
    its title."""
    page.get_by_role("link", name=CONSULTATION, exact=True).first.click()
    expect(page.locator("h1")).to_have_text(CONSULTATION, timeout=TIMEOUT)


def wait_for_mail_to(
    server: SMTPServer, address: str, subject: str, timeout: float = 20.0
) -> EmailMessage:
    """The first message for this address whose subject contains `subject`, once it has
    arrived (others arrive meanwhile: opening sign-off emails every delegate)."""
    deadline = time.monotonic() + timeout
    while not (found := [m for m in server.messages_to(address) if subject in str(m["Subject"])]):
        if time.monotonic() > deadline:
            raise AssertionError(f"no email for {address} about {subject!r} within {timeout} s")
        time.sleep(0.05)
    return found[0]


def agree_every_ask(page: Page) -> list[str]:
    """Declare every ask agreed from its own agree page, in the manifesto's order; axe on the
    agree page as first seen meeting the rule, against it, and with the reason's error."""
    titles = page.locator("#manifesto-asks > li > a").all_inner_texts()
    assert len(titles) >= 2
    checked: set[str] = set()
    for title in titles:
        page.locator("#manifesto-asks").get_by_role("link", name=title, exact=True).click()
        expect(page.locator("h1")).to_have_text(title)
        page.get_by_role("button", name="Declare wording agreed").click()
        expect(page.locator("h1")).to_have_text(re.compile(r"^Declare the wording of v\d+ agreed$"))
        against = page.locator("#agreement-against-rule")
        if against.count():
            expect(against).to_contain_text("You can still declare it agreed")
            if "against" not in checked:
                checked.add("against")
                check(page)
                # Without the reason it asks for, the page says what is missing.
                page.get_by_role("button", name="Declare wording agreed").click()
                expect(page.locator(".govuk-error-summary")).to_contain_text(
                    "Give a reason for declaring it agreed against the rule"
                )
                expect(page).to_have_title(re.compile(r"^Error: "))
                check(page)
            page.get_by_label("Why are you declaring it agreed against the rule?").fill(REASON)
        else:
            expect(page.locator("#agreement-meets-rule")).to_be_visible()
            if "meets" not in checked:
                checked.add("meets")
                check(page)
        page.get_by_role("button", name="Declare wording agreed").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            f"Wording agreed: {title}"
        )
        # Back to the manifesto through the breadcrumbs and the consultation page.
        page.locator(".govuk-breadcrumbs").get_by_role("link", name=CONSULTATION).click()
        page.locator("#manifesto-link").click()
        expect(page.locator("h1")).to_have_text("Manifesto")
    assert checked == {"against", "meets"}, checked  # the demo has both kinds of ask
    return titles


def test_agree_sign_off_publish_read_download_and_back(
    browser: Browser, demo_server: LiveServer, smtp_server: SMTPServer
):
    base = demo_server.url

    # The secretariat opens the manifesto: nothing is agreed yet, so no whole text.
    secretariat = sign_in(browser, demo_server, SECRETARIAT)
    open_consultation(secretariat)
    consultation_url = secretariat.url
    consultation_id = int(re.search(r"/consultations/(\d+)", consultation_url).group(1))
    secretariat.locator("#manifesto-link").click()
    expect(secretariat.locator("h1")).to_have_text("Manifesto")
    expect(secretariat.locator("#manifesto-progress")).to_contain_text(
        "The whole text is shown here once every ask is agreed."
    )
    expect(secretariat.locator("#manifesto-text")).to_have_count(0)
    check(secretariat)

    titles = agree_every_ask(secretariat)

    # Every ask agreed: the manifesto shows the whole agreed text.
    expect(secretariat.locator("#manifesto-progress")).to_have_text(
        f"{len(titles)} of {len(titles)} asks agreed."
    )
    text = secretariat.locator("#manifesto-text")
    for title in titles:
        expect(text.get_by_role("heading", level=3, name=title, exact=True)).to_be_visible()
    expect(secretariat.locator("#downloads")).to_be_visible()
    check(secretariat)

    # Sign-off: before, the confirmation, open.
    secretariat.locator("#manifesto-signoff-link").click()
    expect(secretariat.locator("#signoff-state")).to_contain_text(
        "The wording of every ask is agreed: the secretariat can open sign-off."
    )
    check(secretariat)
    secretariat.get_by_role("button", name="Open sign-off").click()
    expect(secretariat.locator("h1")).to_have_text("Are you sure you want to open sign-off?")
    check(secretariat)
    secretariat.get_by_role("button", name="Open sign-off").click()
    expect(secretariat.locator("#signoff-state")).to_contain_text("has been open since")
    expect(secretariat.locator("#signatories-waiting")).to_contain_text(AMIRA[1])
    check(secretariat)
    signoff_url = secretariat.url

    # Two delegates of different organisations endorse, from the link emailed to them.
    for (email, organisation), listed in ((AMIRA, True), (LUCY, False)):
        invitation = wait_for_mail_to(smtp_server, email, f"Sign-off has opened: {CONSULTATION}")
        assert link_from(invitation) == signoff_url
        delegate = sign_in(browser, demo_server, email)
        delegate.goto(link_from(invitation))
        delegate.get_by_label("Endorse the manifesto").check()
        if listed:
            delegate.get_by_label("List our organisation's name publicly as a supporter").check()
        delegate.get_by_role("button", name="Save answer").click()
        expect(delegate.locator("#endorsement-current")).to_contain_text(
            f"{organisation} endorses the manifesto"
            + (" and may be listed publicly" if listed else " but asked not to be listed publicly")
        )
        delegate.context.close()

    # The secretariat closes sign-off: the confirmation, then closed.
    secretariat.reload()
    expect(secretariat.locator("#signatories-endorsed")).to_contain_text(AMIRA[1])
    expect(secretariat.locator("#signatories-endorsed")).to_contain_text(
        f"{LUCY[1]} Not listed publicly"
    )
    secretariat.get_by_role("button", name="Close sign-off").click()
    expect(secretariat.locator("h1")).to_have_text("Are you sure you want to close sign-off?")
    check(secretariat)
    secretariat.get_by_role("button", name="Close sign-off").click()
    expect(secretariat.locator("#signoff-state")).to_contain_text("Sign-off closed on")
    check(secretariat)

    # Publication: the confirmation, then the public page.
    secretariat.goto(consultation_url)
    secretariat.get_by_role("link", name="Publish the manifesto").click()
    expect(secretariat.locator("h1")).to_have_text(
        "Are you sure you want to publish the manifesto?"
    )
    check(secretariat)
    secretariat.get_by_role("button", name="Publish the manifesto").click()
    public_url = f"{base}/manifestos/{consultation_id}"
    expect(secretariat).to_have_url(public_url)
    expect(secretariat.locator(".govuk-notification-banner")).to_contain_text("Manifesto published")

    # An anonymous visitor reads the public page: the listed organisation, not the other.
    visitor = new_page(browser)
    visitor.goto(public_url)
    expect(visitor.locator("h1")).to_have_text(CONSULTATION)
    for title in titles:
        expect(
            visitor.locator("#manifesto-text").get_by_role("heading", name=title, exact=True)
        ).to_be_visible()
    endorsing = visitor.locator("#endorsing-organisations")
    expect(endorsing).to_contain_text(AMIRA[1])
    expect(endorsing).not_to_contain_text(LUCY[1])
    expect(visitor.locator("main")).not_to_contain_text(LUCY[1])
    check(visitor)

    # The PDF: a real PDF with the asks' text.
    with visitor.expect_download(timeout=60_000) as download_info:
        visitor.get_by_role("link", name="Agreed text (PDF document)").click()
        # While it is made, the page says so where the link is (a polite live region).
        expect(visitor.locator("#download-status")).to_have_text(
            "Preparing “Agreed text (PDF document)”. This can take a few seconds."
        )
    download = download_info.value
    assert download.suggested_filename.endswith("-agreed-text.pdf")
    data = download.path().read_bytes()
    assert data.startswith(b"%PDF")
    pdf_text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert titles[0] in " ".join(pdf_text.split())

    # The visitor backs the manifesto and confirms from the emailed link.
    visitor.get_by_label("Organisation name").fill(BACKER)
    visitor.get_by_label("Your name").fill("Fran Friend")
    visitor.get_by_label("Email address").fill(BACKER_EMAIL)
    visitor.get_by_label("Website (optional)").fill("https://friends-of-eastmere.example")
    visitor.get_by_role("button", name="Back the manifesto").click()
    expect(visitor.locator("h1")).to_have_text("Check your email")
    check(visitor)

    link = link_from(
        wait_for_mail_to(smtp_server, BACKER_EMAIL, f"Confirm your support for {CONSULTATION}")
    )
    assert link.startswith(f"{base}/backers/confirm/")
    visitor.goto(link)
    expect(visitor.locator("h1")).to_have_text("Confirm your support")
    check(visitor)
    visitor.get_by_role("button", name="Confirm support").click()
    expect(visitor).to_have_url(public_url)
    expect(visitor.locator(".govuk-notification-banner")).to_contain_text(
        "your support is confirmed"
    )
    expect(visitor.locator("main")).not_to_contain_text(BACKER)  # not approved yet

    # The secretariat approves the backer; the public page then lists it.
    secretariat.goto(consultation_url)
    secretariat.get_by_role("link", name=re.compile("^Backers")).click()
    expect(secretariat.locator("h1")).to_have_text("Backers")
    expect(secretariat.locator("#backers")).to_contain_text(BACKER)
    check(secretariat)
    secretariat.get_by_role("button", name=f"Approve {BACKER}").click()
    expect(secretariat.locator(".govuk-notification-banner")).to_contain_text("Backer approved")
    check(secretariat)

    visitor.reload()
    backer = visitor.locator("#approved-backers a")
    expect(backer).to_have_text(BACKER)
    expect(backer).to_have_attribute("href", "https://friends-of-eastmere.example")
    check(visitor)
