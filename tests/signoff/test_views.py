"""The sign-off pages: where sign-off stands, opening it (refused with what is missing),
a delegate's answer (with its errors), the polled signatory list, closing it, and what
is refused afterwards."""

from __future__ import annotations

import pytest

from consult.agreements import services as agreements
from consult.extensions import db
from consult.filters import format_date
from consult.models import Consultation, Decision, Endorsement
from consult.signoff import services
from tests.helpers import audit_events, count, database_rows, login_as
from tests.html import select, select_one, text_of, texts

pytestmark = pytest.mark.database

HTMX = {"HX-Request": "true"}


def agree_all(secretariat, consultation: Consultation) -> None:
    for ask in consultation.asks:
        agreements.declare_agreed(
            actor=secretariat, ask=ask, reason="Agreed at the plenary.", based_on=2
        )
    db.session.commit()


@pytest.fixture
def opened(people, consultation) -> Consultation:
    agree_all(people.secretariat, consultation)
    services.open_signoff(actor=people.secretariat, consultation=consultation)
    db.session.commit()
    return consultation


def url(consultation, tail=""):
    return f"/consultations/{consultation.id}/sign-off{tail}"


def test_before_opening_the_page_says_what_is_missing(client, people, consultation):
    agreements.declare_agreed(
        actor=people.secretariat, ask=consultation.asks[0], reason="Agreed.", based_on=2
    )
    db.session.commit()
    login_as(client, people.secretariat)
    page = client.get(url(consultation))
    assert page.status_code == 200
    assert text_of(page, "h1") == "Sign-off of the manifesto"
    assert "1 of 2 asks is agreed" in text_of(page, "#signoff-state")
    assert not select(page, "#signoff-open")
    assert select_one(page, "#signoff-manifesto-link").get("href") == (
        f"/consultations/{consultation.id}/manifesto"
    )
    confirm = client.get(url(consultation, "/open"))
    assert text_of(confirm, "h1") == "Sign-off cannot open yet"
    assert not select(confirm, "#signoff-confirm")
    before = database_rows()
    refused = client.post(url(consultation, "/open"))
    assert refused.status_code == 422
    assert "1 of 2 asks is agreed" in text_of(refused, ".govuk-error-summary")
    assert database_rows() == before


def test_the_secretariat_opens_sign_off_once_every_ask_is_agreed(
    client, people, delegates, consultation, outbox
):
    agree_all(people.secretariat, consultation)
    login_as(client, people.secretariat)
    page = client.get(url(consultation))
    assert "The wording of every ask is agreed" in text_of(page, "#signoff-state")
    assert select_one(page, "#signoff-open").get("href") == url(consultation, "/open")
    confirm = client.get(url(consultation, "/open"))
    assert text_of(confirm, "h1") == "Are you sure you want to open sign-off?"
    done = client.post(url(consultation, "/open"))
    assert done.status_code == 303 and done.headers["Location"] == url(consultation)
    page = client.get(url(consultation))
    assert "Sign-off opened" in text_of(page, ".govuk-notification-banner")
    assert "has been open since" in text_of(page, "#signoff-state")
    assert select_one(page, "#signoff-close") is not None
    assert len(outbox()) == 3
    # Once open, it cannot be opened again, and agreed asks cannot be reopened.
    assert client.get(url(consultation, "/open")).status_code == 403
    reopen = client.get(f"/asks/{consultation.asks[0].id}/reopen")
    assert reopen.status_code == 403
    assert "Sign-off has opened, so the agreed wording can no longer be reopened." in text_of(
        reopen, "main"
    )
    assert (
        client.post(f"/asks/{consultation.asks[0].id}/reopen", data={"reason": "x"}).status_code
        == 403
    )


def test_a_delegate_endorses_then_declines(client, delegates, opened):
    login_as(client, delegates.home)
    page = client.get(url(opened))
    assert texts(page, "#endorsement input[name=decision] + label") == [
        "Endorse the manifesto",
        "Decline to endorse",
    ]
    assert select_one(page, "input[name=list_publicly]") is not None
    done = client.post(url(opened), data={"decision": "endorse", "list_publicly": "y"})
    assert done.status_code == 303
    page = client.get(url(opened))
    assert "Home Organisation endorses the manifesto (its name is listed publicly)" in text_of(
        page, ".govuk-notification-banner"
    )
    assert select_one(page, "input[value=endorse]").has_attr("checked")
    assert select_one(page, "input[name=list_publicly]").has_attr("checked")
    assert texts(page, "#signatories-endorsed li") == ["Home Organisation"]

    refused = client.post(url(opened), data={"decision": "decline", "reason": " "})
    assert refused.status_code == 422
    assert text_of(refused, "title").startswith("Error:")
    assert "Give a reason for declining to endorse" in text_of(refused, ".govuk-error-summary")
    # The box left ticked under "Decline" is not an error: it belongs to "Endorse".
    done = client.post(
        url(opened), data={"decision": "decline", "list_publicly": "y", "reason": "No."}
    )
    assert done.status_code == 303
    [row] = db.session.scalars(db.select(Endorsement)).all()
    assert (row.decision, row.list_publicly, row.reason) == (Decision.DECLINE, False, "No.")
    page = client.get(url(opened))
    assert texts(page, "#signatories-declined li") == ["Home Organisation: No."]
    assert select_one(page, "textarea[name=reason]").text.strip() == "No."
    assert count(Endorsement) == 1
    assert len(audit_events("endorsement.set")) == 2


def test_nobody_else_may_answer(client, people, delegates, opened):
    for person in (people.member, people.observer, people.secretariat, people.other_member):
        login_as(client, person)
        page = client.get(url(opened))
        assert page.status_code == 200
        assert not select(page, "#endorsement")
        before = database_rows()
        assert client.post(url(opened), data={"decision": "endorse"}).status_code == 403
        assert database_rows() == before


def test_the_signatory_list_marks_who_asked_not_to_be_listed(client, people, delegates, opened):
    for person, decision, listed, reason in (
        (delegates.home, "endorse", True, ""),
        (delegates.other, "endorse", False, ""),
    ):
        services.set_endorsement(
            actor=person,
            consultation=opened,
            decision=decision,
            list_publicly=listed,
            reason=reason,
        )
    db.session.commit()
    login_as(client, people.observer)
    page = client.get(url(opened))
    assert texts(page, "#signatories-endorsed li") == [
        "Home Organisation",
        "Other Organisation Not listed publicly",
    ]
    assert texts(page, "#signatories-waiting li") == ["Third Organisation"]
    assert text_of(page, "#signatories-summary") == "2 of 3 organisations have answered."


def test_the_polled_fragment_is_just_the_list_and_only_when_it_changed(
    client, people, delegates, opened
):
    login_as(client, people.observer)
    page = client.get(url(opened))
    section = select_one(page, "#signatories")
    assert section.get("hx-trigger") == "every 10s"
    assert section.get("hx-swap") == "outerHTML"
    poll = section.get("hx-get")
    assert select_one(page, "#signatories-announcer").get("aria-live") == "polite"
    assert text_of(page, "#signatories-announcer") == ""
    # Nothing changed: nothing to swap, nothing to announce.
    same = client.get(poll, headers=HTMX)
    assert same.status_code == 204
    services.set_endorsement(
        actor=delegates.third,
        consultation=opened,
        decision="decline",
        list_publicly=False,
        reason="Not our remit.",
    )
    db.session.commit()
    fragment = client.get(poll, headers=HTMX)
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert not select(body, "h1") and not select(body, "form")
    assert select(body, "section#signatories")
    assert texts(body, "#signatories-declined li") == ["Third Organisation: Not our remit."]
    assert select_one(body, "#signatories-announcer").get("hx-swap-oob") == "innerHTML"
    assert "1 declined" in text_of(body, "#signatories-announcer")
    # The new list polls from its own state.
    assert select_one(body, "#signatories").get("hx-get") != poll
    assert (
        client.get(select_one(body, "#signatories").get("hx-get"), headers=HTMX).status_code == 204
    )


def test_after_closing_answers_are_refused_saying_when(client, people, delegates, opened):
    login_as(client, people.secretariat)
    confirm = client.get(url(opened, "/close"))
    assert text_of(confirm, "h1") == "Are you sure you want to close sign-off?"
    assert text_of(confirm, "#signoff-count") == "0 endorsed, 0 declined, 3 not responded yet."
    assert client.post(url(opened, "/close")).status_code == 303
    db.session.refresh(opened)
    assert opened.signoff_closed_at is not None
    assert client.get(url(opened, "/close")).status_code == 403
    page = client.get(url(opened))
    assert "Sign-off closed on" in text_of(page, "#signoff-state")
    assert not select(page, "#signatories[hx-get]")  # nothing changes any more: no polling

    login_as(client, delegates.home)
    page = client.get(url(opened))
    assert not select(page, "#endorsement")
    before = database_rows()
    refused = client.post(url(opened), data={"decision": "endorse"})
    assert refused.status_code == 403
    assert f"Sign-off closed on {format_date(opened.signoff_closed_at)}." in text_of(
        refused, "main"
    )
    assert database_rows() == before


def test_the_consultation_and_manifesto_link_to_sign_off(client, people, consultation):
    login_as(client, people.member)
    page = client.get(f"/consultations/{consultation.id}")
    assert select_one(page, "#signoff-link").get("href") == url(consultation)
    manifesto = client.get(f"/consultations/{consultation.id}/manifesto")
    assert not select(manifesto, "#manifesto-signoff-link")
    agree_all(people.secretariat, consultation)
    manifesto = client.get(f"/consultations/{consultation.id}/manifesto")
    assert select_one(manifesto, "#manifesto-signoff-link").get("href") == url(consultation)
