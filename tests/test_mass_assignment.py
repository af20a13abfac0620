"""Mass assignment (issue 11's suite): fields a form does not have — `organisation_id`,
`role`, `author_id`, `state`, `user_id`, `set_by_id` — are ignored wherever they are sent.
Each case posts a real form with extra fields naming another organisation, another person
or a privileged value, and checks what was stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.models import (
    Amendment,
    Comment,
    CommentState,
    OrganisationNote,
    Position,
    Role,
    User,
)
from tests.helpers import anchors, login_as

pytestmark = pytest.mark.database

EXTRA = {
    "role": "secretariat",
    "state": "hidden",
    "resolved_at": "2026-01-01",
    "is_delegate": "y",
    "active": "0",
}


def _extra(people, delegates) -> dict:
    """Extra fields pointing at someone else: the other member and their organisation."""
    return {
        **EXTRA,
        "author_id": str(people.other_member.id),
        "user_id": str(people.other_member.id),
        "set_by_id": str(people.other_member.id),
        "organisation_id": str(people.other_member.organisation_id),
    }


def test_a_comment_is_the_posters_and_visible(client, people, delegates, ask):
    login_as(client, people.member)
    response = client.post(
        f"/asks/{ask.id}/comments",
        data={"body": "Mine.", "paragraph": anchors(ask)[0], **_extra(people, delegates)},
    )
    assert response.status_code in (200, 303)
    made = db.session.scalars(select(Comment)).one()
    assert made.author_id == people.member.id
    assert made.organisation_id == people.member.organisation_id
    assert made.state == CommentState.VISIBLE and made.resolved_at is None


def test_a_position_is_the_delegates_own_organisations(client, people, delegates, ask):
    login_as(client, delegates.home)
    response = client.post(
        f"/asks/{ask.id}/position",
        data={"stance": "support", "reason": "", **_extra(people, delegates)},
    )
    assert response.status_code in (200, 303)
    [position] = db.session.scalars(select(Position)).all()
    assert position.organisation_id == delegates.home.organisation_id
    assert position.set_by_id == delegates.home.id


def test_an_amendment_is_the_proposers_organisations(client, people, delegates, ask):
    login_as(client, people.member)
    response = client.post(
        f"/asks/{ask.id}/amendments/new",
        data={
            "paragraph": anchors(ask)[0],
            "wording": "Entirely new words.",
            "rationale": "Clearer.",
            **_extra(people, delegates),
        },
    )
    assert response.status_code in (200, 303), response.status_code
    [amendment] = db.session.scalars(select(Amendment)).all()
    assert amendment.organisation_id == people.member.organisation_id
    assert amendment.proposer_id == people.member.id
    assert amendment.state.value == "open"


def test_a_note_is_the_writers_organisations(client, people, delegates, ask):
    login_as(client, people.member)
    response = client.post(
        f"/asks/{ask.id}/notes", data={"body": "Our line.", **_extra(people, delegates)}
    )
    assert response.status_code in (200, 303)
    [note] = db.session.scalars(select(OrganisationNote)).all()
    assert note.organisation_id == people.member.organisation_id
    assert note.author_id == people.member.id


def test_the_account_page_changes_no_role(client, people, delegates):
    login_as(client, people.member)
    client.post("/account/notifications", data={**_extra(people, delegates)})
    member = db.session.get(User, people.member.id)
    db.session.refresh(member)
    assert member.role == Role.MEMBER and member.active and not member.is_delegate
