"""The secretariat invites a person; they accept from the email, sign in, read and compare."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from consult.demo import demo_data
from tests.helpers import assert_accessible
from tests.smtp import link_from

SECRETARIAT = "secretariat@blueprint.example"
NEW_PERSON = "nadia.rahman@westbrook.example"


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/sign-in")
    expect(page).to_have_title(re.compile("^Sign in"))
    assert_accessible(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_invite_accept_sign_in_read_and_compare(demo_server, smtp_server, browser):
    base = demo_server.url
    password = demo_data()["password"]

    # The secretariat invites a new person to Westbrook Borough Council.
    secretariat = browser.new_context().new_page()
    sign_in(secretariat, base, SECRETARIAT, password)
    expect(secretariat.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(secretariat)
    secretariat.get_by_role("link", name="People", exact=True).click()
    expect(secretariat.get_by_role("heading", level=1, name="People")).to_be_visible()
    assert_accessible(secretariat)
    secretariat.get_by_role("button", name="Invite a person").click()
    assert_accessible(secretariat)
    secretariat.get_by_label("Email address").fill(NEW_PERSON)
    secretariat.get_by_label("Full name").fill("Nadia Rahman")
    secretariat.get_by_label("Organisation").select_option(label="Westbrook Borough Council")
    secretariat.get_by_label("Member", exact=True).check()
    secretariat.get_by_role("button", name="Send invitation").click()
    expect(secretariat.get_by_text(f"Invitation sent to {NEW_PERSON}")).to_be_visible()
    assert_accessible(secretariat)

    # The invitation arrives at the SMTP server; the person opens its link.
    message = smtp_server.wait_for(1)[-1]
    assert message["To"] == NEW_PERSON
    link = link_from(message)
    assert "/invitations/" in link

    person = browser.new_context().new_page()
    person.goto(link)
    expect(person.get_by_role("heading", level=1, name="Create your account")).to_be_visible()
    assert_accessible(person)
    person.get_by_label("Password", exact=True).fill("a new password for nadia")
    person.get_by_label("Confirm password").fill("a new password for nadia")
    person.get_by_role("button", name="Create account").click()

    # Signed in, on the dashboard, with the open consultation and its asks.
    expect(person.get_by_text("Westbrook Borough Council").first).to_be_visible()
    assert_accessible(person)
    person.get_by_role("button", name="Sign out").click()
    sign_in(person, base, NEW_PERSON, "a new password for nadia")
    ask_title = "Upgrade existing homes and make new housing zero carbon"
    person.get_by_role("link", name=ask_title).click()
    expect(person.get_by_role("heading", level=1, name=ask_title)).to_be_visible()
    expect(
        person.get_by_text("a national retrofit programme of £60bn over 10 years")
    ).to_be_visible()
    assert_accessible(person)

    # Version history, then a word-level comparison of v1 and v2.
    person.get_by_role("link", name="Version history").click()
    expect(person).to_have_url(re.compile(r"/asks/\d+/versions$"))
    assert_accessible(person)
    person.get_by_role("button", name="Compare").click()
    expect(person.locator(".app-diff ins").first).to_be_visible()
    expect(person.locator(".app-diff del").first).to_be_visible()
    assert_accessible(person)


def test_the_accessibility_check_can_fail(page):
    """The axe check is real: an image without alternative text is reported."""
    page.set_content(
        '<!DOCTYPE html><html lang="en"><head><title>t</title></head>'
        '<body><main><h1>t</h1><img src="x.png"></main></body></html>'
    )
    try:
        assert_accessible(page)
    except AssertionError as error:
        assert "image-alt" in str(error)
    else:
        raise AssertionError("axe reported no violation for an image without alt text")
