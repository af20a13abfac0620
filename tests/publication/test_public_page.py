"""The public page of a published manifesto: no sign-in, 404 until published, what it shows
and its tags for sharing."""

from __future__ import annotations

import pytest

from consult.extensions import db
from consult.models import Backer, BackerState, utcnow
from tests import factories
from tests.helpers import login_as
from tests.html import select, select_one, text_of, texts

pytestmark = pytest.mark.database

ROLES = ("anonymous", "observer", "member", "other_member", "secretariat")


def backer(consultation, name: str, state: BackerState, website: str = "") -> Backer:
    now = utcnow()
    row = Backer(
        consultation_id=consultation.id,
        organisation_name=name,
        contact_name="Someone",
        email=f"{name.split()[0].lower()}@example.org",
        website=website,
        state=state,
        confirmed_at=None if state == BackerState.UNCONFIRMED else now,
        decided_at=now if state in (BackerState.APPROVED, BackerState.REJECTED) else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.mark.parametrize("role", ROLES)
def test_the_public_page_is_not_found_until_published(client, people, ready, role):
    login_as(client, getattr(people, role, None))
    assert client.get(f"/manifestos/{ready.id}").status_code == 404
    assert client.get(f"/manifestos/{ready.id}/check-your-email").status_code == 404
    response = client.post(f"/manifestos/{ready.id}/back", data={"organisation_name": "X"})
    assert response.status_code == 404


def test_the_public_page_needs_no_sign_in_once_published(client, published):
    response = client.get(f"/manifestos/{published.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert text_of(html, "h1") == "Clean air for every child"
    assert text_of(html, "title") == "Clean air for every child – Consult"
    # The agreed text of every ask, in order, rendered from Markdown.
    assert texts(html, "#manifesto-text h3") == ["Monitor the air", "School streets"]
    assert "Close school streets at drop-off." in text_of(html, "#manifesto-text")
    assert "Close streets." not in text_of(html, "#manifesto-text")
    assert select(html, "#manifesto-summary strong")


def test_the_public_page_has_description_open_graph_and_canonical(client, published):
    html = client.get(f"/manifestos/{published.id}").get_data(as_text=True)
    url = f"http://consult.test/manifestos/{published.id}"
    description = select_one(html, 'meta[name="description"]')["content"]
    assert description.startswith("We ask for clean air near every school, by 2030.")
    assert "**" not in description
    assert len(description) <= 160 and description.endswith("…")
    assert select_one(html, 'meta[property="og:title"]')["content"] == published.title
    assert select_one(html, 'meta[property="og:description"]')["content"] == description
    assert select_one(html, 'meta[property="og:type"]')["content"] == "article"
    assert select_one(html, 'meta[property="og:url"]')["content"] == url
    assert select_one(html, 'link[rel="canonical"]')["href"] == url


def test_only_organisations_that_endorsed_and_allowed_their_names_are_listed(client, published):
    html = client.get(f"/manifestos/{published.id}").get_data(as_text=True)
    assert texts(html, "#endorsing-organisations li") == ["Listed Trust"]
    assert "Quiet Society" not in html
    assert "Declining Union" not in html


def test_only_approved_backers_are_listed(client, published):
    backer(published, "Approved Alliance", BackerState.APPROVED, "https://alliance.example.org")
    backer(published, "Sneaky Link", BackerState.APPROVED, "javascript:alert(1)")
    for state in (BackerState.UNCONFIRMED, BackerState.CONFIRMED, BackerState.REJECTED):
        backer(published, f"{state.value.capitalize()} Group", state, "https://x.example.org")
    db.session.commit()
    html = client.get(f"/manifestos/{published.id}").get_data(as_text=True)
    assert texts(html, "#approved-backers li") == ["Approved Alliance", "Sneaky Link"]
    link = select_one(html, "#approved-backers a")
    assert link["href"] == "https://alliance.example.org"
    assert link["rel"] == ["nofollow", "ugc", "noopener"]
    assert len(select(html, "#approved-backers a")) == 1  # no javascript: link
    for hidden in ("Unconfirmed Group", "Confirmed Group", "Rejected Group", "example.org</"):
        assert hidden not in html
    assert "@example.org" not in html  # contacts' addresses are never shown


def test_empty_lists_say_so(client, people):
    consultation = factories.consultation(published_at=utcnow())
    db.session.commit()
    html = client.get(f"/manifestos/{consultation.id}").get_data(as_text=True)
    assert "No organisation has asked to be listed yet." in html
    assert "No other organisation is listed as backing it yet." in html


def test_the_form_and_its_honeypot(client, published):
    html = client.get(f"/manifestos/{published.id}").get_data(as_text=True)
    form = select_one(html, f'form[action^="/manifestos/{published.id}/back"]')
    names = {field["name"] for field in form.select("input")}
    assert {"organisation_name", "contact_name", "email", "website", "company_fax"} <= names
    trap = select_one(html, "#company_fax")
    assert trap["tabindex"] == "-1" and trap["autocomplete"] == "off"
    assert trap.find_parent("div")["aria-hidden"] == "true"


def test_the_downloads_are_linked(client, published):
    html = client.get(f"/manifestos/{published.id}").get_data(as_text=True)
    hrefs = [a["href"] for a in select(html, "#downloads a")]
    assert hrefs == [
        f"/consultations/{published.id}/agreed.{f}" for f in ("pdf", "docx", "html", "md")
    ]


def test_the_landing_page_links_to_the_public_page(client, published):
    html = client.get("/").get_data(as_text=True)
    assert select(html, f'#published-consultations a[href="/manifestos/{published.id}"]')
