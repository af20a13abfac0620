"""Helpers for the publication tests (imported by tests; never import a conftest)."""

from __future__ import annotations

import re
from email.message import EmailMessage

from consult.agreements import services as agreements
from consult.extensions import db
from consult.models import Ask, Consultation, Decision, Endorsement, Organisation, User
from tests.smtp import body_of

BACKER = {
    "organisation_name": "Friends of the Park",
    "contact_name": "Fran Friend",
    "email": "Fran@Example.org",
    "website": "https://friends.example.org",
}


def agree(actor: User, ask: Ask) -> None:
    """Declare the ask's current version agreed (against the rule, with a reason)."""
    version = ask.current_version
    assert version is not None
    agreements.declare_agreed(
        actor=actor, ask=ask, reason="Agreed at the meeting.", based_on=version.number
    )


def endorse(
    consultation: Consultation,
    organisation: Organisation,
    by: User,
    *,
    listed_publicly: bool = False,
    decline: str | None = None,
) -> Endorsement:
    row = Endorsement(
        consultation_id=consultation.id,
        organisation_id=organisation.id,
        decision=Decision.DECLINE if decline else Decision.ENDORSE,
        list_publicly=listed_publicly,
        reason=decline or "",
        set_by_id=by.id,
    )
    db.session.add(row)
    db.session.flush()
    return row


def confirmation_link(message: EmailMessage) -> str:
    """The path of the confirmation link in an email."""
    body = body_of(message)
    found = re.search(r"https?://[^/\s]+(/backers/confirm/\S+)", body)
    assert found, body
    return found.group(1)
