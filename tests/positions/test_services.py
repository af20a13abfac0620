"""Setting positions without HTTP: one row per organisation and version, replaced by an
upsert; every change audited with the value it replaced; the rules on reasons."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.asks import services as ask_services
from consult.extensions import db
from consult.models import LiveEvent, Position, Stance
from consult.positions.services import (
    PositionError,
    positions_for,
    previous_position,
    set_position,
)
from tests.helpers import audit_events, count

# The upsert is written for each database engine: also runs with --backend=postgres.
pytestmark = pytest.mark.database


def test_setting_again_replaces_the_one_row_and_audits_before_and_after(delegates, ask):
    first = set_position(actor=delegates.first, ask=ask, stance=Stance.SUPPORT, reason="")
    db.session.commit()
    again = set_position(
        actor=delegates.second,
        ask=ask,
        stance=Stance.SUPPORT_WITH_CHANGES,
        reason="  Say 2035.  ",
    )
    db.session.commit()

    assert again.id == first.id and count(Position) == 1
    row = db.session.scalars(select(Position)).one()
    assert (row.stance, row.reason, row.set_by_id) == (
        Stance.SUPPORT_WITH_CHANGES,
        "Say 2035.",
        delegates.second.id,
    )
    assert row.version_id == ask.current_version.id
    assert row.organisation_id == delegates.first.organisation_id
    events = audit_events("position.set")
    assert [(e.actor_id, e.object_id, e.before, e.after) for e in events] == [
        (delegates.first.id, row.id, None, {"stance": "support", "reason": None}),
        (
            delegates.second.id,
            row.id,
            {"stance": "support", "reason": None},
            {"stance": "support_with_changes", "reason": "Say 2035."},
        ),
    ]
    # Open pages are told, after each commit.
    announced = db.session.scalars(select(LiveEvent).where(LiveEvent.name == "position-set"))
    assert [e.object_id for e in announced] == [row.id, row.id]


def test_each_organisation_has_its_own_position(delegates, ask):
    set_position(actor=delegates.first, ask=ask, stance=Stance.OBJECT, reason="Too weak.")
    set_position(actor=delegates.other, ask=ask, stance=Stance.ABSTAIN, reason="")
    db.session.commit()
    found = positions_for(ask.current_version)
    assert {org: p.stance for org, p in found.items()} == {
        delegates.first.organisation_id: Stance.OBJECT,
        delegates.other.organisation_id: Stance.ABSTAIN,
    }


@pytest.mark.parametrize("stance", [Stance.SUPPORT_WITH_CHANGES, Stance.OBJECT])
def test_a_reason_is_required_for_changes_and_objections(delegates, ask, stance):
    with pytest.raises(PositionError) as refused:
        set_position(actor=delegates.first, ask=ask, stance=stance, reason="   ")
    assert (refused.value.field, str(refused.value)) == (
        "reason",
        "Give a reason for your position",
    )
    db.session.rollback()
    assert count(Position) == 0 and audit_events("position.set") == []


def test_support_and_abstain_need_no_reason(delegates, ask):
    set_position(actor=delegates.first, ask=ask, stance=Stance.SUPPORT, reason="")
    set_position(actor=delegates.other, ask=ask, stance=Stance.ABSTAIN, reason="")
    db.session.commit()
    assert count(Position) == 2


def test_a_reason_is_at_most_2000_characters(delegates, ask):
    set_position(actor=delegates.first, ask=ask, stance=Stance.OBJECT, reason="x" * 2000)
    with pytest.raises(PositionError) as refused:
        set_position(actor=delegates.first, ask=ask, stance=Stance.OBJECT, reason="x" * 2001)
    assert refused.value.field == "reason"
    assert str(refused.value) == "Reason must be 2,000 characters or fewer"


@pytest.mark.parametrize("stance", [None, "", "agree"])
def test_a_stance_must_be_chosen(delegates, ask, stance):
    with pytest.raises(PositionError) as refused:
        set_position(actor=delegates.first, ask=ask, stance=stance, reason="Why.")
    assert refused.value.field == "stance"
    assert str(refused.value) == "Select your organisation's position"


def test_a_new_version_starts_with_no_positions_and_the_old_ones_stay(people, delegates, ask):
    old = ask.current_version
    set_position(
        actor=delegates.first, ask=ask, stance=Stance.SUPPORT_WITH_CHANGES, reason="Say 2035."
    )
    db.session.commit()
    assert previous_position(delegates.first.organisation, ask) is None  # none before v2

    ask_services.publish_version(
        actor=people.secretariat,
        ask=ask,
        body="Version three.",
        change_note="Shorter.",
        based_on=old.number,
    )
    db.session.commit()
    db.session.expire_all()
    assert positions_for(ask.current_version) == {}
    kept = positions_for(old)[delegates.first.organisation_id]
    assert (kept.stance, kept.reason) == (Stance.SUPPORT_WITH_CHANGES, "Say 2035.")
    assert previous_position(delegates.first.organisation, ask) == kept
    assert previous_position(delegates.other.organisation, ask) is None

    # Setting it on v3 adds a row for v3; v2's stays.
    set_position(actor=delegates.second, ask=ask, stance=Stance.SUPPORT, reason="")
    db.session.commit()
    assert count(Position) == 2
    assert positions_for(old)[delegates.first.organisation_id].stance == (
        Stance.SUPPORT_WITH_CHANGES
    )
