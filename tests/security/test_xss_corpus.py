"""Stored XSS (issue 11's suite): a corpus of over 100 payloads — script, event handlers,
`javascript:`/`data:` links, `hx-*`, `hx-on:*`, `data-hx-*`, SVG, broken markup — stored in
every kind of text people type (comments and their quotes, replies, amendments' wording and
rationale, positions' reasons, notes, organisation and person names, ask and consultation
titles and summaries), then every page and fragment that shows them is rendered and parsed:
no payload may become an element or an attribute. (The Markdown pipeline alone is fuzzed in
tests/test_markdown_fuzz.py; the exports are checked in tests/exports.)"""

from __future__ import annotations

import itertools

import pytest
from bs4 import BeautifulSoup

from consult.amendments import services as amendment_services
from consult.comments import services as comment_services
from consult.extensions import db
from consult.models import Participant, Role, Stance
from consult.notes import services as note_services
from consult.positions import services as position_services
from tests import factories
from tests.helpers import HTMX, V2, anchors, login_as

pytestmark = pytest.mark.database

VECTORS = [
    "<script>alert('X')</script>",
    "<img src=x onerror=alert('X')>",
    "<svg onload=alert('X')>",
    "<svg><script>alert('X')</script></svg>",
    "<iframe src=javascript:alert('X')>",
    "<a href=javascript:alert('X')>X</a>",
    "[X](javascript:alert('X'))",
    "[X](data:text/html,<script>alert('X')</script>)",
    "<div hx-get=/admin/audit hx-trigger=load>X</div>",
    "<p hx-on:click=alert('X')>X</p>",
    "<p hx-on::load=alert('X')>X</p>",
    "<span data-hx-post=/sign-out data-hx-trigger=load>X</span>",
    "<body onload=alert('X')>",
    "<details open ontoggle=alert('X')>",
    "<math><mtext><script>alert('X')</script>",
    '"><script>alert("X")</script>',
    "'><img src=x onerror=alert('X')>",
    "</textarea><script>alert('X')</script>",
    "</title><script>alert('X')</script>",
    "<scr<script>ipt>alert('X')</script>",
    "<object data=javascript:alert('X')>",
    "<embed src=javascript:alert('X')>",
    "<form action=javascript:alert('X')><button>X</button></form>",
    "<input autofocus onfocus=alert('X')>",
    "<base href=javascript:alert('X')//>",
    "{{ 7*7 }}<b>X</b>",
]
WRAPPERS = ["{}", "Before {} after", "**{}**", "> {}", "`{}`x"]
PAYLOADS = [w.format(v) for v, w in itertools.product(VECTORS, WRAPPERS)]
FORBIDDEN_TAGS = {"iframe", "object", "embed", "svg", "math", "base", "frame", "frameset"}


def test_the_corpus_is_big_enough():
    assert len(set(PAYLOADS)) >= 100


def _assert_inert(html: str, where: str) -> None:
    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(True):
        if element.name == "svg" and any(
            c.startswith(("app-", "govuk-")) for c in element.get("class", [])
        ):
            continue  # the page's own drawings (their children are checked below)
        assert element.name not in FORBIDDEN_TAGS, (where, str(element)[:200])
        if element.name == "script":
            assert element.get("src", "").startswith("/static/"), (where, str(element)[:200])
            assert not element.get_text(strip=True), (where, str(element)[:200])
        if element.name == "img":
            assert element.get("src", "").startswith(("/static/", "data:image/")), (where,)
        for name, value in element.attrs.items():
            name = name.lower()
            text = " ".join(value) if isinstance(value, list) else str(value)
            # (Escaped payload text inside an ordinary attribute, an aria-label, is only text.)
            # Consult's pages use no event attributes, no hx-on and no data-hx-* at all.
            assert not name.startswith(("on", "hx-on", "data-hx-")), (where, str(element)[:200])
            if name.startswith("hx-"):
                assert "alert(" not in text and text != "/admin/audit", (where, name, text)
            if name in ("href", "src", "action", "formaction"):
                assert not text.strip().lower().startswith(("javascript:", "data:text")), where
        if element.name == "form":
            assert not element.get("action", "").lower().startswith("javascript:"), where
    assert "49<b>" not in html  # no template ever evaluated typed text


@pytest.fixture
def stored(people, delegates):
    """Every payload, in every kind of text, on one ask in an open consultation."""
    payload = iter(itertools.cycle(PAYLOADS))
    evil_org = factories.organisation(name=next(payload)[:120])
    evil_person = factories.user(Role.MEMBER, evil_org, name=next(payload)[:120], is_delegate=True)
    consultation = factories.consultation(next(payload)[:200], summary=next(payload))
    consultation.participants = [
        Participant(organisation=org)
        for org in (people.member.organisation, people.other_member.organisation, evil_org)
    ]
    ask = factories.ask(
        consultation, title=next(payload)[:200], versions=(V2,), author=people.secretariat
    )
    db.session.commit()
    anchor = anchors(ask)[0]
    for n, text in enumerate(PAYLOADS):
        author = (people.member, people.other_member, evil_person)[n % 3]
        made, _ = comment_services.add_comment(
            author=author,
            ask=ask,
            body=text,
            paragraph_anchor=anchor if n % 2 else None,
            quote=None,
        )
        if n % 10 == 0:
            comment_services.add_comment(
                author=people.other_member, ask=ask, body=text, parent=made
            )
    amendment_services.propose(
        actor=evil_person, ask=ask, paragraph=anchor, wording=next(payload), rationale=next(payload)
    )
    position_services.set_position(
        actor=evil_person, ask=ask, stance=Stance.OBJECT, reason=next(payload)
    )
    note_services.add_note(author=people.member, ask=ask, body=next(payload))
    db.session.commit()
    return ask, anchor


def test_no_payload_becomes_markup_on_any_page(client, people, stored):
    ask, anchor = stored
    pages = {
        "member": [
            "/",
            f"/consultations/{ask.consultation_id}",
            f"/asks/{ask.id}",
            f"/asks/{ask.id}?paragraph={anchor}",
            f"/asks/{ask.id}/amendments",
            f"/asks/{ask.id}/notes",
            f"/asks/{ask.id}/positions",
            "/search?q=alert",
            "/search?q=script",
        ],
        "secretariat": [
            f"/asks/{ask.id}",
            f"/consultations/{ask.consultation_id}/unresolved-comments",
            "/admin/audit",
            "/admin/organisations",
            "/admin/people",
            "/comments/reports",
        ],
    }
    fragments = [
        f"/asks/{ask.id}/paragraphs/{anchor}/threads",
        f"/asks/{ask.id}/comments/changes?after=0",
        f"/asks/{ask.id}",
    ]
    checked = 0
    for role, urls in pages.items():
        login_as(client, getattr(people, role))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (role, url, response.status_code)
            _assert_inert(response.get_data(as_text=True), f"{role} {url}")
            checked += 1
        for url in fragments:
            response = client.get(url, headers=HTMX)
            assert response.status_code == 200, (role, url)
            _assert_inert(response.get_data(as_text=True), f"{role} htmx {url}")
            checked += 1
    assert checked == 21
