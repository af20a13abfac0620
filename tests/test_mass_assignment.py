"""Mass assignment (issue 11's suite): fields a form does not have — `organisation_id`,
`role`, `author_id`, `state`, `user_id`, `set_by_id`, `consultation_id`, `ask_id`, `id`,
`created_at`, `active`, `is_delegate` and many more — are ignored wherever they are sent.

The sweep posts the valid form of every state-changing route (tests/security/helpers.py
FORMS), as someone allowed to send it, twice, each time into the same freshly built world
with the clock stopped: once as it is, once with the extra fields in the body and the query
string, naming another organisation, another person, another consultation or a privileged
value. Both must answer alike and store exactly the same rows, column by column, in every
table (the audit log and the live events included). A new POST route fails
test_every_state_changing_route_is_swept until it has a form there or an exemption here.

The first tests below are worked examples of the same rule, saying what was stored."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

import pytest
import time_machine
from flask import has_request_context, request
from sqlalchemy import select

from consult.extensions import db, limiter
from consult.models import (
    Amendment,
    Comment,
    CommentState,
    OrganisationNote,
    Position,
    Role,
    User,
)
from consult.notes import services as note_services
from tests import factories
from tests.helpers import (
    anchors,
    database_by_key,
    database_changes,
    empty_database,
    login_as,
)
from tests.security.helpers import FORMS, Form, World, build_world, extra_fields

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


# The sweep --------------------------------------------------------------------------------

# POST routes the sweep leaves out, each with the reason. Every route is swept today, the
# confirmation buttons with no field but the CSRF token included (sign-out, withdraw,
# delete, approve, publish ...): extra fields must change nothing there either.
EXEMPT: dict[str, str] = {}

# Values that differ from one build of the world to the next by design: random tokens and
# their hashes, argon2 hashes (salted), emails' Message-IDs. Everything else, times
# included (the clock is stopped), must be the same.
RANDOM = (
    (re.compile(r"\$argon2[a-z]*\$[^'\"\s]*"), "<argon2 hash>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<sha256>"),
    (re.compile(r"<[^<>\s@]+@[^<>\s]+>"), "<message id>"),
    (re.compile(r"[A-Za-z0-9_-]{40,}"), "<token>"),
)


def _without_randomness(value: str) -> str:
    for pattern, stands_for in RANDOM:
        value = pattern.sub(stands_for, value)
    return value


def _steady(row: dict[str, str] | None) -> dict[str, str] | None:
    return None if row is None else {k: _without_randomness(v) for k, v in row.items()}


def _fresh_world(monkeypatch) -> World:
    """The world, built on an empty database whose ids start again at 1."""
    db.session.rollback()
    empty_database(restart_ids=True)
    limiter.reset()
    monkeypatch.setattr(factories, "_seq", itertools.count(1))
    world = build_world()
    db.session.commit()
    return world


def outcome(app, monkeypatch, form: Form, moment: datetime, *, extra: bool = False, **changed):
    """Post the form into a fresh world at this moment (the clock stopped): its status, and
    what it changed in the database (random values blanked). `extra`: with the extra fields
    in the body and the query string; `changed`: with these fields of the form changed."""
    with time_machine.travel(moment, tick=False):
        world = _fresh_world(monkeypatch)
        if form.prepare is not None:
            form.prepare(world)
            db.session.commit()
        data = {**form.data(world), **changed}
        query = {}
        if extra:
            query = extra_fields(world, form.actor, data)
            data = {**query, **data}
        client = app.test_client()
        login_as(client, world.person(form.actor))
        before = database_by_key()
        response = client.post(form.path(world), data=data, query_string=query)
        response.close()
        after = database_by_key()
    changes = database_changes(before, after)
    steady = {
        table: {key: (_steady(old), _steady(new)) for key, (old, new) in rows.items()}
        for table, rows in changes.items()
    }
    # Rows whose only change was random (a session token rotated) are no change here.
    steady = {t: {k: v for k, v in rows.items() if v[0] != v[1]} for t, rows in steady.items()}
    return response.status_code, {t: rows for t, rows in steady.items() if rows}


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.mark.parametrize("form", FORMS, ids=[form.id for form in FORMS])
def test_extra_fields_store_nothing_the_form_does_not(app, monkeypatch, form):
    moment = _now()
    status, stored = outcome(app, monkeypatch, form, moment)
    # The form itself is valid and does something: otherwise the comparison proves nothing.
    assert status in (200, 302, 303), status
    assert stored, "the form changed nothing"
    assert outcome(app, monkeypatch, form, moment, extra=True) == (status, stored)


def test_every_state_changing_route_is_swept(app):
    changing = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    }
    swept = {form.endpoint for form in FORMS}
    assert changing - swept - EXEMPT.keys() == set(), (
        "post these routes' forms with extra fields: add them to FORMS in "
        "tests/security/helpers.py, or to EXEMPT here with the reason"
    )
    assert swept & EXEMPT.keys() == set(), "swept and exempt"
    assert (swept | EXEMPT.keys()) - changing == set(), "these name no state-changing route"


def test_the_sweep_sees_a_field_that_changes_what_is_stored(app, monkeypatch):
    """The comparison's control: a different value in a field the form has is seen."""
    [form] = [form for form in FORMS if form.endpoint == "notes.edit"]
    moment = _now()
    assert outcome(app, monkeypatch, form, moment) != outcome(
        app, monkeypatch, form, moment, body="Something else."
    )


def test_the_sweep_would_catch_a_view_that_trusted_an_extra_field(app, monkeypatch):
    """And a service that took the organisation from the request, not the session, is seen
    storing the note in the other organisation's notes."""
    [form] = [form for form in FORMS if form.endpoint == "notes.create"]
    moment = _now()
    trusted = note_services.add_note

    def trusting(**kwargs):
        note = trusted(**kwargs)
        if has_request_context() and "organisation_id" in request.form:
            note.organisation_id = int(request.form["organisation_id"])
        return note

    monkeypatch.setattr(note_services, "add_note", trusting)
    status, stored = outcome(app, monkeypatch, form, moment)
    assert outcome(app, monkeypatch, form, moment, extra=True) != (status, stored)
