"""Fixtures for the asks tests: an ask with versions (helpers are in tests/helpers.py)."""

from __future__ import annotations

import pytest

from consult.extensions import db
from consult.models import Ask
from tests import factories
from tests.helpers import V1, V2


@pytest.fixture
def open_ask(people) -> Ask:
    """An ask with two versions in an open consultation, written by the secretariat."""
    consultation = factories.consultation("Net zero by 2040")
    ask = factories.ask(
        consultation,
        title="Declare a climate emergency",
        theme="Manifesto asks",
        versions=(V1, V2),
        author=people.secretariat,
    )
    db.session.commit()
    return ask
