"""Declaring an ask's wording agreed and reopening it, without HTTP: the rule, the reason
against it, the snapshot, stale pages, the audit and the history."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consult.agreements import services
from consult.agreements.services import AgreementError, StaleVersion
from consult.asks import services as ask_services
from consult.extensions import db
from consult.models import Agreement, AskState, LiveEvent, Stance, utcnow
from consult.positions.services import set_position
from tests import factories
from tests.helpers import audit_events, count

# The partial unique index is written for each database engine: also runs with
# --backend=postgres.
pytestmark = pytest.mark.database


def stance(person, ask, chosen: Stance, reason: str = "") -> None:
    set_position(actor=person, ask=ask, stance=chosen, reason=reason)
    db.session.commit()


def declare(actor, ask, reason: str | None = None, based_on: int | None = None) -> Agreement:
    agreement = services.declare_agreed(
        actor=actor,
        ask=ask,
        reason=reason,
        based_on=ask.current_version.number if based_on is None else based_on,
    )
    db.session.commit()
    return agreement


def test_declaring_with_the_rule_met_needs_no_reason_and_snapshots_the_tally(
    people, delegates, ask
):
    stance(delegates.home, ask, Stance.SUPPORT)
    stance(delegates.other, ask, Stance.SUPPORT_WITH_CHANGES, "A comma.")

    agreement = declare(people.secretariat, ask)

    assert ask.state == AskState.AGREED
    assert agreement.version_id == ask.current_version.id
    assert agreement.agreed_by_id == people.secretariat.id
    assert not agreement.against_rule and agreement.reason is None
    tally = agreement.tally
    assert (tally["support"], tally["support_with_changes"], tally["object"]) == (1, 1, 0)
    assert (tally["responded"], tally["taking_part"]) == (2, 3)
    assert tally["support_percent"] == 100
    assert tally["quorum_reached"] and tally["threshold_met"] and not tally["blocked"]
    assert tally["summary"].startswith("Quorum reached: 2 of 3 organisations.")
    organisations = tally["organisations"]
    names = [o["name"] for o in organisations]
    assert names == sorted(names, key=str.casefold)
    assert {o["name"]: o["stance"] for o in organisations} == {
        people.member.organisation.name: "support",
        people.other_member.organisation.name: "support_with_changes",
        "Third Organisation": None,
    }
    [event] = audit_events("ask.agree")
    assert event.actor_id == people.secretariat.id
    assert event.before == {"state": "in_review"}
    assert event.after["state"] == "agreed" and event.after["version"] == 2
    assert (
        db.session.scalar(select(LiveEvent.name).order_by(LiveEvent.id.desc()).limit(1))
        == "ask-agreed"
    )


def test_against_the_rule_a_reason_is_required_and_recorded(people, delegates, ask):
    stance(delegates.home, ask, Stance.OBJECT, "Too slow.")

    with pytest.raises(AgreementError) as refused:
        declare(people.secretariat, ask, reason="  ")
    assert refused.value.field == "reason"
    db.session.rollback()
    assert ask.state == AskState.IN_REVIEW and count(Agreement) == 0

    agreement = declare(people.secretariat, ask, reason="Agreed at the plenary.")
    assert agreement.against_rule and agreement.reason == "Agreed at the plenary."
    assert not agreement.tally["quorum_reached"] and not agreement.tally["meets_rule"]
    assert audit_events("ask.agree")[0].after["against_rule"] is True


def test_a_page_built_on_an_earlier_version_is_refused(people, ask):
    with pytest.raises(StaleVersion) as refused:
        declare(people.secretariat, ask, reason="Plenary.", based_on=1)
    assert "v2" in str(refused.value)
    db.session.rollback()
    assert ask.state == AskState.IN_REVIEW and count(Agreement) == 0


def test_an_ask_already_agreed_or_without_wording_is_refused(people, ask):
    declare(people.secretariat, ask, reason="Plenary.")
    with pytest.raises(AgreementError, match="already agreed"):
        declare(people.secretariat, ask, reason="Again.")
    db.session.rollback()

    bare = factories.ask(ask.consultation, title="Nothing yet", versions=())
    db.session.commit()
    with pytest.raises(AgreementError, match="no published wording"):
        services.declare_agreed(actor=people.secretariat, ask=bare, reason="x", based_on=0)


def test_reopening_needs_a_reason_keeps_the_history_and_allows_a_new_version(people, ask):
    first = declare(people.secretariat, ask, reason="Plenary.")
    with pytest.raises(ask_services.AskError):
        ask_services.publish_version(actor=people.secretariat, ask=ask, body="New.", change_note="")
    db.session.rollback()

    with pytest.raises(AgreementError) as refused:
        services.reopen(actor=people.secretariat, ask=ask, reason="")
    assert refused.value.field == "reason"
    db.session.rollback()

    services.reopen(actor=people.secretariat, ask=ask, reason="A member asked to revisit it.")
    db.session.commit()
    assert ask.state == AskState.IN_REVIEW
    assert first.reopened_by_id == people.secretariat.id and first.reopened_at is not None
    assert first.reopen_reason == "A member asked to revisit it."
    [event] = audit_events("ask.reopen")
    assert event.before["state"] == "agreed" and event.after["state"] == "in_review"

    v3 = ask_services.publish_version(
        actor=people.secretariat, ask=ask, body="Newer wording.", change_note="After reopening."
    )
    db.session.commit()
    second = declare(people.secretariat, ask, reason="Plenary again.")
    assert second.version_id == v3.id
    assert [a.id for a in services.agreements_of(ask)] == [second.id, first.id]
    assert services.current_agreement(ask).id == second.id


def test_reopening_an_ask_not_agreed_is_refused(people, ask):
    with pytest.raises(AgreementError, match="not agreed"):
        services.reopen(actor=people.secretariat, ask=ask, reason="Why not.")


def test_the_database_allows_one_current_agreement_per_ask(people, ask):
    declare(people.secretariat, ask, reason="Plenary.")
    row = dict(
        ask_id=ask.id,
        version_id=ask.current_version.id,
        agreed_by_id=people.secretariat.id,
        agreed_at=utcnow(),
        tally={},
    )
    db.session.add(Agreement(**row))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    # A reopened one beside the current one is history, and allowed.
    db.session.add(
        Agreement(
            **row,
            reopened_at=utcnow(),
            reopened_by_id=people.secretariat.id,
            reopen_reason="Earlier.",
        )
    )
    db.session.flush()


def test_against_the_rule_without_a_reason_is_refused_by_the_database(people, ask):
    db.session.add(
        Agreement(
            ask_id=ask.id,
            version_id=ask.current_version.id,
            agreed_by_id=people.secretariat.id,
            against_rule=True,
            tally={},
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
