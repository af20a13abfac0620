"""The page side of live updates: GET .../comments/changes?after=<live event id>.

The stream only rings the bell; the page fetches what changed through this ordinary,
permission-checked GET and swaps it in out of band, then replaces its tail with the answer's
(which carries the next cursor)."""

from __future__ import annotations

import re

import pytest

from consult.asks.services import publish_version
from consult.comments import services, threads
from consult.extensions import db
from consult.models import utcnow
from tests import factories
from tests.helpers import HTMX, V2, anchors, comment, login_as
from tests.html import assert_no_active_html

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def cursor(ask) -> int:
    return threads.latest_ids(ask)[0]


def fetch(client, ask, after: int, **params) -> tuple[int, str]:
    query = "&".join(f"{k}={v}" for k, v in {"after": after, "version": 2, **params}.items())
    response = client.get(f"/asks/{ask.id}/comments/changes?{query}", headers=HTMX)
    return response.status_code, response.get_data(as_text=True)


def tail(html: str) -> str:
    found = re.findall(r'<div id="comments-tail" [^>]*></div>', html)
    assert len(found) == 1, html
    return found[0]


def cursor_in(html: str) -> int:
    """The cursor the page (or an answer, out of band) gives the live updater."""
    found = re.findall(
        r'<input type="hidden" id="comments-cursor" name="after" value="(\d+)"', html
    )
    assert len(found) == 1, html
    return int(found[0])


def oob_targets(html: str) -> list[str]:
    return re.findall(r'hx-swap-oob="([^"]+)"', html)


def test_only_changes_after_the_cursor_and_the_new_tail_has_the_latest_id(client, people, ask):
    old = comment(people.other_member, ask, "Before the page.")
    db.session.commit()
    page = login_as(client, people.member).get(f"/asks/{ask.id}").get_data(as_text=True)
    start = cursor(ask)
    upto = old.id
    assert cursor_in(page) == start
    assert 'hx-swap="none"' in tail(page) and "#comments-cursor" in tail(page)
    new = comment(people.other_member, ask, "After the page.")
    db.session.commit()
    status, html = fetch(client, ask, start, upto=upto, loaded=upto)
    assert status == 200 and "<html" not in html
    assert (
        f'<div hx-swap-oob="beforeend:#threads"><li class="app-comment app-comment--level-1" id="comment-{new.id}">'
        in html
    )
    assert "After the page." in html and "Before the page." not in html
    # The thread summary drawn with the page is replaced by one that stays true.
    assert '<p class="govuk-body" id="threads-summary" hx-swap-oob="true">' in html
    latest = cursor(ask)
    assert latest > start
    # The updater stays; the answer renews its cursor out of band.
    assert 'id="comments-tail"' not in html
    assert cursor_in(html) == latest
    assert 'hx-swap-oob="true"' in html
    assert f"upto={upto}" in tail(page)
    # Politely announced; focus never moved.
    assert (
        '<div id="live-announcements" hx-swap-oob="innerHTML">New comment from Other Organisation.</div>'
        in html
    )
    assert "autofocus" not in html
    # Nothing new since: just the tail again, with the same cursor.
    status, nothing = fetch(client, ask, latest, upto=upto, loaded=upto)
    assert status == 200 and oob_targets(nothing) == ["true"] and cursor_in(nothing) == latest
    assert "threads-summary" not in nothing


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
    assert f'app-comment--level-2" id="comment-{second.id}"' in html
    assert (
        f'<ol class="govuk-list app-replies govuk-!-padding-left-6" id="replies-{second.id}">'
        in html
    )
    assert (
        f'app-comment--level-3" id="comment-{third.id}"' in html
        and f'id="replies-{third.id}"' not in html
    )
    assert f'in reply to <a class="govuk-link" href="#comment-{third.id}">Mina Member</a>' in html
    count = html[html.index(f'<span id="paragraph-count-{anchor}" hx-swap-oob="true">') :]
    assert count.split("</a>")[0].endswith(
        '>4 comments<span class="govuk-visually-hidden"> on paragraph 2</span>'
    )
    # Only the others' comments are announced to this member.
    assert "New reply from Other Organisation. New reply from Other Organisation." in html
    assert fourth.id


def test_updated_comments_replace_only_their_content(client, people, ask):
    mine = comment(people.member, ask, "Mine.")
    theirs = comment(people.other_member, ask, "Theirs.")
    db.session.commit()
    start, upto = cursor(ask), theirs.id
    services.edit_comment(actor=people.other_member, comment=theirs, body="Theirs, edited.")
    services.resolve_comment(actor=people.secretariat, comment=mine, response="Thanks.")
    db.session.commit()
    status, html = fetch(login_as(client, people.member), ask, start, upto=upto, loaded=upto)
    assert (
        f'<div class="app-comment__content" id="comment-{theirs.id}-content" hx-swap-oob="true">'
        in html
    )
    assert (
        f'<div class="app-comment__content" id="comment-{mine.id}-content" hx-swap-oob="true">'
        in html
    )
    assert "Theirs, edited." in html and "Resolved by the secretariat" in html
    # Never the form slot or the list of replies: what someone is typing stays put.
    assert "-form" not in " ".join(re.findall(r'id="([^"]+)"', html))
    assert f'id="replies-{mine.id}"' not in html
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
        assert (
            f'<div class="app-comment__content" id="comment-{lonely.id}-content" hx-swap-oob="true">\n</div>'
            in html
        )
        answered_part = html[html.index(f'id="comment-{answered.id}-content"') :]
        assert "This comment was hidden by the secretariat." in answered_part.split("</div>")[0]
    # Its author is told why; the secretariat sees it all.
    for viewer in (people.other_member, people.secretariat):
        status, html = fetch(login_as(client, viewer), ask, start, upto=upto, loaded=upto)
        assert (
            "Lonely <em>hush</em>." in html and "Hidden by the secretariat: Private matter" in html
        )


def test_a_comment_added_then_hidden_is_not_sent(client, people, ask):
    start = cursor(ask)
    made = comment(people.other_member, ask, "Posted and hidden.")
    services.hide_comment(actor=people.secretariat, comment=made, reason="Spam")
    db.session.commit()
    status, html = fetch(login_as(client, people.member), ask, start, upto=0, loaded=0)
    assert (
        "Posted and hidden." not in html and "Spam" not in html and f"comment-{made.id}" not in html
    )


def test_the_page_filters_apply(client, people, ask):
    first, second, _ = anchors(ask)
    start = cursor(ask)
    on_first = comment(people.other_member, ask, "On the first.", paragraph_anchor=first)
    on_second = comment(people.other_member, ask, "On the second.", paragraph_anchor=second)
    on_whole = comment(people.member, ask, "On the whole.")
    db.session.commit()
    login_as(client, people.colleague)
    _, html = fetch(client, ask, start, upto=0, loaded=0, paragraph=first)
    assert f"comment-{on_first.id}" in html and f"comment-{on_second.id}" not in html
    _, html = fetch(
        client, ask, start, upto=0, loaded=0, organisation=people.member.organisation_id
    )
    assert f"comment-{on_whole.id}" in html and f"comment-{on_first.id}" not in html
    _, html = fetch(client, ask, start, upto=0, loaded=0, thread=on_second.id)
    assert f'id="comment-{on_second.id}"' in html and f'comment-{on_first.id}"' not in html


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
    assert f"comment-{to_early.id}" in html and f"comment-{to_late.id}" not in html
    # Once "Show more" has loaded it, its replies come live too.
    _, html = fetch(client, ask, start, upto=late.id, loaded=late.id)
    assert f"comment-{to_late.id}" in html


def test_a_new_version_is_announced_with_a_link_not_a_reload(client, people, ask):
    start = cursor(ask)
    publish_version(
        actor=people.secretariat, ask=ask, body=V2 + "\n\nA new paragraph.", change_note="More"
    )
    on_v3 = comment(people.other_member, ask, "On v3.")
    db.session.commit()
    status, html = fetch(login_as(client, people.member), ask, start, upto=0, loaded=0)
    assert status == 200
    banner = html[html.index('<div id="live-banner" hx-swap-oob="innerHTML">') :]
    assert "A new version (v3) has been published." in banner
    assert (
        f'<a class="govuk-notification-banner__link" href="/asks/{ask.id}">Reload to read it</a>'
        in banner
    )
    assert "A new version (v3) has been published." in html[html.index('id="live-announcements"') :]
    # The open page is v2's: comments on v3 belong to the new page.
    assert f"comment-{on_v3.id}" not in html


def test_many_changes_are_fetched_in_turns(client, people, ask, monkeypatch):
    monkeypatch.setattr(threads, "CHANGES_LIMIT", 3)
    start = cursor(ask)
    made = [comment(people.other_member, ask, f"Number {n}.") for n in range(5)]
    db.session.commit()
    response = login_as(client, people.member).get(
        f"/asks/{ask.id}/comments/changes?after={start}&version=2&upto=0&loaded=0", headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert [f'comment-{c.id}"' in html for c in made] == [True, True, True, False, False]
    # More than one answer holds: the updater is told to ask again at once.
    assert "comments-changed" in response.headers["HX-Trigger"]
    response = client.get(
        f"/asks/{ask.id}/comments/changes?after={cursor_in(html)}&version=2&upto=0&loaded=0",
        headers=HTMX,
    )
    rest = response.get_data(as_text=True)
    assert [f'comment-{c.id}"' in rest for c in made] == [False, False, False, True, True]
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
    assert "New comment from &lt;img src=x onerror=alert(1)&gt;." in html
