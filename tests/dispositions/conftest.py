"""Fixtures for the dispositions tests: an open consultation the member's and the other
member's organisations take part in, with an ask at v2 (helpers are in tests/helpers.py)."""

from __future__ import annotations

import pytest

from consult.extensions import db
from consult.models import Ask, Participant
from tests import factories
from tests.helpers import V1, V2, People


@pytest.fixture
def ask(people: People) -> Ask:
    """An ask at v2 (three paragraphs: two sentences and a list; the first changed from v1)
    in an open consultation taken part in by the member's and the other member's
    organisations."""
    consultation = factories.consultation("Net zero by 2040")
    consultation.participants = [
        Participant(organisation=people.member.organisation),
        Participant(organisation=people.other_member.organisation),
    ]
    item = factories.ask(
        consultation,
        title="Declare a climate emergency",
        versions=(V1, V2),
        author=people.secretariat,
    )
    db.session.commit()
    return item
