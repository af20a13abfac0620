"""The secretariat's outcome forms (comments and amendments), the outcomes under the ask
page's comments, and the "You said, we did" page: who sees what, filters, pagination and a
fixed number of statements."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from consult.amendments import services as amendments
from consult.asks import services as ask_services
from consult.comments import queries
from consult.comments import services as comment_services
from consult.dispositions import listing
from consult.extensions import db
from consult.models import Disposition, Outcome
from consult.text import paragraphs
from tests import factories
from tests.helpers import (
    HTMX,
    V1,
    anchors,
    audit_events,
    comment,
    count,
    login_as,
    statements_for_page,
)
from tests.html import select as css_select
from tests.html import select_one, text_of, texts

pytestmark = pytest.mark.database


def ysw(ask) -> str:
    return f"/asks/{ask.id}/you-said-we-did"


def answer(people, *, outcome=Outcome.ADOPTED, reason="Done in v2.", **subject) -> Disposition:
    """Record an outcome through the service, and commit."""
    made = amendments.record_disposition(
        actor=people.secretariat, outcome=outcome, reason=reason, **subject
    )
    db.session.commit()
    return made


def propose(author, ask, number=2, wording="Every party commits to net zero by 2040."):
    made, _ = amendments.propose(
        actor=author,
        ask=ask,
        paragraph=anchors(ask)[number - 1],
        wording=wording,
        rationale="A date makes it real.",
    )
    return made


# Recording an outcome -------------------------------------------------------------------------


def test_the_secretariat_records_then_changes_the_outcome_of_a_comment(client, people, ask):
    said = comment(people.member, ask, "Say **when**.", paragraph_anchor=anchors(ask)[1])
    db.session.commit()
    login_as(client, people.secretariat)

    form = client.get(f"/comments/{said.id}/outcome")
    assert form.status_code == 200
    assert text_of(form, "h1") == "Record the outcome of a comment"
    subject = text_of(form, "#outcome-subject")
    assert "Mina Member" in subject and "Home Organisation" in subject
    assert "On paragraph 2 of v2" in subject
    assert select_one(form, "#outcome-subject strong:-soup-contains('when')")
    radios = css_select(form, 'input[type="radio"][name="outcome"]')
    assert [r["value"] for r in radios] == [o.value for o in Outcome]
    assert texts(form, ".govuk-radios__label") == [
        "Adopted",
        "Partly adopted",
        "Not adopted",
        "Noted",
    ]
    assert not any(r.has_attr("checked") for r in radios)

    done = client.post(
        f"/comments/{said.id}/outcome", data={"outcome": "adopted", "reason": "Now *says* 2040."}
    )
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/comments/{said.id}")
    row = db.session.scalars(select(Disposition)).one()
    assert (row.comment_id, row.outcome, row.reason, row.version_id) == (
        said.id,
        Outcome.ADOPTED,
        "Now *says* 2040.",
        ask.current_version.id,
    )
    assert row.organisation_id == people.member.organisation_id
    (first,) = audit_events("disposition.record")
    assert first.before is None
    assert first.after == {
        "outcome": "adopted",
        "reason": "Now *says* 2040.",
        "version_id": ask.current_version.id,
    }
    page = client.get(f"/comments/{said.id}", follow_redirects=True)
    assert "Outcome recorded" in text_of(page, ".govuk-notification-banner")

    again = client.get(f"/comments/{said.id}/outcome")
    assert text_of(again, "h1") == "Change the outcome of a comment"
    assert "Adopted" in text_of(again, "#current-outcome")
    assert select_one(again, 'input[name="outcome"][checked]')["value"] == "adopted"
    assert text_of(again, 'textarea[name="reason"]') == "Now *says* 2040."

    # Opened from "You said, we did", it goes back there.
    changed = client.post(
        f"/comments/{said.id}/outcome?next=ysw",
        data={"outcome": "partly_adopted", "reason": "Some of it."},
    )
    assert changed.status_code == 303
    assert changed.headers["Location"].endswith(f"{ysw(ask)}#comment-{said.id}")
    db.session.expire_all()
    assert db.session.scalars(select(Disposition)).one().outcome == Outcome.PARTLY_ADOPTED
    second = audit_events("disposition.record")[-1]
    assert second.before == {
        "outcome": "adopted",
        "reason": "Now *says* 2040.",
        "version_id": ask.current_version.id,
    }
    assert second.after["outcome"] == "partly_adopted"
    # Any other value of next is ignored: never an address taken from the request.
    elsewhere = client.post(
        f"/comments/{said.id}/outcome?next=https://evil.example/",
        data={"outcome": "noted", "reason": "Noted."},
    )
    assert elsewhere.headers["Location"].endswith(f"/comments/{said.id}")


def test_an_outcome_needs_a_choice_and_a_reason(client, people, ask):
    said = comment(people.member, ask)
    db.session.commit()
    login_as(client, people.secretariat)
    response = client.post(f"/comments/{said.id}/outcome", data={"reason": "   "})
    assert response.status_code == 422
    assert text_of(response, "title").startswith("Error: ")
    summary = select_one(response, ".govuk-error-summary")
    assert texts(summary, "li") == ["Choose the outcome", "Give the reason for this outcome"]
    assert [a["href"] for a in css_select(summary, "a")] == ["#outcome", "#reason"]
    invalid = client.post(
        f"/comments/{said.id}/outcome", data={"outcome": "maybe", "reason": "x" * 5001}
    )
    assert invalid.status_code == 422
    assert texts(invalid, ".govuk-error-summary li") == [
        "Choose the outcome",
        "Reason must be 5,000 characters or fewer",
    ]
    assert count(Disposition) == 0
    assert audit_events("disposition.record") == []


def test_a_reply_or_a_withdrawn_comment_has_no_outcome(client, people, ask):
    root = comment(people.member, ask)
    reply = comment(people.other_member, ask, "A reply.", parent=root)
    gone = comment(people.other_member, ask, "Taken back.")
    comment_services.withdraw_comment(actor=people.other_member, comment=gone)
    db.session.commit()
    login_as(client, people.secretariat)
    for method in ("GET", "POST"):
        refused = client.open(
            f"/comments/{reply.id}/outcome",
            method=method,
            data={"outcome": "noted", "reason": "x"},
        )
        assert refused.status_code == 404
        assert "not on its replies" in text_of(refused, "main")
        withdrawn = client.open(
            f"/comments/{gone.id}/outcome", method=method, data={"outcome": "noted", "reason": "x"}
        )
        assert withdrawn.status_code == 409
        assert "withdrew this comment" in text_of(withdrawn, "main")
    assert count(Disposition) == 0
    # Nor does the ask page offer one.
    page = client.get(f"/asks/{ask.id}")
    assert [a["href"] for a in css_select(page, "a[href$='/outcome']")] == [
        f"/comments/{root.id}/outcome"
    ]


@pytest.mark.parametrize("role", ["observer", "member", "other_member"])
def test_only_the_secretariat_is_offered_or_allowed_an_outcome(client, people, ask, role):
    said = comment(people.member, ask)
    made = propose(people.member, ask)
    db.session.commit()
    login_as(client, getattr(people, role))
    assert client.get(f"/comments/{said.id}/outcome").status_code == 403
    posted = client.post(f"/amendments/{made.id}/outcome", data={"outcome": "noted", "reason": "x"})
    assert posted.status_code == 403
    assert count(Disposition) == 0
    for page in (client.get(f"/asks/{ask.id}"), client.get(ysw(ask))):
        assert css_select(page, "a[href*='/outcome']") == []


def test_the_secretariat_changes_an_accepted_amendments_outcome(client, people, ask):
    made = propose(people.member, ask)
    db.session.commit()
    amendments.accept(actor=people.secretariat, ask=ask, amendments=[made], change_note="")
    db.session.commit()
    login_as(client, people.secretariat)
    form = client.get(f"/amendments/{made.id}/outcome")
    assert form.status_code == 200
    assert text_of(form, "h1") == f"Change the outcome of amendment {made.id}"
    subject = text_of(form, "#outcome-subject")
    assert "Home Organisation" in subject and "Paragraph 2 of v2" in subject
    assert "Accepted into v3" in subject
    assert texts(form, "#diff ins") == ["[added: by 2040]"]
    assert "A date makes it real." in subject
    assert select_one(form, 'input[name="outcome"][checked]')["value"] == "adopted"
    assert text_of(form, 'textarea[name="reason"]') == "Accepted into v3."

    done = client.post(
        f"/amendments/{made.id}/outcome",
        data={"outcome": "partly_adopted", "reason": "The date moved to 2045."},
    )
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"{ysw(ask)}#amendment-{made.id}")
    db.session.expire_all()
    row = amendments.disposition_of(amendment=made)
    assert (row.outcome, row.reason) == (Outcome.PARTLY_ADOPTED, "The date moved to 2045.")
    assert audit_events("disposition.record")[-1].before["outcome"] == "adopted"


def test_a_withdrawn_amendment_has_no_outcome(client, people, ask):
    made = propose(people.member, ask)
    amendments.withdraw(actor=people.member, amendment=made)
    db.session.commit()
    login_as(client, people.secretariat)
    response = client.post(
        f"/amendments/{made.id}/outcome", data={"outcome": "noted", "reason": "x"}
    )
    assert response.status_code == 409
    assert "withdrew this amendment" in text_of(response, "main")
    assert count(Disposition) == 0
    # and the page leaves it out
    assert css_select(client.get(ysw(ask)), f"#amendment-{made.id}") == []


# The outcome under a comment on the ask page --------------------------------------------------


@pytest.mark.parametrize("role", ["member", "other_member", "observer", "secretariat"])
def test_everyone_reading_the_ask_sees_a_comments_outcome(client, people, ask, role):
    said = comment(people.member, ask, paragraph_anchor=anchors(ask)[1])
    other = comment(people.other_member, ask, "No answer yet here.")
    db.session.commit()
    answer(people, comment=said, outcome=Outcome.NOT_ADOPTED, reason="Out of *scope*.")
    login_as(client, getattr(people, role))
    page = client.get(f"/asks/{ask.id}")
    shown = select_one(page, f"#comment-{said.id}-outcome")
    assert re.sub(r"\s+", " ", text_of(shown)).startswith(
        "Secretariat’s answer: Not adopted answered in v2"
    )
    assert select_one(shown, "em").get_text() == "scope"
    assert css_select(page, f"#comment-{other.id} .app-outcome") == []
    links = texts(page, f"#comment-{said.id} a[href='/comments/{said.id}/outcome']")
    other_links = texts(page, f"#comment-{other.id} a[href='/comments/{other.id}/outcome']")
    if role == "secretariat":
        assert links == ["Change outcome of Mina Member’s comment"]
        assert other_links == ["Record outcome of Otto Other’s comment"]
    else:
        assert links == other_links == []


def test_an_outcome_reaches_open_pages_live(client, people, ask):
    said = comment(people.member, ask)
    db.session.commit()
    after = queries.latest_ids(ask.id)[0]
    answer(people, comment=said, outcome=Outcome.NOTED, reason="Thank you.")
    login_as(client, people.other_member)
    response = client.get(
        f"/asks/{ask.id}/comments/changes?after={after}&version=2&upto=0&loaded=0",
        headers=HTMX,
    )
    assert response.status_code == 200
    content = select_one(response, f"#comment-{said.id}-content")
    assert "Noted" in text_of(content, ".app-outcome")


def test_an_earlier_versions_comment_keeps_its_outcome_on_the_new_version(client, people, ask):
    said = comment(people.member, ask, paragraph_anchor=anchors(ask)[1])
    db.session.commit()
    answer(people, comment=said, outcome=Outcome.NOTED, reason="Kept.")
    ask_services.publish_version(
        actor=people.secretariat, ask=ask, body=V1 + "\n\nA new paragraph.", change_note="More."
    )
    db.session.commit()
    login_as(client, people.other_member)
    page = client.get(f"/asks/{ask.id}")  # v3: the paragraph is unchanged, the comment stays
    assert "answered in v2" in text_of(page, f"#comment-{said.id}-outcome")


# "You said, we did" ---------------------------------------------------------------------------


def test_the_page_says_when_there_is_nothing_yet(client, people, ask):
    login_as(client, people.member)
    page = client.get(ysw(ask))
    assert page.status_code == 200
    assert text_of(page, "h1") == "You said, we did"
    assert text_of(page, "#said-summary") == (
        "Nobody has commented on this ask or proposed an amendment yet."
    )
    assert css_select(page, "#filters") == []
    ask_page = client.get(f"/asks/{ask.id}")
    assert select_one(ask_page, f"#ask-links a[href='{ysw(ask)}']")
    assert select_one(client.get(f"/asks/{ask.id}/versions"), f"a[href='{ysw(ask)}']")


@pytest.fixture
def said(people, ask):
    """On v1: a comment by the other member. On v2: the member's comment on paragraph 2
    (adopted), a comment on the whole ask by the other member (no answer), a hidden comment
    by the other member, and amendments by the member (declined) and the other member
    (accepted into v3, whose second paragraph is unchanged)."""
    v1, _ = ask.versions
    early = comment_services.Comment(
        ask_id=ask.id,
        version_id=v1.id,
        author_id=people.other_member.id,
        organisation_id=people.other_member.organisation_id,
        body="On the first version.",
    )
    db.session.add(early)
    mine = comment(people.member, ask, "Say when.", paragraph_anchor=anchors(ask)[1])
    theirs = comment(people.other_member, ask, "On the whole ask.")
    hidden = comment(people.other_member, ask, "Rude words.")
    comment_services.hide_comment(actor=people.secretariat, comment=hidden, reason="Rude")
    declined = propose(people.member, ask, 2, "Every party commits to net zero soon.")
    accepted = propose(people.other_member, ask, 1, "The council must act today.")
    db.session.commit()
    answer(people, comment=mine, outcome=Outcome.ADOPTED, reason="Said in v2.")
    amendments.decline(actor=people.secretariat, amendment=declined, reason="Too vague.")
    amendments.accept(actor=people.secretariat, ask=ask, amendments=[accepted], change_note="")
    db.session.commit()
    return {
        "early": early,
        "mine": mine,
        "theirs": theirs,
        "hidden": hidden,
        "declined": declined,
        "accepted": accepted,
    }


def item_ids(page) -> list[str]:
    return [li["id"] for li in css_select(page, "li.app-said")]


def test_every_comment_and_amendment_with_its_outcome_newest_version_first(
    client, people, ask, said
):
    login_as(client, people.member)  # who may not read the other member's hidden comment
    page = client.get(ysw(ask))
    assert page.status_code == 200
    assert texts(page, ".app-said-group h2") == ["Made on v2", "Made on v1"]
    assert item_ids(page) == [
        f"comment-{said['mine'].id}",
        f"comment-{said['theirs'].id}",
        f"amendment-{said['declined'].id}",
        f"amendment-{said['accepted'].id}",
        f"comment-{said['early'].id}",
    ]
    assert text_of(page, "#said-summary") == "5 comments and amendments."


def test_outcomes_and_the_versions_that_answered_them(client, people, ask, said):
    login_as(client, people.member)
    page = client.get(ysw(ask))
    mine = select_one(page, f"#comment-{said['mine'].id}")
    assert text_of(mine, "h3").startswith("Comment on paragraph 2")
    assert "Your organisation" in text_of(mine, "h3")
    assert "Adopted" in text_of(mine, ".app-outcome") and "answered in v2" in text_of(mine)
    assert "Said in v2." in text_of(mine, ".app-outcome")
    theirs = select_one(page, f"#comment-{said['theirs'].id}")
    assert text_of(theirs, "h3") == "Comment on the whole ask"
    assert "No answer yet" in text_of(theirs, ".app-outcome")
    declined = select_one(page, f"#amendment-{said['declined'].id}")
    assert "Amendment" in text_of(declined, "h3") and "paragraph 2" in text_of(declined, "h3")
    assert "Not adopted" in text_of(declined, ".app-outcome")
    assert "Too vague." in text_of(declined, ".app-outcome")
    accepted = select_one(page, f"#amendment-{said['accepted'].id}")
    assert "Adopted" in text_of(accepted, ".app-outcome")
    assert "answered in v3" in text_of(accepted, ".app-outcome")
    assert "Accepted into v3." in text_of(accepted)
    assert "[added: today]" in text_of(accepted, ".app-diff")
    early = select_one(page, f"#comment-{said['early'].id}")
    assert text_of(early, "h3") == "Comment on the whole ask"
    # Members have a shortcut to their own organisation's items.
    assert select_one(page, "#own-organisation-link")["href"].endswith(
        f"organisation={people.member.organisation_id}"
    )


def test_a_hidden_comment_is_listed_only_to_its_author_and_the_secretariat(
    client, people, ask, said
):
    hidden = f"comment-{said['hidden'].id}"
    for person, listed in (
        (people.member, False),
        (people.observer, False),
        (people.other_member, True),
        (people.secretariat, True),
    ):
        login_as(client, person)
        page = client.get(ysw(ask))
        assert (hidden in item_ids(page)) is listed, person.name
        assert ("Rude words." in page.get_data(as_text=True)) is listed
        if listed:
            assert "Hidden by the secretariat: Rude" in text_of(page, f"#{hidden}")


def test_filter_by_organisation_and_by_outcome(client, people, ask, said):
    login_as(client, people.secretariat)
    everything = client.get(ysw(ask))
    options = texts(everything, "#filter-organisation option")
    assert options == ["Any organisation", "Home Organisation", "Other Organisation"]
    home = client.get(ysw(ask), query_string={"organisation": people.member.organisation_id})
    assert item_ids(home) == [f"comment-{said['mine'].id}", f"amendment-{said['declined'].id}"]
    assert text_of(home, "#said-summary") == "2 comments and amendments match your filters."
    adopted = client.get(ysw(ask), query_string={"outcome": "adopted"})
    assert item_ids(adopted) == [f"comment-{said['mine'].id}", f"amendment-{said['accepted'].id}"]
    unanswered = client.get(
        ysw(ask),
        query_string={"outcome": "none", "organisation": people.other_member.organisation_id},
    )
    assert item_ids(unanswered) == [
        f"comment-{said['theirs'].id}",
        f"comment-{said['hidden'].id}",
        f"comment-{said['early'].id}",
    ]
    assert select_one(unanswered, "#filter-outcome option[selected]")["value"] == "none"
    nothing = client.get(ysw(ask), query_string={"outcome": "noted"})
    assert text_of(nothing, "#said-summary") == "Nothing matches your filters."
    # The secretariat records or changes each outcome from here, and comes back here.
    links = {
        a["href"]: text_of(a) for a in css_select(everything, "li.app-said a[href*='/outcome']")
    }
    assert links[f"/comments/{said['mine'].id}/outcome?next=ysw"].startswith("Change outcome")
    assert links[f"/comments/{said['theirs'].id}/outcome?next=ysw"].startswith("Record outcome")
    assert links[f"/amendments/{said['declined'].id}/outcome"].startswith("Change outcome")


@pytest.mark.parametrize(
    "query",
    [
        "organisation=abc",
        "organisation=99999999999999999999",
        "organisation=-1",
        "organisation=0",
        "outcome=maybe",
        "outcome=",
        "organisation=1&organisation=2",
        "outcome=adopted&outcome=%00",
    ],
)
def test_bad_filters_are_ignored(client, people, ask, said, query):
    login_as(client, people.member)
    response = client.get(f"{ysw(ask)}?{query}")
    assert response.status_code == 200
    assert len(item_ids(response)) >= 1


@pytest.mark.parametrize("page", ["0", "abc", "999", "-1", "1" * 30])
def test_a_page_that_cannot_exist_is_not_found(client, people, ask, said, page):
    login_as(client, people.member)
    assert client.get(ysw(ask), query_string={"page": page}).status_code == 404


def test_the_organisation_filter_lists_only_organisations_the_reader_may_see(client, people, ask):
    hidden = comment(people.other_member, ask, "Rude.")
    comment_services.hide_comment(actor=people.secretariat, comment=hidden, reason="Rude")
    comment(people.member, ask)
    db.session.commit()
    login_as(client, people.observer)
    options = texts(client.get(ysw(ask)), "#filter-organisation option")
    assert options == ["Any organisation", "Home Organisation"]
    # a filter naming an organisation the reader cannot pick is ignored
    response = client.get(
        ysw(ask), query_string={"organisation": people.other_member.organisation_id}
    )
    assert response.status_code == 200 and len(item_ids(response)) == 1


def test_long_lists_are_paginated(client, people, ask, monkeypatch):
    monkeypatch.setattr(listing, "PER_PAGE", 3)
    made = [comment(people.member, ask, f"Comment {n}.") for n in range(7)]
    db.session.commit()
    login_as(client, people.member)
    first = client.get(ysw(ask))
    assert item_ids(first) == [f"comment-{c.id}" for c in made[:3]]
    assert text_of(first, "#said-summary") == "7 comments and amendments, showing 1 to 3."
    last = client.get(ysw(ask), query_string={"page": 3})
    assert item_ids(last) == [f"comment-{made[6].id}"]
    assert select_one(first, ".govuk-pagination__next a")["href"].endswith("page=2")


def _seed(people, ask, size: int) -> None:
    numbers = [p.anchor for p in paragraphs(ask.current_version.body)]
    for n in range(size):
        said = comment(
            people.member if n % 2 else people.other_member,
            ask,
            f"Comment {n}.",
            paragraph_anchor=numbers[n % len(numbers)] if n % 3 else None,
        )
        made, _ = amendments.propose(
            actor=people.other_member if n % 2 else people.member,
            ask=ask,
            paragraph=numbers[n % len(numbers)],
            wording=f"New wording {n}.",
            rationale="Because.",
        )
        if n % 2:
            amendments.record_disposition(
                actor=people.secretariat, outcome=Outcome.NOTED, reason="Noted.", comment=said
            )
            amendments.decline(actor=people.secretariat, amendment=made, reason="No.")
    db.session.commit()


@pytest.mark.parametrize("role", ["member", "secretariat"])
def test_the_number_of_statements_does_not_grow_with_the_items(client, people, role):
    counts = []
    for size in (2, 12):
        consultation = factories.consultation()
        ask = factories.ask(consultation, versions=(V1,), author=people.secretariat)
        db.session.commit()
        _seed(people, ask, size)
        login_as(client, getattr(people, role))
        counts.append(statements_for_page(client, ysw(ask)))
    assert counts[0] == counts[1], counts


def test_outcomes_on_the_ask_page_cost_no_statement_of_their_own(client, people):
    counts = []
    for size in (2, 12):
        ask = factories.ask(factories.consultation(), versions=(V1,), author=people.secretariat)
        db.session.commit()
        for n in range(size):
            said = comment(people.member, ask, f"Comment {n}.")
            amendments.record_disposition(
                actor=people.secretariat, outcome=Outcome.NOTED, reason="Noted.", comment=said
            )
        db.session.commit()
        login_as(client, people.other_member)
        counts.append(statements_for_page(client, f"/asks/{ask.id}"))
        html = client.get(f"/asks/{ask.id}")
        assert len(css_select(html, ".app-comment .app-outcome")) == size
    assert counts[0] == counts[1], counts


def test_outcomes_are_recorded_after_the_close_and_read_by_the_public_once_published(
    client, people
):
    consultation = factories.consultation(opens_in_days=-10, closes_in_days=-1)
    ask = factories.ask(consultation, versions=(V1,), author=people.secretariat)
    said = comment(people.member, ask, "Said while open.")
    hidden = comment(people.other_member, ask, "Rude.")
    comment_services.hide_comment(actor=people.secretariat, comment=hidden, reason="Rude")
    db.session.commit()
    login_as(client, people.secretariat)
    done = client.post(
        f"/comments/{said.id}/outcome", data={"outcome": "noted", "reason": "Thank you."}
    )
    assert done.status_code == 303
    consultation.published_at = consultation.closes_at
    db.session.commit()
    client.post("/sign-out")
    public = client.get(ysw(ask))
    assert public.status_code == 200
    assert item_ids(public) == [f"comment-{said.id}"]
    assert "Noted" in text_of(public, f"#comment-{said.id} .app-outcome")
    assert css_select(public, "#own-organisation-link") == []
