"""What static/js/consult.js does for pages that htmx changes: GOV.UK Frontend components in
swapped fragments are started (the error summary of a reply form answered with 422), and a
page whose missed live events were pruned reloads when its stream says so."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from consult.comments import services
from consult.demo import demo_data
from consult.extensions import db
from consult.live.services import announce, prune
from consult.models import Ask, Consultation, LiveEvent, User, utcnow
from tests.helpers import LiveServer

AMIRA = "amira.khan@eastmere.example"
LUCY = "lucy.evans@greenfutures.example"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # Streams end soon, so that the browser reconnects within the test.
    return {**app_config, "LIVE_STREAM_SECONDS": 1, "LIVE_HEARTBEAT_SECONDS": 0.5}


@pytest.fixture
def asks(demo_server: LiveServer) -> list[int]:
    with demo_server.app.app_context():
        # The open round's asks (the demo's earlier round is published).
        return list(
            db.session.scalars(
                select(Ask.id)
                .join(Consultation)
                .where(Consultation.published_at.is_(None))
                .order_by(Ask.id)
            )
        )


@pytest.fixture
def signed_in(browser: Browser, demo_server: LiveServer) -> Iterator[Page]:
    """A page signed in as Amira; no script errors allowed on it."""
    context = browser.new_context()
    context.set_default_timeout(5000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{demo_server.url}/sign-in")
    page.get_by_label("Email address").fill(AMIRA)
    page.get_by_label("Password", exact=True).fill(demo_data()["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    try:
        yield page
        assert errors == []
    finally:
        context.close()


def seed_comment(server: LiveServer, ask_id: int, body: str) -> int:
    with server.app.app_context():
        author = db.session.scalar(select(User).where(User.email == LUCY))
        comment, _ = services.add_comment(author=author, ask=db.session.get(Ask, ask_id), body=body)
        db.session.commit()
        return comment.id


def test_the_error_summary_of_a_swapped_reply_form_works(signed_in, demo_server, asks):
    page = signed_in
    parent_id = seed_comment(demo_server, asks[0], "A comment to answer.")
    page.goto(f"{demo_server.url}/asks/{asks[0]}")
    page.locator(f"#comment-{parent_id}-content").get_by_role(
        "link", name=re.compile(r"^Reply to ")
    ).click()
    slot = page.locator(f"#comment-{parent_id}-form")
    expect(slot.get_by_label("Your reply")).to_be_visible()
    # The reply form came in an htmx swap: its button is a started GOV.UK component.
    expect(slot.get_by_role("button", name="Post reply")).to_have_attribute(
        "data-govuk-button-init", ""
    )

    slot.get_by_role("button", name="Post reply").click()  # empty: answered 422
    summary = slot.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("data-govuk-error-summary-init", "")
    expect(summary).to_be_focused()
    # GOV.UK's error summary moves focus to the field when its link is followed (without
    # the component, the link only scrolls and focus stays on the link).
    summary.get_by_role("link").first.click()
    expect(slot.get_by_label("Your reply")).to_be_focused()
    # Started once: another swap elsewhere does not start the summary again.
    assert page.evaluate("document.querySelectorAll('[data-govuk-error-summary-init]').length") == 1


def test_a_page_whose_missed_events_were_pruned_reloads(signed_in, demo_server, asks):
    page = signed_in
    this_ask, other_ask = asks[0], asks[1]
    seed_comment(demo_server, this_ask, "Seen when the page was drawn.")
    page.goto(f"{demo_server.url}/asks/{this_ask}")
    expect(page.get_by_text("Seen when the page was drawn.")).to_be_visible()
    page.evaluate("window.__sameDocument = true")

    # While the page is open, events it never hears of (another ask's) come and go, and
    # retention removes every event older than now but the newest: the page's cursor now
    # points before what is kept.
    with demo_server.app.app_context():
        ids = [announce(ask_id=other_ask, name="comment-added", object_id=n) for n in range(3)]
        db.session.execute(update(LiveEvent).values(created_at=utcnow() - timedelta(hours=100)))
        assert prune(older_than=utcnow() - timedelta(hours=48)) > 0
        db.session.commit()
        assert db.session.scalars(select(LiveEvent.id)).all() == [ids[-1]]

    # The stream ends after LIVE_STREAM_SECONDS; the browser reconnects, is told to
    # reload, and does.
    page.wait_for_function("() => window.__sameDocument === undefined", timeout=15000)
    expect(page.get_by_text("Seen when the page was drawn.")).to_be_visible()
