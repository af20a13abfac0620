"""The amendment pages: proposing (with a preview), reading, the list, backing, withdrawing,
declining and accepting; the cards on the ask page; refusals after the consultation closed;
and bad input that must never be a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from consult import text
from consult.amendments import services
from consult.amendments.services import WHOLE_TEXT
from consult.extensions import db
from consult.filters import format_datetime
from consult.models import (
    Amendment,
    AmendmentBacking,
    AmendmentState,
    Backing,
    DraftVersion,
    utcnow,
)
from tests.helpers import count, login_as, statements_for_page
from tests.html import select as css_select
from tests.html import select_one, text_of

pytestmark = pytest.mark.database


def anchor(ask, number: int) -> str:
    return text.paragraphs(ask.current_version.body)[number - 1].anchor


def propose(person, ask, number: int | None, wording: str, rationale: str = "Because."):
    amendment, _ = services.propose(
        actor=person,
        ask=ask,
        paragraph=WHOLE_TEXT if number is None else anchor(ask, number),
        wording=wording,
        rationale=rationale,
    )
    db.session.commit()
    return amendment


def close(ask):
    closed = utcnow() - timedelta(hours=1)
    ask.consultation.closed_at = closed
    db.session.commit()
    return closed


def follow(client, response):
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return client.get(response.headers["Location"])


def flash_text(page) -> str:
    return text_of(page, ".govuk-notification-banner")


KEY = "a" * 32


def proposal(ask, number=1, **form):
    data = {
        "paragraph": anchor(ask, number) if number else WHOLE_TEXT,
        "wording": "The council must act by 2030.",
        "rationale": "A *date* is clearer.",
        "submission_key": KEY,
        "action": "propose",
    }
    data.update(form)
    return data


# Proposing ------------------------------------------------------------------------------------


def test_the_form_lists_each_paragraph_and_the_whole_text(client, people, ask):
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}/amendments/new")
    assert page.status_code == 200
    assert text_of(page, "h1") == "Propose new wording"
    radios = css_select(page, "input[type=radio][name=paragraph]")
    assert [r["value"] for r in radios] == [anchor(ask, n) for n in (1, 2, 3)] + ["whole"]
    assert not any(r.has_attr("checked") for r in radios)
    labels = [text_of(label) for label in css_select(page, ".govuk-radios__label")]
    assert labels[0] == "Paragraph 1: The council must act now."
    assert labels[-1] == "The whole text"
    assert select_one(page, "input[name=submission_key]")["value"]


def test_a_chosen_paragraph_is_preselected_with_its_wording(client, people, ask):
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}/amendments/new?paragraph={anchor(ask, 3)}")
    assert select_one(page, "input[type=radio][checked]")["value"] == anchor(ask, 3)
    assert text_of(page, "textarea[name=wording]") == "- Homes - Transport"
    whole = client.get(f"/asks/{ask.id}/amendments/new?paragraph=whole")
    assert select_one(whole, "input[type=radio][checked]")["value"] == "whole"
    assert select_one(whole, "textarea[name=wording]").get_text().strip() == (
        ask.current_version.body
    )
    nonsense = client.get(f"/asks/{ask.id}/amendments/new?paragraph=nonsense")
    assert nonsense.status_code == 200 and not css_select(nonsense, "input[type=radio][checked]")


def test_words_selected_on_the_ask_page_preselect_their_paragraph(client, people, ask):
    """?quote= (from "Propose new wording" on a selection) chooses the paragraph the words
    come from, compared as quotes are (curly or straight, any case); the wording is the
    paragraph's whole source. A paragraph named in the address wins."""
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}/amendments/new", query_string={"quote": "Homes and"})
    assert not css_select(page, "input[type=radio][checked]")  # words of no paragraph
    page = client.get(f"/asks/{ask.id}/amendments/new", query_string={"quote": "HOMES\nTransport"})
    assert select_one(page, "input[type=radio][checked]")["value"] == anchor(ask, 3)
    assert text_of(page, "textarea[name=wording]") == "- Homes - Transport"
    named = client.get(
        f"/asks/{ask.id}/amendments/new",
        query_string={"quote": "Homes", "paragraph": anchor(ask, 1)},
    )
    assert select_one(named, "input[type=radio][checked]")["value"] == anchor(ask, 1)


def test_the_preview_shows_the_change_and_saves_nothing(client, people, ask):
    login_as(client, people.member)
    response = client.post(f"/asks/{ask.id}/amendments/new", data=proposal(ask, action="preview"))
    assert response.status_code == 200
    diff = select_one(response, "#preview .app-diff")
    assert [text_of(d) for d in css_select(diff, "del")] == ["[removed: now]"]
    assert [text_of(i) for i in css_select(diff, "ins")] == ["[added: by 2030]"]
    assert select_one(response, "#amendment-diff-key")
    # The form keeps what was written.
    assert text_of(response, "textarea[name=wording]") == "The council must act by 2030."
    assert count(Amendment) == 0


def test_a_preview_without_a_paragraph_says_so(client, people, ask):
    login_as(client, people.member)
    response = client.post(
        f"/asks/{ask.id}/amendments/new", data=proposal(ask, paragraph="", action="preview")
    )
    assert response.status_code == 422
    assert "Choose the paragraph your wording replaces" in text_of(response, ".govuk-error-summary")


def test_a_member_proposes_and_is_sent_to_the_card_on_the_ask_page(client, people, ask):
    login_as(client, people.member)
    response = client.post(f"/asks/{ask.id}/amendments/new", data=proposal(ask))
    amendment = db.session.scalars(select(Amendment)).one()
    assert response.headers["Location"].endswith(f"/asks/{ask.id}#amendment-{amendment.id}")
    assert (amendment.proposer_id, amendment.paragraph_anchor) == (people.member.id, anchor(ask, 1))
    page = follow(client, response)
    assert flash_text(page).endswith(f"Amendment {amendment.id} proposed")
    card = select_one(page, f"#{anchor(ask, 1)} #amendment-{amendment.id}")
    assert text_of(card, ".app-amendment__heading").startswith(
        f"Amendment {amendment.id} from Home Organisation"
    )
    # Sent again (a double click): still one amendment.
    again = client.post(f"/asks/{ask.id}/amendments/new", data=proposal(ask))
    assert again.status_code == 303 and count(Amendment) == 1


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"wording": ""}, "wording", "Enter the wording you propose"),
        ({"rationale": "  "}, "rationale", "Explain why you propose this wording"),
        (
            {"wording": "The council must act now."},
            "wording",
            "Your wording is the same as the current wording",
        ),
        ({"paragraph": "p-0000000000"}, "paragraph", "That paragraph is not in the current"),
        ({"paragraph": ""}, "paragraph", "Choose the paragraph your wording replaces"),
        ({"submission_key": "nonsense"}, "submission_key", "Reload the page and try again"),
    ],
)
def test_invalid_proposals_are_refused_with_the_message(
    client, people, ask, change, field, message
):
    login_as(client, people.member)
    response = client.post(f"/asks/{ask.id}/amendments/new", data=proposal(ask, **change))
    assert response.status_code == 422
    assert message in text_of(response, ".govuk-error-summary")
    assert text_of(response, "title").startswith("Error: ")
    assert count(Amendment) == 0


def test_observers_and_the_secretariat_cannot_propose(client, people, ask):
    for person in (people.observer, people.secretariat):
        login_as(client, person)
        assert client.get(f"/asks/{ask.id}/amendments/new").status_code == 403
        assert client.post(f"/asks/{ask.id}/amendments/new", data=proposal(ask)).status_code == 403
    assert count(Amendment) == 0


def test_after_closing_proposing_backing_and_withdrawing_give_the_closing_date(
    client, people, delegates, ask
):
    amendment = propose(people.member, ask, 1, "Sooner.")
    closed = close(ask)
    expected = f"The consultation closed on {format_datetime(closed)}."
    cases = [
        (people.member, "get", f"/asks/{ask.id}/amendments/new", {}),
        (people.member, "post", f"/asks/{ask.id}/amendments/new", proposal(ask)),
        (delegates.other, "post", f"/amendments/{amendment.id}/backing", {"stance": "back"}),
        (people.member, "get", f"/amendments/{amendment.id}/withdraw", {}),
        (people.member, "post", f"/amendments/{amendment.id}/withdraw", {}),
    ]
    for person, method, url, data in cases:
        login_as(client, person)
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 403, url
        assert expected in text_of(response, "main"), url
    assert count(Amendment) == 1 and count(AmendmentBacking) == 0
    assert db.session.get(Amendment, amendment.id).state == AmendmentState.OPEN
    # The amendment stays readable, with no actions but the closing date.
    login_as(client, delegates.other)
    page = client.get(f"/amendments/{amendment.id}")
    assert not css_select(page, ".app-backing-form")
    assert "Closed on" in text_of(page, "#consultation-closing")


# Reading --------------------------------------------------------------------------------------


def test_the_amendment_page_shows_the_change_the_reasons_and_the_backing(
    client, people, delegates, ask
):
    amendment = propose(people.member, ask, 1, "The council must act by 2030.", "A *date*.")
    services.set_backing(actor=delegates.other, amendment=amendment, stance=Backing.BACK)
    services.set_backing(actor=delegates.third, amendment=amendment, stance=Backing.OPPOSE)
    db.session.commit()
    login_as(client, people.observer)
    page = client.get(f"/amendments/{amendment.id}")
    assert page.status_code == 200
    assert text_of(page, "h1") == f"Amendment {amendment.id} from Home Organisation"
    assert text_of(page, "#amendment-state") == "Open"
    summary = text_of(page, ".govuk-summary-list")
    assert "Paragraph 1 of v2" in summary and "Mina Member for Home Organisation" in summary
    assert [text_of(i) for i in css_select(page, ".app-diff ins")] == ["[added: by 2030]"]
    assert select_one(page, "#amendment-diff-key")
    assert select_one(page, "#amendment-rationale em").get_text() == "date"
    assert text_of(page, "#amendment-support") == (
        "Backed by 1 organisation: Other Organisation. Opposed by 1: Third Organisation."
    )
    assert "set by Oda Other" in text_of(page, "#backing-list")
    # An observer may do nothing here.
    assert not css_select(page, ".app-backing-form") and not css_select(page, ".govuk-button")


def test_the_page_shows_each_person_the_actions_they_may_take(client, people, delegates, ask):
    amendment = propose(people.member, ask, 1, "Sooner.")
    url = f"/amendments/{amendment.id}"

    def buttons(person):
        login_as(client, person)
        page = client.get(url)
        return [text_of(b) for b in css_select(page, ".govuk-button")]

    assert buttons(people.member) == ["Withdraw this amendment"]
    assert buttons(delegates.home) == []  # their organisation proposed it
    assert buttons(people.other_member) == []  # not a delegate
    assert buttons(delegates.other) == [
        f"Back amendment {amendment.id}",
        f"Oppose amendment {amendment.id}",
    ]
    assert buttons(people.secretariat) == ["Accept this amendment", "Decline this amendment"]
    login_as(client, people.secretariat)
    accept = select_one(client.get(url), "a.govuk-button[href*=accept]")["href"]
    assert accept == f"/asks/{ask.id}/amendments/accept?amendment={amendment.id}"


def test_an_amendment_whose_paragraph_changed_says_so(client, people, ask):
    from consult.asks.services import publish_version

    amendment = propose(people.member, ask, 1, "Sooner.")
    publish_version(
        actor=people.secretariat,
        ask=ask,
        body=ask.current_version.body.replace("act now", "act today"),
        change_note="Reworded.",
    )
    db.session.commit()
    login_as(client, people.secretariat)
    page = client.get(f"/amendments/{amendment.id}")
    assert "has changed since it was proposed on v2" in text_of(page, "#amendment-stale")
    assert "Accept this amendment" not in text_of(page, "main")
    accept = client.get(f"/asks/{ask.id}/amendments/accept")
    assert f"Amendment {amendment.id} from Home Organisation" in text_of(
        accept, "#stale-amendments"
    )
    assert not css_select(accept, "input[name=amendment]")
    # Not shown as a card on the ask page, but counted in the link to all amendments.
    ask_page = client.get(f"/asks/{ask.id}")
    assert not css_select(ask_page, ".app-amendment")
    assert "1 open amendment no longer matches" in text_of(ask_page, "#ask-links")


def test_the_list_filters_by_state_and_has_an_empty_state(client, people, delegates, ask):
    first = propose(people.member, ask, 1, "Sooner.")
    second = propose(delegates.other, ask, 2, "Everyone commits.")
    services.withdraw(actor=delegates.other, amendment=second)
    db.session.commit()
    login_as(client, people.observer)
    page = client.get(f"/asks/{ask.id}/amendments")
    assert [li["id"] for li in css_select(page, "#amendments > li")] == [
        f"amendment-{second.id}",
        f"amendment-{first.id}",
    ]
    assert text_of(page, "#amendments-summary") == "2 amendments, newest first."
    withdrawn = client.get(f"/asks/{ask.id}/amendments?state=withdrawn")
    assert [li["id"] for li in css_select(withdrawn, "#amendments > li")] == [
        f"amendment-{second.id}"
    ]
    declined = client.get(f"/asks/{ask.id}/amendments?state=declined")
    assert text_of(declined, "#amendments-summary") == (
        "There are no declined amendments to this ask."
    )
    nonsense = client.get(f"/asks/{ask.id}/amendments?state=nonsense")
    assert nonsense.status_code == 200 and len(css_select(nonsense, "#amendments > li")) == 2
    assert client.get(f"/asks/{ask.id}/amendments?page=abc").status_code == 404


def test_the_list_is_paginated(client, people, ask):
    for n in range(21):
        propose(people.member, ask, 1, f"Wording number {n}.")
    login_as(client, people.member)
    first = client.get(f"/asks/{ask.id}/amendments")
    assert len(css_select(first, "#amendments > li")) == 20
    assert css_select(first, ".govuk-pagination")
    second = client.get(f"/asks/{ask.id}/amendments?page=2")
    assert len(css_select(second, "#amendments > li")) == 1


def test_an_ask_without_amendments_has_an_empty_list(client, people, ask):
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}/amendments")
    assert text_of(page, "#amendments-summary") == (
        "Nobody has proposed an amendment to this ask yet."
    )


# Backing --------------------------------------------------------------------------------------


def test_a_delegate_of_another_organisation_backs_then_opposes(client, people, delegates, ask):
    amendment = propose(people.member, ask, 1, "Sooner.")
    login_as(client, delegates.other)
    url = f"/amendments/{amendment.id}/backing"
    response = client.post(url, data={"stance": "back", "back_to": "ask"})
    assert response.headers["Location"].endswith(f"/asks/{ask.id}#amendment-{amendment.id}")
    page = follow(client, response)
    assert flash_text(page).endswith(f"Your organisation backs amendment {amendment.id}")
    card = select_one(page, f"#amendment-{amendment.id}")
    assert "Backed by 1 organisation: Other Organisation." in text_of(card)
    assert f"Your organisation backs amendment {amendment.id}." in text_of(
        card, "p[id^=backing-own]"
    )

    response = client.post(url, data={"stance": "oppose"})
    assert response.headers["Location"].endswith(f"/amendments/{amendment.id}")
    page = follow(client, response)
    assert flash_text(page).endswith(f"Your organisation opposes amendment {amendment.id}")
    backing = db.session.scalars(select(AmendmentBacking)).one()
    assert (backing.stance, backing.organisation_id) == (
        Backing.OPPOSE,
        delegates.other.organisation_id,
    )


def test_an_invalid_stance_is_refused_with_a_message(client, people, delegates, ask):
    amendment = propose(people.member, ask, 1, "Sooner.")
    login_as(client, delegates.other)
    for data in ({"stance": "maybe"}, {}):
        response = client.post(f"/amendments/{amendment.id}/backing", data=data)
        assert response.status_code == 422
        assert "Choose whether to back or oppose the amendment" in text_of(response, "main")
    assert count(AmendmentBacking) == 0


@pytest.mark.parametrize("who", ["member", "other_member", "secretariat", "home"])
def test_others_cannot_back(client, people, delegates, ask, who):
    amendment = propose(people.member, ask, 1, "Sooner.")
    person = delegates.home if who == "home" else getattr(people, who)
    login_as(client, person)
    response = client.post(f"/amendments/{amendment.id}/backing", data={"stance": "back"})
    assert response.status_code == 403
    assert text_of(response, "h1") == "You cannot do that"
    assert count(AmendmentBacking) == 0


# Withdrawing and declining --------------------------------------------------------------------


def test_the_proposer_confirms_then_withdraws(client, people, delegates, ask):
    amendment = propose(people.member, ask, 1, "Sooner.")
    login_as(client, people.member)
    page = client.get(f"/amendments/{amendment.id}/withdraw")
    assert text_of(page, "h1") == f"Are you sure you want to withdraw amendment {amendment.id}?"
    assert select_one(page, "#amendment-summary .app-diff")
    page = follow(client, client.post(f"/amendments/{amendment.id}/withdraw"))
    assert flash_text(page).endswith(f"Amendment {amendment.id} withdrawn")
    assert text_of(page, "#amendment-state") == "Withdrawn"
    assert "Withdrawn by Mina Member" in text_of(page, "#amendment-outcome")
    # Withdrawn: no longer withdrawable, nor backable.
    assert client.post(f"/amendments/{amendment.id}/withdraw").status_code == 403
    login_as(client, delegates.other)
    assert (
        client.post(f"/amendments/{amendment.id}/backing", data={"stance": "back"}).status_code
        == 403
    )


def test_the_secretariat_declines_with_a_reason(client, people, ask):
    amendment = propose(people.member, ask, 1, "Sooner.")
    login_as(client, people.secretariat)
    page = client.get(f"/amendments/{amendment.id}/decline")
    assert text_of(page, "h1") == f"Decline amendment {amendment.id}"
    assert select_one(page, "#amendment-summary .app-diff")
    empty = client.post(f"/amendments/{amendment.id}/decline", data={"reason": " "})
    assert empty.status_code == 422
    assert "Give the reason for declining" in text_of(empty, ".govuk-error-summary")
    assert db.session.get(Amendment, amendment.id).state == AmendmentState.OPEN

    response = client.post(
        f"/amendments/{amendment.id}/decline", data={"reason": "Too *soon* for councils."}
    )
    page = follow(client, response)
    assert flash_text(page).endswith(f"Amendment {amendment.id} declined")
    assert text_of(page, "#amendment-state") == "Declined"
    assert select_one(page, "#amendment-outcome em").get_text() == "soon"
    assert "Not adopted" in text_of(page, ".app-outcome")
    assert client.get(f"/amendments/{amendment.id}/decline").status_code == 403


# Accepting ------------------------------------------------------------------------------------


def test_the_accept_page_preselects_and_previews_with_the_credits(client, people, delegates, ask):
    first = propose(people.member, ask, 1, "The council must act by 2030.")
    second = propose(delegates.other, ask, 3, "- Homes\n- Transport\n- Farming")
    services.set_backing(actor=delegates.third, amendment=first, stance=Backing.BACK)
    db.session.commit()
    login_as(client, people.secretariat)
    page = client.get(f"/asks/{ask.id}/amendments/accept?amendment={first.id}&amendment=abc")
    assert page.status_code == 200
    boxes = {b["value"]: b.has_attr("checked") for b in css_select(page, "input[name=amendment]")}
    assert boxes == {str(first.id): True, str(second.id): False}
    assert "Backed by 1 organisation: Third Organisation." in text_of(
        page, f"#accept-item-{first.id}"
    )
    assert select_one(page, "input[name=based_on]")["value"] == "2"
    assert "Publish v3" in text_of(page, "main")

    preview = client.post(
        f"/asks/{ask.id}/amendments/accept",
        data={"amendment": [str(first.id), str(second.id)], "based_on": "2", "action": "preview"},
    )
    assert preview.status_code == 200
    credits = text_of(preview, "#preview-credits")
    assert f"amendment {first.id} from Home Organisation (paragraph 1)" in credits
    assert f"amendment {second.id} from Other Organisation (paragraph 3)" in credits
    ins = [text_of(i) for i in css_select(preview, "#preview-diff ins")]
    assert "[added: by 2030]" in ins and "Farming" in " ".join(ins)
    assert count(DraftVersion) == 2


def test_the_secretariat_accepts_two_amendments_into_the_next_version(
    client, people, delegates, ask
):
    first = propose(people.member, ask, 1, "The council must act by 2030.")
    second = propose(delegates.other, ask, 3, "- Homes\n- Transport\n- Farming")
    login_as(client, people.secretariat)
    response = client.post(
        f"/asks/{ask.id}/amendments/accept",
        data={
            "amendment": [str(first.id), str(second.id)],
            "based_on": "2",
            "change_note": "Two amendments from the meeting.",
            "action": "publish",
        },
    )
    assert response.headers["Location"].endswith(f"/asks/{ask.id}")
    page = follow(client, response)
    assert flash_text(page).endswith("v3 published with 2 amendments")
    v3 = db.session.scalar(select(DraftVersion).where(DraftVersion.number == 3))
    assert v3.body == "The council must act by 2030.\n\nEvery party commits to net zero.\n\n" + (
        "- Homes\n- Transport\n- Farming"
    )
    assert v3.change_note.startswith("Two amendments from the meeting. Accepted amendment")
    accepted = select_one(page, "#accepted-amendments")
    assert [a["href"] for a in css_select(accepted, "a")] == [
        f"/amendments/{first.id}",
        f"/amendments/{second.id}",
    ]
    assert f"Amendment {first.id} from Home Organisation" in text_of(accepted)
    shown = client.get(f"/amendments/{first.id}")
    assert text_of(shown, "#amendment-state") == "Accepted"
    outcome = select_one(shown, "#amendment-outcome")
    assert [a["href"] for a in css_select(outcome, "a")] == [
        f"/asks/{ask.id}/versions/3",
        f"/asks/{ask.id}/compare?from=2&to=3",
    ]
    # The version page of v3 lists them too; that of v2 does not.
    assert css_select(client.get(f"/asks/{ask.id}/versions/3"), "#accepted-amendments")
    assert not css_select(client.get(f"/asks/{ask.id}/versions/2"), "#accepted-amendments")


@pytest.mark.parametrize(
    "case, message",
    [
        ("none", "Select at least one amendment to accept"),
        ("same paragraph", "both replace paragraph 1"),
        ("whole and another", "replaces the whole text, so accept it on its own"),
        ("not open", "has already been withdrawn"),
        ("missing", "no longer exists"),
    ],
)
@pytest.mark.parametrize("action", ["preview", "publish"])
def test_acceptances_that_cannot_be_made_are_refused_with_the_reason(
    client, people, delegates, ask, case, message, action
):
    first = propose(people.member, ask, 1, "Sooner.")
    same = propose(delegates.other, ask, 1, "Later.")
    whole = propose(delegates.third, ask, None, "All new.")
    gone = propose(delegates.third, ask, 2, "Everyone.")
    services.withdraw(actor=delegates.third, amendment=gone)
    db.session.commit()
    chosen = {
        "none": [],
        "same paragraph": [first.id, same.id],
        "whole and another": [first.id, whole.id],
        "not open": [gone.id],
        "missing": [first.id, 999999],
    }[case]
    login_as(client, people.secretariat)
    response = client.post(
        f"/asks/{ask.id}/amendments/accept",
        data={"amendment": [str(i) for i in chosen], "based_on": "2", "action": action},
    )
    assert response.status_code == 422
    assert message in text_of(response, ".govuk-error-summary")
    assert message in text_of(response, "#amendments-error")
    assert text_of(response, "title").startswith("Error: ")
    assert count(DraftVersion) == 2
    assert {a.state for a in db.session.scalars(select(Amendment))} == {
        AmendmentState.OPEN,
        AmendmentState.WITHDRAWN,
    }


def test_accepting_on_an_out_of_date_page_is_a_conflict(client, people, ask):
    from consult.asks.services import publish_version

    amendment = propose(people.member, ask, 3, "- Homes\n- Farming")
    publish_version(
        actor=people.secretariat,
        ask=ask,
        body=ask.current_version.body.replace("act now", "act today"),
        change_note="Reworded.",
    )
    db.session.commit()
    login_as(client, people.secretariat)
    response = client.post(
        f"/asks/{ask.id}/amendments/accept",
        data={"amendment": [str(amendment.id)], "based_on": "2", "action": "publish"},
    )
    assert response.status_code == 409
    assert "Someone else published a version" in text_of(response, ".govuk-error-summary")
    assert select_one(response, "input[name=based_on]")["value"] == "3"
    assert count(DraftVersion) == 3
    assert db.session.get(Amendment, amendment.id).state == AmendmentState.OPEN


def test_only_the_secretariat_accepts_or_declines(client, people, delegates, ask):
    amendment = propose(people.member, ask, 1, "Sooner.")
    for person in (people.member, delegates.other, people.observer):
        login_as(client, person)
        assert client.get(f"/asks/{ask.id}/amendments/accept").status_code == 403
        assert (
            client.post(
                f"/asks/{ask.id}/amendments/accept",
                data={"amendment": [str(amendment.id)], "action": "publish"},
            ).status_code
            == 403
        )
        assert (
            client.post(f"/amendments/{amendment.id}/decline", data={"reason": "No."}).status_code
            == 403
        )
    assert count(DraftVersion) == 2
    assert db.session.get(Amendment, amendment.id).state == AmendmentState.OPEN


# The ask page ---------------------------------------------------------------------------------


def test_the_ask_page_shows_cards_and_only_the_allowed_links(client, people, delegates, ask):
    first = propose(people.member, ask, 1, "The council must act by 2030.")
    whole = propose(delegates.third, ask, None, "All new.")

    def page_for(person):
        login_as(client, person)
        return client.get(f"/asks/{ask.id}")

    page = page_for(delegates.other)
    card = select_one(page, f"#{anchor(ask, 1)} #amendment-{first.id}")
    assert [text_of(i) for i in css_select(card, "ins")] == ["[added: by 2030]"]
    assert "No organisation has backed or opposed it yet." in text_of(card)
    assert select_one(card, "a")["href"] == f"/amendments/{first.id}"
    assert css_select(card, ".app-backing-form")
    assert select_one(page, f"#whole-text-amendments #amendment-{whole.id}")
    propose_links = [
        a["href"] for a in css_select(page, "a") if text_of(a).startswith("Propose new wording")
    ]
    assert propose_links == [
        f"/asks/{ask.id}/amendments/new?paragraph={anchor(ask, n)}" for n in (1, 2, 3)
    ] + [f"/asks/{ask.id}/amendments/new?paragraph=whole"]
    assert "Propose new wording for paragraph 2" in text_of(page, f"#{anchor(ask, 2)}")
    assert "All amendments (2)" in text_of(page, "#ask-links")
    assert not [a for a in css_select(page, "a") if text_of(a) == "Accept amendments"]

    # The proposer's organisation: cards, but no backing buttons on its own amendment.
    page = page_for(delegates.home)
    assert not css_select(page, f"#amendment-{first.id} .app-backing-form")
    assert css_select(page, f"#amendment-{whole.id} .app-backing-form")
    # An observer reads the cards, with no buttons and no links to propose.
    page = page_for(people.observer)
    assert css_select(page, f"#amendment-{first.id}")
    assert not css_select(page, ".app-backing-form")
    assert not [a for a in css_select(page, "a") if "Propose new wording" in text_of(a)]
    # The secretariat may accept, not propose.
    page = page_for(people.secretariat)
    accept = [a for a in css_select(page, "a.govuk-button") if text_of(a) == "Accept amendments"]
    assert [a["href"] for a in accept] == [f"/asks/{ask.id}/amendments/accept"]
    assert not [a for a in css_select(page, "a") if "Propose new wording" in text_of(a)]


def test_after_closing_the_ask_page_has_cards_but_no_actions(client, people, delegates, ask):
    first = propose(people.member, ask, 1, "Sooner.")
    close(ask)
    login_as(client, delegates.other)
    page = client.get(f"/asks/{ask.id}")
    assert css_select(page, f"#amendment-{first.id}")
    assert not css_select(page, ".app-backing-form")
    assert not [a for a in css_select(page, "a") if "Propose new wording" in text_of(a)]


def test_the_ask_page_query_count_does_not_grow_with_the_amendments(
    client, people, delegates, ask, uncached_pages
):
    login_as(client, delegates.other)
    first = propose(people.member, ask, 1, "Sooner.")
    services.set_backing(actor=delegates.third, amendment=first, stance=Backing.BACK)
    db.session.commit()
    client.get(f"/asks/{ask.id}")  # the first reading records the visit (a write)
    few = statements_for_page(client, f"/asks/{ask.id}")
    for n in range(4):
        other = propose(delegates.third, ask, 2 if n % 2 else None, f"Wording {n}.")
        services.set_backing(actor=delegates.other, amendment=other, stance=Backing.OPPOSE)
        services.set_backing(actor=delegates.home, amendment=other, stance=Backing.BACK)
    db.session.commit()
    many = statements_for_page(client, f"/asks/{ask.id}")
    assert len(css_select(client.get(f"/asks/{ask.id}"), ".app-amendment")) == 5
    assert few == many


def test_the_grid_counts_amendments(client, people, delegates, ask):
    propose(people.member, ask, 1, "Sooner.")
    gone = propose(delegates.other, ask, 2, "Everyone.")
    services.withdraw(actor=delegates.other, amendment=gone)
    db.session.commit()
    login_as(client, people.secretariat)
    page = client.get(f"/consultations/{ask.consultation_id}")
    assert text_of(page, f"#grid-amendments td[data-ask='{ask.id}']") == "2"
    assert text_of(page, f"#grid-open-amendments td[data-ask='{ask.id}']").startswith("1")
