"""How the discussion reads on the ask page: threads and their depth, comments carried over
from earlier versions, filters, "Show more comments", and a bounded number of queries."""

from __future__ import annotations

import pytest

from consult.asks.services import publish_version
from consult.comments import queries, services
from consult.extensions import db
from consult.text import paragraphs
from tests import factories
from tests.helpers import HTMX, V1, V2, anchors, comment, login_as, statements_during
from tests.html import comment_ids, select_one, text_of, texts
from tests.html import select as css_select

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def levels(html: str) -> list[tuple[int, int]]:
    """(level, comment id) of each comment in the HTML, in document order."""
    return [
        (int(level), int(item["id"].removeprefix("comment-")))
        for item in css_select(html, "li.app-comment[id]")
        for level in [
            name.removeprefix("app-comment--level-")
            for name in item["class"]
            if name.startswith("app-comment--level-")
        ]
    ]


def roots(html: str) -> list[int]:
    """The ids of the threads' first comments, in document order."""
    return [comment_id for level, comment_id in levels(html) if level == 1]


def test_five_levels_show_three_nested_then_flat_with_in_reply_to(client, people, ask):
    top = comment(people.member, ask, "Level one.")
    second = comment(people.other_member, ask, "Level two.", parent=top)
    third = comment(people.colleague, ask, "Level three.", parent=second)
    fourth = comment(people.other_member, ask, "Level four.", parent=third)
    fifth = comment(people.secretariat, ask, "Level five.", parent=fourth)
    db.session.commit()
    html = login_as(client, people.observer).get(f"/asks/{ask.id}").get_data(as_text=True)
    assert comment_ids(html) == [top.id, second.id, third.id, fourth.id, fifth.id]
    assert levels(html) == [
        (1, top.id),
        (2, second.id),
        (3, third.id),
        (3, fourth.id),
        (3, fifth.id),
    ]
    # Level two's list holds everything deeper, flat, in order; deeper comments have no list.
    flat = select_one(html, f"ol#replies-{second.id}")
    assert comment_ids(flat) == [third.id, fourth.id, fifth.id]
    assert not css_select(html, f"#replies-{third.id}, #replies-{fourth.id}")
    # "In reply to" where the list no longer shows whom a comment answers.
    assert "in reply to" not in text_of(html, f"#comment-{third.id}-content .app-comment__meta")
    for reply, parent, name in ((fourth, third, "Colin Colleague"), (fifth, fourth, "Otto Other")):
        meta = select_one(html, f"#comment-{reply.id}-content .app-comment__meta")
        assert f"in reply to {name}" in text_of(meta)
        assert select_one(meta, "a.govuk-link")["href"] == f"#comment-{parent.id}"


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
    part = select_one(html, f"#comment-{made.id}-content")
    assert "Mina Member, Home Organisation" in text_of(part)
    assert css_select(part, "strong")[0].get_text() == "Mina Member"
    assert select_one(part, "time")["datetime"] == f"{made.created_at:%Y-%m-%dT%H:%M:%S}Z"
    on = [a for a in css_select(part, "a.govuk-link") if a["href"] == f"#{anchor}"]
    assert [text_of(a) for a in on] == ["paragraph 2"] and "On paragraph 2" in text_of(part)
    assert text_of(part, "blockquote") == "Quoting: net zero"
    assert text_of(part, "blockquote .govuk-visually-hidden") == "Quoting:"
    assert "A strong point" in text_of(part) and "strong" in texts(part, "p strong")
    link = select_one(part, 'a[href="https://example.org"]')
    assert link["rel"] == ["noopener", "noreferrer", "nofollow"]
    assert "edited" not in text_of(part) and "Made on" not in text_of(part)
    # The paragraph shows its count, linking to its threads.
    count = select_one(html, f"#paragraph-count-{anchor} a")
    assert text_of(count) == "1 comment on paragraph 2"  # (the last words visually hidden)
    assert count["href"] == f"/asks/{ask.id}?paragraph={anchor}#discussion"


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
    assert texts(current, f"#comment-{on_unchanged.id}-content strong.govuk-tag--grey") == [
        "Made on v1"
    ]
    assert "Made on" not in text_of(current, f"#comment-{on_v2.id}-content")
    # Replies to it are allowed: it is a thread of the current page.
    assert css_select(current, f'a[href="/comments/{on_unchanged.id}/replies/new"]')
    count = select_one(current, f"#paragraph-count-{second} a.govuk-link")
    assert text_of(count) == "2 comments on paragraph 2"
    assert count["href"] == f"/asks/{ask.id}?paragraph={second}#discussion"

    old = client.get(f"/asks/{ask.id}/versions/1").get_data(as_text=True)
    assert comment_ids(old) == [on_changed.id, on_unchanged.id, reply.id, on_whole.id]
    assert "Comments on v1" in old and "You can only comment on the current version." in old
    # Read-only: no forms, no controls, no live updates.
    for control in ("replies/new", "edit", "report"):
        assert not css_select(old, f'a[href^="/comments/"][href$="/{control}"]'), control
    assert "Comment on paragraph" not in old
    assert not css_select(
        old, "[sse-connect], #comments-tail, #comment-form, main form[method=post]"
    )
    # The current version's page, asked for by number, is the live page.
    assert css_select(client.get(f"/asks/{ask.id}/versions/2"), "[sse-connect]")


def test_the_page_subscribes_to_the_live_stream(client, people, ask):
    made = comment(people.member, ask)
    db.session.commit()
    html = login_as(client, people.member).get(f"/asks/{ask.id}").get_data(as_text=True)
    script = select_one(html, 'head script[src^="/static/vendor/htmx-ext-sse.min.js?v="]')
    assert script.has_attr("defer")
    cursor = queries.latest_ids(ask.id)[0]
    stream = select_one(html, "[sse-connect]")
    assert stream["hx-ext"] == "sse"
    assert stream["sse-connect"] == f"/asks/{ask.id}/events?last_event_id={cursor}"
    tail = select_one(html, "div#comments-tail")
    assert tail["hx-get"] == f"/asks/{ask.id}/comments/changes?version=2&start=0&upto={made.id}"
    assert tail["hx-trigger"] == (
        "sse:comment-added delay:100ms, sse:comment-updated delay:100ms, "
        "sse:version-published delay:100ms, comments-changed from:body delay:100ms"
    )
    # The updater is never replaced; it reads its cursor from an input each answer renews.
    assert tail["hx-swap"] == "none" and tail["hx-include"] == "#comments-loaded, #comments-cursor"
    assert tail.contents == []
    cursor_input = select_one(html, 'input#comments-cursor[type="hidden"][name="after"]')
    assert cursor_input["value"] == str(cursor)
    loaded = select_one(html, 'input#comments-loaded[type="hidden"][name="loaded"]')
    assert loaded["value"] == str(made.id)
    # Live regions: a polite one for screen readers, a place for the "new version" banner.
    announcements = select_one(html, "div#live-announcements.govuk-visually-hidden")
    assert announcements["aria-live"] == "polite" and announcements["aria-atomic"] == "true"
    assert announcements.contents == [] and select_one(html, "div#live-banner").contents == []
    # Someone not signed in (a published consultation) gets no stream.
    public = factories.ask(
        factories.consultation(published_at=factories.utcnow()), versions=("Text.",)
    )
    db.session.commit()
    client.post("/sign-out")
    page = client.get(f"/asks/{public.id}")
    assert page.status_code == 200 and not css_select(page, "[sse-connect]")


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
    assert roots(html) == [varied[name].id for name in expected]
    if expected == ["other_second"]:
        assert "Home replying." in html  # replies come with their thread


@pytest.mark.database
def test_the_organisations_to_filter_by_are_those_that_started_a_thread_here(people, ask):
    """Not those that only replied, nor those that started threads on another ask; each
    once, by name."""
    elsewhere = factories.ask(ask.consultation, title="Another ask", versions=(V1,))
    started = comment(people.other_member, ask, "Other starts.")
    comment(people.other_member, ask, "Other again.")
    comment(people.member, ask, "Home only replies.", parent=started)
    comment(people.secretariat, elsewhere, "The secretariat, on another ask.")
    db.session.commit()
    other = people.other_member.organisation
    assert queries.organisations(ask.id) == [(other.id, other.name)]
    comment(people.secretariat, ask, "The secretariat starts one here too.")
    db.session.commit()
    listed = queries.organisations(ask.id)
    assert listed == sorted(listed, key=lambda org: org[1]) and len(listed) == 2
    assert {org_id for org_id, _ in listed} == {other.id, people.secretariat.organisation_id}


def test_the_filter_form(client, people, ask, varied):
    first = anchors(ask)[0]
    html = (
        login_as(client, people.member)
        .get(f"/asks/{ask.id}?paragraph={first}&unresolved=1")
        .get_data(as_text=True)
    )
    form = select_one(html, 'form[method="get"]:has(select[name="paragraph"])')
    assert form["action"] == f"/asks/{ask.id}#discussion"
    selected = select_one(form, 'select[name="paragraph"] option[selected]')
    assert selected["value"] == first
    assert text_of(selected) == "Paragraph 1: The council must act now."
    assert text_of(form, 'select[name="paragraph"] option[value="whole"]') == "The whole ask"
    # Organisations that started a thread, by name.
    organisations = css_select(form, 'select[name="organisation"] option')
    assert [text_of(option) for option in organisations if option["value"].isdigit()] == [
        "Home Organisation",
        "Other Organisation",
    ]
    unresolved = select_one(form, 'input[type="checkbox"][name="unresolved"]')
    assert unresolved["value"] == "1" and unresolved.has_attr("checked")
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
    assert "Comment on the whole ask" in html and css_select(html, "#comment-form")


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
    more = select_one(html, "li#show-more a")
    upto = made[-1].id
    assert more["href"] == f"/asks/{ask.id}?after={made[19].id}#threads"
    assert more["hx-get"] == f"/asks/{ask.id}/comments?version=2&after={made[19].id}&upto={upto}"
    assert more["hx-target"] == "#show-more" and more["hx-swap"] == "outerHTML"
    assert "(25 more threads)" in text_of(html, "li#show-more")
    assert select_one(html, 'input#comments-loaded[name="loaded"]')["value"] == str(made[19].id)

    # htmx: the next threads in the control's place, a new control, the page told how far it has.
    part = client.get(
        f"/asks/{ask.id}/comments?version=2&after={made[19].id}&upto={upto}", headers=HTMX
    )
    assert "HX-Request" in part.headers["Vary"]
    second = part.get_data(as_text=True)
    assert not css_select(second, "html, h1, form")
    assert comment_ids(second) == [c.id for c in made[20:40]]
    # Focus moves to the first thread it added, and only there.
    focused = select_one(second, "[autofocus]")
    assert focused["id"] == f"comment-{made[20].id}" and focused["tabindex"] == "-1"
    assert "app-comment--level-1" in focused["class"]
    loaded = select_one(second, 'input#comments-loaded[type="hidden"][name="loaded"]')
    assert loaded["value"] == str(made[39].id) and loaded["hx-swap-oob"] == "true"
    assert f"after={made[39].id}" in select_one(second, "li#show-more a")["hx-get"]
    assert "(5 more threads)" in text_of(second, "li#show-more")
    last = client.get(
        f"/asks/{ask.id}/comments?version=2&after={made[39].id}&upto={upto}", headers=HTMX
    ).get_data(as_text=True)
    assert comment_ids(last) == [c.id for c in made[40:]]
    assert not css_select(last, "#show-more")
    loaded = select_one(last, 'input#comments-loaded[name="loaded"]')
    assert loaded["value"] == str(upto) and loaded["hx-swap-oob"] == "true"
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
    assert css_select(full, "html") and comment_ids(full) == [c.id for c in made[20:40]]


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
    more = select_one(html, "li#show-more")
    assert f"organisation={org}" in select_one(more, "a")["hx-get"]
    assert f"organisation={org}" in select_one(more, "a")["href"]
    assert "(5 more threads)" in text_of(more)
    assert f"organisation={org}" in select_one(html, "div#comments-tail")["hx-get"]


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
        elif n % 5 == 0 and c.parent_id is None:
            services.resolve_comment(actor=people.secretariat, comment=c, response="Done.")
        elif n % 6 == 5 and c.author_id != people.other_member.id:
            services.report_comment(actor=people.other_member, comment=c, reason="Why")
    db.session.commit()


def _statements(client, url: str, headers=None) -> tuple[int, str]:
    responses = []
    count = statements_during(lambda: responses.append(client.get(url, headers=headers or {})))
    assert responses[0].status_code == 200
    return count, responses[0].get_data(as_text=True)


@pytest.mark.parametrize("role", ["member", "secretariat"])
def test_the_number_of_queries_does_not_grow_with_the_comments(client, people, role):
    counts = []
    for size in (10, 200):
        ask = factories.ask(factories.consultation(), versions=(V2,), author=people.secretariat)
        _seed(ask, people, size)
        login_as(client, getattr(people, role))
        page_queries, html = _statements(client, f"/asks/{ask.id}")
        assert len(comment_ids(html)) >= (8 if size == 10 else 40)
        more = css_select(html, "li#show-more a[hx-get]")
        more_queries = 0
        if more:
            more_queries, _ = _statements(client, more[0]["hx-get"], HTMX)
        changes_queries, _ = _statements(
            client, f"/asks/{ask.id}/comments/changes?after=0&upto=0", HTMX
        )
        counts.append((page_queries, changes_queries))
        if size == 200:
            assert more_queries and more_queries <= page_queries
    assert counts[0] == counts[1], counts
    # 12 for the page and its discussion, 1 counting the ask's amendments ("All amendments (N)"),
    # 1 recording the visit (one upsert: the dashboard's "new since your last visit"),
    # and for the secretariat 1 reading the ask's saved draft of its next version.
    assert counts[0][0] <= (15 if role == "secretariat" else 14), counts


def test_the_filters_are_collapsed_until_used_and_the_discussion_can_be_skipped_to(client, people):
    ask = factories.ask(factories.consultation(), versions=(V2,), author=people.secretariat)
    comment(people.member, ask, "First.")
    db.session.commit()
    login_as(client, people.member)
    html = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    assert css_select(html, "#skip-to-discussion")[0]["href"] == "#discussion"
    details = css_select(html, "details#comment-filters")[0]
    assert not details.has_attr("open")
    filtered = client.get(f"/asks/{ask.id}?unresolved=1").get_data(as_text=True)
    assert css_select(filtered, "details#comment-filters")[0].has_attr("open")
