"""The page side of live updates: GET .../comments/changes?after=<live event id>.

The stream only rings the bell; the page fetches what changed through this ordinary,
permission-checked GET and swaps it in out of band, then replaces its tail with the answer's
(which carries the next cursor)."""

from __future__ import annotations

import re

import pytest

from consult.asks.services import publish_version
from consult.comments import live, queries, services
from consult.extensions import db
from consult.models import utcnow
from tests import factories
from tests.helpers import HTMX, V2, anchors, comment, login_as
from tests.html import Element, assert_no_active_html, select_one, text_of, texts, top_level
from tests.html import select as css_select

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def cursor(ask) -> int:
    return queries.latest_ids(ask.id)[0]


def fetch(client, ask, after: int, **params) -> tuple[int, str]:
    query = "&".join(f"{k}={v}" for k, v in {"after": after, "version": 2, **params}.items())
    response = client.get(f"/asks/{ask.id}/comments/changes?{query}", headers=HTMX)
    return response.status_code, response.get_data(as_text=True)


def tail(html: str) -> Element:
    """The live updater: an empty element that fetches the changes."""
    found = select_one(html, "div#comments-tail")
    assert found.contents == [], found
    return found


def cursor_in(html: str) -> int:
    """The cursor the page (or an answer, out of band) gives the live updater."""
    return int(select_one(html, 'input#comments-cursor[type="hidden"][name="after"]')["value"])


def oob_targets(html: str) -> list[str]:
    return [element["hx-swap-oob"] for element in css_select(html, "[hx-swap-oob]")]


def shown(html: str) -> set[int]:
    """The ids of the comments whose item or content the HTML holds."""
    found = set()
    for element in css_select(html, "li.app-comment[id], div.app-comment__content[id]"):
        match = re.fullmatch(r"comment-(\d+)(-content)?", element["id"])
        assert match, element["id"]
        found.add(int(match.group(1)))
    return found


def test_only_changes_after_the_cursor_and_the_new_tail_has_the_latest_id(client, people, ask):
    old = comment(people.other_member, ask, "Before the page.")
    db.session.commit()
    page = login_as(client, people.member).get(f"/asks/{ask.id}").get_data(as_text=True)
    start = cursor(ask)
    upto = old.id
    assert cursor_in(page) == start
    assert tail(page)["hx-swap"] == "none" and "#comments-cursor" in tail(page)["hx-include"]
    new = comment(people.other_member, ask, "After the page.")
    db.session.commit()
    status, html = fetch(client, ask, start, upto=upto, loaded=upto)
    assert status == 200 and not css_select(html, "html")
    [item] = top_level(select_one(html, 'div[hx-swap-oob="beforeend:#threads"]').decode_contents())
    assert item.name == "li" and item["id"] == f"comment-{new.id}"
    assert "app-comment--level-1" in item["class"]
    assert "After the page." in html and "Before the page." not in html
    # The thread summary drawn with the page is replaced by one that stays true.
    assert select_one(html, "p.govuk-body#threads-summary")["hx-swap-oob"] == "true"
    latest = cursor(ask)
    assert latest > start
    # The updater stays; the answer renews its cursor out of band.
    assert not css_select(html, "#comments-tail")
    assert cursor_in(html) == latest
    cursor_input = select_one(html, "input#comments-cursor")
    assert cursor_input["hx-swap-oob"] == "true"
    assert f"upto={upto}" in tail(page)["hx-get"]
    # Politely announced; focus never moved.
    announcement = select_one(html, "div#live-announcements")
    assert announcement["hx-swap-oob"] == "innerHTML"
    assert text_of(announcement) == "New comment from Other Organisation."
    assert not css_select(html, "[autofocus]")
    # Nothing new since: just the tail again, with the same cursor.
    status, nothing = fetch(client, ask, latest, upto=upto, loaded=upto)
    assert status == 200 and oob_targets(nothing) == ["true"] and cursor_in(nothing) == latest
    assert not css_select(nothing, "#threads-summary")


def test_replies_join_their_lists_and_counts_are_renewed(client, people, ask):
    anchor = anchors(ask)[1]
    top = comment(people.member, ask, "Top.", paragraph_anchor=anchor)
    db.session.commit()
    start, upto = cursor(ask), top.id
    second = comment(people.other_member, ask, "Second.", parent=top)
    third = comment(people.member, ask, "Third.", parent=second)
    fourth = comment(people.other_member, ask, "Fourth.", parent=third)
    db.session.commit()
    status, html = fetch(login_as(client, people.member), ask, start, upto=upto, loaded=upto)
    assert oob_targets(html)[:3] == [
        f"beforeend:#replies-{top.id}",
        f"beforeend:#replies-{second.id}",
        f"beforeend:#replies-{second.id}",
    ]
    assert css_select(html, f"li.app-comment--level-2#comment-{second.id}")
    assert css_select(html, f"ol.govuk-list.app-replies#replies-{second.id}")
    assert css_select(html, f"li.app-comment--level-3#comment-{third.id}")
    assert css_select(html, f"li.app-comment--level-3#comment-{fourth.id}")
    assert not css_select(html, f"#replies-{third.id}")
    # The list no longer shows whom the fourth answers: it says so.
    meta = select_one(html, f"#comment-{fourth.id}-content .app-comment__meta")
    assert "in reply to Mina Member" in text_of(meta)
    assert select_one(meta, "a.govuk-link")["href"] == f"#comment-{third.id}"
    count = select_one(html, f"span#paragraph-count-{anchor}")
    assert count["hx-swap-oob"] == "true"
    assert text_of(count, "a") == "4 comments on paragraph 2"
    assert text_of(count, "a .govuk-visually-hidden") == "on paragraph 2"
    # Only the others' comments are announced to this member.
    assert text_of(html, "#live-announcements") == (
        "New reply from Other Organisation. New reply from Other Organisation."
    )


def test_updated_comments_replace_only_their_content(client, people, ask):
    mine = comment(people.member, ask, "Mine.")
    theirs = comment(people.other_member, ask, "Theirs.")
    db.session.commit()
    start, upto = cursor(ask), theirs.id
    services.edit_comment(actor=people.other_member, comment=theirs, body="Theirs, edited.")
    services.resolve_comment(actor=people.secretariat, comment=mine, response="Thanks.")
    db.session.commit()
    status, html = fetch(login_as(client, people.member), ask, start, upto=upto, loaded=upto)
    for made in (theirs, mine):
        content = select_one(html, f"div.app-comment__content#comment-{made.id}-content")
        assert content["hx-swap-oob"] == "true"
    assert "Theirs, edited." in html and "Resolved by the secretariat" in html
    # Never the form slot or the list of replies: what someone is typing stays put.
    assert not [e["id"] for e in css_select(html, "[id]") if e["id"].endswith("-form")]
    assert not css_select(html, f"#replies-{mine.id}")
    assert "New " not in html  # changes are not announced as new comments


def test_a_hidden_comment_is_not_sent_to_members(client, people, ask):
    lonely = comment(people.other_member, ask, "Lonely *hush*.")
    answered = comment(people.other_member, ask, "Answered hush.")
    comment(people.member, ask, "Reply.", parent=answered)
    db.session.commit()
    start, upto = cursor(ask), answered.id + 1
    for made in (lonely, answered):
        services.hide_comment(actor=people.secretariat, comment=made, reason="Private matter")
    db.session.commit()
    for viewer in (people.member, people.observer):
        status, html = fetch(login_as(client, viewer), ask, start, upto=upto, loaded=upto)
        assert status == 200
        assert "hush" not in html and "Private matter" not in html
        # Gone where nothing hangs on it; a tombstone where replies do.
        gone = select_one(html, f"div.app-comment__content#comment-{lonely.id}-content")
        assert gone["hx-swap-oob"] == "true" and text_of(gone) == "" and not gone.find()
        assert "This comment was hidden by the secretariat." in text_of(
            html, f"#comment-{answered.id}-content"
        )
    # Its author is told why; the secretariat sees it all.
    for viewer in (people.other_member, people.secretariat):
        status, html = fetch(login_as(client, viewer), ask, start, upto=upto, loaded=upto)
        lonely_text = text_of(html, f"#comment-{lonely.id}-content")
        assert "Lonely hush." in lonely_text and "hush" in texts(
            html, f"#comment-{lonely.id}-content em"
        )
        assert "Hidden by the secretariat: Private matter" in lonely_text


def test_a_comment_added_then_hidden_is_not_sent(client, people, ask):
    start = cursor(ask)
    made = comment(people.other_member, ask, "Posted and hidden.")
    services.hide_comment(actor=people.secretariat, comment=made, reason="Spam")
    db.session.commit()
    status, html = fetch(login_as(client, people.member), ask, start, upto=0, loaded=0)
    assert "Posted and hidden." not in html and "Spam" not in html
    assert made.id not in shown(html) and not css_select(html, f'a[href="#comment-{made.id}"]')


def test_the_page_filters_apply(client, people, ask):
    first, second, _ = anchors(ask)
    start = cursor(ask)
    on_first = comment(people.other_member, ask, "On the first.", paragraph_anchor=first)
    on_second = comment(people.other_member, ask, "On the second.", paragraph_anchor=second)
    on_whole = comment(people.member, ask, "On the whole.")
    db.session.commit()
    login_as(client, people.colleague)
    _, html = fetch(client, ask, start, upto=0, loaded=0, paragraph=first)
    assert shown(html) == {on_first.id}
    _, html = fetch(
        client, ask, start, upto=0, loaded=0, organisation=people.member.organisation_id
    )
    assert shown(html) == {on_whole.id}
    _, html = fetch(client, ask, start, upto=0, loaded=0, thread=on_second.id)
    assert shown(html) == {on_second.id}


def test_threads_the_page_has_not_loaded_are_left_alone(client, people, ask):
    """A reply to a thread waiting behind "Show more comments" comes with that thread."""
    early = comment(people.other_member, ask, "Early.")
    late = comment(people.other_member, ask, "Late.")
    db.session.commit()
    start = cursor(ask)
    to_early = comment(people.member, ask, "To early.", parent=early)
    to_late = comment(people.member, ask, "To late.", parent=late)
    db.session.commit()
    _, html = fetch(login_as(client, people.colleague), ask, start, upto=late.id, loaded=early.id)
    assert to_early.id in shown(html) and to_late.id not in shown(html)
    # Once "Show more" has loaded it, its replies come live too.
    _, html = fetch(client, ask, start, upto=late.id, loaded=late.id)
    assert to_late.id in shown(html)


def test_a_new_version_is_announced_with_a_link_not_a_reload(client, people, ask):
    start = cursor(ask)
    publish_version(
        actor=people.secretariat, ask=ask, body=V2 + "\n\nA new paragraph.", change_note="More"
    )
    on_v3 = comment(people.other_member, ask, "On v3.")
    db.session.commit()
    status, html = fetch(login_as(client, people.member), ask, start, upto=0, loaded=0)
    assert status == 200
    banner = select_one(html, "div#live-banner")
    assert banner["hx-swap-oob"] == "innerHTML"
    assert "A new version (v3) has been published." in text_of(banner)
    link = select_one(banner, "a.govuk-notification-banner__link")
    assert link["href"] == f"/asks/{ask.id}" and text_of(link) == "Reload to read it"
    assert "A new version (v3) has been published." in text_of(html, "#live-announcements")
    # The open page is v2's: comments on v3 belong to the new page.
    assert on_v3.id not in shown(html)


def test_many_changes_are_fetched_in_turns(client, people, ask, monkeypatch):
    monkeypatch.setattr(live, "CHANGES_LIMIT", 3)
    start = cursor(ask)
    made = [comment(people.other_member, ask, f"Number {n}.") for n in range(5)]
    db.session.commit()
    response = login_as(client, people.member).get(
        f"/asks/{ask.id}/comments/changes?after={start}&version=2&upto=0&loaded=0", headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert [c.id in shown(html) for c in made] == [True, True, True, False, False]
    # More than one answer holds: the updater is told to ask again at once.
    assert "comments-changed" in response.headers["HX-Trigger"]
    response = client.get(
        f"/asks/{ask.id}/comments/changes?after={cursor_in(html)}&version=2&upto=0&loaded=0",
        headers=HTMX,
    )
    rest = response.get_data(as_text=True)
    assert [c.id in shown(rest) for c in made] == [False, False, False, True, True]
    assert "HX-Trigger" not in response.headers


@pytest.mark.parametrize(
    "role, status",
    [
        ("anonymous", 401),
        ("observer", 200),
        ("member", 200),
        ("other_member", 200),
        ("secretariat", 200),
    ],
)
def test_who_may_fetch_changes(client, people, ask, role, status):
    start = cursor(ask)
    comment(people.other_member, ask, "Something.")
    db.session.commit()
    login_as(client, people.get(role))
    got, html = fetch(client, ask, start, upto=0, loaded=0)
    assert got == status
    if role == "observer":
        assert "Something." in html and "/replies/new" not in html and "/report" not in html


def test_changes_follow_the_consultations_permissions(client, people):
    upcoming = factories.ask(factories.consultation(opens_in_days=3), versions=("Soon.",))
    db.session.commit()
    login_as(client, people.member)
    assert (
        client.get(f"/asks/{upcoming.id}/comments/changes?after=0", headers=HTMX).status_code == 403
    )
    public = factories.ask(factories.consultation(published_at=utcnow()), versions=("Out.",))
    db.session.commit()
    client.post("/sign-out")
    # Anyone may read a published consultation, but live updates are for people signed in.
    response = client.get(f"/asks/{public.id}/comments/changes?after=0", headers=HTMX)
    assert response.status_code == 401 and "HX-Redirect" in response.headers


def test_a_plain_request_is_sent_to_the_page(client, people, ask):
    response = login_as(client, people.member).get(f"/asks/{ask.id}/comments/changes?after=0")
    assert response.status_code == 303 and response.headers["Location"] == f"/asks/{ask.id}"
    fragment = client.get(f"/asks/{ask.id}/comments/changes?after=0", headers=HTMX)
    assert (
        fragment.headers["Cache-Control"] == "no-store" and "HX-Request" in fragment.headers["Vary"]
    )
    assert (
        client.get(f"/asks/{ask.id}/comments/changes?after=0&version=9", headers=HTMX).status_code
        == 404
    )


def test_changes_never_carry_active_html(client, people, ask):
    start = cursor(ask)
    evil = factories.user(
        people.member.role,
        factories.organisation("<img src=x onerror=alert(1)>"),
        name='<a hx-get="/evil">name</a>',
    )
    comment(evil, ask, '<script>alert(1)</script> [x](javascript:alert(1)) <div hx-get="/evil">')
    db.session.commit()
    _, html = fetch(login_as(client, people.member), ask, start, upto=0, loaded=0)
    assert_no_active_html(html)
    assert text_of(html, "#live-announcements") == "New comment from <img src=x onerror=alert(1)>."


def test_others_new_comments_say_where_they_are_for_the_show_control(client, people, ask):
    """A comment by someone else is marked with where it is ("paragraph 2", "the whole
    ask"), for the page's "1 new comment on paragraph 2 – show" control; one's own is not."""
    anchor = anchors(ask)[1]
    start = cursor(ask)
    theirs = comment(people.other_member, ask, "Theirs.", paragraph_anchor=anchor)
    whole = comment(people.other_member, ask, "On the whole ask.")
    reply = comment(people.other_member, ask, "A reply.", parent=theirs)
    own = comment(people.member, ask, "Mine.", paragraph_anchor=anchor)
    db.session.commit()
    status, html = fetch(login_as(client, people.member), ask, start, upto=0, loaded=0)
    assert status == 200
    assert select_one(html, f"li#comment-{theirs.id}")["data-live-new"] == "paragraph 2"
    assert select_one(html, f"li#comment-{whole.id}")["data-live-new"] == "the whole ask"
    assert select_one(html, f"li#comment-{reply.id}")["data-live-new"] == "paragraph 2"
    assert not select_one(html, f"li#comment-{own.id}").has_attr("data-live-new")
