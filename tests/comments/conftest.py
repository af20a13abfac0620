"""Fixtures for the comments tests: a colleague of the member, an open ask (helpers are in
tests/helpers.py)."""

from __future__ import annotations

import pytest

from consult.extensions import db
from consult.models import Ask, Role
from tests import factories
from tests.helpers import V1, V2, People, PeopleWithColleague


@pytest.fixture
def people(people: People) -> PeopleWithColleague:
    colleague = factories.user(Role.MEMBER, people.member.organisation, name="Colin Colleague")
    db.session.commit()
    return PeopleWithColleague(**vars(people), colleague=colleague)


@pytest.fixture
def ask(people) -> Ask:
    """An ask with two versions (the first paragraph changed) in an open consultation."""
    item = factories.ask(
        factories.consultation("Net zero by 2040"),
        title="Declare a climate emergency",
        versions=(V1, V2),
        author=people.secretariat,
    )
    db.session.commit()
    return item
