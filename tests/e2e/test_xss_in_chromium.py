"""Stored XSS in a real browser (issue 11's suite): the corpus of tests/xss_corpus.py stored in
every kind of text people type, then every page that shows it visited in Chromium by the
roles that see it, with the fragments htmx swaps in (each paragraph's threads, every "Show
more comments", a reply form, the form that edits a comment trying to close its textarea).

On every page: no dialog opens, no Content Security Policy violation is reported (an init
script records `securitypolicyviolation` events; the console is watched too), no script
fails, the DOM as the browser built it (swaps included) holds no element or attribute a
payload made, and no request goes anywhere Consult's own pages would not (a payload's image,
frame, object or htmx request would). A control shows that each of these sees a payload
that does get into a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from consult.extensions import db
from consult.mail import unsent
from consult.models import EmailState, OutgoingEmail
from tests.factories import PASSWORD
from tests.helpers import LiveServer
from tests.xss_corpus import (
    BREAKOUT,
    MEMBER_EMAIL,
    OBSERVER_EMAIL,
    PAYLOADS,
    SECRETARIAT_EMAIL,
    Stored,
    assert_inert,
    pages,
    store_everywhere,
)

# Recorded in every document before its own scripts run: CSP violations, and nothing else.
RECORDER = """
window.__xss = { violations: [] };
document.addEventListener('securitypolicyviolation', (event) => {
  window.__xss.violations.push(
    `${event.violatedDirective} blocked ${event.blockedURI} (${event.sample})`)
}, true);
"""
# htmx is busy while an element carries one of these classes.
HTMX_BUSY = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"

# What Consult's own pages ask for besides the pages visited: static files, the fragments
# htmx swaps in, the live stream, the CSRF token's refresh.
HTMX_PATHS = [
    r"/asks/\d+/paragraphs/[^/]+/threads",
    r"/asks/\d+/comments",
    r"/asks/\d+/comments/changes",
    r"/asks/\d+/comments/new",
    r"/asks/\d+/positions",
    r"/asks/\d+/events",
    r"/comments/\d+/(replies/new|edit|withdraw|hide|resolve|report)",
    r"/csrf-token",
    r"/consultations/\d+/sign-off",
]


@dataclass
class Watch:
    """What one role's browser context saw."""

    role: str
    origin: str
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (resource type, url)
    visited: set[str] = field(default_factory=set)  # paths with their queries
    pages: int = 0


def _watch(context: BrowserContext, page: Page, watch: Watch) -> None:
    context.add_init_script(RECORDER)

    def dialog(d) -> None:
        watch.dialogs.append(f"{page.url}: {d.type} {d.message!r}")
        d.dismiss()

    def console(message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            watch.console.append(f"{page.url}: {message.text}")

    page.on("dialog", dialog)
    page.on("console", console)
    page.on("pageerror", lambda error: watch.errors.append(f"{page.url}: {error}"))
    context.on("request", lambda r: watch.requests.append((r.resource_type, r.url)))


@pytest.fixture
def stored(live_server: LiveServer) -> Stored:
    """The corpus everywhere (emails held back: tests/security/test_xss_emails.py reads
    them), and a failed email whose subject and error are payloads, for /admin/mail."""
    with live_server.app.app_context():
        with unsent():
            found = store_everywhere()
        db.session.add(
            OutgoingEmail(
                recipient=MEMBER_EMAIL,
                subject=PAYLOADS[1],
                text_body=PAYLOADS[2],
                headers={},
                state=EmailState.FAILED,
                attempts=5,
                last_error=PAYLOADS[3],
            )
        )
        db.session.commit()
        return found


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def _open(browser: Browser, opened: list, server: LiveServer, role: str, email: str | None):
    context = browser.new_context()
    context.set_default_timeout(5000)
    opened.append(context)
    page = context.new_page()
    watch = Watch(role=role, origin=server.url)
    _watch(context, page, watch)
    if email is not None:
        page.goto(f"{server.url}/sign-in")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/sign-in"))
    return page, watch


def _settled(page: Page) -> None:
    page.wait_for_load_state("load")
    page.wait_for_function(HTMX_BUSY)


def _check(page: Page, watch: Watch, where: str) -> None:
    """What the document recorded, and its DOM as the browser built it."""
    _settled(page)
    watch.violations += [f"{where}: {v}" for v in page.evaluate("window.__xss.violations")]
    assert_inert(page.content(), f"{watch.role} {where}")
    watch.pages += 1


def _visit(page: Page, watch: Watch, path: str) -> None:
    response = page.goto(f"{watch.origin}{path}")
    assert response is not None and response.status == 200, (watch.role, path)
    watch.visited.add(path)
    _check(page, watch, path)


def _ask_page_in_full(page: Page, watch: Watch, stored: Stored, *, author: bool) -> int:
    """The ask page with every paragraph's threads opened and every comment loaded (the
    hidden one only for its author); for the author, a reply form and the form that edits
    the breakout comment opened.
    Returns how many fragments htmx swapped in."""
    path = f"/asks/{stored.ask_id}"
    _visit(page, watch, path)
    swaps = 0
    for anchor in stored.anchors:
        summary = page.locator(f"#margin-{anchor} details[data-margin-threads] summary")
        if summary.count() and summary.is_visible():
            summary.click()
            expect(page.locator(f"#margin-{anchor}-threads .app-margin__list")).to_be_attached()
            _settled(page)
            swaps += 1
    while page.locator("#show-more a").count():
        before = page.locator("li.app-comment").count()
        page.locator("#show-more a").click()
        expect(page.locator("li.app-comment")).not_to_have_count(before)
        _settled(page)
        swaps += 1
    shown = set(page.eval_on_selector_all("li.app-comment[id]", "items => items.map(i => i.id)"))
    wanted = {f"comment-{i}" for i in stored.comment_ids + stored.reply_ids}
    if not author:
        wanted.remove(f"comment-{stored.hidden_id}")
    assert wanted <= shown, sorted(wanted - shown)
    if author:  # (an observer may not reply)
        reply = page.locator(f"#comment-{stored.comment_ids[1]} a[href$='/replies/new']").first
        reply.click()
        expect(page.locator(f"#comment-{stored.comment_ids[1]}-form textarea")).to_be_visible()
        swaps += 1
        page.locator(f"#comment-{stored.breakout_id} a[href$='/edit']").first.click()
        form = page.locator(f"#comment-{stored.breakout_id}-form textarea")
        expect(form).to_have_value(BREAKOUT)  # the payload stays the textarea's text
        swaps += 1
    _check(page, watch, f"{path} (threads, every comment, forms)")
    return swaps


def _unexpected_requests(watch: Watch) -> list[str]:
    found = []
    for kind, url in watch.requests:
        parts = urlsplit(url)
        where = f"{parts.path}?{parts.query}" if parts.query else parts.path
        if f"{parts.scheme}://{parts.netloc}" != watch.origin:
            found.append(f"{kind} {url}")
        elif parts.path.startswith("/static/") and kind in (
            "stylesheet",
            "script",
            "image",
            "font",
            "other",  # the favicon, which Chromium fetches as "other"
        ):
            continue
        elif kind == "document" and (where in watch.visited or parts.path in ("/sign-in", "/")):
            continue
        elif kind in ("xhr", "fetch", "eventsource") and any(
            re.fullmatch(pattern, parts.path) for pattern in HTMX_PATHS
        ):
            continue
        elif parts.path == "/favicon.ico":
            continue
        else:
            found.append(f"{kind} {url}")
    return found


def test_no_payload_runs_in_chromium_on_any_page(
    browser: Browser, live_server: LiveServer, stored: Stored, contexts
):
    visits = pages(stored)
    ask_page = f"/asks/{stored.ask_id}"
    watches = []
    opened: dict[str, tuple[Page, Watch]] = {}
    fragments = 0
    for role, email in (
        ("member", MEMBER_EMAIL),
        ("observer", OBSERVER_EMAIL),
        ("secretariat", SECRETARIAT_EMAIL),
        ("anonymous", None),
    ):
        page, watch = _open(browser, contexts, live_server, role, email)
        watches.append(watch)
        opened[role] = (page, watch)
        for path in visits[role]:
            if path == ask_page and role != "secretariat":
                fragments += _ask_page_in_full(page, watch, stored, author=role == "member")
            else:
                _visit(page, watch, path)

    # A flash message naming a person and an organisation (kept in the session, shown once).
    secretariat, watch = opened["secretariat"]
    colleague = f"/admin/people/{stored.person_ids[2]}"
    _visit(secretariat, watch, colleague)
    secretariat.get_by_role("button", name="Name as delegate").click()
    expect(secretariat.locator(".govuk-notification-banner")).to_contain_text("is now a delegate")
    watch.visited.add(f"{colleague}/delegate")
    _check(secretariat, watch, f"{colleague} (after naming them a delegate)")

    # The control: the same watch sees a payload that does get into a page.
    control, watch = _open(browser, contexts, live_server, "control", None)
    _visit(control, watch, "/")
    control.evaluate(
        "document.body.insertAdjacentHTML('beforeend', "
        "'<img src=/xss-control onerror=alert(1)><a href=\"javascript:alert(2)\">X</a>')"
    )
    control.evaluate("() => alert('control')")
    expect(control.locator("img[src='/xss-control']")).to_be_attached()
    control.wait_for_function("window.__xss.violations.length > 0")
    with pytest.raises(AssertionError):
        _check(control, watch, "/ (control)")
    assert (
        watch.violations
        and watch.console
        and watch.dialogs == [f"{live_server.url}/: alert 'control'"]
    )
    assert _unexpected_requests(watch) == [f"image {live_server.url}/xss-control"]

    visited = sum(w.pages for w in watches)
    print(
        f"\n{len(PAYLOADS)} payloads (and {len(stored.texts)} stored texts) on {visited} pages and "
        f"{fragments} htmx swaps, as {len(watches)} roles; {sum(len(w.requests) for w in watches)}"
        " requests checked"
    )
    assert [d for w in watches for d in w.dialogs] == []
    assert [v for w in watches for v in w.violations] == []
    assert [c for w in watches for c in w.console] == []
    assert [e for w in watches for e in w.errors] == []
    assert [u for w in watches for u in _unexpected_requests(w)] == []
    assert visited >= 60 and fragments >= 8
