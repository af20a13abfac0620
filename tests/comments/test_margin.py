"""Each paragraph's margin on the ask page: its comments and unresolved threads, its open
amendments and how organisations stand on them, its threads on demand (an htmx fragment,
GET /asks/<id>/paragraphs/<anchor>/threads), and the comment and propose links."""

from __future__ import annotations

import pytest

from consult.amendments import services as amendment_services
from consult.comments import queries
from consult.comments import services as comment_services
from consult.extensions import db
from consult.models import AskState, Backing, Participant
from tests.helpers import HTMX, anchors, comment, login_as, statements_during
from tests.html import select as css_select
from tests.html import select_one, text_of

pytestmark = pytest.mark.database


def margin(page, anchor: str):
    return select_one(page, f"#{anchor} > aside.app-margin#margin-{anchor}")


def threads_of(client, ask, anchor: str, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/asks/{ask.id}/paragraphs/{anchor}/threads?{query}", headers=HTMX)


def test_the_margin_counts_comments_and_unresolved_threads(client, people, ask):
    first, second, third = anchors(ask)
    top = comment(people.member, ask, "Too vague.", paragraph_anchor=second)
    comment(people.other_member, ask, "Agreed.", parent=top)
    other = comment(people.other_member, ask, "Say 2030.", paragraph_anchor=second)
    comment(people.member, ask, "On the list.", paragraph_anchor=third)
    comment_services.resolve_comment(actor=people.secretariat, comment=other, response="Done.")
    db.session.commit()
    page = login_as(client, people.member).get(f"/asks/{ask.id}")
    assert text_of(margin(page, first), ".app-margin__count") == ("No comments on paragraph 1 yet")
    assert text_of(margin(page, second), ".app-margin__count") == (
        "3 comments on paragraph 2, 1 unresolved"
    )
    assert text_of(margin(page, third), ".app-margin__count") == (
        "1 comment on paragraph 3, 1 unresolved"
    )
    assert select_one(margin(page, second), ".app-margin__count a")["href"] == (
        f"/asks/{ask.id}?paragraph={second}#discussion"
    )
    # Named for assistive technology, with a heading of its own.
    aside = margin(page, second)
    assert aside["aria-labelledby"] == f"margin-{second}-heading"
    assert text_of(aside, f"#margin-{second}-heading") == "Discussion of paragraph 2"


def test_resolving_every_thread_says_all_resolved(client, people, ask):
    anchor = anchors(ask)[0]
    top = comment(people.member, ask, "Typo.", paragraph_anchor=anchor)
    comment_services.resolve_comment(actor=people.secretariat, comment=top, response="Fixed.")
    db.session.commit()
    page = login_as(client, people.member).get(f"/asks/{ask.id}")
    assert text_of(margin(page, anchor), ".app-margin__count") == (
        "1 comment on paragraph 1, all resolved"
    )


def test_counts_are_one_statement_whatever_the_number_of_paragraphs(app, people, ask):
    for anchor in anchors(ask):
        comment(people.member, ask, "One.", paragraph_anchor=anchor)
    db.session.commit()
    version_ids = [v.id for v in ask.versions]
    counted = {}
    assert (
        statements_during(
            lambda: counted.update(queries.paragraph_counts(ask.id, version_ids, anchors(ask)))
        )
        == 1
    )
    assert counted == {a: queries.ParagraphCount(1, 1) for a in anchors(ask)}


def test_open_amendments_and_their_backing_are_in_the_margin(client, people, delegates, ask):
    second = anchors(ask)[1]
    amendment, _ = amendment_services.propose(
        actor=people.member,
        ask=ask,
        paragraph=second,
        wording="A better second paragraph.",
        rationale="Clearer.",
    )
    amendment_services.set_backing(actor=delegates.other, amendment=amendment, stance=Backing.BACK)
    amendment_services.set_backing(
        actor=delegates.third, amendment=amendment, stance=Backing.OPPOSE
    )
    db.session.commit()
    page = login_as(client, people.member).get(f"/asks/{ask.id}")
    aside = margin(page, second)
    assert text_of(aside, ".app-margin__amendments") == "1 open amendment to paragraph 2:"
    assert text_of(aside, ".app-margin__amendment-list") == (
        f"Amendment {amendment.id} from Home Organisation: backed by 1, opposed by 1"
    )
    link = select_one(aside, ".app-margin__amendment-list a")
    assert link["href"] == f"#amendment-{amendment.id}"
    # The card it points to is under the paragraph it would replace.
    assert select_one(page, f"#{second} #amendments-{second} #amendment-{amendment.id}")
    assert not css_select(margin(page, anchors(ask)[0]), ".app-margin__amendments")


def test_what_each_role_may_do_from_the_margin(client, people, ask):
    anchor = anchors(ask)[0]
    ask.consultation.participants = [Participant(organisation=people.member.organisation)]
    ask.state = AskState.IN_REVIEW  # amendments may be proposed
    db.session.commit()
    member_page = login_as(client, people.member).get(f"/asks/{ask.id}")
    actions = [
        text_of(a) for a in css_select(margin(member_page, anchor), ".app-margin__actions a")
    ]
    assert actions == ["Comment on paragraph 1", "Propose new wording for paragraph 1"]
    assert select_one(margin(member_page, anchor), f"#paragraph-form-{anchor}")
    observer_page = login_as(client, people.observer).get(f"/asks/{ask.id}")
    assert not css_select(margin(observer_page, anchor), ".app-margin__actions")
    assert not css_select(margin(observer_page, anchor), f"#paragraph-form-{anchor}")
    assert text_of(margin(observer_page, anchor), ".app-margin__count") == (
        "No comments on paragraph 1 yet"
    )


def test_show_the_threads_only_where_there_are_comments(client, people, ask):
    first, second, _ = anchors(ask)
    comment(people.member, ask, "Hm.", paragraph_anchor=second)
    db.session.commit()
    page = login_as(client, people.member).get(f"/asks/{ask.id}")
    # Hidden until a comment arrives (a live update shows it).
    assert select_one(margin(page, first), "details").has_attr("hidden")
    assert not select_one(margin(page, second), "details").has_attr("hidden")
    details = select_one(margin(page, second), "details.app-margin__threads[data-margin-threads]")
    assert text_of(details, "summary") == "Show the threads on paragraph 2"
    loader = select_one(details, f"#margin-{second}-threads")
    assert loader["hx-get"] == f"/asks/{ask.id}/paragraphs/{second}/threads?version=2"
    assert loader["hx-trigger"] == "margin-open"
    # Without JavaScript, a link to the discussion filtered to the paragraph.
    assert select_one(loader, "a")["href"] == f"/asks/{ask.id}?paragraph={second}#discussion"


def test_a_paragraphs_threads_in_short(client, people, ask):
    first, second, _ = anchors(ask)
    top = comment(
        people.member, ask, "Say **which** year.", paragraph_anchor=second, quote="net zero"
    )
    comment(people.other_member, ask, "2030.", parent=top)
    comment(people.other_member, ask, "Elsewhere.", paragraph_anchor=first)
    comment(people.other_member, ask, "On the whole ask.")
    db.session.commit()
    response = threads_of(login_as(client, people.member), ask, second, version=2)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<html" not in html
    [item] = css_select(html, "li.app-margin__thread")
    assert text_of(item, ":scope > p:first-child") == "Mina Member, Home Organisation"
    assert text_of(item, ".app-margin__quote") == "Quoting: net zero"
    assert select_one(item, ".app-margin__body strong").get_text() == "which"
    link = select_one(item, "a[data-thread-link]")
    assert text_of(link) == "Read the thread (1 reply) started by Mina Member"
    assert link["href"] == f"/asks/{ask.id}?thread={top.id}#comment-{top.id}"
    assert "Elsewhere" not in html and "whole ask" not in html


def test_hidden_comments_stay_hidden_in_the_margin(client, people, ask):
    anchor = anchors(ask)[1]
    hidden = comment(people.other_member, ask, "Rude words.", paragraph_anchor=anchor)
    comment_services.hide_comment(actor=people.secretariat, comment=hidden, reason="Abuse")
    db.session.commit()
    member_html = threads_of(login_as(client, people.member), ask, anchor).get_data(as_text=True)
    assert "Rude words" not in member_html
    secretariat_html = threads_of(login_as(client, people.secretariat), ask, anchor).get_data(
        as_text=True
    )
    assert "Rude words" in secretariat_html


def test_without_javascript_the_threads_are_the_filtered_discussion(client, people, ask):
    anchor = anchors(ask)[1]
    response = login_as(client, people.member).get(f"/asks/{ask.id}/paragraphs/{anchor}/threads")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/asks/{ask.id}?paragraph={anchor}#discussion"


def test_an_earlier_versions_paragraph_threads(client, people, ask):
    v1_anchor = [a for a in _v1_anchors(ask) if a not in anchors(ask)][0]
    response = login_as(client, people.member).get(
        f"/asks/{ask.id}/paragraphs/{v1_anchor}/threads?version=1"
    )
    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"/asks/{ask.id}/versions/1?paragraph={v1_anchor}#discussion"
    )
    # Not a paragraph of the current version.
    assert threads_of(client, ask, v1_anchor).status_code == 404


def _v1_anchors(ask) -> list[str]:
    from consult.text import paragraphs

    return [p.anchor for p in paragraphs(ask.versions[0].body)]


@pytest.mark.parametrize("path", ["nope", "p-000000000000"])
def test_an_unknown_paragraph_is_not_found(client, people, ask, path):
    assert threads_of(login_as(client, people.member), ask, path).status_code == 404


def test_strangers_are_sent_to_sign_in(client, ask):
    anchor = anchors(ask)[1]
    response = client.get(f"/asks/{ask.id}/paragraphs/{anchor}/threads", headers=HTMX)
    assert response.status_code in (302, 303, 401)
