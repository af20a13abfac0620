"""Fixtures for the positions tests: an open consultation three organisations take part in,
and two delegates of the member's organisation (helpers are in tests/helpers.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from consult.extensions import db
from consult.models import Ask, Organisation, Participant, Role, User
from tests import factories
from tests.helpers import V1, V2, People


@dataclass
class Delegates:
    """The member's organisation's two delegates, and the other organisation's one."""

    first: User
    second: User
    other: User
    third_org: Organisation


@pytest.fixture
def delegates(people: People) -> Delegates:
    home = people.member.organisation
    other = people.other_member.organisation
    first = factories.user(Role.MEMBER, home, name="Dee Delegate", is_delegate=True)
    second = factories.user(Role.MEMBER, home, name="Dan Deputy", is_delegate=True)
    other_delegate = factories.user(Role.MEMBER, other, name="Oda Other", is_delegate=True)
    third = factories.organisation("Third Organisation")
    db.session.commit()
    return Delegates(first, second, other_delegate, third)


@pytest.fixture
def ask(people: People, delegates: Delegates) -> Ask:
    """An ask with two versions in an open consultation taken part in by the home, other
    and third organisations."""
    consultation = factories.consultation("Net zero by 2040")
    consultation.participants = [
        Participant(organisation=org)
        for org in (
            people.member.organisation,
            people.other_member.organisation,
            delegates.third_org,
        )
    ]
    item = factories.ask(
        consultation,
        title="Declare a climate emergency",
        versions=(V1, V2),
        author=people.secretariat,
    )
    db.session.commit()
    return item
