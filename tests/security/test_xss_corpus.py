"""Stored XSS (issue 11's suite): a corpus of over 100 payloads — script, event handlers,
`javascript:`/`data:` links, `hx-*`, `hx-on:*`, `data-hx-*`, SVG, broken markup — stored in
every kind of text people type (tests/xss_corpus.py: comments and their quotes, replies,
reasons, amendments' wording and rationale, positions' reasons, notes and their replies,
drafts and change notes, endorsements, backers, organisation and person names, ask and
consultation titles and summaries), then every page and fragment that shows them is
rendered and parsed: no payload may become an element or an attribute.

The same pages are visited in Chromium by tests/e2e/test_xss_in_chromium.py; the emails
and the exports are checked by test_xss_emails.py and test_xss_exports.py; the Markdown
pipeline alone is fuzzed in tests/test_markdown_fuzz.py."""

from __future__ import annotations

import pytest

from consult.extensions import db
from consult.models import User
from tests.helpers import HTMX, login_as
from tests.html import select_one, text_of
from tests.xss_corpus import PAYLOADS, assert_inert, fragments, pages, store_everywhere

pytestmark = pytest.mark.database

PEOPLE = {"secretariat": 0, "member": 1, "observer": 3}  # their place in Stored.person_ids


def test_the_corpus_is_big_enough():
    assert len(set(PAYLOADS)) >= 100


def test_no_payload_becomes_markup_on_any_page(app):
    stored = store_everywhere()
    checked = 0
    for role, urls in pages(stored).items():
        client = app.test_client()
        if role in PEOPLE:
            login_as(client, db.session.get(User, stored.person_ids[PEOPLE[role]]))
        shown = fragments(stored).get(role, [])
        for url, headers in [(u, {}) for u in urls] + [(u, HTMX) for u in shown]:
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (role, url, headers, response.status_code)
            _assert_inert_response(response, f"{role} {url} {headers}")
            checked += 1
    everything = {**pages(stored), **{f"{r} (htmx)": urls for r, urls in fragments(stored).items()}}
    assert checked == sum(len(urls) for urls in everything.values()) == 93


def _assert_inert_response(response, where: str) -> None:
    assert response.mimetype == "text/html", where
    assert_inert(response.get_data(as_text=True), where)


def test_a_flash_message_naming_payloads_stays_text(app):
    """A message kept in the session and shown once, naming a person and an organisation."""
    stored = store_everywhere()
    colleague = db.session.get(User, stored.person_ids[2])
    client = login_as(app.test_client(), db.session.get(User, stored.person_ids[0]))
    response = client.post(
        f"/admin/people/{colleague.id}/delegate", data={"delegate": "1"}, follow_redirects=True
    )
    assert response.status_code == 200
    _assert_inert_response(response, "the person page with its flash message")
    banner = text_of(select_one(response, ".govuk-notification-banner"))
    assert f"{colleague.name} is now a delegate for {colleague.organisation.name}" in banner
