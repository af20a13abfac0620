"""The ask page shows when its consultation closes and how long is left, or when it closed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult.extensions import db
from consult.filters import format_datetime, time_left
from consult.models import utcnow
from tests import factories
from tests.helpers import V1, login_as
from tests.html import select_one, text_of


def test_while_open_the_ask_page_says_when_it_closes_and_how_long_is_left(client, people, open_ask):
    closes = open_ask.consultation.closes_at
    login_as(client, people.member)
    page = client.get(f"/asks/{open_ask.id}")
    assert text_of(page, "#consultation-closing") == (
        f"Closes on {format_datetime(closes)} ({time_left(closes)})"
    )
    assert time_left(closes).endswith("days left")


@pytest.mark.parametrize("who", ["member", "observer", None])
def test_after_closing_the_ask_page_says_when_it_closed(client, people, who):
    consultation = factories.consultation(opens_in_days=-10, closes_in_days=-2)
    ask = factories.ask(consultation, versions=(V1,), author=people.secretariat)
    consultation.published_at = utcnow() - timedelta(days=1)
    db.session.commit()
    login_as(client, getattr(people, who) if who else None)
    page = client.get(f"/asks/{ask.id}")
    assert page.status_code == 200
    closing = select_one(page, "#consultation-closing")
    assert text_of(closing) == f"Closed on {format_datetime(consultation.closes_at)}"
    assert "left" not in text_of(closing)
