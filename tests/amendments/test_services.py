"""Amendments without HTTP: proposing, backing (one upsert per organisation), withdrawing,
declining, accepting one or several into the next version, and dispositions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult import text
from consult.amendments import services
from consult.amendments.services import WHOLE_TEXT, AmendmentError
from consult.asks import services as ask_services
from consult.extensions import db
from consult.models import (
    AmendmentBacking,
    AmendmentState,
    Backing,
    Disposition,
    LiveEvent,
    Outcome,
)
from tests.helpers import audit_events, comment, count

# The backing upsert is written for each database engine: also runs with --backend=postgres.
pytestmark = pytest.mark.database


def anchor(ask, number: int) -> str:
    return text.paragraphs(ask.current_version.body)[number - 1].anchor


def propose(person, ask, number: int | None, wording: str, rationale: str = "Because.", **kw):
    amendment, created = services.propose(
        actor=person,
        ask=ask,
        paragraph=WHOLE_TEXT if number is None else anchor(ask, number),
        wording=wording,
        rationale=rationale,
        **kw,
    )
    db.session.commit()
    return amendment


def test_a_proposal_records_the_wording_it_replaces_and_is_audited(people, ask):
    amendment = propose(people.member, ask, 1, "  The council must act by 2030.\r\n", "Sooner.")

    assert amendment.state == AmendmentState.OPEN
    assert amendment.version_id == ask.current_version.id
    assert amendment.original == "The council must act now."
    assert amendment.wording == "  The council must act by 2030."
    assert amendment.organisation_id == people.member.organisation_id
    [event] = audit_events("amendment.propose")
    assert event.actor_id == people.member.id and event.after["rationale"] == "Sooner."
    assert db.session.scalar(select(LiveEvent.name)) == "amendment-changed"


def test_the_same_form_sent_twice_makes_one_amendment(people, ask):
    first = propose(people.member, ask, 1, "New.", submission_key="k" * 32)
    again = propose(people.member, ask, 1, "New.", submission_key="k" * 32)
    assert again.id == first.id


@pytest.mark.parametrize(
    "paragraph, wording, rationale, field, message",
    [
        ("", "New.", "Why.", "paragraph", "Choose the paragraph your wording replaces"),
        ("p-0000000000", "New.", "Why.", "paragraph", "That paragraph is not in the current"),
        ("first", "   ", "Why.", "wording", "Enter the wording you propose"),
        ("first", "New.", " \n ", "rationale", "Explain why you propose this wording"),
        ("first", "The council must act now.  ", "Why.", "wording", "same as the current"),
        ("first", "x" * 20_001, "Why.", "wording", "20,000 characters or fewer"),
    ],
)
def test_proposals_that_cannot_be_made(people, ask, paragraph, wording, rationale, field, message):
    if paragraph == "first":
        paragraph = anchor(ask, 1)
    with pytest.raises(AmendmentError) as raised:
        services.propose(
            actor=people.member, ask=ask, paragraph=paragraph, wording=wording, rationale=rationale
        )
    assert raised.value.field == field and message in str(raised.value)


def test_backing_is_one_row_per_organisation_and_every_change_is_audited(people, delegates, ask):
    amendment = propose(people.member, ask, 1, "New.")
    first = services.set_backing(actor=delegates.other, amendment=amendment, stance="back")
    db.session.commit()
    again = services.set_backing(actor=delegates.other, amendment=amendment, stance=Backing.OPPOSE)
    db.session.commit()
    services.set_backing(actor=delegates.third, amendment=amendment, stance="back")
    db.session.commit()

    assert again.id == first.id and count(AmendmentBacking) == 2
    stances = {b.organisation_id: b.stance for b in services.backings_of([amendment])[amendment.id]}
    assert stances == {
        delegates.other.organisation_id: Backing.OPPOSE,
        delegates.third.organisation_id: Backing.BACK,
    }
    assert [(e.before, e.after["stance"]) for e in audit_events("amendment.back")] == [
        (None, "back"),
        ({"stance": "back"}, "oppose"),
        (None, "back"),
    ]
    with pytest.raises(AmendmentError, match="back or oppose"):
        services.set_backing(actor=delegates.third, amendment=amendment, stance="maybe")


def test_a_withdrawn_amendment_can_no_longer_be_backed(people, delegates, ask):
    amendment = propose(people.member, ask, 1, "New.")
    services.withdraw(actor=people.member, amendment=amendment)
    db.session.commit()
    assert amendment.state == AmendmentState.WITHDRAWN and amendment.closed_at is not None
    with pytest.raises(AmendmentError, match="withdrawn"):
        services.set_backing(actor=delegates.other, amendment=amendment, stance="back")
    with pytest.raises(AmendmentError, match="already been withdrawn"):
        services.withdraw(actor=people.member, amendment=amendment)


def test_declining_needs_a_reason_which_becomes_the_disposition(people, ask):
    amendment = propose(people.member, ask, 1, "New.")
    with pytest.raises(AmendmentError, match="Give the reason"):
        services.decline(actor=people.secretariat, amendment=amendment, reason="  ")
    db.session.rollback()
    services.decline(actor=people.secretariat, amendment=amendment, reason="Out of scope.")
    db.session.commit()

    assert amendment.state == AmendmentState.DECLINED
    assert amendment.decline_reason == "Out of scope."
    disposition = db.session.scalars(select(Disposition)).one()
    assert (disposition.outcome, disposition.reason, disposition.organisation_id) == (
        Outcome.NOT_ADOPTED,
        "Out of scope.",
        people.member.organisation_id,
    )


def test_accepting_two_amendments_publishes_the_next_version_and_credits_both(people, ask):
    first = propose(people.member, ask, 1, "The council must act by 2030.")
    second = propose(people.other_member, ask, 3, "- Homes\n- Transport\n- Food")
    untouched = propose(people.other_member, ask, 2, "Every party commits to net zero now.")

    version = services.accept(
        actor=people.secretariat,
        ask=ask,
        amendments=[second, first],
        change_note="Two changes from the round.",
        based_on=2,
    )
    db.session.commit()

    assert version.number == 3
    assert version.body == (
        "The council must act by 2030.\n\nEvery party commits to net zero.\n\n"
        "- Homes\n- Transport\n- Food"
    )
    assert version.change_note == (
        "Two changes from the round. Accepted "
        f"amendment {first.id} from Home Organisation (paragraph 1); "
        f"amendment {second.id} from Other Organisation (paragraph 3)."
    )
    for amendment in (first, second):
        assert amendment.state == AmendmentState.ACCEPTED
        assert amendment.accepted_version_id == version.id
    assert untouched.state == AmendmentState.OPEN
    # The untouched paragraph is unchanged in v3, so its amendment still applies there.
    assert services.target_in(untouched, version).number == 2
    outcomes = {d.amendment_id: d.outcome for d in db.session.scalars(select(Disposition))}
    assert outcomes == {first.id: Outcome.ADOPTED, second.id: Outcome.ADOPTED}
    assert len(audit_events("amendment.accept")) == 2
    assert len(audit_events("version.publish")) == 1


def test_two_amendments_to_the_same_paragraph_are_refused_not_merged(people, ask):
    first = propose(people.member, ask, 1, "Act by 2030.")
    second = propose(people.other_member, ask, 1, "Act by 2035.")
    with pytest.raises(AmendmentError) as raised:
        services.accept(
            actor=people.secretariat, ask=ask, amendments=[first, second], change_note=""
        )
    assert str(raised.value) == (
        f"Amendments {first.id} and {second.id} both replace paragraph 1. "
        "Accept one of them, then decide on the other against the new version."
    )
    db.session.rollback()
    assert ask_services.latest_number(ask) == 2
    assert first.state == second.state == AmendmentState.OPEN


def test_a_whole_text_amendment_is_accepted_on_its_own(people, ask):
    whole = propose(people.member, ask, None, "One new paragraph.")
    other = propose(people.other_member, ask, 2, "Changed.")
    with pytest.raises(AmendmentError, match=f"Amendment {whole.id} replaces the whole text"):
        services.plan_acceptance(ask, [whole, other])
    version = services.accept(actor=people.secretariat, ask=ask, amendments=[whole], change_note="")
    db.session.commit()
    assert version.body == "One new paragraph."
    assert (
        version.change_note
        == f"Accepted amendment {whole.id} from Home Organisation (the whole text)."
    )
    # The paragraph the other amendment replaced is gone from v3.
    with pytest.raises(AmendmentError, match="has changed since it was proposed on v2"):
        services.plan_acceptance(ask, [other])


def test_an_amendment_whose_paragraph_changed_cannot_be_accepted(people, ask):
    amendment = propose(people.member, ask, 1, "Act by 2030.")
    ask_services.publish_version(
        actor=people.secretariat,
        ask=ask,
        body="The council must act today.\n\nEvery party commits to net zero.",
        change_note="Tightened.",
    )
    db.session.commit()
    with pytest.raises(AmendmentError, match=f"amendment {amendment.id} replaces has changed"):
        services.plan_acceptance(ask, [amendment])


def test_dispositions_on_comments_are_replaced_and_audited(people, ask):
    top = comment(people.member, ask, "Say 2030.")
    reply = comment(people.other_member, ask, "Agreed.", parent=top)
    db.session.commit()
    services.record_disposition(
        actor=people.secretariat, comment=top, outcome="noted", reason="We will look at it."
    )
    db.session.commit()
    services.record_disposition(
        actor=people.secretariat, comment=top, outcome=Outcome.PARTLY_ADOPTED, reason="In v3."
    )
    db.session.commit()
    disposition = db.session.scalars(select(Disposition)).one()
    assert (disposition.outcome, disposition.reason, disposition.version_id) == (
        Outcome.PARTLY_ADOPTED,
        "In v3.",
        ask.current_version.id,
    )
    events = audit_events("disposition.record")
    assert events[1].before["outcome"] == "noted" and events[1].after["outcome"] == "partly_adopted"
    with pytest.raises(AmendmentError, match="first comment"):
        services.record_disposition(
            actor=people.secretariat, comment=reply, outcome="noted", reason="x"
        )
    with pytest.raises(AmendmentError, match="Choose the outcome"):
        services.record_disposition(actor=people.secretariat, comment=top, outcome="", reason="x")
