"""The demo: a new user sees positions, threads, amendments and dispositions at once, and
beside the open round an earlier one that is agreed, signed off, published and backed."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.agreements.services import current_agreement
from consult.amendments.services import amendments_of, backings_of, disposition_of
from consult.auth import services as accounts
from consult.demo import demo_data, load_demo
from consult.extensions import db
from consult.models import (
    Amendment,
    AmendmentState,
    Ask,
    AskState,
    AuditEvent,
    Backer,
    BackerState,
    Backing,
    Comment,
    Consultation,
    Disposition,
    DraftVersion,
    Outcome,
    Position,
    Stance,
    utcnow,
)
from consult.positions.services import REASON_MAX
from consult.signoff.services import signatories
from consult.text import replace_paragraphs
from tests import html
from tests.helpers import audit_actions, audit_events, built_once, login_as, stale_comment_html

pytestmark = pytest.mark.database

# Every action the demo records: it is made through the same services as people's changes.
DEMO_ACTIONS = {
    "consultation.create",
    "ask.create",
    "version.publish",
    "position.set",
    "amendment.propose",
    "amendment.back",
    "amendment.accept",
    "amendment.decline",
    "disposition.record",
    "comment.create",
    "comment.reply",
    "comment.resolve",
    "ask.agree",
    "signoff.open",
    "endorsement.set",
    "signoff.close",
    "consultation.publish",
    "backer.confirm",
    "backer.approve",
    "demo.load",
}


@pytest.fixture
def demo(app):
    """The asks of the open round (the demo loaded for the first test, then put back for each
    of the others: tests/helpers.built_once)."""
    built_once("demo", load_demo)
    return list(
        db.session.scalars(
            select(Ask)
            .join(Consultation)
            .where(Consultation.published_at.is_(None))
            .order_by(Ask.sort_order)
        )
    )


@pytest.fixture
def earlier(demo) -> Consultation:
    """The earlier round, agreed, signed off and published."""
    consultation = db.session.scalar(
        select(Consultation).where(Consultation.published_at.is_not(None))
    )
    assert consultation is not None
    return consultation


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
    assert stale_comment_html() == []  # each comment's HTML rendered as it was written
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
        # A comment on a version with a successor is resolved once the successor is out
        # (its resolution says what that version changed).
        successors = [v for v in comment.ask.versions if v.number > comment.version.number]
        if successors:
            assert successors[0].created_at < comment.resolved_at
            assert "Version 2" in comment.resolution
    for position in db.session.scalars(select(Position)):
        event = next(e for e in audit_events("position.set") if e.object_id == position.id)
        assert event.created_at == position.set_at


def test_every_demo_audit_event_has_a_known_action(demo):
    actions = Counter(audit_actions())
    assert set(actions) == DEMO_ACTIONS
    data = demo_data()
    asks = data["asks"] + data["earlier"]["asks"]
    versions = [v for a in asks for v in a["versions"]]
    assert actions["position.set"] == sum(len(v.get("positions", [])) for v in versions)
    assert actions["version.publish"] == len(versions)
    assert actions["ask.create"] == len(asks)
    assert actions["ask.agree"] == len(data["earlier"]["asks"])
    assert actions["endorsement.set"] == len(data["earlier"]["endorsements"])
    assert actions["consultation.create"] == 2
    assert actions["amendment.propose"] == sum(len(v.get("amendments", [])) for v in versions)


def test_the_demo_has_an_open_amendment_backed_by_one_organisation_and_opposed_by_another(demo):
    open_ones = [a for ask in demo for a in amendments_of(ask, AmendmentState.OPEN)]
    assert open_ones
    for amendment in open_ones:
        assert amendment.version_id == amendment.ask.current_version.id
        assert amendment.rationale and amendment.paragraph_anchor
        stances = {b.organisation_id: b.stance for b in backings_of([amendment])[amendment.id]}
        assert Backing.BACK in stances.values() and Backing.OPPOSE in stances.values()
        assert amendment.organisation_id not in stances
        for backing in backings_of([amendment])[amendment.id]:
            assert backing.set_by.is_delegate
            assert backing.set_by.organisation_id == backing.organisation_id


def test_v2_of_an_ask_is_an_accepted_amendment_to_v1_credited_in_its_change_note(demo):
    accepted = [a for ask in demo for a in amendments_of(ask, AmendmentState.ACCEPTED)]
    assert len(accepted) == 1
    amendment = accepted[0]
    v1, v2 = amendment.ask.versions
    assert amendment.version == v1 and amendment.accepted_version == v2
    assert amendment.organisation.kind.value == "research"
    assert v2.body == replace_paragraphs(v1.body, {amendment.paragraph_anchor: amendment.wording})
    assert v2.change_note.endswith(
        f"Accepted amendment {amendment.id} from {amendment.organisation.name} (paragraph 1)."
    )
    backing = backings_of([amendment])[amendment.id]
    assert len(backing) == 2 and all(b.stance == Backing.BACK for b in backing)
    assert amendment.created_at < min(b.set_at for b in backing)
    assert max(b.set_at for b in backing) < amendment.closed_at == v2.created_at
    disposition = disposition_of(amendment=amendment)
    assert disposition is not None and disposition.outcome == Outcome.ADOPTED
    assert disposition.version == v2 and disposition.decided_at == v2.created_at
    # Amira Khan's organisation took a position on v1 of this ask: the reconfirm prompt.
    assert amendment.ask == demo[0]


def test_a_declined_amendment_has_its_reason_as_its_disposition(demo):
    declined = [a for ask in demo for a in amendments_of(ask, AmendmentState.DECLINED)]
    assert declined
    for amendment in declined:
        disposition = disposition_of(amendment=amendment)
        assert disposition is not None and disposition.outcome == Outcome.NOT_ADOPTED
        assert disposition.reason == amendment.decline_reason
        assert amendment.decided_by.role.value == "secretariat"
        assert amendment.created_at < amendment.closed_at == disposition.decided_at


def test_comments_on_v1_have_outcomes_given_once_v2_was_published(demo):
    answered = list(
        db.session.scalars(select(Disposition).where(Disposition.comment_id.is_not(None)))
    )
    assert {d.outcome for d in answered} >= {Outcome.ADOPTED, Outcome.NOTED}
    assert len({d.ask_id for d in answered}) == 2
    for disposition in answered:
        comment = disposition.comment
        assert comment is not None and comment.parent_id is None
        assert comment.version.number == 1 and disposition.version.number == 2
        assert disposition.version.ask_id == comment.ask_id
        assert disposition.organisation_id == comment.organisation_id
        assert disposition.decided_by.role.value == "secretariat"
        assert comment.created_at < disposition.version.created_at < disposition.decided_at


def test_every_demo_audit_event_is_dated_with_what_it_records(demo, earlier):
    consultation = demo[0].consultation
    events = audit_events()
    created = [e for e in events if e.action == "consultation.create"]
    assert [e.object_id for e in created] == [earlier.id, consultation.id]
    for event, made in zip(created, (earlier, consultation), strict=True):
        assert event.created_at == made.created_at < made.opens_at
    assert all(created[0].created_at <= e.created_at <= utcnow() for e in events)
    # The earlier round's events all come before the open round's, by time as by order.
    opened = events.index(created[1])
    assert max(e.created_at for e in events[:opened]) < created[1].created_at
    assert all(e.created_at >= created[1].created_at for e in events[opened:])
    dated = {
        "version.publish": (DraftVersion, "created_at"),
        "amendment.propose": (Amendment, "created_at"),
        "amendment.accept": (Amendment, "closed_at"),
        "amendment.decline": (Amendment, "closed_at"),
        "backer.approve": (Backer, "decided_at"),
        "backer.confirm": (Backer, "confirmed_at"),
    }
    for event in events:
        if event.action in dated:
            model, column = dated[event.action]
            assert event.created_at == getattr(db.session.get(model, event.object_id), column)
    for disposition in db.session.scalars(select(Disposition)):
        subject = disposition.comment or disposition.amendment
        assert subject is not None
        recorded = [
            e
            for e in events
            if e.action == "disposition.record"
            and e.object_type == subject.__tablename__
            and e.object_id == subject.id
        ]
        assert [e.created_at for e in recorded] == [disposition.decided_at]
    # Each amendment's events (proposed, backed, accepted or declined, its outcome) are in
    # time order, as they were written.
    for amendment in db.session.scalars(select(Amendment)):
        times = [
            e.created_at
            for e in events
            if e.object_type == "amendment" and e.object_id == amendment.id
        ]
        assert times == sorted(times), amendment


def test_the_demo_sends_no_email(demo, outbox):
    assert outbox() == []


def test_a_demo_ask_page_shows_the_tally(demo, client):
    amira = accounts.user_by_email("amira.khan@eastmere.example")
    page = login_as(client, amira).get(f"/asks/{demo[1].id}")
    assert page.status_code == 200
    assert html.select(page, "#positions-tally svg")
    assert html.text_of(page, "#positions-not-responded")


# The earlier round: agreed, signed off, published and backed ------------------------------


def test_the_earlier_round_closed_then_every_ask_was_agreed_signed_off_and_published(earlier):
    now = utcnow()
    assert earlier.opens_at < earlier.closes_at < earlier.signoff_opened_at
    assert earlier.signoff_opened_at < earlier.signoff_closed_at < earlier.published_at < now
    assert earlier.published_at < now - timedelta(days=90)  # months ago
    asks = list(earlier.asks)
    assert len(asks) == len(demo_data()["earlier"]["asks"])
    against = []
    for ask in asks:
        assert ask.state == AskState.PUBLISHED
        agreement = current_agreement(ask)
        assert agreement is not None and agreement.version == ask.current_version
        assert agreement.agreed_by.role.value == "secretariat"
        assert earlier.closes_at < agreement.agreed_at < earlier.signoff_opened_at
        assert agreement.tally["taking_part"] == len(earlier.participants)
        if agreement.against_rule:
            against.append(agreement)
            assert agreement.reason and not agreement.tally["meets_rule"]
        else:
            assert agreement.tally["meets_rule"]
        # Positions from most organisations taking part on the agreed version, set while the
        # round was open.
        positions = _positions(ask.current_version)
        assert len(positions) > len(earlier.participants) / 2, ask.title
        assert all(earlier.opens_at < p.set_at < earlier.closes_at for p in positions)
    assert len(against) == 1
    events = audit_events("ask.agree")
    for agreement in [current_agreement(ask) for ask in asks]:
        assert agreement is not None
        event = next(e for e in events if e.object_id == agreement.ask_id)
        assert event.created_at == agreement.agreed_at
        assert event.after["against_rule"] == agreement.against_rule


def test_an_earlier_ask_has_an_accepted_amendment_credited_in_the_downloads(earlier, client):
    accepted = [a for ask in earlier.asks for a in amendments_of(ask, AmendmentState.ACCEPTED)]
    assert len(accepted) == 1
    amendment = accepted[0]
    v1, v2 = amendment.ask.versions
    assert amendment.version == v1 and amendment.accepted_version == v2
    assert v2.body == replace_paragraphs(v1.body, {amendment.paragraph_anchor: amendment.wording})
    assert earlier.opens_at < v2.created_at < earlier.closes_at
    markdown = client.get(f"/consultations/{earlier.id}/agreed.md").get_data(as_text=True)
    assert f"Amendment {amendment.id} from {amendment.organisation.name}" in markdown


def test_sign_off_of_the_earlier_round_has_endorsements_a_decline_and_one_silent(earlier):
    found = signatories(earlier)
    listed = [e for e in found.endorsed if e.list_publicly]
    assert len(listed) >= 3 and len(found.endorsed) - len(listed) == 1
    assert len(found.declined) == 1 and found.declined[0].reason
    assert len(found.not_responded) == 1
    assert found.responded > found.total / 2
    for endorsement in found.endorsed + found.declined:
        assert endorsement.set_by.is_delegate
        assert endorsement.set_by.organisation_id == endorsement.organisation_id
        assert earlier.signoff_opened_at < endorsement.set_at < earlier.signoff_closed_at
    # The audit events record the times the consultation keeps.
    for action, column in (
        ("signoff.open", "signoff_opened_at"),
        ("signoff.close", "signoff_closed_at"),
        ("consultation.publish", "published_at"),
    ):
        (event,) = audit_events(action)
        assert event.object_id == earlier.id
        assert event.created_at == getattr(earlier, column)
        assert event.after[column] == getattr(earlier, column).isoformat()


def test_the_earlier_rounds_backers_are_approved_waiting_and_unconfirmed(earlier):
    backers = {
        b.state: b
        for b in db.session.scalars(select(Backer).where(Backer.consultation_id == earlier.id))
    }
    approved = list(
        db.session.scalars(
            select(Backer).where(
                Backer.consultation_id == earlier.id, Backer.state == BackerState.APPROVED
            )
        )
    )
    assert len(approved) == 2
    assert set(backers) == {BackerState.APPROVED, BackerState.CONFIRMED, BackerState.UNCONFIRMED}
    for backer in approved:
        assert backer.decided_by.role.value == "secretariat"
        assert earlier.published_at < backer.created_at < backer.confirmed_at < backer.decided_at
        assert backer.token_hash is None
    waiting = backers[BackerState.CONFIRMED]
    assert waiting.confirmed_at and waiting.decided_at is None
    unconfirmed = backers[BackerState.UNCONFIRMED]
    assert unconfirmed.confirmed_at is None
    assert unconfirmed.token_expires_at is not None and unconfirmed.token_expires_at < utcnow()
    for backer in db.session.scalars(select(Backer)):
        assert backer.email.endswith(".example")
    confirmed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "backer.confirm")
    ).all()
    assert len(confirmed) == 3


def test_the_public_page_lists_the_listed_endorsers_and_only_approved_backers(earlier, client):
    page = client.get(f"/manifestos/{earlier.id}")
    assert page.status_code == 200
    found = signatories(earlier)
    endorsers = html.text_of(page, "#endorsing-organisations")
    for endorsement in found.endorsed:
        named = endorsement.organisation.name in endorsers
        assert named == endorsement.list_publicly, endorsement.organisation.name
    text = html.text_of(page, "main")
    for endorsement in found.declined:
        assert endorsement.organisation.name not in text
    listed = html.texts(page, "#approved-backers li")
    for backer in db.session.scalars(select(Backer)):
        assert (backer.organisation_name in listed) == (backer.state == BackerState.APPROVED)
        if backer.state != BackerState.APPROVED:
            assert backer.organisation_name not in text
    for ask in earlier.asks:
        assert ask.title in text
    # Visitors find it from the landing page.
    landing = client.get("/")
    assert html.select(landing, f'#published-consultations a[href="/manifestos/{earlier.id}"]')


@pytest.mark.parametrize("fmt", ["md", "html", "docx", "pdf"])
def test_every_download_of_the_earlier_round_answers_without_sign_in(earlier, client, fmt):
    answer = client.get(f"/consultations/{earlier.id}/agreed.{fmt}")
    assert answer.status_code == 200
    assert answer.data


def test_the_open_round_is_not_public(demo, client):
    consultation = demo[0].consultation
    assert consultation.published_at is None and consultation.signoff_opened_at is None
    assert client.get(f"/manifestos/{consultation.id}").status_code == 404
    assert all(ask.state != AskState.AGREED for ask in demo)
    assert not [
        d for d in db.session.scalars(select(Backer)) if d.consultation_id == consultation.id
    ]
