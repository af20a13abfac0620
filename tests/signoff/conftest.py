"""Fixtures for the sign-off tests: an open consultation three organisations take part in,
with two asks in review, and a delegate of each organisation (helpers are in
tests/helpers.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from consult.extensions import db
from consult.models import AskState, Consultation, Organisation, Participant, Role, User
from tests import factories
from tests.helpers import V1, V2, People


@dataclass
class Delegates:
    """A delegate of the member's organisation, one of the other member's, and a third
    organisation taking part with its own delegate."""

    home: User
    other: User
    third: User
    third_org: Organisation


@pytest.fixture
def delegates(people: People) -> Delegates:
    home = factories.user(
        Role.MEMBER, people.member.organisation, name="Dee Delegate", is_delegate=True
    )
    other = factories.user(
        Role.MEMBER, people.other_member.organisation, name="Oda Other", is_delegate=True
    )
    third_org = factories.organisation("Third Organisation")
    third = factories.user(Role.MEMBER, third_org, name="Theo Third", is_delegate=True)
    db.session.commit()
    return Delegates(home, other, third, third_org)


@pytest.fixture
def consultation(people: People, delegates: Delegates) -> Consultation:
    """An open consultation with two asks in review, taken part in by the home, other and
    third organisations."""
    found = factories.consultation("Net zero by 2040")
    found.participants = [
        Participant(organisation=org)
        for org in (
            people.member.organisation,
            people.other_member.organisation,
            delegates.third_org,
        )
    ]
    for title in ("Declare a climate emergency", "Insulate every home"):
        item = factories.ask(found, title=title, versions=(V1, V2), author=people.secretariat)
        item.state = AskState.IN_REVIEW
    db.session.commit()
    return found
