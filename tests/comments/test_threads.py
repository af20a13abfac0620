"""How the discussion reads on the ask page: threads and their depth, comments carried over
from earlier versions, filters, "Show more comments", and a bounded number of queries."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from consult.asks.services import publish_version
from consult.comments import services, threads
from consult.extensions import db
from consult.text import paragraphs
from tests import factories
from tests.helpers import HTMX, V1, V2, anchors, comment, login_as
from tests.html import comment_ids

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def section(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def test_five_levels_show_three_nested_then_flat_with_in_reply_to(client, people, ask):
    top = comment(people.member, ask, "Level one.")
    second = comment(people.other_member, ask, "Level two.", parent=top)
    third = comment(people.colleague, ask, "Level three.", parent=second)
    fourth = comment(people.other_member, ask, "Level four.", parent=third)
    fifth = comment(people.secretariat, ask, "Level five.", parent=fourth)
    db.session.commit()
    html = login_as(client, people.observer).get(f"/asks/{ask.id}").get_data(as_text=True)
    assert comment_ids(html) == [top.id, second.id, third.id, fourth.id, fifth.id]
    levels = dict(
        re.findall(r'<li class="app-comment app-comment--level-(\d)" id="comment-(\d+)"', html)
    )
    assert re.findall(r'app-comment--level-(\d)" id="comment-(\d+)"', html) == [
        ("1", str(top.id)),
        ("2", str(second.id)),
        ("3", str(third.id)),
        ("3", str(fourth.id)),
        ("3", str(fifth.id)),
    ]
    assert levels
    # Level two's list holds everything deeper, flat, in order; deeper comments have no list.
    flat = section(html, f'id="replies-{second.id}"', "</ol>")
    assert comment_ids(flat) == [third.id, fourth.id, fifth.id]
    assert f'id="replies-{third.id}"' not in html and f'id="replies-{fourth.id}"' not in html
    # "In reply to" where the list no longer shows whom a comment answers.
    third_meta = section(html, f'id="comment-{third.id}-content"', "</p>\n  <div")
    assert "in reply to" not in section(
        html, f'id="comment-{third.id}-content"', f'id="comment-{third.id}-form"'
    )
    assert third_meta
    fourth_part = section(
        html, f'id="comment-{fourth.id}-content"', f'id="comment-{fourth.id}-form"'
    )
    assert (
        f'in reply to <a class="govuk-link" href="#comment-{third.id}">Colin Colleague</a>'
        in fourth_part
    )
    fifth_part = section(html, f'id="comment-{fifth.id}-content"', f'id="comment-{fifth.id}-form"')
    assert (
        f'in reply to <a class="govuk-link" href="#comment-{fourth.id}">Otto Other</a>'
        in fifth_part
    )


def test_each_comment_shows_who_when_where_and_its_text(client, people, ask):
    anchor = anchors(ask)[1]
    made = comment(
        people.member,
        ask,
        "A **strong** point with [a link](https://example.org).",
        paragraph_anchor=anchor,
        quote="net zero",
    )
    db.session.commit()
    html = login_as(client, people.other_member).get(f"/asks/{ask.id}").get_data(as_text=True)
    part = section(html, f'id="comment-{made.id}-content"', f'id="comment-{made.id}-form"')
    assert "<strong>Mina Member</strong>, Home Organisation" in part
    assert f'<time datetime="{made.created_at.isoformat()}">' in part
    assert f'On <a class="govuk-link" href="#{anchor}">paragraph 2</a>' in part
    assert '<span class="govuk-visually-hidden">Quoting: </span>net zero</blockquote>' in part
    assert "A <strong>strong</strong> point" in part
    assert 'href="https://example.org" rel="noopener noreferrer nofollow"' in part
    assert "edited" not in part and "Made on" not in part
    # The paragraph shows its count, linking to its threads.
    count = section(html, f'id="paragraph-count-{anchor}"', "</span>\n")
    assert f'href="/asks/{ask.id}?paragraph={anchor}#discussion">1 comment<' in count


def test_comments_made_on_an_earlier_version(client, people):
    """An unchanged paragraph keeps its comments ("Made on v1"); a changed one's stay on v1,
    with the whole-ask comments of v1, read-only."""
    ask = factories.ask(factories.consultation(), versions=(V1,), author=people.secretariat)
    first, second = [p.anchor for p in paragraphs(V1)][:2]
    on_changed = comment(people.member, ask, "On the changed paragraph.", paragraph_anchor=first)
    on_unchanged = comment(
        people.member, ask, "On the unchanged paragraph.", paragraph_anchor=second
    )
    reply = comment(people.other_member, ask, "A reply on v1.", parent=on_unchanged)
    on_whole = comment(people.member, ask, "On the whole of v1.")
    publish_version(actor=people.secretariat, ask=ask, body=V2, change_note="Sharper")
    on_v2 = comment(people.other_member, ask, "On the whole of v2.")
    db.session.commit()
    login_as(client, people.colleague)
    current = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    assert comment_ids(current) == [on_unchanged.id, reply.id, on_v2.id]
    part = section(
        current, f'id="comment-{on_unchanged.id}-content"', f'id="comment-{on_unchanged.id}-form"'
    )
    assert '<strong class="govuk-tag govuk-tag--grey">Made on v1</strong>' in part
    assert "Made on" not in section(
        current, f'id="comment-{on_v2.id}-content"', f'id="comment-{on_v2.id}-form"'
    )
    # Replies to it are allowed: it is a thread of the current page.
    assert f'href="/comments/{on_unchanged.id}/replies/new"' in current
    assert (
        f'paragraph-count-{second}"><a class="govuk-link" href="/asks/{ask.id}?paragraph={second}#discussion">2 comments<'
        in current
    )

    old = client.get(f"/asks/{ask.id}/versions/1").get_data(as_text=True)
    assert comment_ids(old) == [on_changed.id, on_unchanged.id, reply.id, on_whole.id]
    assert "Comments on v1" in old and "You can only comment on the current version." in old
    # Read-only: no forms, no controls, no live updates.
    for control in (
        "/replies/new",
        "/edit",
        "/report",
        "Comment on paragraph",
        "sse-connect",
        "comments-tail",
        'id="comment-form"',
    ):
        assert control not in old
    # The current version's page, asked for by number, is the live page.
    assert "sse-connect" in client.get(f"/asks/{ask.id}/versions/2").get_data(as_text=True)


def test_the_page_subscribes_to_the_live_stream(client, people, ask):
    made = comment(people.member, ask)
    db.session.commit()
    html = login_as(client, people.member).get(f"/asks/{ask.id}").get_data(as_text=True)
    head = html.split("</head>")[0]
    assert '<script src="/static/vendor/htmx-ext-sse.min.js" defer></script>' in head
    cursor = threads.latest_ids(ask)[0]
    assert f'hx-ext="sse" sse-connect="/asks/{ask.id}/events?last_event_id={cursor}"' in html
    tail = re.search(r'<div id="comments-tail" [^>]*></div>', html).group(0)
    assert (
        f'hx-get="/asks/{ask.id}/comments/changes?version=2&amp;start=0&amp;upto={made.id}"' in tail
    )
    assert (
        'hx-trigger="sse:comment-added delay:100ms, sse:comment-updated delay:100ms, sse:version-published delay:100ms, comments-changed from:body delay:100ms"'
        in tail
    )
    # The updater is never replaced; it reads its cursor from an input each answer renews.
    assert 'hx-swap="none"' in tail and 'hx-include="#comments-loaded, #comments-cursor"' in tail
    assert f'<input type="hidden" id="comments-cursor" name="after" value="{cursor}">' in html
    assert f'<input type="hidden" id="comments-loaded" name="loaded" value="{made.id}">' in html
    # Live regions: a polite one for screen readers, a place for the "new version" banner.
    assert (
        '<div class="govuk-visually-hidden" id="live-announcements" aria-live="polite" aria-atomic="true"></div>'
        in html
    )
    assert '<div id="live-banner"></div>' in html
    # Someone not signed in (a published consultation) gets no stream.
    public = factories.ask(
        factories.consultation(published_at=factories.utcnow()), versions=("Text.",)
    )
    db.session.commit()
    client.post("/sign-out")
    page = client.get(f"/asks/{public.id}")
    assert page.status_code == 200 and "sse-connect" not in page.get_data(as_text=True)


# Filters ------------------------------------------------------------------------------------


@pytest.fixture
def varied(people, ask):
    first, second, _ = anchors(ask)
    made = {
        "home_first": comment(people.member, ask, "Home on one.", paragraph_anchor=first),
        "other_second": comment(people.other_member, ask, "Other on two.", paragraph_anchor=second),
        "other_whole": comment(people.other_member, ask, "Other on the whole."),
        "home_whole": comment(people.colleague, ask, "Home on the whole."),
    }
    comment(people.member, ask, "Home replying.", parent=made["other_second"])
    services.resolve_comment(actor=people.secretariat, comment=made["home_whole"], response="Done.")
    db.session.commit()
    return made


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["home_first", "other_second", "other_whole", "home_whole"]),
        ("paragraph={first}", ["home_first"]),
        ("paragraph={second}", ["other_second"]),
        ("paragraph=whole", ["other_whole", "home_whole"]),
        ("organisation={home}", ["home_first", "home_whole"]),
        ("organisation={other}&paragraph=whole", ["other_whole"]),
        ("unresolved=1", ["home_first", "other_second", "other_whole"]),
        ("thread={thread}", ["other_second"]),
        # Unknown values are ignored rather than refused.
        (
            "paragraph=p-0000000000&organisation=abc&unresolved=yes&thread=-1",
            ["home_first", "other_second", "other_whole", "home_whole"],
        ),
    ],
)
def test_filters(client, people, ask, varied, query, expected):
    first, second, _ = anchors(ask)
    url = f"/asks/{ask.id}?" + query.format(
        first=first,
        second=second,
        home=people.member.organisation_id,
        other=people.other_member.organisation_id,
        thread=varied["other_second"].id,
    )
    html = login_as(client, people.member).get(url).get_data(as_text=True)
    roots = [int(n) for n in re.findall(r'app-comment--level-1" id="comment-(\d+)"', html)]
    assert roots == [varied[name].id for name in expected]
    if expected == ["other_second"]:
        assert "Home replying." in html  # replies come with their thread


def test_the_filter_form(client, people, ask, varied):
    first = anchors(ask)[0]
    html = (
        login_as(client, people.member)
        .get(f"/asks/{ask.id}?paragraph={first}&unresolved=1")
        .get_data(as_text=True)
    )
    form = section(html, '<form method="get"', "</form>")
    assert f'action="/asks/{ask.id}#discussion"' in form
    assert (
        f'<option value="{first}" selected>Paragraph 1: The council must act now.</option>' in form
    )
    assert '<option value="whole">The whole ask</option>' in form
    # Organisations that started a thread, by name.
    assert re.findall(r'<option value="\d+">(\w+ Organisation)</option>', form) == [
        "Home Organisation",
        "Other Organisation",
    ]
    assert 'name="unresolved" type="checkbox" value="1" checked' in form
    assert "1 thread matches your filters" in html and "Show all comments" in html
    empty = (
        login_as(client, people.member)
        .get(f"/asks/{ask.id}?paragraph={anchors(ask)[2]}")
        .get_data(as_text=True)
    )
    assert "No comments match your filters." in empty


def test_an_empty_discussion(client, people, ask):
    html = login_as(client, people.member).get(f"/asks/{ask.id}").get_data(as_text=True)
    assert "There are no comments yet." in html and "Filter comments" not in html
    assert "Comment on the whole ask" in html and 'id="comment-form"' in html


# Many comments ------------------------------------------------------------------------------


def _roots(ask, people, count: int) -> list:
    made = [
        comment(people.member if n % 2 else people.other_member, ask, f"Thread {n}.")
        for n in range(count)
    ]
    db.session.commit()
    return made


def test_show_more_comments(client, people, ask):
    made = _roots(ask, people, 45)
    login_as(client, people.member)
    html = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    assert comment_ids(html) == [c.id for c in made[:20]]
    assert "45 threads, oldest first." in html
    more = section(html, '<li id="show-more"', "</li>")
    upto = made[-1].id
    assert f'href="/asks/{ask.id}?after={made[19].id}#threads"' in more
    assert (
        f'hx-get="/asks/{ask.id}/comments?version=2&amp;after={made[19].id}&amp;upto={upto}"'
        in more
    )
    assert 'hx-target="#show-more" hx-swap="outerHTML"' in more and "(25 more threads)" in more
    assert f'id="comments-loaded" name="loaded" value="{made[19].id}"' in html

    # htmx: the next threads in the control's place, a new control, the page told how far it has.
    part = client.get(
        f"/asks/{ask.id}/comments?version=2&after={made[19].id}&upto={upto}", headers=HTMX
    )
    assert "HX-Request" in part.headers["Vary"]
    second = part.get_data(as_text=True)
    assert "<html" not in second and "<h1" not in second and "<form" not in second
    assert comment_ids(second) == [c.id for c in made[20:40]]
    assert re.search(
        rf'<li class="app-comment app-comment--level-1" id="comment-{made[20].id}" tabindex="-1" autofocus>',
        second,
    )
    assert (
        f'<input type="hidden" id="comments-loaded" name="loaded" value="{made[39].id}" hx-swap-oob="true">'
        in second
    )
    assert f"after={made[39].id}" in second and "(5 more threads)" in second
    last = client.get(
        f"/asks/{ask.id}/comments?version=2&after={made[39].id}&upto={upto}", headers=HTMX
    ).get_data(as_text=True)
    assert comment_ids(last) == [c.id for c in made[40:]]
    assert 'id="show-more"' not in last
    assert f'name="loaded" value="{upto}" hx-swap-oob="true"' in last
    # Threads newer than the page are left to its live updates.
    newer = comment(people.member, ask, "After the page was made.")
    db.session.commit()
    again = client.get(
        f"/asks/{ask.id}/comments?version=2&after={made[39].id}&upto={upto}", headers=HTMX
    ).get_data(as_text=True)
    assert newer.id not in comment_ids(again)

    # Without JavaScript: a page of threads after the last one shown, with the same URL.
    page_two = client.get(f"/asks/{ask.id}?after={made[19].id}").get_data(as_text=True)
    assert comment_ids(page_two) == [c.id for c in made[20:40]]
    assert "show the first threads" in page_two
    full = client.get(f"/asks/{ask.id}/comments?after={made[19].id}").get_data(as_text=True)
    assert "<html" in full and comment_ids(full) == [c.id for c in made[20:40]]


def test_show_more_keeps_the_filters(client, people, ask):
    made = _roots(ask, people, 50)
    org = people.member.organisation_id
    html = (
        login_as(client, people.member)
        .get(f"/asks/{ask.id}?organisation={org}")
        .get_data(as_text=True)
    )
    mine = [c.id for c in made if c.author_id == people.member.id]
    assert comment_ids(html) == mine[:20]
    more = section(html, '<li id="show-more"', "</li>")
    assert f"organisation={org}" in more and "(5 more threads)" in more
    tail = re.search(r'<div id="comments-tail" [^>]*>', html).group(0)
    assert f"organisation={org}" in tail


def _seed(ask, people, count: int) -> None:
    """count comments of every kind: on paragraphs and the whole ask, replies several levels
    deep, edited, hidden, withdrawn, resolved and reported."""
    first, second, _ = anchors(ask)
    made = []
    for n in range(count):
        author = (people.member, people.other_member, people.colleague)[n % 3]
        parent = made[n // 2] if n % 3 == 2 and made else None
        anchor = (first, second, None)[n % 3] if parent is None else None
        made.append(
            comment(
                author,
                ask,
                f"Comment {n}, *with* [a link](https://example.org).",
                paragraph_anchor=anchor,
                parent=parent,
            )
        )
    for n, c in enumerate(made):
        if n % 7 == 1:
            services.edit_comment(actor=c.author, comment=c, body=f"Edited {n}.")
        elif n % 11 == 3:
            services.hide_comment(actor=people.secretariat, comment=c, reason="Off topic")
        elif n % 13 == 4:
            services.withdraw_comment(actor=c.author, comment=c)
        elif n % 5 == 0:
            services.resolve_comment(actor=people.secretariat, comment=c, response="Done.")
        elif n % 6 == 5 and c.author_id != people.other_member.id:
            services.report_comment(actor=people.other_member, comment=c, reason="Why")
    db.session.commit()


def _statements(client, url: str, headers=None) -> tuple[int, str]:
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url, headers=headers or {})
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["member", "secretariat"])
def test_the_number_of_queries_does_not_grow_with_the_comments(client, people, role):
    counts = []
    for size in (10, 200):
        ask = factories.ask(factories.consultation(), versions=(V2,), author=people.secretariat)
        _seed(ask, people, size)
        login_as(client, getattr(people, role))
        page_queries, html = _statements(client, f"/asks/{ask.id}")
        assert len(comment_ids(html)) >= (8 if size == 10 else 40)
        last = re.search(r"after=(\d+)&amp;upto=(\d+)", html)
        more_queries = 0
        if last:
            more_queries, _ = _statements(
                client, f"/asks/{ask.id}/comments?after={last.group(1)}&upto={last.group(2)}", HTMX
            )
        changes_queries, _ = _statements(
            client, f"/asks/{ask.id}/comments/changes?after=0&upto=0", HTMX
        )
        counts.append((page_queries, changes_queries))
        if size == 200:
            assert more_queries and more_queries <= page_queries
    assert counts[0] == counts[1], counts
    assert counts[0][0] <= 12, counts
