"""The audit log page: newest first, filters, pagination, escaping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consult.extensions import db
from consult.models import AuditEvent, Role, utcnow
from tests import factories
from tests.helpers import login_as
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
    """Each event's row (rows hold a nested table of changes, whose rows have no id)."""
    return select(page, "main tr[id^=audit-event-]")


def actions(page: str) -> list[str]:
    """The action of each event row, newest first."""
    return [text_of(row, "code") for row in rows(page)]


def test_empty_audit_log(client, cast):
    page = login_as(client, cast.secretariat).get("/admin/audit").get_data(as_text=True)
    assert "Nothing has been recorded yet." in page


def test_each_row_says_when_who_what_where_and_what_changed(client, cast):
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
    newest, older = text_of(newest_row), text_of(older_row)
    assert "user.request_password_reset" in newest and "System" in newest
    link = select_one(newest_row, f'a[href="/admin/people/{cast.member.id}"]')
    assert text_of(link) == f"user_account {cast.member.id}"
    assert "1 July 2026 at 2:05pm" in older  # UK summer time
    assert "Mina Member" in older and "Green Councils Network" in older
    assert "organisation.update" in older
    link = select_one(older_row, f'a[href="/admin/organisations/{cast.member_org.id}"]')
    assert text_of(link) == f"organisation {cast.member_org.id}"
    assert "203.0.113.9" in older
    assert "Before and after" in older
    for value in ("Old name", "New name", "https://new.example", "(none)"):
        assert value in older


def test_requests_record_where_they_came_from(client, cast):
    login_as(client, cast.secretariat).post(f"/admin/organisations/{cast.other_org.id}/deactivate")
    page = client.get("/admin/audit").get_data(as_text=True)
    [row] = [text_of(element) for element in rows(page)]
    assert "organisation.deactivate" in row and "127.0.0.1" in row
    assert "Sam Secretary" in row and "Coalition secretariat" in row


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
        ("actor=a%00b", "Email must not include control characters"),
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


def test_pagination_keeps_the_filters(client, cast):
    start = utcnow() - timedelta(days=1)
    for n in range(120):
        add_event("bulk.event", object_id=n, created_at=start + timedelta(seconds=n))
    add_event("other.event")
    login_as(client, cast.secretariat)
    first = client.get("/admin/audit?action=bulk.event").get_data(as_text=True)
    assert len(rows(first)) == 50
    assert "Showing 1 to 50 of 120 events" in first
    assert texts(rows(first)[0], 'a[href^="/admin/organisations/"]') == ["organisation 119"]
    assert select(first, 'a[href="/admin/audit?action=bulk.event&page=2"]')
    assert select(first, 'a[href="/admin/audit?action=bulk.event&page=3"]')
    third = client.get("/admin/audit?action=bulk.event&page=3").get_data(as_text=True)
    assert len(rows(third)) == 20
    assert texts(rows(third)[-1], 'a[href^="/admin/organisations/"]') == ["organisation 0"]
    assert "other.event" not in actions(third)
    assert select(third, 'a[href="/admin/audit?action=bulk.event&page=2"]')
    assert client.get("/admin/audit?action=bulk.event&page=4").status_code == 404


def test_pagination_keeps_a_three_part_date(client, cast):
    for n in range(60):
        add_event("bulk.event", created_at=datetime(2026, 3, 2, 12, 0, n % 60, tzinfo=UTC))
    page = (
        login_as(client, cast.secretariat)
        .get("/admin/audit?date_from=2&date_from=3&date_from=2026")
        .get_data(as_text=True)
    )
    assert len(rows(page)) == 50
    assert select(page, 'a[href="/admin/audit?date_from=2&date_from=3&date_from=2026&page=2"]')


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


def test_other_secretariat_members_are_shown_with_their_organisation(client, cast):
    colleague = factories.user(Role.SECRETARIAT, cast.member_org, name="Col League")
    add_event("organisation.create", actor=colleague)
    page = login_as(client, cast.secretariat).get("/admin/audit").get_data(as_text=True)
    [row] = [text_of(element) for element in rows(page)]
    assert "Col League" in row and "Green Councils Network" in row
