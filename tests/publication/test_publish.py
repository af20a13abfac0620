"""Publishing the agreed manifesto: refused until every ask is agreed and sign-off has
closed; then the consultation and its asks are published."""

from __future__ import annotations

import pytest

from consult.extensions import db
from consult.models import AskState, ConsultationState
from consult.publication import services
from tests import factories
from tests.helpers import audit_count, database_rows, login_as
from tests.html import select, text_of, texts

pytestmark = pytest.mark.database


def test_the_confirmation_page_says_what_becomes_public(client, people, ready):
    login_as(client, people.secretariat)
    response = client.get(f"/consultations/{ready.id}/publish")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert text_of(html, "h1") == "Are you sure you want to publish the manifesto?"
    what = " ".join(texts(html, "#publish-what li"))
    assert "2 asks" in what
    assert "Listed Trust" in what
    assert "Quiet Society" not in what and "Declining Union" not in what
    assert select(html, f'form[action="/consultations/{ready.id}/publish"] button')


def test_publishing_sets_the_state_and_records_it(client, people, ready):
    login_as(client, people.secretariat)
    response = client.post(f"/consultations/{ready.id}/publish")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/manifestos/{ready.id}"
    db.session.expire_all()
    assert ready.state == ConsultationState.PUBLISHED
    assert ready.published_at is not None
    assert [ask.state for ask in ready.asks] == [AskState.PUBLISHED, AskState.PUBLISHED]
    assert audit_count("consultation.publish") == 1
    # Once published, it cannot be published again: a clear refusal, nothing changes.
    before = database_rows()
    again = client.post(f"/consultations/{ready.id}/publish")
    assert again.status_code == 409
    assert "It was published on" in again.get_data(as_text=True)
    assert database_rows() == before


@pytest.mark.parametrize(
    "change, problem",
    [
        ("not_agreed", "1 of 3 asks is not agreed yet."),
        ("signoff_never_opened", "Sign-off has not been opened."),
        ("signoff_still_open", "Sign-off is still open: close it first."),
    ],
)
def test_publishing_is_refused_until_ready(client, people, ready, change, problem):
    if change == "not_agreed":
        factories.ask(ready, title="Not yet agreed")
    elif change == "signoff_never_opened":
        ready.signoff_closed_at = None
        ready.signoff_opened_at = None
    else:
        ready.signoff_closed_at = None
    db.session.commit()
    login_as(client, people.secretariat)
    page = client.get(f"/consultations/{ready.id}/publish")
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert text_of(html, "h1") == "The manifesto cannot be published yet"
    assert problem in texts(html, "#publish-problems li")
    assert not select(html, f'form[action="/consultations/{ready.id}/publish"]')
    before = database_rows()
    response = client.post(f"/consultations/{ready.id}/publish")
    assert response.status_code == 409
    assert database_rows() == before
    assert ready.published_at is None


def test_a_consultation_without_asks_cannot_be_published(people):
    consultation = factories.consultation(signoff_opened_at=None)
    assert "The consultation has no asks." in services.blockers(consultation)
    with pytest.raises(services.PublicationError):
        services.publish(actor=people.secretariat, consultation=consultation)


@pytest.mark.parametrize("role", ["observer", "member", "other_member"])
def test_only_the_secretariat_publishes(client, people, ready, role):
    login_as(client, getattr(people, role))
    before = database_rows()
    assert client.get(f"/consultations/{ready.id}/publish").status_code == 403
    assert client.post(f"/consultations/{ready.id}/publish").status_code == 403
    assert database_rows() == before


def test_the_consultation_page_links_to_publishing_then_the_public_page(client, people, ready):
    login_as(client, people.secretariat)
    html = client.get(f"/consultations/{ready.id}").get_data(as_text=True)
    assert select(html, f'#publication a[href="/consultations/{ready.id}/publish"]')
    client.post(f"/consultations/{ready.id}/publish")
    html = client.get(f"/consultations/{ready.id}").get_data(as_text=True)
    assert not select(html, f'#publication a[href="/consultations/{ready.id}/publish"]')
    assert select(html, f'#publication a[href="/manifestos/{ready.id}"]')
    login_as(client, people.member)
    html = client.get(f"/consultations/{ready.id}").get_data(as_text=True)
    assert select(html, f'#publication a[href="/manifestos/{ready.id}"]')
    assert not select(html, f'a[href="/consultations/{ready.id}/backers"]')
