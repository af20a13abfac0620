"""The consultation page: details, the rule in words, and asks grouped by theme."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from consult.extensions import db
from consult.models import Ask, AskState
from tests import factories
from tests.conftest import login_as
from tests.consultations.conftest import row


def test_the_consultation_page_shows_its_details(client, people):
    consultation = factories.consultation(
        title="Spring round",
        summary="Read **every** ask.\n\nThen respond.",
        quorum_percent=40,
        threshold_percent=66,
        objection_blocks=True,
        closes_in_days=5.5,
    )
    consultation.opens_at = datetime(2020, 1, 15, 9, 0, tzinfo=UTC)
    login_as(client, people.member)
    html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert html.count('<h1 class="govuk-heading-l">') == 1
    assert "<title>Spring round – Consult</title>" in html
    assert "15 January 2020 at 9:00am" in html
    assert "5 days left" in html
    assert "govuk-tag--green" in html and "Open" in html
    assert (
        "At least 40% of the organisations taking part must take a position; at least 66% of "
        "those responding must support; an objection blocks agreement."
    ) in html
    assert '<p class="govuk-body">Read <strong>every</strong> ask.</p>' in html
    assert "There are no asks in this consultation yet." in html


def test_asks_are_shown_in_order_grouped_by_theme(client, people):
    consultation = factories.consultation()
    energy_1 = factories.ask(consultation, title="Insulate homes", theme="Energy", sort_order=1)
    energy_2 = factories.ask(
        consultation,
        title="Solar on schools",
        theme="Energy",
        sort_order=2,
        versions=("a", "b", "c"),
        state=AskState.AGREED,
    )
    transport = factories.ask(
        consultation,
        title="Safe cycle routes",
        theme="Transport",
        sort_order=3,
        versions=(),
        state=AskState.IN_REVIEW,
    )
    login_as(client, people.observer)
    html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    captions = re.findall(r'<caption class="govuk-table__caption[^"]*">\s*(.*?)\s*</caption>', html)
    assert captions == ["Energy", "Transport"]
    positions = [html.index(f'id="ask-{a.id}"') for a in (energy_1, energy_2, transport)]
    assert positions == sorted(positions)
    assert html.index("Transport</caption>") > positions[1]
    assert f'href="/asks/{energy_1.id}"' in row(html, f"ask-{energy_1.id}")
    assert "v3" in row(html, f"ask-{energy_2.id}") and "Agreed" in row(html, f"ask-{energy_2.id}")
    assert "No draft yet" in row(html, f"ask-{transport.id}")
    # The state's label, not its stored value: "In review", never "In_review".
    assert "In review" in row(html, f"ask-{transport.id}")
    assert "In_review" not in html and "govuk-tag--yellow" in row(html, f"ask-{transport.id}")


def test_the_secretariat_sees_move_buttons_except_where_they_cannot_move(client, people):
    consultation = factories.consultation()
    first = factories.ask(consultation, title="First", sort_order=1)
    middle = factories.ask(consultation, title="Middle", sort_order=2)
    last = factories.ask(consultation, title="Last", sort_order=3)
    login_as(client, people.secretariat)
    html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert f'href="/consultations/{consultation.id}/edit"' in html
    assert f'href="/consultations/{consultation.id}/asks/new"' in html
    first_row, middle_row, last_row = (row(html, f"ask-{a.id}") for a in (first, middle, last))
    assert "Move up" not in first_row and "Move down" in first_row
    assert "Move up" in middle_row and "Move down" in middle_row
    assert "Move up" in last_row and "Move down" not in last_row
    assert f'action="/asks/{middle.id}/move"' in middle_row
    assert 'name="direction" value="up"' in middle_row
    assert 'name="direction" value="down"' in middle_row
    assert 'name="csrf_token"' in middle_row
    assert middle_row.count('<form class="app-inline-form"') == 2  # side by side
    assert f'href="/asks/{middle.id}/edit"' in middle_row


def test_the_move_form_reorders_the_asks(client, people):
    consultation = factories.consultation()
    first = factories.ask(consultation, title="First", sort_order=1)
    second = factories.ask(consultation, title="Second", sort_order=2)
    login_as(client, people.secretariat)
    response = client.post(f"/asks/{second.id}/move", data={"direction": "up"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/consultations/{consultation.id}"
    db.session.expire_all()
    order = list(
        db.session.scalars(
            db.select(Ask.id)
            .where(Ask.consultation_id == consultation.id)
            .order_by(Ask.sort_order, Ask.id)
        )
    )
    assert order == [second.id, first.id]
    html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert html.index(f'id="ask-{second.id}"') < html.index(f'id="ask-{first.id}"')


def test_a_published_consultation_is_readable_without_signing_in(client):
    consultation = factories.consultation(
        title="The manifesto", opens_in_days=-30, closes_in_days=-10, published_at=datetime.now(UTC)
    )
    factories.ask(consultation, title="Warm homes")
    db.session.commit()
    html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert "The manifesto" in html and "Warm homes" in html
    assert "Published" in html
    assert "days left" not in html
    assert "Edit consultation" not in html
