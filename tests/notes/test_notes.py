"""An organisation's own notes: writing, replying, changing, deleting and proposing one as
the position (services and pages), who may write when, the ask page's link and count, the
delegate's form filled in from the latest proposal, and a bounded number of queries."""

from __future__ import annotations

import pytest

from consult.extensions import db
from consult.models import OrganisationNote, Position, Stance, utcnow
from consult.notes import services
from tests.helpers import count, login_as, statements_for_page
from tests.html import select, select_one, text_of

pytestmark = pytest.mark.database


def note(author, ask, body="Our line: support, with a date.", parent=None) -> OrganisationNote:
    made = services.add_note(author=author, ask=ask, body=body, parent=parent)
    db.session.commit()
    return made


# Services -----------------------------------------------------------------------------------


def test_a_note_and_its_replies_belong_to_the_author_s_organisation(people, delegates, ask):
    first = note(people.member, ask)
    reply = note(delegates.home, ask, "Agreed.", parent=first)
    # A reply to a reply joins its thread.
    deeper = note(people.member, ask, "Good.", parent=reply)
    assert first.organisation_id == reply.organisation_id == people.member.organisation_id
    assert reply.parent_id == deeper.parent_id == first.id
    [thread] = services.threads(
        list(db.session.scalars(services.threads_query(ask, people.member.organisation_id))),
        people.member.organisation_id,
    )
    assert thread.note == first and thread.replies == [reply, deeper]
    assert services.count_for(ask, people.member.organisation_id) == 3
    assert services.count_for(ask, people.other_member.organisation_id) == 0


@pytest.mark.parametrize(
    "body, message",
    [("", "Enter your note"), ("   \r\n ", "Enter your note"), ("x" * 2001, "2,000 characters")],
)
def test_a_note_needs_text_within_the_limit(people, ask, body, message):
    with pytest.raises(services.NoteError, match=message):
        services.add_note(author=people.member, ask=ask, body=body)


def test_nobody_replies_into_another_organisation_s_notes(people, ask):
    theirs = note(people.member, ask)
    with pytest.raises(services.NoteError):
        services.add_note(author=people.other_member, ask=ask, body="Sneaky", parent=theirs)


def test_deleting_a_note_with_replies_keeps_its_place_without_its_text(people, delegates, ask):
    first = note(people.member, ask, "Delete me")
    services.propose(actor=people.member, note=first, stance=Stance.OBJECT)
    reply = note(delegates.home, ask, "A reply", parent=first)
    services.delete_note(actor=people.member, note=first)
    db.session.commit()
    assert first.is_deleted and first.body == "" and first.proposed_stance is None
    assert services.latest_proposal(ask, people.member.organisation_id) is None
    # Its last reply gone, the deleted note goes too.
    services.delete_note(actor=delegates.home, note=reply)
    db.session.commit()
    assert count(OrganisationNote) == 0


def test_only_the_author_changes_or_deletes_a_note(people, delegates, ask):
    mine = note(people.member, ask)
    with pytest.raises(services.NoteError):
        services.edit_note(actor=delegates.home, note=mine, body="Changed")
    with pytest.raises(services.NoteError):
        services.delete_note(actor=delegates.home, note=mine)
    assert services.edit_note(actor=people.member, note=mine, body="Changed") is True
    assert mine.edited_at is not None


def test_the_latest_proposal_on_the_current_version_counts(people, delegates, ask):
    first = note(people.member, ask, "Support it.")
    second = note(delegates.home, ask, "Object: no date.")
    services.propose(actor=people.member, note=first, stance="support")
    services.propose(actor=delegates.home, note=second, stance="object")
    db.session.commit()
    latest = services.latest_proposal(ask, people.member.organisation_id)
    assert latest == second and latest.proposed_by == delegates.home
    assert latest.proposed_version == ask.current_version
    assert services.latest_proposal(ask, people.other_member.organisation_id) is None
    with pytest.raises(services.NoteError, match="Select the position"):
        services.propose(actor=people.member, note=first, stance="maybe")


# Pages --------------------------------------------------------------------------------------


def test_a_member_adds_a_note_and_a_reply_through_the_pages(client, people, ask):
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}/notes")
    assert page.status_code == 200
    assert "Only members of Home Organisation can read these notes" in text_of(page, "main")
    assert text_of(page, "#notes-none") == "There are no notes yet."

    response = client.post(f"/asks/{ask.id}/notes", data={"body": "We should *object*."})
    assert response.status_code == 303
    made = db.session.scalars(db.select(OrganisationNote)).one()
    assert response.headers["Location"].endswith(f"/asks/{ask.id}/notes#note-{made.id}")
    page = client.get(f"/asks/{ask.id}/notes")
    item = select_one(page, f"#note-{made.id}")
    assert select_one(item, ".app-markdown em").get_text() == "object"
    assert "Mina Member" in text_of(item, ".app-note__meta")

    response = client.post(f"/notes/{made.id}/reply", data={"body": "Agreed, object."})
    assert response.status_code == 303
    page = client.get(f"/asks/{ask.id}/notes")
    replies = select(page, f"#note-{made.id} .app-notes--replies > li")
    assert [text_of(r, ".app-markdown") for r in replies] == ["Agreed, object."]


def test_an_empty_note_is_refused_with_a_message(client, people, ask):
    login_as(client, people.member)
    response = client.post(f"/asks/{ask.id}/notes", data={"body": "  "})
    assert response.status_code == 422
    assert "Enter your note" in text_of(response, ".govuk-error-summary")
    assert count(OrganisationNote) == 0


def test_a_member_changes_then_deletes_their_note(client, people, ask):
    mine = note(people.member, ask, "First thoughts")
    login_as(client, people.member)
    form = client.get(f"/notes/{mine.id}/edit")
    assert select_one(form, "textarea[name=body]").get_text().strip() == "First thoughts"
    assert client.post(f"/notes/{mine.id}/edit", data={"body": "Second"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(OrganisationNote, mine.id).body == "Second"
    confirm = client.get(f"/notes/{mine.id}/delete")
    assert text_of(confirm, "h1") == "Are you sure you want to delete your note?"
    assert client.post(f"/notes/{mine.id}/delete", data={}).status_code == 303
    assert count(OrganisationNote) == 0


def test_a_colleague_replies_and_proposes_but_does_not_change_someone_else_s_note(
    client, people, delegates, ask
):
    theirs = note(people.member, ask)
    login_as(client, delegates.home)
    page = client.get(f"/asks/{ask.id}/notes")
    actions = text_of(page, f"#note-{theirs.id} .app-comment__actions")
    assert "Reply" in actions and "Propose this as our position" in actions
    assert "Change" not in actions and "Delete" not in actions
    assert client.get(f"/notes/{theirs.id}/edit").status_code == 403
    assert client.post(f"/notes/{theirs.id}/delete").status_code == 403
    assert count(OrganisationNote) == 1


def test_after_the_close_notes_are_read_but_not_written(client, people, ask):
    mine = note(people.member, ask, "Written while open")
    ask.consultation.closed_at = utcnow()
    db.session.commit()
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}/notes")
    assert page.status_code == 200
    assert "Written while open" in text_of(page, "main")
    assert select(page, "#note-form") == [] and select(page, ".app-comment__actions") == []
    refused = client.post(f"/asks/{ask.id}/notes", data={"body": "Too late"})
    assert refused.status_code == 403
    assert "The consultation closed on" in text_of(refused, "main")
    assert client.post(f"/notes/{mine.id}/reply", data={"body": "x"}).status_code == 403
    assert count(OrganisationNote) == 1


def test_an_observer_of_the_same_organisation_cannot_read_its_notes(client, people, ask):
    note(people.member, ask)
    login_as(client, people.observer)  # Home Organisation, but an observer
    assert client.get(f"/asks/{ask.id}/notes").status_code == 403


def test_the_ask_page_links_to_the_organisation_s_own_notes_with_their_count(
    client, people, delegates, ask
):
    first = note(people.member, ask)
    note(delegates.home, ask, "A reply", parent=first)
    note(people.other_member, ask, "Other organisation's note")
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}")
    assert text_of(page, "#notes-link") == "Your organisation’s notes (2)"
    login_as(client, people.other_member)
    assert text_of(client.get(f"/asks/{ask.id}"), "#notes-link") == (
        "Your organisation’s notes (1)"
    )


def test_the_notes_page_runs_a_fixed_number_of_queries(client, people, delegates, ask):
    def fill(n: int) -> None:
        for i in range(n):
            top = note(people.member if i % 2 else delegates.home, ask, f"Note {i}")
            note(delegates.home, ask, f"Reply {i}", parent=top)
            services.propose(actor=people.member, note=top, stance=Stance.SUPPORT)
        db.session.commit()

    login_as(client, people.member)
    fill(2)
    few = statements_for_page(client, f"/asks/{ask.id}/notes")
    fill(6)
    many = statements_for_page(client, f"/asks/{ask.id}/notes")
    assert many == few


# Proposing a note as the position -----------------------------------------------------------


def test_a_proposal_fills_in_the_delegate_s_form_and_sets_nothing(client, people, delegates, ask):
    theirs = note(people.member, ask, "It has no date: we object.")
    login_as(client, people.member)
    page = client.get(f"/notes/{theirs.id}/propose")
    assert text_of(page, "h1") == "Propose this as your organisation’s position"
    assert client.post(f"/notes/{theirs.id}/propose", data={}).status_code == 422
    response = client.post(f"/notes/{theirs.id}/propose", data={"stance": "object"})
    assert response.status_code == 303
    assert count(Position) == 0  # nothing is set by a proposal
    notes_page = client.get(f"/asks/{ask.id}/notes")
    assert "Proposed position: Object" in text_of(notes_page, f"#note-{theirs.id}-proposal")

    login_as(client, delegates.home)
    form = client.get(f"/asks/{ask.id}/position")
    assert "Proposed by Mina Member" in text_of(form, "#position-proposal")
    assert select_one(form, "input[name=stance][value=object]").has_attr("checked")
    assert (
        select_one(form, "textarea[name=reason]").get_text().strip() == "It has no date: we object."
    )
    assert select(form, "#position-proposal-used")
    assert count(Position) == 0

    # Once a position is set, the form shows it, and offers the proposal.
    saved = client.post(
        f"/asks/{ask.id}/position", data={"stance": "support", "reason": "We decided."}
    )
    assert saved.status_code == 303
    form = client.get(f"/asks/{ask.id}/position")
    assert select_one(form, "input[name=stance][value=support]").has_attr("checked")
    assert select_one(form, "#use-proposal")["href"].endswith("use=proposal")
    used = client.get(f"/asks/{ask.id}/position?use=proposal")
    assert select_one(used, "input[name=stance][value=object]").has_attr("checked")


def test_another_organisation_s_delegate_sees_no_proposal(client, people, delegates, ask):
    theirs = note(people.member, ask, "We object.")
    services.propose(actor=people.member, note=theirs, stance=Stance.OBJECT)
    db.session.commit()
    login_as(client, delegates.other)
    form = client.get(f"/asks/{ask.id}/position?use=proposal")
    assert form.status_code == 200
    assert select(form, "#position-proposal") == []
    assert "We object." not in form.get_data(as_text=True)


def test_a_member_moved_to_another_organisation_no_longer_reads_its_notes(client, people, ask):
    mine = note(people.member, ask, "Home's line")
    people.member.organisation = people.other_member.organisation
    db.session.commit()
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}/notes")
    assert "Home's line" not in page.get_data(as_text=True)
    assert client.get(f"/notes/{mine.id}/reply").status_code == 403
