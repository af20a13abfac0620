"""The dashboard's figures for each ask: its comments and unresolved comments as the reader
may read them, and what is new since the reader last opened the ask's page (the visits of
consult/asks/visits.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from consult.asks import services as ask_services
from consult.asks import visits
from consult.comments import services as comment_services
from consult.extensions import db
from consult.models import Ask, AskState, AskVisit, Comment, User
from tests import factories
from tests.helpers import (
    HTMX,
    V1,
    audit_count,
    comment,
    count,
    login_as,
    sql_during,
    statements_during,
)
from tests.html import select_one, text_of, texts

# Visits are written with INSERT … ON CONFLICT: also runs with --backend=postgres.
pytestmark = pytest.mark.database


def figures(client, ask: Ask) -> dict[str, str]:
    """The ask's figures on the dashboard, by column: comments, unresolved, news."""
    response = client.get("/")
    assert response.status_code == 200
    row = select_one(response, f"#ask-{ask.id}")
    return {str(td["data-figure"]): text_of(td) for td in row.select("td[data-figure]")}


def news(client, ask: Ask) -> str:
    return figures(client, ask)["news"]


def visit(client, ask: Ask) -> None:
    """Open the ask's page, as a browser would."""
    assert client.get(f"/asks/{ask.id}").status_code == 200


def hide(item: Comment, by: User) -> None:
    comment_services.hide_comment(actor=by, comment=item, reason="Off topic.")


def publish(ask: Ask, by: User, body: str = V1) -> None:
    ask_services.publish_version(actor=by, ask=ask, body=body, change_note="Changed.")
    db.session.commit()


def the_visit(user: User, ask: Ask) -> AskVisit:
    db.session.expire_all()
    [found] = db.session.scalars(
        select(AskVisit).where(AskVisit.user_id == user.id, AskVisit.ask_id == ask.id)
    ).all()
    return found


# What each reader counts ------------------------------------------------------------------


@pytest.fixture
def discussion(people, ask) -> None:
    """On the ask: an open thread by the other member with the secretariat's reply, the
    member's comment resolved, one withdrawn, and a hidden comment by each member."""
    thread = comment(people.other_member, ask, "Open.")
    comment(people.secretariat, ask, "A reply.", parent=thread)
    resolved = comment(people.member, ask, "Resolved.")
    comment_services.resolve_comment(actor=people.secretariat, comment=resolved, response="Done.")
    withdrawn = comment(people.other_member, ask, "Withdrawn.")
    comment_services.withdraw_comment(actor=people.other_member, comment=withdrawn)
    for author in (people.member, people.other_member):
        hide(comment(author, ask, "Hidden."), people.secretariat)
    db.session.commit()


@pytest.mark.parametrize(
    ("role", "comments"),
    [
        # the three visible ones; a member also reads their own hidden comment, the
        # secretariat every hidden one; a withdrawn comment is nobody's to read
        ("observer", "3"),
        ("member", "4"),
        ("other_member", "4"),
        ("secretariat", "5"),
    ],
)
def test_each_reader_counts_the_comments_they_may_read(
    client, people, ask, discussion, role, comments
):
    login_as(client, people.get(role))
    # Unresolved: visible top-level comments without a response (the open thread only).
    assert figures(client, ask) == {"comments": comments, "unresolved": "1", "news": "Not read yet"}


def test_the_columns_are_headed_and_the_figures_numeric(client, people, ask, discussion):
    login_as(client, people.member)
    html = client.get("/").get_data(as_text=True)
    assert texts(html, f"#consultation-{ask.consultation_id} thead th") == [
        "Ask",
        "State",
        "Version",
        "Comments",
        "Unresolved",
        "New since your last visit",
    ]
    for figure in ("comments", "unresolved"):
        cell = select_one(html, f"#ask-{ask.id} td[data-figure={figure}]")
        assert "govuk-table__cell--numeric" in cell["class"]


def test_an_ask_without_comments_counts_none(client, people, ask):
    login_as(client, people.observer)
    assert figures(client, ask) == {"comments": "0", "unresolved": "0", "news": "Not read yet"}


# New since the last visit -----------------------------------------------------------------


def test_what_is_new_since_the_last_visit(client, people, delegates, ask):
    login_as(client, people.member)
    assert news(client, ask) == "Not read yet"
    visit(client, ask)
    assert news(client, ask) == "Nothing new"

    comment(people.other_member, ask, "Someone else's.")
    db.session.commit()
    assert news(client, ask) == "1 new comment"

    comment(people.member, ask, "My own: not new to me.")
    comment(delegates.home, ask, "A colleague's: new to me.")
    db.session.commit()
    assert figures(client, ask) == {"comments": "3", "unresolved": "3", "news": "2 new comments"}

    publish(ask, people.secretariat)
    html = client.get("/").get_data(as_text=True)
    assert texts(html, f"#ask-{ask.id} td[data-figure=news] strong") == [
        "New version (v3)",
        "2 new comments",
    ]

    visit(client, ask)
    assert news(client, ask) == "Nothing new"
    # Someone else's visit changes nothing for the member, and the member's nothing for them.
    login_as(client, people.other_member)
    assert news(client, ask) == "Not read yet"


def test_a_new_version_alone(client, people, ask):
    login_as(client, people.observer)
    visit(client, ask)
    publish(ask, people.secretariat)
    assert news(client, ask) == "New version (v3)"
    publish(ask, people.secretariat, body="Wording of the fourth version.")
    assert news(client, ask) == "New version (v4)"  # the latest, however many since
    visit(client, ask)
    assert news(client, ask) == "Nothing new"


def test_the_first_version_is_new_to_the_secretariat_who_opened_the_ask_before_it(client, people):
    consultation = factories.consultation("Spring round")
    ask = factories.ask(consultation, title="Not drafted yet", versions=())
    db.session.commit()
    login_as(client, people.secretariat)
    assert figures(client, ask) == {"comments": "0", "unresolved": "0", "news": "Not read yet"}
    visit(client, ask)
    assert the_visit(people.secretariat, ask).version_number == 0
    assert news(client, ask) == "Nothing new"
    publish(ask, people.secretariat)
    assert news(client, ask) == "New version (v1)"


def test_new_comments_are_only_those_the_reader_may_read(client, people, ask):
    for reader in (people.member, people.secretariat):
        login_as(client, reader)
        visit(client, ask)
    comment(people.other_member, ask, "Visible.")
    hide(comment(people.other_member, ask, "Hidden."), people.secretariat)
    withdrawn = comment(people.other_member, ask, "Withdrawn.")
    comment_services.withdraw_comment(actor=people.other_member, comment=withdrawn)
    db.session.commit()
    login_as(client, people.member)
    assert news(client, ask) == "1 new comment"
    login_as(client, people.secretariat)
    assert news(client, ask) == "2 new comments"


def test_a_comment_made_on_an_earlier_visit_is_not_new(client, people, ask):
    """What counts is the newest comment the page was made with, not the time."""
    old = comment(people.other_member, ask, "Made before the visit.")
    db.session.commit()
    login_as(client, people.member)
    visit(client, ask)
    assert the_visit(people.member, ask).last_comment_id == old.id
    comment(people.other_member, old.ask, "A reply, after it.", parent=old)
    db.session.commit()
    assert news(client, ask) == "1 new comment"


# Recording visits ---------------------------------------------------------------------------


def test_a_visit_is_one_upsert_and_the_next_replaces_it(client, people, ask):
    first = comment(people.other_member, ask, "First.")
    db.session.commit()
    login_as(client, people.member)
    audit_before = audit_count()
    statements = sql_during(lambda: visit(client, ask))
    writes = [s for s in statements if s.lstrip().split()[0].upper() in ("INSERT", "UPDATE")]
    assert len(writes) == 1, writes
    assert "ask_visit" in writes[0] and "ON CONFLICT" in writes[0].upper()
    earlier = the_visit(people.member, ask)
    assert (earlier.last_comment_id, earlier.version_number) == (first.id, 2)
    first_seen = earlier.visited_at

    second = comment(people.other_member, ask, "Second.")
    publish(ask, people.secretariat)
    visit(client, ask)
    later = the_visit(people.member, ask)  # the same row, replaced
    assert later.id == earlier.id and count(AskVisit) == 1
    assert (later.last_comment_id, later.version_number) == (second.id, 3)
    assert later.visited_at >= first_seen
    assert audit_count() == audit_before + 2  # the comment and the version; no visit


def test_reading_the_page_again_writes_nothing_until_the_visit_is_old(client, people, ask):
    first = comment(people.other_member, ask, "First.")
    db.session.commit()
    login_as(client, people.member)
    visit(client, ask)
    recorded = the_visit(people.member, ask).visited_at

    def writes() -> list[str]:
        statements = sql_during(lambda: visit(client, ask))
        return [s for s in statements if s.lstrip().split()[0].upper() in ("INSERT", "UPDATE")]

    assert writes() == []  # nothing new: the same visit
    assert the_visit(people.member, ask).visited_at == recorded

    # An hour on, the same page brings the visit's time up to date.
    db.session.execute(
        update(AskVisit).values(visited_at=recorded - visits.VISIT_REFRESH - timedelta(seconds=1))
    )
    db.session.commit()
    assert len(writes()) == 1
    assert the_visit(people.member, ask).visited_at > recorded - visits.VISIT_REFRESH

    # A new comment is a new visit at once.
    second = comment(people.other_member, ask, "Second.")
    db.session.commit()
    assert len(writes()) == 1
    assert the_visit(people.member, ask).last_comment_id == second.id != first.id


def test_record_visit_twice_makes_one_row(app, people, ask):
    for last in (0, 7):
        visits.record_visit(reader=people.member, ask=ask, version_number=2, last_comment_id=last)
    db.session.commit()
    assert count(AskVisit) == 1
    assert the_visit(people.member, ask).last_comment_id == 7


def test_fragments_of_the_ask_page_are_not_visits(client, people, ask):
    login_as(client, people.member)
    assert client.get(f"/asks/{ask.id}", headers=HTMX).status_code == 200
    assert client.get(f"/asks/{ask.id}/versions/1").status_code == 200
    assert count(AskVisit) == 0
    assert news(client, ask) == "Not read yet"


def test_a_refused_ask_page_records_no_visit(client, people):
    consultation = factories.consultation("Spring round")
    draft = factories.ask(consultation, title="Unpublished", versions=(), state=AskState.DRAFTING)
    db.session.commit()
    login_as(client, people.member)
    assert client.get(f"/asks/{draft.id}").status_code == 403
    assert count(AskVisit) == 0


# Cost ------------------------------------------------------------------------------------------


def test_the_dashboards_statements_do_not_grow_with_the_asks(client, people):
    login_as(client, people.member)

    def round_of(n: int) -> list[Ask]:
        consultation = factories.consultation(f"Round of {n}")
        asks = [factories.ask(consultation, versions=(V1,)) for _ in range(n)]
        for item in asks:
            thread = comment(people.other_member, item, "A thread.")
            comment(people.secretariat, item, "A reply.", parent=thread)
        db.session.commit()
        return asks

    def dashboard() -> None:
        assert client.get("/").status_code == 200

    small = round_of(1)
    visit(client, small[0])
    client.get("/")  # warm up: the first connection, caches
    few = statements_during(dashboard)

    for item in round_of(12)[:6]:  # half of them visited, half never opened
        visit(client, item)
    for item in small:
        comment(people.other_member, item, "New since.")
    db.session.commit()
    many = statements_during(dashboard)
    html = client.get("/").get_data(as_text=True)
    assert len(texts(html, "tr[id^=ask-]")) == 13
    assert set(texts(html, "td[data-figure=news]")) == {
        "Not read yet",
        "Nothing new",
        "1 new comment",
    }
    assert many == few
    # the session's person, the open consultations, their asks, the asks' versions, the
    # comment counts, the visits with what is new, the closed consultations
    assert few <= 7, few


def test_a_visit_that_cannot_be_recorded_does_not_fail_the_page(
    client, people, ask, monkeypatch, caplog
):
    from sqlalchemy.exc import OperationalError

    def busy(**_):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(visits, "record_visit", busy)
    page = login_as(client, people.member).get(f"/asks/{ask.id}")
    assert page.status_code == 200 and text_of(page, "h1").startswith(ask.title)
    assert db.session.scalar(select(AskVisit)) is None
    assert "Could not record" in caplog.text
