"""An organisation's own notes in a real browser: a member writes a note from the ask page
and proposes it as the position; another organisation's member and the secretariat cannot
see it (its page refused, nothing on the ask page); axe finds nothing wrong with the notes
page; the proposal fills in the delegate's position form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete, select

from consult.demo import demo_data
from consult.extensions import db
from consult.models import Ask, Participant, Position, User
from tests.helpers import LiveServer, assert_accessible

TOM = "tom.hughes@eastmere.example"  # Eastmere City Council, not a delegate
AMIRA = "amira.khan@eastmere.example"  # Eastmere City Council's delegate
LUCY = "lucy.evans@greenfutures.example"  # Green Futures Alliance
SAM = "secretariat@blueprint.example"
ASK_TITLE = "Recognise the need for a place-based approach"
SECRET = "Eastmere objects quietly: no funding route."


@pytest.fixture
def ask_id(demo_server: LiveServer) -> int:
    """The demo ask, taken part in by Eastmere and Green Futures, with no positions yet."""
    with demo_server.app.app_context():
        ask = db.session.scalar(select(Ask).where(Ask.title == ASK_TITLE))
        db.session.execute(delete(Position).where(Position.ask_id == ask.id))
        people = {u.email: u for u in db.session.scalars(select(User))}
        taking_part = {p.organisation_id for p in ask.consultation.participants}
        for email in (TOM, LUCY):
            org = people[email].organisation
            if org.id not in taking_part:
                ask.consultation.participants.append(Participant(organisation=org))
                taking_part.add(org.id)
        db.session.commit()
        return ask.id


def sign_in(browser: Browser, server: LiveServer, email: str) -> Page:
    context = browser.new_context()
    context.set_default_timeout(5000)
    page = context.new_page()
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(demo_data()["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page


def test_a_note_stays_in_its_organisation_and_fills_in_the_delegate_s_form(
    browser: Browser, demo_server: LiveServer, ask_id: int
):
    url = demo_server.url
    tom = sign_in(browser, demo_server, TOM)
    try:
        tom.goto(f"{url}/asks/{ask_id}")
        tom.get_by_role("link", name=re.compile(r"Your organisation’s notes \(0\)")).click()
        expect(tom.get_by_role("heading", level=1)).to_have_text("Your organisation’s notes")
        assert_accessible(tom)
        tom.get_by_label("Add a note").fill(SECRET)
        tom.get_by_role("button", name="Add note").click()
        expect(tom.locator(".app-notes")).to_contain_text(SECRET)
        assert_accessible(tom)
        note_url = tom.url
        tom.get_by_role("link", name=re.compile("Propose this as our position")).click()
        tom.get_by_role("radio", name="Object").check()
        tom.get_by_role("button", name="Propose position").click()
        expect(tom.locator(".app-note__proposal")).to_contain_text("Proposed position: Object")
        reply_href = tom.get_by_role("link", name=re.compile("^Reply")).get_attribute("href")
        assert reply_href and note_url
    finally:
        tom.context.close()

    # Another organisation's member and the secretariat: nothing on the ask page, the
    # note's own page refused, and (for the secretariat) no notes page at all.
    for email, has_own_notes in ((LUCY, True), (SAM, False)):
        outsider = sign_in(browser, demo_server, email)
        try:
            outsider.goto(f"{url}/asks/{ask_id}")
            expect(outsider.get_by_role("heading", level=1)).to_have_text(ASK_TITLE)
            expect(outsider.locator("body")).not_to_contain_text(SECRET)
            expect(outsider.locator("#notes-link")).to_have_count(1 if has_own_notes else 0)
            outsider.goto(f"{url}{reply_href}")
            expect(outsider.get_by_role("heading", level=1)).to_have_text("You cannot do that")
            expect(outsider.locator("body")).not_to_contain_text(SECRET)
            outsider.goto(f"{url}/asks/{ask_id}/notes")
            expect(outsider.locator("body")).not_to_contain_text(SECRET)
            if not has_own_notes:
                expect(outsider.get_by_role("heading", level=1)).to_have_text("You cannot do that")
        finally:
            outsider.context.close()

    # Eastmere's delegate finds the form filled in with the proposal, and still saves it.
    amira = sign_in(browser, demo_server, AMIRA)
    try:
        amira.goto(f"{url}/asks/{ask_id}")
        amira.get_by_role("link", name="Set your organisation’s position").click()
        expect(amira.locator("#position-proposal")).to_contain_text("Proposed by Tom Hughes")
        expect(amira.get_by_role("radio", name="Object")).to_be_checked()
        expect(amira.get_by_label("Reason")).to_have_value(SECRET)
        assert_accessible(amira)
        amira.get_by_role("button", name="Save position").click()
        expect(amira.locator("#positions-list")).to_contain_text("Eastmere City Council: Object")
    finally:
        amira.context.close()
