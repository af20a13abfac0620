"""The front page: the public landing page, and the dashboard of open consultations."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from consult.extensions import db
from consult.models import AskState, utcnow
from tests import factories
from tests.helpers import login_as
from tests.html import assert_no_active_html, dom_ids, row, select, texts


@contextmanager
def counted_statements():
    """The SQL statements this thread sends to the database inside the block."""
    statements: list[str] = []
    mine = threading.get_ident()

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == mine:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before_cursor_execute)


def test_the_landing_page_says_what_consult_is_and_offers_sign_in(client):
    html = client.get("/").get_data(as_text=True)
    assert "member organisations agree the wording of a joint manifesto" in html
    assert "govuk-button--start" in html
    assert select(html, 'a[href="/sign-in"]')
    assert "Nothing has been published yet." in html


def test_the_landing_page_lists_only_published_consultations(client):
    published = factories.consultation(
        title="Published manifesto", opens_in_days=-30, closes_in_days=-10, published_at=utcnow()
    )
    factories.consultation(title="Open round")
    factories.consultation(title="Closed round", opens_in_days=-30, closes_in_days=-1)
    factories.consultation(title="Upcoming round", opens_in_days=5)
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "Published manifesto" in html
    assert select(html, f'a[href="/manifestos/{published.id}"]')  # its public page
    for hidden in ("Open round", "Closed round", "Upcoming round"):
        assert hidden not in html
    assert "Nothing has been published yet." not in html


@pytest.mark.database
def test_the_landing_page_paginates_published_consultations(client):
    for n in range(23):
        factories.consultation(
            title=f"Published {n:02d}", opens_in_days=-30, closes_in_days=-10, published_at=utcnow()
        )
    db.session.commit()
    first = client.get("/").get_data(as_text=True)
    second = client.get("/?page=2").get_data(as_text=True)
    titles = {f"Published {n:02d}" for n in range(23)}
    on_first = {t for t in titles if t in first}
    on_second = {t for t in titles if t in second}
    assert len(on_first) == 20 and len(on_second) == 3
    assert on_first | on_second == titles
    assert "govuk-pagination" in first
    assert select(first, 'a[href="/?page=2"]')


@pytest.mark.parametrize("role", ["observer", "member", "other_member", "secretariat"])
def test_the_dashboard_shows_open_consultations_and_their_asks(client, people, role):
    consultation = factories.consultation(title="Spring round", closes_in_days=3.5)
    first = factories.ask(
        consultation,
        title="Retrofit every council building",
        theme="Energy",
        sort_order=1,
        versions=("One", "Two"),
    )
    second = factories.ask(
        consultation,
        title="Fund bus services",
        theme="Transport",
        sort_order=2,
        versions=(),
        state=AskState.IN_REVIEW,
    )
    login_as(client, people.get(role))
    html = client.get("/").get_data(as_text=True)
    section = row(html, f"consultation-{consultation.id}")
    assert select(
        html, f'#consultation-{consultation.id} a[href="/consultations/{consultation.id}"]'
    )
    assert "Spring round" in section
    assert "3 days left" in section
    assert "Closes " in section
    first_row = row(html, f"ask-{first.id}")
    assert select(html, f'#ask-{first.id} a[href="/asks/{first.id}"]')
    assert "Retrofit every council building" in first_row
    assert "Energy" in first_row and "v2" in first_row and "Drafting" in first_row
    if role == "secretariat":
        second_row = row(html, f"ask-{second.id}")
        assert "Fund bus services" in second_row
        assert "No draft yet" in second_row and "In review" in second_row
        assert "In_review" not in section
        assert section.index("Retrofit every council building") < section.index("Fund bus services")
    else:  # not published yet: not listed to members and observers
        assert "Fund bus services" not in section
    assert "There are no open consultations at the moment." not in html


def test_asks_are_listed_in_their_order(client, people):
    consultation = factories.consultation()
    later = factories.ask(consultation, title="Comes second", sort_order=20)
    earlier = factories.ask(consultation, title="Comes first", sort_order=10)
    login_as(client, people.member)
    html = client.get("/").get_data(as_text=True)
    assert dom_ids(html, "tr[id^=ask-]") == [f"ask-{earlier.id}", f"ask-{later.id}"]


@pytest.mark.parametrize("role", ["observer", "member", "other_member", "secretariat"])
def test_upcoming_consultations_are_shown_to_the_secretariat_only(client, people, role):
    upcoming = factories.consultation(title="Autumn round", opens_in_days=10, closes_in_days=40)
    factories.ask(upcoming, title="Secret draft ask")
    login_as(client, people.get(role))
    html = client.get("/").get_data(as_text=True)
    if role == "secretariat":
        item = row(html, f"consultation-{upcoming.id}")
        assert "Autumn round" in item and "Opens " in item
        assert "Upcoming consultations" in texts(html, "h2")
        assert dom_ids(html, "#upcoming-consultations li") == [f"consultation-{upcoming.id}"]
    else:
        assert "Autumn round" not in html
        assert "Upcoming consultations" not in html
        assert not select(html, "#upcoming-consultations")
    assert "Secret draft ask" not in html  # upcoming rounds are listed, not their asks
    assert "There are no open consultations at the moment." in html


def test_closed_and_published_consultations_are_listed_for_reading(client, people):
    closed = factories.consultation(title="Winter round", opens_in_days=-30, closes_in_days=-2)
    published = factories.consultation(
        title="Last year's round", opens_in_days=-300, closes_in_days=-200, published_at=utcnow()
    )
    open_ = factories.consultation(title="Spring round")
    login_as(client, people.member)
    html = client.get("/").get_data(as_text=True)
    assert "Closed consultations" in texts(html, "h2")
    assert dom_ids(html, "#closed-consultations li") == [
        f"consultation-{closed.id}",
        f"consultation-{published.id}",
    ]
    assert "Winter round" in row(html, f"consultation-{closed.id}")
    assert "Closed" in row(html, f"consultation-{closed.id}")
    assert "Published" in row(html, f"consultation-{published.id}")
    assert select(html, f"section#consultation-{open_.id}")


def test_the_dashboard_has_an_empty_state(client, people):
    login_as(client, people.member)
    html = client.get("/").get_data(as_text=True)
    assert "There are no open consultations at the moment." in html
    assert "Closed consultations" not in html


def test_html_in_titles_is_shown_escaped_on_the_dashboard(client, people):
    consultation = factories.consultation(title='<script>alert("c")</script>')
    factories.ask(consultation, title="<img src=x onerror=alert(1)>", theme="<b>bold</b>")
    login_as(client, people.member)
    html = client.get("/").get_data(as_text=True)
    assert_no_active_html(html)
    assert not select(html, "main b")
    section = row(html, f"consultation-{consultation.id}")
    assert '<script>alert("c")</script>' in section
    assert "<img src=x onerror=alert(1)>" in section


@pytest.mark.database
def test_the_dashboard_query_count_does_not_grow_with_the_asks(client, people):
    login_as(client, people.secretariat)
    author = people.secretariat
    small = factories.consultation(title="Small round")
    factories.ask(small, author=author)
    factories.consultation(title="Upcoming", opens_in_days=5)
    factories.consultation(title="Closed", opens_in_days=-10, closes_in_days=-1)
    db.session.commit()
    client.get("/")  # warm up: first connection, caches
    with counted_statements() as few:
        small_html = client.get("/").get_data(as_text=True)
    assert len(select(small_html, "tr.govuk-table__row[id^=ask-]")) == 1

    for n in range(3):
        bigger = factories.consultation(title=f"Bigger round {n}")
        for _ in range(8):
            factories.ask(bigger, author=author, versions=("One", "Two", "Three"))
    db.session.commit()
    with counted_statements() as many:
        big_html = client.get("/").get_data(as_text=True)
    assert len(select(big_html, "tr.govuk-table__row[id^=ask-]")) == 25
    assert "v3" in big_html
    assert len(many) == len(few), (few, many)
    # session user, open + asks + versions, comment counts, visits, upcoming, ended
    assert len(few) <= 8, few
