"""The ask page numbers its paragraphs ("¶ 2") and marks up what the selection buttons and
the quote highlighting (static/js/consult.js) go by."""

from __future__ import annotations

import pytest

from consult.extensions import db
from tests.helpers import anchors, comment, login_as
from tests.html import select as css_select
from tests.html import select_one, text_of

pytestmark = pytest.mark.database


def test_paragraphs_are_numbered_for_eyes_and_screen_readers(client, people, ask):
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}")
    numbers = css_select(page, ".app-paragraph > .app-paragraph__main > .app-paragraph__number")
    assert [text_of(n) for n in numbers] == ["¶Paragraph 1", "¶Paragraph 2", "¶Paragraph 3"]
    assert select_one(numbers[1], "[aria-hidden=true]").get_text() == "¶"
    assert select_one(numbers[1], ".govuk-visually-hidden").get_text() == "Paragraph"


def test_the_paragraph_text_and_its_comment_link_name_the_paragraph(client, people, ask):
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}")
    texts = css_select(page, ".app-paragraph__text")
    assert [t["data-paragraph"] for t in texts] == anchors(ask)
    links = css_select(page, "a[data-comment-on]")
    assert [a["data-comment-on"] for a in links] == anchors(ask)
    assert text_of(links[1]) == "Comment on paragraph 2"


def test_a_quote_names_its_paragraph_for_highlighting(client, people, ask):
    anchor = anchors(ask)[1]
    comment(people.member, ask, "Which?", paragraph_anchor=anchor, quote="net zero")
    db.session.commit()
    login_as(client, people.member)
    quote = select_one(client.get(f"/asks/{ask.id}"), "blockquote.app-quote")
    assert quote["data-paragraph"] == anchor and "net zero" in text_of(quote)
