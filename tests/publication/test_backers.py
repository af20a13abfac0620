"""Backing a published manifesto: the form, the emailed single-use link, the secretariat's
approval, abuse resistance (honeypot, rate limit, no enumeration) and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select as sql_select

from consult.extensions import db
from consult.models import Backer, BackerState, utcnow
from tests.helpers import audit_count, count, database_rows, login_as
from tests.html import select, select_one, text_of, texts
from tests.publication.helpers import BACKER, confirmation_link
from tests.smtp import body_of

pytestmark = pytest.mark.database

OTHER_ADDRESS = {"environ_base": {"REMOTE_ADDR": "203.0.113.7"}}


def offer(client, consultation, environ_base=None, **changes):
    return client.post(
        f"/manifestos/{consultation.id}/back",
        data={**BACKER, **changes},
        environ_base=environ_base or {},
    )


def only_backer() -> Backer:
    rows = list(db.session.scalars(sql_select(Backer)))
    assert len(rows) == 1
    return rows[0]


def test_the_whole_journey(app, client, people, published, outbox):
    response = offer(client, published)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/manifestos/{published.id}/check-your-email"
    page = client.get(response.headers["Location"])
    assert text_of(page.get_data(as_text=True), "h1") == "Check your email"

    backer = only_backer()
    assert backer.state == BackerState.UNCONFIRMED
    assert backer.email == "fran@example.org"
    assert backer.token_hash and len(backer.token_hash) == 64
    [message] = outbox()
    assert message["To"] == "fran@example.org"
    link = confirmation_link(message)
    assert backer.token_hash not in link  # only the hash is stored

    # Opening the link confirms nothing: it shows a button.
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert text_of(html, "h1") == "Confirm your support"
    assert "Friends of the Park" in html
    db.session.refresh(backer)
    assert backer.state == BackerState.UNCONFIRMED

    confirmed = client.post(link)
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == f"/manifestos/{published.id}"
    db.session.refresh(backer)
    assert backer.state == BackerState.CONFIRMED
    assert backer.token_hash is None and backer.confirmed_at is not None
    public = client.get(f"/manifestos/{published.id}").get_data(as_text=True)
    assert "your support is confirmed" in public
    assert "Friends of the Park" not in text_of(public, "#manifesto-backers")

    # The link works once.
    again = client.get(link)
    assert again.status_code == 410
    assert text_of(again.get_data(as_text=True), "h1") == "This link has expired or has been used"

    # The secretariat approves; the backer is listed.
    login_as(client, people.secretariat)
    listing = client.get(f"/consultations/{published.id}/backers").get_data(as_text=True)
    assert select(listing, f'form[action="/backers/{backer.id}/approve"]')
    approved = client.post(f"/backers/{backer.id}/approve")
    assert approved.status_code == 303
    db.session.refresh(backer)
    assert backer.state == BackerState.APPROVED
    assert backer.decided_by_id == people.secretariat.id
    assert audit_count("backer.approve") == 1
    login_as(client, None)
    public = client.get(f"/manifestos/{published.id}").get_data(as_text=True)
    assert texts(public, "#approved-backers li") == ["Friends of the Park"]


def test_a_filled_honeypot_stores_nothing_and_answers_the_same(client, published, outbox):
    genuine = offer(client, published, email="one@example.org")
    before = database_rows()
    robot = offer(client, published, email="two@example.org", company_fax="0123 456")
    assert robot.status_code == genuine.status_code == 303
    assert robot.headers["Location"] == genuine.headers["Location"]
    assert database_rows() == before
    assert len(outbox()) == 1


def test_a_known_email_gets_the_same_answer_and_no_second_backer(client, published, outbox):
    first = offer(client, published)
    again = offer(client, published, email="  FRAN@example.ORG ", organisation_name="Other")
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert first.get_data() == again.get_data()
    assert count(Backer) == 1
    # Still unconfirmed: a fresh link, and the first one stops working.
    old, new = (confirmation_link(m) for m in outbox())
    assert client.get(old).status_code == 410
    assert client.get(new).status_code == 200
    client.post(new)
    # Once confirmed, offering again sends no link and changes nothing (but queues the
    # "already recorded" email).
    before = database_rows()
    third = offer(client, published)
    assert third.headers["Location"] == first.headers["Location"]
    after = database_rows()
    assert len(after.pop("outgoing_email")) == len(before.pop("outgoing_email")) + 1
    assert after == before
    assert "/backers/confirm/" not in body_of(outbox()[-1])


def test_invalid_offers_come_back_with_errors(client, published, outbox):
    response = offer(
        client,
        published,
        organisation_name="",
        contact_name="",
        email="not an email",
        website="javascript:alert(1)",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert text_of(html, "title").startswith("Error: ")
    errors = texts(html, ".govuk-error-summary__list li")
    assert errors == [
        "Enter the name of your organisation",
        "Enter your name",
        "Enter an email address in the correct format, like name@example.org",
        "Enter a website address that starts with http:// or https://, like https://www.example.org",
    ]
    too_long = offer(client, published, organisation_name="x" * 201, website="")
    assert too_long.status_code == 422
    assert count(Backer) == 0 and outbox() == []


def test_offers_are_rate_limited_per_address(app, client, published, outbox):
    app.config["BACKER_ADDRESS_LIMIT"] = "3 per 15 minutes"
    for n in range(3):
        assert offer(client, published, email=f"p{n}@example.org").status_code == 303
    refused = offer(client, published, email="p9@example.org")
    assert refused.status_code == 429
    assert text_of(refused.get_data(as_text=True), "h1") == "Too many attempts"
    assert count(Backer) == 3 and len(outbox()) == 3
    # Another address is not affected.
    assert offer(client, published, email="p9@example.org", **OTHER_ADDRESS).status_code == 303


def test_an_expired_link_is_refused(client, published, outbox):
    offer(client, published)
    link = confirmation_link(outbox()[0])
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1)):
        assert client.get(link).status_code == 410
        assert client.post(link).status_code == 410
    assert only_backer().state == BackerState.UNCONFIRMED


def test_a_made_up_link_is_refused(client, published):
    response = client.get("/backers/confirm/made-up")
    assert response.status_code == 410
    assert "expired or has already been used" in response.get_data(as_text=True)


def confirmed_backer(client, consultation, outbox, **changes) -> Backer:
    offer(client, consultation, **changes)
    client.post(confirmation_link(outbox()[-1]))
    return db.session.scalar(
        sql_select(Backer).where(Backer.email == changes.get("email", "fran@example.org"))
    )


def test_rejecting_needs_a_reason_and_confirmation(client, people, published, outbox):
    backer = confirmed_backer(client, published, outbox)
    login_as(client, people.secretariat)
    page = client.get(f"/backers/{backer.id}/reject")
    assert page.status_code == 200
    assert text_of(page.get_data(as_text=True), "h1") == (
        "Are you sure you want to reject Friends of the Park?"
    )
    assert client.post(f"/backers/{backer.id}/reject", data={"reason": " "}).status_code == 422
    response = client.post(f"/backers/{backer.id}/reject", data={"reason": "Not a real group."})
    assert response.status_code == 303
    db.session.refresh(backer)
    assert backer.state == BackerState.REJECTED
    assert backer.reject_reason == "Not a real group."
    assert audit_count("backer.reject") == 1
    # Decided: neither approved nor rejected again.
    before = database_rows()
    assert client.post(f"/backers/{backer.id}/approve").status_code == 409
    assert client.get(f"/backers/{backer.id}/reject").status_code == 409
    assert database_rows() == before
    assert "Friends of the Park" not in client.get(f"/manifestos/{published.id}").get_data(
        as_text=True
    )


def test_an_unconfirmed_backer_cannot_be_approved(client, people, published, outbox):
    offer(client, published)
    backer = only_backer()
    login_as(client, people.secretariat)
    assert client.post(f"/backers/{backer.id}/approve").status_code == 409
    db.session.refresh(backer)
    assert backer.state == BackerState.UNCONFIRMED


def test_the_backers_list_filters_and_paginates(client, people, published, outbox):
    for n in range(27):
        offer(client, published, email=f"b{n}@example.org", organisation_name=f"Group {n:02d}")
        if n % 3 == 0:
            client.post(confirmation_link(outbox()[-1]))
    db.session.commit()
    login_as(client, people.secretariat)
    html = client.get(f"/consultations/{published.id}/backers").get_data(as_text=True)
    assert text_of(html, "#backers-summary").startswith("27 backers")
    assert len(select(html, "#backers > li")) == 25
    assert select(html, ".govuk-pagination")
    second = client.get(f"/consultations/{published.id}/backers?page=2").get_data(as_text=True)
    assert len(select(second, "#backers > li")) == 2
    confirmed = client.get(f"/consultations/{published.id}/backers?state=confirmed")
    html = confirmed.get_data(as_text=True)
    assert text_of(html, "#backers-summary").startswith("9 backers waiting for approval")
    assert len(select(html, "#backers form")) == 9
    empty = client.get(f"/consultations/{published.id}/backers?state=approved")
    assert "No backer is approved." in empty.get_data(as_text=True)


@pytest.fixture
def app_config(app_config):
    """Enough offers per address for the listing test."""
    return {**app_config, "BACKER_ADDRESS_LIMIT": "100 per minute"}


def test_the_csv_export_is_neutralised(client, people, published, outbox):
    confirmed_backer(
        client,
        published,
        outbox,
        organisation_name='=HYPERLINK("http://evil")',
        contact_name="+1 Caller",
        email="csv@example.org",
        website="",
    )
    login_as(client, people.secretariat)
    response = client.get(f"/consultations/{published.id}/backers.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="clean-air-for-every-child-backers-')
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Organisation", "Contact name", "Email", "Website", "State"]
    assert rows[1][:5] == [
        '\'=HYPERLINK("http://evil")',
        "'+1 Caller",
        "csv@example.org",
        "",
        "Waiting for approval",
    ]


@pytest.mark.parametrize("role", ["anonymous", "observer", "member", "other_member"])
def test_the_secretariat_routes_are_refused_to_others(client, people, published, outbox, role):
    backer = confirmed_backer(client, published, outbox)
    login_as(client, getattr(people, role, None))
    before = database_rows()
    expected = 302 if role == "anonymous" else 403
    for method, path in [
        ("GET", f"/consultations/{published.id}/backers"),
        ("GET", f"/consultations/{published.id}/backers.csv"),
        ("POST", f"/backers/{backer.id}/approve"),
        ("GET", f"/backers/{backer.id}/reject"),
        ("POST", f"/backers/{backer.id}/reject"),
    ]:
        assert client.open(path, method=method, data={"reason": "x"}).status_code == expected
    assert database_rows() == before
    db.session.refresh(backer)
    assert backer.state == BackerState.CONFIRMED


def test_the_confirm_page_shows_the_details(client, published, outbox):
    offer(client, published)
    html = client.get(confirmation_link(outbox()[0])).get_data(as_text=True)
    assert select_one(html, "form button").get_text(strip=True) == "Confirm support"


def test_extra_fields_cannot_approve_or_move_an_offer(client, people, published, outbox):
    """Mass assignment (issue 11): a stranger's offer with `state`, `approved_at`,
    `confirmed_at` or another consultation's id is an unconfirmed offer like any other."""
    response = offer(
        client,
        published,
        state="approved",
        decided_at="2026-01-01T00:00:00",
        confirmed_at="2026-01-01T00:00:00",
        consultation_id="999",
        public="y",
    )
    assert response.status_code == 303
    backer = only_backer()
    assert backer.consultation_id == published.id
    assert backer.state == BackerState.UNCONFIRMED
    assert backer.confirmed_at is None and backer.decided_at is None
