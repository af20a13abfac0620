"""Fixtures for the publication tests: a consultation whose every ask is agreed and whose
sign-off has been opened and closed, with endorsements of each kind (helpers are in
tests/helpers.py and tests/publication/helpers.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult.extensions import db
from consult.models import Consultation, Participant
from consult.publication import services
from tests import factories
from tests.helpers import People
from tests.publication.helpers import agree, endorse


@pytest.fixture
def ready(people: People) -> Consultation:
    """A closed consultation, both asks agreed, sign-off opened and closed: ready to publish.
    Endorsed and listed: "Listed Trust"; endorsed, not listed: "Quiet Society"; declined:
    "Declining Union"."""
    consultation = factories.consultation(
        "Clean air for every child",
        summary="We ask for **clean air** near every school, by 2030. " + "More words. " * 30,
        opens_in_days=-30,
        closes_in_days=-2,
    )
    listed = factories.organisation("Listed Trust")
    quiet = factories.organisation("Quiet Society")
    declining = factories.organisation("Declining Union")
    consultation.participants = [
        Participant(organisation=org)
        for org in (listed, quiet, declining, people.member.organisation)
    ]
    first = factories.ask(
        consultation, title="Monitor the air", versions=("Monitor the air near schools.",)
    )
    second = factories.ask(
        consultation,
        title="School streets",
        versions=("Close streets.", "Close school streets at drop-off."),
    )
    for ask in (first, second):
        agree(people.secretariat, ask)
    endorse(consultation, listed, people.secretariat, listed_publicly=True)
    endorse(consultation, quiet, people.secretariat, listed_publicly=False)
    endorse(consultation, declining, people.secretariat, decline="Not our focus.")
    now = consultation.closes_at
    consultation.signoff_opened_at = now
    consultation.signoff_closed_at = now + timedelta(days=1)
    db.session.commit()
    return consultation


@pytest.fixture
def published(ready: Consultation, people: People) -> Consultation:
    """The same consultation, published."""
    services.publish(actor=people.secretariat, consultation=ready)
    db.session.commit()
    return ready
