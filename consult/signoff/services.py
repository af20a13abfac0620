"""Sign-off of the agreed manifesto: the secretariat opens it once every ask is agreed, each
organisation taking part endorses the manifesto (saying whether its name may be listed
publicly) or declines with a reason, and the secretariat closes it.

Services change state, flush and record the audit event; they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from consult import permissions
from consult.agreements import manifesto
from consult.audit import record
from consult.auth.services import organisation_delegates
from consult.extensions import db
from consult.filters import format_date
from consult.mail import absolute_url, queue_message
from consult.models import (
    Ask,
    Consultation,
    ConsultationState,
    Decision,
    Endorsement,
    Organisation,
    Participant,
    User,
    utcnow,
)
from consult.upserts import lock_ask, lock_organisation, upsert

REASON_MAX = 2000


class SignoffError(ValueError):
    """A sign-off step refused as given; `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def is_open(consultation: Consultation) -> bool:
    """Sign-off has opened and not closed."""
    return consultation.signoff_opened_at is not None and consultation.signoff_closed_at is None


def closed_message(consultation: Consultation) -> str:
    """What a delegate is told once sign-off has closed."""
    return (
        f"Sign-off closed on {format_date(consultation.signoff_closed_at)}. "
        "Your organisation’s endorsement can no longer be given or changed."
    )


def missing(consultation: Consultation) -> str | None:
    """Why sign-off cannot open yet ("3 of 9 asks are agreed"), or None when every ask is."""
    found = manifesto.build(consultation)
    total = len(found.entries)
    if total == 0:
        return "This consultation has no asks, so there is nothing to sign off."
    if not found.complete:
        verb = "is" if found.agreed_count == 1 else "are"
        return (
            f"{found.agreed_count} of {total} ask{'' if total == 1 else 's'} {verb} agreed. "
            "Sign-off can open once the wording of every ask is agreed."
        )
    return None


def _refresh(consultation: Consultation) -> None:
    db.session.refresh(consultation, ["signoff_opened_at", "signoff_closed_at", "published_at"])


def open_signoff(*, actor: User, consultation: Consultation) -> None:
    """Open sign-off of the agreed manifesto, and email every delegate of every active
    organisation taking part a link to it. Takes every ask's lock first, so no ask is
    reopened meanwhile (reopening checks that sign-off has not opened under the same lock)."""
    for ask_id in db.session.scalars(
        select(Ask.id).where(Ask.consultation_id == consultation.id).order_by(Ask.id)
    ):
        lock_ask(ask_id)
    _refresh(consultation)
    if consultation.signoff_opened_at is not None:
        raise SignoffError("Sign-off has already opened", field="confirm")
    if consultation.state == ConsultationState.PUBLISHED:
        raise SignoffError("The manifesto has already been published", field="confirm")
    problem = missing(consultation)
    if problem is not None:
        raise SignoffError(problem, field="confirm")
    consultation.signoff_opened_at = utcnow()
    db.session.flush()
    record(
        actor,
        "signoff.open",
        consultation,
        before={"signoff_opened_at": None},
        after={"signoff_opened_at": consultation.signoff_opened_at.isoformat()},
    )
    _tell_delegates(consultation)


def _tell_delegates(consultation: Consultation) -> None:
    """Email the delegates of every active organisation taking part (sent after commit)."""
    link = absolute_url("signoff.show", consultation_id=consultation.id)
    for participant in consultation.participants:
        organisation = participant.organisation
        if not organisation.active:
            continue
        for person in organisation_delegates(organisation):
            queue_message(
                to=person.email,
                template="signoff_opened",
                subject=f"Sign-off has opened: {consultation.title}",
                person=person,
                consultation=consultation,
                organisation=organisation,
                link=link,
            )


def close_signoff(*, actor: User, consultation: Consultation) -> None:
    """Close sign-off: endorsements can no longer be given or changed."""
    _refresh(consultation)
    if not is_open(consultation):
        raise SignoffError("Sign-off is not open", field="confirm")
    consultation.signoff_closed_at = utcnow()
    db.session.flush()
    record(
        actor,
        "signoff.close",
        consultation,
        before={"signoff_closed_at": None},
        after={"signoff_closed_at": consultation.signoff_closed_at.isoformat()},
    )


def _clean(decision: Decision | str | None, list_publicly: bool, reason: str | None):
    try:
        chosen = Decision(decision) if decision else None
    except ValueError:
        chosen = None
    if chosen is None:
        raise SignoffError(
            "Select whether your organisation endorses the manifesto", field="decision"
        )
    text = (reason or "").replace("\r\n", "\n").strip()
    if chosen == Decision.ENDORSE:
        text = ""  # a reason is asked for only when declining
    elif list_publicly:
        raise SignoffError(
            "Your organisation’s name can be listed publicly only if it endorses the manifesto",
            field="list_publicly",
        )
    elif not text:
        raise SignoffError("Give a reason for declining to endorse", field="reason")
    elif len(text) > REASON_MAX:
        raise SignoffError("Reason must be 2,000 characters or fewer", field="reason")
    return chosen, bool(list_publicly) and chosen == Decision.ENDORSE, text


def _values(endorsement: Endorsement) -> dict[str, object]:
    return {
        "decision": endorsement.decision.value,
        "list_publicly": endorsement.list_publicly,
        "reason": endorsement.reason or None,
    }


def set_endorsement(
    *,
    actor: User,
    consultation: Consultation,
    decision: Decision | str | None,
    list_publicly: bool,
    reason: str | None,
) -> Endorsement:
    """Endorse the manifesto for the actor's organisation, or decline with a reason
    (replacing any earlier answer).

    One upsert on the unique (consultation, organisation) pair, under the organisation's
    lock (`lock_organisation`), so the audit event `endorsement.set` records exactly the
    value it replaced.
    """
    chosen, listed, text = _clean(decision, list_publicly, reason)
    lock_organisation(actor.organisation_id)
    _refresh(consultation)
    if not permissions.can_endorse(actor, consultation):
        if consultation.signoff_closed_at is not None:
            raise SignoffError(closed_message(consultation), field="decision")
        if consultation.signoff_opened_at is None:
            raise SignoffError("Sign-off has not opened yet", field="decision")
        raise SignoffError(
            "Only a delegate of an organisation taking part can endorse the manifesto",
            field="decision",
        )
    previous = db.session.execute(
        select(Endorsement.decision, Endorsement.list_publicly, Endorsement.reason).where(
            Endorsement.consultation_id == consultation.id,
            Endorsement.organisation_id == actor.organisation_id,
        )
    ).one_or_none()
    endorsement_id = upsert(
        Endorsement,
        {
            "consultation_id": consultation.id,
            "organisation_id": actor.organisation_id,
            "decision": chosen,
            "list_publicly": listed,
            "reason": text,
            "set_by_id": actor.id,
            "set_at": utcnow(),
        },
        unique=("consultation_id", "organisation_id"),
        replace=("decision", "list_publicly", "reason", "set_by_id", "set_at"),
    )
    endorsement = db.session.get(Endorsement, endorsement_id, populate_existing=True)
    assert endorsement is not None
    before = (
        None
        if previous is None
        else {
            "decision": previous.decision.value,
            "list_publicly": previous.list_publicly,
            "reason": previous.reason or None,
        }
    )
    record(actor, "endorsement.set", endorsement, before=before, after=_values(endorsement))
    return endorsement


def endorsement_of(consultation: Consultation, organisation_id: int) -> Endorsement | None:
    """An organisation's current answer, if it has given one."""
    return db.session.scalar(
        select(Endorsement).where(
            Endorsement.consultation_id == consultation.id,
            Endorsement.organisation_id == organisation_id,
        )
    )


@dataclass
class Signatories:
    """Who has endorsed the manifesto, who has declined (with reasons), and which
    organisations taking part have not answered yet: each by name."""

    endorsed: list[Endorsement]
    declined: list[Endorsement]
    not_responded: list[Organisation]

    @property
    def responded(self) -> int:
        return len(self.endorsed) + len(self.declined)

    @property
    def total(self) -> int:
        return self.responded + len(self.not_responded)


def signatories(consultation: Consultation) -> Signatories:
    """The signatory list, in two queries whatever the number of organisations."""
    answers = list(
        db.session.scalars(
            select(Endorsement)
            .join(Organisation, Endorsement.organisation_id == Organisation.id)
            .options(joinedload(Endorsement.organisation), joinedload(Endorsement.set_by))
            .where(Endorsement.consultation_id == consultation.id)
            .order_by(func.lower(Organisation.name), Organisation.id)
        )
    )
    answered = {answer.organisation_id for answer in answers}
    waiting = [
        organisation
        for organisation in db.session.scalars(
            select(Organisation)
            .join(Participant, Participant.organisation_id == Organisation.id)
            .where(Participant.consultation_id == consultation.id, Organisation.active.is_(True))
            .order_by(func.lower(Organisation.name), Organisation.id)
        )
        if organisation.id not in answered
    ]
    return Signatories(
        endorsed=[a for a in answers if a.decision == Decision.ENDORSE],
        declined=[a for a in answers if a.decision == Decision.DECLINE],
        not_responded=waiting,
    )
