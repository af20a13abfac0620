"""The consultation page: details, the rule in words, and asks grouped by theme."""

from __future__ import annotations

from datetime import UTC, datetime

from consult.extensions import db
from consult.models import Ask, AskState
from tests import factories
from tests.helpers import login_as
from tests.html import select, select_one, text_of


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
    assert len(select(html, "h1")) == 1
    assert text_of(html, "title") == "Spring round – Consult"
    assert "15 January 2020 at 9:00am" in html
    assert "5 days left" in html
    assert text_of(html, ".govuk-tag--green") == "Open"
    assert (
        "At least 40% of the organisations taking part must take a position; at least 66% of "
        "those responding must support, with or without changes; an objection blocks "
        "agreement. Abstentions count towards the quorum but are left out of the support "
        "threshold."
    ) in html
    summary = [p for p in select(html, "p.govuk-body") if text_of(p) == "Read every ask."]
    assert [text_of(p, "strong") for p in summary] == ["every"]
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
        versions=("Cycle routes.",),
        state=AskState.IN_REVIEW,
    )
    login_as(client, people.observer)
    html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    tables = select(html, "table:has(caption.govuk-table__caption)")
    assert [text_of(table, "caption") for table in tables] == ["Energy", "Transport"]
    assert [[row["id"] for row in select(table, "tr[id]")] for table in tables] == [
        [f"ask-{energy_1.id}", f"ask-{energy_2.id}"],
        [f"ask-{transport.id}"],
    ]
    assert select_one(html, f"#ask-{energy_1.id} a")["href"] == f"/asks/{energy_1.id}"
    assert "v3" in text_of(html, f"#ask-{energy_2.id}")
    assert "Agreed" in text_of(html, f"#ask-{energy_2.id}")
    assert "v1" in text_of(html, f"#ask-{transport.id}")
    # The state's label, not its stored value: "In review", never "In_review".
    assert text_of(html, f"#ask-{transport.id} .govuk-tag--yellow") == "In review"
    assert "In_review" not in html


def test_the_secretariat_sees_move_buttons_except_where_they_cannot_move(client, people):
    consultation = factories.consultation()
    first = factories.ask(consultation, title="First", sort_order=1)
    middle = factories.ask(consultation, title="Middle", sort_order=2)
    last = factories.ask(consultation, title="Last", sort_order=3)
    login_as(client, people.secretariat)
    html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert select(html, f'a[href="/consultations/{consultation.id}/edit"]')
    assert select(html, f'a[href="/consultations/{consultation.id}/asks/new"]')
    first_row, middle_row, last_row = (text_of(html, f"#ask-{a.id}") for a in (first, middle, last))
    assert "Move up" not in first_row and "Move down" in first_row
    assert "Move up" in middle_row and "Move down" in middle_row
    assert "Move up" in last_row and "Move down" not in last_row
    forms = select(html, f"#ask-{middle.id} form.app-inline-form")  # side by side
    assert [form["action"] for form in forms] == [f"/asks/{middle.id}/move"] * 2
    assert [select_one(form, 'input[name="direction"]')["value"] for form in forms] == [
        "up",
        "down",
    ]
    assert all(select_one(form, 'input[name="csrf_token"]') for form in forms)
    assert select(html, f'#ask-{middle.id} a[href="/asks/{middle.id}/edit"]')


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
    assert [row["id"] for row in select(html, "tr[id^=ask-]")] == [
        f"ask-{second.id}",
        f"ask-{first.id}",
    ]


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
