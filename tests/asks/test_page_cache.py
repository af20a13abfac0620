"""The ask page kept rendered between requests (consult/page_cache.py): served again only
while nothing it shows has changed, to the same person, with forms that still work; and the
database's revision, which every committed write replaces."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select, text, update

from consult import page_cache
from consult.extensions import db
from consult.models import Comment, DataRevision, Organisation, utcnow
from tests.helpers import anchors, comment, login_as, sql_during, without_csrf
from tests.html import select as css_select
from tests.html import text_of

pytestmark = pytest.mark.database


def page(client, ask) -> str:
    response = client.get(f"/asks/{ask.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_comment(client, ask, body: str, **fields) -> None:
    form = {"body": body, "submission_key": "0" * 32, "placement": "page", **fields}
    assert client.post(f"/asks/{ask.id}/comments", data=form).status_code == 303


def revision() -> str:
    db.session.rollback()
    return page_cache.revision()


# What counts as a write ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement, writes",
    [
        ("SELECT comment.id FROM comment WHERE comment.ask_id = ?", False),
        ("  select 1", False),
        ("INSERT INTO comment (body) VALUES (?)", True),
        ('INSERT INTO "user_account" (name) VALUES (%(name)s)', True),
        ("INSERT OR REPLACE INTO comment (id) VALUES (1)", True),
        ("UPDATE organisation SET name=? WHERE organisation.id = ?", True),
        ("DELETE FROM position WHERE position.id = ?", True),
        ("delete from comment", True),
        # Reading a page records the visit: no page shows it, so it is not a change.
        ("INSERT INTO ask_visit (user_id, ask_id) VALUES (?, ?) ON CONFLICT DO UPDATE", False),
        ("UPDATE data_revision SET token=?", False),
        ("WITH RECURSIVE page_roots AS (SELECT comment.id FROM comment) SELECT * FROM x", False),
        ("WITH gone AS (DELETE FROM comment RETURNING id) SELECT count(*) FROM gone", True),
        ("SAVEPOINT sa_savepoint_1", False),
        ("RELEASE SAVEPOINT sa_savepoint_1", False),
        ("PRAGMA foreign_keys=ON", False),
        ("CREATE TABLE x (id integer)", True),  # anything else: counted, to be safe
        ("COPY comment FROM STDIN", True),
    ],
)
def test_which_statements_are_writes(statement, writes):
    assert page_cache.writes(statement) is writes


def test_a_commit_that_writes_gives_a_new_revision(app, people):
    first = revision()
    people.member.name = "Mina Renamed"
    db.session.commit()
    second = revision()
    assert second not in ("", first)
    db.session.execute(
        text("UPDATE organisation SET name = 'Renamed by hand' WHERE id = :id"),
        {"id": people.member.organisation_id},
    )
    db.session.commit()
    assert revision() != second


def test_reading_rolling_back_and_recording_a_visit_keep_the_revision(app, people, ask):
    before = revision()
    db.session.scalars(select(Comment)).all()
    db.session.commit()
    assert revision() == before
    people.member.name = "Not saved"
    db.session.flush()
    db.session.rollback()
    assert revision() == before
    from consult.asks import visits

    assert visits.record_visit(reader=people.member, ask=ask, version_number=2, last_comment_id=0)
    db.session.commit()
    assert revision() == before


def test_a_savepoint_changes_the_revision_when_the_transaction_commits(app, people):
    before = revision()
    with db.session.begin_nested():
        people.member.name = "Inside a savepoint"
    # Released, not committed: the revision is replaced once, as the transaction commits.
    assert (db.session.scalar(select(DataRevision.token)) or "") == before
    db.session.commit()
    assert revision() != before


# The ask page ---------------------------------------------------------------------------------


def test_a_page_read_again_is_served_from_what_was_kept(client, people, ask):
    comment(people.other_member, ask, "Kept between requests.")
    login_as(client, people.member)
    first = page(client, ask)
    statements = sql_during(lambda: page(client, ask))
    # The revision is read first, before anything the page shows...
    assert "data_revision" in statements[0]
    # ...then only who may read the ask, and the visit: no comment is read.
    assert len(statements) <= 5, statements
    assert not any("FROM comment" in s for s in statements), statements
    again = page(client, ask)
    assert without_csrf(again) == without_csrf(first)
    assert "Kept between requests." in again
    assert page_cache.PLACEHOLDER not in again


def test_forms_on_a_kept_page_carry_the_readers_own_working_token(client, people, ask, app):
    app.config["WTF_CSRF_ENABLED"] = True
    login_as(client, people.member)
    page(client, ask)
    kept = page(client, ask)
    tokens = {field["value"] for field in css_select(kept, 'input[name="csrf_token"]')}
    assert len(tokens) == 1 and page_cache.PLACEHOLDER not in tokens
    (token,) = tokens
    assert f'"X-CSRFToken": "{token}"' in kept.replace("&#34;", '"')
    post_comment(client, ask, "Posted from a kept page.", csrf_token=token)
    assert "Posted from a kept page." in page(client, ask)


def test_another_persons_page_is_never_served(client, people, ask, app):
    login_as(client, people.member)
    assert "Mina Member" in text_of(page(client, ask), "#account")
    other = app.test_client()
    login_as(other, people.other_member)
    theirs = page(other, ask)
    assert "Otto Other" in text_of(theirs, "#account") and "Mina Member" not in theirs


@pytest.mark.parametrize(
    "change, shown",
    [
        (lambda p, a: comment(p.other_member, a, "A new comment from Otto."), "from Otto"),
        (
            lambda p, a: setattr(p.other_member.organisation, "name", "Renamed Organisation"),
            "Renamed Organisation",
        ),
        (lambda p, a: setattr(a, "title", "A retitled ask"), "A retitled ask"),
        (
            lambda p, a: db.session.execute(
                update(Organisation)
                .where(Organisation.id == p.other_member.organisation_id)
                .values(name="Renamed by Core")
            ),
            "Renamed by Core",
        ),
    ],
    ids=["comment", "organisation renamed", "ask retitled", "Core update"],
)
def test_any_change_is_shown_on_the_next_reading(client, people, ask, change, shown):
    comment(people.other_member, ask, "Otto's first comment.")
    login_as(client, people.member)
    page(client, ask)
    assert shown not in page(client, ask)  # kept
    change(people, ask)
    db.session.commit()
    assert shown in page(client, ask)


def test_a_comment_posted_through_the_page_is_shown_to_others_at_once(client, people, ask, app):
    other = login_as(app.test_client(), people.other_member)
    page(other, ask)
    page(other, ask)
    login_as(client, people.member)
    post_comment(client, ask, "Mina posted this.")
    assert "Mina posted this." in page(other, ask)


def test_a_consultation_that_closes_at_its_time_is_shown_closed_within_the_minute(
    client, people, ask
):
    closes = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=10)
    ask.consultation.closes_at = closes
    db.session.commit()
    login_as(client, people.member)
    with time_machine.travel(closes - timedelta(seconds=90), tick=False) as clock:
        before = page(client, ask)
        assert "Comment on paragraph" in before and page(client, ask) == before
        clock.move_to(closes + timedelta(seconds=1))
        after = page(client, ask)
    assert "Comment on paragraph" not in after
    assert "The consultation closed on" in after


def test_a_message_for_the_reader_is_shown_once_and_not_kept(client, people, ask):
    login_as(client, people.member)
    page(client, ask)
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "A message for Mina.")]
    assert "A message for Mina." in page(client, ask)
    assert "A message for Mina." not in page(client, ask)


def test_each_address_is_its_own_page(client, people, ask):
    first, second, *_ = anchors(ask)
    comment(people.other_member, ask, "On the first paragraph.", paragraph_anchor=first)
    login_as(client, people.member)
    page(client, ask)
    filtered = client.get(f"/asks/{ask.id}?paragraph={second}").get_data(as_text=True)
    assert "On the first paragraph." not in filtered
    assert "On the first paragraph." in page(client, ask)


def test_htmx_fragments_are_not_kept(client, people, ask):
    login_as(client, people.member)
    full = page(client, ask)
    fragment = client.get(f"/asks/{ask.id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" in full and "<html" not in fragment.get_data(as_text=True)
    assert "<html" in page(client, ask)


def test_with_no_pages_kept_every_reading_renders(client, people, ask, uncached_pages):
    comment(people.other_member, ask, "Read each time.")
    login_as(client, people.member)
    page(client, ask)
    statements = sql_during(lambda: page(client, ask))
    assert any("FROM comment" in s for s in statements), statements


def test_pages_kept_are_bounded(client, people, ask, app):
    app.config["PAGE_CACHE_SIZE"] = 2
    page_cache.register(app)
    login_as(client, people.member)
    for query in ("", *(f"?paragraph={anchor}" for anchor in anchors(ask))):
        assert client.get(f"/asks/{ask.id}{query}").status_code == 200
    assert len(app.extensions["consult_pages"].pages) == 2


def test_the_visit_is_recorded_from_a_kept_page_too(client, people, ask):
    from consult.models import AskVisit

    login_as(client, people.member)
    page(client, ask)
    db.session.execute(text("DELETE FROM ask_visit"))
    db.session.commit()
    newest = comment(people.other_member, ask, "Newest.").id
    db.session.commit()
    page(client, ask)  # rendered: a comment was written
    db.session.execute(text("DELETE FROM ask_visit"))
    db.session.commit()  # not a change to the page: the next reading is the kept one
    statements = sql_during(lambda: page(client, ask))
    assert not any("FROM comment" in s for s in statements), statements  # kept
    visit = db.session.scalars(select(AskVisit)).one()
    assert visit.last_comment_id == newest
