"""Sign-off services: opening only once every ask is agreed (emailing the delegates),
endorsing or declining as one row per organisation with its audit trail, the rules of
each answer, who may answer and when, closing, and the signatory list."""

from __future__ import annotations

import pytest

from consult import permissions
from consult.agreements import services as agreements
from consult.extensions import db
from consult.filters import format_date
from consult.models import Consultation, Decision, Endorsement, Role
from consult.signoff import services
from tests import factories
from tests.helpers import audit_events, count, statements_during
from tests.smtp import body_of

pytestmark = pytest.mark.database


def agree(secretariat, consultation: Consultation, how_many: int | None = None) -> None:
    """Declare the asks' wording agreed (against the rule, with a reason)."""
    for ask in consultation.asks[:how_many]:
        agreements.declare_agreed(
            actor=secretariat, ask=ask, reason="Agreed at the plenary.", based_on=2
        )
    db.session.commit()


@pytest.fixture
def opened(people, consultation) -> Consultation:
    agree(people.secretariat, consultation)
    services.open_signoff(actor=people.secretariat, consultation=consultation)
    db.session.commit()
    return consultation


def answer(person, consultation, decision, list_publicly=False, reason=""):
    found = services.set_endorsement(
        actor=person,
        consultation=consultation,
        decision=decision,
        list_publicly=list_publicly,
        reason=reason,
    )
    db.session.commit()
    return found


def test_opening_is_refused_until_every_ask_is_agreed(people, consultation, outbox):
    with pytest.raises(services.SignoffError, match="0 of 2 asks are agreed"):
        services.open_signoff(actor=people.secretariat, consultation=consultation)
    db.session.rollback()
    agree(people.secretariat, consultation, 1)
    with pytest.raises(services.SignoffError, match="1 of 2 asks is agreed"):
        services.open_signoff(actor=people.secretariat, consultation=consultation)
    db.session.rollback()
    assert consultation.signoff_opened_at is None
    assert audit_events("signoff.open") == []
    assert outbox() == []


def test_a_consultation_without_asks_cannot_open_sign_off(people):
    empty = factories.consultation("Empty")
    db.session.commit()
    with pytest.raises(services.SignoffError, match="no asks"):
        services.open_signoff(actor=people.secretariat, consultation=empty)


def test_opening_records_it_and_emails_every_active_delegate(
    people, delegates, consultation, outbox
):
    gone = factories.user(
        Role.MEMBER, delegates.third_org, name="Gone", is_delegate=True, active=False
    )
    factories.user(Role.MEMBER, delegates.third_org, name="Not a delegate")
    db.session.commit()
    agree(people.secretariat, consultation)
    services.open_signoff(actor=people.secretariat, consultation=consultation)
    db.session.commit()
    assert consultation.signoff_opened_at is not None
    [event_] = audit_events("signoff.open")
    assert event_.object_id == consultation.id and event_.actor_id == people.secretariat.id
    sent = outbox()
    assert sorted(m["To"] for m in sent) == sorted(
        p.email for p in (delegates.home, delegates.other, delegates.third)
    )
    assert gone.email not in [m["To"] for m in sent]
    body = body_of(sent[0])
    assert f"/consultations/{consultation.id}/sign-off" in body
    assert sent[0]["Subject"] == "Blueprint Coalition: Sign-off has opened: Net zero by 2040"
    with pytest.raises(services.SignoffError, match="already opened"):
        services.open_signoff(actor=people.secretariat, consultation=consultation)


def test_an_answer_is_one_row_per_organisation_with_its_audit_trail(people, delegates, opened):
    first = answer(delegates.home, opened, Decision.ENDORSE, list_publicly=True)
    # A colleague (another delegate of the same organisation) changes the answer.
    colleague = factories.user(
        Role.MEMBER, people.member.organisation, name="Col League", is_delegate=True
    )
    db.session.commit()
    second = answer(colleague, opened, "decline", reason="  Our board said no.  ")
    assert second.id == first.id
    assert count(Endorsement) == 1
    assert (second.decision, second.list_publicly, second.reason) == (
        Decision.DECLINE,
        False,
        "Our board said no.",
    )
    assert second.set_by_id == colleague.id
    third = answer(delegates.home, opened, Decision.ENDORSE, list_publicly=False)
    assert third.reason == ""
    events = audit_events("endorsement.set")
    assert [e.before for e in events] == [
        None,
        {"decision": "endorse", "list_publicly": True, "reason": None},
        {"decision": "decline", "list_publicly": False, "reason": "Our board said no."},
    ]
    assert [e.after for e in events] == [
        {"decision": "endorse", "list_publicly": True, "reason": None},
        {"decision": "decline", "list_publicly": False, "reason": "Our board said no."},
        {"decision": "endorse", "list_publicly": False, "reason": None},
    ]
    assert all(e.object_id == first.id for e in events)


@pytest.mark.parametrize(
    "decision, list_publicly, reason, field, message",
    [
        (None, False, "", "decision", "Select whether your organisation endorses"),
        ("maybe", False, "", "decision", "Select whether your organisation endorses"),
        ("decline", False, "   ", "reason", "Give a reason for declining to endorse"),
        ("decline", False, "x" * 2001, "reason", "2,000 characters or fewer"),
        ("decline", True, "No.", "list_publicly", "only if it endorses"),
    ],
)
def test_answers_that_break_the_rules_are_refused(
    delegates, opened, decision, list_publicly, reason, field, message
):
    with pytest.raises(services.SignoffError, match=message) as refused:
        services.set_endorsement(
            actor=delegates.home,
            consultation=opened,
            decision=decision,
            list_publicly=list_publicly,
            reason=reason,
        )
    assert refused.value.field == field
    db.session.rollback()
    assert count(Endorsement) == 0
    assert audit_events("endorsement.set") == []


def test_only_delegates_of_organisations_taking_part_may_answer(people, delegates, opened):
    outsider_org = factories.organisation("Outsider")
    outsider = factories.user(Role.MEMBER, outsider_org, is_delegate=True)
    inactive = factories.user(
        Role.MEMBER, delegates.third_org, is_delegate=True, name="Inactive", active=False
    )
    db.session.commit()
    for person in (
        people.member,  # not a delegate
        people.observer,
        people.secretariat,
        outsider,
        inactive,
    ):
        assert not permissions.can_endorse(person, opened)
        with pytest.raises(services.SignoffError, match="Only a delegate"):
            services.set_endorsement(
                actor=person,
                consultation=opened,
                decision="endorse",
                list_publicly=False,
                reason="",
            )
        db.session.rollback()
    assert permissions.can_endorse(delegates.home, opened)
    delegates.third_org.active = False
    db.session.commit()
    assert not permissions.can_endorse(delegates.third, opened)
    assert count(Endorsement) == 0


def test_answers_are_refused_before_sign_off_opens_and_once_it_has_closed(
    people, delegates, consultation
):
    assert not permissions.can_endorse(delegates.home, consultation)
    with pytest.raises(services.SignoffError, match="not opened yet"):
        answer(delegates.home, consultation, "endorse")
    db.session.rollback()
    agree(people.secretariat, consultation)
    services.open_signoff(actor=people.secretariat, consultation=consultation)
    db.session.commit()
    answer(delegates.home, consultation, "endorse")
    services.close_signoff(actor=people.secretariat, consultation=consultation)
    db.session.commit()
    assert [e.after for e in audit_events("signoff.close")] == [
        {"signoff_closed_at": consultation.signoff_closed_at.isoformat()}
    ]
    assert not permissions.can_endorse(delegates.home, consultation)
    with pytest.raises(services.SignoffError) as refused:
        answer(delegates.home, consultation, "decline", reason="Changed our minds.")
    assert str(refused.value).startswith(
        f"Sign-off closed on {format_date(consultation.signoff_closed_at)}."
    )
    db.session.rollback()
    assert db.session.scalar(db.select(Endorsement.decision)) == Decision.ENDORSE
    with pytest.raises(services.SignoffError, match="not open"):
        services.close_signoff(actor=people.secretariat, consultation=consultation)


def test_reopening_an_agreed_ask_is_refused_once_sign_off_has_opened(people, opened):
    ask = opened.asks[0]
    assert not permissions.can_reopen(people.secretariat, ask)
    with pytest.raises(agreements.AgreementError, match="Sign-off has opened"):
        agreements.reopen(actor=people.secretariat, ask=ask, reason="Second thoughts.")


def test_the_signatory_list_in_fixed_queries(people, delegates, opened):
    def queries() -> int:
        def run() -> None:
            db.session.expire_all()
            services.signatories(db.session.get(Consultation, opened.id))

        return statements_during(run)

    empty = services.signatories(opened)
    assert [o.name for o in empty.not_responded] == [
        "Home Organisation",
        "Other Organisation",
        "Third Organisation",
    ]
    baseline = queries()
    answer(delegates.home, opened, "endorse", list_publicly=True)
    answer(delegates.other, opened, "endorse", list_publicly=False)
    answer(delegates.third, opened, "decline", reason="Not our remit.")
    found = services.signatories(opened)
    assert [(e.organisation.name, e.list_publicly) for e in found.endorsed] == [
        ("Home Organisation", True),
        ("Other Organisation", False),
    ]
    assert [(e.organisation.name, e.reason) for e in found.declined] == [
        ("Third Organisation", "Not our remit.")
    ]
    assert found.not_responded == [] and (found.responded, found.total) == (3, 3)
    assert queries() == baseline
