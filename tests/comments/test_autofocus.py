"""At most one element asks for focus (autofocus) in any page or htmx fragment.

A browser keeps every fragment's autofocus in the page as forms open one after another; the
page's script drops the spent ones (tests/e2e/test_autofocus.py); here, no single response
asks for more than one.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from consult.comments import services
from consult.extensions import db
from consult.text import paragraphs
from tests.helpers import signed_in_session

HTMX = {"HX-Request": "true"}


def autofocused(html: str) -> list[str]:
    """The tag and id of every element with the autofocus attribute, in document order."""
    found: list[str] = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: (
        found.append(f"{tag}#{dict(attrs).get('id')}") if "autofocus" in dict(attrs) else None
    )
    parser.feed(html)
    return found


def sign_in_as(client, user):
    db.session.commit()
    with client.session_transaction() as session:
        session.update(signed_in_session(user))
    return client


@pytest.fixture
def thread(people, ask):
    """A comment by the member with a reply by the other member; their ids."""
    first, _ = services.add_comment(author=people.member, ask=ask, body="First.")
    reply, _ = services.add_comment(
        author=people.other_member, ask=ask, body="A reply.", parent=first
    )
    db.session.commit()
    return first.id, reply.id


def form_urls(ask, comment_id: int) -> dict[str, list[str]]:
    """The forms each role may open, by the person who opens them."""
    anchor = paragraphs(ask.current_version.body)[1].anchor
    return {
        "member": [
            f"/asks/{ask.id}/comments/new",
            f"/asks/{ask.id}/comments/new?paragraph={anchor}",
            f"/comments/{comment_id}/replies/new",
            f"/comments/{comment_id}/edit",
            f"/comments/{comment_id}/withdraw",
        ],
        "other_member": [f"/comments/{comment_id}/report"],
        "secretariat": [f"/comments/{comment_id}/hide", f"/comments/{comment_id}/resolve"],
    }


def test_each_form_fragment_focuses_one_element_and_its_page_none_or_one(app, people, ask, thread):
    first, _ = thread
    for role, urls in form_urls(ask, first).items():
        client = sign_in_as(app.test_client(), getattr(people, role))
        for url in urls:
            fragment = client.get(url, headers=HTMX)
            assert fragment.status_code == 200, url
            assert len(autofocused(fragment.get_data(as_text=True))) == 1, url
            page = client.get(url)
            assert page.status_code == 200, url
            assert len(autofocused(page.get_data(as_text=True))) <= 1, url


def test_answers_to_posted_forms_focus_at_most_one_element(client, people, ask, thread):
    first, _ = thread
    sign_in_as(client, people.member)
    answers = {
        "reply with errors": client.post(
            f"/comments/{first}/replies", data={"body": ""}, headers=HTMX
        ),
        "comment with errors": client.post(
            f"/asks/{ask.id}/comments", data={"body": "", "placement": "page"}, headers=HTMX
        ),
        "reply posted": client.post(
            f"/comments/{first}/replies", data={"body": "Agreed."}, headers=HTMX
        ),
        "comment posted": client.post(
            f"/asks/{ask.id}/comments",
            data={"body": "A new point.", "placement": "page"},
            headers=HTMX,
        ),
    }
    for name, response in answers.items():
        assert response.status_code == (422 if "errors" in name else 200), name
        assert len(autofocused(response.get_data(as_text=True))) == 1, name


def test_the_ask_page_focuses_at_most_one_element(client, people, ask, thread):
    html = sign_in_as(client, people.member).get(f"/asks/{ask.id}").get_data(as_text=True)
    assert len(autofocused(html)) <= 1
