"""Other organisations' objects (issue 11's suite): the route × role matrix
(tests/test_access.py) extended to what belongs to another organisation.

In the world of tests/security/helpers.py the home organisation's delegate (the member)
wrote a comment, an amendment, a note and a position on an ask of an open consultation that
the other organisation takes part in too. The other organisation's delegate — who may
comment, propose, back and set positions, so is refused for whose object it is and not for
what they are — tries to change each of them; colleagues of the same organisation try what
only the author may do; members open exports, reports and streams they may not; and every
secretariat action is sent by members with a valid form (and extra fields), not an empty one.

Each refusal is the app's convention (consult/loading.py: 403 for an object that exists but
is not the person's to act on, 404 for one that does not exist) and changes nothing: every
row of every table, the audit log and the live events included, is the same before and
after, and no email is sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from consult.extensions import db
from consult.models import User
from tests.helpers import HTMX, built_once, database_by_key, database_changes, login_as
from tests.security.helpers import (
    FORMS,
    REASON,
    World,
    build_world,
    extra_fields,
    publish,
)

pytestmark = pytest.mark.database


@pytest.fixture
def app_config(app_config):
    """Event streams end at once here (they last minutes in use)."""
    return {**app_config, "LIVE_STREAM_SECONDS": 0.2}


@pytest.fixture
def world(app) -> World:
    """build_world(), made for the first test and put back for each of the others
    (tests/helpers.built_once)."""
    names, ids = built_once("security world", _build_world)
    return World(people={name: db.session.get(User, ids[name]) for name in names}, ids=ids)


def _build_world() -> tuple[list[str], dict[str, object]]:
    built = build_world()
    return list(built.people), built.ids


@dataclass(frozen=True)
class Attempt:
    """Someone trying something that is not theirs to do: the status they get."""

    what: str
    actor: str
    method: str
    url: str
    data: Callable[[World], dict] = lambda world: {}
    status: int = 403
    prepare: Callable[[World], None] | None = None
    htmx: bool = False
    # Someone the same request is allowed for (the author, the delegate, the secretariat):
    # the control showing that the refusal is about who asks.
    control: str | None = None


def _body(world: World) -> dict:
    return {"body": "Not yours to change."}


def _stance(world: World) -> dict:
    return {"stance": "object", "reason": "Not yours to set."}


def _back(world: World) -> dict:
    return {"stance": "back"}


def _propose(world: World) -> dict:
    return {"stance": "support"}


def _nothing(world: World) -> dict:
    return {}


A, B, COLLEAGUE = "member", "other_delegate", "colleague"  # A wrote everything; B did not
COMMENT, HIDDEN, AMENDMENT, NOTE = (
    "/comments/{comment}",
    "/comments/{hidden}",
    "/amendments/{amendment}",
    "/notes/{note}",
)
POSITION, NOTES = "/asks/{ask}/position", "/asks/{ask}/notes"

ATTEMPTS = [
    # Another organisation's comment: only its author edits or withdraws it.
    Attempt("another organisation's comment: edit form", B, "GET", COMMENT + "/edit", control=A),
    Attempt("another organisation's comment: edit", B, "POST", COMMENT + "/edit", _body, control=A),
    Attempt(
        "another organisation's comment: edit (htmx)",
        B,
        "POST",
        COMMENT + "/edit",
        _body,
        htmx=True,
        control=A,
    ),
    Attempt(
        "another organisation's comment: withdraw form", B, "GET", COMMENT + "/withdraw", control=A
    ),
    Attempt(
        "another organisation's comment: withdraw", B, "POST", COMMENT + "/withdraw", control=A
    ),
    Attempt("a colleague's comment: edit", COLLEAGUE, "POST", COMMENT + "/edit", _body, control=A),
    Attempt("a colleague's comment: withdraw", COLLEAGUE, "POST", COMMENT + "/withdraw", control=A),
    Attempt("another organisation's hidden comment: edit", B, "POST", HIDDEN + "/edit", _body),
    Attempt(
        "another organisation's hidden comment: report",
        B,
        "POST",
        HIDDEN + "/report",
        lambda w: REASON,
    ),
    # Positions: set by a delegate, for their own organisation only (what the form says of
    # the organisation: test_a_delegate_sets_only_their_own_organisation_s_position).
    Attempt(
        "a position, by a member not a delegate",
        "other_member",
        "POST",
        POSITION,
        _stance,
        control=B,
    ),
    Attempt(
        "the organisation's position, by a colleague",
        COLLEAGUE,
        "POST",
        POSITION,
        _stance,
        control=A,
    ),
    Attempt(
        "the organisation's position, by its observer",
        "observer",
        "POST",
        POSITION,
        _stance,
        control=A,
    ),
    Attempt("a position, by the secretariat", "secretariat", "POST", POSITION, _stance, control=A),
    # Another organisation's amendment: only its proposer withdraws it; the proposer's own
    # organisation does not back it (it is behind it already).
    Attempt(
        "another organisation's amendment: withdraw form",
        B,
        "GET",
        AMENDMENT + "/withdraw",
        control=A,
    ),
    Attempt(
        "another organisation's amendment: withdraw", B, "POST", AMENDMENT + "/withdraw", control=A
    ),
    Attempt(
        "a colleague's amendment: withdraw", COLLEAGUE, "POST", AMENDMENT + "/withdraw", control=A
    ),
    Attempt(
        "the own organisation's amendment: back",
        A,
        "POST",
        AMENDMENT + "/backing",
        _back,
        control=B,
    ),
    Attempt(
        "another organisation's amendment: back, not a delegate",
        "other_member",
        "POST",
        AMENDMENT + "/backing",
        _back,
        control=B,
    ),
    # Another organisation's notes: nobody outside it opens or touches them.
    *[
        Attempt(
            f"another organisation's note: {path} ({method})",
            actor,
            method,
            f"{NOTE}/{path}",
            data,
            control=A,
        )
        for actor in (B, "secretariat", "observer")
        for path, data in (
            ("reply", _body),
            ("edit", _body),
            ("delete", _nothing),
            ("propose", _propose),
        )
        for method in ("GET", "POST")
    ],
    Attempt("a colleague's note: edit", COLLEAGUE, "POST", NOTE + "/edit", _body, control=A),
    Attempt("a colleague's note: delete", COLLEAGUE, "POST", NOTE + "/delete", control=A),
    Attempt("an organisation's notes, by the secretariat", "secretariat", "GET", NOTES, control=A),
    Attempt(
        "an organisation's notes: write, by the secretariat",
        "secretariat",
        "POST",
        NOTES,
        _body,
        control=A,
    ),
    Attempt("an organisation's notes, by its observer", "observer", "GET", NOTES, control=A),
    Attempt("a note that does not exist", B, "POST", "/notes/999999/edit", _body, status=404),
    # Downloads a member may not have, before publication and after.
    *[
        Attempt(
            f"download {name}{when}", actor, method, url, prepare=prepare, control="secretariat"
        )
        for actor in (A, B)
        for name, method, url, published_too in (
            ("the agreed text (PDF)", "GET", "/consultations/{consultation}/agreed.pdf", False),
            ("the agreed text (Word)", "GET", "/consultations/{consultation}/agreed.docx", False),
            ("the agreed text (Markdown)", "GET", "/consultations/{consultation}/agreed.md", False),
            ("the agreed text (HTML)", "GET", "/consultations/{consultation}/agreed.html", False),
            ("the report (XLSX)", "GET", "/consultations/{consultation}/report.xlsx", True),
            (
                "the report (CSV)",
                "GET",
                "/consultations/{consultation}/report.csv?kind=comments",
                True,
            ),
            ("the archive", "GET", "/consultations/{consultation}/archive.json", True),
            ("the backers (CSV)", "GET", "/consultations/{consultation}/backers.csv", True),
            ("a colleague's personal data", "POST", "/admin/people/{colleague}/data.json", True),
            (
                "another organisation's person's data",
                "POST",
                "/admin/people/{other_member}/data.json",
                True,
            ),
        )
        for when, prepare in ((" before publication", None), (" after publication", publish))
        if published_too or prepare is None
    ],
    # Streams and live fragments of asks a member may not read: a consultation not open yet,
    # an ask with no published version (which has no discussion for the secretariat either).
    *[
        Attempt(
            f"{name} of an ask {why}",
            actor,
            "GET",
            url.format(ask="{" + ask + "}"),
            htmx=htmx,
            control=None if ask == "unpublished_ask" and discussion else "secretariat",
        )
        for actor in (A, B, "observer")
        for ask, why in (("upcoming_ask", "not open yet"), ("unpublished_ask", "unpublished"))
        for name, url, htmx, discussion in (
            ("the event stream", "/asks/{ask}/events", False, False),
            ("the live changes", "/asks/{ask}/comments/changes?after=0", True, True),
            (
                "the paragraph threads",
                "/asks/{ask}/paragraphs/{{upcoming_anchor}}/threads",
                True,
                True,
            ),
            ("the page", "/asks/{ask}", False, False),
            ("the positions panel", "/asks/{ask}/positions", True, False),
            ("the amendments", "/asks/{ask}/amendments", False, False),
        )
    ],
]


def _attempt_id(attempt: Attempt) -> str:
    return f"{attempt.actor}: {attempt.what}"


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=[_attempt_id(a) for a in ATTEMPTS])
def test_another_organisation_s_object_is_refused_and_nothing_changes(
    client, world, outbox, attempt
):
    if attempt.prepare is not None:
        attempt.prepare(world)
        db.session.commit()
    data = attempt.data(world)
    if attempt.method == "POST":
        data = {**extra_fields(world, attempt.actor, data), **data}
    login_as(client, world.person(attempt.actor))
    before, emails = database_by_key(), len(outbox())
    response = client.open(
        attempt.url.format(**world.ids),
        method=attempt.method,
        data=data,
        headers=HTMX if attempt.htmx else {},
    )
    response.close()
    assert response.status_code == attempt.status
    assert database_changes(before, database_by_key()) == {}
    assert len(outbox()) == emails


SECRETARIAT_FORMS = [form for form in FORMS if form.actor == "secretariat"]


CONTROLLED = [a for a in ATTEMPTS if a.control is not None]


@pytest.mark.parametrize("attempt", CONTROLLED, ids=[_attempt_id(a) for a in CONTROLLED])
def test_the_same_request_from_someone_allowed_is_not_refused(client, world, attempt):
    """The control: the author, the delegate or the secretariat sending the same request is
    not refused (so the refusal above is about who sent it, not about the request)."""
    if attempt.prepare is not None:
        attempt.prepare(world)
        db.session.commit()
    login_as(client, world.person(attempt.control))
    response = client.open(
        attempt.url.format(**world.ids),
        method=attempt.method,
        data=attempt.data(world),
        headers=HTMX if attempt.htmx else {},
    )
    response.close()
    assert response.status_code not in (302, 401, 403, 404), response.status_code


@pytest.mark.parametrize("actor", ["member", "other_delegate"])
@pytest.mark.parametrize("form", SECRETARIAT_FORMS, ids=[f.id for f in SECRETARIAT_FORMS])
def test_a_member_s_valid_form_for_a_secretariat_action_is_refused(
    client, world, outbox, form, actor
):
    """The matrix sends an empty form; a valid one, with extra fields, is refused the same."""
    if form.prepare is not None:
        form.prepare(world)
        db.session.commit()
    data = form.data(world)
    data = {**extra_fields(world, actor, data), **data}
    login_as(client, world.person(actor))
    before, emails = database_by_key(), len(outbox())
    response = client.post(form.path(world), data=data)
    response.close()
    assert response.status_code == 403
    assert database_changes(before, database_by_key()) == {}
    assert len(outbox()) == emails


def test_a_delegate_sets_only_their_own_organisation_s_position(client, world):
    """Setting a position names no organisation: whatever the form says, the other
    organisation's delegate sets theirs, and the home organisation's stays as it was."""
    login_as(client, world.person("other_delegate"))
    positions = database_by_key()["position"]
    [home_position] = positions.values()
    response = client.post(
        f"/asks/{world.ids['ask']}/position",
        data={
            **extra_fields(world, "other_delegate", _stance(world)),
            **_stance(world),
            "position_id": str(world.ids["position"]),
        },
    )
    assert response.status_code == 303
    after = database_by_key()["position"]
    assert after[(world.ids["position"],)] == home_position
    [added] = [row for key, row in after.items() if key != (world.ids["position"],)]
    assert added["organisation_id"] == repr(world.ids["other_org"])
    assert added["set_by_id"] == repr(world.ids["other_delegate"])
