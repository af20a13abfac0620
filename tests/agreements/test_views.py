"""The agreement pages: declaring wording agreed (with the rule met, against it with a
reason, on a stale page), the ask page afterwards, reopening, and the manifesto."""

from __future__ import annotations

import pytest

from consult.agreements import services
from consult.asks import services as ask_services
from consult.extensions import db
from consult.filters import format_date
from consult.models import Agreement, Amendment, AskState, Comment, Position, Stance
from consult.positions.services import set_position
from tests import factories
from tests.helpers import count, login_as, statements_for_page
from tests.html import select, select_one, text_of, texts

pytestmark = pytest.mark.database


def stance(person, ask, chosen: Stance, reason: str = "") -> None:
    set_position(actor=person, ask=ask, stance=chosen, reason=reason)
    db.session.commit()


def agree(client, ask, **data):
    data.setdefault("based_on", str(ask.current_version.number))
    return client.post(f"/asks/{ask.id}/agree", data=data)


def test_the_agree_page_shows_where_the_ask_stands_and_asks_why_against_the_rule(
    client, people, ask
):
    login_as(client, people.secretariat)
    page = client.get(f"/asks/{ask.id}/agree")
    assert page.status_code == 200
    assert text_of(page, "h1") == "Declare the wording of v2 agreed"
    assert "The council must act now." in text_of(page, "#agreement-wording")
    assert text_of(page, "#agreement-summary").startswith("No organisation has taken a position")
    assert "the quorum is not reached" in text_of(page, "#agreement-against-rule")
    assert select_one(page, "input[name=based_on]").get("value") == "2"
    assert select_one(page, "textarea[name=reason]") is not None

    refused = agree(client, ask)
    assert refused.status_code == 422
    assert "Give a reason for declaring it agreed against the rule" in text_of(
        refused, ".govuk-error-summary"
    )
    assert count(Agreement) == 0


def test_declaring_with_the_rule_met_needs_no_reason(client, people, delegates, ask):
    stance(delegates.home, ask, Stance.SUPPORT)
    stance(delegates.other, ask, Stance.SUPPORT)
    login_as(client, people.secretariat)
    page = client.get(f"/asks/{ask.id}/agree")
    assert text_of(page, "#agreement-meets-rule") == "This meets the consultation’s rule."
    assert not select(page, "textarea[name=reason]")

    response = agree(client, ask)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/asks/{ask.id}")
    db.session.refresh(ask)
    assert ask.state == AskState.AGREED

    shown = client.get(f"/asks/{ask.id}")
    agreement = services.current_agreement(ask)
    assert text_of(shown, "#agreement h2") == f"Agreed on {format_date(agreement.agreed_at)} (v2)"
    assert people.secretariat.name in text_of(shown, "#agreement")
    assert "Quorum reached: 2 of 3 organisations." in text_of(shown, "#agreement-summary")
    assert not select(shown, "#agreement-reason")
    assert texts(shown, "#ask-actions .govuk-button") == [
        "Reopen",
        "Edit ask",
    ]


def test_declaring_against_the_rule_records_the_reason_shown_on_the_ask_page(
    client, people, delegates, ask
):
    stance(delegates.home, ask, Stance.OBJECT, "Too slow.")
    login_as(client, people.secretariat)
    response = agree(client, ask, reason="Agreed at the plenary on 3 May.")
    assert response.status_code == 303
    agreement = services.current_agreement(ask)
    assert agreement.against_rule and agreement.reason == "Agreed at the plenary on 3 May."

    shown = client.get(f"/asks/{ask.id}")
    assert "Agreed against the consultation’s rule." in text_of(shown, "#agreement-reason")
    assert "Agreed at the plenary on 3 May." in text_of(shown, "#agreement-reason")


def test_a_stale_page_is_refused_with_the_new_version_shown(client, people, ask):
    login_as(client, people.secretariat)
    response = agree(client, ask, reason="Plenary.", based_on="1")
    assert response.status_code == 409
    assert "A new version (v2) has been published" in text_of(response, ".govuk-error-summary")
    assert select_one(response, "input[name=based_on]").get("value") == "2"
    assert count(Agreement) == 0


def test_members_see_why_they_can_no_longer_comment_on_an_agreed_ask(
    client, people, delegates, ask
):
    services.declare_agreed(actor=people.secretariat, ask=ask, reason="Plenary.", based_on=2)
    db.session.commit()
    login_as(client, delegates.home)
    shown = client.get(f"/asks/{ask.id}")
    agreed_on = format_date(services.current_agreement(ask).agreed_at)
    expected = (
        f"The wording of this ask was agreed on {agreed_on}; "
        "comments, positions and amendments are closed."
    )
    assert text_of(shown, "#comments-closed") == expected
    assert expected in text_of(shown, "#agreement")
    assert not select(shown, "#set-position")
    assert not select(shown, "#ask-actions")
    for refused in (
        client.get(f"/asks/{ask.id}/agree"),
        client.get(f"/asks/{ask.id}/reopen"),
        client.post(f"/asks/{ask.id}/reopen", data={"reason": "Mine."}),
    ):
        assert refused.status_code == 403
    assert services.current_agreement(ask) is not None


def test_reopening_needs_a_reason_then_a_new_version_can_be_published(client, people, ask):
    services.declare_agreed(actor=people.secretariat, ask=ask, reason="Plenary.", based_on=2)
    db.session.commit()
    login_as(client, people.secretariat)
    page = client.get(f"/asks/{ask.id}/reopen")
    assert text_of(page, "h1") == "Are you sure you want to reopen this ask?"
    assert not select(client.get(f"/asks/{ask.id}"), "a[href$='/versions/new']")

    refused = client.post(f"/asks/{ask.id}/reopen", data={"reason": " "})
    assert refused.status_code == 422
    assert "Give a reason for reopening the ask" in text_of(refused, ".govuk-error-summary")

    response = client.post(f"/asks/{ask.id}/reopen", data={"reason": "New evidence."})
    assert response.status_code == 303
    db.session.refresh(ask)
    assert ask.state == AskState.IN_REVIEW
    shown = client.get(f"/asks/{ask.id}")
    assert not select(shown, "#agreement")
    assert "Declare wording agreed" in text_of(shown, "#ask-actions")
    ask_services.publish_version(
        actor=people.secretariat, ask=ask, body="Newer wording.", change_note="Reopened."
    )
    db.session.commit()
    assert ask.current_version.number == 3


# The manifesto ------------------------------------------------------------------------------


def test_the_manifesto_gives_each_ask_a_status(client, people, delegates, ask):
    consultation = ask.consultation
    bare = factories.ask(consultation, title="No wording", versions=())
    objected = factories.ask(consultation, title="Objected to", versions=("Text.",))
    objected.state = AskState.IN_REVIEW
    db.session.commit()
    stance(delegates.home, objected, Stance.OBJECT, "No.")
    stance(delegates.other, objected, Stance.SUPPORT)
    login_as(client, people.secretariat)

    page = client.get(f"/consultations/{consultation.id}/manifesto")
    assert page.status_code == 200
    statuses = {
        text_of(item, "a"): text_of(item, ".app-manifesto__status")
        for item in select(page, "#manifesto-asks li")
    }
    assert statuses == {
        ask.title: "Quorum not reached: 0 of 3 organisations have responded",
        bare.title: "No wording yet",
        objected.title: "Support 50%, below the 75% threshold (1 objection)",
    }
    assert text_of(page, "#manifesto-progress").startswith("0 of 3 asks agreed.")
    # An ask with no published wording is not listed to observers and members.
    login_as(client, people.observer)
    observed = client.get(f"/consultations/{consultation.id}/manifesto")
    assert bare.title not in observed.get_data(as_text=True)
    assert text_of(observed, "#manifesto-progress").startswith("0 of 2 asks agreed.")
    page = observed
    assert not select(page, "#manifesto-text")


def test_the_manifesto_shows_the_whole_agreed_text_once_every_ask_is_agreed(
    client, people, delegates, ask
):
    consultation = ask.consultation
    second = factories.ask(consultation, title="Second ask", versions=("Second wording.",))
    second.state = AskState.IN_REVIEW
    db.session.commit()
    stance(delegates.home, second, Stance.SUPPORT)
    stance(delegates.other, second, Stance.SUPPORT)
    services.declare_agreed(actor=people.secretariat, ask=second, reason=None, based_on=1)
    db.session.commit()
    login_as(client, delegates.home)

    page = client.get(f"/consultations/{consultation.id}/manifesto")
    agreed_on = format_date(services.current_agreement(second).agreed_at)
    assert text_of(page, f"#manifesto-ask-{second.id} .app-manifesto__status") == (
        f"Agreed on v1, {agreed_on}"
    )
    assert not select(page, "#manifesto-text")

    services.declare_agreed(actor=people.secretariat, ask=ask, reason="Plenary.", based_on=2)
    db.session.commit()
    page = client.get(f"/consultations/{consultation.id}/manifesto")
    assert texts(page, "#manifesto-text h3") == [ask.title, "Second ask"]
    whole = text_of(page, "#manifesto-text")
    assert "The council must act now." in whole and "Second wording." in whole


def test_the_manifesto_query_count_does_not_grow_with_the_asks(client, people, delegates, ask):
    login_as(client, people.secretariat)
    url = f"/consultations/{ask.consultation_id}/manifesto"
    few = statements_for_page(client, url)
    for n in range(4):
        more = factories.ask(ask.consultation, title=f"Ask {n}", versions=("A.", "B."))
        more.state = AskState.IN_REVIEW
        db.session.commit()
        stance(delegates.home, more, Stance.SUPPORT)
        if n % 2:
            services.declare_agreed(actor=people.secretariat, ask=more, reason="x", based_on=2)
            db.session.commit()
    many = statements_for_page(client, url)
    assert len(select(client.get(url), "#manifesto-asks li")) == 5
    assert few == many


def test_the_consultation_page_links_to_the_manifesto(client, people, ask):
    login_as(client, people.member)
    page = client.get(f"/consultations/{ask.consultation_id}")
    assert select_one(page, "#manifesto-link").get("href") == (
        f"/consultations/{ask.consultation_id}/manifesto"
    )


def test_once_agreed_positions_amendments_and_comments_are_refused_saying_why(
    client, people, delegates, ask
):
    services.declare_agreed(actor=people.secretariat, ask=ask, reason="Plenary.", based_on=2)
    db.session.commit()
    agreed_on = format_date(services.current_agreement(ask).agreed_at)
    expected = f"The wording of this ask was agreed on {agreed_on}"
    login_as(client, delegates.home)
    for response in (
        client.get(f"/asks/{ask.id}/position"),
        client.post(f"/asks/{ask.id}/position", data={"stance": "support"}),
        client.get(f"/asks/{ask.id}/amendments/new"),
        client.post(f"/asks/{ask.id}/comments", data={"body": "Late."}),
    ):
        assert response.status_code == 403
        assert expected in response.get_data(as_text=True)
    assert count(Comment) == 0 and count(Position) == 0 and count(Amendment) == 0
