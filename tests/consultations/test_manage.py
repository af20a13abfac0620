"""The secretariat's list of every consultation."""

from __future__ import annotations

from datetime import timedelta

from consult.extensions import db
from consult.filters import format_datetime
from consult.models import utcnow
from tests import factories
from tests.conftest import login_as
from tests.consultations.conftest import row


def test_the_list_shows_every_consultation_newest_first(client, people):
    now = utcnow()
    old = factories.consultation(
        title="Old round",
        opens_in_days=-60,
        closes_in_days=-30,
        created_at=now - timedelta(days=90),
    )
    upcoming = factories.consultation(
        title="Next round", opens_in_days=5, created_at=now - timedelta(days=1)
    )
    current = factories.consultation(title="This round", created_at=now - timedelta(days=10))
    factories.ask(current)
    factories.ask(current)
    login_as(client, people.secretariat)
    html = client.get("/consultations").get_data(as_text=True)
    assert 'href="/consultations/new"' in html and "Create a consultation" in html
    order = [html.index(f'id="consultation-{c.id}"') for c in (upcoming, current, old)]
    assert order == sorted(order)
    assert "Upcoming" in row(html, f"consultation-{upcoming.id}")
    assert "Closed" in row(html, f"consultation-{old.id}")
    current_row = row(html, f"consultation-{current.id}")
    assert "Open" in current_row
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">2</td>' in current_row
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">0</td>' in row(
        html, f"consultation-{old.id}"
    )
    assert format_datetime(current.opens_at) in current_row
    assert format_datetime(current.closes_at) in current_row


def test_the_list_is_paginated(client, people):
    now = utcnow()
    for n in range(25):
        factories.consultation(title=f"Round {n:02d}", created_at=now - timedelta(hours=n))
    login_as(client, people.secretariat)
    first = client.get("/consultations").get_data(as_text=True)
    second = client.get("/consultations?page=2").get_data(as_text=True)
    assert "Round 00" in first and "Round 19" in first and "Round 20" not in first
    assert "Round 20" in second and "Round 24" in second and "Round 00" not in second
    assert 'href="/consultations?page=2"' in first
    assert client.get("/consultations?page=9").status_code == 404


def test_the_list_has_an_empty_state(client, people):
    login_as(client, people.secretariat)
    db.session.commit()
    assert "There are no consultations yet." in client.get("/consultations").get_data(as_text=True)
