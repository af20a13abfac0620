"""The secretariat's list of every consultation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult.extensions import db
from consult.filters import format_datetime
from consult.models import utcnow
from tests import factories
from tests.helpers import login_as
from tests.html import dom_ids, row, select, text_of


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
    assert select(html, 'a[href="/consultations/new"]') and "Create a consultation" in html
    assert dom_ids(html, "#consultations tr[id]") == [
        f"consultation-{c.id}" for c in (upcoming, current, old)
    ]
    assert "Upcoming" in row(html, f"consultation-{upcoming.id}")
    assert "Closed" in row(html, f"consultation-{old.id}")
    current_row = row(html, f"consultation-{current.id}")
    assert "Open" in current_row
    assert text_of(html, f"#consultation-{current.id} td.govuk-table__cell--numeric") == "2"
    assert text_of(html, f"#consultation-{old.id} td.govuk-table__cell--numeric") == "0"
    assert format_datetime(current.opens_at) in current_row
    assert format_datetime(current.closes_at) in current_row


@pytest.mark.database
def test_the_list_is_paginated(client, people):
    now = utcnow()
    for n in range(25):
        factories.consultation(title=f"Round {n:02d}", created_at=now - timedelta(hours=n))
    login_as(client, people.secretariat)
    first = client.get("/consultations").get_data(as_text=True)
    second = client.get("/consultations?page=2").get_data(as_text=True)
    assert "Round 00" in first and "Round 19" in first and "Round 20" not in first
    assert "Round 20" in second and "Round 24" in second and "Round 00" not in second
    assert select(first, 'a[href="/consultations?page=2"]')
    assert client.get("/consultations?page=9").status_code == 404


def test_the_list_has_an_empty_state(client, people):
    login_as(client, people.secretariat)
    db.session.commit()
    assert "There are no consultations yet." in client.get("/consultations").get_data(as_text=True)
