"""The demo: a new user sees positions, threads and a resolved comment at once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from consult.auth import services as accounts
from consult.demo import demo_data, load_demo
from consult.extensions import db
from consult.models import Ask, Comment, Position, Stance, utcnow
from consult.positions.services import REASON_MAX
from tests import html
from tests.helpers import audit_actions, audit_events, login_as

pytestmark = pytest.mark.database

# Every action the demo records: it is made through the same services as people's changes.
DEMO_ACTIONS = {
    "consultation.create",
    "position.set",
    "comment.create",
    "comment.reply",
    "comment.resolve",
    "demo.load",
}


@pytest.fixture
def demo(app):
    load_demo()
    db.session.commit()
    return list(db.session.scalars(select(Ask).order_by(Ask.sort_order)))


def _positions(version) -> list[Position]:
    return list(db.session.scalars(select(Position).where(Position.version_id == version.id)))


def test_most_asks_have_several_organisations_positions_and_someone_yet_to_respond(demo):
    taking_part = {p.organisation_id for p in demo[0].consultation.participants}
    with_positions = 0
    stances: Counter[Stance] = Counter()
    for ask in demo:
        positions = _positions(ask.current_version)
        stances.update(p.stance for p in positions)
        organisations = {p.organisation_id for p in positions}
        assert organisations <= taking_part, ask.title
        if len(organisations) >= 3:
            with_positions += 1
            assert organisations < taking_part, f"everyone has responded on {ask.title}"
        for position in positions:
            assert position.set_by.is_delegate
            assert position.set_by.organisation_id == position.organisation_id
            if position.stance.needs_reason:
                assert 0 < len(position.reason) <= REASON_MAX
    assert with_positions > len(demo) / 2
    assert stances[Stance.OBJECT] >= 1
    assert stances[Stance.SUPPORT_WITH_CHANGES] >= 1
    assert stances[Stance.ABSTAIN] >= 1


def test_asks_at_v2_have_positions_on_v1_some_not_yet_reconfirmed(demo, client):
    revised = [ask for ask in demo if len(ask.versions) > 1]
    assert len(revised) == 2
    for ask in revised:
        earlier = {p.organisation_id for p in _positions(ask.versions[0])}
        current = {p.organisation_id for p in _positions(ask.current_version)}
        assert earlier and earlier - current, ask.title
    # Amira Khan's organisation took a position on v1 of the first ask, not yet on v2.
    amira = accounts.user_by_email("amira.khan@eastmere.example")
    page = login_as(client, amira).get(f"/asks/{revised[0].id}")
    assert page.status_code == 200
    assert html.text_of(page, "#positions-reconfirm").startswith("On v1")


def test_the_demo_has_threads_replies_and_resolved_comments(demo):
    comments = list(db.session.scalars(select(Comment)))
    top_level = [c for c in comments if c.parent_id is None]
    replies = [c for c in comments if c.parent_id is not None]
    assert replies and all(r.organisation_id != r.parent.organisation_id for r in replies)
    answered = {r.parent_id for r in replies}
    assert any(c.paragraph_anchor and c.id in answered for c in top_level)
    assert any(c.paragraph_anchor is None for c in top_level)
    resolved = [c for c in top_level if c.is_resolved]
    assert resolved and all(c.resolved_by.role.value == "secretariat" for c in resolved)
    # The change notes that cite members' comments answer comments on the version before.
    for ask in demo:
        for before, after in zip(ask.versions, ask.versions[1:], strict=False):
            assert "comments" in after.change_note or "asked" in after.change_note
            assert any(c.version_id == before.id for c in top_level), ask.title


def test_the_demo_is_dated_as_if_people_had_taken_part_since_the_round_opened(demo):
    consultation = demo[0].consultation
    for ask in demo:
        versions = ask.versions
        for number, version in enumerate(versions):
            later = versions[number + 1].created_at if number + 1 < len(versions) else utcnow()
            made = [p.set_at for p in _positions(version)] + list(
                db.session.scalars(
                    select(Comment.created_at).where(Comment.version_id == version.id)
                )
            )
            assert all(consultation.opens_at <= when <= later for when in made), ask.title
    for comment in db.session.scalars(select(Comment).where(Comment.resolved_at.is_not(None))):
        assert comment.created_at < comment.resolved_at
    for position in db.session.scalars(select(Position)):
        event = next(e for e in audit_events("position.set") if e.object_id == position.id)
        assert event.created_at == position.set_at


def test_every_demo_audit_event_has_a_known_action(demo):
    actions = audit_actions()
    assert set(actions) == DEMO_ACTIONS
    data = demo_data()
    expected = sum(len(v.get("positions", [])) for a in data["asks"] for v in a["versions"])
    assert Counter(actions)["position.set"] == expected


def test_a_demo_ask_page_shows_the_tally(demo, client):
    amira = accounts.user_by_email("amira.khan@eastmere.example")
    page = login_as(client, amira).get(f"/asks/{demo[1].id}")
    assert page.status_code == 200
    assert html.select(page, "#positions-tally svg")
    assert html.text_of(page, "#positions-not-responded")
