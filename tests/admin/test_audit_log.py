"""The audit log page: each event as a sentence with its time and technical details, newest
first; filters (sign-ins can be hidden), pagination, escaping, and a bounded number of
queries however many events a page shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consult.extensions import db
from consult.models import AuditEvent, Role, utcnow
from tests import factories
from tests.helpers import login_as, statements_for_page
from tests.html import Element, assert_no_active_html, select, select_one, text_of, texts

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def add_event(
    action="organisation.update",
    actor=None,
    object_type="organisation",
    object_id=1,
    before=None,
    after=None,
    created_at=None,
    ip_address=None,
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        created_at=created_at or utcnow(),
        ip_address=ip_address,
    )
    db.session.add(event)
    db.session.flush()
    return event


def rows(page: str) -> list[Element]:
    """Each event's item in the list of events."""
    return select(page, "main li[id^=audit-event-]")


def actions(page: str) -> list[str]:
    """The action code of each event, newest first (from its technical details)."""
    return [text_of(row, ".app-event__action") for row in rows(page)]


def sentences(page: str) -> list[str]:
    """The sentence of each event, newest first."""
    return [text_of(row, ".app-event__sentence") for row in rows(page)]


def test_empty_audit_log(client, cast):
    page = login_as(client, cast.secretariat).get("/admin/audit").get_data(as_text=True)
    assert "Nothing has been recorded yet." in page


def test_each_event_reads_as_a_sentence_with_its_time_and_technical_details(client, cast):
    add_event(
        "organisation.update",
        actor=cast.member,
        object_id=cast.member_org.id,
        before={"name": "Old name", "website": None},
        after={"name": "New name", "website": "https://new.example"},
        created_at=datetime(2026, 7, 1, 13, 5, tzinfo=UTC),
        ip_address="203.0.113.9",
    )
    add_event(
        "user.request_password_reset",
        actor=None,
        object_type="user_account",
        object_id=cast.member.id,
        created_at=datetime(2026, 7, 2, 9, 0, tzinfo=UTC),
    )
    page = login_as(client, cast.secretariat).get("/admin/audit").get_data(as_text=True)
    newest_row, older_row = rows(page)
    assert sentences(page) == [
        "Someone asked for a password reset link for Mina Member",
        "Mina Member changed the details of Green Councils Network: name from “Old name” to "
        "“New name” and website from none to “https://new.example”",
    ]
    # The time, in UK summer time, readable by machines too.
    when = select_one(older_row, ".app-event__when time")
    assert text_of(when) == "1 July 2026 at 2:05pm"
    assert when["datetime"] == "2026-07-01T13:05:00Z"
    # The technical details, folded away under the sentence.
    details = select_one(older_row, "details")
    assert text_of(details, "summary") == "Technical details"
    assert text_of(details, ".app-event__action") == "organisation.update"
    link = select_one(details, f'a[href="/admin/organisations/{cast.member_org.id}"]')
    assert text_of(link) == f"organisation {cast.member_org.id}"
    assert text_of(details, ".app-event__actor") == "Mina Member, Green Councils Network"
    assert select_one(details, f'.app-event__actor a[href="/admin/people/{cast.member.id}"]')
    assert text_of(details, ".app-event__address") == "203.0.113.9"
    values = select_one(details, ".app-table-scroll[role=region][tabindex='0'] table")
    assert text_of(values, "caption") == "Before and after"
    assert texts(values, "tbody tr") == [
        "name Old name New name",
        "website (none) https://new.example",
    ]
    details = select_one(newest_row, "details")
    assert text_of(details, ".app-event__action") == "user.request_password_reset"
    assert text_of(details, ".app-event__actor") == "No one signed in"
    assert text_of(details, ".app-event__address") == "Not recorded"
    link = select_one(details, f'a[href="/admin/people/{cast.member.id}"]')
    assert text_of(link) == f"user_account {cast.member.id}"
    assert "No values were recorded before or after." in text_of(details)


def test_requests_record_where_they_came_from(client, cast):
    login_as(client, cast.secretariat).post(f"/admin/organisations/{cast.other_org.id}/deactivate")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert sentences(page) == ["Sam Secretary deactivated Climate Research Institute"]
    [row] = [text_of(element) for element in rows(page)]
    assert "organisation.deactivate" in row and "127.0.0.1" in row
    assert "Sam Secretary, Coalition secretariat" in row


def test_newest_first(client, cast):
    now = utcnow()
    add_event("first.event", created_at=now - timedelta(hours=2))
    add_event("third.event", created_at=now)
    add_event("second.event", created_at=now - timedelta(hours=1))
    page = login_as(client, cast.secretariat).get("/admin/audit").get_data(as_text=True)
    assert actions(page) == [
        "third.event",
        "second.event",
        "first.event",
    ]


@pytest.fixture
def history(cast):
    """A small history: different actions, objects, actors and days (UK time)."""
    add_event(
        "organisation.create",
        actor=cast.secretariat,
        object_id=cast.other_org.id,
        created_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
    )
    add_event(
        "user.invite",
        actor=cast.secretariat,
        object_type="user_account",
        object_id=cast.member.id,
        created_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
    )
    add_event(
        "user.sign_in",
        actor=cast.member,
        object_type="user_account",
        object_id=cast.member.id,
        created_at=datetime(2026, 3, 3, 10, 0, tzinfo=UTC),
    )
    # 23:30 UTC on 30 June is 00:30 on 1 July in the UK.
    add_event(
        "user.sign_in",
        actor=cast.other_member,
        object_type="user_account",
        object_id=cast.other_member.id,
        created_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
    )
    db.session.commit()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("action=user.sign_in", 2),
        ("object_type=organisation", 1),
        ("object_type=user_account&action=user.invite", 1),
        ("actor=councils", 1),
        ("actor=COUNCILS.example", 1),
        ("actor=example", 4),
        ("actor=%25", 0),  # a literal % matches nothing, it is not a wildcard
        ("date_from=2026-03-02", 3),
        ("date_to=2026-03-02", 2),
        ("date_from=2026-03-02&date_to=2026-03-02", 1),
        ("date_from=2&date_from=3&date_from=2026&date_to=3&date_to=3&date_to=2026", 2),
        ("date_from=2026-07-01", 1),  # the UK day, not the UTC day
        ("date_to=2026-06-30", 3),
        ("date_from=2026-12-01", 0),
    ],
)
def test_filters(client, cast, history, query, expected):
    response = login_as(client, cast.secretariat).get(f"/admin/audit?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert len(rows(page)) == expected
    if expected == 0:
        assert "No events match these filters." in page


def test_action_filter_offers_the_actions_that_exist(client, cast, history):
    page = login_as(client, cast.secretariat).get("/admin/audit").get_data(as_text=True)
    offered = [option["value"] for option in select(page, 'select[name="action"] option')]
    assert "user.sign_in" in offered and "user.invite" in offered
    assert "organisation.deactivate" not in offered


@pytest.mark.parametrize(
    "query, message",
    [
        ("action=made.up", "Select an action from the list"),
        ("object_type=<script>alert(1)</script>", "Select an object type from the list"),
        ("actor=" + "a" * 255, "Email must be 254 characters or fewer"),
        ("actor=a%01b", "Email must not include control characters"),
        ("date_from=2026-02-30", "Date from must be a real date"),
        ("date_from=yesterday", "Date from must be a real date"),
        ("date_to=31/12/2026", "Date to must be a real date"),
        ("date_from=30&date_from=2&date_from=2026", "Date from must be a real date"),
        ("date_from=1&date_from=2&date_from=26", "The year of date from must include 4 numbers"),
        ("date_from=&date_from=2&date_from=2026", "Date from must include a day"),
        ("date_to=1&date_to=&date_to=", "Date to must include a month and year"),
        ("date_from=1&date_from=2", "Date from must be a real date"),
        (
            "date_from=2026-03-05&date_to=2026-03-01",
            "Date to must be the same as or after date from",
        ),
    ],
)
def test_bad_filters_are_explained(client, cast, history, query, message):
    response = login_as(client, cast.secretariat).get(f"/admin/audit?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page and message in page
    assert_no_active_html(page)
    assert rows(page) == []


@pytest.mark.parametrize(
    "query, boxes",
    [
        ("date_from=30&date_from=2&date_from=2026", ("30", "2", "2026")),  # refused, as typed
        ("date_from=1&date_from=July&date_from=26", ("1", "July", "26")),
        ("date_from=2026-02-30", ("30", "02", "2026")),  # a refused ISO date, in the boxes
        ("date_from=2026-03-02", ("02", "03", "2026")),  # an accepted one, from a link
    ],
)
def test_the_date_boxes_show_what_was_asked_for(client, cast, history, query, boxes):
    page = login_as(client, cast.secretariat).get(f"/admin/audit?{query}").get_data(as_text=True)
    for part, value in zip(("day", "month", "year"), boxes, strict=True):
        assert select_one(page, f'input#date_from-{part}[name="date_from"]')["value"] == value


def test_an_unreadable_date_leaves_the_boxes_empty(client, cast, history):
    page = (
        login_as(client, cast.secretariat)
        .get("/admin/audit?date_from=yesterday")
        .get_data(as_text=True)
    )
    assert not select(page, '[value="yesterday"]')
    assert not select_one(page, "input#date_from-day").has_attr("value")


def older_href(page: str) -> str | None:
    """The link to the next page of older events, if there is one."""
    links = select(page, "nav.govuk-pagination .govuk-pagination__next a[href]")
    return links[0]["href"] if links else None


def newer_href(page: str) -> str | None:
    """The link to the page of newer events, if there is one."""
    links = select(page, "nav.govuk-pagination .govuk-pagination__prev a[href]")
    return links[0]["href"] if links else None


def count_shown(page: str) -> str:
    return text_of(select_one(page, ".app-events-count"))


def test_pages_go_on_from_an_event_keeping_the_filters(client, cast):
    start = utcnow() - timedelta(days=1)
    bulk = [
        add_event("bulk.event", object_id=n, created_at=start + timedelta(seconds=n))
        for n in range(120)
    ]
    add_event("other.event")
    login_as(client, cast.secretariat)
    first = client.get("/admin/audit?action=bulk.event").get_data(as_text=True)
    assert len(rows(first)) == 50
    assert count_shown(first) == "120 events"
    assert texts(rows(first)[0], 'a[href^="/admin/organisations/"]') == ["organisation 119"]
    assert newer_href(first) is None
    assert text_of(select_one(first, "nav.govuk-pagination")) == "Older events"
    # Older: from the last event shown, keeping the filter.
    assert older_href(first) == f"/admin/audit?action=bulk.event&before={bulk[70].id}"
    second = client.get(older_href(first)).get_data(as_text=True)
    assert len(rows(second)) == 50 and count_shown(second) == "120 events"
    assert texts(rows(second)[0], 'a[href^="/admin/organisations/"]') == ["organisation 69"]
    assert newer_href(second) == f"/admin/audit?action=bulk.event&after={bulk[69].id}"
    third = client.get(older_href(second)).get_data(as_text=True)
    assert len(rows(third)) == 20
    assert texts(rows(third)[-1], 'a[href^="/admin/organisations/"]') == ["organisation 0"]
    assert "other.event" not in actions(third)
    assert older_href(third) is None
    # Newer again, from the first event shown: the same events as the second page.
    assert newer_href(third) == f"/admin/audit?action=bulk.event&after={bulk[19].id}"
    back = client.get(newer_href(third)).get_data(as_text=True)
    assert actions(back) == actions(second)
    assert [text_of(row, "details a") for row in rows(back)] == [
        text_of(row, "details a") for row in rows(second)
    ]
    assert newer_href(back) == f"/admin/audit?action=bulk.event&after={bulk[69].id}"
    assert older_href(back) == older_href(second)
    # From the newest or oldest event there is nothing further: no such page.
    assert client.get(f"/admin/audit?action=bulk.event&before={bulk[0].id}").status_code == 404
    assert client.get(f"/admin/audit?after={bulk[-1].id + 1}").status_code == 404


def test_events_at_the_same_moment_are_each_shown_once(client, cast):
    moment = utcnow() - timedelta(hours=1)
    made = [add_event("bulk.event", object_id=n, created_at=moment) for n in range(75)]
    login_as(client, cast.secretariat)
    first = client.get("/admin/audit").get_data(as_text=True)
    second = client.get(older_href(first)).get_data(as_text=True)
    shown = [row["id"] for row in rows(first) + rows(second)]
    assert shown == [f"audit-event-{event.id}" for event in reversed(made)]
    assert older_href(second) is None


def test_a_long_log_is_counted_up_to_a_cap(client, cast, monkeypatch):
    from consult import pagination

    monkeypatch.setattr(pagination, "COUNT_CAP", 60)
    start = utcnow() - timedelta(days=1)
    for n in range(61):
        add_event("bulk.event", created_at=start + timedelta(seconds=n))
    login_as(client, cast.secretariat)
    assert count_shown(client.get("/admin/audit").get_data(as_text=True)) == "More than 60 events"
    assert count_shown(client.get("/admin/audit?hide_sign_ins=y").get_data(as_text=True)) == (
        "More than 60 events"
    )
    add_event("other.event")
    db.session.commit()
    assert count_shown(client.get("/admin/audit?action=other.event").get_data(as_text=True)) == (
        "1 event"
    )


def test_pages_keep_a_three_part_date(client, cast):
    for n in range(60):
        add_event("bulk.event", created_at=datetime(2026, 3, 2, 12, 0, n % 60, tzinfo=UTC))
    page = (
        login_as(client, cast.secretariat)
        .get("/admin/audit?date_from=2&date_from=3&date_from=2026")
        .get_data(as_text=True)
    )
    assert len(rows(page)) == 50
    assert older_href(page).startswith(
        "/admin/audit?date_from=2&date_from=3&date_from=2026&before="
    )


def test_audit_values_are_escaped(client, cast):
    add_event(
        "organisation.update",
        actor=cast.member,
        before={"name": "<script>alert(1)</script>"},
        after={"name": "<img src=x onerror=alert(2)>", "tags": ["<b>x</b>"]},
    )
    page = login_as(client, cast.secretariat).get("/admin/audit").get_data(as_text=True)
    assert_no_active_html(page)
    assert not select(page, "main b")
    [row] = rows(page)
    for value in ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<b>x</b>"):
        assert value in text_of(row)  # shown as text


def test_the_person_page_lists_events_about_and_by_them(client, cast):
    add_event(
        "user.sign_in", actor=cast.member, object_type="user_account", object_id=cast.member.id
    )
    add_event("comment.add", actor=cast.member, object_type="comment", object_id=7)
    add_event(
        "user.sign_in", actor=cast.observer, object_type="user_account", object_id=cast.observer.id
    )
    add_event(
        "user.change_role",
        actor=cast.secretariat,
        object_type="user_account",
        object_id=cast.member.id,
    )
    page = (
        login_as(client, cast.secretariat)
        .get(f"/admin/people/{cast.member.id}")
        .get_data(as_text=True)
    )
    shown = actions(page)
    assert sorted(shown) == ["comment.add", "user.change_role", "user.sign_in"]
    assert sorted(sentences(page)) == [
        "Mina Member did something recorded as “comment.add” to a comment that no longer exists",
        "Mina Member signed in",
        "Sam Secretary changed Mina Member’s role",
    ]


def test_other_secretariat_members_are_shown_with_their_organisation(client, cast):
    colleague = factories.user(Role.SECRETARIAT, cast.member_org, name="Col League")
    add_event("organisation.create", actor=colleague)
    page = login_as(client, cast.secretariat).get("/admin/audit").get_data(as_text=True)
    [row] = [text_of(element) for element in rows(page)]
    assert "Col League, Green Councils Network" in row


def test_sign_ins_and_sign_outs_can_be_hidden(client, cast, history):
    add_event(
        "user.sign_out",
        actor=cast.member,
        object_type="user_account",
        object_id=cast.member.id,
        created_at=datetime(2026, 3, 4, 10, 0, tzinfo=UTC),
    )
    login_as(client, cast.secretariat)
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert sorted(actions(everything)) == [
        "organisation.create",
        "user.invite",
        "user.sign_in",
        "user.sign_in",
        "user.sign_out",
    ]
    assert not select_one(everything, "input#hide_sign_ins").has_attr("checked")

    hidden = client.get("/admin/audit?hide_sign_ins=y").get_data(as_text=True)
    assert actions(hidden) == ["user.invite", "organisation.create"]
    assert sentences(hidden) == [
        "Sam Secretary invited Mina Member (Green Councils Network)",
        "Sam Secretary added the organisation Climate Research Institute",
    ]
    assert select_one(hidden, "input#hide_sign_ins").has_attr("checked")
    # With the other filters: only sign-ins asked for, and hidden, leaves nothing.
    none = client.get("/admin/audit?action=user.sign_in&hide_sign_ins=y").get_data(as_text=True)
    assert rows(none) == [] and "No events match these filters." in none


def test_pages_keep_sign_ins_hidden(client, cast):
    start = utcnow() - timedelta(days=1)
    for n in range(60):
        add_event("bulk.event", object_id=n, created_at=start + timedelta(seconds=2 * n))
        add_event(
            "user.sign_in",
            actor=cast.member,
            object_type="user_account",
            object_id=cast.member.id,
            created_at=start + timedelta(seconds=2 * n + 1),
        )
    login_as(client, cast.secretariat)
    first = client.get("/admin/audit?hide_sign_ins=y").get_data(as_text=True)
    assert count_shown(first) == "60 events"
    assert set(actions(first)) == {"bulk.event"}
    assert older_href(first).startswith("/admin/audit?hide_sign_ins=y&before=")
    second = client.get(older_href(first)).get_data(as_text=True)
    assert len(rows(second)) == 10 and set(actions(second)) == {"bulk.event"}
    assert select_one(second, "input#hide_sign_ins").has_attr("checked")
    assert newer_href(second).startswith("/admin/audit?hide_sign_ins=y&after=")
    # Without it, the sign-ins are there.
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert count_shown(everything) == "120 events"


def test_names_in_sentences_are_escaped(client, cast):
    org = factories.organisation("<script>alert(1)</script> Trust")
    ask = factories.ask(title="<img src=x onerror=alert(2)> ask")
    add_event("organisation.create", actor=cast.secretariat, object_id=org.id)
    add_event("draft.save", actor=cast.secretariat, object_type="ask", object_id=ask.id)
    page = login_as(client, cast.secretariat).get("/admin/audit").get_data(as_text=True)
    assert_no_active_html(page)
    assert sentences(page) == [
        "Sam Secretary saved a draft of the next version of <img src=x onerror=alert(2)> ask",
        "Sam Secretary added the organisation <script>alert(1)</script> Trust",
    ]


def events_of_every_kind(cast, ask) -> None:
    """One event on each kind of object the sentences name (some of them gone), by and about
    different people."""
    version = ask.current_version
    for actor, person in ((cast.member, cast.observer), (cast.other_member, cast.member)):
        add_event("organisation.update", actor=actor, object_id=actor.organisation_id)
        add_event("user.change_role", actor=actor, object_type="user_account", object_id=person.id)
        add_event(
            "consultation.participants",
            actor=actor,
            object_type="consultation",
            object_id=ask.consultation_id,
            before={"participants": [cast.member_org.id]},
            after={"participants": [cast.other_org.id]},
        )
        add_event(
            "ask.move",
            actor=actor,
            object_type="ask",
            object_id=ask.id,
            after={"direction": "up", "neighbour_id": ask.id},
        )
        add_event("version.publish", actor=actor, object_type="draft_version", object_id=version.id)
        for table in (
            "comment",
            "comment_report",
            "amendment",
            "position",
            "endorsement",
            "backer",
        ):
            add_event("x.y", actor=actor, object_type=table, object_id=999)
    db.session.commit()


def test_the_number_of_queries_does_not_grow_with_the_number_of_events(client, cast):
    ask = factories.ask(title="Declare a climate emergency")
    events_of_every_kind(cast, ask)
    login_as(client, cast.secretariat)
    pages = ("/admin/audit", f"/admin/people/{cast.member.id}")
    few = [statements_for_page(client, url) for url in pages]
    for _ in range(3):
        events_of_every_kind(cast, ask)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert len(rows(page)) == 50  # from 22
    assert "Mina Member changed Oli Observer’s role" in sentences(page)
    assert [statements_for_page(client, url) for url in pages] == few
