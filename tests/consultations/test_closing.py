"""The consultation page shows when it closes and how long is left, or when it closed."""

from __future__ import annotations

from datetime import timedelta

from consult.extensions import db
from consult.filters import format_datetime, machine_datetime
from consult.models import utcnow
from tests import factories
from tests.helpers import login_as
from tests.html import select_one, text_of


def test_an_open_consultation_says_when_it_closes_and_how_long_is_left(client, people):
    consultation = factories.consultation(closes_in_days=3.5)
    db.session.commit()
    login_as(client, people.member)
    page = client.get(f"/consultations/{consultation.id}")
    closing = select_one(page, "#consultation-closing")
    assert text_of(closing) == f"Closes on {format_datetime(consultation.closes_at)} (3 days left)"
    assert select_one(closing, "time")["datetime"] == machine_datetime(consultation.closes_at)


def test_a_consultation_closed_early_says_the_day_it_closed(client, people):
    consultation = factories.consultation(closes_in_days=3)
    closed = utcnow() - timedelta(hours=2)
    consultation.closed_at = closed
    db.session.commit()
    login_as(client, people.secretariat)
    page = client.get(f"/consultations/{consultation.id}")
    assert text_of(page, "#consultation-closing") == f"Closed on {format_datetime(closed)}"
