"""Every page at 320 CSS px (WCAG 1.4.10, reflow): no page of the route matrix scrolls
sideways, for any role; wide tables scroll inside a labelled, focusable region of their own.
At 1280 px the header names who is signed in and "Sign out" stays on the navigation's row."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.factories import PASSWORD
from tests.helpers import LiveServer, assert_accessible
from tests.test_access import MATRIX, ROLES, world

NARROW = 320
WIDE = 1280
VISITORS = ("anonymous", "observer", "member", "secretariat")


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Event streams end at once here (a GET of the stream is in the matrix)."""
    return {**app_config, "LIVE_STREAM_SECONDS": 0.2}


@pytest.fixture
def narrow_world(live_server: LiveServer) -> tuple[dict[str, str | None], dict]:
    """tests/test_access.py's world, on the live server: each role's email, and the ids
    (with each signed-in role's "Signed in as" line under `signed_in_as`)."""
    # A request context: the invitation's email links to the live server.
    with live_server.app.test_request_context(base_url=live_server.url):
        people, ids = world.__wrapped__(live_server.app)
        ids["signed_in_as"] = {
            role: f"Signed in as {user.name}, {user.organisation.name}"
            for role, user in people.items()
            if user
        }
        return {role: (user.email if user else None) for role, user in people.items()}, ids


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def open_as(
    browser: Browser, contexts: list, server: LiveServer, email: str | None, width: int
) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.set_default_timeout(10000)
    contexts.append(context)
    page = context.new_page()
    if email is not None:
        page.goto(f"{server.url}/sign-in")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page


# The elements that stick out past the viewport while their parent does not: the culprits.
CULPRITS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5
    && e.parentElement.getBoundingClientRect().right <= innerWidth + 0.5)
  .slice(0, 3)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : ''))
  .join(', ')"""


def scroll_width(page: Page, url: str) -> int:
    page.goto(url)
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth")


def test_no_page_scrolls_sideways_at_320_px(
    browser: Browser, live_server: LiveServer, narrow_world, contexts
):
    emails, ids = narrow_world
    failures: list[str] = []
    visited = 0
    for role in VISITORS:
        index = ROLES.index(role)
        page = open_as(browser, contexts, live_server, emails[role], NARROW)
        for method, endpoint, url, expected in MATRIX:
            if method != "GET" or expected[index] != 200:
                continue
            full = live_server.url + url.format(**ids)
            # Downloads and event streams are not pages.
            response = page.request.get(full)
            kind = response.headers.get("content-type", "")
            response.dispose()
            if not kind.startswith("text/html"):
                continue
            width = scroll_width(page, full)
            visited += 1
            if width > NARROW:
                culprits = page.evaluate(CULPRITS)
                failures.append(f"{role} {endpoint} {url}: {width} px ({culprits})")
    assert visited > 60, visited  # the matrix's pages, not a handful
    assert not failures, "These pages scroll sideways at 320 px:\n" + "\n".join(failures)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/admin/people",
        "/admin/audit",
        "/consultations/{consultation}",
        "/admin/organisations",
        "/consultations",
    ],
)
def test_wide_tables_scroll_in_a_labelled_region_at_320_px(
    browser: Browser, live_server: LiveServer, narrow_world, contexts, path
):
    emails, ids = narrow_world
    page = open_as(browser, contexts, live_server, emails["secretariat"], NARROW)
    assert scroll_width(page, live_server.url + path.format(**ids)) <= NARROW
    for region in page.locator(".app-table-scroll").all():
        assert region.get_attribute("role") == "region"
        assert region.get_attribute("tabindex") == "0"
        assert region.get_attribute("aria-label")
    assert_accessible(page)


@pytest.mark.parametrize("role", VISITORS[1:])
def test_the_header_names_who_is_signed_in_and_keeps_sign_out_on_its_row(
    browser: Browser, live_server: LiveServer, narrow_world, contexts, role
):
    emails, ids = narrow_world
    page = open_as(browser, contexts, live_server, emails[role], WIDE)
    page.goto(f"{live_server.url}/")
    header = page.locator("header")
    expect(header.locator(".app-account__who")).to_have_text(ids["signed_in_as"][role])
    # Sign out is on the row of "Your account", and the sections' links share one row.
    account = header.get_by_role("link", name="Your account").bounding_box()
    sign_out = header.get_by_role("button", name="Sign out").bounding_box()
    assert account and sign_out
    assert abs(sign_out["y"] - account["y"]) < 4, (account, sign_out)
    sections = [
        item.bounding_box() for item in page.locator(".govuk-service-navigation__item").all()
    ]
    assert sections and all(box for box in sections)
    assert {round(box["y"]) for box in sections if box} == {round(sections[0]["y"])}, sections
    assert_accessible(page)
    # At 320 px nothing is cut off or scrolls sideways; the name is still there.
    page.set_viewport_size({"width": NARROW, "height": 800})
    expect(header.locator(".app-account__who")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW
    assert_accessible(page)


def test_an_anonymous_visitor_is_offered_sign_in_in_the_header(
    browser: Browser, live_server: LiveServer, narrow_world, contexts
):
    page = open_as(browser, contexts, live_server, None, NARROW)
    page.goto(f"{live_server.url}/")
    expect(page.locator("header").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.locator(".govuk-service-navigation")).to_have_count(0)
    assert_accessible(page)
