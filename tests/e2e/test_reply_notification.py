"""A reply's email links straight to the reply: the ask opens at it, in its thread."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from consult.extensions import db
from consult.models import AskState, Participant, Role
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import V1, V2, comment
from tests.smtp import link_from


def test_the_reply_email_opens_the_ask_at_the_reply(live_server, smtp_server, page):
    with live_server.app.app_context():
        home = factories.organisation("Home Organisation")
        other = factories.organisation("Other Organisation")
        author = factories.user(Role.MEMBER, home, name="Mina Member")
        replier = factories.user(Role.MEMBER, other, name="Otto Other")
        secretariat = factories.user(Role.SECRETARIAT, factories.organisation("Secretariat"))
        consultation = factories.consultation("Net zero by 2040")
        consultation.participants = [
            Participant(organisation=home),
            Participant(organisation=other),
        ]
        ask = factories.ask(
            consultation, title="Declare a climate emergency", versions=(V1, V2), author=secretariat
        )
        ask.state = AskState.IN_REVIEW
        db.session.commit()
        first = comment(author, ask, "Should this say 2030?")
        db.session.commit()
        reply = comment(replier, ask, "We think 2035 is realistic.", parent=first)
        db.session.commit()
        reply_id, author_email = reply.id, author.email

    [message] = smtp_server.wait_for(1)
    assert message["To"] == author_email
    link = link_from(message)
    assert link.endswith(f"/comments/{reply_id}")

    page.goto(link)  # not signed in: sign in first, then on to the reply
    page.get_by_label("Email address").fill(author_email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/asks/\d+.*#comment-{reply_id}$"))
    target = page.locator(f"#comment-{reply_id}")
    expect(target).to_be_visible()
    expect(target).to_contain_text("We think 2035 is realistic.")
