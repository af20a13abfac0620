"""Fixtures for the archive tests, as for the amendments tests: an open consultation three
organisations take part in, an ask with two versions, and a delegate in each of the
member's and the other member's organisations (helpers are in tests/helpers.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from consult.extensions import db
from consult.models import Ask, Organisation, Participant, Role, User
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
def ask(people: People, delegates: Delegates) -> Ask:
    """An ask at v2 (three paragraphs: two sentences and a list) in an open consultation
    taken part in by the home, other and third organisations."""
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
