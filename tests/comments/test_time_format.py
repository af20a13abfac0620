"""<time datetime="..."> carries UTC to the whole second, as the HTML validator requires."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser

from consult.comments import services
from consult.extensions import db
from consult.filters import machine_datetime
from tests.helpers import signed_in_session

WHOLE_SECONDS_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
MADE = datetime(2026, 11, 29, 9, 57, 20, 123456, tzinfo=UTC)


def time_datetimes(html: str) -> list[str]:
    """The datetime attribute of every <time> element, in document order."""
    found: list[str] = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: (
        found.append(dict(attrs).get("datetime") or "") if tag == "time" else None
    )
    parser.feed(html)
    return found


def sign_in_as(client, user):
    db.session.commit()
    with client.session_transaction() as session:
        session.update(signed_in_session(user))
    return client


def assert_whole_seconds(html: str, expected: set[str]) -> None:
    stamps = time_datetimes(html)
    assert stamps, "the page shows no <time> element"
    assert [s for s in stamps if not WHOLE_SECONDS_UTC.fullmatch(s)] == []
    assert expected <= set(stamps)


def test_machine_datetime_drops_the_fraction_and_speaks_utc():
    assert machine_datetime(MADE) == "2026-11-29T09:57:20Z"
    summer = datetime(2026, 7, 1, 10, 0, 5, 999999, tzinfo=timezone(timedelta(hours=1)))
    assert machine_datetime(summer) == "2026-07-01T09:00:05Z"
    assert machine_datetime(datetime(2026, 1, 2, 3, 4, 5, 6)) == "2026-01-02T03:04:05Z"
    assert machine_datetime(None) == ""


def test_comment_times_on_the_ask_page_and_reply_form(client, people, ask):
    made, _ = services.add_comment(author=people.member, ask=ask, body="First words.")
    services.edit_comment(actor=people.member, comment=made, body="Better words.")
    made.created_at = MADE
    made.edited_at = MADE + timedelta(minutes=5, microseconds=1)
    db.session.commit()
    sign_in_as(client, people.other_member)

    page = client.get(f"/asks/{ask.id}")
    assert page.status_code == 200
    assert_whole_seconds(
        page.get_data(as_text=True), {"2026-11-29T09:57:20Z", "2026-11-29T10:02:20Z"}
    )

    form = client.get(f"/comments/{made.id}/replies/new")
    assert form.status_code == 200
    assert_whole_seconds(form.get_data(as_text=True), {"2026-11-29T09:57:20Z"})


def test_report_times_on_the_reports_page(client, people, ask):
    first, _ = services.add_comment(author=people.member, ask=ask, body="One.")
    second, _ = services.add_comment(author=people.member, ask=ask, body="Two.")
    open_report = services.report_comment(actor=people.other_member, comment=first, reason="Rude")
    handled = services.report_comment(actor=people.other_member, comment=second, reason="Off topic")
    services.handle_report(actor=people.secretariat, report=handled)
    open_report.created_at = MADE
    handled.handled_at = MADE + timedelta(hours=1, microseconds=5)
    db.session.commit()
    sign_in_as(client, people.secretariat)

    page = client.get("/comments/reports?show=all")
    assert page.status_code == 200
    assert_whole_seconds(
        page.get_data(as_text=True), {"2026-11-29T09:57:20Z", "2026-11-29T10:57:20Z"}
    )
